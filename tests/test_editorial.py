"""What an editor would strike (issue 8, items 6 and 9): the power-list gap as an achievement, requests to
the departments inside paste-ready sentences, mixed units on one axis, a single bar for a lone
percentage, trends that drop indicators silently, two ways of writing 1.1万户, uneven donut shares."""

from __future__ import annotations

import re

import pytest

from analysis.core.catalog import load_catalog
from analysis.explore import charts, chartspec, interactive_figures, quality, selection, sentences, tables
from analysis.explore import nb as nbmod
from analysis.site import index
from tests import fixtures_processed as fp
from tests.test_notebooks_static import notebook_paths, run_in_process

GAP = "derived.power_items_unexplained_change"


@pytest.fixture(scope="module")
def view():
    return selection.select(fp.spec_frame(), fp.REGION, fp.YEAR)


def two_years(gap_2018: int, gap_2019: int) -> selection.View:
    """通许县 2018 and 2019 whose power lists miss their balance by the given gaps."""
    spec = {k: v for k, (v, _) in fp.spec_values().items()}

    def year(gap: int) -> dict:
        return {**spec, "functions.power_items_after": 2705 - 38 + 44 + gap}

    return selection.select(
        fp.frame(fp.rows(year=2018, values=year(gap_2018)), fp.rows(values=year(gap_2019))),
        fp.REGION,
        fp.YEAR,
    )


# --- item 6: the gap is a check to resolve --------------------------------------------------------------


def test_a_gap_gets_no_year_on_year_sentence():
    history = two_years(-51, 0)  # "权责清单未说明的增减0项，比2018年增加51项" must not be written
    assert history.get(GAP) == 0 and history.get(GAP, 2018) == -51
    lines = sentences.yoy(history, [*sentences.key_figures(), GAP])
    assert lines and not any("未说明" in x for x in lines)
    assert "调整后行政职权事项2711项，比2018年增加51项，增长1.9%。" in lines  # the real figure still is


def test_the_gap_is_a_check_not_a_key_figure(view):
    assert load_catalog().indicators[GAP].check and GAP not in sentences.key_figures()
    assert charts.tiles(view, sentences.key_figures(), "主要数字").labels.count("权责清单未说明的增减") == 0
    content = index.index_content(view, fp.empty_issues())
    assert "权责清单未说明的增减" not in [k.name for k in content.key_figures]
    assert content.checks == quality.open_checks(view) and content.checks
    page = index.render_index(
        region=fp.REGION, year=fp.YEAR, pages=[], content=content, workbook=None, generated="2020-01-01 00:00"
    )
    cards = page[
        page.index('<div class="fazhi-cards">') : page.index("</section>", page.index("fazhi-cards"))
    ]
    assert "51" not in cards and "未说明" not in cards
    section = page[page.index('<section class="fazhi-checks">') :]
    assert "待核实的勾稽差额" in section and "少51项" in section and "01_data_quality.html" in section


def test_paste_ready_sentences_ask_nothing_of_the_departments(view):
    for v in (view, two_years(0, 9)):
        drafts = sentences.draft(v)
        assert drafts and all("核实" not in d.text and "请填报" not in d.text for d in drafts)
    gap = {d.id: d for d in sentences.draft(view, "powers")}["power_list_gap"].text
    assert gap.endswith("另有51项的减少未作说明。")
    (check,) = quality.open_checks(view)
    assert "少51项" in check and check.endswith("请填报单位核实并说明。")
    assert quality.open_checks(two_years(0, 0)) == []


def test_a_check_listed_as_key_figure_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"key_figures: [{GAP}, no.such]\nsentences: []\n", encoding="utf-8")
    problems = sentences.check_templates(sentences.load_templates(path), load_catalog())
    assert problems == [
        f"key_figures: {GAP} is a check to resolve (check: true), not a key figure",
        "key_figures: unknown indicator no.such",
    ]


# --- item 9: charts ------------------------------------------------------------------------------------


