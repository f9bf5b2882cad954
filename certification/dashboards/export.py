"""Every dashboard table downloads as .xlsx (openpyxl, write-only)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

from certification.spreadsheets import xlsx_row

from .panels import Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(table: Table, *, scope_name: str = "") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.slug[:31])
    # Office and community names are data: written as text, never as formulas (DESIGN §7).
    ws.append(xlsx_row(ws, [f"{scope_name} {table.title}".strip()]))
    ws.append(xlsx_row(ws, table.columns))
    for row in table.rows:
        ws.append(xlsx_row(ws, [float(v) if isinstance(v, Decimal) else v if isinstance(v, int | float | str)
                                else str(v) for v in row]))
    if table.note:
        ws.append(xlsx_row(ws, [table.note]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(table: Table, *, filename: str, scope_name: str = "") -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table, scope_name=scope_name), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
