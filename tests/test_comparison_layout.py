"""The comparison page fits a screen (issue 21): the key figures are one small-multiples figure per topic
(each indicator a panel with its own unit, each region one labelled row), readable at 2 regions and at 30;
the page height is measured in Chromium in test_site.py."""

from __future__ import annotations

import pytest

from analysis.core.catalog import load_catalog
from analysis.explore import comparison
from analysis.explore.interactive_figures import to_plotly
from analysis.explore.static_figures import to_matplotlib
from tests import fixtures_processed as fp


def regions(n: int) -> comparison.Comparison:
    rows = [
        fp.rows(
            region=f"第{k:02d}县",
            values={"disputes.mediation_cases": 100.0 + k} if k % 7 else {"functions.gov_service_items": 5.0},
        )
        for k in range(n)
    ]
    return comparison.compare(fp.frame(fp.rows(), *rows), fp.empty_issues(), fp.YEAR, catalog=load_catalog())


@pytest.mark.parametrize("n", [1, 29])
def test_one_figure_per_topic_with_every_region_labelled(n: int) -> None:
    cmp = regions(n)
    charts = comparison.topic_charts(cmp)
    topics = {load_catalog().indicators[i].topic for i in comparison.key_ids()}
    assert [t for t, _ in charts] == list(dict.fromkeys(t for t, _ in charts)) and {
        t for t, _ in charts
    } == topics
    assert sum(len(c.series) for _, c in charts) == len(comparison.key_ids())  # every key figure, once
    for _, chart in charts:
        fig = to_plotly(chart)
        assert list(fig.layout.yaxis.tickvals) == cmp.regions == list(fig.layout.yaxis.ticktext)
        assert fig.layout.height >= 20 * len(cmp.regions)  # a readable line per region
        bars = [t for t in fig.data if t.type == "bar"]
        assert len(bars) == len(chart.series) and all(len(b.y) == len(cmp.regions) for b in bars)
        static = to_matplotlib(chart)
        labels = [t.get_text() for t in static.axes[0].get_yticklabels()]
        assert sorted(labels) == sorted(cmp.regions)


def test_a_region_that_did_not_report_says_so_in_its_row() -> None:
    cmp = regions(8)  # 第00县 reported nothing
    chart = next(c for _, c in comparison.topic_charts(cmp) if any(n == "调解矛盾纠纷" for n, _ in c.series))
    fig = to_plotly(chart)
    bar = next(t for t in fig.data if t.name == "调解矛盾纠纷")
    row = list(bar.y).index("第00县")
    assert bar.text[row] == "未填报" and bar.x[row] == 0
    assert bar.text[list(bar.y).index("第01县")] == "101件"


def test_the_table_groups_key_figures_by_topic_and_pins_the_region() -> None:
    cmp = regions(2)
    table = comparison.region_table(cmp)
    catalog = load_catalog()
    by_name = {f"{i.name_zh}（{i.unit}）": i.topic for i in catalog.indicators.values()}
    topics = [by_name[c] for c in table.columns if c in by_name]
    runs = [t for k, t in enumerate(topics) if k == 0 or topics[k - 1] != t]
    assert len(runs) == len(set(topics)) and len(topics) == len(comparison.key_ids())  # each topic together
    assert table.columns[0] == "地区" and "fazhi-pinned" in comparison.SORTABLE_CLASSES


def thirty_regions() -> comparison.Comparison:
    """30 regions, some with long names; every fourth reported only its disputes (未填报 elsewhere)."""
    spec = fp.spec_values()
    names = [f"开封市第{k:02d}城乡一体化示范区" if k % 5 == 0 else f"第{k:02d}县" for k in range(30)]
    rows = [
        fp.rows(
            region=name,
            values={i: v * (1 + k / 7) for i, (v, _) in spec.items()}
            if k % 4
            else {"disputes.mediation_cases": 10.0 + k},
        )
        for k, name in enumerate(names)
    ]
    return comparison.compare(fp.frame(*rows), fp.empty_issues(), fp.YEAR, catalog=load_catalog())


