"""REST API v1: token sign-in for staff/admins, and the pensioner's own status."""

from __future__ import annotations

import django_otp
from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from . import rules
from .accounts.tokens import api_token_issue
from .evidence import evidence_log, live_certifications
from .models import Certification, Pensioner, Role


class TokenThrottle(AnonRateThrottle):
    scope = "token"
    rate = "10/min"


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False, write_only=True,
        help_text="两步验证码（身份验证器上的 6 位数字或一个恢复码）；生产环境必填",
    )


class ObtainTokenView(APIView):
    """POST {"username","password"} → {"token"}, for staff and administrators only.

    The token is a knox token: hashed in the database, valid API_TOKEN_TTL_HOURS, and
    refused once the password changes. Where the second factor is required (production),
    the request also carries "otp", or the answer is 403 `otp_required`.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if user.role not in (Role.STAFF, Role.ADMIN) and not user.is_superuser:
            return Response({"code": "not_staff", "message": "仅工作人员和管理员可以获取令牌"},
                            status=status.HTTP_403_FORBIDDEN)
        otp = serializer.validated_data.get("otp", "")
        # No code: refuse without a try against the devices (a failed try throttles them).
        if settings.OTP_REQUIRED and (not otp or django_otp.match_token(user, otp) is None):
            return Response({"code": "otp_required", "message": "需要正确的两步验证码（otp）"},
                            status=status.HTTP_403_FORBIDDEN)
        return Response({"token": api_token_issue(user=user)})


class IsPensioner(permissions.BasePermission):
    message = "仅退休人员本人可以查看"

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return bool(request.user and request.user.is_authenticated
                    and request.user.role == Role.PENSIONER and request.user.pensioner_id)


class CertificationSerializer(serializers.ModelSerializer):
    helper = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = ["method", "occurred_on", "source", "evidence_ref", "helper", "helper_relationship"]

    def get_helper(self, obj: Certification) -> str | None:
        if obj.helper is None:
            return None
        return obj.helper.display_name


class EvidenceSerializer(serializers.Serializer):
    source = serializers.CharField()
    event_date = serializers.DateField()


class MeSerializer(serializers.ModelSerializer):
    masked_id = serializers.CharField()
    days_until_suspension = serializers.SerializerMethodField()
    certifications = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Pensioner
        fields = ["name", "masked_id", "status", "valid_until", "suspended_since", "days_until_suspension",
                  "certifications", "evidence"]

    def get_days_until_suspension(self, obj: Pensioner) -> int | None:
        if obj.status == rules.Status.DECEASED:
            return None
        return rules.days_until_suspension(obj.valid_until, rules.today_local())

    @extend_schema(responses=CertificationSerializer(many=True))
    def get_certifications(self, obj: Pensioner) -> list[dict]:
        return CertificationSerializer(live_certifications(obj, limit=50), many=True).data

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, obj: Pensioner) -> list[dict]:
        """Every matched qualifying record of the last 12 months (DESIGN §4), newest first."""
        return evidence_log(obj, today=rules.today_local())


class MeView(APIView):
    """The signed-in pensioner's status, valid-until date and evidence log."""

    permission_classes = [IsPensioner]

    @extend_schema(responses=MeSerializer)
    def get(self, request):  # type: ignore[no-untyped-def]
        pensioner = Pensioner.objects.get(pk=request.user.pensioner_id)
        return Response(MeSerializer(pensioner).data)
