"""``kill -9`` at three moments of ``python -m analysis run``, chosen by the run's progress (not the clock):
the previous report stays whole, every worker and kernel stops by itself, and the next run completes.

The run executes two of the real notebooks (copied into a temporary folder), the two quickest, each with
plotly charts and print figures: a report's staging, finishing steps and publication are the same for two
notebooks as for nine, and two keep the test's five runs short."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from analysis import cli
from tests import hostile_corpus as hc

pytestmark = pytest.mark.slow

ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOME_NOTEBOOKS = ("04_rules.ipynb", "05_disclosure.ipynb")


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "analysis", *map(str, args)]


def _report_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _assert_whole(files: dict[str, bytes]) -> None:
    assert "index.html" in files
    for name, data in files.items():
        if name.endswith(".html"):
            assert data.rstrip().endswith(b"</html>"), name
        elif name.endswith(".svg"):
            assert data.rstrip().endswith(b"</svg>"), name
        elif name.endswith(".png"):
            assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), name
        elif name.endswith(".ipynb"):
            json.loads(data)


def _staged(folder: Path, pattern: str) -> int:
    """How many files matching ``pattern`` the running batch has written into its staging folder."""
    return sum(1 for stage in folder.glob(".staging-*") for _ in stage.glob(pattern))


def test_kill_9_during_run_keeps_previous_reports_whole(sample_raw: Path, tmp_path: Path) -> None:
    """SIGKILL at three moments of ``run`` chosen by its progress, not by the clock (so the test means the
    same on a loaded machine): while the notebooks run (the first executed notebook is in the staging
    folder), while the report is being finished (every page written), and while it is being published (its
    build record was just removed). Every file of the report stays whole, the set of files is the same,
    every worker and kernel stops by itself, and the next run completes."""
    processed, reports, books = tmp_path / "processed", tmp_path / "reports", tmp_path / "notebooks"
    assert cli.run_ingest(sample_raw, processed, quiet=True) == 0
    books.mkdir()
    for name in SOME_NOTEBOOKS:
        shutil.copy(NOTEBOOKS / name, books)
    cmd = _cli(
        "run", "--region", hc.REGION, "--year", hc.YEAR, "--processed", processed, "--reports", reports
    )
    cmd += ["--notebooks", books]
    cmd.append("--force")  # every run builds (an unchanged report would be reused in a moment)
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = reports / hc.REGION / str(hc.YEAR)
    baseline = _report_files(folder)
    _assert_whole(baseline)
    pages = sum(1 for name in baseline if "/" not in name and name.endswith(".html")) - 1  # not index.html
    record = folder / ".build.json"
    moments = {
        "notebooks running": lambda: _staged(folder, "notebooks/*.ipynb") >= 1,
        "finishing steps (every page written)": lambda: _staged(folder, "*.html") >= pages,
        "publishing (the record is forgotten first)": lambda: not record.exists(),
    }
    assert record.is_file()
    for moment, reached in moments.items():
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline and not reached():
            time.sleep(0.002)
        family = psutil.Process(proc.pid).children(recursive=True)
        # the run is still going and is at the moment asked for when the kill lands
        assert proc.poll() is None, f"the run ended before: {moment}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        # workers and kernels notice and stop: nothing runs on unattended
        _, alive = psutil.wait_procs(family, timeout=30)
        for p in alive:
            p.kill()
        assert not alive, [p.cmdline()[:4] for p in alive]
        files = _report_files(folder)
        assert set(files) == set(baseline)
        _assert_whole(files)
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)
    assert final.returncode == 0, final.stderr[-2000:]
    assert "Traceback" not in final.stderr
    files = _report_files(folder)
    assert set(files) == set(baseline)
    _assert_whole(files)
