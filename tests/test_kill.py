"""Crashes and concurrency, for real: ``kill -9`` at random moments of ``python -m analysis ingest`` and
``python -m analysis run``; the previous outputs stay whole and readable, the next run completes; two
runs at once on one output folder never interleave their writes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from analysis.core.fileio import lock_path
from analysis.core.store import (
    INDICATORS_CSV,
    INDICATORS_PARQUET,
    ISSUES_CSV,
    ISSUES_PARQUET,
    MANIFEST,
    read_indicators,
    read_issues,
)
from tests import hostile_corpus as hc

TABLES = (INDICATORS_PARQUET, INDICATORS_CSV, ISSUES_PARQUET, ISSUES_CSV)
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}

pytestmark = pytest.mark.slow


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "analysis", *map(str, args)]


def _ingest_cmd(raw: Path, out: Path) -> list[str]:
    return _cli("ingest", "--raw", raw, "--out", out, "--quiet")


def snapshot(out: Path) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The processed folder as a reader sees it; fails unless every file is whole and the set is one run's."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    for name in TABLES:
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert digest == manifest["files"][name], f"{name} does not belong to the run of manifest.json"
    indicators = pd.read_parquet(out / INDICATORS_PARQUET)
    issues = pd.read_parquet(out / ISSUES_PARQUET)
    for name in (INDICATORS_CSV, ISSUES_CSV):
        pd.read_csv(out / name, encoding="utf-8-sig", dtype=str)
    assert manifest["indicators"] == len(indicators) and manifest["issues"] == len(issues)
    return manifest["raw"], indicators, issues


@pytest.fixture(scope="module")
def raws(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict[str, Path]:
    """Two raw folders with different outcomes, so a mix of their outputs would show."""
    root = tmp_path_factory.mktemp("raws")
    clean = root / "clean"
    shutil.copytree(sample_raw, clean)
    hostile = root / "hostile"
    shutil.copytree(sample_raw, hostile)
    # A second 县水利局 file with another figure: a duplicate conflict, so even the tidy table differs.
    names = ("good-xls", "zip-bomb", "encrypted-xlsx", "truncated", "billion-laughs-strings")
    extra = [hc.CASES_BY_NAME[n] for n in names]
    hc.build_corpus(hostile, extra)
    return {"clean": clean, "hostile": hostile}


@pytest.fixture(scope="module")
def ingested(raws: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each raw folder ingested once, by the CLI; tests copy the output folder they start from."""
    root = tmp_path_factory.mktemp("ingested")
    for name, raw in raws.items():
        _complete(raw, root / name)
    return {name: root / name for name in raws}


