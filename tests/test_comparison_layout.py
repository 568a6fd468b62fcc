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
