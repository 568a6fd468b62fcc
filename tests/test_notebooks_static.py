"""The notebooks: contract of their structure, and every code path run in-process on small fixtures.

The in-process run executes each notebook's code cells in order (as papermill would, with the parameters
cell replaced), capturing what would be displayed instead of starting a kernel.
"""

from __future__ import annotations

import ast
import re
import tempfile
import warnings
from pathlib import Path

import nbformat
import pytest

from analysis.core.catalog import load_catalog
from analysis.explore import nb as nbmod
from tests import fixtures_processed as fp

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PARAMETERS = {
    "region": "通许县",
    "year": 2019,
    "processed_dir": "../data/processed",
    "output_dir": "",
}
CALLABLE_MODULES = {"nb", "selection", "tables", "charts", "quality", "sentences"}


def expected_stems() -> list[str]:
    topics = load_catalog().topics
    return ["00_overview", "01_data_quality"] + [f"{t['order']:02d}_{name}" for name, t in topics.items()]


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def read(path: Path):
    return nbformat.read(path, as_version=4)


def test_one_notebook_per_topic_plus_overview_and_data_quality():
    assert sorted(p.stem for p in notebook_paths()) == sorted(expected_stems())


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_contract(path):
    book = read(path)
    nbformat.validate(book)
    assert book.metadata.kernelspec.name == "fazhi-analysis"
    assert book.metadata.kernelspec.display_name == "法治政府分析 (Python 3)"
    assert book.metadata.get("title_zh")
    first = book.cells[0]
    assert first.cell_type == "code" and first.metadata.get("tags") == ["parameters"]
    assigned = {}
    for stmt in ast.parse(first.source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        assigned[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    assert assigned == PARAMETERS
    tagged = [c for c in book.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


PLAIN_VALUES = (ast.Constant, ast.Name, ast.List, ast.Tuple, ast.Attribute, ast.keyword)


def logic_in(stmt: ast.stmt) -> list[str]:
    """What in a statement is more than importing the package, assigning a name, calling a package
    function with literals, names and attributes: loops, conditions, operators, comprehensions,
    lambdas, subscripts, calls of anything but the package's modules (however the lines are laid out)."""
    if isinstance(stmt, ast.ImportFrom):
        return [] if stmt.module == "analysis.explore" else [ast.unparse(stmt)]
    if isinstance(stmt, ast.Assign):
        if not all(isinstance(t, ast.Name) for t in stmt.targets):
            return [ast.unparse(stmt)]
        value = stmt.value
    elif isinstance(stmt, ast.Expr):
        value = stmt.value
    else:
        return [ast.unparse(stmt)]
    if not isinstance(value, ast.Call):
        return [ast.unparse(stmt)]
    wrong = []
    for node in ast.walk(value):
        if isinstance(node, ast.Call):
            func = node.func
            if not (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in CALLABLE_MODULES
            ):
                wrong.append(ast.unparse(node))
        elif not isinstance(node, PLAIN_VALUES + (ast.expr_context, ast.Call)):
            wrong.append(ast.unparse(node))
    return wrong


@pytest.mark.parametrize(
    "source, logic",
    [
        ('x = nb.show_chart(\n    ctx,\n    charts.bar(ctx.view, ["a", "b"], "t"),\n    "n",\n)', False),
        ("nb.show_table(quality.issue_list(ctx.issues))", False),
        ("for x in ids:\n    nb.show_note(x)", True),
        ("nb.show_note(a if b else c)", True),
        ("nb.show_table(ctx.table[ctx.table.value > 1])", True),
        ("nb.show_lines([x for x in ids], empty='')", True),
        ("open('f').write('x')", True),
        ("import os", True),
    ],
)
def test_the_cell_rule_checks_logic_not_layout(source, logic):
    assert bool([w for s in ast.parse(source).body for w in logic_in(s)]) is logic


def show_chart_calls(source: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "show_chart"
    ]


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_cells_only_call_the_package_and_explain_each_figure(path):
    book = read(path)
    code = [c for c in book.cells[1:] if c.cell_type == "code"]
    setups = [c for c in code if "nb.setup(" in c.source]
    assert len(setups) == 1 and f'notebook="{path.stem}"' in setups[0].source
    for cell in code:
        for stmt in ast.parse(cell.source).body:
            assert not logic_in(stmt), f"{path.name}: only calls of package functions, got {logic_in(stmt)}"
    names = []
    for k, cell in enumerate(book.cells):
        if cell.cell_type == "code" and show_chart_calls(cell.source):
            above = book.cells[k - 1]
            if above.cell_type == "code":  # a table or a second chart of the same section
                above = next(c for c in reversed(book.cells[:k]) if c.cell_type == "markdown")
            assert re.search(r"[\u4e00-\u9fff]", above.source), (
                f"{path.name}: figure without a Chinese explanation"
            )
            names += [call.args[2].value for call in show_chart_calls(cell.source)]
    assert names and len(names) == len(set(names)), f"{path.name}: figure names must be unique"


def run_in_process(
    path: Path, indicators, issues, region: str, out: Path, monkeypatch, staged: bool = True
) -> list:
    """Run the notebook's cells here; ``staged``: ``out`` is a `run` staging folder (else a run by hand)."""
    shown: list = []
    monkeypatch.setattr(nbmod, "_display", shown.append)
    monkeypatch.setattr(nbmod, "_show_plotly", shown.append)
    real_setup = nbmod.setup

    def setup(*args, **kwargs):
        return real_setup(*args, indicators=indicators, issues=issues, catalog=load_catalog(), **kwargs)

    monkeypatch.setattr(nbmod, "setup", setup)
    book = read(path)
    if staged:
        out.mkdir(parents=True, exist_ok=True)
        (out / nbmod.RUN_STAGE_MARKER).touch()  # as `run` marks its staging folder
    params = {**PARAMETERS, "region": region, "output_dir": str(out)}
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a pandas deprecation fails the test
        for cell in book.cells:
            if cell.cell_type != "code":
                continue
            source = (
                "\n".join(f"{k} = {v!r}" for k, v in params.items())
                if "parameters" in cell.metadata.get("tags", [])
                else cell.source
            )
            exec(compile(source, f"{path.name}", "exec"), namespace)
    return shown


def html_of(shown: list) -> str:
    return "\n".join(x.data for x in shown if hasattr(x, "data") and isinstance(x.data, str))


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_runs_on_the_full_year_and_writes_its_figures(path, tmp_path, monkeypatch):
    shown = run_in_process(path, fp.spec_frame(), fp.issues(), fp.REGION, tmp_path, monkeypatch)
    pngs = sorted((tmp_path / "figures").glob(f"{path.stem}_*.png"))
    svgs = sorted((tmp_path / "figures").glob(f"{path.stem}_*.svg"))
    assert pngs and len(pngs) == len(svgs)
    plotly_figures = [x for x in shown if type(x).__name__ == "Figure"]
    assert len(plotly_figures) == len(pngs)
    page = html_of(shown)
    assert "<script" not in page and fp.HOSTILE not in page  # submitted text is escaped
    if path.stem == "01_data_quality":
        assert '&lt;script&gt;alert("x")&lt;/script&gt;&amp;局' in page
        assert "不成立" in page
    if path.stem == "00_overview":
        assert "全年共调解矛盾纠纷6736件，调解成功6609件，成功率98.1%。" in page
        assert "51项的减少未作说明" in page
    if path.stem == "03_powers":
        assert (tmp_path / "figures" / "03_powers_power_list_waterfall.png").exists()


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_runs_to_the_end_for_a_region_with_two_indicators(path, tmp_path, monkeypatch):
    shown = run_in_process(path, fp.tiny_frame(), fp.empty_issues(), "小县", tmp_path, monkeypatch)
    assert "未填报" in html_of(shown)


@pytest.mark.parametrize(
    "path", [NOTEBOOKS / "00_overview.ipynb", NOTEBOOKS / "07_legal_services.ipynb"], ids=lambda p: p.stem
)
def test_yoy_and_trends_appear_with_several_years(path, tmp_path, monkeypatch):
    shown = run_in_process(path, fp.history_frame(), fp.issues(), fp.REGION, tmp_path, monkeypatch)
    page = html_of(shown)
    assert "2018年" in page and "同比变化" in page
    assert (tmp_path / "figures" / f"{path.stem}_trend.png").exists()
    if path.stem == "00_overview":
        assert "调解矛盾纠纷6736件，比2018年增加674件，增长11.1%。" in page
        assert "杞县" in page  # the second region is compared


def test_plotly_output_is_offline(tmp_path, monkeypatch):
    import plotly.graph_objects as go
    import plotly.io as pio

    nbmod.configure_plotly()
    assert pio.renderers.default == "plotly_mimetype+notebook"
    fig = go.Figure(go.Bar(x=["调解"], y=[6736]))
    bundle: dict = {}
    for name in pio.renderers.default.split("+"):  # what each configured renderer hands to Jupyter
        bundle.update(pio.renderers[name].to_mimebundle(fig.to_dict()))
    assert "application/vnd.plotly.v1+json" in bundle and "text/html" in bundle
    assert not re.search(r"<script[^>]+src=", bundle["text/html"])  # no CDN (plotly.js or MathJax)
    assert "cdn" not in bundle["text/html"].lower()


def test_setup_rejects_a_non_integer_year(tmp_path):
    with pytest.raises(ValueError):
        nbmod.setup(
            "通许县",
            "二〇一九",
            tmp_path,
            tmp_path,
            "00_overview",
            indicators=fp.spec_frame(),
            issues=fp.issues(),
        )


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_markdown_states_no_finding_of_one_year_and_names_the_right_units(path):
    # The same notebook runs every year: its text may not assert what only the 2019 data shows (the power
    # list did not balance in 2019; it may in 2020), and a list of units must be the charted ones.
    catalog = load_catalog()
    book = read(path)
    for k, cell in enumerate(book.cells):
        if cell.cell_type != "markdown":
            continue
        assert "并不平衡" not in cell.source and "斜线柱" not in cell.source, path.name
        for listed in re.findall(r"单位不同（([^）]+)）", cell.source):
            chart = next(c for c in book.cells[k + 1 :] if "nb.show_chart(" in c.source)
            ids = re.findall(r'"(\w+\.\w+)"', chart.source)
            assert set(listed.split("、")) == {catalog.indicators[i].unit for i in ids}, path.name


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "output_dir, cwd",
    [("report", "notebooks"), ("", "notebooks"), ("report", "report/notebooks")],
    ids=["output_dir=report", "output_dir empty", "opened inside the report"],
)
def test_a_run_by_hand_never_writes_a_published_report(output_dir, cwd, tmp_path, monkeypatch):
    # 07_legal_services run by hand in JupyterLab for 杞县 while its output_dir names 通许县's report
    published = tmp_path / "reports" / "通许县" / "2019"
    (published / "figures").mkdir(parents=True)
    (published / "notebooks").mkdir()
    (published / "index.html").write_text("<p>已发布</p>", encoding="utf-8")
    (published / "figures" / "07_legal_services_mediation.png").write_bytes(b"published figure")
    before = folder_state(published)
    here = published / "notebooks" if cwd.startswith("report") else tmp_path / "notebooks"
    here.mkdir(exist_ok=True)
    monkeypatch.chdir(here)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    frame = fp.spec_frame().assign(region="杞县")
    out = published if output_dir else ""
    shown = run_in_process(
        NOTEBOOKS / "07_legal_services.ipynb",
        frame,
        fp.empty_issues(),
        "杞县",
        out,
        monkeypatch,
        staged=False,
    )
    assert folder_state(published) == before
    base = tmp_path / "tmp" / "fazhi-analysis" if cwd.startswith("report") else here / "output"
    scratch = base / "scratch" / "杞县_2019" / "figures"
    assert (scratch / "07_legal_services_mediation.png").read_bytes().startswith(b"\x89PNG")
    assert "草稿文件夹" in html_of(shown)


def test_show_functions_return_what_they_showed(tmp_path, monkeypatch):
    shown: list = []
    monkeypatch.setattr(nbmod, "_display", shown.append)
    monkeypatch.setattr(nbmod, "_show_plotly", shown.append)
    ctx = nbmod.setup(
        fp.REGION, fp.YEAR, tmp_path, tmp_path, "07_legal_services",
        indicators=fp.history_frame(), issues=fp.issues(), catalog=load_catalog(),
    )  # fmt: skip
    table = nbmod.show_indicators(ctx, "legal_services")
    assert list(table["指标"])[:1] == [load_catalog().indicators["disputes.legal_service_centers"].name_zh]
    from analysis.explore import charts
    from analysis.explore.chartspec import Chart

    fig = nbmod.show_chart(ctx, charts.bar(ctx.view, ["disputes.mediators"], "调解员"), "m")
    assert fig is shown[-2] and type(fig).__name__ == "Figure"  # the plotly figure shown, then the file note
    note = nbmod.show_chart(ctx, Chart("bar", "调解员", missing=("调解员",)), "x")
    assert isinstance(note, str) and "本图略" in note
    # the tidy table behind the notebook: one row per catalog indicator, earlier years beside
    tidy = ctx.table
    assert list(tidy["indicator_id"]) == list(load_catalog().indicators)
    row = tidy.set_index("indicator_id").loc["disputes.mediation_cases"]
    assert row["value"] == 6736 and row["unit"] == "件" and row["department"] == "县司法局"
    assert row["cell"] and row["source_file"] and row["value_2018"] == 6062


DEVELOPER_WORDS = re.compile(
    r"papermill|\.yaml|\.csv|key_figures|processed_dir|output_dir|parameters|笔记本|[a-z]+-[a-z]+"
)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_text_shown_on_the_pages_has_no_developer_words(path):
    """Markdown that reaches a report page speaks to readers: no tool, file or parameter names, no issue codes.
    (A ``remove-cell`` note for analysts in JupyterLab may name the parameters.)"""
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "markdown" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        found = DEVELOPER_WORDS.findall(cell.source)
        assert not found, f"{path.name}: {found} in {cell.source[:80]!r}"
