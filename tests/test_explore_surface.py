"""The analyst's surface of ``analysis.explore``: a cheap import, a curated ``__all__`` whose every call is
documented in docs/jupyter.md with an example that runs, ``comparison.show_*`` returning what it showed,
and charts shown through plotly's public renderer API (HTML that nbconvert keeps, plotly.js inline)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import matplotlib
import nbformat
import pandas as pd
import pytest

import analysis.explore as explore
from analysis.core.catalog import load_catalog
from analysis.core.formatting import MISSING
from analysis.core.store import write_tables
from analysis.explore import comparison
from analysis.explore import nb as nbmod
from tests import fixtures_processed as fp

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "jupyter.md"
API_SECTION = "## 分析人员可以调用的函数"
EXPLORE = ROOT / "src" / "analysis" / "explore"
HEAVY = ("pandas", "plotly", "matplotlib", "IPython", "numpy")


# --- the package: cheap, curated -------------------------------------------------------------------------


def test_importing_the_package_loads_no_heavy_library_until_a_module_is_used():
    script = (
        "import json, sys\n"
        "import analysis.explore as ex\n"
        f"heavy = {HEAVY!r}\n"
        "def loaded():\n"
        "    return sorted(h for h in heavy if h in sys.modules)\n"
        "before = loaded()\n"
        "frames = ex.frames\n"
        "after = loaded()\n"
        "namespace = {}\n"
        "exec('from analysis.explore import *', namespace)\n"
        "print(json.dumps({'before': before, 'after': after, 'frames': frames.__name__,\n"
        "                  'star': sorted(k for k in namespace if not k.startswith('__'))}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"] == []
    assert "pandas" in result["after"] and result["frames"] == "analysis.explore.frames"
    assert result["star"] == sorted(explore.__all__)


def test_every_name_of_all_resolves_to_a_module_with_its_public_calls():
    assert explore.__all__ == sorted(explore.__all__)
    assert set(explore.__all__) == set(explore.ANALYST_API)
    assert set(explore.__all__) <= set(dir(explore))
    for name in explore.__all__:
        module = getattr(explore, name)
        assert isinstance(module, ModuleType) and module.__name__ == f"analysis.explore.{name}"
        for call in explore.ANALYST_API[name]:
            assert callable(getattr(module, call)), f"{name}.{call}"
            assert not call.startswith("_"), f"{name}.{call}"
    with pytest.raises(AttributeError):
        explore.not_a_module  # noqa: B018


def test_every_module_a_notebook_imports_is_public():
    imported = set()
    for path in [
        *sorted((ROOT / "notebooks").glob("*.ipynb")),
        *sorted((ROOT / "notebooks").glob("site/*.ipynb")),
    ]:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for stmt in ast.walk(ast.parse(cell.source)):
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "analysis.explore":
                    imported |= {a.name for a in stmt.names}
                if isinstance(stmt, ast.Attribute) and isinstance(stmt.value, ast.Name):
                    module, call = stmt.value.id, stmt.attr
                    if module in explore.ANALYST_API and module in imported:
                        assert call in explore.ANALYST_API[module], f"{path.name}: {module}.{call}"
    assert imported and imported <= set(explore.__all__)


# --- docs/jupyter.md -------------------------------------------------------------------------------------


def documented() -> dict[str, dict[str, str]]:
    """module -> call -> its example, from the docs' section on the analyst's calls (grouped by module)."""
    text = DOCS.read_text(encoding="utf-8")
    assert API_SECTION in text
    section = text.split(API_SECTION, 1)[1].split("\n## ", 1)[0]
    found: dict[str, dict[str, str]] = {}
    for block in re.split(r"^### ", section, flags=re.MULTILINE)[1:]:
        module = re.match(r"`(\w+)`", block).group(1)
        items = re.findall(r"^- `(\w+)\.(\w+)`：.+\n  示例：`(.+)`$", block, flags=re.MULTILINE)
        assert items, module
        for owner, call, example in items:
            assert owner == module, f"{owner}.{call} listed under {module}"
            assert call not in found.setdefault(module, {}), f"{module}.{call} listed twice"
            found[module][call] = example
    return found


def test_docs_list_every_public_call_grouped_by_module_each_with_an_example():
    docs = documented()
    assert list(docs) == list(explore.ANALYST_API)  # the modules, in the docs' order
    for module, calls in explore.ANALYST_API.items():
        assert list(docs[module]) == list(calls), module  # every call, none besides, in order
        for call, example in docs[module].items():
            assert f"{module}.{call}(" in example, f"the example of {module}.{call} does not call it"


@pytest.fixture
def processed(tmp_path) -> Path:
    folder = tmp_path / "processed"
    write_tables(folder, fp.history_frame(), fp.issues())
    return folder


def test_every_documented_example_runs(processed, tmp_path, monkeypatch):
    shown: list = []
    monkeypatch.setattr(nbmod, "_display", shown.append)
    monkeypatch.setattr(nbmod, "_show_plotly", shown.append)
    monkeypatch.chdir(tmp_path)
    namespace = {
        "region": fp.REGION,
        "year": fp.YEAR,
        "processed_dir": str(processed),
        "output_dir": "",
        "indicator_id": "disputes.mediation_cases",
        **{name: getattr(explore, name) for name in explore.__all__},
    }
    with matplotlib.rc_context():  # style.apply() changes rcParams: restored for the other tests
        for module, calls in documented().items():
            for call, example in calls.items():
                try:
                    exec(compile(example, f"{module}.{call}", "exec"), namespace)
                except Exception as exc:  # name the example that failed
                    raise AssertionError(f"{module}.{call}: {example}") from exc
    if "matplotlib.pyplot" in sys.modules:  # the style.context example draws with pandas (pyplot)
        sys.modules["matplotlib.pyplot"].close("all")
    assert namespace["ctx"].region == fp.REGION and namespace["cmp"].regions == ["杞县", "通许县"]
    assert type(namespace["mediators_chart"]).__name__ == "Figure"
    assert isinstance(namespace["key_figures"], dict) and isinstance(namespace["region_table"], pd.DataFrame)
    assert not namespace["values"].empty and namespace["drafts"]


# --- comparison.show_* return what they showed -----------------------------------------------------------


def shown_html(item) -> str:
    return item.data if hasattr(item, "data") else ""


@pytest.fixture
def shown(monkeypatch) -> list:
    items: list = []
    monkeypatch.setattr(nbmod, "_display", items.append)
    monkeypatch.setattr(nbmod, "_show_plotly", items.append)
    return items


def test_show_key_figures_returns_every_figure_and_note_it_showed(shown, tmp_path):
    # the first key figure taken out of every region: its chart is replaced by a note
    gone = comparison.key_ids()[0]
    frame = fp.history_frame()
    frame = frame[frame["indicator_id"] != gone]
    cmp = comparison.setup(
        fp.YEAR, tmp_path, tmp_path, indicators=frame, issues=fp.issues(), catalog=load_catalog()
    )
    del shown[:]
    result = comparison.show_key_figures(cmp)
    assert list(result) == comparison.key_ids()
    figures = [x for x in shown if type(x).__name__ == "Figure"]
    assert figures and [id(f) for f in figures] == [
        id(v) for v in result.values() if type(v).__name__ == "Figure"
    ]
    note = result[gone]
    assert isinstance(note, str) and "本图略" in note
    assert any(note in shown_html(x) for x in shown)  # the note returned is the note shown
    assert all(isinstance(v, str) or type(v).__name__ == "Figure" for v in result.values())


def test_show_region_table_returns_the_table_it_showed(shown, tmp_path):
    cmp = comparison.setup(
        fp.YEAR, tmp_path, tmp_path, indicators=fp.history_frame(), issues=fp.issues(), catalog=load_catalog()
    )
    del shown[:]
    table = comparison.show_region_table(cmp)
    assert isinstance(table, pd.DataFrame) and list(table["地区"]) == ["杞县", "通许县"]
    pd.testing.assert_frame_equal(table, comparison.region_table(cmp))
    markup = table.to_html(
        escape=True, index=False, na_rep=MISSING, border=0, classes=comparison.SORTABLE_CLASSES
    )
    assert shown_html(shown[0]) == markup  # exactly the table returned, shown first
    assert "共 2 个地区" in shown_html(shown[1])


def test_show_region_table_of_no_region_returns_the_empty_table_and_says_so(shown, tmp_path):
    cmp = comparison.setup(
        2030, tmp_path, tmp_path, indicators=fp.history_frame(), issues=fp.issues(), catalog=load_catalog()
    )
    del shown[:]
    table = comparison.show_region_table(cmp)
    assert isinstance(table, pd.DataFrame) and table.empty
    assert [shown_html(x) for x in shown] == ['<p class="fazhi-note">（无）</p>']
    assert comparison.show_key_figures(cmp).keys() == set(comparison.key_ids())


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")), *sorted((ROOT / "notebooks").glob("site/*.ipynb"))],
    ids=lambda p: p.stem,
)
def test_a_notebook_assigns_every_show_call(path):
    # a show_* call returns what it showed: left unassigned at the end of a cell, Jupyter shows it again
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for stmt in ast.parse(cell.source).body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                func = stmt.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert not name.startswith("show_"), f"{path.name}: {ast.unparse(stmt)} is not assigned"


# --- charts through plotly's public API ------------------------------------------------------------------


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_explore_imports_no_private_module_of_a_library():
    # e.g. plotly.io._base_renderers: plotly may change it in any release
    for path in sorted(EXPLORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] != "analysis":
                    assert not any(private(part) for part in name.split(".")), f"{path.name}: {name}"


def figure_config(markup: str) -> dict:
    """The config a figure's HTML hands to ``Plotly.newPlot`` (its last argument)."""
    call = markup[markup.index("Plotly.newPlot(") :]
    config, _ = json.JSONDecoder().raw_decode(call, call.index('{"displaylogo"'))
    return config


