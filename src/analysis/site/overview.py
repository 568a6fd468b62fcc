"""The site over all reports: ``reports/index.html`` (every region × year with its status) and one
comparison page per year with two or more regions (``reports/<year>/地区对比.html``, from the
parameterized notebook ``notebooks/site/地区对比.ipynb``, run like the other notebooks).

The batch (:mod:`~analysis.report.batch`) runs the comparison notebooks, calls :func:`record_status` after
each region-year report and :func:`write_site_index` at the end (in a worker,
:func:`~analysis.report.steps.write_overview`); this module only says what the site shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import COMPARISON_PAGE, INDEX, STATUS_FILE, timestamp
from analysis.explore.collection import Collection, collection_status
from analysis.explore.quality import issues_of
from analysis.site import static

SITE_ASSETS = (static.REPORT_CSS, static.REPORT_JS)


# --- status of each region-year --------------------------------------------------------------------


def record_status(folder: Path, region: str, year: int, pages: int, failed: int, generated: str = "") -> Path:
    """Write ``status.json`` beside a region-year report: pages, failed pages, when."""
    data = {
        "region": region,
        "year": year,
        "pages": pages,
        "failed": failed,
        "generated": generated or timestamp(),
    }
    path = Path(folder) / STATUS_FILE
    atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    return path


def _read_status(folder: Path) -> dict:
    try:
        return json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Row:
    """One line of the site index."""

    region: str
    year: int
    link: str  # relative to reports/, "" when no report was written
    pages: int
    failed: int
    errors: int
    warnings: int
    reported: int
    expected: int
    generated: str
    collection: Collection | None = None  # departments expected, received, with errors, missing


def site_rows(reports: Path, indicators: pd.DataFrame, issues: pd.DataFrame, catalog: Catalog) -> list[Row]:
    """Every region × year of the data (or with a report folder), with its status; ``catalog`` is the one
    ingest used (the processed folder's copy)."""
    pairs = {(str(r), int(y)) for r, y in zip(indicators["region"], indicators["year"], strict=True)}
    for status in Path(reports).glob(f"*/*/{STATUS_FILE}"):
        data = _read_status(status.parent)
        if data.get("region") and str(data.get("year", "")).isdigit():
            pairs.add((str(data["region"]), int(data["year"])))
    rows = []
    for region, year in sorted(pairs, key=lambda p: (p[0], -p[1])):
        folder = Path(reports) / region / str(year)
        status = _read_status(folder)
        mine = indicators[(indicators["region"] == region) & (indicators["year"] == year)]
        theirs = issues_of(issues, region, year, unplaced=False)  # the unplaced ones are nobody's
        rows.append(
            Row(
                region=region,
                year=year,
                link=f"{region}/{year}/{INDEX}" if (folder / INDEX).is_file() else "",
                pages=int(status.get("pages", 0)),
                failed=int(status.get("failed", 0)),
                errors=int((theirs["severity"] == "error").sum()),
                warnings=int((theirs["severity"] == "warning").sum()),
                reported=int(mine["indicator_id"].isin(expected(catalog, year)).sum()),
                expected=len(expected(catalog, year)),
                generated=str(status.get("generated", "")),
                collection=collection_status(catalog, mine.loc[~mine["derived"], "department"], theirs),
            )
        )
    return rows


def expected(catalog: Catalog, year: int) -> list[str]:
    """The reported indicators of ``year``'s catalog (the m of 已填报 n / m)."""
    return [i.indicator_id for i in catalog.for_year(year).reported]


def render_site_index(rows: list[Row], comparisons: dict[int, str], generated: str, data: str = "") -> str:
    """``reports/index.html``: a sortable table of every region-year and the comparison pages."""
    return static.render(
        "fazhi_overview.html.j2",
        title="法治政府建设情况分析报告总览",
        footer=static.footer(generated, data),
        generated=generated,
        regions=len({r.region for r in rows}),
        rows=rows,
        comparisons=sorted(comparisons.items()),
    )


def write_site_assets(root: Path, pages: list[str]) -> None:
    """The style, script and font subset the site index needs (no plotly.js: it draws no chart)."""
    payloads = static.asset_payloads()
    for name in SITE_ASSETS:
        path = Path(root) / static.ASSETS_DIR / name
        if not (path.is_file() and path.read_bytes() == payloads[name]):
            atomic_write_bytes(path, payloads[name])
    static.write_font(root, pages)


def write_site_index(
    reports: Path,
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    catalog: Catalog,
    processed: Path | str | None = None,
) -> Path:
    """Write ``reports/index.html`` from the data (read from ``processed``) and the report folders found."""
    reports = Path(reports)
    comparisons = {
        int(p.parent.name): f"{p.parent.name}/{COMPARISON_PAGE}"
        for p in reports.glob(f"*/{COMPARISON_PAGE}")
        if p.parent.name.isdigit()
    }
    data = static.data_note(processed) if processed is not None else ""
    page = render_site_index(site_rows(reports, indicators, issues, catalog), comparisons, timestamp(), data)
    write_site_assets(reports, [page])
    path = reports / INDEX
    atomic_write_bytes(path, page.encode("utf-8"))
    return path


def year_links(region: str, year: int, indicators: pd.DataFrame, compared: bool) -> list[tuple[str, str]]:
    """Links from a region-year's index page: the region's other years, the year's comparison page (when
    ``compared``: the year has one), the site overview."""
    years = sorted({int(y) for y in indicators.loc[indicators["region"] == region, "year"]})
    links = [(f"{y} 年", f"../{y}/{INDEX}") for y in years if y != year]
    if compared:
        links.append((f"{year} 年各地区对比", f"../../{year}/{COMPARISON_PAGE}"))
    links.append(("全部报告总览", f"../../{INDEX}"))
    return links
