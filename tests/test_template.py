"""Blank templates: structure, validation, protection, request checks, atomic writes, ingest round trip."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from analysis.cli import main as cli_main
from analysis.cli import run_template as cli_run_template
from analysis.core import fileio
from analysis.core.catalog import load_catalog
from analysis.core.numbers import parse_value
from analysis.ingest import template as tpl
from analysis.ingest.pipeline import ingest

REGION, YEAR = "通许县", 2020
REPO = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def templates(tmp_path_factory, catalog) -> Path:
    """Templates written once for the module, in a raw-folder layout ``<raw>/<region>/<year>/``."""
    raw = tmp_path_factory.mktemp("raw")
    paths = tpl.write_templates(REGION, YEAR, raw / REGION / str(YEAR), catalog)
    assert [p.name for p in paths] == [f"{d}.xlsx" for d in catalog.departments]
    return raw


def _copy_raw(templates: Path, tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(templates, raw)
    return raw


def _data_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=tpl.FIRST_DATA_ROW, values_only=True))


# --- structure -----------------------------------------------------------------------------------------


def test_one_template_per_department_with_catalog_rows(templates, catalog):
    folder = templates / REGION / str(YEAR)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{d}.xlsx" for d in catalog.departments)
    total = 0
    for department in catalog.departments:
        wb = openpyxl.load_workbook(folder / f"{department}.xlsx")
        assert wb.sheetnames == [
            catalog.sheet_names["instructions"],
            catalog.sheet_names["metadata"],
            tpl.DATA_SHEET,
        ]
        assert wb.active.title == tpl.DATA_SHEET
        ws = wb[tpl.DATA_SHEET]
        assert [c.value for c in ws[tpl.HEADER_ROW]] == [
            "序号",
            "指标编码",
            "指标名称",
            "单位",
            "数值",
            "备注",
        ]
        expected = [
            (i, ind.indicator_id, ind.name_zh, ind.unit, None, None)
            for i, ind in enumerate(catalog.for_department(department), start=1)
        ]
        assert _data_rows(ws) == expected
        total += len(expected)
        info = wb["基本信息"]
        assert {r[0]: r[1] for r in info.iter_rows(values_only=True)} == {
            "填报单位": department,
            "所属地区": REGION,
            "统计年度": YEAR,
            "填报人": None,
            "联系电话": None,
            "填报日期": None,
        }
    assert total == len(catalog.reported)


def test_guide_is_generated_from_catalog(templates, catalog):
    department = "县司法局"
    wb = openpyxl.load_workbook(templates / REGION / str(YEAR) / f"{department}.xlsx")
    text = "\n".join(str(r[0]) for r in wb["填报说明"].iter_rows(values_only=True) if r[0])
    assert f"{REGION}{YEAR}年度" in text
    assert f"“{department}.xlsx”" in text
    for alias in catalog.departments[department]:
        assert f"{alias}.xlsx" in text
    for ind in catalog.for_department(department):
        assert ind.indicator_id not in text and ind.name_zh in text  # the clerk reads Chinese names only
    assert "500余" in text and "98.1" in text and "若干" in text


def test_value_column_is_validated(templates, catalog):
    for department in catalog.departments:
        wb = openpyxl.load_workbook(templates / REGION / str(YEAR) / f"{department}.xlsx")
        ws = wb[tpl.DATA_SHEET]
        covered: dict[str, object] = {}
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "decimal"
            assert dv.formula1 == "0"
            assert dv.allow_blank and dv.showErrorMessage
            assert CJK.search(dv.error) and CJK.search(dv.errorTitle) and CJK.search(dv.prompt)
            for rng in dv.sqref.ranges:
                for row in range(rng.min_row, rng.max_row + 1):
                    for col in range(rng.min_col, rng.max_col + 1):
                        covered[ws.cell(row, col).coordinate] = dv
        value_cells = {
            ws.cell(tpl.FIRST_DATA_ROW + i, tpl.VALUE_COL).coordinate: ind
            for i, ind in enumerate(catalog.for_department(department))
        }
        assert set(covered) == set(value_cells), department
        for ref, ind in value_cells.items():
            dv = covered[ref]
            if catalog.units[ind.unit].kind == "percent":
                assert (dv.operator, dv.formula2) == ("between", "100")
            else:
                assert dv.operator == "greaterThanOrEqual"


def test_only_value_and_note_cells_are_editable(templates):
    wb = openpyxl.load_workbook(templates / REGION / str(YEAR) / "县司法局.xlsx")
    ws = wb[tpl.DATA_SHEET]
    assert ws.protection.sheet and not ws.protection.password
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        for cell in row:
            editable = cell.row >= tpl.FIRST_DATA_ROW and cell.column in (tpl.VALUE_COL, tpl.NOTE_COL)
            assert cell.protection.locked is not editable, cell.coordinate
    info = wb["基本信息"]
    assert info.protection.sheet and not info.protection.password
    locked = {info.cell(r, 1).value: info.cell(r, 2).protection.locked for r in range(1, 7)}
    assert locked == {
        "填报单位": True,
        "所属地区": True,
        "统计年度": True,
        "填报人": False,
        "联系电话": False,
        "填报日期": False,
    }
    assert wb["填报说明"].protection.sheet


# --- ingest round trip ---------------------------------------------------------------------------------


def test_untouched_template_ingests_to_nothing_and_no_error(templates, catalog):
    result = ingest(templates, catalog)
    assert result.indicators.empty
    assert not (result.issues["severity"] == "error").any(), result.issues.to_string()
    assert not (result.issues["severity"] == "warning").any(), result.issues.to_string()
    # every indicator is reported as not submitted, nothing else
    assert set(result.issues["code"]) == {"missing-indicator"}
    assert len(result.issues) == len(catalog.reported)


def _fill_value(i: int, ind, catalog) -> tuple[object, str | None, float, str]:
    """What a department types for the i-th indicator: (cell content, number format, value, qualifier)."""
    if ind.indicator_id == "leadership.study_books_printed":
        return "500余", None, 500.0, "余"
    if ind.indicator_id == "functions.high_freq_window_share":
        return 0.8, "0%", 80.0, ""  # typed as 80% in Excel
    if catalog.units[ind.unit].kind == "percent":
        return 98.1, None, 98.1, ""
    if ind.indicator_id == "functions.clean_heating_households":
        return "1.2万", None, 12000.0, ""
    if catalog.units[ind.unit].kind == "measure":
        return 12.5, None, 12.5, ""
    return 10 * i + 3, None, float(10 * i + 3), ""


def test_filled_template_round_trips_exactly(templates, catalog, tmp_path):
    raw = _copy_raw(templates, tmp_path)
    folder = raw / REGION / str(YEAR)
    expected: dict[str, tuple[float, str, str, str, str]] = {}
    i = 0
    for department in catalog.departments:
        path = folder / f"{department}.xlsx"
        wb = openpyxl.load_workbook(path)
        info = wb["基本信息"]
        info["B4"], info["B5"], info["B6"] = "张某", "0371-00000000", "2021-01-15"
        ws = wb[tpl.DATA_SHEET]
        for offset, ind in enumerate(catalog.for_department(department)):
            i += 1
            row = tpl.FIRST_DATA_ROW + offset
            content, fmt, value, qualifier = _fill_value(i, ind, catalog)
            cell = ws.cell(row, tpl.VALUE_COL, content)
            if fmt:
                cell.number_format = fmt
            note = f"备注{i}" if i % 3 == 0 else ""
            if note:
                ws.cell(row, tpl.NOTE_COL, note)
            assert parse_value(content, fmt).value == value  # the fixture itself is what we think
            expected[ind.indicator_id] = (value, qualifier, department, cell.coordinate, note)
        wb.save(path)
    assert "leadership.study_books_printed" in expected and "functions.high_freq_window_share" in expected

    result = ingest(raw, catalog)
    assert not (result.issues["severity"] == "error").any(), result.issues.to_string()
    got = result.indicators[~result.indicators["derived"]]
    assert len(got) == len(expected) == len(catalog.reported)
    for row in got.itertuples():
        value, qualifier, department, cell, note = expected[row.indicator_id]
        assert (row.region, row.year) == (REGION, YEAR)
        assert row.value == value, row.indicator_id
        assert row.qualifier == qualifier, row.indicator_id
        assert row.department == department
        assert row.source_file == f"{REGION}/{YEAR}/{department}.xlsx"
        assert (row.sheet, row.cell) == (tpl.DATA_SHEET, cell)
        assert row.note == note
        assert row.unit == catalog.indicators[row.indicator_id].unit


def test_partly_filled_template_reports_only_the_blanks(templates, catalog, tmp_path):
    raw = _copy_raw(templates, tmp_path)
    path = raw / REGION / str(YEAR) / "县审计局.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb[tpl.DATA_SHEET]
    first, second = catalog.for_department("县审计局")[:2]
    ws.cell(tpl.FIRST_DATA_ROW, tpl.VALUE_COL, 4)
    ws.cell(tpl.FIRST_DATA_ROW + 1, tpl.VALUE_COL, "—")  # marked as not reported: no row, never a zero
    wb.save(path)
    result = ingest(raw, catalog)
    assert result.indicators[~result.indicators["derived"]][["indicator_id", "value"]].values.tolist() == [
        [first.indicator_id, 4.0]
    ]
    assert second.indicator_id not in set(result.indicators["indicator_id"])
    assert not (result.issues["severity"] == "error").any()


# --- the request ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["", "  ", "a/b", "a\\b", "..", "../通许县", "通许\x00县", ".hidden"])
def test_bad_region_is_refused_in_chinese(region, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_run_template(region, YEAR, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("无法生成模板：") and "地区" in err
    assert not out.exists()


@pytest.mark.parametrize("year", [1948, 2101, -1, 0, "二〇二〇", "2020a", True, 2020.0])
def test_bad_year_is_refused_in_chinese(year, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_run_template(REGION, year, out) == 2
    err = capsys.readouterr().err
    assert "统计年度" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("given", "year"), [(1949, 1949), (2100, 2100), ("2020年", 2020), ("2020年度", 2020)]
)
def test_year_forms_accepted(given, year):
    assert tpl.check_year(given) == year


def test_unknown_department_refused(catalog):
    with pytest.raises(tpl.TemplateError, match="不是指标目录中的填报单位"):
        tpl.build_template(catalog, REGION, YEAR, "县不存在局")


def test_cli_default_folder(tmp_path, monkeypatch, capsys, catalog):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["template", "--region", REGION, "--year", str(YEAR)]) == 0
    folder = tmp_path / "templates" / REGION / str(YEAR)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{d}.xlsx" for d in catalog.departments)
    assert "已生成" in capsys.readouterr().out


def test_cli_unreadable_catalog(tmp_path, capsys):
    bad = tmp_path / "catalog.yaml"
    bad.write_text("units: [\n", encoding="utf-8")
    assert cli_run_template(REGION, YEAR, tmp_path / "out", catalog_path=bad) == 2
    assert "无法生成模板" in capsys.readouterr().err


# --- atomic writes -------------------------------------------------------------------------------------


def test_rewrite_leaves_no_temporary_files(tmp_path, catalog):
    out = tmp_path / "out"
    tpl.write_templates(REGION, YEAR, out, catalog)
    tpl.write_templates(REGION, YEAR, out, catalog)  # overwriting is fine
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.xlsx" for d in catalog.departments)


def test_crash_during_write_keeps_previous_file(tmp_path, monkeypatch, catalog):
    out = tmp_path / "out"
    tpl.write_templates(REGION, YEAR, out, catalog)
    target = out / "县司法局.xlsx"
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", boom)
    assert cli_run_template(REGION, 2021, out) == 2
    assert target.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.xlsx" for d in catalog.departments)


def test_written_files_are_readable_by_others(tmp_path, catalog):
    out = tmp_path / "out"
    paths = tpl.write_templates(REGION, YEAR, out, catalog)
    if os.name == "posix":
        assert all(p.stat().st_mode & 0o044 == 0o044 for p in paths)


# --- the contract document -----------------------------------------------------------------------------


def test_contract_document_lists_catalog_departments_and_headers(catalog):
    doc = (REPO / "docs" / "submission-contract.md").read_text(encoding="utf-8")
    for department, aliases in catalog.departments.items():
        line = next((ln for ln in doc.splitlines() if ln.strip().startswith(f"| {department} |")), None)
        assert line is not None, department
        for alias in aliases:
            assert alias in line
    for names in catalog.headers.values():
        for name in names:
            assert name.format(year=2019) in doc, name
    for key in (*tpl.INFO_PREFILLED, *tpl.INFO_TO_FILL):
        assert f"| {key} |" in doc


def test_the_clerk_sees_chinese_names_only(templates, catalog):
    """The indicator ids sit in a hidden column (the ingest reads them; the round trip above proves it);
    no visible cell of any sheet shows one."""
    for department in catalog.departments:
        wb = openpyxl.load_workbook(templates / REGION / str(YEAR) / f"{department}.xlsx")
        ws = wb[tpl.DATA_SHEET]
        code = get_column_letter(tpl.CODE_COL)
        assert ws.column_dimensions[code].hidden and ws.cell(tpl.HEADER_ROW, tpl.CODE_COL).value == "指标编码"
        for sheet in wb.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    hidden = sheet.column_dimensions[get_column_letter(cell.column)].hidden
                    if isinstance(cell.value, str) and not hidden:
                        shown = [i for i in catalog.indicators if i in cell.value]
                        assert not shown, (department, sheet.title, cell.coordinate, shown)