def test_fig_show_publishes_plotly_js_once_inline_then_each_figure_as_html(monkeypatch):
    import IPython.display
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    published: list[dict] = []  # what reaches Jupyter, in order: raw MIME bundles
    monkeypatch.setattr(nbmod, "display_html", lambda html, raw=False: published.append({"text/html": html}))
    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw=False: published.append(bundle))
    nbmod.configure_plotly()
    fig = go.Figure(go.Bar(x=["调解"], y=[6736]))
    fig.show()
    fig.show()
    init, *figures = published
    script = f"<script>{get_plotlyjs()}</script>"
    inline = [script in b.get("text/html", "") for b in published]  # compared apart: 4.8 MB each
    assert inline == [True, False, False]  # plotly.js once per notebook, not in every figure
    assert "window.PlotlyConfig" in init["text/html"]
    assert not re.search(r"<script[^>]+src=", init["text/html"])  # plotly.js embedded, not from a CDN
    assert len(figures) == 2
    for bundle in figures:
        assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}  # JupyterLab / nbconvert
        markup = bundle["text/html"]
        assert 'class="plotly-graph-div"' in markup and "Plotly.newPlot" in markup
        assert not re.search(r"<script[^>]+src=", markup) and "cdn" not in markup.lower()  # nor MathJax
        for config in (figure_config(markup), bundle["application/vnd.plotly.v1+json"]["config"]):
            assert config["locale"] == "zh-CN" and "zh-CN" in config["locales"]
            assert config["showSendToCloud"] is False and config.get("plotlyServerURL", "") == ""
            assert "sendChartToCloud" in config["modeBarButtonsToRemove"] and not config["displaylogo"]
    nbmod.configure_plotly()  # the next setup: plotly.js is published again before its first figure
    fig.show()
    inline = [script in b.get("text/html", "") for b in published]
    assert inline == [True, False, False, True, False]


