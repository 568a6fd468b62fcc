"""The Makefile's promises: ``make report`` builds reports despite errors in the data and still fails so
scripts see them; ``make lab`` works as root. Make runs here with a stand-in Python that records what it
was asked to do (no real ingest, batch or JupyterLab)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *"analysis ingest"*) exit {ingest_status} ;;
esac
exit 0
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(target: str, tmp_path: Path, ingest_status: int = 0) -> tuple[int, list[str]]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text("", encoding="utf-8")
    for stamp in (".stamp-install", ".stamp-test"):  # up to date: no pip install
        (venv / stamp).write_text("", encoding="utf-8")
    log = tmp_path / "calls.log"
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON.format(log=log, ingest_status=ingest_status), encoding="utf-8")
    python.chmod(0o755)
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), target, f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return proc.returncode, calls


def commands(calls: list[str]) -> list[str]:
    return [c.split()[2] for c in calls if c.startswith("-m analysis ")]


def test_report_goes_on_after_errors_in_the_data_and_then_fails(tmp_path):
    status, calls = make("report", tmp_path, ingest_status=1)
    assert commands(calls)[-2:] == ["ingest", "run"]  # the reports were built
    assert status != 0  # and make still reports the errors


def test_report_succeeds_on_clean_data(tmp_path):
    status, calls = make("report", tmp_path, ingest_status=0)
    assert status == 0 and commands(calls)[-2:] == ["ingest", "run"]


def test_report_stops_on_a_bad_request_or_environment(tmp_path):
    status, calls = make("report", tmp_path, ingest_status=2)
    assert status != 0 and commands(calls)[-1] == "ingest"


def test_lab_passes_allow_root_exactly_when_run_as_root(tmp_path):
    proc = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "lab", f"VENV={tmp_path / 'venv'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = next(x for x in proc.stdout.splitlines() if "jupyter lab" in x)
    assert ("--allow-root" in line) == (os.geteuid() == 0)
