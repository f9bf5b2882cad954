from django.urls import path

from certification import converters  # noqa: F401 - registers <pkey:…>

from . import views

app_name = "staff"

# Mounted at the site root: staff pages under staff/, the request form for
# pensioners and relatives at home-visit/request/.

urlpatterns = [
    path("staff/queue/", views.queue, name="queue"),
    path("staff/queue/export.xlsx", views.queue_export, name="queue_export"),
    path("staff/pensioners/<pkey:key>/", views.pensioner_detail, name="pensioner"),
    path("staff/pensioners/<pkey:key>/call-outcome/", views.call_outcome, name="call_outcome"),
    path("staff/pensioners/<pkey:key>/sms/", views.sms_now, name="sms_now"),
    path("staff/pensioners/<pkey:key>/home-visits/", views.home_visit_schedule, name="home_visit_schedule"),
    path("staff/pensioners/<pkey:key>/counter-certification/", views.counter_certification, name="counter_certification"),
    path("staff/pensioners/<pkey:key>/video-certification/", views.video_certification, name="video_certification"),
    path("staff/pensioners/<pkey:key>/death-reports/", views.death_report, name="death_report"),
    path("staff/home-visits/<int:visit_pk>/outcome/", views.home_visit_outcome, name="home_visit_outcome"),
    path("staff/death-reports/<int:report_pk>/decide/", views.death_decide, name="death_decide"),
    path("home-visit/request/", views.home_visit_request, name="home_visit_request"),
]
