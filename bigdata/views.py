"""Pages: feed batch history (administrators), fraud alerts and overpayment cases (own offices)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from certification.access import admin_required, staff_required

from . import selectors
from .models import EvidenceBatch
from .services import fraud_alert_close


@admin_required
def batches(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.batch_history(), 50).get_page(request.GET.get("page"))
    return render(request, "bigdata/batches.html", {"page": page, "labels": selectors.source_labels()})


@admin_required
def batch_errors(request: HttpRequest, pk: int) -> FileResponse:
    batch = get_object_or_404(EvidenceBatch, pk=pk)
    if not batch.errors_file:
        raise Http404("该批次没有错误记录")
    return FileResponse(batch.errors_file.open("rb"), as_attachment=True, filename=f"batch-{batch.pk}-errors.csv",
                        content_type="text/csv; charset=utf-8")


@staff_required
def fraud_alerts(request: HttpRequest) -> HttpResponse:
    qs = selectors.fraud_alerts_visible_to(request.user)
    state = request.GET.get("state", "open")
    if state in ("open", "closed"):
        qs = qs.filter(state=state)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    labels = selectors.source_labels()
    for alert in page.object_list:
        alert.source_label = labels.get(alert.source, alert.source)
    return render(request, "bigdata/fraud_alerts.html", {"page": page, "state": state})


@staff_required
@require_http_methods(["GET", "POST"])
def fraud_alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Another office's alert looks nonexistent (404), as every staff read does.
    alert = get_object_or_404(selectors.fraud_alerts_visible_to(request.user), pk=pk)
    if request.method == "POST":
        fraud_alert_close(alert=alert, actor=request.user, note=request.POST.get("note", "")[:200])
        messages.success(request, _("已标记为已处理。"))
        return redirect("bigdata:fraud_alert", pk=alert.pk)
    return render(request, "bigdata/fraud_alert_detail.html",
                  {"alert": alert, "source_label": selectors.source_label(alert.source)})


@staff_required
def overpayments(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.overpayments_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "bigdata/overpayments.html", {"page": page})


@staff_required
def overpayment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(selectors.overpayments_visible_to(request.user), pk=pk)
    return render(request, "bigdata/overpayment_detail.html", {"case": case})

