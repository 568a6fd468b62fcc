"""Workbooks filled the way county departments really fill them: each must load, or say exactly why not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from analysis.ingest.pipeline import ingest
from tests.builders import write_xlsx

REGION, YEAR = "通许县", 2019
SJ = "县司法局"


def folder(tmp_path: Path) -> Path:
    path = tmp_path / "raw" / REGION / str(YEAR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def values(result) -> dict[str, float]:
    reported = result.indicators[~result.indicators["derived"]]
    return dict(zip(reported["indicator_id"], reported["value"], strict=True))


def problems(result, severity: str = "error") -> list[tuple[str, str, str]]:
    issues = result.issues[result.issues["severity"] == severity]
    return sorted(zip(issues["code"], issues["sheet"], issues["cell"], strict=True))


def test_header_over_two_rows_with_merged_cells(tmp_path):
    """序号/指标名称/单位 merged down over two rows, “2019年” merged across 数值 and 备注."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "2019年度法治政府建设数据统计表"
    ws.merge_cells("A1:E1")
    ws["A2"] = "填报单位（盖章）：县司法局"
    ws["D2"] = "填报日期：2020年1月10日"
    for ref, text in {"A3": "序号", "B3": "指标名称", "C3": "计量单位"}.items():
        ws[ref] = text
        ws.merge_cells(f"{ref}:{ref[0]}4")
    ws["D3"] = f"{YEAR}年"
    ws.merge_cells("D3:E3")
    ws["D4"], ws["E4"] = "数值", "备注"
    ws.append([1, "调解矛盾纠纷", "件", "6 736", "含诉前调解"])
    ws.append([2, "人民调解组织", "个", 328])
    wb.save(folder(tmp_path) / f"{SJ}.xlsx")
    result = ingest(tmp_path / "raw")
    assert problems(result) == []  # the sub-heading row is not a data row
    assert values(result) == {"disputes.mediation_cases": 6736, "disputes.mediation_orgs": 328}
    row = result.indicators.set_index("indicator_id").loc["disputes.mediation_cases"]
    assert (row["cell"], row["note"]) == ("D5", "含诉前调解")  # 备注 named only in the second header row


def test_value_heading_only_in_the_second_header_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "指标名称", "单位", "2019年完成情况", None])
    ws.merge_cells("D1:E1")
    ws.append([None, None, None, "数量", "备注"])
    ws.append([1, "人民调解组织", "个", 328, None])
    wb.save(folder(tmp_path) / f"{SJ}.xlsx")
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    assert values(result) == {"disputes.mediation_orgs": 328}


def test_second_table_below_with_its_own_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表一"
    ws.append(["序号", "指标名称", "单位", "数值", "备注"])
    ws.append([1, "调解矛盾纠纷", "件", 6736])
    ws.append([])
    ws.append(["二、公共法律服务"])
    ws.append(["序号", "项目", f"{YEAR}年", "计量单位", "备注"])  # the value is now in column C
    ws.append([1, "人民调解组织", 328, "个", "全县"])
    ws.append([2, "县公共法律服务中心", "1", "个"])
    wb.save(folder(tmp_path) / f"{SJ}.xlsx")
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    assert values(result) == {
        "disputes.mediation_cases": 6736,
        "disputes.mediation_orgs": 328,
        "disputes.legal_service_centers": 1,
    }
    orgs = result.indicators.set_index("indicator_id").loc["disputes.mediation_orgs"]
    assert (orgs["cell"], orgs["note"]) == ("C6", "全县")


NAMES = [
    # (name as written, unit column, value, indicator, loaded value)
    ("1、人民调解组织", "个", 328, "disputes.mediation_orgs", 328),
    ("（一）人民调解组织", "个", 328, "disputes.mediation_orgs", 328),
    ("(1)人民调解组织", "个", 328, "disputes.mediation_orgs", 328),
    ("二、人民调解组织", "个", 328, "disputes.mediation_orgs", 328),
    ("其中：调解成功矛盾纠纷", "件", 6608, "disputes.mediation_success", 6608),
    ("  其中:调解成功矛盾纠纷", None, "6608件", "disputes.mediation_success", 6608),
    ("专兼职人民调解员（名）", None, 992, "disputes.mediators", 992),
    ("专兼职人民调解员(人)", None, 992, "disputes.mediators", 992),
    ("人民调解成功率（%）", None, 98.1, "disputes.mediation_success_rate", 98.1),
    ("取缔黑加油站（点）", "个", 3, "functions.illegal_fuel_stations_closed", 3),  # brackets of the name
    ("调\u200b解矛盾纠纷", "件", 6736, "disputes.mediation_cases", 6736),  # zero-width space pasted
]


