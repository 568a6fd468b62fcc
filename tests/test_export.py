"""``jupyter nbconvert --to fazhi-html`` (issue 21): an analyst's own export of an executed report notebook
is the offline page ``run`` writes — no CDN, the plotly charts drawn from ``assets/`` — and the exporter is
registered under nbconvert's entry point group. (The comparison with the batch's own page is in
test_browser.py, on its report.)"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import Exporter
from nbconvert.writers import FilesWriter

from analysis.core.store import write_tables
from analysis.site import pages, static
from analysis.site.export import FazhiHTMLExporter
from tests import fixtures_processed as fp
from tests.test_pages import executed_notebook, remote_references

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "analysis.site.export:FazhiHTMLExporter"


def test_the_export_is_the_batch_page_with_its_assets(tmp_path: Path) -> None:
    write_tables(tmp_path / "processed", fp.spec_frame(), fp.empty_issues())
    folder = tmp_path / "报告" / "notebooks"
    folder.mkdir(parents=True)
    nb = executed_notebook()
    nb.metadata["papermill"] = {
        "parameters": {
            "region": "通许县",
            "year": 2019,
            "processed_dir": "../../processed",
            "output_dir": "..",
        }
    }
    path = folder / "07_legal_services.ipynb"
    nbformat.write(nb, path)

    body, resources = FazhiHTMLExporter().from_filename(str(path))
    data = static.data_note(tmp_path / "processed", "通许县", 2019)
    assert data.endswith("导入的数据")  # the manifest of these tables has no list of submissions
    expected, _ = pages.render_notebook(
        nbformat.read(path, as_version=4),
        stem="07_legal_services",
        region="通许县",
        year=2019,
        footer=_footer_of(body),
    )
    assert body == expected  # the same page as the batch's, footer and all
    assert f"，依据{data}。" in _footer_of(body) and _footer_of(body).startswith(
        "通许县 2019 年度 · 本页生成于 "
    )
    assert remote_references(body) == [] and "require.js" not in body and "mathjax" not in body.lower()
    assert 'data-chart="1"' in body and 'src="assets/plotly.min.js"' in body

    FilesWriter(build_directory=str(tmp_path / "out")).write(
        body, resources, notebook_name="07_legal_services"
    )
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert written == [
        "07_legal_services.html",
        *sorted(f"assets/{n}" for n in [*static.asset_payloads(), static.WEB_FONT_FILE]),
    ]


def _footer_of(body: str) -> str:
    return re.search(r'<footer class="fazhi-footer">(.*?)</footer>', body, flags=re.S).group(1)


def test_the_exporter_is_registered_as_fazhi_html() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["nbconvert.exporters"]["fazhi-html"] == ENTRY
    module, name = ENTRY.split(":")
    exporter = getattr(importlib.import_module(module), name)
    assert issubclass(exporter, Exporter) and exporter().file_extension == ".html"


def test_nbconvert_finds_the_installed_entry_point() -> None:
    found = [
        e for e in importlib.metadata.entry_points(group="nbconvert.exporters") if e.name == "fazhi-html"
    ]
    if not found:
        pytest.skip("安装的包尚未包含 fazhi-html 入口点：请重新运行 pip install -e .")
    from nbconvert.exporters import get_exporter

    assert found[0].value == ENTRY and get_exporter("fazhi-html") is FazhiHTMLExporter