def test_a_run_stage_publishes_no_plotly_js(monkeypatch, tmp_path):
    """In a report ``run`` is building, plotly.js is not sent with the first figure: the pages load it from
    their ``assets/`` (and the batch would drop it); each figure is published as anywhere else."""
    import IPython.display
    import plotly.graph_objects as go

    from analysis.core.names import RUN_STAGE_MARKER

    published: list[dict] = []
    monkeypatch.setattr(nbmod, "display_html", lambda html, raw=False: published.append({"text/html": html}))
    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw=False: published.append(bundle))
    (tmp_path / RUN_STAGE_MARKER).touch()
    nbmod.configure_plotly(tmp_path)
    fig = go.Figure(go.Bar(x=["调解"], y=[6736]))
    fig.show()
    assert len(published) == 1 and set(published[0]) == {"application/vnd.plotly.v1+json", "text/html"}
    assert "window.PlotlyConfig" not in published[0]["text/html"]
    (tmp_path / RUN_STAGE_MARKER).unlink()  # the same folder, not a stage: plotly.js first, as by hand
    nbmod.configure_plotly(tmp_path)
    fig.show()
    assert len(published) == 3 and "window.PlotlyConfig" in published[1]["text/html"]


def test_a_chart_run_in_a_kernel_keeps_html_in_the_exported_page(processed, tmp_path):
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_code_cell, new_notebook
    from plotly.offline import get_plotlyjs

    from analysis.execute.kernel import KERNEL_NAME, ensure_kernel

    ensure_kernel()
    chart = "charts.bar(ctx.view, ['disputes.mediation_cases', 'disputes.mediators'], '人民调解')"
    book = new_notebook(
        cells=[
            new_code_cell("from analysis.explore import charts, nb"),
            new_code_cell(f"ctx = nb.setup({fp.REGION!r}, {fp.YEAR}, {str(processed)!r}, '', notebook='t')"),
            new_code_cell(f"first = nb.show_chart(ctx, {chart}, 'first')"),
            new_code_cell(f"second = nb.show_chart(ctx, {chart}, 'second')"),
        ]
    )
    book.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    NotebookClient(
        book, kernel_name=KERNEL_NAME, timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    for cell in book.cells:
        assert not [o for o in cell.outputs if o.output_type in ("error", "execute_result")], cell.outputs
    page, _ = HTMLExporter().from_notebook_node(book)
    plotlyjs = get_plotlyjs()
    assert page.count(plotlyjs) == 1  # embedded once, with the first chart
    figures = page.replace(plotlyjs, "").split('class="plotly-graph-div"')[1:]
    assert len(figures) == 2
    for markup in figures:
        config = figure_config(markup)
        assert config["locale"] == "zh-CN" and config["showSendToCloud"] is False
        assert "sendChartToCloud" in config["modeBarButtonsToRemove"]
    for cell in book.cells:
        cell.outputs = []
    bare, _ = HTMLExporter().from_notebook_node(book)
    assert sources(page) == sources(bare)  # the charts load nothing (nbconvert's template may)


def sources(page: str) -> set[str]:
    return set(re.findall(r"<script[^>]+src=[\"']([^\"']+)", page))
