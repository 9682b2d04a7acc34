from django.contrib import admin

from cocm.accounts.admin import OwnOrganization
from cocm.care.models import CareSettings


@admin.register(CareSettings)
class CareSettingsAdmin(OwnOrganization):
    list_display = [
        "organization",
        "not_improved_week",
        "no_contact_days",
        "no_measure_days",
        "recommendation_wait_days",
        "early_follow_up_days",
    ]
