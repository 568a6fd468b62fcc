"""The whole hostile corpus through ``python -m analysis ingest``: every case its exact issue, the good data
beside it all loaded, nothing lost, no traceback, submitted text neutralised in the CSV outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.core.problems import FILE_CODES
from analysis.core.sanitize import FORMULA_TRIGGERS
from analysis.core.store import read_indicators, read_issues
from analysis.ingest.pipeline import ingest
from tests import hostile_corpus as hc

PREFIX = f"{hc.REGION}/{hc.YEAR}/"
FORMATS = {"xlsx", "xls", "ods"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    raw, out = root / "raw", root / "out"
    paths = hc.build_corpus(raw)
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return {
        "proc": proc,
        "raw": raw,
        "out": out,
        "paths": paths,
        "indicators": read_indicators(out),
        "issues": read_issues(out),
    }


def _file_issues(run: dict, case: hc.Case) -> pd.DataFrame:
    issues = run["issues"]
    return issues[issues["file"] == PREFIX + case.filename]


def _file_values(run: dict, case: hc.Case) -> pd.DataFrame:
    ind = run["indicators"]
    return ind[ind["source_file"] == PREFIX + case.filename]


def test_the_run_ends_cleanly_with_errors_reported(run: dict) -> None:
    proc = run["proc"]
    assert proc.returncode == 1, proc.stderr  # errors found, good values written
    for stream in (proc.stdout, proc.stderr):
        assert "Traceback" not in stream
    assert "issues.csv" in proc.stdout.splitlines()[-1]  # the terminal ends with where the full list is
    assert not run["issues"]["message"].str.contains("Traceback|Error:|Exception", regex=True).any()


@pytest.mark.parametrize("case", hc.CASES, ids=[c.name for c in hc.CASES])
def test_each_case_has_its_outcome(case: hc.Case, run: dict) -> None:
    issues = _file_issues(run, case)
    values = _file_values(run, case)
    codes = set(issues["code"])
    for code in case.file_codes:
        assert code in codes, (case.name, issues[["code", "message"]].to_dict("records"))
        row = issues[issues["code"] == code].iloc[0]
        assert row["region"] == hc.REGION and row["year"] == hc.YEAR
        assert row["cell"] == "" and row["message"]
    if case.preflight not in FORMATS:
        # refused before reading: exactly that error for the file, and nothing of it loaded
        errors = set(issues.loc[issues["severity"] == "error", "code"])
        assert errors == {case.preflight}, (case.name, errors)
        assert values.empty
    for sheet, cell, accepted in case.cells:
        at = issues[(issues["sheet"] == sheet) & (issues["cell"] == cell)]
        loaded = values[(values["sheet"] == sheet) & (values["cell"] == cell)]
        target = case.may_match.get(cell)
        if target and not loaded.empty:
            assert list(loaded["indicator_id"]) == [target], (case.name, cell)  # matched, never mis-guessed
            continue
        assert set(at["code"]) & set(accepted), (case.name, cell, at[["code", "message"]].to_dict("records"))
        assert loaded.empty, (case.name, cell)
    for sheet, cell, code in case.warnings:
        at = issues[(issues["sheet"] == sheet) & (issues["cell"] == cell) & (issues["code"] == code)]
        assert len(at) == 1 and at["severity"].iloc[0] == "warning", (case.name, cell, code)
        assert at["region"].iloc[0] == hc.REGION and at["message"].iloc[0]
    for indicator_id, value in case.values.items():
        got = values[values["indicator_id"] == indicator_id]
        assert list(got["value"]) == [pytest.approx(value)], (case.name, indicator_id)
        assert got["sheet"].iloc[0] and got["cell"].iloc[0]


def test_readable_files_raise_no_unexpected_errors(run: dict) -> None:
    """Only the errors a case asks for: the rows around a bad cell are not collateral damage."""
    for case in hc.CASES:
        if case.preflight not in FORMATS:
            continue
        issues = _file_issues(run, case)
        errors = issues[issues["severity"] == "error"]
        expected = {cell for _, cell, _ in case.cells}
        unexpected = errors[~errors["cell"].isin(expected) & ~errors["code"].isin(case.file_codes)]
        assert unexpected.empty, (case.name, unexpected[["code", "cell", "message"]].to_dict("records"))


def _value_cells(path: Path) -> dict[str, object]:
    """Non-empty cells of the value column (header 数值) of every sheet, as openpyxl sees them (errors too)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    found: dict[str, object] = {}
    for ws in wb.worksheets:
        column = None
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if column is None:
                if r > 10:
                    break
                if "数值" in row:
                    column = row.index("数值")
                continue
            value = row[column] if column < len(row) else None
            if value is not None and value != "":
                found[f"{openpyxl.utils.get_column_letter(column + 1)}{r}"] = value
    wb.close()
    return found


