from django.apps import AppConfig


class FacesConfig(AppConfig):
    name = "certification.faces"
    label = "faces"
    verbose_name = "人脸认证"
    default_auto_field = "django.db.models.BigAutoField"
