"""The names of what the suite writes: report folders, their files and sub-folders, and the one timestamp
format of the pages. Every package takes these from here, so a name is defined once.

A region-year report is ``reports/<region>/<year>/``; a year's comparison page is
``reports/<year>/地区对比.html``; the site overview is ``reports/index.html``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

INDEX = "index.html"  # a report's index page, and the site overview at the top of ``reports/``
FIGURES_DIR = "figures"  # print figures (PNG and SVG) of a report
EXECUTED_DIR = "notebooks"  # the executed notebooks of a report
ASSETS_DIR = "assets"  # shared CSS, JavaScript, plotly.js and the web font of a report
STATUS_FILE = "status.json"  # pages and failures of a region-year report, read by the overview
WORKBOOK_NAME = "年度指标汇总.xlsx"  # the summary workbook of a region-year report
FEEDBACK_DIR = "退回修改"  # a report's marked-up workbooks and notices for the departments
FEEDBACK_RECORD = ".feedback-record.json"  # in 退回修改/: what each file was made from, and its hash
FEEDBACK_SHEET = "修改说明"  # the first sheet of a marked-up workbook (never read as a data sheet)
COMPARISON_NOTEBOOK = Path("site") / "地区对比.ipynb"  # under the notebooks folder
COMPARISON_PAGE = "地区对比.html"  # reports/<year>/地区对比.html
DATA_QUALITY_PAGE = "01_data_quality.html"  # a report's page of data problems (notebook 01_data_quality)
REGIONS = "各地区"  # stands for the region of a comparison (folder names, page headers, batch targets)
STAGING_PREFIX = ".staging-"  # a report's staging folder, inside the report folder
DRAFT_RECORD = ".draft-record.json"  # hashes of the Word drafts the program wrote into a folder
# Written by ``run`` into its staging folder (never published): notebooks write print figures there only
# because of it (``explore.nb``); a hand run writes them to a scratch folder.
RUN_STAGE_MARKER = ".fazhi-run-stage"

# The Word draft of a report (and of ``python -m analysis draft``).
DRAFT_NAME = "{region}{year}年度法治政府建设情况的报告（初稿）.docx"

# Names a region may not take: ``reports/<region>/`` sits beside the site overview, its assets and the year
# folders of the comparison pages; the others are the files and folders of a report (case-insensitive, as
# Windows and macOS compare names).
RESERVED = (
    INDEX,
    ASSETS_DIR,
    FIGURES_DIR,
    EXECUTED_DIR,
    STATUS_FILE,
    WORKBOOK_NAME,
    COMPARISON_PAGE,
    REGIONS,
)
MAX_FILE_NAME_BYTES = 255  # one file name (ext4, XFS, APFS, NTFS in UTF-16 units: bytes are the stricter)
# ``atomic_write_bytes`` writes ``.<name>.XXXXXXXX.tmp`` first (tempfile's 8 random characters).
TEMP_EXTRA_BYTES = len("..") + 8 + len(".tmp")

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M"  # "generated at" on every page and in status.json


def timestamp() -> str:
    """Local time in :data:`TIMESTAMP_FORMAT`, as every page states when it was generated."""
    return dt.datetime.now().astimezone().strftime(TIMESTAMP_FORMAT)


def draft_name(region: str, year: int | str) -> str:
    """The file name of the Word draft of ``region``/``year``."""
    return DRAFT_NAME.format(region=region, year=year)


def reserved_as(name: str) -> str:
    """The site's name ``name`` would collide with as a region folder (``index.html``, ``assets``, a year
    folder …), compared case-insensitively; "" when none."""
    folded = name.strip().casefold()
    if len(folded) == 4 and folded.isascii() and folded.isdigit():  # any year's folder, reports/<year>/
        return "年度文件夹（如 reports/2019/）"
    return next((f"“{r}”" for r in RESERVED if r.casefold() == folded), "")


def longest_name_bytes(region: str) -> int:
    """Bytes of the longest file name derived from ``region``: the Word draft's temporary name, with a
    four-digit year."""
    return len(draft_name(region, 2019).encode("utf-8")) + TEMP_EXTRA_BYTES
