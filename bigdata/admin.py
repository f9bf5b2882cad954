"""Admin: the source registry (editable), feed upload by staff, partner tokens, fraud alerts (view-only).

Every page is audited (certification.admin_audit); writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from certification.admin_audit import AuditedModelAdmin, ReadOnlyAdmin
from certification.services import audit_log

from .models import Evidence, EvidenceBatch, EvidenceSource, FraudAlert, MatchingRun, PartnerToken
from .services import _batch_dispatch, feed_upload, partner_token_create, partner_token_issue_key


@admin.register(EvidenceSource)
class EvidenceSourceAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "kind", "trust_level", "death_action", "enabled"]
    list_editable = ["trust_level", "death_action", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["code", "name"]


@admin.register(EvidenceBatch)
class EvidenceBatchAdmin(AuditedModelAdmin):
    """Staff upload a feed here: the file is stored and a Celery task imports it."""

    list_display = ["id", "source", "original_name", "status", "rows", "accepted", "duplicates", "rejected",
                    "unmatched", "errors_link", "created_at"]
    list_filter = ["status", "source"]
    readonly_fields = ["original_name", "encoding", "status", "rows", "accepted", "duplicates", "rejected",
                       "unmatched", "errors_link", "failure", "uploaded_by", "partner_token", "created_at",
                       "finished_at"]
    actions = ["reprocess"]

    def get_fields(self, request: HttpRequest, obj: EvidenceBatch | None = None) -> list[str]:
        return ["source", "file"] if obj is None else ["source", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: EvidenceBatch | None = None) -> list[str]:
        return [] if obj is None else ["source", *self.readonly_fields]

    @admin.display(description="错误文件")
    def errors_link(self, obj: EvidenceBatch) -> str:
        if not obj.errors_file:
            return "—"
        return format_html('<a href="{}">下载</a>', reverse("bigdata:batch_errors", args=[obj.pk]))

    def save_model(self, request: HttpRequest, obj: EvidenceBatch, form: Any, change: bool) -> None:
        if change:
            return  # a batch is immutable once uploaded
        batch = feed_upload(source=obj.source, upload=form.cleaned_data["file"], uploaded_by=request.user)
        obj.pk = batch.pk
        messages.info(request, f"已上传，批次 #{batch.pk} 正在后台导入。")

    @admin.action(description="重新排队导入（失败或中断的批次）")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[EvidenceBatch]) -> None:
        from django.db import transaction

        ids = list(queryset.filter(status__in=["failed", "processing"]).exclude(file="").values_list("pk", flat=True))
        EvidenceBatch.objects.filter(pk__in=ids).update(status=EvidenceBatch.Status.PENDING, failure="")
        for pk in ids:
            # The upload's bounded publish: one attempt; with the broker gone the batch is failed again, with a reason.
            transaction.on_commit(lambda pk=pk: _batch_dispatch(pk))
        messages.info(request, f"已重新排队 {len(ids)} 个批次。")


@admin.register(PartnerToken)
class PartnerTokenAdmin(AuditedModelAdmin):
    """A token is shown once, when created or re-issued; only its hash is kept."""

    list_display = ["name", "source", "prefix", "active", "created_at", "last_used_at"]
    list_filter = ["active", "source"]
    fields = ["name", "source", "active"]
    actions = ["issue_new_key"]

    def save_model(self, request: HttpRequest, obj: PartnerToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "source", "active"])
            return
        # Through the service: the row is created with its real key's hash (issue 9), never a placeholder.
        token, key = partner_token_create(name=obj.name, source=obj.source)
        if not obj.active:
            PartnerToken.objects.filter(pk=token.pk).update(active=False)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = token.pk, token.prefix, token.key_hash, token.created_at
        obj._state.adding = False
        messages.warning(request, f"令牌（只显示这一次，请立即交给合作方）：{key}")

    @admin.action(description="重新签发令牌（旧令牌立即失效）")
    def issue_new_key(self, request: HttpRequest, queryset: QuerySet[PartnerToken]) -> None:
        for token in queryset:
            key = partner_token_issue_key(token=token)
            audit_log(actor=request.user, action="admin_change", change="partner_token_reissue",
                      model="bigdata.partnertoken", object_id=str(token.pk))
            messages.warning(request, f"{token.name}：{key}（只显示这一次）")


@admin.register(FraudAlert)
class FraudAlertAdmin(ReadOnlyAdmin):
    # The state changes on the portal's fraud-alert page (a service, audited), not here (issue 9).
    list_display = ["pensioner", "source", "source_ref", "event_date", "death_date", "state", "created_at"]
    list_filter = ["state", "source"]
    raw_id_fields = ["pensioner"]


@admin.register(Evidence)
class EvidenceAdmin(AuditedModelAdmin):
    """Read-only look-up by the partner's reference; not by ID number: the search term is in the URL,
    and ID numbers never appear in URLs (DESIGN §4; show_pensioner gives a person's evidence).
    Millions of rows: no full count, no default sort."""

    list_display = ["id", "source", "source_ref", "event_date", "pensioner_id"]
    search_fields = ["=source_ref"]
    show_full_result_count = False
    raw_id_fields = ["pensioner", "batch"]
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Evidence]:
        return super().get_queryset(request).select_related("source")


@admin.register(MatchingRun)
class MatchingRunAdmin(AuditedModelAdmin):
    list_display = ["id", "run_on", "status", "evidence_lo", "evidence_hi", "counts", "started_at", "finished_at"]
    list_filter = ["status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
