"""``退回修改`` in a report: 通许县 2019 (the shipped sample) and a 杞县 2019 with a text in a number cell, a
unit mismatch, a missing indicator, a wrong-year 基本信息 and an .xls file. Each department with errors or
warnings gets its marked-up workbook, with fills and comments on exactly the cells ``issues.csv`` lists; a
raw file changed or gone since the ingest gets the list only, with a note. (The step itself, on the ingest's
real output: no notebooks run here.)"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.cli import main
from analysis.core.names import FEEDBACK_DIR, FEEDBACK_SHEET
from analysis.core.store import read_issues
from analysis.explore.quality import issues_of
from analysis.report import notice, steps
from analysis.report.feedback import write_feedback
from analysis.report.markup import COMMENT_AUTHOR
from tests import hostile_corpus as hc

QI = "杞县"


def _qi_county(raw: Path) -> None:
    folder = raw / QI / "2019"
    folder.mkdir(parents=True)
    rows = hc.value_rows(hc.catalog_values("县司法局"))
    rows[0] = (*rows[0][:3], "很多", "")  # text in a number cell
    rows[1] = (rows[1][0], rows[1][1], "元", rows[1][3], "")  # unit mismatch
    del rows[2]  # a missing indicator
    hc.data_workbook(rows).save(folder / "县司法局.xlsx")
    (folder / "县水利局.xls").write_bytes(
        hc.xls_bytes([(*r[:3], "若干", "") for r in hc.value_rows(hc.catalog_values("县水利局"))])
    )
    wb = hc.data_workbook(hc.value_rows(hc.catalog_values("县审计局")))
    info = wb.create_sheet("基本信息")
    for pair in (("填报单位", "县审计局"), ("所属地区", QI), ("统计年度", "2018年度")):
        info.append(pair)
    wb.save(folder / "县审计局.xlsx")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> dict:
    root = tmp_path_factory.mktemp("feedback")
    raw, processed = root / "raw", root / "processed"
    shutil.copytree(sample_raw, raw)
    _qi_county(raw)
    assert main(["ingest", "--raw", str(raw), "--out", str(processed), "--quiet"]) == 1
    issues = read_issues(processed)
    out = {}
    for region in ("通许县", QI):
        stage = root / "stage" / region
        mine = issues_of(issues, region, 2019)
        out[region] = (stage, mine, write_feedback(stage, processed, mine))
    return {"raw": raw, "processed": processed, "issues": issues, "regions": out, "root": root}


def _marked_cells(path: Path) -> set[tuple[str, str]]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate)
        for ws in wb.worksheets[1:]
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None
        and c.comment.author == COMMENT_AUTHOR
        and c.fill.fgColor.rgb not in (None, "00000000")
    }


def test_it_is_a_finishing_step_before_the_index() -> None:
    names = steps.finishing_jobs(False)[0]
    assert names.index("summary") < names.index("feedback") < names.index("index")


@pytest.mark.parametrize("region", ["通许县", QI])
def test_each_department_with_problems_has_its_marked_workbook(batch: dict, region: str) -> None:
    stage, issues, rows = batch["regions"][region]
    serious = issues[issues["severity"].isin(["error", "warning"]) & (issues["department"] != "")]
    assert {r["department"] for r in rows} == set(serious["department"])
    for row in rows:
        for book, file in zip(row["workbooks"], row["files"], strict=True):
            path = stage / book
            assert path.parent.name == FEEDBACK_DIR and path.name.endswith("（标注）.xlsx")
            listed = issues[(issues["file"] == file) & (issues["cell"] != "")]
            sheets = set(openpyxl.load_workbook(path).sheetnames)
            expected = {(s, c) for s, c in zip(listed["sheet"], listed["cell"], strict=True) if s in sheets}
            assert _marked_cells(path) == expected, file


def test_qi_county_cases(batch: dict) -> None:
    stage, issues, rows = batch["regions"][QI]
    by_department = {r["department"]: r for r in rows}
    assert set(by_department) == {"县司法局", "县水利局", "县审计局"}
    sj = openpyxl.load_workbook(stage / by_department["县司法局"]["workbooks"][0])
    listed = [r for r in sj[FEEDBACK_SHEET].iter_rows(min_row=2, values_only=True)]
    codes = set(issues.loc[issues["department"] == "县司法局", "code"])
    assert {"bad-number", "unit-mismatch", "missing-indicator"} <= codes
    assert len(listed) == int((issues["department"] == "县司法局").sum())
    assert any("未填报" in (r[5] or "") for r in listed)  # the missing indicator, on the list
    xls = openpyxl.load_workbook(stage / by_department["县水利局"]["workbooks"][0])
    assert ".xls" in xls[FEEDBACK_SHEET]["A1"].value
    audit = openpyxl.load_workbook(stage / by_department["县审计局"]["workbooks"][0])
    assert audit["基本信息"]["B3"].comment is not None  # 统计年度 2018 in a 2019 folder


def test_a_raw_file_changed_or_gone_gets_the_list_only(batch: dict, tmp_path: Path) -> None:
    stage, issues, _ = batch["regions"][QI]
    raw = batch["raw"] / QI / "2019"
    saved = (raw / "县司法局.xlsx").read_bytes()
    try:
        (raw / "县司法局.xlsx").write_bytes(saved + b"\0")
        (raw / "县审计局.xlsx").rename(tmp_path / "away.xlsx")
        rows = write_feedback(tmp_path / "stage", batch["processed"], issues)
    finally:
        (raw / "县司法局.xlsx").write_bytes(saved)
        (tmp_path / "away.xlsx").rename(raw / "县审计局.xlsx")
    books = {r["department"]: tmp_path / "stage" / r["workbooks"][0] for r in rows}
    for department, words in (("县司法局", "已被替换或修改"), ("县审计局", "已不在")):
        wb = openpyxl.load_workbook(books[department])
        assert wb.sheetnames == [FEEDBACK_SHEET] and words in wb[FEEDBACK_SHEET]["A1"].value


def test_each_department_with_problems_gets_a_notice(batch: dict) -> None:
    import docx

    stage, issues, rows = batch["regions"][QI]
    for row in rows:
        doc = docx.Document(stage / row["notice"])
        text = "\n".join(p.text for p in doc.paragraphs)
        assert (
            text.startswith("关于修改数据报表的通知")
            and "2019年度" in text
            and f"{row['department']}：" in text
        )
        highlighted = [r.text for p in doc.paragraphs for r in p.runs if r.font.highlight_color is not None]
        assert {"【截止日期】", "【联系人】", "【联系电话】"} <= set(highlighted)
        listed = issues[issues["department"] == row["department"]]
        table = [[c.text for c in r.cells] for r in doc.tables[0].rows[1:]]
        assert len(table) == min(len(listed), notice.LISTED)
        cells = {c for c in listed["cell"] if c}
        assert cells & {c for r in table for c in cells if c in r[2]} or not cells
    assert not any(r["department"] == "县司法局" and not r["notice"] for r in rows)


def test_hostile_text_stays_inert_in_notice_and_page() -> None:
    import docx

    from analysis.site.index import IndexContent, render_index

    hostile = '=HYPERLINK("http://e/","x")<script>'
    row = {"severity": "error", "sheet": "数据", "cell": "D3", "message": f"“{hostile}”不是数字；请填写数字"}
    data = notice.render_notice("杞县", 2019, "县司法局", ["杞县/2019/县司法局.xlsx"], [], [row])
    doc = docx.Document(io.BytesIO(data))
    assert hostile in doc.tables[0].rows[1].cells[3].text
    xml = doc.element.xml
    assert "<w:instrText" not in xml and "<w:fldSimple" not in xml and "<w:hyperlink" not in xml
    content = IndexContent([], None, pd.DataFrame(columns=["级别", "含义", "问题数", "代码"]), pd.DataFrame())
    page = render_index(
        region="杞县",
        year=2019,
        pages=[],
        content=content,
        workbook=None,
        generated="2026-01-01 00:00",
        returns=[
            {
                "department": "<b>局",
                "errors": 1,
                "warnings": 0,
                "workbooks": ["退回修改/<b>局（标注）.xlsx"],
                "notice": "",
            }
        ],
    )
    assert "退回修改" in page and "&lt;b&gt;局" in page and "<b>局" not in page


def test_collection_status_on_the_index_overview_and_summary(batch: dict, tmp_path: Path) -> None:
    from analysis.core.store import read_catalog, read_indicators
    from analysis.explore.collection import collection_status
    from analysis.explore.selection import select
    from analysis.report.summary import build_workbook
    from analysis.site import index as index_page
    from analysis.site.overview import site_rows

    indicators, catalog = read_indicators(batch["processed"]), read_catalog(batch["processed"])
    _, issues, _ = batch["regions"][QI]
    qi = indicators[(indicators["region"] == QI) & ~indicators["derived"]]
    status = collection_status(catalog, qi["department"], issues)
    assert set(status.received) == {"县司法局", "县水利局", "县审计局"} == set(status.with_errors)
    assert (
        len(status.expected) == len(status.received) + len(status.missing)
        and "县审计局" not in status.missing
    )
    sentence = status.sentence()
    assert f"目录应报 {len(status.expected)} 个单位，已收到 3 个（其中 3 个有错误）" in sentence
    content = index_page.index_content(select(indicators, QI, 2019, catalog, issues), issues)
    assert content.collection == status
    rows = {(r.region, r.year): r for r in site_rows(tmp_path, indicators, batch["issues"], catalog)}
    assert rows[(QI, 2019)].collection == status
    tongxu = rows[("通许县", 2019)].collection
    assert not tongxu.missing and len(tongxu.received) == len(tongxu.expected)
    about = openpyxl.load_workbook(io.BytesIO(build_workbook(QI, 2019, indicators, issues, catalog)))["说明"]
    assert sentence in [r[1] for r in about.iter_rows(values_only=True)]


def test_an_identity_across_departments_reaches_each_of_them() -> None:
    from analysis.report.feedback import _shared_checks

    message = "调解成功率不成立：……；请县司法局、县信访局核实，并在报告中说明差异的原因"
    base = {"severity": "warning", "region": QI, "year": 2019, "indicator_id": "x", "note": ""}
    issues = pd.DataFrame(
        [
            {
                **base,
                "code": "reconciliation-mismatch",
                "department": "县司法局",
                "file": "a.xlsx",
                "sheet": "数据",
                "cell": "E5",
                "message": message,
            },
            {
                **base,
                "code": "bad-number",
                "department": "县信访局",
                "file": "b.xlsx",
                "sheet": "数据",
                "cell": "E6",
                "message": "x",
            },
        ]
    )
    shared = _shared_checks(issues)
    theirs = shared[(shared["department"] == "县信访局") & (shared["code"] == "reconciliation-mismatch")]
    assert theirs[["file", "sheet", "cell"]].values.tolist() == [["", "", ""]]
    assert set(shared.loc[shared["code"] == "reconciliation-mismatch", "concerned"]) == {"县司法局、县信访局"}


def test_the_copies_are_published_with_the_report_and_stale_ones_go(tmp_path: Path) -> None:
    from analysis.report.publish import publish

    stage, folder = tmp_path / "stage", tmp_path / "report"
    (stage / FEEDBACK_DIR).mkdir(parents=True)
    (stage / FEEDBACK_DIR / "县司法局（标注）.xlsx").write_bytes(b"new")
    (folder / FEEDBACK_DIR).mkdir(parents=True)
    (folder / FEEDBACK_DIR / "县审计局（标注）.xlsx").write_bytes(b"fixed since")
    publish(stage, folder, keep_figures=False)
    assert sorted(p.name for p in (folder / FEEDBACK_DIR).iterdir()) == ["县司法局（标注）.xlsx"]
    publish(stage, folder, keep_figures=True)  # the next build: nobody has problems any more
    assert list((folder / FEEDBACK_DIR).iterdir()) == []


def test_a_department_name_that_is_no_file_name_stays_inside(tmp_path: Path) -> None:
    from analysis.core.store import write_tables
    from tests import fixtures_processed as fp

    processed = tmp_path / "processed"
    write_tables(processed, fp.spec_frame(), fp.issues())
    issues = issues_of(read_issues(processed), fp.REGION, fp.YEAR)
    rows = write_feedback(tmp_path / "stage", processed, issues)
    stage = tmp_path / "stage"
    written = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert all(p.count("/") == 1 and p.startswith(f"{FEEDBACK_DIR}/") for p in written), written
    assert {r["department"] for r in rows} >= {fp.HOSTILE, "县水利局"}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_copy_is_made_again_only_when_its_problems_changed_and_an_edit_is_kept(
    batch: dict, tmp_path: Path
) -> None:
    """The next build carries every file whose problems did not change over as published (the analyst's
    filled-in notice included); a department whose problems changed gets new files, and a notice a person
    edited stays where it is, the new one beside it."""
    from analysis.report.publish import publish

    _, issues, _ = batch["regions"][QI]
    folder = tmp_path / "report"
    folder.mkdir()

    def build(name: str, these: pd.DataFrame) -> list[dict]:
        rows = write_feedback(tmp_path / name, batch["processed"], these, folder)
        publish(tmp_path / name, folder, keep_figures=True)
        return rows

    first = {r["department"]: r for r in build("first", issues)}
    before = _files(folder)
    edited = folder / first["县司法局"]["notice"]
    filled_in = edited.read_bytes() + b"edited"  # the analyst saved it with the deadline filled in
    edited.write_bytes(filled_in)
    again = {r["department"]: r for r in build("again", issues)}  # nothing changed
    assert _files(folder) == {**before, first["县司法局"]["notice"]: filled_in}
    assert again == first

    sj = issues["department"] == "县司法局"
    fewer = issues.drop(issues[sj].index[:1])  # 县司法局 fixed one problem and resent
    third = {r["department"]: r for r in build("third", fewer)}
    now = _files(folder)
    assert now[first["县司法局"]["notice"]] == filled_in  # the person's file, kept as it was
    assert third["县司法局"]["notice"] != first["县司法局"]["notice"]  # the new notice, beside it
    assert third["县司法局"]["notice"] in now
    assert (
        now[third["县司法局"]["workbooks"][0]] != before[first["县司法局"]["workbooks"][0]]
    )  # not edited: made again
    for department in ("县审计局", "县水利局"):  # their problems did not change: carried over as they were
        for relative in (first[department]["notice"], *first[department]["workbooks"]):
            assert now[relative] == before[relative]
