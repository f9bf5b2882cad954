from django.contrib import admin

from certification.admin_audit import ReadOnlyAdmin

from .models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "template", "recipient", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "template", "channel"]
    # Not by phone number: the search term would be in the URL (and the access log).
    search_fields = ["=pensioner__public_key", "dedup_key", "provider_id"]
    raw_id_fields = ["pensioner"]
    date_hierarchy = "created_at"
    # The outbox is a record of what was sent: read it here, never edit it.
    readonly_fields = [f.name for f in Message._meta.fields]
