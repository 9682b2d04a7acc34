from django.db import models
from django.utils import timezone

from cocm.accounts.models import Clinic, Organization
from cocm.measures.models import Assessment
from cocm.registry.models import Coverage, Diagnosis, Patient


class ImportedResource(models.Model):
    """A FHIR resource as imported: validated, served as stored, read by the quality measures.

    `resource_id` is the id it is served at (/fhir/<type>/<id>): the sender's id when the
    sender named one. `body` is the resource as FHIR JSON with `id` set to `resource_id` and
    references either as sent or rewritten to this server's ids.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="imported_resources"
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="imported_resources",
    )
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64)
    body = models.JSONField()
    imported_at = models.DateTimeField(default=timezone.now)
    # Search columns taken from the body: its codes as " system|code " tokens and the date
    # it is about (effective, onset, period start, …).
    codes = models.TextField(blank=True, default="")
    effective_on = models.DateField(null=True, blank=True)
    # The registry's own record fed from this resource (an imported total score).
    assessment = models.OneToOneField(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="imported_from"
    )
    # The registry coverage an imported Coverage is, and the episode diagnosis an imported
    # Condition is (several imports may name the same one).
    coverage = models.ForeignKey(
        Coverage, on_delete=models.SET_NULL, null=True, blank=True, related_name="imported_from"
    )
    diagnosis = models.ForeignKey(
        Diagnosis, on_delete=models.SET_NULL, null=True, blank=True, related_name="imported_from"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "resource_type", "resource_id"],
                name="imported_resource_unique",
            ),
        ]
        indexes = [models.Index(fields=["patient", "resource_type", "effective_on"])]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"


class PatientIdentifier(models.Model):
    """One identifier a source system gave the patient (an MRN, a payer member id, …)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(max_length=255, blank=True)
    value = models.CharField(max_length=255)
    type_code = models.CharField(max_length=32, blank=True, help_text="v2-0203, e.g. MR")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "system", "value"], name="patient_identifier_unique"
            ),
        ]
        indexes = [models.Index(fields=["system", "value"])]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class InteropSettings(models.Model):
    """An organization's import settings: the clinic imported patients belong to when neither
    their managingOrganization nor the import names one (default: its first clinic)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="interop_settings"
    )
    import_clinic = models.ForeignKey(
        Clinic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Import settings of {self.organization}"


class TrackerUpload(models.Model):
    """A tracker file between the upload, mapping and dry-run steps of the import page."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="tracker_uploads"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.filename


class ExportJob(models.Model):
    """A FHIR Bulk Data export: kicked off, run by a background task, its NDJSON files
    served until `expires_at`."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    key = models.CharField(max_length=40, unique=True)  # in the status URL
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16)  # system, patient, group
    group = models.CharField(max_length=64, blank=True)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    output = models.JSONField(default=list)  # [{"type", "file", "count"}]
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Export {self.key} ({self.status})"


class ImportJob(models.Model):
    """A FHIR import run by a background task (`Prefer: respond-async` on POST /fhir, or
    `cocm import fhir PATH --background`): its status is polled at /fhir/$import-status/<key>
    or shown by `cocm import status`."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=40, unique=True)  # in the status URL
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # What to import: a posted Bundle (removed once imported), or a file or directory the
    # worker reads.
    bundle = models.BinaryField(null=True, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    stored = models.PositiveIntegerField(default=0)
    # The answer: the HTTP status and body a synchronous POST would have had, or for a path
    # {"failed": ["<file>: <reason>", …]}.
    result_status = models.PositiveSmallIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Import {self.key} ({self.status})"
