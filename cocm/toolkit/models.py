from django.db import models

from cocm.accounts.models import User


class StaffContact(models.Model):
    """A staff member's direct phone number, printed on patient handouts (else the clinic's)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="contact")
    phone = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.user}: {self.phone}"
