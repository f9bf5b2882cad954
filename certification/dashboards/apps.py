from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "certification.dashboards"
    label = "dashboards"
    verbose_name = "管理驾驶舱"
