from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class OrganizationTimezoneMiddleware:
    """Show dates and times in the signed-in user's organization time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        organization = getattr(user, "organization", None) if user else None
        if organization is not None:
            timezone.activate(organization.tz)
        else:
            timezone.deactivate()
        return self.get_response(request)
