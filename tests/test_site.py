"""The site: the comparison of regions (module and notebook, in-process), then a second year and a second
region built from filled templates in a temporary folder, ingested and run in batch: the site index, the
comparison page of each year, the links between a region's years, and the year-over-year text."""

from __future__ import annotations

import ast
import html
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import cli
from analysis.core import names
from analysis.core.catalog import load_catalog
from analysis.core.names import RUN_STAGE_MARKER
from analysis.core.store import write_tables
from analysis.explore import comparison
from analysis.ingest.pipeline import ingest
from analysis.report import batch
from tests import fixtures_processed as fp
from tests import site_data
from tests.test_notebooks_static import html_of

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
COMPARISON_NB = NOTEBOOKS / names.COMPARISON_NOTEBOOK


@pytest.fixture(scope="module")
def cmp():
    """2019 with 通许县 (every figure) and 杞县 (only the disputes figures, doubled)."""
    return comparison.compare(fp.history_frame(), fp.issues(), 2019)


# --- the comparison module -------------------------------------------------------------------------------


def test_each_key_figure_is_one_unit_sorted_and_missing_regions_are_named(cmp):
    chart = comparison.indicator_chart(cmp, "disputes.mediation_cases")
    assert chart.kind == "bar" and chart.labels == ("杞县", "通许县") and chart.values == (13472, 6736)
    assert chart.unit == "件" and chart.missing == ()
    only_one = comparison.indicator_chart(cmp, "functions.gov_service_items")
    assert only_one.kind == "tiles" and only_one.labels == ("通许县",)  # one region: a card, no lone bar
    assert only_one.missing == ("杞县",) and 0 not in only_one.values
    rate = comparison.indicator_chart(cmp, "disputes.mediation_success_rate")
    assert rate.kind == "rates" and rate.unit == "%"


def test_region_table_says_missing_never_zero(cmp):
    table = comparison.region_table(cmp).set_index("地区")
    assert table.loc["杞县", "政务服务事项（项）"] == "未填报"
    assert table.loc["通许县", "政务服务事项（项）"] == "1146"
    assert table.loc["通许县", "完成“双替代”户数（户）"] == "1.1万"
    assert table.loc["通许县", "已填报指标（项）"] > table.loc["杞县", "已填报指标（项）"]
    assert (table["错误（条）"] >= 0).all()


def test_identity_checks_per_region(cmp):
    lines = comparison.open_checks(cmp)
    assert len([x for x in lines if x.startswith("通许县：") and "少51项" in x]) == 1
    assert not any(x.startswith("杞县：权责清单") for x in lines)  # not checked (no data), not "balanced"
    chart = comparison.balance_chart(cmp)
    assert chart.labels == ("通许县",) and chart.texts == ("−51项",) and chart.highlight == (0,)
    assert chart.missing == ("杞县",)
    table = comparison.checks_table(cmp)
    assert set(table["地区"]) == {"通许县", "杞县"}
    assert (table.loc[table["地区"] == "杞县", "结果"].str.startswith("未检查")).any()


def test_completeness_per_region_and_department(cmp):
    chart = comparison.completeness_chart(cmp)
    assert chart.labels == ("通许县", "杞县") and chart.unit == "项"
    reported, missing = (dict(zip(chart.labels, s, strict=True)) for _, s in chart.series)
    assert reported["通许县"] + missing["通许县"] == len(load_catalog().reported)
    table = comparison.completeness_table(cmp).set_index("填报单位")
    assert table.loc["县司法局", "通许县"].endswith(f"/{len(load_catalog().for_department('县司法局'))}")
    assert (
        table.loc["县发展和改革委员会", "杞县"] == "未收到" if "县发展和改革委员会" in table.index else True
    )
    assert (table["杞县"] == "未收到").any()


# --- the comparison notebook -----------------------------------------------------------------------------


def test_comparison_notebook_contract():
    book = nbformat.read(COMPARISON_NB, as_version=4)
    nbformat.validate(book)
    assert book.metadata.kernelspec.name == "fazhi-analysis" and book.metadata.get("title_zh") == "地区对比"
    first = book.cells[0]
    assert first.cell_type == "code" and first.metadata.get("tags") == ["parameters"]
    names = [ast.unparse(s.targets[0]) for s in ast.parse(first.source).body]
    assert names == ["year", "processed_dir", "output_dir"]
    for k, cell in enumerate(book.cells[1:], start=1):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None
        for stmt in ast.parse(cell.source).body:
            if isinstance(stmt, ast.ImportFrom):
                assert stmt.module == "analysis.explore"
                continue
            call = stmt.value
            assert isinstance(call, ast.Call) and call.func.value.id in {"nb", "comparison"}, ast.unparse(
                stmt
            )
        if "show_chart(" in cell.source or "show_key_figures(" in cell.source:
            above = next(c for c in reversed(book.cells[:k]) if c.cell_type == "markdown")
            assert re.search(r"[\u4e00-\u9fff]{10}", above.source)


