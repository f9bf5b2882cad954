from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "certification.accounts"
    label = "accounts"
    verbose_name = "登录与安全"
