from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from certification.api_errors import api_not_found
from certification.dashboards.health import healthz

api_v1 = [
    path("", include("certification.api_urls")),
    # Each app adds its API routes here, under /api/v1/.
    path("", include("certification.staff.api_urls")),  # issue 5: staff queue and actions
    path("", include("certification.cases.api_urls")),  # issue 10: cases, appeals, death revocations
    path("", include("certification.dashboards.api_urls")),
    path("faces/", include("certification.faces.api_urls")),  # issue 6: face certification
    path("feeds/", include("bigdata.api_urls")),  # issue 3: partner feed upload
]

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("account/second-factor/", include("certification.accounts.urls")),  # issue 13: TOTP
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    # Swagger UI (pinned by drf-spectacular-sidecar) injects one fixed <style> element: allowed by its hash.
    path("api/docs/", csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    re_path(r"^api/", api_not_found),  # unknown API paths: JSON 404, not the HTML page
    path("healthz", healthz, name="healthz"),
    path("dashboards/", include("certification.dashboards.urls")),
    path("bigdata/", include("bigdata.urls")),  # issue 3: feed batches, fraud alerts, overpayments
    path("face/", include("certification.faces.urls")),  # issue 6: 给我认证 / 给他人认证
    path("", include("certification.cases.urls")),  # issue 10: staff/cases/…, me/appeal/, relative/appeal/
    path("", include("certification.staff.urls")),  # issue 5: staff/… and home-visit/request/
    path("", include("certification.urls")),
]

# MEDIA_ROOT is never served, not even under debug: it holds feed files, errors files and
# face images, each reached only through a view that checks who is asking (issue 13 item 11).
