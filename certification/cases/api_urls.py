from django.urls import path

from certification import converters  # noqa: F401 - registers <pkey:…>

from . import api

# Included into config.urls api_v1 (namespace "api"), under /api/v1/.
urlpatterns = [
    path("staff/cases/", api.CaseListView.as_view(), name="staff-cases"),
    path("staff/pensioners/<pkey:key>/appeals/", api.StaffAppealView.as_view(), name="staff-appeal-file"),
    path("staff/appeals/<int:appeal_id>/answer/", api.AppealAnswerView.as_view(), name="staff-appeal-answer"),
    path("staff/death-records/<int:record_id>/confirm/", api.DeathRecordDecisionView.as_view(decision="confirm"),
         name="staff-death-record-confirm"),
    path("staff/death-records/<int:record_id>/reject/", api.DeathRecordDecisionView.as_view(decision="reject"),
         name="staff-death-record-reject"),
    path("staff/pensioners/<pkey:key>/death-revocations/", api.RevocationCreateView.as_view(),
         name="staff-revocation-create"),
    path("staff/death-revocations/<int:revocation_id>/confirm/",
         api.RevocationDecisionView.as_view(decision="confirm"), name="staff-revocation-confirm"),
    path("staff/death-revocations/<int:revocation_id>/refuse/",
         api.RevocationDecisionView.as_view(decision="refuse"), name="staff-revocation-refuse"),
]
