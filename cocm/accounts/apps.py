from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cocm.accounts"
    label = "accounts"
    verbose_name = "Organizations, clinics and users"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from cocm.accounts import audit

        signals.user_logged_in.connect(audit.audit_sign_in, dispatch_uid="audit_sign_in")
        signals.user_logged_out.connect(audit.audit_sign_out, dispatch_uid="audit_sign_out")
        signals.user_login_failed.connect(
            audit.audit_failed_sign_in, dispatch_uid="audit_failed_sign_in"
        )
