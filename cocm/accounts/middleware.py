import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from cocm.accounts.audit import patient_for_url, record_access

Handler = Callable[[HttpRequest], HttpResponse]


class OrganizationTimezoneMiddleware:
    """Show dates and times in the signed-in user's organization time zone."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        organization = getattr(user, "organization", None) if user else None
        if organization is not None:
            timezone.activate(organization.tz)
        else:
            timezone.deactivate()
        return self.get_response(request)


def url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/fhir/")) or request.path_info == "/fhir"


def is_fhir(request: HttpRequest) -> bool:
    return request.path_info.startswith("/fhir/") or request.path_info == "/fhir"


def is_htmx(request: HttpRequest) -> bool:
    # Read the header: these middlewares run before django-htmx sets request.htmx.
    return request.headers.get("HX-Request") == "true"


def htmx_redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response


class RequestSizeLimitMiddleware:
    """Refuse an oversized request body with a 413 that says so, before anything reads it.

    Form and JSON bodies may reach DATA_UPLOAD_MAX_MEMORY_SIZE; multipart bodies (file
    uploads) COCM_MAX_UPLOAD_BYTES. Bodies without a Content-Length meet Django's own limit
    when read, which `cocm.accounts.views.bad_request` also answers with a 413.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = (
            settings.COCM_MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if is_fhir(request):
            limit = settings.COCM_MAX_FHIR_BYTES
        if limit is not None and length > limit:
            return too_large(request, limit)
        return self.get_response(request)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    message = f"The request is too large: the limit is {limit // 1024} KiB."
    if is_fhir(request):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "too-costly",
                    "diagnostics": message,
                    "expression": ["Bundle"],
                }
            ],
        }
        return JsonResponse(outcome, status=413, content_type="application/fhir+json")
    if is_api(request):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "413.html", {"message": message}, status=413)


class InactivityTimeoutMiddleware:
    """Sign a user out after COCM_SESSION_IDLE_SECONDS without a request of their own.

    The session cookie's age restarts on every request, and the notification badge polls
    every 15 seconds, so the cookie alone would never expire on an open page. Polls do not
    count as activity here (ONC 170.315(d)(5) automatic access time-out).
    """

    POLLS = frozenset({"notification_badge"})
    KEY = "last_activity"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not is_api(request):
            now = time.time()
            last = request.session.get(self.KEY, now)
            if now - last > settings.COCM_SESSION_IDLE_SECONDS:
                request.signed_out_idle = True  # type: ignore[attr-defined]  # for the audit
                logout(request)
                if is_htmx(request):
                    return htmx_redirect(reverse("login"))
                return redirect_to_login(request.get_full_path())
            if url_name(request) not in self.POLLS:
                request.session[self.KEY] = now
        return self.get_response(request)


class AccessAuditMiddleware:
    """A safety net for the audit log: a successful request to a URL about one record
    (`/episodes/<episode_id>/…`, in pages, API and every later interface) that its view did
    not record itself is recorded here, with the patient the record belongs to."""

    SKIP = frozenset({"self_report", "notification_badge"})

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 or getattr(request, "audited", False):
            return response
        user = getattr(request, "auth", None) or request.user
        if not getattr(user, "is_authenticated", False):
            return response
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return response
        if match.url_name in self.SKIP or not any(k.endswith("_id") for k in match.kwargs):
            return response
        patient_id, object_id = patient_for_url(match.kwargs)
        safe = request.method in {"GET", "HEAD", "OPTIONS"}
        record_access(
            request,
            "view" if safe else "update",
            (match.url_name or request.path_info)[:100],
            patient_id=patient_id,
            object_id=object_id,
            channel="api" if is_api(request) else "web",
            user=user,
        )
        return response


def must_use_two_factor(user: object) -> bool:
    organization = getattr(user, "organization", None)
    return bool(organization and organization.requires_two_factor(user.roles))  # type: ignore[attr-defined]


class TwoFactorMiddleware:
    """Until a user whose role the organization chose has entered a one-time code in this
    session, every page except sign-in, the code page and sign-out leads to the code page."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not is_api(request)
            and not request.path_info.startswith(settings.STATIC_URL)
            and not user.is_verified()  # type: ignore[attr-defined]
            and must_use_two_factor(user)
            and url_name(request) not in settings.COCM_TWO_FACTOR_EXEMPT_URLS
        ):
            if is_htmx(request):
                return htmx_redirect(reverse("two_factor"))
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('two_factor')}?{query}")
        return self.get_response(request)
