from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "certification.cases"
    label = "cases"
    verbose_name = "街道案件：异议、死亡核实与撤销"
    default_auto_field = "django.db.models.BigAutoField"