def run_comparison_in_process(frame, issues, out: Path, monkeypatch) -> list:
    from analysis.explore import nb as nbmod

    shown: list = []
    monkeypatch.setattr(nbmod, "_display", shown.append)
    monkeypatch.setattr(nbmod, "_show_plotly", shown.append)
    real = comparison.setup
    monkeypatch.setattr(comparison, "setup", lambda *a, **k: real(*a, indicators=frame, issues=issues, **k))
    (out / RUN_STAGE_MARKER).touch()  # as `run` does: figures into out/figures
    book = nbformat.read(COMPARISON_NB, as_version=4)
    namespace: dict = {}
    for cell in book.cells:
        if cell.cell_type == "code":
            source = (
                f"year = 2019\nprocessed_dir = 'unused'\noutput_dir = {str(out)!r}"
                if "parameters" in cell.metadata.get("tags", [])
                else cell.source
            )
            exec(compile(source, COMPARISON_NB.name, "exec"), namespace)
    return shown


def test_comparison_notebook_runs_and_writes_every_figure(tmp_path, monkeypatch):
    shown = run_comparison_in_process(fp.history_frame(), fp.issues(), tmp_path, monkeypatch)
    figures_shown = [x for x in shown if type(x).__name__ == "Figure"]
    pngs = sorted((tmp_path / "figures").glob("地区对比_*.png"))
    assert figures_shown and len(pngs) == len(figures_shown)
    page = html_of(shown)
    assert "fazhi-sortable" in page and "未填报" in page and "<script" not in page
    assert fp.HOSTILE not in page


def test_comparison_notebook_with_one_region_says_so(tmp_path, monkeypatch):
    shown = run_comparison_in_process(fp.spec_frame(), fp.issues(), tmp_path, monkeypatch)
    assert "不足以比较" in html_of(shown)


# --- two regions × two years, from filled templates, through ingest and the batch ------------------------


def sortable_table(page: str) -> pd.DataFrame:
    """The first ``fazhi-sortable`` table of ``page`` (cell texts, entities decoded)."""
    markup = re.search(r"<table[^>]*fazhi-sortable.*?</table>", page, re.S)[0]
    cells = [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", markup, re.S)
    ]
    return pd.DataFrame(cells[1:], columns=cells[0])


@pytest.fixture(scope="module")
def site_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    raw = site_data.build_raw(root / "raw")
    result = ingest(raw, load_catalog())
    assert not (result.issues["severity"] == "error").any(), result.issues.to_string()
    write_tables(root / "processed", result.indicators, result.issues)
    notebooks = root / "notebooks"  # the overview (year-over-year text) and the comparison notebook
    (notebooks / "site").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "00_overview.ipynb", notebooks)
    shutil.copy(COMPARISON_NB, notebooks / names.COMPARISON_NOTEBOOK)
    results = batch.run_batch(
        "all", "all", root / "processed", root / "reports", notebooks_dir=notebooks, workers=2, timeout=300
    )
    return root, results, result.indicators


def test_batch_builds_four_reports_and_two_comparisons(site_run):
    root, results, _ = site_run
    assert not [r for r in results if r.failed], cli.summary_lines(results)
    labels = sorted(r.target.label for r in results)
    assert labels == sorted(
        [
            "通许县 2019 年",
            "通许县 2020 年",
            "杞县 2019 年",
            "杞县 2020 年",
            "各地区 2019 年",
            "各地区 2020 年",
        ]
    )
    for year in (2019, 2020):
        assert (root / "reports" / str(year) / names.COMPARISON_PAGE).is_file()
    lines = "\n".join(cli.summary_lines(results))
    assert f"2020/{names.COMPARISON_PAGE}" in lines


def test_site_index_lists_every_region_year_with_status(site_run):
    root, _, indicators = site_run
    page = (root / "reports" / names.INDEX).read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td>(.*?)</td><td>(\d{4})</td><td>(.*?)</td>.*?<td>(\d+) / (\d+)</td>", page)
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        [("通许县", "2019"), ("通许县", "2020"), ("杞县", "2019"), ("杞县", "2020")]
    )
    catalog_size = len(load_catalog().reported)
    for region, year, link, reported, expected in rows:
        assert f'href="{region}/{year}/index.html"' in link
        assert (root / "reports" / region / year / "index.html").is_file()
        assert int(expected) == catalog_size
        mine = indicators[
            (indicators["region"] == region) & (indicators["year"] == int(year)) & ~indicators["derived"]
        ]
        assert int(reported) == len(mine)
    assert ("杞县", "2020") in {(r[0], r[1]) for r in rows if int(r[3]) == catalog_size - 1}
    for year in (2019, 2020):
        assert f'href="{year}/{names.COMPARISON_PAGE}"' in page
    assert "fazhi-sortable" in page and "9 / 9" not in page  # one notebook per report here: "1 / 1 页正常"
    assert "1 / 1 页正常" in page


