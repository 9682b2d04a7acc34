"""A killed import (kill -9 in the middle of a directory) leaves every bundle either fully
stored or not at all, and running it again completes it."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.interop.test_conformance_deck import CASES, case_bundle

COCM = str(Path(sys.executable).parent / "cocm")


def run_cocm(env, *args):
    return subprocess.run([COCM, *args], env=env, capture_output=True, text=True, timeout=300)


def stored(db):
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT resource_type || '/' || resource_id FROM interop_importedresource"
        )
        return {row[0] for row in rows}


def test_a_killed_import_leaves_whole_bundles_and_a_rerun_completes_it(tmp_path):
    db = tmp_path / "kill.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "cocm.settings",
    }
    assert run_cocm(env, "migrate", "--verbosity", "0").returncode == 0
    assert run_cocm(env, "seed", "--patients", "0").returncode == 0
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    expected = {}
    for path in CASES:
        bundle = case_bundle(path)
        (bundles / path.name).write_text(json.dumps(bundle))
        expected[path.name] = {
            e["request"]["url"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] != "MeasureReport"
        }

    process = subprocess.Popen(
        [COCM, "import", "fhir", str(bundles)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(stored(db)) < 30 and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    after_kill = stored(db)
    assert 0 < len(after_kill) < sum(map(len, expected.values()))
    for urls in expected.values():
        assert urls <= after_kill or not (urls & after_kill), "a bundle was half stored"
    rerun = run_cocm(env, "import", "fhir", str(bundles))
    assert rerun.returncode == 0, rerun.stderr
    assert stored(db) == set().union(*expected.values())
