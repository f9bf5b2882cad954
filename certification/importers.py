"""The roster import from the payment system (DESIGN §4 `import_pensioners`).

Rows are validated one by one; bad rows go to an errors file with their line
number and reason, and good rows are upserted in bounded batches, so one bad row
never costs a good one. Re-running updates rows in place.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from . import idnumber, rules
from .models import AuditLog, Community, Pensioner, SpecialGroup, StreetOffice
from .private_files import open_private, private_dir
from .spreadsheets import csv_writer

REQUIRED = ("id_number", "name", "phone", "street_office", "monthly_amount", "valid_until")
OPTIONAL = ("community", "special_group")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")
# 2,000 rows a batch: one upsert of that size took ~60 ms on PostgreSQL here.
BATCH = 2000
# The CSV carries the Chinese labels (the msgids): build plain-str keys with translation
# off, so a lookup never depends on the language active in the calling thread.
with translation.override(None):
    _SPECIAL_BY_LABEL = {str(c.label): c.value for c in SpecialGroup}


class RowError(ValueError):
    pass


def parse_date(raw: str) -> dt.date:
    raw = (raw or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise RowError(f"日期格式错误：{raw!r}（应为 YYYY-MM-DD、YYYYMMDD 或 YYYY/MM/DD）")


def read_text(path: Path, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM) or GBK, which government exports often use."""
    data = path.read_bytes()
    if encoding:
        return data.decode("utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors_file: str | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_contract(self) -> dict[str, object]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "rejected": self.rejected, "errors_file": self.errors_file}


class OfficeIndex:
    """Resolves `八大关街道` or `市南区/八大关街道`; an ambiguous bare name is an error."""

    def __init__(self) -> None:
        self.by_full: dict[str, StreetOffice] = {}
        self.by_name: dict[str, list[StreetOffice]] = {}
        for office in StreetOffice.objects.select_related("district"):
            self.by_full[f"{office.district.name}/{office.name}"] = office
            self.by_name.setdefault(office.name, []).append(office)
        self.communities: dict[tuple[int, str], Community] = {
            (c.street_office_id, c.name): c for c in Community.objects.all()
        }

    def office(self, raw: str) -> StreetOffice:
        raw = raw.strip()
        if "/" in raw:
            found = self.by_full.get(raw.replace(" ", ""))
            if found is None:
                raise RowError(f"未知的街道办事处：{raw}")
            return found
        matches = self.by_name.get(raw, [])
        if not matches:
            raise RowError(f"未知的街道办事处：{raw}")
        if len(matches) > 1:
            raise RowError(f"街道名称“{raw}”不唯一，请写成“区/街道”")
        return matches[0]

    def community(self, office: StreetOffice, name: str) -> Community | None:
        name = name.strip()
        if not name:
            return None
        key = (office.pk, name)
        if key not in self.communities:
            self.communities[key], _ = Community.objects.get_or_create(street_office=office, name=name)
        return self.communities[key]


def _clean_row(row: dict[str, str], offices: OfficeIndex) -> Pensioner:
    missing = [k for k in REQUIRED if not (row.get(k) or "").strip()]
    # phone may legitimately be empty in the roster; everything else is required.
    missing = [k for k in missing if k != "phone"]
    if missing:
        raise RowError("缺少字段：" + "、".join(missing))
    try:
        rid = idnumber.parse(row["id_number"])
    except idnumber.InvalidIdNumber as exc:
        raise RowError(str(exc)) from None
    try:
        amount = Decimal(row["monthly_amount"].strip())
    except InvalidOperation:
        raise RowError(f"月养老金金额无效：{row['monthly_amount']!r}") from None
    if not amount.is_finite() or amount < 0:
        raise RowError(f"月养老金金额不能为负数：{row['monthly_amount']}")
    if amount > Decimal("99999999.99"):
        raise RowError(f"月养老金金额过大：{row['monthly_amount']}")
    valid_until = parse_date(row["valid_until"])
    phone = (row.get("phone") or "").strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise RowError(f"手机号格式错误：{phone}")
    office = offices.office(row["street_office"])
    special = (row.get("special_group") or "").strip()
    special = _SPECIAL_BY_LABEL.get(special, special)
    if special not in {c.value for c in SpecialGroup}:
        raise RowError(f"特殊群体取值无效：{special}")
    name = row["name"].strip()
    if len(name) > 64:
        raise RowError("姓名过长")
    return Pensioner(
        id_number=rid.number, name=name, birth_date=rid.birth_date, sex=rid.sex, phone=phone,
        street_office=office, community=offices.community(office, row.get("community") or ""),
        monthly_amount=amount.quantize(Decimal("0.01")), valid_until=valid_until, special_group=special,
    )


def _rows(text: str) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RowError("文件为空") from None
    absent = [k for k in REQUIRED if k not in header]
    if absent:
        raise RowError("表头缺少列：" + "、".join(absent))
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line, None, f"列数不对：应为 {len(header)} 列，实际 {len(values)} 列"
            continue
        yield line, dict(zip(header, values, strict=True)), ""


def pensioners_import(*, path: Path, today: dt.date | None = None, errors_dir: Path | None = None,
                      encoding: str | None = None) -> ImportResult:
    today = today or rules.today_local()
    result = ImportResult()
    offices = OfficeIndex()
    batch: dict[str, Pensioner] = {}
    for line, row, problem in _rows(read_text(path, encoding)):
        result.rows += 1
        if row is None:
            result.errors.append((line, problem))
            continue
        try:
            p = _clean_row(row, offices)
        except RowError as exc:
            result.errors.append((line, str(exc)))
            continue
        batch[p.id_number] = p  # a repeated ID within the file: the last row wins
        if len(batch) >= BATCH:
            _upsert(batch, today, result)
            batch = {}
    if batch:
        _upsert(batch, today, result)
    result.rejected = len(result.errors)
    if result.errors:
        result.errors_file = str(_write_errors(result.errors, errors_dir, path.stem))
    AuditLog.objects.create(actor=None, action="roster_import", detail={
        "file": path.name, "rows": result.rows, "created": result.created, "updated": result.updated,
        "rejected": result.rejected})
    return result


@transaction.atomic
def _upsert(batch: dict[str, Pensioner], today: dt.date, result: ImportResult) -> None:
    existing = {p.id_number: p for p in Pensioner.objects.select_for_update().filter(id_number__in=batch.keys())}
    to_create, to_update = [], []
    audits: list[AuditLog] = []
    now = timezone.now()
    for number, new in batch.items():
        old = existing.get(number)
        if old is None:
            new.status = rules.status(new.valid_until, today)
            if new.status == rules.Status.SUSPENDED:
                new.suspended_since = rules.suspension_date(new.valid_until)
            new.enrolled_on = today
            new.roster_valid_until = new.valid_until
            to_create.append(new)
            continue
        changed = [f for f in _ROSTER_FIELDS if getattr(old, f) != getattr(new, f)]
        if old.roster_valid_until != new.valid_until:
            changed.append("roster_valid_until")
        if changed:
            audits.append(_roster_audit(old, new, changed, now))
        for f in ("name", "birth_date", "sex", "phone", "street_office", "community", "monthly_amount", "special_group"):
            setattr(old, f, getattr(new, f))
        # The roster may carry a later validity; it never shortens what certification gave.
        old.valid_until = max(old.valid_until, new.valid_until)
        # Kept apart: what validity falls back to when post-death evidence is voided.
        old.roster_valid_until = new.valid_until
        old.updated_at = now
        to_update.append(old)
    Pensioner.objects.bulk_create(to_create, batch_size=BATCH)
    Pensioner.objects.bulk_update(
        to_update,
        ["name", "birth_date", "sex", "phone", "street_office", "community", "monthly_amount", "special_group",
         "valid_until", "roster_valid_until", "updated_at"],
        batch_size=500,
    )
    # A re-import that changes a person is audited like any other change (issue 9): one row each.
    AuditLog.objects.bulk_create(audits, batch_size=BATCH)
    result.created += len(to_create)
    result.updated += len(to_update)


# What a re-import may change (compared by column: ids, not related objects).
_ROSTER_FIELDS = ("name", "birth_date", "sex", "phone", "street_office_id", "community_id", "monthly_amount",
                  "special_group")


def _roster_audit(old: Pensioner, new: Pensioner, changed: list[str], now: dt.datetime) -> AuditLog:
    # The changed fields by name; old and new values only for money and validity (no copies of phones).
    detail: dict[str, object] = {"fields": changed, "source": "roster"}
    if "monthly_amount" in changed:
        detail["monthly_amount"] = [f"{old.monthly_amount:.2f}", f"{new.monthly_amount:.2f}"]
    if "roster_valid_until" in changed:
        detail["roster_valid_until"] = [str(old.roster_valid_until), str(new.valid_until)]
    return AuditLog(actor=None, action="roster_update", pensioner=old, detail=detail, at=now)


def _write_errors(errors: list[tuple[int, str]], errors_dir: Path | None, stem: str) -> Path:
    errors_dir = errors_dir or Path(settings.MEDIA_ROOT) / "errors"
    private_dir(errors_dir)
    path = errors_dir / f"{stem}-errors-{timezone.now():%Y%m%d%H%M%S%f}.csv"
    # Owner-only, and values defused: reasons quote the rejected row's fields (DESIGN §7).
    with open_private(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv_writer(fh)
        w.writerow(["line", "reason"])
        w.writerows(errors)
    return path