def test_each_report_links_to_the_regions_other_years(site_run):
    root, _, _ = site_run
    index = (root / "reports" / "杞县" / "2019" / "index.html").read_text(encoding="utf-8")
    assert 'href="../2020/index.html"' in index and 'href="../../index.html"' in index
    assert f'href="../../2019/{names.COMPARISON_PAGE}"' in index
    assert 'href="../2019/index.html"' not in index  # not a link to itself
    for ref in re.findall(r'href="(\.\./[^"]+)"', index):
        assert (root / "reports" / "杞县" / "2019" / ref).resolve().is_file(), ref


def test_the_second_year_gets_year_over_year_text(site_run):
    root, _, _ = site_run
    page = (root / "reports" / "通许县" / "2020" / "00_overview.html").read_text(encoding="utf-8")
    assert "调解矛盾纠纷7410件，比2019年增加674件，增长10%。" in page
    assert "权责清单未说明的增减" not in page.split("与上年相比")[-1].split("各专题指标填报情况")[0]
    first = (root / "reports" / "通许县" / "2019" / "00_overview.html").read_text(encoding="utf-8")
    assert "暂不作同比" in first


def test_comparison_page_shows_missing_as_missing(site_run):
    root, _, _ = site_run
    page = (root / "reports" / "2020" / names.COMPARISON_PAGE).read_text(encoding="utf-8")
    assert "杞县" in page and "通许县" in page and "返回报告目录" in page
    assert 'href="../index.html"' in page
    assert "未填报" in page and "fazhi-sortable" in page
    table = sortable_table(page).set_index("地区")
    assert table.loc["杞县", "政务服务事项（项）"] == "未填报"
    assert "通许县：权责清单增减平衡" in page and "杞县：权责清单" not in page
    assert "少56项" in page  # 2020: 2976 − 42 + 48 = 2982, reported 2926


def test_nothing_on_a_page_is_shown_twice(site_run):
    """A ``show_*`` call returns what it showed; a cell that ends with one unassigned would show its table,
    chart or list a second time as the cell's result (the comparison page once drew every check twice)."""
    root, _, _ = site_run
    executed = sorted((root / "reports").rglob("notebooks/*.ipynb"))
    assert len(executed) >= 6  # four overviews and two comparisons
    repeated = [
        (path.relative_to(root).as_posix(), k)
        for path in executed
        for k, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if any(out.get("output_type") == "execute_result" for out in cell.get("outputs", []))
    ]
    assert repeated == []


# --- the new pages in headless Chromium, from a copied folder, network blocked ---------------------------

TOOLBAR_LEAK = re.compile(r"share|cloud|chart studio|edit in|分享|云", re.IGNORECASE)


def _column(page, header: str) -> list[str]:
    return page.evaluate(
        """h => { const t = document.querySelector('table.fazhi-sortable');
                  const k = [...t.tHead.rows[0].cells].findIndex(c => c.textContent.trim() === h);
                  return [...t.tBodies[0].rows].map(r => r.cells[k].textContent.trim()); }""",
        header,
    )


def _sort_by(page, header: str) -> list[str]:
    page.locator("table.fazhi-sortable th", has_text=header).first.click()
    return _column(page, header)


