"""The batch on a Dask cluster (optional extra ``distributed``; the test extra installs it): the shipped 2019
data through ``run --scheduler local`` (a LocalCluster of 2 workers) gives the same pages as the local warm
workers, byte for byte apart from the times written on them. Two of the real notebooks (the data-quality
tables, one topic with plotly charts and print figures) stand for the nine: what is compared is the
scheduler, not the notebooks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from analysis import cli
from analysis.report import batch
from analysis.report.targets import BatchError

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOME_NOTEBOOKS = ("01_data_quality.ipynb", "04_rules.ipynb")
TIMES = [
    re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"),  # 生成于 …
    re.compile(r"\d+(?:\.\d+)? 秒"),  # how long a notebook ran
]


def pages(folder: Path) -> dict[str, str]:
    out = {}
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for pattern in TIMES:
            text = pattern.sub("…", text)
        out[page.name] = text
    return out


@pytest.fixture(scope="module")
def processed(sample_raw: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dask") / "processed"
    assert cli.run_ingest(sample_raw, out, quiet=True) in (0, 1)
    return out


def test_a_local_dask_cluster_gives_the_same_pages(processed: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAZHI_SOFFICE", "fazhi-no-soffice")  # the PDF preview is not what is compared
    books = tmp_path / "notebooks"
    books.mkdir()
    for name in SOME_NOTEBOOKS:
        shutil.copy(NOTEBOOKS / name, books)
    runs = {}
    for name, scheduler in (("local", None), ("dask", "local")):
        [report] = batch.run_batch(
            "通许县",
            2019,
            processed,
            tmp_path / name,
            notebooks_dir=books,
            workers=2,
            scheduler=scheduler,
        )
        assert [r.status for r in report.results] == ["ok"] * len(report.results)
        runs[name] = pages(report.folder)
    assert len(runs["local"]) == len(SOME_NOTEBOOKS) + 1  # and index.html
    assert runs["dask"] == runs["local"]


def test_a_scheduler_that_is_no_address_is_a_message(processed: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(BatchError, match="tcp://"):
        batch.run_batch("通许县", 2019, processed, tmp_path, notebooks_dir=NOTEBOOKS, scheduler="http://x")
    code = cli.run_reports("通许县", "2019", processed, tmp_path, notebooks=NOTEBOOKS, scheduler="8786")
    assert code == 2 and "--scheduler" in capsys.readouterr().err