@pytest.mark.browser
def test_at_30_regions_every_region_is_labelled_in_each_figure_as_drawn(tmp_path):
    """The topic figures, the balance and the completeness chart of 30 regions, drawn by the pages' own
    report.js and CSS (two to a row, as on the comparison page) in a 1280 px wide Chromium: every region's
    name is drawn on its row, no two names overlap, no name, title or note runs off its figure, and no
    panel title is drawn over the figure's title."""
    import json

    from playwright.sync_api import sync_playwright

    from analysis.site.pages import chart_markup
    from analysis.site.static import write_assets
    from tests.test_browser import CHROMIUM, LAUNCH_ARGS, _chromium_or_skip, block_network

    _chromium_or_skip()
    cmp = thirty_regions()
    charts = [c for _, c in comparison.topic_charts(cmp)]
    charts += [comparison.balance_chart(cmp), comparison.completeness_chart(cmp)]
    assert not [c.title for c in charts if c.empty]
    write_assets(tmp_path)
    children = "".join(
        f'<div class="jp-OutputArea-child">{chart_markup(json.loads(to_plotly(c).to_json()), k + 1)}</div>'
        for k, c in enumerate(charts)
    )
    page = tmp_path / "page.html"
    page.write_text(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="assets/notebook.css"><link rel="stylesheet" href="assets/report.css">'
        '</head><body class="fazhi-page"><div class="jp-Cell celltag_side-by-side">'
        f'<div class="jp-Cell-outputArea">{children}</div></div>'
        '<script src="assets/plotly.min.js"></script><script src="assets/report.js"></script></body></html>',
        encoding="utf-8",
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.route("**/*", block_network([]))
            tab = context.new_page()
            tab.goto(page.as_uri(), wait_until="load")
            tab.wait_for_function(
                "n => document.querySelectorAll('div.fazhi-chart .js-plotly-plot .main-svg').length >= n",
                arg=len(charts),
                timeout=60_000,
            )
            drawn = tab.evaluate(
                """() => [...document.querySelectorAll('div.fazhi-chart')].map(c => {
                    const svg = c.querySelector('.main-svg').getBoundingClientRect();
                    const box = e => { const r = e.getBoundingClientRect();
                        return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
                    return {width: svg.width, left: svg.left, right: svg.right,
                            ticks: [...c.querySelectorAll('.ytick text')].map(box),
                            title: box(c.querySelector('.gtitle')),
                            notes: [...c.querySelectorAll('.annotation-text')].map(box)}; })"""
            )
        finally:
            browser.close()
    assert len(drawn) == len(charts)
    assert all(d["width"] < 700 for d in drawn)  # two to a row at 1280 px
    for chart, fig in zip(charts, drawn, strict=True):
        names = [t["text"] for t in fig["ticks"]]
        assert sorted(names) == sorted(chart.labels), chart.title  # each row named once, as drawn
        if chart.kind == "panels":
            assert sorted(names) == sorted(cmp.regions)
        rows = sorted(fig["ticks"], key=lambda t: t["top"])
        assert all(a["bottom"] <= b["top"] + 1 for a, b in zip(rows, rows[1:], strict=False)), chart.title
        for item in [*fig["ticks"], *fig["notes"], fig["title"]]:
            assert fig["left"] - 1 <= item["left"] and item["right"] <= fig["right"] + 1, (chart.title, item)
        # the panels' titles sit between the figure's title and the bars, never on the title
        assert all(n["top"] >= fig["title"]["bottom"] - 1 for n in fig["notes"]), chart.title
    completeness = drawn[-1]
    assert sorted(t["text"] for t in completeness["ticks"]) == sorted(cmp.regions)


def test_the_topic_figures_list_their_print_files_once_folded(tmp_path, monkeypatch):
    """On a page the topic figures sit side by side; their 14 download links are one folded list after
    them (readers' words), not a line under each figure. A detail table is folded the same way."""
    import re

    from IPython.display import HTML

    from analysis.explore import nb as nbmod

    shown: list = []
    monkeypatch.setattr(nbmod, "_display", shown.append)
    monkeypatch.setattr(nbmod, "_show_plotly", shown.append)
    cmp = regions(2)
    cmp.figures_dir, cmp.scratch = tmp_path / "figures", False  # as in a run stage
    figures = comparison.show_topics(cmp)
    markup = [item.data for item in shown if isinstance(item, HTML)]
    assert len(shown) == len(figures) + 1 and len(markup) == 1  # the figures, then one list
    assert markup[0].startswith('<details class="fazhi-figure-files"><summary>下载本节的印刷用图')
    links = re.findall(r'<a href="figures/([^"]+)"[^>]*>(.*?)</a>', markup[0])
    assert len(links) == 2 * len(figures) and {t for _, t in links} == {
        "下载印刷用图（PNG）",
        "下载印刷用图（SVG）",
    }
    assert all((cmp.figures_dir / name).is_file() for name, _ in links)
    shown.clear()
    table = nbmod.show_folded(comparison.checks_table(cmp), "各地区每条勾稽关系的计算结果（点击展开）")
    assert len(shown) == 1 and shown[0].data.startswith("<details><summary>各地区每条勾稽关系的计算结果")
    assert "<table" in shown[0].data and len(table) == len(comparison.checks_table(cmp))
