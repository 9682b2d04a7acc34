"""Two-factor sign-in with time-based one-time passwords (RFC 6238, ONC 170.315(d)(13)).

After the password, a user whose role the organization chose enrolls an authenticator app
(a QR code drawn here as SVG: the secret never leaves the product) or types the current
code. TwoFactorMiddleware keeps every other page out of reach until then.
"""

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocm.accounts.audit import record_access
from cocm.accounts.forms import OneTimeCodeForm
from cocm.accounts.models import User


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def pending_device(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, made on first use, kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = pending_device(user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            accepted = device.verify_token(form.cleaned_data["code"])
            if accepted:
                if enrolling:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                otp_login(request, device)
                what = "two-factor enrolled" if enrolling else "two-factor code accepted"
                record_access(request, "sign_in", what, patient_id=None)
        if accepted:
            return redirect(next_url(request))
        form.add_error("code", "That code is not right or has expired; try the current one.")
    context = {"form": form, "enrolling": enrolling, "next": next_url(request)}
    if enrolling:
        context["otpauth_uri"] = device.config_url
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
        # Built by qrcode from our own data: an <svg> of paths, no script, no style.
        context["qr_svg"] = mark_safe(qr_svg(device.config_url))  # noqa: S308
    return render(request, "registration/two_factor.html", context)
