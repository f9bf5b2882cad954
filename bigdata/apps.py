from django.apps import AppConfig


class BigdataConfig(AppConfig):
    name = "bigdata"
    verbose_name = "大数据比对"
