from django.urls import path

from certification import converters  # noqa: F401 - registers <pkey:…>

from . import api

# Included into config.urls api_v1 (namespace "api"), under /api/v1/.
urlpatterns = [
    path("staff/queue/", api.QueueView.as_view(), name="staff-queue"),
    path("staff/pensioners/<pkey:key>/", api.PensionerDetailView.as_view(), name="staff-pensioner"),
    path("staff/pensioners/<pkey:key>/call-outcomes/", api.CallOutcomeView.as_view(),
         name="staff-call-outcome"),
    path("staff/pensioners/<pkey:key>/home-visits/", api.HomeVisitView.as_view(), name="staff-home-visit"),
    path("staff/pensioners/<pkey:key>/counter-certifications/", api.CounterCertificationView.as_view(),
         name="staff-counter-certification"),
    path("staff/pensioners/<pkey:key>/video-certifications/", api.VideoCertificationView.as_view(),
         name="staff-video-certification"),
    path("staff/pensioners/<pkey:key>/death-reports/", api.DeathReportView.as_view(),
         name="staff-death-report"),
    path("staff/home-visits/<int:visit_id>/outcome/", api.HomeVisitOutcomeView.as_view(),
         name="staff-home-visit-outcome"),
    path("staff/death-reports/<int:report_id>/confirm/", api.DeathConfirmView.as_view(),
         name="staff-death-confirm"),
]
