"""Case REST API under /api/v1/staff/ (DESIGN §4): the case list, appeals, death records, revocations.

Scope as on the pages: another office's case or person is a 404; the recorder of a
revocation who tries to confirm it gets a 403. Errors are JSON {"code","message"}.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from certification import rules as core_rules
from certification.models import Pensioner
from certification.selectors import pensioner_for_staff
from certification.staff.api import IsStaffOrAdmin

from . import selectors, services
from .forms import CHANNELS
from .models import Appeal, CaseKind


class CaseAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStaffOrAdmin]


def _refused(exc: services.CaseError) -> ValidationError:
    return ValidationError({"detail": [str(exc)]}, code="action_refused")


def _pensioner(request: Request, key: str) -> Pensioner:
    return pensioner_for_staff(request.user, key=key)


def pensioner_api_url(request: Request, p: Pensioner) -> str:
    return reverse("api:staff-pensioner", kwargs={"key": p.public_key}, request=request)


# ---- the list -------------------------------------------------------------------------

class CaseQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CaseKind.values, required=False)


class CaseItem(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    pensioner_url = serializers.SerializerMethodField()
    name = serializers.CharField(source="pensioner.name")
    masked_id = serializers.CharField(source="pensioner.masked_id")
    street_office = serializers.CharField(source="pensioner.street_office.name")
    opened_on = serializers.DateField()
    due_on = serializers.DateField()
    state = serializers.CharField()
    overdue = serializers.BooleanField()

    def get_pensioner_url(self, row: selectors.CaseRow) -> str:
        return pensioner_api_url(self.context["request"], row.pensioner)


class CaseListView(generics.GenericAPIView):
    """The caller's offices' open cases, oldest first; administrators see all offices."""

    permission_classes = [permissions.IsAuthenticated, IsStaffOrAdmin]
    serializer_class = CaseItem

    @extend_schema(parameters=[CaseQuery], responses=CaseItem(many=True))
    def get(self, request: Request) -> Response:
        query = CaseQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.cases_for(request.user, kind=query.validated_data.get("kind", ""))
        page = self.paginate_queryset(qs)
        rows = selectors.case_rows(page if page is not None else qs[:50], today=core_rules.today_local())
        data = CaseItem(rows, many=True, context={"request": request}).data
        return self.get_paginated_response(data) if page is not None else Response(data)


# ---- appeals ----------------------------------------------------------------------------

class AppealIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Appeal.Kind.values)
    text = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")


AppealOut = inline_serializer("AppealOut", {
    "id": serializers.IntegerField(), "state": serializers.CharField(), "due_on": serializers.DateField(),
    "outcome": serializers.CharField(),
})


def _appeal_out(a: Appeal, code: int = status.HTTP_200_OK) -> Response:
    return Response({"id": a.pk, "state": a.state, "due_on": a.due_on, "outcome": a.outcome}, status=code)


class StaffAppealView(CaseAPIView):
    """A staff member files an appeal on behalf of a caller (phone line, counter)."""

    @extend_schema(request=AppealIn, responses={201: AppealOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        s = AppealIn(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        try:
            a = services.appeal_file(pensioner=p, filed_by=request.user, via=Appeal.Via.STAFF, kind=d["kind"],
                                     text=d["text"], contact_phone=d["contact_phone"])
        except services.CaseError as exc:
            raise _refused(exc) from None
        return _appeal_out(a, status.HTTP_201_CREATED)


class AnswerIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Appeal.Outcome.values)
    note = serializers.CharField(max_length=300)
    channel = serializers.ChoiceField(choices=[c for c, _ in CHANNELS], required=False, allow_blank=True, default="")
    occurred_on = serializers.DateField(required=False, allow_null=True, default=None)


class AppealAnswerView(CaseAPIView):
    @extend_schema(request=AnswerIn, responses={200: AppealOut})
    def post(self, request: Request, appeal_id: int) -> Response:
        a = selectors.appeal_for_staff(request.user, appeal_id)
        s = AnswerIn(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        try:
            a = services.appeal_answer(appeal=a, staff=request.user, outcome=d["outcome"], note=d["note"],
                                       channel=d["channel"], occurred_on=d["occurred_on"])
        except services.CaseError as exc:
            raise _refused(exc) from None
        return _appeal_out(a)


# ---- death records to verify / in conflict ------------------------------------------------

class NoteIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


StateOut = inline_serializer("CaseStateOut", {"id": serializers.IntegerField(), "state": serializers.CharField()})


class DeathRecordDecisionView(CaseAPIView):
    decision = "confirm"

    @extend_schema(request=NoteIn, responses={200: StateOut})
    def post(self, request: Request, record_id: int) -> Response:
        r = selectors.death_record_for_staff(request.user, record_id)
        s = NoteIn(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            if self.decision == "confirm":
                r = services.death_record_confirm(record=r, staff=request.user, note=s.validated_data["note"])
            else:
                r = services.death_record_reject(record=r, staff=request.user, reason=s.validated_data["note"])
        except services.CaseError as exc:
            raise _refused(exc) from None
        return Response({"id": r.pk, "state": r.state})


# ---- revocations (two people) --------------------------------------------------------------

class RevocationIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


RevocationOut = inline_serializer("RevocationOut", {
    "id": serializers.IntegerField(), "state": serializers.CharField(),
    "result": serializers.DictField(required=False),
})


class RevocationCreateView(CaseAPIView):
    """Record a revocation awaiting a second person."""

    @extend_schema(request=RevocationIn, responses={201: RevocationOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        s = RevocationIn(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            rev = services.revocation_record(pensioner=p, staff=request.user, reason=s.validated_data["reason"])
        except services.CaseError as exc:
            raise _refused(exc) from None
        return Response({"id": rev.pk, "state": rev.state}, status=status.HTTP_201_CREATED)


class RevocationDecisionView(CaseAPIView):
    """Another staff member of the office, or an administrator, carries it out (the recorder: 403)."""

    decision = "confirm"

    @extend_schema(request=NoteIn, responses={200: RevocationOut})
    def post(self, request: Request, revocation_id: int) -> Response:
        rev = selectors.revocation_for_staff(request.user, revocation_id)
        s = NoteIn(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            if self.decision == "confirm":
                rev = services.revocation_confirm(revocation=rev, user=request.user, note=s.validated_data["note"])
            else:
                rev = services.revocation_refuse(revocation=rev, user=request.user, note=s.validated_data["note"])
        except services.CaseError as exc:
            raise _refused(exc) from None
        return Response({"id": rev.pk, "state": rev.state, "result": rev.result})
