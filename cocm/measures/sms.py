"""Text messages through a pluggable sender (settings.COCM_SMS_BACKEND).

A deployment plugs in its SMS gateway by naming a class with a `send(to, body)` method.
The default writes each message to a file, so nothing leaves the machine unconfigured.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string


class FileBackend:
    """Appends each message to COCM_SMS_FILE (default var/sms-outbox.log)."""

    def send(self, to: str, body: str) -> None:
        path = Path(settings.COCM_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as outbox:
            outbox.write(f"--- {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} to {to}\n{body}\n")


class MemoryBackend:
    """Keeps messages in `outbox`, for tests."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, body: str) -> None:
        self.outbox.append((to, body))


def send_text(to: str, body: str) -> None:
    backend = import_string(settings.COCM_SMS_BACKEND)()
    backend.send(to, body)
