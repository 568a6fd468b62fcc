"""``check`` (the senders' self-check) reports, for every file, exactly the problems the ingest reports for
that file, apart from what only a whole folder can tell (:data:`ACROSS_FILES`): over every file of the hostile
corpus and every workbook the messy-submission tests ingest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.core.text import scrub_surrogates
from analysis.ingest import pipeline
from analysis.ingest.selfcheck import ACROSS_FILES, CheckError, check_file
from tests import hostile_corpus as hc
from tests import test_messy_submissions as messy
from tests.builders import write_xlsx

FIELDS = ("severity", "code", "region", "year", "department", "sheet", "cell", "indicator_id", "message")


def _rows_of_ingest(issues, file: str) -> list[tuple]:
    rows = issues[(issues["file"] == file) & ~issues["code"].isin(ACROSS_FILES)]
    out = []
    for row in rows.itertuples(index=False):
        values = {f: getattr(row, f) for f in FIELDS}
        values["year"] = (
            None if values["year"] is None or str(values["year"]) == "<NA>" else int(values["year"])
        )
        out.append(tuple(values[f] for f in FIELDS))
    return sorted(out, key=repr)


def _rows_of_check(result) -> list[tuple]:
    rows = []
    for p in result.problems:
        row = p.as_row()
        row["message"] = scrub_surrogates(row["message"])
        row["sheet"] = scrub_surrogates(row["sheet"])
        rows.append(tuple(row[f] for f in FIELDS))
    return sorted(rows, key=repr)


def assert_same_as_ingest(raw: Path, result) -> int:
    """Every file the ingest read (or refused) under ``raw``: ``check`` finds the same problems."""
    compared = 0
    for summary in result.files:
        checked = check_file(raw / summary.file)
        assert _rows_of_check(checked) == _rows_of_ingest(result.issues, summary.file), summary.file
        compared += 1
    return compared


# --- the hostile corpus -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    raw = tmp_path_factory.mktemp("hostile-check") / "raw"
    hc.build_corpus(raw)
    return raw, pipeline.ingest(raw, workers=1)


def test_every_hostile_file_gets_the_ingests_problems(hostile) -> None:
    raw, result = hostile
    assert assert_same_as_ingest(raw, result) == len(result.files) >= len(hc.CASES) - 5


def test_files_the_ingest_does_not_read_are_refused_alike(hostile) -> None:
    raw, result = hostile
    folder = raw / hc.REGION / str(hc.YEAR)
    read = {raw / f.file for f in result.files}
    for path in sorted(folder.iterdir()):
        if path in read or not path.is_file():
            continue
        checked = check_file(path)
        expected = _rows_of_ingest(result.issues, f"{hc.REGION}/{hc.YEAR}/{path.name}")
        assert not checked.read and checked.problems, path.name
        assert [(r[1], r[-1]) for r in _rows_of_check(checked)] == [(r[1], r[-1]) for r in expected]


# --- the messy submissions: each of those tests again, with check beside every ingest -------------------


def _messy_calls():
    for name, fn in vars(messy).items():
        if not name.startswith("test_") or not callable(fn):
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            yield pytest.param(fn, {}, id=name)
            continue
        (mark,) = marks
        names, values = mark.args
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        for i, value in enumerate(values):
            value = value if len(names) > 1 else (value,)
            yield pytest.param(fn, dict(zip(names, value, strict=True)), id=f"{name}-{i}")


@pytest.mark.parametrize(("test", "params"), list(_messy_calls()))
def test_every_messy_workbook_gets_the_ingests_problems(test, params, tmp_path, monkeypatch) -> None:
    compared = []

    def ingest_and_check(raw, *args, **kwargs):
        result = pipeline.ingest(raw, *args, **kwargs)
        compared.append(assert_same_as_ingest(Path(raw), result))
        return result

    monkeypatch.setattr(messy, "ingest", ingest_and_check)
    test(tmp_path=tmp_path, **params)
    assert compared and all(compared)


# --- region and year, exit statuses ---------------------------------------------------------------------


def _workbook(path: Path, rows, metadata=None) -> Path:
    write_xlsx(path, rows, metadata=metadata)
    return path


def test_region_and_year_from_the_basic_information_sheet(tmp_path) -> None:
    meta = {"填报单位": "县司法局", "所属地区": "通许县", "统计年度": "2019年度"}
    path = _workbook(tmp_path / "县司法局.xlsx", [[1, "人民调解组织", "个", 328]], meta)
    result = check_file(path)
    assert (result.ctx.region, result.ctx.year, result.ctx.department) == ("通许县", 2019, "县司法局")
    assert result.problems == [] and result.values == 1
    wrong = check_file(path, year=2020)  # 基本信息 against the year given
    assert [(p.code, p.sheet, p.cell) for p in wrong.problems] == [("metadata-mismatch", "基本信息", "B3")]


def test_without_region_or_year_it_says_how_to_give_them(tmp_path) -> None:
    path = _workbook(tmp_path / "县司法局.xlsx", [[1, "人民调解组织", "个", 328]])
    with pytest.raises(CheckError, match="--region"):
        check_file(path)
    assert check_file(path, region="通许县", year=2019).problems == []


@pytest.mark.parametrize(
    ("rows", "status", "words"),
    [
        ([[1, "人民调解组织", "个", 328]], 0, "可以报送"),
        ([[1, "人民调解组织", "个", "三百"]], 1, "[错误] 工作表“数据” D2"),
        (None, 2, "文件无法读取"),
    ],
)
def test_exit_status_and_words(tmp_path, capsys, rows, status, words) -> None:
    path = tmp_path / "通许县" / "2019" / "县司法局.xlsx"
    if rows is None:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not a workbook")
    else:
        _workbook(path, rows)
    assert main(["check", str(path)]) == status
    out = capsys.readouterr().out
    assert words in out


def test_check_never_writes_and_runs_as_a_command(tmp_path) -> None:
    path = _workbook(tmp_path / "通许县" / "2019" / "县司法局.xlsx", [[1, "人民调解组织", "个", -3]])
    before = sorted(p.name for p in tmp_path.rglob("*"))
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "check", str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert "negative" not in proc.stdout and "数值为负数" not in proc.stdout and "D2" in proc.stdout
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_mark_writes_beside_the_file_but_never_into_data(tmp_path, monkeypatch, capsys) -> None:
    import openpyxl

    rows = [[1, "人民调解组织", "个", "三百"]]
    beside = _workbook(tmp_path / "通许县" / "2019" / "县司法局.xlsx", rows)
    assert main(["check", str(beside), "--mark"]) == 1
    marked = beside.with_name("县司法局（标注）.xlsx")
    assert openpyxl.load_workbook(marked)["数据"]["D2"].comment is not None
    raw = _workbook(tmp_path / "project" / "data" / "raw" / "通许县" / "2019" / "县司法局.xlsx", rows)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["check", str(raw), "--mark"]) == 1
    assert sorted(p.name for p in raw.parent.iterdir()) == ["县司法局.xlsx"]
    assert (work / "县司法局（标注）.xlsx").is_file() and "标注副本" in capsys.readouterr().out


def test_the_hostile_corpus_goes_back_marked_or_listed(hostile, tmp_path) -> None:
    """退回修改 over the whole hostile corpus: every department's copy is written (none raises); a file too
    large to copy cell by cell (37,000 merged ranges) gets the list with a note; refused files the list."""
    import openpyxl

    from analysis.core.names import FEEDBACK_SHEET
    from analysis.core.store import read_issues, write_tables
    from analysis.explore.quality import issues_of
    from analysis.report.feedback import write_feedback

    raw, result = hostile
    processed, stage = tmp_path / "processed", tmp_path / "stage"
    meta = {"raw_folder": str(raw), "sources": {f.file: f.digest for f in result.files}}
    write_tables(processed, result.indicators, result.issues, meta)
    rows = write_feedback(stage, processed, issues_of(read_issues(processed), hc.REGION, hc.YEAR))
    notes = {}
    for row in rows:
        for book, file in zip(row["workbooks"], row["files"], strict=True):
            wb = openpyxl.load_workbook(stage / book)
            assert wb.sheetnames[0] == FEEDBACK_SHEET
            notes[file.rsplit("/", 1)[-1]] = (wb[FEEDBACK_SHEET]["A1"].value, len(wb.sheetnames))
    flood = hc.CASES_BY_NAME["merge-flood"].filename
    assert "合并单元格过多" in notes[flood][0] and notes[flood][1] == 1
    assert "无法读取" in notes[hc.CASES_BY_NAME["zip-bomb"].filename][0]
