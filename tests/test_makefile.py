"""The Makefile's promises: ``make report`` builds reports despite errors in the data and still fails so
scripts see them; ``make lab`` works as root. Make runs here with a stand-in Python that records what it
was asked to do (no real ingest, batch or JupyterLab)."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *"analysis ingest"*) echo "数据问题：错误 1 条，警告 0 条。"; exit {ingest_status} ;;
  *"analysis run"*) echo "完整清单：data/processed/issues.csv"; exit 0 ;;
esac
exit 0
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def fake_venv(tmp_path: Path, ingest_status: int = 0, installed: bool = True) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text("", encoding="utf-8")
    if installed:
        for stamp in (".stamp-install", ".stamp-test"):  # up to date: no pip install
            (venv / stamp).write_text("", encoding="utf-8")
    python = venv / "bin" / "python"
    python.write_text(
        FAKE_PYTHON.format(log=tmp_path / "calls.log", ingest_status=ingest_status), encoding="utf-8"
    )
    python.chmod(0o755)
    return venv


def make_proc(target: str, tmp_path: Path, ingest_status: int = 0) -> subprocess.CompletedProcess:
    venv = fake_venv(tmp_path, ingest_status)
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), target, f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def make(target: str, tmp_path: Path, ingest_status: int = 0) -> tuple[int, list[str]]:
    proc = make_proc(target, tmp_path, ingest_status)
    log = tmp_path / "calls.log"
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


@pytest.mark.parametrize("target, ingest_status", [("report", 1), ("report", 2), ("ingest", 1)])
def test_a_failing_target_ends_on_the_chinese_answer_without_makes_english_line(
    target: str, ingest_status: int, tmp_path: Path
) -> None:
    proc = make_proc(target, tmp_path, ingest_status)
    assert proc.returncode != 0  # scripts still see the failure
    assert "make: ***" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("完整清单" if (target, ingest_status) == ("report", 1) else "数据问题")


def _install(tmp_path: Path, terminal: bool) -> tuple[str, list[str]]:
    venv = fake_venv(tmp_path, installed=False)
    command = ["make", "--no-print-directory", "-C", str(ROOT), "install", f"VENV={venv}"]
    if terminal:  # stdout on a pseudo-terminal, as when a person types make
        main, child = pty.openpty()
        proc = subprocess.Popen(command, stdout=child, stderr=subprocess.DEVNULL)
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closed: make has finished
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        os.close(main)
        out = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    else:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
    return out, (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines()


def test_installation_names_each_slow_step_in_chinese_first(tmp_path: Path) -> None:
    out, calls = _install(tmp_path, terminal=False)
    assert "正在安装本项目及其依赖" in out
    pip = [c for c in calls if c.startswith("-m pip install")]
    assert pip == ["-m pip install --quiet -e ."]  # quiet in a log
    assert not re.search(r"pip install", out)  # the command itself is not echoed


def test_installation_shows_pips_progress_on_a_terminal(tmp_path: Path) -> None:
    out, calls = _install(tmp_path, terminal=True)
    assert "正在安装本项目及其依赖" in out
    assert [c for c in calls if c.startswith("-m pip install")] == ["-m pip install -e ."]
