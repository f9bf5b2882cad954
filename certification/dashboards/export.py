"""Every dashboard table downloads as .xlsx (openpyxl, write-only)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

from certification.spreadsheets import xlsx_filter, xlsx_layout, xlsx_row

from .panels import Table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text_width(value: object) -> float:
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _widths(table: Table) -> list[float]:
    out = []
    for i, head in enumerate(table.columns):
        longest = max([_text_width(head)] + [_text_width(r[i]) for r in table.rows if i < len(r)])
        out.append(min(max(longest + 2, 8), 40))
    return out


def xlsx_bytes(table: Table, *, scope_name: str = "") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.slug[:31])
    # Widths from the longest text in each column (a CJK character is two units wide),
    # the title and header rows frozen, and a filter on the header (issue 12).
    xlsx_layout(ws, _widths(table), header_row=2)
    # Office and community names are data: written as text, never as formulas (DESIGN §7).
    ws.append(xlsx_row(ws, [f"{scope_name} {table.title}".strip()]))
    ws.append(xlsx_row(ws, table.columns))
    for row in table.rows:
        ws.append(xlsx_row(ws, [float(v) if isinstance(v, Decimal) else v if isinstance(v, int | float | str)
                                else str(v) for v in row]))
    xlsx_filter(ws, columns=len(table.columns), header_row=2, last_row=len(table.rows) + 2)
    if table.note:
        ws.append(xlsx_row(ws, [table.note]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(table: Table, *, filename: str, scope_name: str = "") -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table, scope_name=scope_name), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