def test_no_value_is_lost(run: dict) -> None:
    """Every non-empty value cell of every .xlsx ends in the tidy table or in the issues, or its file was
    refused as a whole — the accounting of the no-loss property, on the hostile corpus."""
    issues, ind = run["issues"], run["indicators"]
    refused = set(issues.loc[issues["code"].isin(FILE_CODES), "file"])
    flagged = set(zip(issues["file"], issues["cell"], strict=True))
    loaded = set(zip(ind["source_file"], ind["cell"], strict=True))
    checked = 0
    for case in hc.CASES:
        if case.preflight != "xlsx":
            continue
        rel = PREFIX + case.filename
        for cell in _value_cells(run["paths"][case.name]):
            assert (rel, cell) in loaded or (rel, cell) in flagged or rel in refused, (case.name, cell)
            checked += 1
    assert checked >= 40


def test_tall_sheet_loads_only_its_figures(run: dict) -> None:
    tall = hc.CASES_BY_NAME["tall"]
    values = _file_values(run, tall)
    assert len(values) == len(tall.values)
    assert _file_issues(run, tall)["severity"].ne("error").all()
    assert len(run["issues"]) < 500  # the 100,000 blank rows are layout, not 100,000 issue lines


def test_submitted_text_is_kept_exact_in_parquet_and_neutralised_in_csv(run: dict) -> None:
    ind = run["indicators"]
    note = ind[ind["note"] == hc.INJECTION_NOTE]
    assert len(note) == 1 and note["sheet"].iloc[0] == hc.INJECTION_SHEET
    for name in ("indicators.csv", "issues.csv"):
        frame = pd.read_csv(run["out"] / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for column in frame.columns:
            if column in ("value", "year"):
                continue
            bad = frame[column].map(lambda v: bool(v) and v[0] in FORMULA_TRIGGERS)
            assert not bad.any(), (name, column, frame.loc[bad, column].tolist()[:3])
    csv = pd.read_csv(run["out"] / "indicators.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'" + hc.INJECTION_NOTE in set(csv["note"])
    assert "'" + hc.INJECTION_SHEET in set(csv["sheet"])


def test_manifest_describes_the_written_set(run: dict) -> None:
    manifest = json.loads((run["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["indicators"] == len(run["indicators"])
    assert manifest["issues"] == len(run["issues"])


@pytest.mark.parametrize(
    "region, year",
    [
        ("CON", "2019"),
        ("通许县\n", "2019"),
        ("a\u202etxt", "2019"),
        ("通许县", "2019年度x"),
        ("通许县", "1800"),
        ("..通许县", "2019"),
        (" ", "2019"),
    ],
)
def test_hostile_folder_names_never_load(region: str, year: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    path = raw / region / year / "县水利局.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(hc.workbook_bytes(hc.data_workbook(hc.value_rows(hc.catalog_values("县水利局")))))
    result = ingest(raw)
    assert result.indicators.empty
    bad = result.issues[result.issues["code"] == "bad-path"]
    assert len(bad) == 1 and "未读取" in bad["message"].iloc[0]


@pytest.mark.parametrize("stem", ["CON", "县水利局\t", "..", "a\x7fb", "a|b", "=SUM(1+1)"])
def test_hostile_file_names(stem: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    path = raw / hc.REGION / str(hc.YEAR) / f"{stem}.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(hc.workbook_bytes(hc.data_workbook(hc.value_rows(hc.catalog_values("县水利局")))))
    result = ingest(raw)
    if stem.startswith("="):  # a legal file name: loaded under that (unknown) department, text kept exact
        assert set(result.indicators.loc[~result.indicators["derived"], "department"]) == {stem}
        assert "unknown-department" in set(result.issues["code"])
    else:
        assert result.indicators.empty
        # refused (bad-path), or skipped as a hidden file ("...xlsx" starts with a dot)
        assert list(result.issues["code"]) in (["bad-path"], ["skipped-file"])


def test_reliability_page_lists_every_case() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text(encoding="utf-8")
    for case in hc.CASES:
        assert f"| `{case.name}` | {case.filename} |" in page, case.name
    for variable in (
        "FAZHI_MAX_FILE_MB",
        "FAZHI_MAX_UNCOMPRESSED_MB",
        "FAZHI_MAX_MEMBER_MB",
        "FAZHI_MAX_RATIO",
    ):
        assert variable in page
