"""Whose report a workbook is: a year or unit written in the file that contradicts the folders or the file
name rejects the file (``metadata-mismatch``); file names as people save copies still name their department."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.catalog import load_catalog
from analysis.ingest.pipeline import ingest
from analysis.ingest.provenance import department_of_file, years_in_file_name, years_in_title
from tests.builders import write_xlsx

REGION = "通许县"
SL = "县水利局"
RIVERS = [["清理河道长度", "公里", 335]]


def place(tmp_path: Path, year: int, name: str) -> Path:
    return tmp_path / "raw" / REGION / str(year) / name


def write(path: Path, rows: list[list[object]] = RIVERS, **kwargs) -> Path:
    return write_xlsx(path, rows, **{"header": ["指标名称", "单位", "数值"], **kwargs})


def rows_of(result, code: str) -> pd.DataFrame:
    return result.issues[result.issues["code"] == code]


def reported(result) -> pd.DataFrame:
    return result.indicators[~result.indicators["derived"]]


# --- item 4: years and units written in the file ------------------------------------------------------


def test_shipped_workbook_in_another_year_folder_is_rejected(tmp_path, sample_raw):
    """The shipped 县水利局.xlsx has no 基本信息; its title says 2019年度. In 2021/ it is not 2021's report."""
    target = place(tmp_path, 2021, f"{SL}.xlsx")
    target.parent.mkdir(parents=True)
    shutil.copy(sample_raw / REGION / "2019" / f"{SL}.xlsx", target)
    result = ingest(tmp_path / "raw")
    assert reported(result).empty
    mismatch = rows_of(result, "metadata-mismatch")
    assert list(zip(mismatch["sheet"], mismatch["cell"], strict=True)) == [("Sheet1", "A1")]
    message = mismatch["message"].iloc[0]
    assert "2019" in message and "2021" in message and "标题" in message


def test_value_header_of_another_year_is_a_mismatch_not_no_data(tmp_path):
    write(place(tmp_path, 2021, f"{SL}.xlsx"), header=["指标名称", "单位", "2019年"])
    result = ingest(tmp_path / "raw")
    assert sorted(result.issues.loc[result.issues["severity"] == "error", "code"]) == ["metadata-mismatch"]
    row = rows_of(result, "metadata-mismatch").iloc[0]
    assert (row["sheet"], row["cell"]) == ("数据", "C1") and "表头" in row["message"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("县水利局2019年", False),
        ("2019年度县水利局", False),
        ("县水利局2021", True),
        ("县水利局20190110", True),
    ],
)
def test_year_in_the_file_name(tmp_path, name, ok):
    write(place(tmp_path, 2021, f"{name}.xlsx"))
    result = ingest(tmp_path / "raw")
    assert ("metadata-mismatch" in set(result.issues["code"])) is not ok
    assert list(reported(result)["value"]) == ([335] if ok else [])
    if ok:
        assert set(reported(result)["department"]) == {SL}


@pytest.mark.parametrize(
    ("title", "ok"),
    [
        ("通许县水利局2021年度法治政府建设数据统计表", True),
        ("统计时间：2021年1月1日—12月31日", True),
        ("填报日期：2022年1月10日", True),  # the date of filing is not the statistical year
        ("通许县水利局2020年度法治政府建设数据统计表", False),
        ("统计时间：2020年1-12月", False),
    ],
)
def test_year_in_a_title_row(tmp_path, title, ok):
    write(place(tmp_path, 2021, f"{SL}.xlsx"), title=title)
    result = ingest(tmp_path / "raw")
    assert ("metadata-mismatch" in set(result.issues["code"])) is not ok, result.issues.to_string()
    assert list(reported(result)["value"]) == ([335] if ok else [])


def test_last_years_column_beside_this_years_is_no_contradiction(tmp_path):
    rows = [["清理河道长度", "公里", 300, 335]]
    write(place(tmp_path, 2021, f"{SL}.xlsx"), rows, header=["指标名称", "单位", "2020年", "2021年"])
    result = ingest(tmp_path / "raw")
    assert "metadata-mismatch" not in set(result.issues["code"])
    assert list(reported(result)["value"]) == [335]