@pytest.mark.parametrize(("name", "unit", "raw", "indicator", "value"), NAMES)
def test_numbering_and_units_around_a_catalog_name(tmp_path, name, unit, raw, indicator, value):
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", [[1, name, unit, raw]])
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    assert values(result) == {indicator: value}


def test_converted_values_keep_the_submitted_digits(tmp_path):
    write_xlsx(folder(tmp_path) / "县水利局.xlsx", [[1, "清理河道长度", "米", 833156.11328125]])
    assert values(ingest(tmp_path / "raw")) == {"functions.rivers_cleaned_km": 833.15611328125}


def test_unit_after_a_name_is_converted_or_rejected(tmp_path):
    write_xlsx(folder(tmp_path) / "县水利局.xlsx", [[1, "清理河道长度（米）", None, 12500]])
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", [[1, "调解矛盾纠纷（个）", None, 6736]])
    result = ingest(tmp_path / "raw")
    assert values(result) == {"functions.rivers_cleaned_km": 12.5}
    assert problems(result) == [("unit-mismatch", "数据", "D2")]


@pytest.mark.parametrize(
    "name",
    [
        "合计",  # totals are not catalog indicators
        "其中：合计",
        "1、调解矛盾纠纷合计",
        "调解矛盾纠纷（万元）",  # a bracket that is not a unit of the indicator's kind is kept
        "调解矛盾纠纷（备注）",
    ],
)
def test_names_that_are_still_not_indicators(tmp_path, name):
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", [[1, name, None, 5], [2, "人民调解组织", "个", 328]])
    result = ingest(tmp_path / "raw")
    assert problems(result) == [("unknown-indicator", "数据", "D2")]
    assert values(result) == {"disputes.mediation_orgs": 328}


CELLS = [
    # (cell as written, unit column, loaded value, qualifier)
    ("500件以上", None, 500, "以上"),
    ("500件左右", "件", 500, "左右"),
    ("6736（件）", None, 6736, ""),
    ("6\u00a0736", "件", 6736, ""),
    ("6736\u200b", "件", 6736, ""),
]


@pytest.mark.parametrize(("raw", "unit", "value", "qualifier"), CELLS)
def test_cell_spellings_load(tmp_path, raw, unit, value, qualifier):
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", [[1, "调解矛盾纠纷", unit, raw]])
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    row = result.indicators.set_index("indicator_id").loc["disputes.mediation_cases"]
    assert (row["value"], row["qualifier"]) == (value, qualifier)


@pytest.mark.parametrize(("raw", "code"), [("1 1万", "bad-number"), ("−12", "negative-value")])
def test_cell_spellings_rejected(tmp_path, raw, code):
    write_xlsx(
        folder(tmp_path) / f"{SJ}.xlsx", [[1, "调解矛盾纠纷", "件", raw], [2, "人民调解组织", "个", 328]]
    )
    result = ingest(tmp_path / "raw")
    assert problems(result) == [(code, "数据", "D2")]
    assert values(result) == {"disputes.mediation_orgs": 328}


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_hidden_row_is_named_when_it_conflicts_with_a_visible_one(tmp_path, suffix):
    """A stale figure in a hidden row: the department cannot see it, so the conflict message says where."""
    rows = [["专兼职人民调解员", "名", 990], ["专兼职人民调解员", "名", 992], ["人民调解组织", "个", 328]]
    path = folder(tmp_path) / f"{SJ}{suffix}"
    if suffix == ".xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "数据"
        ws.append(["指标名称", "单位", "数值"])
        for row in rows:
            ws.append(row)
        ws.row_dimensions[2].hidden = True
        wb.save(path)
    else:
        import xlwt

        book = xlwt.Workbook()
        sheet = book.add_sheet("数据")
        for r, row in enumerate([["指标名称", "单位", "数值"], *rows]):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        sheet.row(1).hidden = True
        book.save(str(path))
    result = ingest(tmp_path / "raw")
    assert problems(result) == [("duplicate-conflict", "数据", "C2"), ("duplicate-conflict", "数据", "C3")]
    message = result.issues.loc[result.issues["code"] == "duplicate-conflict", "message"].iloc[0]
    assert "单元格 C2（隐藏行）：990" in message and "单元格 C3：992" in message
    assert values(result) == {"disputes.mediation_orgs": 328}


