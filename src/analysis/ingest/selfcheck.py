"""The senders' self-check: every single-file rule of the ingest on one workbook, nothing written.

``python -m analysis check 文件.xlsx`` runs on one file exactly what :func:`analysis.ingest.pipeline.ingest`
runs on each file of a raw folder, with the same functions: the rules on its name
(:func:`analysis.ingest.discovery.place_file`), the preflight and reading (safety, zip checks, readers),
``基本信息``, titles and value headers against region and year (:mod:`analysis.ingest.provenance`), headers,
values and units (:mod:`analysis.ingest.extract`, :mod:`analysis.ingest.values`) and repeats within the file
(:func:`analysis.ingest.pipeline.resolve_duplicates`). What only a whole folder can tell (other files of the
same department, indicators nobody sent, identities across departments: :data:`ACROSS_FILES`) is left to the
ingest. The region and year come from the caller (``--region``/``--year``), else from the folders the file
sits in (``<地区>/<年度>/``), else from its ``基本信息`` sheet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from analysis.core.catalog import Catalog, load_catalog
from analysis.core.problems import ERROR, WARNING, Problem, severity_rank
from analysis.core.text import clip
from analysis.core.years import year_or_none
from analysis.ingest.discovery import place_file
from analysis.ingest.extract import FileContext, read_metadata
from analysis.ingest.limits import Limits
from analysis.ingest.pipeline import ingest_file, resolve_duplicates
from analysis.ingest.workbook import WorkbookError, read_workbook

# Codes only the ingest of a whole raw folder reports: they depend on other files or on what is absent.
ACROSS_FILES = frozenset(
    {
        "multiple-files",
        "missing-indicator",
        "missing-submission",
        "reconciliation-mismatch",
        "check-skipped",
        "misplaced-file",
    }
)

# Codes that mean the file could not be read at all (the check's exit status 2).
UNREADABLE = frozenset({"unreadable-file", "password-protected", "unsafe-file"})


class CheckError(Exception):
    """The file cannot be checked at all (not found, region or year unknown); the message is Chinese."""


@dataclass
class CheckResult:
    path: Path
    ctx: FileContext  # region, year and department as the ingest reads them
    problems: list[Problem]
    read: bool  # False: the file was refused before or while reading (its contents were not checked)
    values: int = 0  # values that would be loaded
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        return sum(p.severity == ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == WARNING for p in self.problems)


def _place(path: Path, region: str | None, year: int | None, catalog: Catalog, limits: Limits):
    """(region, year) from the caller, else the folders, else the 基本信息 sheet; CheckError if unknown."""
    folder_year = year_or_none(path.parent.name)
    if folder_year is not None:
        year = folder_year if year is None else year
        region = path.parent.parent.name if region is None else region
    if region is None or year is None:
        try:
            meta = read_metadata(read_workbook(path, limits), catalog)
        except WorkbookError:
            meta = None
        values = meta.values if meta is not None else {}
        if region is None and "所属地区" in values:
            region = values["所属地区"][0].strip()
        if year is None and "统计年度" in values:
            year = year_or_none(values["统计年度"][0])
    if not region or year is None:
        missing = "、".join(w for w, v in (("地区", region), ("年度", year)) if not v)
        raise CheckError(
            f"无法确定“{clip(path.name)}”的{missing}：请用 --region 地区 --year 年度 指定，"
            "或在“基本信息”工作表中填写所属地区和统计年度，或把文件放在 <地区>/<年度>/ 文件夹中"
        )
    return region, year


def check_file(
    path: Path | str,
    region: str | None = None,
    year: int | None = None,
    catalog: Catalog | None = None,
    limits: Limits | None = None,
) -> CheckResult:
    """Every single-file rule of the ingest on ``path``; raises :class:`CheckError` only when the file
    cannot be checked at all (bad input in the file becomes problems, as in the ingest)."""
    started = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"找不到文件 {path}")
    catalog = catalog or load_catalog()
    limits = limits or Limits.from_env()
    region, year = _place(path, region, year, catalog, limits)
    found, problems = place_file(path, region, year)
    if not found:  # its name or place is refused: the ingest would not read it either
        ctx = FileContext(region, year, "", f"{region}/{year}/{path.name}")
        return CheckResult(path, ctx, problems, read=False, seconds=time.perf_counter() - started)
    ((_, ctx),) = found
    loaded, problems = ingest_file(path, ctx, catalog, limits)
    _, repeats = resolve_duplicates([loaded])
    problems = sorted(problems + repeats, key=lambda p: severity_rank(p.severity))
    unreadable = any(p.code in UNREADABLE for p in problems)
    return CheckResult(
        path,
        loaded.ctx,
        problems,
        read=not unreadable,
        values=len(loaded.candidates),
        seconds=time.perf_counter() - started,
    )
