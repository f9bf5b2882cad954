"""factory-boy factories for the domain core. Office data comes from migration 0002."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from certification import idnumber
from certification.models import Pensioner, Role, StreetOffice, User


def office(name: str = "八大关街道") -> StreetOffice:
    return StreetOffice.objects.get(name=name)


class PensionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pensioner

    id_number = factory.Sequence(lambda n: idnumber.make("370202", dt.date(1950, 1, 1) + dt.timedelta(days=n // 1000), n))
    name = factory.Sequence(lambda n: f"测试{n}")
    birth_date = factory.LazyAttribute(lambda o: idnumber.parse(o.id_number).birth_date)
    sex = factory.LazyAttribute(lambda o: idnumber.parse(o.id_number).sex)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    street_office = factory.LazyFunction(office)
    monthly_amount = Decimal("3000.00")
    valid_until = dt.date(2027, 6, 1)
    status = "active"
    enrolled_on = dt.date(2020, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", "Correct-Horse-42")

    @factory.post_generation
    def offices(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            self.street_offices.set(extracted)
        if create:
            self.save()
