from django.contrib import admin

from .models import ContactAttempt, DeathReport, HomeVisit, HomeVisitRequest


@admin.register(ContactAttempt)
class ContactAttemptAdmin(admin.ModelAdmin):
    list_display = ["at", "pensioner", "outcome", "staff"]
    list_filter = ["outcome"]
    raw_id_fields = ["pensioner", "staff"]


@admin.register(HomeVisitRequest)
class HomeVisitRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "pensioner", "reason", "state", "contact_phone"]
    list_filter = ["state", "reason"]
    raw_id_fields = ["pensioner", "requested_by"]


@admin.register(HomeVisit)
class HomeVisitAdmin(admin.ModelAdmin):
    list_display = ["visit_on", "pensioner", "assignee", "outcome"]
    list_filter = ["outcome"]
    raw_id_fields = ["pensioner", "request", "assignee", "scheduled_by", "certification"]


@admin.register(DeathReport)
class DeathReportAdmin(admin.ModelAdmin):
    # Confirming goes through the staff page (two people, audited), not through here.
    list_display = ["created_at", "pensioner", "death_date", "evidence_ref", "state", "reported_by", "confirmed_by"]
    list_filter = ["state"]
    raw_id_fields = ["pensioner", "reported_by", "confirmed_by"]
    readonly_fields = ["state", "confirmed_by", "decided_at"]
