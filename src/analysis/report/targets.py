"""What the batch runs: the region-years asked for, the notebooks, and where each report folder goes.

Every value that becomes a folder name or a notebook parameter is checked here, before anything runs:
the region must be in the data and usable as one folder name, the year an integer in range present in
the data. A request the batch refuses raises :class:`BatchError` (Chinese message; exit status 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core import sanitize, years

NOTEBOOKS_ENV = "FAZHI_NOTEBOOKS"  # the notebook folder, when --notebooks is not given
NOTEBOOKS_DEFAULT = Path("notebooks")  # relative to the working directory


class BatchError(ValueError):
    """A request the batch refuses before running anything (Chinese message; exit status 2)."""


@dataclass(frozen=True, order=True)
class Target:
    region: str
    year: int

    @property
    def label(self) -> str:
        return f"{self.region} {self.year} 年"


def notebook_folder(given: Path | str | None = None) -> Path:
    """The notebook folder: ``given`` (``--notebooks``), else ``$FAZHI_NOTEBOOKS``, else ``./notebooks``."""
    if given:
        return Path(given)
    from_env = os.environ.get(NOTEBOOKS_ENV, "").strip()
    return Path(from_env) if from_env else Path.cwd() / NOTEBOOKS_DEFAULT


def discover_notebooks(folder: Path) -> list[Path]:
    """The report notebooks of ``folder``, in file-name order (``00_overview`` first): those named
    ``NN_<name>.ipynb``; others (``探索.ipynb``, an analyst's own) are not part of the report."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchError(
            f"找不到笔记本文件夹 {folder}。请在项目文件夹中运行，或用 --notebooks 或环境变量 "
            f"{NOTEBOOKS_ENV} 指定笔记本文件夹。"
        )
    found = sorted(p for p in folder.glob("*.ipynb") if re.match(r"\d\d_", p.name))
    if not found:
        raise BatchError(f"笔记本文件夹 {folder} 中没有 .ipynb 文件。")
    return found


def parse_year(text: object) -> int:
    """A year as the user typed it: the core parser, strict (four ASCII digits), within 1949–2100."""
    try:
        return years.parse_year(text, strict=True)
    except years.YearError as exc:
        raise BatchError(f"{exc}（或填 all）。") from exc


def check_region(name: object) -> str:
    """A region name usable as one folder and as a notebook parameter (see :func:`sanitize.check_region`)."""
    try:
        return sanitize.check_region(name)
    except ValueError as exc:
        raise BatchError(str(exc)) from exc


def resolve_targets(region: str, year: str | int, indicators: pd.DataFrame) -> list[Target]:
    """The region-years to run: ``all`` means every one found in the processed table."""
    available = sorted(
        {(str(r), int(y)) for r, y in zip(indicators["region"], indicators["year"], strict=True)}
    )
    if not available:
        raise BatchError("整洁数据表中没有任何数据：请先把报表放入 data/raw 并运行 ingest。")
    regions = sorted({r for r, _ in available})
    want_region = None if str(region).strip() == "all" else check_region(region)  # `ALL` is no keyword
    want_year = None if str(year).strip() == "all" else parse_year(year)
    if want_region is not None and want_region not in regions:
        raise BatchError(f"数据中没有地区“{want_region}”。数据中的地区：{'、'.join(regions)}。")
    chosen = [
        Target(r, y)
        for r, y in available
        if (want_region is None or r == want_region) and (want_year is None or y == want_year)
    ]
    if not chosen:
        years = sorted({y for r, y in available if want_region is None or r == want_region})
        where = f"“{want_region}”" if want_region else "数据"
        raise BatchError(f"{where}中没有 {want_year} 年的数据。可选年度：{'、'.join(map(str, years))}。")
    for t in chosen:  # names from the data are checked as strictly as names typed by the user
        check_region(t.region)
        parse_year(t.year)
    return chosen


def report_folder(reports: Path, target: Target) -> Path:
    """``reports/<region>/<year>``, checked to stay inside ``reports``."""
    root = Path(reports).resolve()
    folder = (root / check_region(target.region) / str(parse_year(target.year))).resolve()
    if root not in folder.parents:
        raise BatchError(f"报告文件夹 {folder} 不在 {root} 之内。")
    return folder


def comparison_years(indicators: pd.DataFrame) -> list[int]:
    """Years with two or more regions in the data (each gets a comparison page)."""
    counts = indicators.groupby("year")["region"].nunique()
    return sorted(int(y) for y, n in counts.items() if n >= 2)


PARAMETER_NAMES = ("region", "year", "processed_dir", "output_dir")  # a report notebook's parameters cell


def notebook_parameters(target: Target, processed_dir: Path | str, output_dir: Path | str) -> dict:
    """The values injected into a notebook's ``parameters`` cell, with their Python types."""
    return {
        "region": str(target.region),
        "year": int(target.year),
        "processed_dir": str(processed_dir),
        "output_dir": str(output_dir),
    }
