"""Section data: values for a region/year, 未填报, YoY, waterfall, funnel, data-quality tables."""

from __future__ import annotations

import pytest

from analysis.explore import charts, quality, selection, tables
from analysis.explore.selection import MISSING
from tests import fixtures_processed as fp


@pytest.fixture(scope="module")
def view():
    return selection.select(fp.spec_frame(), fp.REGION, fp.YEAR)


@pytest.fixture(scope="module")
def history():
    return selection.select(fp.history_frame(), fp.REGION, fp.YEAR)


@pytest.fixture(scope="module")
def tiny():
    return selection.select(fp.tiny_frame(), "小县", fp.YEAR)


def test_formatting_as_the_report_writes():
    assert selection.format_value(2705.0, "项") == "2705项"
    assert selection.format_value(500.0, "本", "余") == "500余本"
    assert selection.format_value(98.1, "%") == "98.1%"
    assert selection.format_value(6.790322, "件", digits=2) == "6.79件"
    assert selection.format_value(None, "件") == MISSING
    assert selection.format_change(6736, 6062, "件") == "+674件（+11.1%）"
    assert selection.format_change(98.1, 97.6, "%") == "+0.5个百分点"
    assert selection.format_change(12, 12, "件") == "±0件（±0%）"


def test_values_and_missing(view, tiny):
    assert view.get("functions.power_items_before") == 2705
    assert view.text("leadership.study_books_printed") == "500余本"
    assert view.get("derived.power_items_unexplained_change") == -51
    assert tiny.get("disputes.mediation_cases") == 6736
    assert tiny.get("disputes.mediators") is None
    assert tiny.text("disputes.mediators") == MISSING
    assert tiny.get("derived.disputes_per_mediator") is None


def test_derived_value_computed_from_catalog_when_the_row_is_absent():
    frame = fp.spec_frame()
    frame = frame[~frame["derived"]]
    v = selection.select(frame, fp.REGION, fp.YEAR)
    assert v.get("derived.power_items_unexplained_change") == -51
    assert v.get("derived.disputes_per_mediator") == 6.79


def test_power_list_waterfall_shows_the_unexplained_gap(view):
    chart = charts.waterfall(view, "power_list_balance", "权责清单调整")
    assert chart.values == (2705, -38, 44, -51, 2660)
    assert chart.measures == ("absolute", "relative", "relative", "relative", "total")
    assert chart.highlight == (3,) and chart.labels[3] == "未说明的增减"
    assert chart.texts == ("2705项", "−38项", "+44项", "−51项", "2660项")
    assert "2711项" in chart.note and "51项" in chart.note


def test_waterfall_with_a_missing_step_names_it_and_shows_no_gap():
    frame = fp.frame(
        fp.rows(
            only=[
                "functions.power_items_before",
                "functions.power_items_after",
                "functions.power_items_added",
            ]
        )
    )
    chart = charts.waterfall(
        selection.select(frame, fp.REGION, fp.YEAR), "power_list_balance", "权责清单调整"
    )
    assert chart.values == (2705, 44, 2660) and chart.measures[-1] == "absolute"
    assert chart.missing == ("取消行政职权事项",) and chart.highlight == ()


def test_waterfall_without_start_or_end_is_empty(tiny):
    chart = charts.waterfall(tiny, "power_list_balance", "权责清单调整")
    assert chart.empty and "调整前行政职权事项" in chart.missing


def test_balanced_list_says_so():
    values = {k: v for k, (v, _) in fp.spec_values().items()}
    values["functions.power_items_after"] = 2711
    v = selection.select(fp.frame(fp.rows(values=values)), fp.REGION, fp.YEAR)
    b = charts.balance(v, "power_list_balance")
    assert b.gap == 0 and "一致" in charts.balance_note(v, b)


def test_funnel_reconsideration(view):
    ids = [
        "disputes.reconsideration_received",
        "disputes.reconsideration_accepted",
        "disputes.reconsideration_concluded",
    ]
    chart = charts.funnel(view, ids, "行政复议")
    assert chart.values == (12, 12, 12)
    assert chart.texts == ("12件", "12件（100%）", "12件（100%）")


