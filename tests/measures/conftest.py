import pytest

from cocm.measures.sms import MemoryBackend


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.COCM_SMS_BACKEND = "cocm.measures.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox
