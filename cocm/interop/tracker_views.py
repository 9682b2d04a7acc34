"""The tracker import page: upload, map columns, dry run, then import all rows or none."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic
from cocm.accounts.permissions import requires
from cocm.errors import InvalidRequest
from cocm.interop.models import TrackerUpload
from cocm.interop.tracker import (
    TrackerImportError,
    TrackerReview,
    import_upload,
    review_upload,
    store_upload,
)
from cocm.pages import form_error


class UploadForm(forms.Form):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none())
    file = forms.FileField(help_text="CSV or XLSX, one patient per row, headers in row 1")

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["clinic"].queryset = Clinic.objects.filter(  # type: ignore[attr-defined]
            pk__in=user.clinic_ids  # type: ignore[attr-defined]
        )


@requires("import_records")
def tracker_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            saved = store_upload(
                request.user, form.cleaned_data["clinic"], upload.name, upload.read()
            )
        except InvalidRequest as error:
            form_error(form, error)
        else:
            return redirect("tracker_review", upload_id=saved.pk)
    return render(request, "interop/tracker_upload.html", {"form": form})


def _import(request: HttpRequest, review: TrackerReview) -> HttpResponse | None:
    """Import the checked rows and audit it in one transaction; a refused row goes back to
    the review's problems (and the page shows them)."""
    try:
        with transaction.atomic():
            summary = import_upload(review.upload, review.rows, by=request.user, as_of=review.as_of)
            record_access(request, "create", summary.audit_text(len(review.rows)), patient_id=None)
    except TrackerImportError as error:
        review.errors = error.errors
        return None
    messages.success(request, summary.message(len(review.rows)))
    return redirect("tracker_upload")


@requires("import_records")
def tracker_review(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(
        TrackerUpload, pk=upload_id, uploaded_by=request.user, imported_at__isnull=True
    )
    review = review_upload(upload, request.POST if request.method == "POST" else None)
    importing = review.ready and request.POST.get("action") == "import"
    if importing and (done := _import(request, review)) is not None:
        return done
    return render(request, "interop/tracker_review.html", review.context())
