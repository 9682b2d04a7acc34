"""A seal killed with SIGKILL half-way loses no event and seals none twice: its batch rolls
back and the next seal completes the chain. Runs real processes on a database file."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

SETUP = "import django; django.setup()\nfrom cocm.accounts import audit\n"


def run(script: str, env: dict[str, str], **kwargs):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-c", SETUP + textwrap.dedent(script)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def output(script: str, env: dict[str, str]) -> str:
    process = run(script, env)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return stdout


@pytest.fixture
def database(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "cocm.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'audit.sqlite3'}",
        "COCM_DATA_DIR": str(tmp_path),
    }
    subprocess.run(
        [sys.executable, "-m", "cocm.cli", "migrate", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=300,
    )
    return env


def test_a_seal_killed_mid_batch_loses_nothing_and_the_next_seal_completes_it(database):
    output(
        """
        for n in range(50):
            audit.record_event("view", "chart", patient_id=n)
        """,
        database,
    )
    sealer = run(
        """
        import time
        write, calls = audit._write_seal, []
        def stalled(events, heads):
            write(events, heads)
            calls.append(1)
            if len(calls) == 2:  # the second batch is written, not committed
                print("written", flush=True)
                time.sleep(120)
        audit._write_seal = stalled
        audit.seal_pending(batch=20)
        """,
        database,
    )
    assert sealer.stdout.readline().strip() == "written"

    sealer.send_signal(signal.SIGKILL)
    sealer.wait(timeout=30)
    sealer.stdout.close()

    after_kill = json.loads(
        output(
            """
            import json
            from cocm.accounts.models import AuditEvent
            events = AuditEvent.objects
            print(json.dumps([events.count(), events.filter(sequence=None).count()]))
            """,
            database,
        )
    )
    assert after_kill == [50, 30]  # the first batch committed, the second rolled back
    completed = json.loads(
        output(
            """
            import json
            from cocm.accounts.models import AuditEvent
            sealed = audit.seal_pending()
            report = audit.verify_chain(seal=False)
            sequences = sorted(AuditEvent.objects.values_list("sequence", flat=True))
            print(json.dumps([sealed, report.events, report.pending, str(report.first_break),
                              sequences == list(range(1, 51))]))
            """,
            database,
        )
    )
    assert completed == [30, 50, 0, "None", True]
