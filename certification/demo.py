"""Demo city for `seed_demo` (DESIGN §4): deterministic for a given seed. Demo credentials only.

A believable city: a year of evidence from every qualifying source, so that about 95%
of the people are confirmed silently by the nightly matching and the warning queue
holds the rest; a few named people in every status, printed with what to try as each.

Running it twice makes no second city. Each person's random draws come from a
generator seeded by (seed, index), so a person the first run made is the same person
the second time (and is skipped), and the feeds carry the same source references
(so importing them again adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, field
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
QUALIFYING_SOURCES = ("hospital", "medical_insurance", "outpatient", "transit", "dibao", "health_check",
                      "vaccination", "counter_visit")
# How often each source sees a pensioner in a year (relative weights): transit cards and
# medical-insurance settlements are everyday, dibao and counter visits are rare.
SOURCE_WEIGHTS = (8, 10, 9, 14, 1, 4, 3, 2)
# Share of the city that leaves a data trail in the last year (DESIGN §1: about 95%).
SILENT_SHARE = 0.95
# Of the people who leave no trail: (share, roster valid_until offset range in days).
UNCOVERED_PROFILE = [(0.25, (1, 200)), (0.45, (-90, -1)), (0.30, (-400, -95))]
DEMO_FACE = "lin_manuel_miranda_1.jpg"  # the face in tests/fixtures/faces/clip (the fake-camera clip)


@dataclass
class DemoAccount:
    role: str
    username: str
    password: str
    street_office: str | None
    note: str = ""


@dataclass
class Persona:
    """A named demo pensioner: who they are, and what to try as them."""

    key: str
    name: str
    status: str
    valid_until_days: int  # roster valid_until, days from today
    try_this: str
    face: bool = False
    special_group: str = SpecialGroup.NONE
    birth: dt.date = dt.date(1950, 3, 8)
    evidence: list[tuple[str, int]] = field(default_factory=list)  # (source, days before today)
    death_days: int | None = None  # a death record dated this many days ago


PERSONAS = [
    Persona("silent", "王秀英", "active", -40, face=False,
            evidence=[("hospital", 200), ("medical_insurance", 120), ("transit", 30), ("health_check", 9)],
            try_this="登录后看「近一年为您确认资格的信息」：四个来源都列出，您无需任何操作（静默认证）"),
    Persona("face_self", "李桂兰", "warning", -20, face=True,
            try_this="已到期（提醒期），已登记人脸：点「刷脸认证（给我认证）」。演示用的底库照片是测试照片，"
                     "用本机摄像头会判为「不是本人」，可看失败页的其他方式和剩余次数"),
    Persona("face_proxy", "张玉珍", "warning", -45, face=True, birth=dt.date(1941, 6, 2),
            special_group=SpecialGroup.AGED_80,
            try_this="亲属 13800000001 登录后点「给他人认证」，输入此人的身份证号和姓名，用摄像头对准老人"),
    Persona("no_face", "刘凤芳", "warning", -60, face=False,
            try_this="已到期但没有登记人脸：首页不推刷脸，而是给出窗口电话（可点拨）和预约上门"),
    Persona("suspended", "陈建国", "suspended", -200, face=False,
            try_this="已暂停发放：工作人员在八大关街道登记窗口认证后，他恢复为认证有效，补发暂停期间的养老金"),
    Persona("home_visit", "杨淑华", "suspended", -150, face=False, birth=dt.date(1936, 11, 20),
            special_group=SpecialGroup.AGED_80,
            try_this="90 岁、已暂停：在首页点「预约上门认证」，工作人员在提醒名单上看到申请并安排上门"),
    Persona("deceased", "赵明德", "deceased", -30, death_days=75,
            try_this="民政死亡登记已停发：本人可用短信验证码登录，提交「我还健在」异议；工作人员页面可看到死亡记录和多发待追回，"
                     "两名同街道工作人员可撤销死亡登记"),
]


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "Demo-" + "".join(rng.choice(alphabet) for _ in range(14))


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


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _pick_offset(rng: random.Random) -> int:
    r, acc = rng.random(), 0.0
    for share, (lo, hi) in UNCOVERED_PROFILE:
        acc += share
        if r <= acc:
            return rng.randint(lo, hi)
    return rng.randint(*UNCOVERED_PROFILE[-1][1])


def _evidence_for(rng: random.Random) -> list[tuple[str, int]]:
    """1 to 4 records from different sources, dated in the last year (days before today)."""
    count = rng.choices([1, 2, 3, 4], [3, 4, 2, 1])[0]
    sources: list[str] = []
    while len(sources) < count:
        s = rng.choices(QUALIFYING_SOURCES, SOURCE_WEIGHTS)[0]
        if s not in sources:
            sources.append(s)
    return [(s, rng.randint(1, 355)) for s in sources]


@dataclass
class Plan:
    """What seed() wrote, for the feeds and the printout."""

    evidence: list[tuple[str, str, dt.date]] = field(default_factory=list)  # (id_number, source, date)
    deaths: list[tuple[str, dt.date]] = field(default_factory=list)
    personas: list[tuple[Persona, Pensioner]] = field(default_factory=list)


@transaction.atomic
def seed(*, pensioners: int, seed: int, today: dt.date, progress=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    accounts_rng = random.Random(f"{seed}:accounts")  # noqa: S311 - reproducible demo data, not secrets
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

    plan = Plan()
    existing = set(Pensioner.objects.values_list("id_number", flat=True))
    batch: list[Pensioner] = []
    created = 0
    personas = PERSONAS[: min(len(PERSONAS), pensioners)]
    for i in range(pensioners):
        rng = random.Random(f"{seed}:{i}")  # noqa: S311 - one generator per person: reruns find the same people
        persona = personas[i] if i < len(personas) else None
        if persona:
            office, birth = badaguan, persona.birth
        else:
            office = rng.choices(offices, weights)[0]
            birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 36))
        number = idnumber.make(REGIONS[office.district.name], birth, i)
        if persona:
            evidence = persona.evidence
            offset = persona.valid_until_days
        elif rng.random() < SILENT_SHARE:
            evidence = _evidence_for(rng)
            # What the payment system last knew (active, or in the warning window; never
            # suspended, so the first nightly run extends them without a back-pay).
            offset = rng.randint(-80, 330)
        else:
            evidence = []
            offset = _pick_offset(rng)
        valid_until = today + dt.timedelta(days=offset)
        plan.evidence.extend((number, s, today - dt.timedelta(days=d)) for s, d in evidence)
        if persona and persona.death_days is not None:
            plan.deaths.append((number, today - dt.timedelta(days=persona.death_days)))
        age = rules.age_on(birth, today)
        if persona:
            special = persona.special_group
        else:
            special = SpecialGroup.AGED_80 if age >= 80 else rng.choice(
                [SpecialGroup.NONE] * 30 + [SpecialGroup.DISABLED, SpecialGroup.SERIOUSLY_ILL])
        name = persona.name if persona else _name(rng)
        phone = f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
        amount = Decimal(rng.randrange(180000, 650000)) / 100
        relative_phone = f"15{rng.randint(0, 99999999):09d}"[:11] if rng.random() < 0.5 else ""
        house = rng.randint(1, 200)
        community = rng.choice(communities[office.pk]) if office.pk in communities else None
        enrolled = today - dt.timedelta(days=rng.randint(400, 4000))
        if number in existing:
            continue
        status = rules.status(valid_until, today)
        rid = idnumber.parse(number)
        batch.append(Pensioner(
            id_number=number, name=name, birth_date=rid.birth_date, sex=rid.sex, phone=phone,
            address=f"青岛市{office.district.name}{office.name}{house}号",
            street_office=office, community=community,
            monthly_amount=amount, valid_until=valid_until, status=status,
            suspended_since=rules.suspension_date(valid_until) if status == rules.Status.SUSPENDED else None,
            special_group=special, relative_phone=relative_phone, enrolled_on=enrolled,
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

    by_number = {p.id_number: p for p in Pensioner.objects.filter(
        id_number__in=[idnumber.make(REGIONS["市南区"], ps.birth, i) for i, ps in enumerate(personas)])}
    for i, ps in enumerate(personas):
        p = by_number.get(idnumber.make(REGIONS["市南区"], ps.birth, i))
        if p:
            plan.personas.append((ps, p))

    accounts = [
        _user(accounts_rng, username="admin", role=Role.ADMIN, offices=[], first_name="市局管理员"),
        _user(accounts_rng, username="staff_badaguan", role=Role.STAFF, offices=[badaguan], first_name="王芳"),
        # A second person of the same office: two-person confirmations (death reports, revocations).
        _user(accounts_rng, username="staff_badaguan2", role=Role.STAFF, offices=[badaguan], first_name="孙丽"),
        _user(accounts_rng, username="staff_zhanshan", role=Role.STAFF, offices=[zhanshan], first_name="李强"),
    ]
    relative, _ = User.objects.get_or_create(
        username="r13800000001", defaults={"role": Role.RELATIVE, "phone": "13800000001", "first_name": "张伟"}
    )
    relative.set_unusable_password()
    relative.save()
    accounts[0].note = "数据看板（静默认证通过率、趋势）、全市提醒名单、付款名册"
    accounts[1].note = "提醒名单；给陈建国登记窗口认证（恢复发放并补发）；给杨淑华安排上门；报告死亡"
    accounts[2].note = "同一街道的第二人：复核 staff_badaguan 提交的死亡报告、撤销等需两人确认的事项"
    accounts[3].note = "另一街道：看不到八大关街道的人（404）"
    result_accounts = [a.__dict__ for a in accounts]
    result_accounts.append({"role": Role.RELATIVE.value, "username": "13800000001", "password": "",
                            "street_office": None,
                            "note": "亲属：手机号 + 短信验证码（验证码打印在 make demo 的控制台）；可「给他人认证」张玉珍"})
    for ps, p in plan.personas:
        # The deceased persona signs in too: a wrong death is appealed from their own page (issue 10).
        result_accounts.append({"role": Role.PENSIONER.value, "username": p.id_number, "password": "",
                                "street_office": str(badaguan), "name": p.name, "status": ps.status,
                                "note": ps.try_this})
    return {"pensioners": Pensioner.objects.count(), "created": created, "accounts": result_accounts, "plan": plan}


def write_demo_feeds(*, directory: Path, seed: int, plan: Plan) -> list[tuple[Path, str]]:
    """One CSV per source, like the agencies' daily exports of the last year.

    Source references are derived from (seed, person, source, date), so a second run
    writes the same references and importing them again adds nothing.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[str]] = {s: [] for s in QUALIFYING_SOURCES}
    for number, source, day in plan.evidence:
        rows[source].append(f"{number},{day:%Y-%m-%d},{source.upper()}-{seed}-{number[-8:]}-{day:%Y%m%d}\n")
    feeds: list[tuple[Path, str]] = []
    for source in QUALIFYING_SOURCES:
        if not rows[source]:
            continue
        path = directory / f"{source}.csv"
        path.write_text("id_number,event_date,source_ref\n" + "".join(sorted(rows[source])), encoding="utf-8")
        feeds.append((path, source))
    if plan.deaths:
        path = directory / "death_civil.csv"
        path.write_text("id_number,event_date,source_ref\n" + "".join(
            f"{number},{day:%Y-%m-%d},MZ-{seed}-{number[-8:]}\n" for number, day in plan.deaths), encoding="utf-8")
        feeds.append((path, "death_civil"))
    return feeds
