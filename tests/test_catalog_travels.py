"""The catalog travels with the data: ``ingest --catalog`` publishes a copy of the catalog it used beside
the tables (path and SHA-256 in the manifest, in the same journalled publication), and ``run``, the
notebooks, the summary workbook and the index count read the data with that catalog, not the built-in one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from analysis import cli
from analysis.core import names, store
from analysis.core.catalog import load_catalog
from analysis.explore import nb
from analysis.report import batch
from tests.builders import write_xlsx

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NEW_ID = "disputes.legal_aid_cases"
NEW_NAME = "办理法律援助案件"


def custom_catalog(path: Path) -> str:
    """The built-in catalog plus one indicator of the legal_services topic (a YAML edit)."""
    text = resources.files("analysis.core").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["indicators"].append(
        {
            "indicator_id": NEW_ID,
            "name_zh": NEW_NAME,
            "unit": "件",
            "section": "一(八)化解社会矛盾纠纷",
            "topic": "legal_services",
            "department": "县司法局",
            "description": "全年办理的法律援助案件数。",
        }
    )
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return text


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    text = custom_catalog(root / "我的目录.yaml")
    write_xlsx(
        root / "raw" / "通许县" / "2019" / "县司法局.xlsx",
        [[1, NEW_NAME, "件", "120件"], [2, "调解矛盾纠纷", "件", 6736], [3, "专兼职人民调解员", "名", 992]],
    )
    out = root / "processed"
    command = [sys.executable, "-m", "analysis", "ingest", "--raw", str(root / "raw"), "--out", str(out)]
    run = subprocess.run(
        [*command, "--catalog", str(root / "我的目录.yaml"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: the other departments did not submit
    assert (out / "catalog.yaml").read_text(encoding="utf-8") == text
    return out


def test_ingest_publishes_the_catalog_it_used_with_its_hash(processed):
    manifest = json.loads((processed / store.MANIFEST).read_text(encoding="utf-8"))
    data = (processed / "catalog.yaml").read_bytes()
    assert manifest["catalog"]["path"] == "catalog.yaml"
    assert (
        manifest["catalog"]["sha256"] == hashlib.sha256(data).hexdigest() == manifest["files"]["catalog.yaml"]
    )
    assert manifest["catalog"]["source"].endswith("我的目录.yaml")
    row = store.read_indicators(processed).set_index("indicator_id").loc[NEW_ID]
    assert row["value"] == 120 and row["department"] == "县司法局"
    assert NEW_ID in store.read_catalog(processed).indicators
    assert NEW_ID not in load_catalog().indicators  # only the custom catalog has it


def test_a_changed_catalog_copy_is_refused(processed, tmp_path):
    copy = tmp_path / "processed"
    shutil.copytree(processed, copy)
    with (copy / "catalog.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# edited by hand\n")
    with pytest.raises(store.StoreError, match="catalog.yaml"):
        store.read_catalog(copy)


def test_a_folder_without_a_catalog_copy_reads_with_the_built_in_one(tmp_path):
    assert store.read_catalog(tmp_path / "nothing") is load_catalog()


def test_the_notebook_setup_uses_the_catalog_of_the_data(processed, tmp_path, monkeypatch):
    monkeypatch.setattr(nb, "_display", lambda x: None)
    ctx = nb.setup("通许县", 2019, processed, "", "07_legal_services")
    assert ctx.view.text(NEW_ID) == "120件"  # KeyError with the built-in catalog
    assert NEW_ID in set(ctx.table["indicator_id"])


def test_run_shows_it_in_the_topic_notebook_the_workbook_and_the_index_count(processed, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOKS / "07_legal_services.ipynb", notebooks)
    [result] = batch.run_batch(
        "通许县", 2019, processed, tmp_path / "reports", notebooks_dir=notebooks, workers=1, timeout=300
    )
    assert not result.failed, cli.summary_lines([result])
    page = (result.folder / "07_legal_services.html").read_text(encoding="utf-8")
    assert NEW_NAME in page and "120件" in page
    sheet = load_workbook(result.folder / names.WORKBOOK_NAME).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(NEW_NAME in row and 120 in row for row in rows), rows
    expected = len(load_catalog().reported) + 1
    index = (result.folder / "index.html").read_text(encoding="utf-8")
    assert f"已填报指标 3 / {expected} 项" in index
