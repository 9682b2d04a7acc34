from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from cocm.accounts.models import (
    ApiToken,
    AuditEvent,
    BreakGlassGrant,
    Clinic,
    Membership,
    Organization,
    Role,
    User,
)

# What an organization admin edits in this admin; roles decide it, never a permission ticked
# by hand (the permission table of the product is cocm/accounts/permissions.py).
ORG_ADMIN_MODELS = (
    Q(
        content_type__app_label="accounts",
        content_type__model__in=["user", "clinic", "membership", "organization"],
    )
    | Q(content_type__app_label="care", content_type__model="caresettings")
    | Q(
        content_type__app_label="billing",
        content_type__model__in=["billingsettings", "payerrule", "feeschedule"],
    )
)


def org_admin_permissions() -> list[Permission]:
    return list(Permission.objects.filter(ORG_ADMIN_MODELS))


def sync_admin_access(user: User) -> None:
    """An organization admin may use this admin on the models above; nobody else may."""
    is_org_admin = user.memberships.filter(role=Role.ORG_ADMIN).exists()
    if user.is_superuser:
        return
    if user.is_staff != is_org_admin:
        user.is_staff = is_org_admin
        user.save(update_fields=["is_staff"])
    user.user_permissions.set(org_admin_permissions() if is_org_admin else [])


class OrganizationScoped(admin.ModelAdmin):
    """Organization admins see and edit only their own organization's rows."""

    organization_path = "organization"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_path: request.user.organization_id})


class OwnOrganization(OrganizationScoped):
    """An organization's settings row: an organization admin saves it for their own."""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.organization = request.user.organization
        super().save_model(request, obj, form, change)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "clinic" and not request.user.is_superuser:
            kwargs["queryset"] = Clinic.objects.filter(organization=request.user.organization_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(OrganizationScoped, DjangoUserAdmin):
    """Users of the organization. Access follows the roles given in the memberships below:
    no superuser box an organization admin could not apply, no raw permission strings."""

    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "credentials", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Organization", {"fields": ("organization", "credentials")}),
    )
    # What an organization admin can really change (organization and admin access follow
    # from the admin's own organization and the roles).
    org_admin_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "credentials")}),
        ("Access", {"fields": ("is_active",)}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.org_admin_fieldsets

    def get_list_filter(self, request):  # type: ignore[no-untyped-def]
        if request.user.is_superuser:
            return super().get_list_filter(request)
        return ["is_active", "memberships__role"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["last_login", "date_joined"] if not request.user.is_superuser else []

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not request.user.is_superuser:
            obj.organization = request.user.organization
            obj.is_superuser = False
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        sync_admin_access(form.instance)


# The product's roles are memberships; Django's groups would be a second, unused system.
admin.site.unregister(Group)


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
