"""The site over all reports: ``reports/index.html`` (every region × year with its status) and one
comparison page per year with two or more regions (``reports/<year>/地区对比.html``, from the
parameterized notebook ``notebooks/site/地区对比.ipynb``, run like the other notebooks).

The batch (:mod:`~analysis.report.batch`) runs the comparison notebooks, calls :func:`record_status` after
each region-year report and :func:`write_site_index` at the end (in a worker,
:func:`~analysis.report.steps.write_overview`); this module only says what the site shows.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import COMPARISON_PAGE, INDEX, STATUS_FILE, timestamp
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


def site_rows(reports: Path, indicators: pd.DataFrame, issues: pd.DataFrame, catalog: Catalog) -> list[Row]:
    """Every region × year of the data (or with a report folder), with its status; ``catalog`` is the one
    ingest used (the processed folder's copy)."""
    expected = [i.indicator_id for i in catalog.reported]
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
                reported=int(mine["indicator_id"].isin(expected).sum()),
                expected=len(expected),
                generated=str(status.get("generated", "")),
            )
        )
    return rows


def render_site_index(rows: list[Row], comparisons: dict[int, str], generated: str) -> str:
    """``reports/index.html``: a sortable table of every region-year and the comparison pages."""
    from analysis import __version__

    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(static.CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        "<title>法治政府建设情况分析报告总览</title>",
        f'<link rel="stylesheet" href="{static.ASSETS_DIR}/{static.REPORT_CSS}">',
        "</head>",
        '<body class="fazhi-index fazhi-site">',
        "<main>",
        "<h1>法治政府建设情况分析报告总览</h1>",
        f'<p class="fazhi-note">生成时间：{e(generated)}。共 {len({r.region for r in rows})} 个地区、'
        f"{len(rows)} 份年度报告。本目录下的全部页面可离线打开，不需要网络。</p>",
    ]
    if comparisons:
        out.append("<section><h2>地区对比</h2><ul>")
        out += [
            f'<li><a href="{e(link)}">{year} 年各地区对比</a></li>'
            for year, link in sorted(comparisons.items())
        ]
        out.append("</ul></section>")
    out.append("<section><h2>各地区各年度报告</h2>")
    out.append(
        '<table class="fazhi-table fazhi-sortable"><thead><tr><th>地区</th><th>年度</th><th>报告</th>'
        "<th>页面</th><th>错误（条）</th><th>警告（条）</th><th>已填报指标</th><th>生成时间</th></tr></thead><tbody>"
    )
    for r in rows:
        link = (
            f'<a href="{e(r.link)}">打开报告</a>' if r.link else '<span class="fazhi-missing">未生成</span>'
        )
        pages = f"{r.pages - r.failed} / {r.pages} 页正常" if r.pages else "—"
        if r.failed:
            pages = f'<span class="fazhi-badge-failed">{r.failed} 页运行失败</span> {pages}'
        out.append(
            f"<tr><td>{e(r.region)}</td><td>{r.year}</td><td>{link}</td><td>{pages}</td>"
            f"<td>{r.errors}</td><td>{r.warnings}</td><td>{r.reported} / {r.expected}</td>"
            f"<td>{e(r.generated)}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append('<p class="fazhi-note">点击表头可按该列排序（再次点击反向）。</p></section>')
    out += [
        "</main>",
        f'<footer class="fazhi-footer">由 fazhi-analysis {e(__version__)} 自动生成。</footer>',
        f'<script src="{static.ASSETS_DIR}/{static.REPORT_JS}"></script>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)


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
) -> Path:
    """Write ``reports/index.html`` from the data and the report folders found."""
    reports = Path(reports)
    comparisons = {
        int(p.parent.name): f"{p.parent.name}/{COMPARISON_PAGE}"
        for p in reports.glob(f"*/{COMPARISON_PAGE}")
        if p.parent.name.isdigit()
    }
    page = render_site_index(site_rows(reports, indicators, issues, catalog), comparisons, timestamp())
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
