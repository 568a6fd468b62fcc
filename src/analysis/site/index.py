"""The report's ``index.html``: key figures, completeness, data problems and links to every page.

The content comes from the same explore functions the notebooks call (:func:`selection.select`,
:func:`tables.coverage_table`, :func:`quality.code_table`, :func:`quality.issue_list`, …), so the index and
the pages never disagree; this module only picks what the index shows and renders it with an escaping
Jinja2 template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.core.formatting import format_change, number_zh, qualified
from analysis.core.problems import ERROR, SEVERITY_ZH
from analysis.explore import quality, sentences, tables
from analysis.explore.collection import Collection, collection_status
from analysis.explore.selection import View, year_on_year
from analysis.site import static
from analysis.site.pages import PageInfo

SEVERITY_CODE = {zh: code for code, zh in SEVERITY_ZH.items()}


@dataclass(frozen=True)
class KeyFigure:
    topic: str
    name: str
    text: str  # value with unit, as printed
    department: str = ""
    change: str = ""  # against the previous year in the data, e.g. "比2019年 +136件（+2.1%）"


@dataclass
class Coverage:
    """How complete the region-year is: indicators reported of those in the catalog, departments missing."""

    reported: int
    expected: int
    missing_departments: list[str] = field(default_factory=list)


@dataclass
class IndexContent:
    """What the index shows besides the page list. Tables as :mod:`analysis.explore.quality` makes them."""

    key_figures: list[KeyFigure]
    coverage: Coverage | None
    issue_counts: pd.DataFrame  # quality.code_table: 级别, 含义, 问题数, 代码
    issue_rows: pd.DataFrame  # quality.issue_list: errors and warnings, one row each
    checks: list[str] = field(default_factory=list)  # identities that do not hold: checks, not achievements
    collection: Collection | None = None  # departments expected, received, with errors, missing


def key_figures(view: View) -> list[KeyFigure]:
    """The 年度概览's key figures this region-year reported, written as the report writes them
    (``1.1万户``), with the change against the previous year when the data has one."""
    out = []
    before_year = view.previous_year
    for ind_id in filter(None, map(view.current_id, sentences.key_figures())):
        row, ind = view.current.get(ind_id), view.catalog.indicators.get(ind_id)
        if row is None or ind is None:
            continue
        compared = year_on_year(view, ind_id)  # never for a check figure or a qualified value
        change = ""
        if compared is not None:
            change = f"比{before_year}年 {format_change(compared[0], compared[1], ind.unit, ind.digits)}"
        out.append(
            KeyFigure(
                topic=view.catalog.topics.get(ind.topic, {}).get("title_zh", ind.topic),
                name=ind.name_zh,
                text=qualified(number_zh(row["value"], ind.digits), row["qualifier"], row["unit"]),
                department=row["department"],
                change=change,
            )
        )
    return out


def coverage(view: View, issues: pd.DataFrame) -> Coverage:
    """Indicators reported of those in the catalog, and the departments whose workbook never arrived."""
    per_topic = tables.coverage_table(view)
    submitted = quality.submissions_table(view, issues)
    missing = submitted[(submitted["报表"] == "未收到") & (submitted["目录指标"] > 0)]
    return Coverage(
        reported=int(per_topic["已填报"].sum()),
        expected=int(per_topic["目录指标"].sum()),
        missing_departments=sorted(missing["填报单位"]),
    )


def index_content(view: View, issues: pd.DataFrame) -> IndexContent:
    """Everything the index shows for ``view``; ``issues`` are those of its region-year."""
    return IndexContent(
        key_figures=key_figures(view),
        coverage=coverage(view, issues),
        issue_counts=quality.code_table(issues),
        issue_rows=quality.issue_list(issues),
        checks=quality.open_checks(view),
        collection=collection_status(
            view.catalog, (r["department"] for r in view.current.values() if not r.get("derived")), issues
        ),
    )


def render_index(
    *,
    region: str,
    year: int | str,
    pages: list[PageInfo],
    content: IndexContent,
    workbook: str | None,
    generated: str,
    links: list[tuple[str, str]] | None = None,
    returns: list[dict] | None = None,
    data: str = "",
) -> str:
    """The report's ``index.html`` (every value escaped by the template); ``links`` are (label, href) of
    the region's other years and the site pages; ``returns`` the rows of ``退回修改`` (department, errors,
    warnings, workbooks, notice: :func:`analysis.report.feedback.write_feedback`)."""
    counts, rows = content.issue_counts, content.issue_rows
    return static.render(
        "fazhi_index.html.j2",
        title=f"{region} {year} 年度法治政府建设情况分析报告",
        footer=static.footer(generated, data),
        links=links or [],
        generated=generated,
        pages=pages,
        failed=[p for p in pages if not p.ok],
        workbook=workbook,
        coverage=content.coverage,
        key_figures=content.key_figures,
        errors=int(counts.loc[counts["级别"] == SEVERITY_ZH[ERROR], "问题数"].sum()),
        issue_counts=counts.to_dict("records"),
        issue_rows=rows.to_dict("records"),
        severity_code=SEVERITY_CODE,
        checks=content.checks,
        returns=returns or [],
        collection=content.collection,
    )
