from django.contrib import admin

from cocm.accounts.admin import OrganizationScoped
from cocm.billing.models import BillingSettings, FeeSchedule, PayerRule


class OwnOrganization(OrganizationScoped):
    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.organization = request.user.organization
        super().save_model(request, obj, form, change)


@admin.register(BillingSettings)
class BillingSettingsAdmin(OwnOrganization):
    list_display = ["organization", "date_of_service", "restart_on_reenrollment"]


@admin.register(PayerRule)
class PayerRuleAdmin(OwnOrganization):
    list_display = ["organization", "payer_kind", "max_99494_units", "count_consultant_minutes"]


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = ["year", "payer_kind", "code", "amount", "source"]
    list_filter = ["year", "payer_kind"]
