"""年度指标汇总.xlsx lists every catalog indicator (unreported ones as 未填报 with the department), and the
previous year's figure and the change, written as the HTML report writes it, when the data hold that year."""

from __future__ import annotations

from openpyxl import load_workbook

from analysis.core import names
from analysis.core.catalog import load_catalog
from analysis.explore import tables
from analysis.explore.selection import MISSING, select, topic_ids
from analysis.report import summary
from tests import fixtures_processed as fp


def sheet(tmp_path, frame, region=fp.REGION, issues=None):
    path = summary.write_workbook(
        tmp_path / names.WORKBOOK_NAME,
        region,
        fp.YEAR,
        frame,
        fp.empty_issues() if issues is None else issues,
    )
    ws = load_workbook(path)[summary.INDICATOR_SHEET]
    header = [c.value for c in ws[1]]
    return header, {
        r[1]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }


def test_every_catalog_indicator_is_listed(tmp_path):
    catalog = load_catalog()
    header, rows = sheet(tmp_path, fp.tiny_frame(), region="小县")
    assert list(rows) == list(catalog.indicators)  # catalog order, reported or not
    assert rows["disputes.mediation_cases"]["数值"] == 6736
    missing = rows["disputes.mediators"]
    assert (missing["数值"], missing["单位"], missing["填报单位"]) == (MISSING, "名", "县司法局")
    assert rows["derived.disputes_per_mediator"]["数值"] == summary.NOT_COMPUTED
    assert "同比变化" not in header  # no earlier year of 小县 in the data


def test_previous_year_and_change_as_the_html_writes_them(tmp_path):
    history = fp.history_frame()
    header, rows = sheet(tmp_path, history)
    assert header[header.index("单位") + 1 : header.index("单位") + 3] == ["2018年数值", "同比变化"]
    mediation = rows["disputes.mediation_cases"]
    assert (mediation["数值"], mediation["2018年数值"]) == (6736, 6062)
    view = select(history, fp.REGION, fp.YEAR)
    html_table = tables.indicator_table(view, topic_ids(view, "legal_services")).set_index("指标")
    assert mediation["同比变化"] == html_table.loc["调解矛盾纠纷", "同比变化"] == "+674件（+11.1%）"
    rate = rows["disputes.mediation_success_rate"]  # not reported in 2018
    assert (rate["2018年数值"], rate["同比变化"]) == (MISSING, "—")
    assert rows["functions.power_items_after"]["2018年数值"] == round(2660 * 0.9)
    # 杞县's rows of the same table are not 通许县's previous year
    assert rows["disputes.mediators"]["数值"] == 992
