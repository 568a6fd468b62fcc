"""Ingest over many files in a process pool (:mod:`analysis.ingest.parallel`): the same bytes as in one
process, and a file that kills its worker costs nobody else."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

import analysis.ingest.pipeline as pipeline
from analysis import cli
from analysis.core.store import write_tables
from analysis.ingest.parallel import CHUNK, MIN_FILES, map_files, worker_count
from analysis.ingest.pipeline import ingest
from tests.builders import write_sample_regions

fork_only = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the crash is planted before the workers fork"
)
REGIONS = [f"样本{i:02d}县" for i in range(9)]  # 72 workbooks: above MIN_FILES


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    raw = write_sample_regions(tmp_path_factory.mktemp("many") / "raw", REGIONS)
    # problems of every kind beside the good files: a text file named .xlsx, an empty file, a duplicate
    (raw / REGIONS[0] / "2019" / "县审计局 (1).xlsx").write_bytes(b"not a workbook")
    (raw / REGIONS[1] / "2019" / "县水利局.xlsx").write_bytes(b"")
    return raw


def _written(result, out: Path, raw: Path) -> dict[str, bytes]:
    write_tables(out, result.indicators, result.issues, {"raw": str(raw)})
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and p.name != ".lock"}
    manifest = json.loads(files.pop("manifest.json"))
    for key in ("created", "written_at", "timestamp", "seconds"):
        manifest.pop(key, None)
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return files


def test_pool_output_is_byte_identical_to_one_process(raw: Path, tmp_path: Path):
    assert len(list(raw.rglob("*.xlsx"))) > MIN_FILES
    one = ingest(raw, workers=1)
    two = ingest(raw, workers=2)
    assert one.has_errors and len(one.indicators) > 500
    assert [vars(s) for s in one.files] == [vars(s) for s in two.files]
    assert _written(one, tmp_path / "one", raw) == _written(two, tmp_path / "two", raw)


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.delenv("FAZHI_INGEST_WORKERS", raising=False)
    assert worker_count(MIN_FILES - 1) == 1  # few files: no pool
    monkeypatch.setenv("FAZHI_INGEST_WORKERS", "3")
    assert worker_count(10) == 3 and worker_count(2) == 2
    assert worker_count(100, workers=1) == 1
    monkeypatch.setenv("FAZHI_INGEST_WORKERS", "很多")
    with pytest.raises(ValueError, match="FAZHI_INGEST_WORKERS"):
        worker_count(100)


def test_a_bad_worker_setting_is_the_callers_to_fix(monkeypatch, raw: Path, tmp_path: Path, capsys):
    monkeypatch.setenv("FAZHI_INGEST_WORKERS", "0")
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "FAZHI_INGEST_WORKERS" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_line_takes_the_worker_count(raw: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(out), "--quiet", "--workers", "2"]) in (0, 1)
    assert (out / "indicators.parquet").is_file()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["ingest", "--raw", str(raw), "--out", str(out), "--workers", "0"])
    assert exit_.value.code == 2 and "参数 --workers：应至少为 1，收到 0" in capsys.readouterr().err


def _step(n: int, fail: int) -> int:
    if n == fail:
        os._exit(3)  # what a crash in native code or the memory killer looks like from outside
    if n == fail + 1:
        raise RuntimeError("a bug met by one file")
    return n * 10


def _crashed(n: int, fail: int) -> str:
    return f"lost {n}"


def test_a_file_that_kills_its_worker_costs_nobody_else():
    items = [(n,) for n in range(3 * CHUNK + 5)]
    fail = CHUNK + 3
    got = list(map_files(_step, items, (fail,), _crashed, workers=2))
    want = [n * 10 for n in range(len(items))]
    want[fail], want[fail + 1] = f"lost {fail}", f"lost {fail + 1}"
    assert got == want


@fork_only
def test_a_crashing_file_becomes_a_problem_row(raw: Path, monkeypatch):
    victim = raw / REGIONS[2] / "2019" / "县司法局.xlsx"
    baseline = ingest(raw, workers=1)
    real = pipeline.read_workbook

    def read(path, limits=None):
        if Path(path) == victim:
            os._exit(9)
        return real(path, limits)

    monkeypatch.setattr(pipeline, "read_workbook", read)
    result = ingest(raw, workers=2)
    rows = result.issues[result.issues["file"] == f"{REGIONS[2]}/2019/县司法局.xlsx"]
    assert rows["code"].tolist()[:1] == ["unreadable-file"]
    assert "意外" in rows["message"].iloc[0]
    others = baseline.indicators["source_file"] != f"{REGIONS[2]}/2019/县司法局.xlsx"
    assert len(result.indicators[result.indicators["derived"] == False]) == int(  # noqa: E712
        (others & (baseline.indicators["derived"] == False)).sum()  # noqa: E712
    )


def test_the_garbage_collector_runs_again_after_an_ingest(raw: Path, tmp_path: Path):
    import gc

    assert gc.isenabled()
    ingest(raw, workers=2)
    assert gc.isenabled()
    ingest(tmp_path / "missing")  # nothing to read: still restored
    assert gc.isenabled()


def _slow(n: int) -> int:
    import time

    time.sleep(0.2)
    return n


def _none(n: int) -> None:
    return None


def test_workers_exit_when_the_ingest_is_killed():
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    code = (
        "from analysis.ingest.parallel import map_files\n"
        "from tests.test_parallel_ingest import _slow, _none\n"
        "list(map_files(_slow, [(n,) for n in range(400)], (), _none, workers=2))\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) == 2
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()
    assert alive == []
