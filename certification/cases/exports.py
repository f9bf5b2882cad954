"""The case list as .xlsx: staff live in Excel (write-only workbook, audited)."""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from certification import idnumber
from certification.models import User
from certification.services import audit_log
from certification.spreadsheets import xlsx_row

from . import selectors

HEADERS = ["类型", "姓名", "身份证号", "街道", "开立日期", "答复期限", "是否超期", "状态"]
STATE_LABELS = {"open": "处理中", "pending": "待第二人确认", "verify": "待核实", "conflict": "冲突待核实"}
BATCH = 500


def cases_xlsx(*, user: User, kind: str, today: dt.date) -> bytes:
    unmask = user.has_perm("certification.unmask_pii")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("街道案件"))
    ws.append(HEADERS)
    raw = list(selectors.cases_for(user, kind=kind))
    count = 0
    for start in range(0, len(raw), BATCH):
        for r in selectors.case_rows(raw[start:start + BATCH], today=today):
            p = r.pensioner
            # Exports are data, never formulas (DESIGN §7): the shared helper writes such names as text cells.
            ws.append(xlsx_row(ws, [
                r.kind_label, p.name, p.id_number if unmask else idnumber.mask(p.id_number),
                p.street_office.name, r.opened_on, r.due_on, "超期" if r.overdue else "",
                STATE_LABELS.get(r.state, r.state),
            ]))
            count += 1
    buf = io.BytesIO()
    wb.save(buf)
    audit_log(actor=user, action="cases_export", rows=count, kind=kind, unmasked=unmask)
    return buf.getvalue()
