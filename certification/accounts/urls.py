from django.urls import path

from . import views

app_name = "accounts"

# Under /account/second-factor/: the session middleware lets these through before verification.
urlpatterns = [
    path("", views.otp_verify, name="otp_verify"),
    path("enrol/", views.otp_enrol, name="otp_enrol"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
]
