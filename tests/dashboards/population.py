"""A generated population lived through 15 months with the real services.

Each simulated month the nightly transitions run, some people certify by various
channels (big data from several sources, face, counter, video, home visit), some
die, and back-pay / overpayment rows appear as the services create them.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from certification import rules
from certification.models import BackPay, Method, Overpayment, Pensioner, StreetOffice
from certification.services import certification_record, pensioner_mark_deceased, transitions_run
from tests.factories import PensionerFactory

TODAY = dt.date(2026, 11, 20)
OFFICES = ["八大关街道", "湛山街道", "辽宁路街道"]  # two in 市南区, one in 市北区
SOURCES = ["hospital", "medical_insurance", "transit", "dibao", "vaccination"]
OTHER_METHODS = [Method.FACE_SELF, Method.FACE_PROXY, Method.COUNTER, Method.VIDEO, Method.HOME_VISIT]


def _evidence(p: Pensioner, source: str, day: dt.date, ref: str) -> None:
    from bigdata.models import Evidence, EvidenceSource

    Evidence.objects.create(source=EvidenceSource.objects.get(code=source), source_ref=ref, id_number=p.id_number,
                            event_date=day, pensioner=p)


def build_population(n: int = 90, seed: int = 7, today: dt.date = TODAY) -> list[Pensioner]:
    rnd = random.Random(seed)
    offices = [StreetOffice.objects.get(name=name) for name in OFFICES]
    start = rules.add_months(today, -15)
    people = []
    for i in range(n):
        people.append(PensionerFactory(
            street_office=offices[i % len(offices)],
            birth_date=dt.date(rnd.randint(1928, 1965), rnd.randint(1, 12), rnd.randint(1, 28)),
            monthly_amount=Decimal(rnd.choice(["2100.00", "3050.50", "4200.00"])),
            # Some enrolled inside the last year (outside the silent-rate denominator).
            enrolled_on=rules.add_months(today, -rnd.choice([30, 24, 14, 12, 11, 6])),
            valid_until=start + dt.timedelta(days=rnd.randint(-150, 200)),
            status="active",
        ))
    day = start
    evidence = 0
    while day <= today:
        transitions_run(today=day)
        for p in rnd.sample(people, k=n // 6):
            p.refresh_from_db()
            if p.status == "deceased":
                continue
            roll = rnd.random()
            if roll < 0.04:
                pensioner_mark_deceased(pensioner=p, death_date=day - dt.timedelta(days=rnd.randint(0, 70)),
                                        today=day, source="death_civil", evidence_ref=f"D{p.pk}")
                continue
            occurred = day - dt.timedelta(days=rnd.randint(0, 20))
            if roll < 0.7:
                evidence += 1
                source = rnd.choice(SOURCES)
                # The real pipeline: an evidence row, and the certification it causes.
                _evidence(p, source, occurred, f"E{evidence}")
                certification_record(pensioner=p, method=Method.BIG_DATA, occurred_on=occurred, today=day,
                                     source=source, evidence_ref=f"E{evidence}")
            elif roll < 0.78:
                # Matched evidence that moves nothing (older than the person's validity): no
                # certification row, but it still confirms them silently (DESIGN §5).
                evidence += 1
                _evidence(p, rnd.choice(SOURCES), occurred - dt.timedelta(days=200), f"E{evidence}")
            else:
                certification_record(pensioner=p, method=rnd.choice(OTHER_METHODS), occurred_on=occurred, today=day)
        day = rules.add_months(day, 1)
    transitions_run(today=today)
    # Some statements have been paid / recovered, so both states appear.
    for bp in BackPay.objects.order_by("pk")[::2]:
        BackPay.objects.filter(pk=bp.pk).update(paid_on=bp.restored_on + dt.timedelta(days=20))
    for op in Overpayment.objects.order_by("pk")[::3]:
        Overpayment.objects.filter(pk=op.pk).update(state=Overpayment.State.RECOVERED)
    return list(Pensioner.objects.all())
