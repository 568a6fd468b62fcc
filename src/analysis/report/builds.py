"""Incremental runs: a report is rebuilt only when something it was built from changed.

Every report folder keeps a record of what it was built from, ``.build.json``: content hashes (SHA-256) of

- **数据**: the region's rows of the processed tables across all years (the year-over-year columns and
  links read the other years), the issues of the region and those that belong to no region, the catalog
  copy the ingest wrote, and the list of region-years in the data (the links between reports);
  for a comparison page, the rows of every region in its year instead;
- **笔记本**: the names of the notebooks that make the report and what of them changes it — cell types,
  sources, the ``parameters`` tag and the kernel name (:func:`analysis.execute.clean.report_content`),
  never outputs, execution counts or front-end metadata: a notebook run and saved in JupyterLab is the
  same notebook to this record;
- **程序**: every ``.py`` and ``.yaml`` file of the installed ``analysis`` package and its report assets;
- **参数**: the notebook parameters that do not name the staging folder, and the kernel.

Timestamps are never looked at. The record is written last, atomically, after a complete publication in
which every notebook ran and the draft was written; it is removed before anything of a new build is
published. A run killed half-way, or one with a failed notebook, therefore leaves no record, and the next
run builds that report again (上次未完成). ``run --force`` rebuilds everything.

This module needs only pandas: a run that reuses every report never imports papermill, nbconvert or plotly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.digest import program_digest
from analysis.core.digest import sha_parts as _sha
from analysis.core.fileio import atomic_write_bytes
from analysis.core.store import CATALOG
from analysis.execute.clean import report_content

BUILD_FILE = ".build.json"
INPUTS = {"data": "数据变化", "notebooks": "笔记本变化", "program": "程序变化", "parameters": "参数变化"}
FIRST = "首次生成"
UNFINISHED = "上次未完成"
MISSING_FILES = "报告文件缺失"
FORCED = "--force"
COMPARED = "本年度有地区重新生成"  # a comparison page whose year had a region rebuilt


@dataclass
class Decision:
    """Whether a report folder is rebuilt, and why (empty ``reasons``: reused as it is)."""

    folder: Path
    inputs: dict[str, str]
    reasons: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # the recorded pages of a reused report

    @property
    def reuse(self) -> bool:
        return not self.reasons


def notebooks_digest(notebooks: list[Path]) -> str:
    return _sha(*(Path(p).name.encode() + b"\0" + report_content(Path(p).read_bytes()) for p in notebooks))


def frame_digest(frame: pd.DataFrame) -> str:
    """Rows and columns of ``frame`` in their order (pandas' stable row hashes)."""
    rows = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()
    return _sha(json.dumps([str(c) for c in frame.columns]).encode(), rows.tobytes())


class Data:
    """The processed tables, hashed per region (reports) or per year (comparison pages)."""

    def __init__(self, processed: Path, indicators: pd.DataFrame, issues: pd.DataFrame):
        self.indicators, self.issues = indicators, issues
        try:
            catalog = (Path(processed) / CATALOG).read_bytes()
        except OSError:
            catalog = b""
        pairs = sorted(
            {(str(r), int(y)) for r, y in zip(indicators["region"], indicators["year"], strict=True)}
        )
        self.shared = _sha(catalog, json.dumps(pairs, ensure_ascii=False).encode())
        self.unplaced = issues["region"].fillna("") == ""

    def of_region(self, region: str) -> str:
        mine = self.indicators[self.indicators["region"] == region]
        issues = self.issues[(self.issues["region"] == region) | self.unplaced]
        return _sha(self.shared.encode(), frame_digest(mine).encode(), frame_digest(issues).encode())

    def of_year(self, year: int) -> str:
        mine = self.indicators[pd.to_numeric(self.indicators["year"], errors="coerce") == year]
        years = pd.to_numeric(self.issues["year"], errors="coerce")
        issues = self.issues[(years == year) | self.unplaced | years.isna()]
        return _sha(self.shared.encode(), frame_digest(mine).encode(), frame_digest(issues).encode())


def inputs(data: str, notebooks: str, parameters: dict) -> dict[str, str]:
    return {
        "data": data,
        "notebooks": notebooks,
        "program": program_digest(),
        "parameters": _sha(json.dumps(parameters, ensure_ascii=False, sort_keys=True).encode()),
    }


def read_record(folder: Path) -> dict | None:
    try:
        record = json.loads((Path(folder) / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("inputs"), dict) else None


def decide(folder: Path, current: dict[str, str], force: bool = False, index: str = "index.html") -> Decision:
    """Compare ``current`` with the folder's record: reuse, or the reasons to rebuild."""
    decision = Decision(Path(folder), current)
    record = read_record(folder)
    if force:
        decision.reasons = [FORCED]
    elif record is None:
        decision.reasons = [UNFINISHED if (Path(folder) / index).exists() else FIRST]
    else:
        decision.reasons = [text for key, text in INPUTS.items() if record["inputs"].get(key) != current[key]]
        pages = [str(p) for p in record.get("pages", [])]
        if not decision.reasons and not all((Path(folder) / p).is_file() for p in [index, *pages]):
            decision.reasons = [MISSING_FILES]
        decision.pages = pages
    return decision


def forget(folder: Path) -> None:
    """Remove the record before a new build publishes anything: until the record is written again, the
    folder does not look done."""
    (Path(folder) / BUILD_FILE).unlink(missing_ok=True)


def record(folder: Path, current: dict[str, str], pages: list[str]) -> None:
    """Write the record, last, after a complete and successful publication."""
    data = {"inputs": current, "pages": sorted(pages)}
    atomic_write_bytes(
        Path(folder) / BUILD_FILE, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    )