@pytest.mark.browser
def test_site_pages_work_offline_in_chromium(site_run, tmp_path):
    from tests.test_browser import CHROMIUM, LAUNCH_ARGS, _chromium_or_skip, block_network, expected_charts

    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    root, _, _ = site_run
    copied = tmp_path / "复制到内网" / "reports"
    shutil.copytree(root / "reports", copied)
    targets = [
        copied / names.INDEX,
        copied / "2019" / names.COMPARISON_PAGE,
        copied / "2020" / names.COMPARISON_PAGE,
        copied / "杞县" / "2020" / "index.html",
    ]
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", block_network(blocked))
            for path in targets:
                expected = expected_charts(path.parent, path)
                page = context.new_page()
                problems: list[str] = []
                page.on("console", lambda m, p=problems: m.type == "error" and p.append(m.text))
                page.on("pageerror", lambda e, p=problems: p.append(str(e)))
                page.on("requestfailed", lambda r, p=problems: p.append(f"requestfailed: {r.url}"))
                page.goto(path.as_uri(), wait_until="load")
                if expected:
                    page.wait_for_function(
                        "n => [...document.querySelectorAll('div.fazhi-chart')].filter("
                        "c => c.querySelector('.js-plotly-plot .main-svg')).length >= n",
                        arg=expected,
                        timeout=60_000,
                    )
                drawn = page.evaluate(
                    "() => [...document.querySelectorAll('div.fazhi-chart')]"
                    ".filter(c => c.querySelector('.js-plotly-plot .main-svg')).length"
                )
                assert drawn == expected == page.locator("div.fazhi-chart").count(), path.name
                if path.name == names.COMPARISON_PAGE:
                    assert expected >= 5  # key figures, power balance, completeness
                    titles = page.evaluate(
                        "() => [...document.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title') || '')"
                    )
                    assert titles and not [t for t in titles if TOOLBAR_LEAK.search(t)], titles
                    column = "政务服务事项（项）"
                    ascending = _sort_by(page, column)
                    if path.parent.name == "2020":
                        assert ascending[-1] == "未填报" and _sort_by(page, column)[-1] == "未填报"
                if path == copied / names.INDEX:
                    counts = _sort_by(page, "已填报指标")
                    assert counts == sorted(counts, key=lambda c: int(c.split("/")[0]))
                    assert _sort_by(page, "已填报指标") == counts[::-1]
                    assert page.locator("a", has_text="打开报告").count() == 4
                assert page.evaluate("document.documentElement.lang") == "zh-CN"
                assert len(re.findall(r"[\u4e00-\u9fff]", page.inner_text("body"))) > 20
                page.wait_for_timeout(200)
                assert problems == [], f"{path}: {problems}"
                page.close()
            assert blocked == []
            # the links between the pages lead to files of the copied folder
            for path in targets:
                text = path.read_text(encoding="utf-8")
                for ref in re.findall(r'(?:src|href)="([^"#]+)"', text):
                    assert (path.parent / ref).resolve().is_file(), f"{path} → {ref}"
        finally:
            browser.close()


@pytest.mark.browser
def test_overview_and_comparison_pages_pass_axe_without_serious_violations(site_run):
    """The site overview, both comparison pages and a report's index: no serious or critical axe-core
    violation, every chart with its values in words."""
    from tests.test_browser import _chromium_or_skip, accessibility_problems

    _chromium_or_skip()
    root, _, _ = site_run
    reports = root / "reports"
    paths = [
        reports / names.INDEX,
        reports / "2019" / names.COMPARISON_PAGE,
        reports / "2020" / names.COMPARISON_PAGE,
        reports / "杞县" / "2020" / names.INDEX,
        reports / "杞县" / "2020" / "00_overview.html",
    ]
    assert accessibility_problems(paths) == {}


@pytest.mark.browser
def test_the_comparison_page_labels_every_region_and_pins_the_table(site_run):
    """Every topic figure names both regions on its rows; the table scrolls sideways by itself with the
    region column pinned; at 1280 × 800 the page is under 3 screen heights (it was 4,120–4,330 px with
    these two regions before the topic figures went side by side and the detail tables were folded)."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, LAUNCH_ARGS, _chromium_or_skip, block_network, open_drawn

    _chromium_or_skip()
    root, _, _ = site_run
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.route("**/*", block_network([]))
            page = open_drawn(context, root / "reports" / "2019" / names.COMPARISON_PAGE)
            labels = page.evaluate(
                """() => [...document.querySelectorAll('div.fazhi-chart')]
                    .filter(c => (c.getAttribute('aria-label') || '').includes('各地区'))
                    .map(c => [...c.querySelectorAll('.ytick text')].map(t => t.textContent))"""
            )
            pinned = page.evaluate(
                "() => getComputedStyle(document.querySelector('table.fazhi-pinned td:first-child')).position"
            )
            height = page.evaluate("document.documentElement.scrollHeight")
            folded = page.evaluate(
                "() => [...document.querySelectorAll('details:not([open]) > summary')].map(s => s.textContent)"
            )
        finally:
            browser.close()
    drawn = [x for x in labels if x]
    topics = {load_catalog().indicators[i].topic for i in comparison.key_ids()}
    assert len(drawn) >= len(topics)  # one figure per topic (and the balance and completeness charts)
    assert all(sorted(set(t)) == ["杞县", "通许县"] for t in drawn), drawn
    assert pinned == "sticky"
    assert height < 3 * 800, f"the comparison page of 2 regions is {height} px tall at 1280 × 800"
    assert any("勾稽关系" in s for s in folded) and any("填报单位" in s for s in folded), folded
