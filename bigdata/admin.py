from django.contrib import admin

from .models import FraudAlert


@admin.register(FraudAlert)
class FraudAlertAdmin(admin.ModelAdmin):
    list_display = ("pensioner", "source", "event_date", "death_date", "state")
    list_filter = ("state", "source")
    raw_id_fields = ("pensioner",)