def test_network_bar_and_totals(view):
    ids = [
        "disputes.legal_service_centers",
        "disputes.legal_service_stations",
        "disputes.legal_service_rooms",
    ]
    chart = charts.bar(
        view, ids, "公共法律服务网络", note=charts.total_note(view, "derived.legal_service_network_total")
    )
    assert chart.values == (1, 12, 309) and chart.unit == "个"
    assert chart.note == "公共法律服务实体平台合计：322个。"
    parts = charts.parts(
        view,
        ["functions.certificates_kept", "functions.certificates_cancelled"],
        "证明",
        total_id="derived.certificates_reviewed",
    )
    assert parts.values == (15, 205) and "220项" in parts.note


def test_charts_leave_out_and_name_missing_indicators(tiny):
    chart = charts.bar(tiny, ["disputes.mediation_cases", "disputes.mediators"], "调解")
    assert chart.values == (6736,) and chart.missing == ("专兼职人民调解员",)
    assert charts.rates(tiny, ["disputes.mediation_success_rate"], "成功率").empty
    with pytest.raises(ValueError):
        charts.rates(tiny, ["disputes.mediators"], "不是比例")


def test_indicator_table_without_and_with_an_earlier_year(view, history, tiny):
    ids = selection.topic_ids(view, "legal_services")
    table = tables.indicator_table(view, ids)
    assert list(table.columns) == ["指标", "数值", "备注", "填报单位", "来源"]
    assert table.set_index("指标").loc["调解矛盾纠纷", "数值"] == "6736件"
    assert "派生指标" in table.set_index("指标").loc["人均调解矛盾纠纷", "来源"]
    yoy = tables.indicator_table(history, ids).set_index("指标")
    assert list(yoy.columns) == ["数值", "备注", "填报单位", "来源", "2018年", "同比变化"]
    assert yoy.loc["调解矛盾纠纷", "2018年"] == "6062件"
    assert yoy.loc["调解矛盾纠纷", "同比变化"] == "+674件（+11.1%）"
    assert yoy.loc["人民调解成功率", "同比变化"] == "—"  # not reported in 2018
    small = tables.indicator_table(tiny, ids).set_index("指标")
    assert small.loc["专兼职人民调解员", "数值"] == MISSING


def test_trend_appears_with_several_years_only(view, history):
    ids = ["disputes.mediation_cases", "disputes.mediation_success_rate"]
    single = charts.trend(view, ids)
    assert single.empty and single.note
    chart = charts.trend(history, ids)
    assert chart.labels == ("2018", "2019")
    assert chart.series == (("调解矛盾纠纷", (6062.0, 6736.0)),)


def test_regions_compared_when_several(view, history):
    assert tables.region_table(view, ["disputes.mediation_cases"]).empty
    table = tables.region_table(history, ["disputes.mediation_cases", "functions.gov_service_items"])
    assert list(table.columns) == ["指标", "杞县", "通许县"]
    assert table.iloc[0].tolist() == ["调解矛盾纠纷", "13472件", "6736件"]
    assert table.iloc[1]["杞县"] == MISSING


def test_coverage(view, tiny):
    assert tables.coverage_table(view)["未填报"].sum() == 0
    table = tables.coverage_table(tiny)
    assert table["已填报"].sum() == 2 and table["目录指标"].sum() == 52
    chart = charts.coverage_chart(tiny)
    assert [name for name, _ in chart.series] == ["已填报", "未填报"]


def test_identity_table(view, tiny):
    table = quality.identity_table(view).set_index("检查")
    row = table.loc["权责清单增减平衡（调整前 − 取消 + 增补 = 调整后）"]
    assert (row["左边"], row["右边"], row["差额"], row["结果"]) == ("2711", "2660", "-51", "不成立")
    assert (table["结果"] == "成立").sum() == 5
    assert quality.identity_table(tiny)["结果"].str.startswith("未检查").all()


