from django.urls import path

from . import views

app_name = "faces"

urlpatterns = [
    path("", views.self_start, name="self_start"),
    path("proxy/", views.proxy_start, name="proxy_start"),
    path("capture/<int:consent_id>/", views.capture, name="capture"),
    path("result/<int:attempt_id>/", views.result, name="result"),
    path("counter/", views.counter_enrol, name="counter_enrol"),
    path("bulk/", views.bulk_enrol, name="bulk_enrol"),
    path("bulk/<int:run_id>/", views.bulk_detail, name="bulk_detail"),
]
