"""The marked-up copy of a department's workbook: fills and comments on exactly the problem cells, nothing
else changed, ``修改说明`` first, hostile text inert, .xls copied as .xlsx, and a fixed copy sent back
ingests cleanly (every error kind the copy can show)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation

from analysis.core.names import FEEDBACK_SHEET
from analysis.core.problems import ERROR, INFO, WARNING
from analysis.ingest.pipeline import ingest
from analysis.ingest.selfcheck import ACROSS_FILES, check_file
from analysis.report.markup import COMMENT_AUTHOR, FILL_COLOURS, mark_up, split_message, workbook_format
from tests import hostile_corpus as hc
from tests.builders import write_xlsx

REGION, YEAR, SJ = "通许县", 2019, "县司法局"
HOSTILE = '=HYPERLINK("http://evil.example/","点击")'


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "raw" / REGION / str(YEAR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rich_workbook(path: Path) -> Path:
    """A department's workbook with formats, merges, widths, a hidden sheet, validation and problems."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws["A1"] = "2019年度法治政府建设情况统计表"
    ws.merge_cells("A1:E1")
    ws["A1"].font = openpyxl.styles.Font(bold=True, size=16)
    ws.append(["序号", "指标名称", "单位", "数值", "备注"])
    ws.append([1, "调解矛盾纠纷", "件", "三百", "含诉前调解"])  # bad-number
    ws.append([2, "人民调解组织", "个", -3, None])  # negative-value
    ws.append([3, "专兼职人民调解员", "元", 992, None])  # unit-mismatch
    ws.append([4, "不存在的指标", "个", 5, None])  # unknown-indicator
    ws.append([5, "调解成功矛盾纠纷", "件", 6608.5, None])  # non-integer-count (warning)
    ws.append([6, "人民调解成功率", "%", 98.1, None])  # fine
    ws.append([7, "受理行政复议案件", "件", 12, None])
    ws["D10"] = HOSTILE
    ws["D10"].data_type = "s"  # text that looks like a formula: bad-number, must stay inert
    ws["B10"] = "取缔黑加油站(点)"
    ws["D9"].number_format = "#,##0"
    ws["D9"].fill = openpyxl.styles.PatternFill("solid", fgColor="FFFF00")
    ws["E3"].comment = openpyxl.comments.Comment("部门自己的批注", "县司法局")
    ws.column_dimensions["B"].width = 28
    ws.row_dimensions[4].height = 30
    rule = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    ws.add_data_validation(rule)
    rule.add("D3:D20")
    hidden = wb.create_sheet("备用")
    hidden["A1"] = "草稿"
    hidden.sheet_state = "hidden"
    wb.save(path)
    return path


def _cells(ws) -> dict[str, tuple]:
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c, openpyxl.cell.cell.MergedCell):
                out[c.coordinate] = ("merged",)
                continue
            out[c.coordinate] = (
                c.value,
                c.data_type,
                c.number_format,
                repr(c.font),
                repr(c.border),
                repr(c.alignment),
                repr(c.protection),
            )
    return out


def _layout(ws) -> tuple:
    return (
        ws.sheet_state,
        sorted(str(r) for r in ws.merged_cells.ranges),
        {k: v.width for k, v in ws.column_dimensions.items()},
        {k: (v.height, v.hidden) for k, v in ws.row_dimensions.items()},
        sorted((str(v.sqref), v.type, v.formula1) for v in ws.data_validations.dataValidation),
    )


@pytest.fixture
def rich(tmp_path: Path) -> dict:
    path = _rich_workbook(_folder(tmp_path) / f"{SJ}.xlsx")
    result = check_file(path)
    rows = [p.as_row() for p in result.problems]
    data = mark_up(path, "xlsx", rows)
    return {"path": path, "rows": rows, "marked": openpyxl.load_workbook(io.BytesIO(data)), "data": data}


