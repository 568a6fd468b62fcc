"""A department's note on a value it left blank (备注 "本年度未统计") travels: into the issues table's ``note``
column and the missing-indicator row, the notebook tables beside 未填报, and the summary workbook."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from analysis.core.store import read_issues, write_tables
from analysis.explore import nb, tables
from analysis.explore.selection import MISSING, select, topic_ids
from analysis.ingest.pipeline import ingest
from analysis.report import summary
from tests.builders import write_xlsx

REGION, YEAR, SJ = "通许县", 2019, "县司法局"
ROWS = [
    [1, "调解矛盾纠纷", "件", None, "本年度未统计"],
    [2, "专兼职人民调解员", "名", "—", "人员调整中"],
    [3, "人民调解组织", "个", 328, "含村级调解委员会"],
    [4, "人民调解成功率", "%", None, None],
]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    raw = tmp_path_factory.mktemp("blanks") / "raw"
    write_xlsx(raw / REGION / str(YEAR) / f"{SJ}.xlsx", ROWS)
    return ingest(raw)


def issue(result, indicator_id: str):
    rows = result.issues[result.issues["indicator_id"] == indicator_id]
    assert len(rows) == 1, rows.to_string()
    return rows.iloc[0]


def test_the_missing_indicator_row_carries_the_note_and_the_cell(result):
    row = issue(result, "disputes.mediation_cases")
    assert (row["code"], row["sheet"], row["cell"], row["note"]) == (
        "missing-indicator",
        "数据",
        "D2",
        "本年度未统计",
    )
    assert "本年度未统计" in row["message"]
    marked = issue(result, "disputes.mediators")
    assert (marked["code"], marked["note"]) == ("marked-not-reported", "人员调整中")
    assert "人员调整中" in marked["message"]
    plain = issue(result, "disputes.mediation_success_rate")  # blank without a note: at its cell too
    assert (plain["code"], plain["note"], plain["sheet"], plain["cell"]) == (
        "missing-indicator",
        "",
        "数据",
        "D5",
    )
    assert "请在备注中说明" in plain["message"]


def test_the_note_survives_the_processed_folder(result, tmp_path):
    write_tables(tmp_path, result.indicators, result.issues)
    again = read_issues(tmp_path)
    assert list(again.columns)[-1] == "note"
    assert (
        dict(zip(again["indicator_id"], again["note"], strict=True))["disputes.mediation_cases"]
        == "本年度未统计"
    )


def test_notebook_table_shows_the_note_beside_missing(result, tmp_path, monkeypatch):
    monkeypatch.setattr(nb, "_display", lambda *_: None)
    ctx = nb.setup(REGION, YEAR, tmp_path, tmp_path, "07_legal_services", **_frames(result))
    table = tables.indicator_table(ctx.view, topic_ids(ctx.view, "legal_services")).set_index("指标")
    assert table.loc["调解矛盾纠纷", "数值"] == MISSING
    assert table.loc["调解矛盾纠纷", "备注"] == "本年度未统计"
    assert table.loc["专兼职人民调解员", "备注"] == "人员调整中"
    assert table.loc["人民调解成功率", "备注"] == ""
    assert table.loc["人民调解组织", "备注"] == "含村级调解委员会"  # a note beside a value, as written


def test_summary_workbook_shows_the_note_beside_missing(result):
    data = summary.build_workbook(REGION, YEAR, result.indicators, result.issues)
    ws = load_workbook(io.BytesIO(data))[summary.INDICATOR_SHEET]
    header = [c.value for c in ws[1]]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["disputes.mediation_cases"]["数值"] == MISSING
    assert rows["disputes.mediation_cases"]["备注或计算公式"] == "本年度未统计"
    assert rows["disputes.mediators"]["备注或计算公式"] == "人员调整中"


def test_issues_of_an_older_ingest_have_no_notes(result):
    view = select(result.indicators, REGION, YEAR, issues=result.issues.drop(columns="note"))
    assert view.blank_notes == {} and tables.note(view, "disputes.mediation_cases") == ""


def _frames(result) -> dict:
    return {"indicators": result.indicators, "issues": result.issues}
