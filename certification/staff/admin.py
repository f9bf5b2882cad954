"""View-only: contacts, visits, requests and death reports are written by the staff pages' services
(two people for a death, audited); the admin shows them, and opening one is audited."""

from django.contrib import admin

from certification.admin_audit import ReadOnlyAdmin

from .models import ContactAttempt, DeathReport, HomeVisit, HomeVisitRequest


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    list_display = ["at", "pensioner", "outcome", "staff"]
    list_filter = ["outcome"]
    raw_id_fields = ["pensioner", "staff"]


@admin.register(HomeVisitRequest)
class HomeVisitRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "pensioner", "reason", "state", "contact_phone"]
    list_filter = ["state", "reason"]
    raw_id_fields = ["pensioner", "requested_by"]


@admin.register(HomeVisit)
class HomeVisitAdmin(ReadOnlyAdmin):
    list_display = ["visit_on", "pensioner", "assignee", "outcome"]
    list_filter = ["outcome"]
    raw_id_fields = ["pensioner", "request", "assignee", "scheduled_by", "certification"]


@admin.register(DeathReport)
class DeathReportAdmin(ReadOnlyAdmin):
    # Confirming goes through the staff page (two people, audited), not through here.
    list_display = ["created_at", "pensioner", "death_date", "evidence_ref", "state", "reported_by", "confirmed_by"]
    list_filter = ["state"]
    raw_id_fields = ["pensioner", "reported_by", "confirmed_by"]
    readonly_fields = ["state", "confirmed_by", "decided_at"]