def _complete(raw: Path, out: Path) -> float:
    started = time.monotonic()
    proc = subprocess.run(_ingest_cmd(raw, out), capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return time.monotonic() - started


def _entries(out: Path) -> dict[str, int]:
    """Every file of the output folder (staged and temporary ones included) with its modification time."""
    found = {}
    for path in out.iterdir():
        with contextlib.suppress(FileNotFoundError):  # renamed or removed while we look
            found[path.name] = path.stat().st_mtime_ns
    return found


def _wait_for_a_write(proc: subprocess.Popen, out: Path, before: dict[str, int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline and _entries(out) == before:
        time.sleep(0.002)


def test_kill_9_during_ingest_keeps_previous_outputs_whole(raws: dict[str, Path], tmp_path: Path) -> None:
    """SIGKILL lands while the ingest is writing its outputs (the most dangerous moments): every kill waits
    for the first write of that run to appear, then a random moment inside the writing, so the test keeps
    its meaning at any machine speed or load; a run that finished first still has to leave a whole set."""
    out = tmp_path / "processed"
    reference = {}
    for raw in raws.values():
        _complete(raw, out)
        reference[str(raw)] = snapshot(out)
    assert len(reference[str(raws["hostile"])][1]) != len(reference[str(raws["clean"])][1])
    assert len(reference[str(raws["hostile"])][2]) > len(reference[str(raws["clean"])][2])
    rng = random.Random(20190331)
    names = list(raws)
    kills = attempts = 0
    while kills < 10 and attempts < 60:
        raw = raws[names[attempts % 2]]
        before = _entries(out)
        attempts += 1
        proc = subprocess.Popen(
            _ingest_cmd(raw, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
        _wait_for_a_write(proc, out, before, timeout=300)  # progress, not time: no guess of the run's length
        # then somewhere in the publication: at once, or after some of its further writes
        time.sleep(rng.choice((0.0, rng.uniform(0.0, 0.02), rng.uniform(0.0, 0.2))))
        writing = _entries(out) != before  # a kill counts only when the run had begun writing
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            if proc.wait(timeout=60) == -signal.SIGKILL and writing:
                kills += 1
        proc.wait(timeout=60)
        read_indicators(out), read_issues(out)  # as any reader: finishes a publication past its commit point
        source, indicators, issues = snapshot(out)  # whole, readable, one run's set
        ref = reference[source]
        pd.testing.assert_frame_equal(indicators, ref[1])
        pd.testing.assert_frame_equal(issues, ref[2])
    assert kills >= 10, f"only {kills} of {attempts} kills landed in a run that had begun writing"
    for raw in raws.values():  # the next runs complete normally and give the same tables
        _complete(raw, out)
        source, indicators, issues = snapshot(out)
        assert source == str(raw)
        pd.testing.assert_frame_equal(indicators, reference[source][1])
        pd.testing.assert_frame_equal(issues, reference[source][2])


def test_second_writer_waits_for_the_lock_with_a_message(raws: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "processed"
    _complete(raws["clean"], out)
    before = (out / MANIFEST).read_bytes()
    lock = FileLock(str(lock_path(out)))  # the lock every writer of the output folder holds
    with lock:
        proc = subprocess.Popen(
            _ingest_cmd(raws["hostile"], out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
        )
        stderr = b""
        deadline = time.monotonic() + 60
        os.set_blocking(proc.stderr.fileno(), False)
        while "另一个进程正在写入".encode() not in stderr:
            assert time.monotonic() < deadline, stderr.decode(errors="replace")
            assert proc.poll() is None, stderr.decode(errors="replace")
            stderr += proc.stderr.read() or b""
            time.sleep(0.1)
        time.sleep(1.0)
        assert proc.poll() is None  # still waiting
        assert (out / MANIFEST).read_bytes() == before  # and nothing written meanwhile
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and b"Traceback" not in err
    assert snapshot(out)[0] == str(raws["hostile"])


def test_two_concurrent_ingests_never_interleave(raws: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "processed"
    for _ in range(2):
        procs = [
            subprocess.Popen(_ingest_cmd(raw, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
            for raw in raws.values()
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode in (0, 1) and b"Traceback" not in err
        source, _, _ = snapshot(out)  # one run's complete set, whichever wrote last
        assert source in {str(r) for r in raws.values()}


_KILL_AFTER_WRITES = """
import os, signal, sys
import analysis.core.store as store
real = store.atomic_write_bytes
count = 0
def write_then_die(path, data):
    global count
    real(path, data)
    count += 1
    if count == {n}:
        os.kill(os.getpid(), signal.SIGKILL)
store.atomic_write_bytes = write_then_die
from analysis.cli import main
sys.exit(main(sys.argv[1:]))
"""


# store.write_tables makes 7 atomic writes: 5 staged files (4 tables, the catalog copy), the journal (the
# commit point), the manifest.
STAGED = 5


@pytest.mark.parametrize("writes", range(1, STAGED + 3))
def test_kill_9_between_the_written_files(
    writes: int, raws: dict[str, Path], ingested: dict[str, Path], tmp_path: Path
) -> None:
    """The most dangerous moments, hit exactly: SIGKILL right after the n-th file write of the publication.
    A reader gets the previous run's complete set (killed before the commit point) or the new run's complete
    set (after it), never a mix, and never an error."""

    out = tmp_path / "processed"
    shutil.copytree(ingested["clean"], out)
    before = snapshot(out)
    code = _KILL_AFTER_WRITES.format(n=writes)
    proc = subprocess.run(
        [sys.executable, "-c", code, "ingest", "--raw", str(raws["hostile"]), "--out", str(out), "--quiet"],
        capture_output=True,
        env=ENV,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]  # the hook fired
    indicators, issues = read_indicators(out), read_issues(out)  # finishes a committed publication
    source, *_ = snapshot(out)  # every file whole and of one run
    expected = before if writes <= STAGED else snapshot(ingested["hostile"])
    assert source == expected[0]
    assert indicators.equals(expected[1][indicators.columns]) and issues.equals(expected[2][issues.columns])
    assert (
        not list(out.glob(".staged-*")) or writes <= STAGED
    )  # staging files of an uncommitted run are dropped later
    _complete(raws["hostile"], out)
    assert snapshot(out)[0] == str(raws["hostile"])
    assert not list(out.glob(".staged-*")) and not (out / ".publish.json").exists()
