"""Demo city for `seed_demo`: deterministic for a given seed. Demo credentials only."""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from . import idnumber, rules
from .models import Community, Pensioner, Role, SpecialGroup, StreetOffice, User

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "秀英桂兰玉珍凤芳淑华建国明德志强海玉梅立新文华永庆宝山春生淑珍秀兰桂芝金凤建华玉兰"
REGIONS = {"市南区": "370202", "市北区": "370203", "黄岛区": "370211", "崂山区": "370212", "李沧区": "370213",
           "城阳区": "370214", "即墨区": "370215", "胶州市": "370281", "平度市": "370283", "莱西市": "370285"}
COMMUNITIES = ["第一社区", "第二社区", "海滨社区", "山东路社区", "湛山社区"]
# Demo population: (share of people, valid_until offset range in days from today).
PROFILE = [(0.80, (1, 365)), (0.12, (-90, 0)), (0.08, (-400, -95))]


@dataclass
class DemoAccount:
    role: str
    username: str
    password: str
    street_office: str | None


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "Demo-" + "".join(rng.choice(alphabet) for _ in range(10))


def _user(rng: random.Random, *, username: str, role: str, offices: list[StreetOffice], first_name: str = "",
          phone: str = "") -> DemoAccount:
    password = _password(rng)
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    user.role = role
    user.first_name = first_name
    user.phone = phone
    user.is_staff = role == Role.ADMIN  # Django admin for administrators only
    user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    user.save()
    if offices:
        user.street_offices.set(offices)
    office_label = str(offices[0]) if offices else None
    return DemoAccount(role=role, username=username, password=password, street_office=office_label)


@transaction.atomic
def seed(*, pensioners: int, seed: int, today: dt.date, progress=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    badaguan = StreetOffice.objects.get(district__name="市南区", name="八大关街道")
    zhanshan = StreetOffice.objects.get(district__name="市南区", name="湛山街道")
    offices = list(StreetOffice.objects.select_related("district").order_by("pk"))
    # Most demo people live in the two offices the demo staff serve, so the queues are not empty.
    weights = [30 if o.pk in (badaguan.pk, zhanshan.pk) else 1 for o in offices]
    communities: dict[int, list[Community]] = {}
    for office in (badaguan, zhanshan):
        communities[office.pk] = [
            Community.objects.get_or_create(street_office=office, name=name)[0] for name in COMMUNITIES
        ]

    existing = set(Pensioner.objects.values_list("id_number", flat=True)) if Pensioner.objects.exists() else set()
    batch: list[Pensioner] = []
    created = 0
    for i in range(pensioners):
        office = rng.choices(offices, weights)[0]
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 36))
        number = idnumber.make(REGIONS[office.district.name], birth, i)
        r = rng.random()
        acc = 0.0
        offset_range = PROFILE[0][1]
        for share, rng_days in PROFILE:
            acc += share
            if r <= acc:
                offset_range = rng_days
                break
        valid_until = today + dt.timedelta(days=rng.randint(*offset_range))
        age = rules.age_on(birth, today)
        special = SpecialGroup.AGED_80 if age >= 80 else rng.choice([SpecialGroup.NONE] * 30 + [SpecialGroup.DISABLED, SpecialGroup.SERIOUSLY_ILL])
        status = rules.status(valid_until, today)
        rid = idnumber.parse(number)
        if number in existing:
            continue
        batch.append(Pensioner(
            id_number=number, name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
            birth_date=rid.birth_date, sex=rid.sex, phone=f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
            address=f"青岛市{office.district.name}{office.name}{rng.randint(1, 200)}号",
            street_office=office, community=rng.choice(communities[office.pk]) if office.pk in communities else None,
            monthly_amount=Decimal(rng.randrange(180000, 650000)) / 100, valid_until=valid_until, status=status,
            suspended_since=rules.suspension_date(valid_until) if status == rules.Status.SUSPENDED else None,
            special_group=special, relative_phone=f"15{rng.randint(0, 99999999):09d}"[:11] if rng.random() < 0.5 else "",
            enrolled_on=today - dt.timedelta(days=rng.randint(400, 4000)),
        ))
        if len(batch) >= 2000:
            Pensioner.objects.bulk_create(batch, ignore_conflicts=True)
            created += len(batch)
            batch = []
            if progress:
                progress(i + 1, pensioners)
    if batch:
        Pensioner.objects.bulk_create(batch, ignore_conflicts=True)
        created += len(batch)
    if progress:
        progress(pensioners, pensioners)

    accounts = [
        _user(rng, username="admin", role=Role.ADMIN, offices=[], first_name="市局管理员"),
        _user(rng, username="staff_badaguan", role=Role.STAFF, offices=[badaguan], first_name="八大关街道 王芳"),
        _user(rng, username="staff_zhanshan", role=Role.STAFF, offices=[zhanshan], first_name="湛山街道 李强"),
    ]
    relative, _ = User.objects.get_or_create(
        username="r13800000001", defaults={"role": Role.RELATIVE, "phone": "13800000001", "first_name": "张伟"}
    )
    relative.set_unusable_password()
    relative.save()
    # A pensioner signs in with ID number + SMS code (the dev transport prints the code).
    sample = Pensioner.objects.filter(street_office=badaguan).order_by("pk").first()
    result_accounts = [a.__dict__ for a in accounts]
    result_accounts.append({"role": Role.RELATIVE.value, "username": "13800000001", "password": "",
                            "street_office": None,
                            "note": "relatives sign in with their phone + SMS code (printed by the console transport)"})
    if sample:
        result_accounts.append({"role": Role.PENSIONER.value, "username": sample.id_number,
                                "password": "", "street_office": str(badaguan),
                                "note": "sign in with ID number + SMS code; the code is printed by the console SMS transport"})
    return {"pensioners": Pensioner.objects.count(), "created": created, "accounts": result_accounts}


def write_demo_feeds(*, directory: Path, seed: int, today: dt.date, coverage: float = 0.85) -> list[tuple[Path, str]]:
    """Evidence feed files (CSV) for the demo, like a year of agencies' exports.

    About `coverage` of the people leave a data trail (hospital, medical insurance,
    transit card) somewhere in the last year, as most real pensioners do, so the
    demo's silent pass rate and warning queue look like a real city's. One death record.
    """
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible demo data
    directory.mkdir(parents=True, exist_ok=True)
    numbers = list(Pensioner.objects.order_by("pk").values_list("id_number", flat=True))
    rng.shuffle(numbers)
    covered = numbers[: int(len(numbers) * coverage)]
    sources = ("hospital", "medical_insurance", "transit")
    rows: dict[str, list[str]] = {s: [] for s in sources}
    for n, number in enumerate(covered):
        source = rng.choice(sources)
        day = today - dt.timedelta(days=rng.randint(1, 360))
        rows[source].append(f"{number},{day:%Y-%m-%d},{source.upper()}-{seed}-{n:07d}\n")
    feeds: list[tuple[Path, str]] = []
    for source in sources:
        path = directory / f"{source}.csv"
        path.write_text("id_number,event_date,source_ref\n" + "".join(rows[source]), encoding="utf-8")
        feeds.append((path, source))
    uncovered = numbers[len(covered):]
    if uncovered:
        path = directory / "death_civil.csv"
        death = today - dt.timedelta(days=75)
        path.write_text(f"id_number,event_date,source_ref\n{uncovered[0]},{death:%Y-%m-%d},MZ-{seed}-000001\n",
                        encoding="utf-8")
        feeds.append((path, "death_civil"))
    return feeds