def test_only_fills_and_comments_change(rich: dict) -> None:
    original = openpyxl.load_workbook(rich["path"])
    marked = rich["marked"]
    assert (
        marked.sheetnames == [FEEDBACK_SHEET, *original.sheetnames] and marked.active.title == FEEDBACK_SHEET
    )
    for ws in original.worksheets:
        assert _cells(marked[ws.title]) == _cells(ws), ws.title
        assert _layout(marked[ws.title]) == _layout(ws), ws.title
    problem_cells = {(r["sheet"], r["cell"]) for r in rich["rows"] if r["cell"]}
    for ws in original.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if (ws.title, c.coordinate) not in problem_cells:
                    other = marked[ws.title][c.coordinate]
                    assert repr(other.fill) == repr(c.fill), c.coordinate
                    assert (other.comment and other.comment.text) == (c.comment and c.comment.text)


def test_fills_and_comments_sit_on_exactly_the_problem_cells(rich: dict) -> None:
    marked = rich["marked"]["数据"]
    rows = rich["rows"]
    assert {r["code"] for r in rows} >= {
        "bad-number",
        "negative-value",
        "unit-mismatch",
        "unknown-indicator",
        "non-integer-count",
    }
    commented = {
        c.coordinate
        for row in marked.iter_rows()
        for c in row
        if c.comment and c.comment.author == COMMENT_AUTHOR
    }
    assert commented == {r["cell"] for r in rows if r["sheet"] == "数据"}
    for r in rows:
        cell = marked[r["cell"]]
        worst = min((x["severity"] for x in rows if x["cell"] == r["cell"]), key=[ERROR, WARNING, INFO].index)
        assert cell.fill.fgColor.rgb.endswith(FILL_COLOURS[worst])
        what, fix = split_message(r["message"])
        assert what in cell.comment.text and fix in cell.comment.text
    assert "部门自己的批注" in marked["E3"].comment.text or "E3" not in {r["cell"] for r in rows}


def test_the_summary_sheet_lists_every_problem_in_order(rich: dict) -> None:
    ws = rich["marked"][FEEDBACK_SHEET]
    table = list(ws.iter_rows(values_only=True))
    assert table[0] == ("序号", "级别", "工作表", "单元格", "报送内容", "问题", "改正方法", "涉及单位")
    listed = [(r[2], r[3]) for r in table[1:]]
    assert sorted(listed) == sorted((r["sheet"], r["cell"]) for r in rich["rows"])
    rows_of = [int(cell[1:]) for _, cell in listed]
    assert rows_of == sorted(rows_of)  # in the order of the sheet
    sent = {r[3]: r[4] for r in table[1:]}
    assert sent["D3"] == "三百" and sent["D4"] == "-3"


def test_hostile_text_stays_inert(rich: dict) -> None:
    marked = rich["marked"]
    comment = marked["数据"]["D10"].comment.text
    assert HOSTILE.replace('"', "") in comment.replace('"', "") or "HYPERLINK" in comment
    sent = [r[4] for r in marked[FEEDBACK_SHEET].iter_rows(values_only=True) if r[3] == "D10"]
    assert sent and sent[0].startswith("'=")  # shown as text, never evaluated
    with zipfile.ZipFile(io.BytesIO(rich["data"])) as package:
        summary_xml = package.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in summary_xml and "HYPERLINK" in summary_xml