def test_mixed_units_are_never_bars_on_one_axis(view):
    mixed = ["functions.power_items_basis_revised", "functions.certificate_review_depts"]
    chart = charts.bar(view, [*mixed, "functions.intermediary_services_kept"], "其他规范事项")
    assert chart.kind == "tiles" and chart.texts == ("260项", "32个", "16项")
    assert "单位不同（项、个）" in chart.note
    same = charts.bar(view, ["disputes.legal_service_centers", "disputes.legal_service_stations"], "网络")
    assert same.kind == "bar" and same.unit == "个"


def test_a_lone_percentage_is_a_card(view):
    lone = charts.rates(view, ["functions.high_freq_window_share"], "综合窗口")
    assert lone.kind == "tiles" and lone.texts == ("80%",)
    pair = ["disputes.mediation_success_rate", "derived.mediation_success_rate_computed"]
    assert charts.rates(view, pair, "成功率").kind == "rates"


def captured_charts(path, frame, tmp_path, monkeypatch) -> list[chartspec.Chart]:
    seen: list[chartspec.Chart] = []
    real = nbmod.show_chart

    def record(ctx, chart, name):
        seen.append(chart)
        real(ctx, chart, name)

    monkeypatch.setattr(nbmod, "show_chart", record)
    run_in_process(path, frame, fp.issues(), fp.REGION, tmp_path, monkeypatch)
    return seen


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_no_notebook_draws_mixed_units_or_a_single_rate_bar(path, tmp_path, monkeypatch, view):
    catalog = load_catalog()
    unit_of = {i.name_zh: i.unit for i in catalog.indicators.values()}
    for chart in captured_charts(path, fp.history_frame(), tmp_path, monkeypatch):
        if chart.kind in ("bar", "rates", "parts", "funnel"):
            units = {unit_of[label] for label in chart.labels if label in unit_of}
            assert len(units) <= 1, (path.stem, chart.title, units)
        if chart.kind == "rates":
            assert len(chart.values) > 1, chart.title
        if chart.kind == "parts":
            shares = [re.search(r"（(\d+(?:\.\d+)?)%）$", t)[1] for t in chart.texts]
            assert len({len(s.partition(".")[2]) for s in shares}) == 1, chart.texts


def test_donut_shares_have_even_precision(view):
    ids = ["disclosure.poverty_items", "disclosure.environment_items", "disclosure.welfare_items"]
    chart = charts.parts(view, ids, "重点领域公开信息", total_id="derived.disclosure_domain_items")
    assert chart.texts == ("217条（66.6%）", "88条（27.0%）", "21条（6.4%）")
    pie = interactive_figures.to_plotly(chart).data[0]
    assert pie.textinfo == "text" and "percent" not in pie.hovertemplate  # no second, uneven rounding


def test_trend_says_which_indicators_it_left_out_and_why():
    spec = {k: v for k, (v, _) in fp.spec_values().items()}
    older = {k: v for k, v in spec.items() if k != "disputes.mediators"}
    newer = {k: v for k, v in spec.items() if k != "disputes.mediation_orgs"}
    view = selection.select(
        fp.frame(fp.rows(year=2018, values=older), fp.rows(values=newer)), fp.REGION, 2019
    )
    ids = ["disputes.mediation_cases", "disputes.mediators", "disputes.mediation_orgs"]
    chart = charts.trend(view, ids)
    assert [name for name, _ in chart.series] == ["调解矛盾纠纷"]
    assert "只有一个年度填报" in chart.note
    assert "专兼职人民调解员（仅2019年）" in chart.note and "人民调解组织（仅2018年）" in chart.note
    single = charts.trend(selection.select(fp.spec_frame(), fp.REGION, fp.YEAR), ids)
    assert single.empty and "只有一个年度" in single.note


def test_one_rule_for_ten_thousands_everywhere(view):
    iid = "functions.clean_heating_households"
    card = charts.tiles(view, [iid], "x").texts[0]
    table = tables.indicator_table(view, [iid]).loc[0, "数值"]
    sentence = {d.id: d for d in sentences.draft(view)}["pollution"].text
    on_index = [k.text for k in index.key_figures(view) if "双替代" in k.name]
    assert card == table == on_index[0] == "1.1万户" and "1.1万户" in sentence
    assert selection.format_value(12345, "件") == "12345件"  # not a whole number of hundreds: as written