@pytest.mark.parametrize(
    ("file", "declared", "department"),
    [
        ("县教育局", '县教育局<script>alert("x")</script>', None),  # a unit the catalog does not know
        ("县教育局", "县审计局", None),
        ("县水利局", "县教育局", None),
        ("水利局 (1)", "县审计局", None),
        ("县教育局", "通许县教育局（盖章）", "县教育局"),
        ("县教育局 - 副本", "县教育局", "县教育局 - 副本"),  # copy marks come off unknown units' names too
        ("水利局 (1)", "通许县水利局", SL),
        ("报表", SL, SL),  # a loosely named file: 基本信息 says whose it is
    ],
)
def test_declared_unit_must_be_the_file_names_unit(tmp_path, file, declared, department):
    metadata = {"填报单位": declared, "所属地区": REGION, "统计年度": 2019}
    write(place(tmp_path, 2019, f"{file}.xlsx"), metadata=metadata)
    result = ingest(tmp_path / "raw")
    mismatch = rows_of(result, "metadata-mismatch")
    if department is None:
        assert list(mismatch["cell"]) == ["B1"] and reported(result).empty
        assert "填报单位" in mismatch["message"].iloc[0]
    else:
        assert mismatch.empty
        assert set(reported(result)["department"]) == {department}


def test_year_texts():
    assert years_in_title("通许县水利局2019年度法治政府建设数据统计表") == {2019}
    assert years_in_title("统计时间：2019年1月1日—12月31日") == {2019}
    assert years_in_title("填报日期：2020年1月10日") == set()
    assert years_in_file_name("县水利局2019年") == {2019}
    assert years_in_file_name("县水利局2020.1.10") == set()
    assert years_in_file_name("县水利局20200110") == set()


# --- item 12: copies ------------------------------------------------------------------------------------


def test_a_copy_named_file_is_its_departments_report(tmp_path):
    write(place(tmp_path, 2019, "水利局 (1).xlsx"))
    result = ingest(tmp_path / "raw")
    assert set(reported(result)["department"]) == {SL}
    assert SL not in set(rows_of(result, "missing-submission")["department"])
    assert "unknown-department" not in set(result.issues["code"])
    said = rows_of(result, "file-name-variant")
    assert len(said) == 1 and said["severity"].iloc[0] == "info"
    assert said["file"].iloc[0] == f"{REGION}/2019/水利局 (1).xlsx"
    assert SL in said["message"].iloc[0] and "(1)" in said["message"].iloc[0]


@pytest.mark.parametrize(
    "name",
    [
        "县水利局 - 副本",
        "副本 水利局",
        "水利局 - 复制",
        "水利局最终版",
        "水利局（最终版）",
        "通许县水利局",
        "通许县水利局最终版20200110",
        "水利局 - 副本 (2)",
        "水利局2020.1.10",
        "县水利局2019年度法治政府建设数据统计表",
    ],
)
def test_names_people_save_copies_under(name):
    assert department_of_file(name, REGION, load_catalog())[0] == SL


@pytest.mark.parametrize("name", ["水利局河长办", "教育局", "(1)", "副本", "数据"])
def test_nothing_else_is_guessed(name):
    assert department_of_file(name, REGION, load_catalog()) == (None, [])


@pytest.mark.parametrize(("copy_value", "loaded"), [(335, [335]), (336, [])])
def test_a_department_with_two_files_says_so(tmp_path, copy_value, loaded):
    write(place(tmp_path, 2019, f"{SL}.xlsx"))
    write(place(tmp_path, 2019, "水利局 (1).xlsx"), [["清理河道长度", "公里", copy_value]])
    result = ingest(tmp_path / "raw")
    assert list(reported(result)["value"]) == loaded
    warned = rows_of(result, "multiple-files")  # one row per department, naming both files
    assert list(warned["file"]) == [f"{REGION}/2019/{SL}.xlsx"]
    assert f"{SL}.xlsx" in warned["message"].iloc[0] and "水利局 (1).xlsx" in warned["message"].iloc[0]
    assert set(warned["severity"]) == {"warning"}
    expected = "duplicate-value" if loaded else "duplicate-conflict"
    assert expected in set(result.issues["code"])
