"""Staff REST API under /api/v1/staff/ (DESIGN §4). Views validate input and call services.

Scope: every look-up goes through certification.selectors (pensioner_for_staff) or
the scoped look-ups in .selectors, so another office's pensioner is a 404 here too.
Errors are JSON {"code","message"} via certification.api_errors.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from certification import rules
from certification.models import Pensioner, Role, SpecialGroup, User
from certification.selectors import pensioner_for_staff

from . import selectors, services
from .models import CallOutcome, DeathReport, HomeVisit
from .selectors import NO_CONTACT, QueueFilters, QueueRow


class IsStaffOrAdmin(permissions.BasePermission):
    message = "仅街道工作人员和管理员可以使用"

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        u = request.user
        return bool(u and u.is_authenticated and (u.role in (Role.STAFF, Role.ADMIN) or u.is_superuser))


class StaffAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStaffOrAdmin]


def _pensioner(request: Request, key: str) -> Pensioner:
    # The route's converter already refused anything that is not a well-formed key.
    return pensioner_for_staff(request.user, key=key)


def _action_error(exc: services.ActionError) -> ValidationError:
    return ValidationError({"detail": [str(exc)]}, code="action_refused")


# ---- queue -----------------------------------------------------------------------

class QueueQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["warning", "suspended"], required=False)
    community = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    office = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    special_group = serializers.ChoiceField(choices=["none"] + [v for v in SpecialGroup.values if v],
                                            required=False)
    outcome = serializers.ChoiceField(choices=[NO_CONTACT, *CallOutcome.values], required=False)
    phone_invalid = serializers.BooleanField(required=False, default=False)
    face_exhausted = serializers.BooleanField(required=False, default=False)

    def filters(self) -> QueueFilters:
        d = self.validated_data
        group = d.get("special_group")
        return QueueFilters(status=d.get("status", ""), community=d.get("community"), office=d.get("office"),
                            special_group="" if group == "none" else group, outcome=d.get("outcome", ""),
                            phone_invalid=d["phone_invalid"], face_exhausted=d["face_exhausted"])


class QueueItemSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    name = serializers.CharField(source="pensioner.name")
    masked_id = serializers.CharField(source="pensioner.masked_id")
    masked_phone = serializers.CharField(source="pensioner.masked_phone")
    phone_invalid = serializers.BooleanField(source="pensioner.phone_invalid")
    status = serializers.CharField(source="pensioner.status")
    street_office = serializers.CharField(source="pensioner.street_office.name")
    community = serializers.CharField(source="pensioner.community.name", default=None, allow_null=True)
    special_group = serializers.CharField(source="pensioner.special_group")
    valid_until = serializers.DateField(source="pensioner.valid_until")
    age = serializers.IntegerField()
    days_left = serializers.IntegerField()
    reminders_sent = serializers.IntegerField()
    last_contact_at = serializers.DateTimeField(allow_null=True)
    last_outcome = serializers.CharField(allow_blank=True)

    def get_url(self, row: QueueRow) -> str:
        return reverse("api:staff-pensioner", args=[row.pensioner.public_key], request=self.context.get("request"))


class QueueView(generics.GenericAPIView):
    """The caller's own offices' warning + suspended people, soonest suspension first."""

    permission_classes = [permissions.IsAuthenticated, IsStaffOrAdmin]
    serializer_class = QueueItemSerializer

    @extend_schema(parameters=[QueueQuerySerializer], responses=QueueItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = rules.today_local()
        qs = selectors.queue(request.user, query.filters(), today=today)
        page = self.paginate_queryset(qs)
        rows = selectors.queue_rows(list(page if page is not None else qs[:50]), today=today)
        data = QueueItemSerializer(rows, many=True, context={"request": request}).data
        return self.get_paginated_response(data) if page is not None else Response(data)


# ---- one pensioner ---------------------------------------------------------------

class ContactSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    outcome = serializers.CharField()
    note = serializers.CharField()


class VisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    visit_on = serializers.DateField()
    outcome = serializers.CharField()
    assignee = serializers.CharField(source="assignee.username", default=None, allow_null=True)


class DeathReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    death_date = serializers.DateField()
    evidence_ref = serializers.CharField()
    state = serializers.CharField()
    reported_by = serializers.CharField(source="reported_by.username", default=None, allow_null=True)


class PensionerDetailSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    name = serializers.CharField()
    masked_phone = serializers.CharField()
    phone_invalid = serializers.BooleanField()
    status = serializers.CharField()
    valid_until = serializers.DateField()
    suspended_since = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField()
    street_office = serializers.CharField(source="street_office.name")
    community = serializers.CharField(source="community.name", default=None, allow_null=True)
    special_group = serializers.CharField()
    contacts = ContactSerializer(many=True)
    home_visits = VisitSerializer(many=True)
    death_reports = DeathReportSerializer(many=True)


class PensionerDetailView(StaffAPIView):
    """One pensioner of the caller's offices; 404 for anyone else's. Opening it is audit-logged."""

    @extend_schema(responses=PensionerDetailSerializer)
    def get(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        services.pensioner_record_open(pensioner=p, staff=request.user, via="api")
        p.days_left = rules.days_until_suspension(p.valid_until, rules.today_local())
        data = PensionerDetailSerializer({
            **{f: getattr(p, f) for f in ("id_number", "name", "masked_phone", "phone_invalid", "status",
                                          "valid_until", "suspended_since", "days_left", "street_office",
                                          "community", "special_group")},
            "contacts": p.contacts.all()[:20],
            "home_visits": HomeVisit.objects.filter(pensioner=p).select_related("assignee")[:10],
            "death_reports": DeathReport.objects.filter(pensioner=p).select_related("reported_by")[:5],
        }).data
        return Response(data)


# ---- actions -------------------------------------------------------------------

class CallOutcomeIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallOutcome.values)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class HomeVisitIn(serializers.Serializer):
    visit_on = serializers.DateField()
    assignee = serializers.CharField(max_length=150, help_text="the visiting staff member's username")
    request_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


class VisitOutcomeIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[HomeVisit.Outcome.CERTIFIED, HomeVisit.Outcome.NOT_HOME,
                                               HomeVisit.Outcome.UNABLE])
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class CounterIn(serializers.Serializer):
    occurred_on = serializers.DateField()
    id_checked = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class VideoIn(serializers.Serializer):
    occurred_on = serializers.DateField()
    relative_name = serializers.CharField(max_length=32)
    relationship = serializers.CharField(max_length=32)
    note = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class DeathReportIn(serializers.Serializer):
    death_date = serializers.DateField()
    evidence_ref = serializers.CharField(max_length=64)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


ActionOut = inline_serializer("StaffActionResult", {
    "ok": serializers.BooleanField(), "id": serializers.IntegerField(allow_null=True),
    "status": serializers.CharField(), "valid_until": serializers.DateField(),
})


def _done(p: Pensioner, obj_id: int | None, code: int = status.HTTP_201_CREATED) -> Response:
    p.refresh_from_db(fields=["status", "valid_until"])
    return Response({"ok": True, "id": obj_id, "status": p.status, "valid_until": p.valid_until}, status=code)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    s = serializer_class(data=request.data)
    s.is_valid(raise_exception=True)
    return s.validated_data


class CallOutcomeView(StaffAPIView):
    @extend_schema(request=CallOutcomeIn, responses={201: ActionOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        d = _valid(CallOutcomeIn, request)
        try:
            c = services.contact_record(pensioner=p, staff=request.user, outcome=d["outcome"], note=d["note"])
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(p, c.pk)


class HomeVisitView(StaffAPIView):
    @extend_schema(request=HomeVisitIn, responses={201: ActionOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        d = _valid(HomeVisitIn, request)
        assignee = User.objects.filter(username=d["assignee"]).first()
        if assignee is None:
            raise ValidationError({"assignee": ["没有这个工作人员。"]})
        req = selectors.visit_request_for_staff(request.user, d["request_id"]) if d.get("request_id") else None
        try:
            v = services.home_visit_schedule(pensioner=p, staff=request.user, visit_on=d["visit_on"],
                                             assignee=assignee, request=req)
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(p, v.pk)


class HomeVisitOutcomeView(StaffAPIView):
    @extend_schema(request=VisitOutcomeIn, responses={200: ActionOut},
                   parameters=[OpenApiParameter("visit_id", OpenApiTypes.INT, OpenApiParameter.PATH)])
    def post(self, request: Request, visit_id: int) -> Response:
        visit = selectors.visit_for_staff(request.user, visit_id)
        d = _valid(VisitOutcomeIn, request)
        try:
            services.home_visit_record_outcome(visit=visit, staff=request.user, outcome=d["outcome"], note=d["note"])
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(visit.pensioner, visit.pk, status.HTTP_200_OK)


class CounterCertificationView(StaffAPIView):
    @extend_schema(request=CounterIn, responses={201: ActionOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        d = _valid(CounterIn, request)
        try:
            r = services.counter_certify(pensioner=p, staff=request.user, occurred_on=d["occurred_on"],
                                         id_checked=d["id_checked"], note=d["note"])
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(p, r.certification.pk)


class VideoCertificationView(StaffAPIView):
    @extend_schema(request=VideoIn, responses={201: ActionOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        d = _valid(VideoIn, request)
        try:
            r = services.video_certify(pensioner=p, staff=request.user, occurred_on=d["occurred_on"],
                                       relative_name=d["relative_name"], relationship=d["relationship"],
                                       note=d["note"])
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(p, r.certification.pk)


class DeathReportView(StaffAPIView):
    @extend_schema(request=DeathReportIn, responses={201: ActionOut})
    def post(self, request: Request, key: str) -> Response:
        p = _pensioner(request, key)
        d = _valid(DeathReportIn, request)
        try:
            r = services.death_report(pensioner=p, staff=request.user, death_date=d["death_date"],
                                      evidence_ref=d["evidence_ref"], note=d["note"])
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(p, r.pk)


class DeathConfirmView(StaffAPIView):
    """Confirm another person's death report (four eyes): then the pensioner is marked deceased."""

    @extend_schema(request=None, responses={200: ActionOut},
                   parameters=[OpenApiParameter("report_id", OpenApiTypes.INT, OpenApiParameter.PATH)])
    def post(self, request: Request, report_id: int) -> Response:
        report = selectors.death_report_for_staff(request.user, report_id)
        try:
            services.death_confirm(report=report, staff=request.user)
        except services.ActionError as exc:
            raise _action_error(exc) from None
        return _done(report.pensioner, report.pk, status.HTTP_200_OK)
