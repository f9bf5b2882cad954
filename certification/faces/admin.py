"""View-only admin pages (opening one is audited). The encoding itself is never shown; reference
faces are enrolled through the counter page or the bulk import (services)."""

from django.contrib import admin

from certification.admin_audit import ReadOnlyAdmin

from .models import BulkEnrolment, Consent, FaceAttempt, FaceSession, ReferenceFace


@admin.register(ReferenceFace)
class ReferenceFaceAdmin(ReadOnlyAdmin):
    list_display = ("pensioner", "source", "source_ref", "enrolled_by", "updated_at")
    list_filter = ("source",)
    search_fields = ("=pensioner__public_key",)  # not the ID number: it would be in the URL
    exclude = ("encoding",)
    readonly_fields = ("pensioner", "source", "source_ref", "enrolled_by")


@admin.register(FaceAttempt)
class FaceAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "pensioner", "mode", "state", "passed", "reason", "distance", "occurred_on", "created_at")
    list_filter = ("mode", "state", "passed", "reason")
    search_fields = ("=pensioner__public_key",)  # not the ID number: it would be in the URL
    readonly_fields = [f.name for f in FaceAttempt._meta.fields]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "pensioner", "mode", "channel", "text_version", "given_at")
    readonly_fields = [f.name for f in Consent._meta.fields]


@admin.register(FaceSession)
class FaceSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "pensioner", "mode", "challenge", "expires_at", "used_at")
    exclude = ("nonce",)
    readonly_fields = ("user", "pensioner", "consent", "mode", "helper_relationship", "challenge", "expires_at", "used_at")


@admin.register(BulkEnrolment)
class BulkEnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "folder", "state", "processed", "total", "enrolled", "skipped", "created_at", "finished_at")
    readonly_fields = [f.name for f in BulkEnrolment._meta.fields]