def test_xls_formula_without_a_result_is_reported_not_dropped(tmp_path):
    """xlwt (and other scripts) store formulas with an empty result; xlrd shows them as empty text."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("数据")
    for c, text in enumerate(["指标名称", "单位", "数值"]):
        sheet.write(0, c, text)
    sheet.write(1, 0, "专兼职人民调解员")
    sheet.write(1, 2, xlwt.Formula("1/0"))
    sheet.write(2, 0, "人民调解组织")
    sheet.write(2, 2, 328)
    book.save(str(folder(tmp_path) / f"{SJ}.xls"))
    result = ingest(tmp_path / "raw")
    assert problems(result) == [("formula-not-calculated", "数据", "C2")]
    assert values(result) == {"disputes.mediation_orgs": 328}


@pytest.mark.parametrize(
    "year", [2019, "2019年", "2019年度", "2019年1-12月", "2019年1月至12月", "２０１９年度", "2019年全年"]
)
def test_statistical_year_as_departments_write_it(tmp_path, year):
    metadata = {"填报单位": SJ, "所属地区": REGION, "统计年度": year, "填报日期": dt.datetime(2020, 1, 10)}
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", [[1, "人民调解组织", "个", 328]], metadata=metadata)
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    assert values(result) == {"disputes.mediation_orgs": 328}


@pytest.mark.parametrize("year", ["2018年", "2019-2020", "2019年12月", "2020-01-10"])
def test_statistical_year_that_is_not_this_year_still_rejects(tmp_path, year):
    write_xlsx(
        folder(tmp_path) / f"{SJ}.xlsx",
        [[1, "人民调解组织", "个", 328]],
        metadata={"填报单位": SJ, "所属地区": REGION, "统计年度": year},
    )
    result = ingest(tmp_path / "raw")
    assert problems(result) == [("metadata-mismatch", "基本信息", "B3")]
    assert values(result) == {}


def test_region_folder_with_a_trailing_space_and_upper_case_codes(tmp_path):
    base = tmp_path / "raw" / f"{REGION} " / str(YEAR)
    write_xlsx(
        base / "司法局.xlsm",
        [["DISPUTES.MEDIATION_ORGS", "人民调解组织", "个", 328], ["Disputes.Mediators", "", "名", "992人"]],
        header=["指标编码", "指标名称", "单位", f"{YEAR}年数值（件）"],
    )
    result = ingest(tmp_path / "raw")
    assert problems(result) == []
    assert values(result) == {"disputes.mediation_orgs": 328, "disputes.mediators": 992}
    assert set(result.indicators["region"]) == {REGION}
    assert set(result.indicators["department"]) - {""} == {SJ}


def test_large_sheet_with_text_values_reads_every_row(tmp_path):
    """A long sheet of text rows yields its one value (its speed is measured by ``make bench``, 10万行表)."""
    rows = [
        [None, "调解矛盾纠纷" if i == 1 else f"说明{i}", "件", "6,736" if i == 1 else "—"]
        for i in range(20_000)
    ]
    write_xlsx(folder(tmp_path) / f"{SJ}.xlsx", rows)
    result = ingest(tmp_path / "raw")
    assert values(result) == {"disputes.mediation_cases": 6736}


def test_no_loss_holds_on_a_messy_workbook(tmp_path):
    """Every non-empty value cell of a data row is a loaded value or an issue (not layout, not a header)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2019年统计表"])
    ws.append(["序号", "指标名称", "单位", "2019年", None])
    ws.merge_cells("D2:E2")
    ws.append([None, None, None, "数值", "备注"])
    ws.append([1, "调解矛盾纠纷", "件", "6736"])
    ws.append([2, "合计", None, 9999])
    ws.append([3, "（一）人民调解组织", "个", "若干"])
    ws.append(["序号", "项目", "数值"])
    ws.append([1, "其中：专兼职人民调解员", "992人"])
    wb.save(folder(tmp_path) / f"{SJ}.xlsx")
    result = ingest(tmp_path / "raw")
    loaded = values(result)
    errors = problems(result)
    assert loaded == {"disputes.mediation_cases": 6736, "disputes.mediators": 992}
    assert errors == [("bad-number", "Sheet", "D6"), ("unknown-indicator", "Sheet", "D5")]
    # every non-empty value cell of a data row is a tidy row or an issue row: nothing else, nothing lost
    tidy = set(result.indicators.loc[~result.indicators["derived"], "cell"])
    reported = set(result.issues.loc[result.issues["sheet"] == "Sheet", "cell"])
    assert tidy | reported == {"D4", "D5", "D6", "C8"} and not tidy & reported
