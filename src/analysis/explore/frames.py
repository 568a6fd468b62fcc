"""DataFrames over a whole processed folder, for an analyst's own questions (``notebooks/探索.ipynb``).

The report notebooks look at one region and year (:class:`analysis.explore.selection.View`); these
functions look across all of them. Values stay numbers (NaN where nothing was reported, never 0), so the
result goes straight on into pandas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core import store
from analysis.core.catalog import Catalog
from analysis.core.problems import SEVERITY_ZH, severity_rank


def all_values(processed_dir: str | Path) -> pd.DataFrame:
    """Every region, year and indicator of the processed folder as one tidy DataFrame (one row each),
    with the catalog's topic title beside each row (from the catalog ingest used)."""
    frame = store.read_indicators(processed_dir)
    catalog = store.read_catalog(processed_dir)
    titles = {name: str(t["title_zh"]) for name, t in catalog.topics.items()}
    return frame.assign(topic_title=frame["topic"].map(titles).fillna(frame["topic"]))


def all_issues(processed_dir: str | Path) -> pd.DataFrame:
    """Every problem ingest found, with the severity in Chinese (``级别``)."""
    issues = store.read_issues(processed_dir)
    return issues.assign(级别=issues["severity"].map(SEVERITY_ZH).fillna(issues["severity"]))


def across_years(frame: pd.DataFrame, indicator_id: str, catalog: Catalog | None = None) -> pd.DataFrame:
    """One indicator across years: a row per year, a column per region (NaN where not reported). With the
    ``catalog``, a renamed indicator is one series: the years under its old id (``replaces``), converted
    into its unit by the catalog's ``factor``; the change is named in ``.attrs["footnote"]``."""
    series = catalog.lineage.series(indicator_id) if catalog is not None else {indicator_id: 1.0}
    rows = frame[frame["indicator_id"].isin(list(series))]
    if rows.empty:
        raise KeyError(f"数据表中没有指标 {indicator_id}")
    if catalog is not None:  # each id only in the years of its validity (a value outside it never loads)
        valid = [catalog.is_valid(i, int(y)) for i, y in zip(rows["indicator_id"], rows["year"], strict=True)]
        rows = rows[valid].assign(value=rows["value"] * rows["indicator_id"].map(series))
    table = rows.pivot_table(index="year", columns="region", values="value", aggfunc="first")
    table.attrs["footnote"] = catalog.lineage.footnote(indicator_id) if len(series) > 1 else ""
    return table


def regions_by_indicators(
    frame: pd.DataFrame, year: int, indicator_ids: list[str] | None = None, catalog: Catalog | None = None
) -> pd.DataFrame:
    """A pivot of ``year``: a row per region, a column per indicator (named in Chinese), NaN where not
    reported; ``indicator_ids`` picks and orders the columns (default: every indicator of that year)."""
    rows = frame[frame["year"] == int(year)]
    if indicator_ids is not None:
        rows = rows[rows["indicator_id"].isin(indicator_ids)]
    table = rows.pivot_table(index="region", columns="indicator_id", values="value", aggfunc="first")
    if indicator_ids is not None:
        table = table.reindex(columns=indicator_ids)
    names = dict(zip(frame["indicator_id"], frame["name_zh"], strict=True))
    if catalog is not None:
        names.update({i: ind.name_zh for i, ind in catalog.indicators.items()})
    return table.rename(columns=names).rename_axis(columns="指标")


def department_issues(issues: pd.DataFrame, department: str) -> pd.DataFrame:
    """The problems of one department (all regions and years), errors first."""
    mine = issues[issues["department"] == department]
    return mine.sort_values(
        ["severity", "region", "year", "file", "cell"],
        key=lambda c: c.map(severity_rank) if c.name == "severity" else c,
    ).reset_index(drop=True)
