"""The tracker import page: upload, map columns, dry run, then import all rows or none."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic
from cocm.accounts.permissions import requires
from cocm.domain.interop import REQUIRED_TRACKER_COLUMNS, TRACKER_COLUMNS
from cocm.errors import InvalidRequest
from cocm.interop.models import TrackerUpload
from cocm.interop.tracker import (
    TrackerImportError,
    check_rows,
    import_upload,
    read_sheet,
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


def _mapping(request: HttpRequest, headers: list[str], suggested: dict[str, str]) -> dict[str, str]:
    if request.method != "POST":
        return suggested
    chosen = {name: request.POST.get(f"map_{name}", "") for name in TRACKER_COLUMNS}
    return {name: header for name, header in chosen.items() if header in headers}


def mapping_fields(mapping: dict[str, str]) -> list[dict[str, object]]:
    """Each tracker column with the spreadsheet header chosen for it."""
    return [
        {
            "name": name,
            "label": spellings[0],
            "required": name in REQUIRED_TRACKER_COLUMNS,
            "chosen": mapping.get(name, ""),
        }
        for name, spellings in TRACKER_COLUMNS.items()
    ]


@requires("import_records")
def tracker_review(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(
        TrackerUpload, pk=upload_id, uploaded_by=request.user, imported_at__isnull=True
    )
    sheet = read_sheet(bytes(upload.content), upload.filename)
    mapping = _mapping(request, sheet.headers, sheet.suggested_mapping())
    as_of = upload.organization.today()
    rows, errors = [], []
    checked = request.method == "POST"
    if checked:
        rows, errors = check_rows(sheet, mapping, upload.clinic, as_of=as_of)
    if checked and request.POST.get("action") == "import" and not errors:
        try:
            with transaction.atomic():
                summary = import_upload(upload, rows, by=request.user, as_of=as_of)
                record_access(
                    request,
                    "create",
                    f"tracker import: {len(rows)} rows, {summary.patients_created} new patients",
                    patient_id=None,
                )
        except TrackerImportError as error:
            errors = [error.error]
        else:
            messages.success(request, summary.message(len(rows)))
            return redirect("tracker_upload")
    context = {
        "upload": upload,
        "headers": sheet.headers,
        "fields": mapping_fields(mapping),
        "row_count": len(sheet.rows),
        "checked": checked,
        "errors": errors,
        "ready": checked and not errors,
        "ready_count": len(rows),
    }
    return render(request, "interop/tracker_review.html", context)
