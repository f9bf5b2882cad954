"""Admin pages. Every one is audited (views and changes, certification.admin_audit); the rows
whose writes belong to a service (status, validity, money) are view-only here (issue 9)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .admin_audit import AuditedAdminMixin, AuditedModelAdmin, ReadOnlyAdmin
from .models import (
    AuditLog,
    BackPay,
    BackPayLine,
    Certification,
    Community,
    District,
    Overpayment,
    Pensioner,
    SmsCode,
    StatusChange,
    StreetOffice,
    User,
)


@admin.register(District)
class DistrictAdmin(AuditedModelAdmin):
    list_display = ("code", "name")


@admin.register(StreetOffice)
class StreetOfficeAdmin(AuditedModelAdmin):
    list_display = ("name", "district", "counter_address", "counter_hours")
    list_filter = ("district",)
    search_fields = ("name",)


@admin.register(Community)
class CommunityAdmin(AuditedModelAdmin):
    list_display = ("name", "street_office")
    list_select_related = ("street_office__district",)
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = ("username", "first_name", "role", "phone", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("门户", {"fields": ("role", "phone", "street_offices")}))
    filter_horizontal = ("street_offices", "groups", "user_permissions")
    raw_id_fields = ("pensioner",)


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ("method", "occurred_on", "source", "evidence_ref", "helper", "recorded_by")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Pensioner)
class PensionerAdmin(ReadOnlyAdmin):
    """View-only: the ID number, name, phone and amount come from the payment roster (import_pensioners,
    audited), status and validity from the services. Opening a record here is audited."""

    list_display = ("name", "masked_id", "street_office", "status", "valid_until", "monthly_amount")
    list_filter = ("status", "special_group", "street_office__district")
    list_select_related = ("street_office__district",)
    # Not by ID number: the search term is in the URL, and ID numbers never appear in URLs (DESIGN §4).
    search_fields = ("=public_key", "name")
    inlines = [CertificationInline]
    show_full_result_count = False  # COUNT(*) over two million rows on every page is slow


@admin.register(Certification)
class CertificationAdmin(AuditedModelAdmin):
    list_display = ("pensioner", "method", "occurred_on", "source", "evidence_ref")
    list_filter = ("method", "source")
    raw_id_fields = ("pensioner", "recorded_by", "helper")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # certifications are recorded through the portal's services


@admin.register(StatusChange)
class StatusChangeAdmin(AuditedModelAdmin):
    list_display = ("pensioner", "old_status", "new_status", "effective_on", "reason")
    list_filter = ("new_status", "reason")
    raw_id_fields = ("pensioner",)
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


class BackPayLineInline(admin.TabularInline):
    model = BackPayLine
    extra = 0
    readonly_fields = ("month", "amount")


@admin.register(BackPay)
class BackPayAdmin(ReadOnlyAdmin):
    # paid_on is set by the payment roster (the ledger), never by hand.
    list_display = ("pensioner", "suspended_since", "restored_on", "total", "paid_on")
    raw_id_fields = ("pensioner",)
    inlines = [BackPayLineInline]


@admin.register(Overpayment)
class OverpaymentAdmin(ReadOnlyAdmin):
    # Recovered / waived goes through the portal's overpayment page (a service, audited).
    list_display = ("pensioner", "death_date", "total", "state", "opened_on", "refund", "refunded_in")
    list_filter = ("state",)
    raw_id_fields = ("pensioner",)


@admin.register(AuditLog)
class AuditLogAdmin(AuditedModelAdmin):
    list_display = ("at", "actor", "action", "pensioner")
    list_filter = ("action",)
    raw_id_fields = ("actor", "pensioner")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(SmsCode)
class SmsCodeAdmin(AuditedModelAdmin):
    list_display = ("subject", "purpose", "created_at", "expires_at", "attempts", "used_at")
    exclude = ("code_hash",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
