from django.urls import path

from certification import converters  # noqa: F401 - registers <pkey:…>

from . import views

app_name = "cases"

# Mounted at the site root: staff pages under staff/cases/ and staff/pensioners/<key>/,
# 我有异议 for pensioners at me/appeal/ and for relatives at relative/appeal/.
urlpatterns = [
    path("staff/cases/", views.case_list, name="list"),
    path("staff/cases/export.xlsx", views.case_export, name="export"),
    path("staff/cases/appeals/<int:pk>/", views.appeal_detail, name="appeal"),
    path("staff/cases/death-records/<int:pk>/", views.death_record_detail, name="death_record"),
    path("staff/cases/revocations/<int:pk>/", views.revocation_detail, name="revocation"),
    path("staff/pensioners/<pkey:key>/appeals/", views.staff_appeal_file, name="staff_appeal_file"),
    path("staff/pensioners/<pkey:key>/death-revocations/", views.revocation_create, name="revocation_create"),
    path("me/appeal/", views.pensioner_appeal, name="pensioner_appeal"),
    path("relative/appeal/", views.relative_appeal, name="relative_appeal"),
]
