"""Read-mostly admin views. The encoding itself is never shown."""

from django.contrib import admin

from .models import BulkEnrolment, Consent, FaceAttempt, FaceSession, ReferenceFace


@admin.register(ReferenceFace)
class ReferenceFaceAdmin(admin.ModelAdmin):
    list_display = ("pensioner", "source", "source_ref", "enrolled_by", "updated_at")
    list_filter = ("source",)
    search_fields = ("pensioner__id_number",)
    exclude = ("encoding",)
    readonly_fields = ("pensioner", "source", "source_ref", "enrolled_by")


@admin.register(FaceAttempt)
class FaceAttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "pensioner", "mode", "state", "passed", "reason", "distance", "occurred_on", "created_at")
    list_filter = ("mode", "state", "passed", "reason")
    search_fields = ("pensioner__id_number",)
    readonly_fields = [f.name for f in FaceAttempt._meta.fields]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "pensioner", "mode", "channel", "text_version", "given_at")
    readonly_fields = [f.name for f in Consent._meta.fields]


@admin.register(FaceSession)
class FaceSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "pensioner", "mode", "challenge", "expires_at", "used_at")
    exclude = ("nonce",)
    readonly_fields = ("user", "pensioner", "consent", "mode", "helper_relationship", "challenge", "expires_at", "used_at")


@admin.register(BulkEnrolment)
class BulkEnrolmentAdmin(admin.ModelAdmin):
    list_display = ("id", "folder", "state", "processed", "total", "enrolled", "skipped", "created_at", "finished_at")
    readonly_fields = [f.name for f in BulkEnrolment._meta.fields]
