from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cocm.accounts"
    label = "accounts"
    verbose_name = "Organizations, clinics and users"