def test_issues_of_a_region_year_keep_unplaced_ones():
    mine = quality.issues_of(fp.issues(), fp.REGION, fp.YEAR)
    assert set(mine["code"]) == {
        "reconciliation-mismatch",
        "unknown-department",
        "bad-number",
        "missing-submission",
        "skipped-file",
    }
    assert "其他地区的问题" not in set(mine["message"])


def test_submissions_table(view):
    table = quality.submissions_table(view, quality.issues_of(fp.issues(), fp.REGION, fp.YEAR)).set_index(
        "填报单位"
    )
    assert table.loc["县司法局", "报表"] == "已收到" and table.loc["县司法局", "已填报指标"] == 23
    assert table.loc[fp.HOSTILE, "报表"] == "已收到" and table.loc[fp.HOSTILE, "目录指标"] == 0
    tiny = selection.select(fp.tiny_frame(), "小县", fp.YEAR)
    small = quality.submissions_table(tiny).set_index("填报单位")
    assert small.loc["县审计局", "报表"] == "未收到" and small.loc["县审计局", "未填报指标"] == 2


def test_issue_counts_and_list():
    iss = quality.issues_of(fp.issues(), fp.REGION, fp.YEAR)
    assert quality.severity_table(iss)["问题数"].tolist() == [1, 2, 2]
    codes = quality.code_table(iss)
    assert codes.iloc[0]["代码"] == "bad-number" and codes.iloc[0]["含义"] == "数值无法识别"
    chart = quality.issues_chart(selection.select(fp.spec_frame(), fp.REGION, fp.YEAR), iss)
    assert [n for n, _ in chart.series] == ["错误", "警告", "提示"]
    listed = quality.issue_list(iss)
    assert len(listed) == 3 and set(listed["级别"]) == {"错误", "警告"}
    assert quality.code_table(fp.empty_issues()).empty


def test_readers_see_problem_names_and_codes_only_in_the_last_column():
    iss = quality.issues_of(fp.issues(), fp.REGION, fp.YEAR)
    for table in (quality.code_table(iss), quality.issue_list(iss), quality.code_table(fp.empty_issues())):
        assert list(table.columns)[-1] == "代码"
    chart = quality.issues_chart(selection.select(fp.spec_frame(), fp.REGION, fp.YEAR), iss)
    codes = set(iss["code"])
    assert chart.labels and not any(code in label for label in chart.labels for code in codes)
    assert "数值无法识别" in chart.labels and "代码" not in chart.title


def test_change_of_a_signed_figure_has_no_percentage():
    # the unexplained gap going from −51 to 0 is "+51项", not "+51项（+100%）"
    assert selection.format_change(0, -51, "项") == "+51项"
    assert selection.format_change(-10, -51, "项") == "+41项"
    assert selection.format_change(5, 0, "项") == "+5项"


def test_trend_title_of_a_single_year_names_one_year(view, history):
    assert charts.trend(view, ["disputes.mediation_cases"]).title == "通许县2019年历年变化"
    assert charts.trend(history, ["disputes.mediation_cases"]).title == "通许县2018—2019年历年变化"


def test_status_charts_colour_by_meaning_not_by_position():
    iss = quality.issues_of(fp.issues(), fp.REGION, fp.YEAR)
    view = selection.select(fp.spec_frame(), fp.REGION, fp.YEAR)
    chart = quality.issues_chart(view, iss)
    assert dict(zip([n for n, _ in chart.series], chart.tones, strict=True)) == {
        "错误": "gap",
        "警告": "down",
        "提示": "muted",
    }
    only_warnings = iss[iss["severity"] == "warning"]
    assert quality.issues_chart(view, only_warnings).tones == ("down",)  # a warning stays orange alone
    assert charts.coverage_chart(view).tones == ("main", "light")
    assert quality.submissions_chart(view, iss).tones == ("main", "light")
