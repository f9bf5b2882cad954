"""The working-day calendar in the Django admin (节假日与调休); every change is audited."""

from django.contrib import admin

from certification.admin_audit import AuditedModelAdmin

from .models import CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedModelAdmin):
    list_display = ("day", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "day"
    search_fields = ("name",)
