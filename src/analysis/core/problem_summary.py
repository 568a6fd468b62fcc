"""The few lines that end the terminal output of ``ingest`` and ``run`` when the data has problems: how many
errors and warnings, the first few as "单位 · 文件 · 单元格 · 问题" (errors first), and where the full list
is. The command line prints them (:mod:`analysis.cli`); this module only words them.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from analysis.core.names import DATA_QUALITY_PAGE
from analysis.core.problems import ERROR, WARNING, severity_rank
from analysis.core.store import ISSUES_CSV, StoreError, read_issues

SHOWN = 5  # problems named in the terminal; the rest are in issues.csv and on the data-quality page
MARKS = {ERROR: "✗", WARNING: "!"}
NONE = "—"


def _plain(text: object) -> str:
    """Submitted text as one terminal line: control characters (escape sequences, line breaks) become
    spaces, so a workbook cannot move the cursor or recolour the terminal."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in str(text))
    return " ".join(cleaned.split())


def where(row: pd.Series | dict) -> str:
    """``工作表!单元格`` as Excel writes a reference, the sheet alone, or — when the problem has no place."""
    sheet, cell = _plain(row.get("sheet") or ""), _plain(row.get("cell") or "")
    if sheet and cell:
        return f"{sheet}!{cell}"
    return sheet or cell or NONE


def problem_line(row: pd.Series | dict) -> str:
    """One problem as "单位 · 文件 · 单元格 · 问题"."""
    parts = [_plain(row.get("department") or "") or NONE, _plain(row.get("file") or "") or NONE, where(row)]
    return f"  {MARKS.get(row.get('severity'), '·')} {' · '.join(parts)} · {_plain(row.get('message', ''))}"


def summary_lines(issues: pd.DataFrame, full_list: str, page: str, shown: int = SHOWN) -> list[str]:
    """The closing lines for ``issues`` (empty when it has no error and no warning). ``full_list`` names the
    issues file, ``page`` the data-quality page (or where it will be)."""
    serious = issues[issues["severity"].isin([ERROR, WARNING])]
    if serious.empty:
        return []
    errors = int((serious["severity"] == ERROR).sum())
    warnings = len(serious) - errors
    ranked = serious.assign(_rank=serious["severity"].map(severity_rank)).sort_values("_rank", kind="stable")
    first = ranked.head(shown)
    head = f"数据问题：错误 {errors} 条，警告 {warnings} 条。"
    head += (
        "（单位 · 文件 · 单元格 · 问题）："
        if len(first) == len(serious)
        else f"前 {len(first)} 条（单位 · 文件 · 单元格 · 问题）："
    )
    lines = [head, *(problem_line(row) for _, row in first.iterrows())]
    lines.append(f"完整清单：{full_list}；报告中的“数据质量与勾稽核对”页：{page}")
    return lines


def ingest_lines(issues: pd.DataFrame, out: Path) -> list[str]:
    """The closing lines of ``ingest``: the list is the new ``issues.csv``; the page comes with the reports."""
    page = f"生成报告后见 reports/<地区>/<年度>/{DATA_QUALITY_PAGE}"
    return summary_lines(issues, str(Path(out) / ISSUES_CSV), page)


def run_lines(processed: Path, reports: list[tuple[str, int, Path]]) -> list[str]:
    """The closing lines of ``run`` for the region-year reports it built or reused (region, year, folder):
    their problems and those that belong to no region."""
    if not reports:
        return []
    try:
        issues = read_issues(processed)
    except (StoreError, OSError):  # the batch already said what is wrong with the tables
        return []
    asked = {(str(region), int(year)) for region, year, _ in reports}
    years = pd.to_numeric(issues["year"], errors="coerce")
    keep = pd.Series(  # a mask (an empty list would select no columns of an empty table)
        [
            not region or (not pd.isna(year) and (str(region), int(year)) in asked)
            for region, year in zip(issues["region"].fillna(""), years, strict=True)
        ],
        index=issues.index,
        dtype=bool,
    )
    page = str(Path(reports[0][2]) / DATA_QUALITY_PAGE)
    if len(reports) > 1:
        page += " 等（每份报告都有这一页）"
    return summary_lines(issues[keep], str(Path(processed) / ISSUES_CSV), page)
