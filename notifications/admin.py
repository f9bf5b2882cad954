from django.contrib import admin

from certification.admin_audit import ReadOnlyAdmin

from .models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "template", "recipient", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "template", "channel"]
    search_fields = ["recipient", "dedup_key", "provider_id"]
    raw_id_fields = ["pensioner"]
    date_hierarchy = "created_at"
    # The outbox is a record of what was sent: read it here, never edit it.
    readonly_fields = [f.name for f in Message._meta.fields]
