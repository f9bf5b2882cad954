"""Dashboard figures over the REST API (administrators only), read from the snapshot."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, pagination, permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Figure, Level
from .panels import build_tables
from .selectors import latest_snapshot, scope_get


class IsPortalAdmin(permissions.BasePermission):
    message = "仅管理员可以查看统计数据"

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return bool(request.user and request.user.is_authenticated and request.user.is_portal_admin)


class FigureSerializer(serializers.ModelSerializer):
    day = serializers.DateField(source="snapshot.day")

    class Meta:
        model = Figure
        fields = ["day", "level", "scope_id", "metric", "key", "value"]


class FigureQuery(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices, default=Level.CITY)
    scope_id = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1)
    metric = serializers.CharField(required=False, max_length=16)


class FigurePagination(pagination.PageNumberPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


class FigureList(generics.ListAPIView):
    """The latest snapshot's raw figures for one scope (paginated)."""

    serializer_class = FigureSerializer
    pagination_class = FigurePagination
    permission_classes = [IsPortalAdmin]

    @extend_schema(parameters=[FigureQuery])
    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        q = FigureQuery(data=self.request.query_params)
        q.is_valid(raise_exception=True)
        snap = latest_snapshot()
        qs = Figure.objects.select_related("snapshot").filter(
            snapshot=snap, level=q.validated_data["level"], scope_id=q.validated_data["scope_id"]
        ).order_by("metric", "key")
        if q.validated_data.get("metric"):
            qs = qs.filter(metric=q.validated_data["metric"])
        return qs


class TableSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))


class PanelsSerializer(serializers.Serializer):
    day = serializers.DateField(allow_null=True)
    level = serializers.CharField()
    scope_id = serializers.IntegerField()
    name = serializers.CharField()
    tables = TableSerializer(many=True)


class PanelsView(APIView):
    """Every dashboard table of one scope, as the pages show them."""

    permission_classes = [IsPortalAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("level", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(Level.values)),
                    OpenApiParameter("scope_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=PanelsSerializer,
    )
    def get(self, request, level: str, scope_id: int):  # type: ignore[no-untyped-def]
        try:
            scope = scope_get(level, scope_id)
        except Http404 as exc:
            raise NotFound(str(exc)) from None
        snap = latest_snapshot()
        tables = [
            {"slug": t.slug, "title": t.title, "note": t.note, "columns": t.columns,
             "rows": [[v if isinstance(v, int | str) else str(v) for v in r] for r in t.rows]}
            for t in build_tables(snap, scope, with_charts=False)
        ]
        return Response({"day": snap.day if snap else None, "level": scope.level, "scope_id": scope.id,
                         "name": scope.name, "tables": tables})
