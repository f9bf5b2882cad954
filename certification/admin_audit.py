"""The Django admin is audited like the portal (DESIGN §7, issue 13 item 8, issue 9).

- Opening an object's page in the admin is a view of personal data: one AuditLog row
  (`admin_view`), naming the pensioner when the object belongs to one.
- Every change made in the admin (add, change, delete, bulk delete, list edits, actions
  that go through log_change) writes an AuditLog row (`admin_change`) next to Django's
  own LogEntry, which the portal's audit trail does not read.

Every ModelAdmin of the project derives from AuditedModelAdmin (or uses AuditedAdminMixin).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .models import Pensioner
from .services import audit_log


def pensioner_of(obj: Any) -> Pensioner | None:
    if isinstance(obj, Pensioner):
        return obj
    p = getattr(obj, "pensioner", None)
    return p if isinstance(p, Pensioner) else None


def _target(obj: Any) -> dict[str, object]:
    return {"model": obj._meta.label_lower, "object_id": str(obj.pk)}


class AuditedAdminMixin:
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
            if obj is not None:
                audit_log(actor=request.user, action="admin_view", pensioner=pensioner_of(obj), **_target(obj))
        return response

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_log(actor=request.user, action="admin_change", pensioner=pensioner_of(obj), change="add",
                  message=str(message), **_target(obj))
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_log(actor=request.user, action="admin_change", pensioner=pensioner_of(obj), change="change",
                  message=str(message), **_target(obj))
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletion(self, request: HttpRequest, obj: Any, object_repr: str) -> Any:
        audit_log(actor=request.user, action="admin_change", pensioner=pensioner_of(obj), change="delete",
                  **_target(obj))
        return super().log_deletion(request, obj, object_repr)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        # Bulk "delete selected": Django 5.1+ calls this instead of log_deletion per object.
        for obj in queryset:
            audit_log(actor=request.user, action="admin_change", pensioner=pensioner_of(obj), change="delete",
                      **_target(obj))
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyAdmin(AuditedModelAdmin):
    """Rows whose writes belong to a service (money, status, alerts): the admin only shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
