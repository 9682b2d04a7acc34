from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from cocm.accounts.models import (
    ApiToken,
    AuditEvent,
    BreakGlassGrant,
    Clinic,
    Membership,
    Organization,
    User,
)


class OrganizationScoped(admin.ModelAdmin):
    """Organization admins see and edit only their own organization's rows."""

    organization_path = "organization"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_path: request.user.organization_id})


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "clinic" and not request.user.is_superuser:
            kwargs["queryset"] = Clinic.objects.filter(organization=request.user.organization_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(OrganizationScoped, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "credentials", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Organization", {"fields": ("organization", "credentials")}),
    )

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.organization = request.user.organization
            obj.is_superuser = False
        super().save_model(request, obj, form, change)


@admin.register(Clinic)
class ClinicAdmin(OrganizationScoped):
    list_display = ["name", "setting", "phone"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.organization = request.user.organization
        super().save_model(request, obj, form, change)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScoped):
    organization_path = "id"
    list_display = ["name", "time_zone"]


@admin.register(ApiToken)
class ApiTokenAdmin(OrganizationScoped):
    organization_path = "user__organization"
    list_display = [
        "prefix",
        "user",
        "name",
        "scope",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]


class ReadOnly(OrganizationScoped):
    """The audit log and emergency-access grants are evidence: shown, never edited here."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly):
    organization_path = "user__organization"
    list_display = ["sequence", "occurred_at", "user", "patient_id", "action", "what", "channel"]
    list_filter = ["action", "channel"]


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnly):
    organization_path = "patient__organization"
    list_display = ["granted_at", "user", "patient_id", "reason", "expires_at"]
