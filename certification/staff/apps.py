from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "certification.staff"
    label = "staff"
    verbose_name = "街道提醒名单与上门服务"
    default_auto_field = "django.db.models.BigAutoField"
