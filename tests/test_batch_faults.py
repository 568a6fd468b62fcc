"""Issue 9 cases 16, 18-20 on `run`: a reports folder that cannot be written, an ingest publishing a new
set while the notebooks run, a damaged manifest or journal, and `ALL` that is no keyword. Each is a
Chinese message, never a traceback, and the previous report stays as it was."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import cli
from analysis.core.store import JOURNAL, MANIFEST
from analysis.report import publish, targets
from analysis.report.targets import BatchError
from tests import fixtures_processed as fp
from tests.test_batch import GOOD, write_notebook, write_processed

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

# A notebook that publishes a new set of the processed tables while the batch runs (what a concurrent
# `ingest` does), then reads them as every report notebook does.
REINGEST = """
import pathlib
import pandas as pd
from analysis.core.fileio import output_lock
from analysis.core.store import read_indicators, write_tables
folder = pathlib.Path(processed_dir)
with output_lock(folder):
    write_tables(folder, pd.read_parquet(folder / "indicators.parquet"), pd.read_parquet(folder / "issues.parquet"))
read_indicators(folder)
"""


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    processed = write_processed(tmp_path / "processed")
    books = tmp_path / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD)
    return {"processed": processed, "books": books, "reports": tmp_path / "reports"}


def run_cli(setup: dict, books: Path | None = None, reports: Path | None = None, force: bool = False) -> int:
    return cli.run_reports(
        region="通许县",
        year="2019",
        processed=setup["processed"],
        reports=reports or setup["reports"],
        workers=1,
        notebooks=books or setup["books"],
        force=force,
    )


def report_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_reports_folder_that_cannot_be_written_is_a_message(setup: dict, tmp_path: Path, capsys) -> None:
    """Case 18: a path that is no folder (as root, permissions cannot make one read-only)."""
    blocked = tmp_path / "reports-file"
    blocked.write_text("不是文件夹", encoding="utf-8")
    assert run_cli(setup, reports=blocked) == 2
    err = capsys.readouterr().err
    assert "无法写入报告文件夹" in err and "原有报告保持不变" in err


def test_a_full_disk_keeps_the_previous_report(setup: dict, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Case 18: the disk fills up while the report is published; the previous report stays whole."""
    assert run_cli(setup) == 0
    folder = setup["reports"] / "通许县" / "2019"
    before = report_files(folder)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))

    monkeypatch.setattr(publish, "publish", full)
    assert run_cli(setup, force=True) == 2  # forced: an unchanged report would be reused, not published
    assert "无法写入报告文件夹" in capsys.readouterr().err
    # the pages stay whole; the build record is gone, so the next run builds the report again
    record = before.pop(".build.json")
    assert record and report_files(folder) == before


def test_an_ingest_during_the_run_is_never_mixed_into_a_report(setup: dict, tmp_path: Path, capsys) -> None:
    """Case 19: the processed tables change while the notebooks run: nothing is published."""
    assert run_cli(setup) == 0
    folder = setup["reports"] / "通许县" / "2019"
    before = report_files(folder)
    books = tmp_path / "books2"
    write_notebook(books / "01_good.ipynb", GOOD)
    write_notebook(books / "02_reingest.ipynb", REINGEST)
    assert run_cli(setup, books=books) == 2
    assert "重新导入" in capsys.readouterr().err
    assert report_files(folder) == before


def test_a_damaged_manifest_is_a_message(setup: dict, capsys) -> None:
    """Case 20."""
    (setup["processed"] / MANIFEST).write_text("[1, 2", encoding="utf-8")
    assert run_cli(setup) == 2
    assert "manifest.json 已损坏" in capsys.readouterr().err


def test_a_damaged_journal_is_reported_and_the_last_set_used(setup: dict) -> None:
    """Case 20: through the real command line, so the notice is seen as a user sees it."""
    (setup["processed"] / JOURNAL).write_text("{", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--region", "通许县", "--year", "2019", "--workers", "1"]
        + ["--processed", str(setup["processed"]), "--reports", str(setup["reports"])]
        + ["--notebooks", str(setup["books"])],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "StoreWarning" not in proc.stderr
    assert "警告：" in proc.stderr and "已改名为" in proc.stderr
    assert list(setup["processed"].glob(f"{JOURNAL}.damaged-*"))


@pytest.mark.parametrize("region", ["ALL", "All", " ALL "])
def test_only_lower_case_all_selects_every_region(region: str) -> None:
    """Case 16: `all` is the only keyword; `ALL` is not a region name either."""
    table = fp.spec_frame()
    with pytest.raises(BatchError, match="关键字"):
        targets.resolve_targets(region, "all", table)
    assert targets.resolve_targets("all", "all", table)
