"""``退回修改``: for each department of a region-year with errors or warnings, the marked-up copy of each of
its workbooks (:mod:`analysis.report.markup`), written into the report's staging folder by a finishing step
of the report, so it is published with the report; a department's files are made again only when its
problems changed, and a file a person edited is kept (:mod:`analysis.report.returned`).

The raw files are found through the processed folder's ``manifest.json``: the raw folder the ingest read
(``raw_folder``, else ``raw`` taken from the project folder or the current folder) and the SHA-256 of each
file as it was read (``sources``). A file gone since, or whose bytes differ from that record, is not
marked: its copy lists the problems on ``修改说明`` only, with a Chinese note saying why (the cells named
may no longer be where the problems were). Files the ingest could not read get the same list.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import pandas as pd

from analysis.core import names
from analysis.core.problems import ERROR, WARNING
from analysis.core.sanitize import safe_name
from analysis.core.store import MANIFEST
from analysis.report.markup import mark_up, marked_name, too_large, workbook_format
from analysis.report.notice import notice_name, render_notice
from analysis.report.returned import Returned, content_key

UNREAD = frozenset({"unreadable-file", "password-protected", "unsafe-file"})


def raw_folder(processed: Path, manifest: dict) -> Path | None:
    """The raw folder the ingest read, as recorded in the manifest (None when it is not there any more)."""
    recorded = [manifest.get("raw_folder"), manifest.get("raw")]
    for text in filter(None, recorded):
        path = Path(text)
        for candidate in (
            (path,) if path.is_absolute() else (processed.parent.parent / path, Path.cwd() / path)
        ):
            if candidate.is_dir():
                return candidate
    return None


def _source(raw: Path | None, file: str, digest: str | None, rejected: bool) -> tuple[Path | None, str, str]:
    """(file to copy or None, its format, note for 修改说明) for a file of the issues table."""
    name = file.rsplit("/", 1)[-1]
    if rejected:
        return None, "xlsx", f"原报表“{name}”无法读取，本文件只列出问题；请按说明改正后重新报送"
    path = raw / file if raw is not None else None
    if path is None or not path.is_file():
        return (
            None,
            "xlsx",
            f"原报表“{name}”已不在原始报表文件夹中，本文件只列出导入时发现的问题，未标注单元格",
        )
    data = path.read_bytes()
    if digest is None or hashlib.sha256(data).hexdigest() != digest:
        return (
            None,
            "xlsx",
            f"原报表“{name}”在导入后已被替换或修改（内容校验和不同），本文件只列出导入时发现的问题，未标注单元格；"
            "请以重新导入后的结果为准",
        )
    fmt = workbook_format(data)
    large = too_large(data, fmt)
    if large:
        return None, "xlsx", f"原报表“{name}”{large}，无法复制标注，本文件只列出问题"
    note = (
        ""
        if fmt == "xlsx"
        else f"原报表“{name}”是 .{fmt} 格式，本标注副本为 .xlsx，只保留单元格内容（不含原格式）"
    )
    return path, fmt, note


def _file_stem(name: str, number: int, copy: int = 0) -> str:
    """``name`` as a file name in ``退回修改/``; a name that cannot be one (separators, ``..``, device
    names: never from the ingest, which refuses them, but the tables may come from elsewhere) is
    replaced by ``单位<number>``."""
    try:
        return safe_name(name, "单位")
    except ValueError:
        return f"单位{number}" + (f"-{copy + 1}" if copy else "")


def _shared_checks(issues: pd.DataFrame) -> pd.DataFrame:
    """The issues with each identity across departments (``reconciliation-mismatch``, recorded on one
    department's cell) also given, without a cell, to every other department its message names;
    ``concerned`` lists them all (修改说明's 涉及单位)."""
    issues = issues.assign(concerned=issues["department"])
    departments = sorted(set(issues["department"]))
    extra = []
    for row in issues[issues["code"] == "reconciliation-mismatch"].to_dict("records"):
        named = [d for d in departments if d in row["message"]]
        others = [d for d in named if d != row["department"]]
        concerned = "、".join(dict.fromkeys([row["department"], *named]))
        issues.loc[(issues["code"] == row["code"]) & (issues["message"] == row["message"]), "concerned"] = (
            concerned
        )
        extra += [
            {**row, "department": d, "file": "", "sheet": "", "cell": "", "concerned": concerned}
            for d in others
        ]
    return pd.concat([issues, pd.DataFrame(extra)], ignore_index=True) if extra else issues


def write_feedback(
    stage: Path, processed: Path, issues: pd.DataFrame, published: Path | None = None
) -> list[dict]:
    """Marked-up copies into ``stage/退回修改/`` for the departments of ``issues`` (one region-year) with
    errors or warnings, and a notice to each; one row per department (department, files, errors, warnings,
    workbooks, notice: paths relative to the report folder). Against the ``published`` report folder, a
    file whose problems did not change is carried over as it is, and a file a person edited is never
    replaced (:mod:`analysis.report.returned`)."""
    manifest = json.loads((processed / MANIFEST).read_text(encoding="utf-8"))
    raw, sources = raw_folder(processed, manifest), manifest.get("sources") or {}
    issues = _shared_checks(issues[issues["department"].fillna("") != ""])
    out = Returned(stage, published)
    rows = []
    for department, own in issues.groupby("department", sort=True):
        counts = own["severity"].value_counts()
        errors, warnings = int(counts.get(ERROR, 0)), int(counts.get(WARNING, 0))
        if not errors + warnings:
            continue
        files = [f for f in dict.fromkeys(own["file"].fillna("")) if f]
        unfiled = own[own["file"].fillna("") == ""]
        books = []
        for n, file in enumerate(files):
            mine = own[own["file"] == file]
            if n == 0:
                mine = pd.concat([mine, unfiled])  # a department's problems of no file: on its first copy
            rejected = bool(mine["code"].isin(UNREAD).any())
            path, fmt, note = _source(raw, file, sources.get(file), rejected)
            stem = department if len(files) == 1 else file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            relative = f"{names.FEEDBACK_DIR}/{marked_name(_file_stem(stem, len(rows) + 1, n))}"
            key = content_key(mine.to_dict("records"), sources.get(file), fmt, note)
            books.append(out.write(relative, key, partial(_marked, mine, path, fmt, note, file)))
        notice = f"{names.FEEDBACK_DIR}/{notice_name(_file_stem(department, len(rows) + 1))}"
        region, year = str(own["region"].iloc[0]), int(own["year"].dropna().iloc[0])
        records = own.to_dict("records")
        key = content_key(region, year, department, files, books, records)
        notice = out.write(
            notice, key, partial(render_notice, region, year, department, files, books, records)
        )
        rows.append(
            {
                "department": department,
                "files": files,
                "errors": errors,
                "warnings": warnings,
                "workbooks": books,
                "notice": notice,
            }
        )
    out.close()
    return rows


def _marked(mine: pd.DataFrame, path: Path | None, fmt: str, note: str, file: str) -> bytes:
    """The marked-up copy of ``file``; a workbook openpyxl cannot open or save gets the list only."""
    try:
        return mark_up(path, fmt, mine.to_dict("records"), note)
    except Exception as exc:
        note = f"原报表“{file.rsplit('/', 1)[-1]}”无法复制标注（{type(exc).__name__}），本文件只列出问题"
        return mark_up(None, "xlsx", mine.to_dict("records"), note)