def test_xls_is_copied_as_xlsx_and_says_so(tmp_path: Path) -> None:
    rows = hc.value_rows({"disputes.mediation_orgs": 328}) + [("", "调解矛盾纠纷", "件", "三百", "")]
    path = _folder(tmp_path) / "县司法局.xls"
    path.write_bytes(hc.xls_bytes(rows))
    result = check_file(path)
    problems = [p.as_row() for p in result.problems]
    assert [p["code"] for p in problems] == ["bad-number"]
    data = mark_up(
        path, workbook_format(path.read_bytes()), problems, "原报表是 .xls 格式，本标注副本为 .xlsx"
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert ".xls" in wb[FEEDBACK_SHEET]["A1"].value
    cell = wb["数据"][problems[0]["cell"]]
    assert cell.value == "三百" and cell.comment is not None
    assert wb["数据"]["C4"].value == "人民调解组织" and wb["数据"]["E4"].value == 328


# --- round trip: fix the marked copy, send it back, it ingests cleanly -------------------------------------

ROUND_TRIP = [
    # (case, rows, metadata, fixes {cell: value})
    ("bad-number", [[1, "人民调解组织", "个", "三百"]], None, {"D2": 300}),
    ("negative-value", [[1, "人民调解组织", "个", -3]], None, {"D2": 3}),
    ("out-of-range", [[1, "人民调解成功率", "%", 180]], None, {"D2": 98.1}),
    ("excel-error", [[1, "人民调解组织", "个", "#DIV/0!"]], None, {"D2": 328}),
    ("formula-not-calculated", [[1, "人民调解组织", "个", "=1/0"]], None, {"D2": 328}),
    ("unknown-indicator", [[1, "不存在的指标", "个", 5]], None, {"B2": "人民调解组织"}),
    ("unit-mismatch", [[1, "人民调解组织", "元", 328]], None, {"C2": "个"}),
    (
        "duplicate-conflict",
        [[1, "人民调解组织", "个", 328], [2, "人民调解组织", "个", 329]],
        None,
        {"A3": None, "B3": None, "C3": None, "D3": None},  # the stale row deleted
    ),
    ("non-integer-count", [[1, "人民调解组织", "个", 3.5]], None, {"D2": 4}),
    ("suspicious-rate", [[1, "人民调解成功率", "%", 0.981]], None, {"D2": 98.1}),
    (
        "metadata-mismatch",
        [[1, "人民调解组织", "个", 328]],
        {"填报单位": SJ, "所属地区": REGION, "统计年度": 2018},
        {("基本信息", "B3"): 2019},
    ),
]


@pytest.mark.parametrize(("code", "rows", "metadata", "fixes"), ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_a_fixed_marked_copy_ingests_cleanly(tmp_path: Path, code, rows, metadata, fixes) -> None:
    sent = write_xlsx(tmp_path / "sent" / REGION / str(YEAR) / f"{SJ}.xlsx", rows, metadata=metadata)
    problems = [p.as_row() for p in check_file(sent).problems]
    assert code in {p["code"] for p in problems}
    marked = openpyxl.load_workbook(io.BytesIO(mark_up(sent, "xlsx", problems)))
    for where, value in fixes.items():
        sheet, ref = where if isinstance(where, tuple) else ("数据", where)
        marked[sheet][ref].value = value  # the department fixes the cell; fills, comments and 修改说明 stay
    back = _folder(tmp_path) / f"{SJ}（标注）.xlsx"
    marked.save(back)
    result = ingest(tmp_path / "raw")
    left = result.issues[~result.issues["code"].isin(ACROSS_FILES | {"file-name-variant"})]
    assert left.empty, left[["code", "sheet", "cell", "message"]].to_dict("records")
    assert len(result.indicators[~result.indicators["derived"]]) == 1


def test_ods_is_copied_as_xlsx(tmp_path: Path) -> None:
    path = hc.CASES_BY_NAME["good-ods"].write(_folder(tmp_path))
    assert workbook_format(path.read_bytes()) == "ods"
    row = {
        "severity": WARNING,
        "code": "non-integer-count",
        "sheet": hc.DATA_SHEET,
        "cell": "D2",
        "message": "不是整数；请核实",
    }
    wb = openpyxl.load_workbook(io.BytesIO(mark_up(path, "ods", [row], "原报表是 .ods 格式")))
    assert wb.sheetnames == [FEEDBACK_SHEET, hc.DATA_SHEET]
    assert wb[hc.DATA_SHEET]["B1"].value == "指标名称" and wb[hc.DATA_SHEET]["D2"].value == 10
    cell = wb[hc.DATA_SHEET]["D2"]
    assert cell.comment is not None and cell.fill.fgColor.rgb.endswith(FILL_COLOURS[WARNING])
