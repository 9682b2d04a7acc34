from django.contrib import admin

from cocm.toolkit.models import StaffContact


@admin.register(StaffContact)
class StaffContactAdmin(admin.ModelAdmin):
    list_display = ["user", "phone"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(user__organization=request.user.organization)
