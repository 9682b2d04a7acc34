from django.contrib import admin

from cocm.accounts.admin import OwnOrganization
from cocm.billing.models import BillingSettings, FeeSchedule, PayerRule


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
