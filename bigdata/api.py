"""Partner feed upload over REST: a token tied to one source (DESIGN §4, issue 3)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import (
    authentication,
    exceptions,
    generics,
    parsers,
    permissions,
    serializers,
    status,
)
from rest_framework.request import Request
from rest_framework.response import Response

from certification.accounts.tokens import ExpiringTokenAuthentication

from .models import EvidenceBatch, PartnerToken
from .services import feed_upload, partner_token_authenticate


class PartnerPrincipal:
    """request.user for a data partner: not a portal account, only a token for one source."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_portal_admin = False
    is_staff_member = False

    def __init__(self, token: PartnerToken) -> None:
        self.token = token
        self.pk = self.id = f"partner-{token.pk}"

    def __str__(self) -> str:
        return str(self.token)


class PartnerTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token pf_…`. Other keys fall through to the staff token scheme."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = partner_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效或已停用")
        return PartnerPrincipal(token), token

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        auth = authentication.get_authorization_header(request).split()
        if len(auth) != 2 or auth[0].lower() != b"token" or not auth[1].startswith(b"pf_"):
            return None
        return self.authenticate_credentials(auth[1].decode())


class IsPartner(permissions.BasePermission):
    message = "需要数据合作方令牌"

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, PartnerToken)


class IsPartnerOrPortalAdmin(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, PartnerToken) or bool(getattr(request.user, "is_portal_admin", False))


class BatchSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.code", read_only=True)
    url = serializers.SerializerMethodField()
    errors_file = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceBatch
        fields = ["id", "url", "source", "original_name", "status", "rows", "accepted", "duplicates", "rejected",
                  "unmatched", "errors_file", "failure", "created_at", "finished_at"]
        read_only_fields = fields

    def get_url(self, obj: EvidenceBatch) -> str:
        from django.urls import reverse

        return self.context["request"].build_absolute_uri(reverse("api:feed-batch", args=[obj.pk]))

    def get_errors_file(self, obj: EvidenceBatch) -> str | None:
        from django.urls import reverse

        if not obj.errors_file:
            return None
        return self.context["request"].build_absolute_uri(reverse("api:feed-batch-errors", args=[obj.pk]))


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def _batches_for(request: Request):  # type: ignore[no-untyped-def]
    qs = EvidenceBatch.objects.select_related("source").order_by("-created_at", "-id")
    if isinstance(request.auth, PartnerToken):
        return qs.filter(source_id=request.auth.source_id)
    return qs


# Staff tokens are the portal's expiring knox tokens (issue 13 item 10).
AUTH = [PartnerTokenAuthentication, ExpiringTokenAuthentication, authentication.SessionAuthentication]


class BatchListCreate(generics.ListCreateAPIView):
    """GET: the caller's batches (a partner sees its own source's). POST: upload one feed file."""

    authentication_classes = AUTH
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    serializer_class = BatchSerializer

    def get_permissions(self) -> list[permissions.BasePermission]:
        return [IsPartner()] if self.request.method == "POST" else [IsPartnerOrPortalAdmin()]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _batches_for(self.request)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={202: BatchSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        token: PartnerToken = request.auth
        if not token.source.enabled:
            raise exceptions.PermissionDenied("数据来源已停用")
        batch = feed_upload(source=token.source, upload=upload.validated_data["file"], partner_token=token)
        batch.refresh_from_db()
        return Response(BatchSerializer(batch, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class BatchDetail(generics.RetrieveAPIView):
    """One batch: status, bucket counts and a link to its errors file."""

    authentication_classes = AUTH
    permission_classes = [IsPartnerOrPortalAdmin]
    serializer_class = BatchSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _batches_for(self.request)


class BatchErrors(generics.GenericAPIView):
    """The errors file (CSV: line, reason, raw) of one batch."""

    authentication_classes = AUTH
    permission_classes = [IsPartnerOrPortalAdmin]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _batches_for(self.request)

    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request: Request, pk: int) -> FileResponse:
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        if not batch.errors_file:
            raise Http404("该批次没有错误记录")
        return FileResponse(batch.errors_file.open("rb"), as_attachment=True,
                            filename=f"batch-{batch.pk}-errors.csv", content_type="text/csv; charset=utf-8")


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    """Names the partner scheme apart from staff tokens in the OpenAPI schema (drf-spectacular W001)."""

    target_class = "bigdata.api.PartnerTokenAuthentication"
    name = "partnerTokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "数据合作方令牌：`Token pf_…`，每个令牌只对应一个数据来源"}
