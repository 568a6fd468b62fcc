"""The Word draft of the annual report for one region and year, and its PDF print preview.

``run`` writes ``<地区><年度>年度法治政府建设情况的报告（初稿）.docx`` into every report's staging folder
after the notebooks ran (with the print figures they just drew; :mod:`~analysis.report.steps`), and its PDF preview beside it when LibreOffice is
installed. ``python -m analysis draft`` writes the draft alone from ``data/processed`` in a second or two;
it embeds the report folder's print figures only when they are newer than the data (else it says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import DRAFT_NAME, FIGURES_DIR
from analysis.core.store import MANIFEST
from analysis.draft import document, plan, preview
from analysis.explore.quality import issues_of
from analysis.explore.selection import select

STALE_FIGURES = "报告文件夹中的图表早于当前数据（或尚未生成），初稿未嵌入图表；运行 python -m analysis run 后会随报告重新生成含图表的初稿。"


def draft_name(region: str, year: int) -> str:
    return DRAFT_NAME.format(region=region, year=year)


@dataclass
class DraftResult:
    path: Path
    figures: int
    missing: int  # 【未填报：…】 placeholders in the body
    pdf: Path | None = None
    notes: list[str] = field(default_factory=list)  # Chinese lines for the user (skipped preview …)


def write_draft(
    indicators: pd.DataFrame,
    issues: pd.DataFrame | None,
    region: str,
    year: int,
    out: Path,
    *,
    figures_dir: Path | None = None,
    figure_note: str = "",
    addressee: str | None = None,
    pdf: bool = False,
    catalog: Catalog | None = None,
) -> DraftResult:
    """Write the draft of ``region``/``year`` to ``out`` (atomically); with ``pdf``, its preview beside it.
    ``catalog``: the one ingest used (the processed folder's copy); the built-in one when None."""
    view = select(indicators, region, int(year), catalog)
    drafted = plan.build_plan(
        view,
        None if issues is None else issues_of(issues, region, int(year), unplaced=False),
        figures_dir,
        addressee,
        figure_note,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, document.render(drafted))
    result = DraftResult(out, len(drafted.figures), len(drafted.missing))
    if figure_note:
        result.notes.append(figure_note)
    if pdf:
        try:
            result.pdf = preview.to_pdf(out)
        except preview.PreviewError as exc:
            result.notes.append(str(exc))
    return result


def fresh_figures(figures_dir: Path, processed: Path) -> bool:
    """True when ``figures_dir`` holds print figures drawn after the processed tables were written."""
    manifest = Path(processed) / MANIFEST  # written last by every ingest
    pngs = list(figures_dir.glob("*.png")) if figures_dir.is_dir() else []
    if not pngs or not manifest.is_file():
        return False
    return min(p.stat().st_mtime_ns for p in pngs) >= manifest.stat().st_mtime_ns


def draft_from_processed(
    region: str,
    year: int,
    processed: Path,
    reports: Path,
    out: Path | None = None,
    *,
    addressee: str | None = None,
    pdf: bool = False,
) -> DraftResult:
    """``python -m analysis draft``: read ``processed``, write the draft to ``out`` (default: the current
    folder). Raises StoreError for unreadable tables and ValueError when the region-year has no data."""
    from analysis.core.sanitize import safe_name
    from analysis.core.store import read_catalog, read_indicators, read_issues

    region = safe_name(region, "地区")  # it names the output file
    indicators, issues = read_indicators(processed), read_issues(processed)
    mine = indicators[(indicators["region"] == region) & (indicators["year"] == int(year))]
    if mine.empty:
        raise ValueError(f"整洁数据表中没有{region}{year}年的数据：请检查地区和年度，或先运行 ingest。")
    figures = Path(reports) / region / str(year) / FIGURES_DIR
    fresh = fresh_figures(figures, processed)
    return write_draft(
        indicators,
        issues,
        region,
        int(year),
        Path(out) if out else Path.cwd() / draft_name(region, int(year)),
        figures_dir=figures if fresh else None,
        figure_note="" if fresh else STALE_FIGURES,
        addressee=addressee,
        pdf=pdf,
        catalog=read_catalog(processed),
    )


def add_to_report(
    folder: Path,
    region: str,
    year: int,
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    say: Callable[[str], None] = print,
    catalog: Catalog | None = None,
) -> DraftResult | None:
    """The batch's step after the notebooks ran: the draft (and its PDF preview) in the report folder."""
    has_soffice = preview.soffice() is not None
    try:
        result = write_draft(
            indicators,
            issues,
            region,
            year,
            Path(folder) / draft_name(region, year),
            figures_dir=Path(folder) / FIGURES_DIR,
            pdf=has_soffice,
            catalog=catalog,
        )
    except Exception as exc:  # the HTML report stands without the draft; say why it is missing
        say(f"  Word 初稿未能生成：{type(exc).__name__}: {exc}")
        return None
    say(f"  Word 初稿：{result.path.name}（图 {result.figures} 幅，未填报指标 {result.missing} 项）")
    if result.pdf is not None:
        say(f"  PDF 预览：{result.pdf.name}")
    elif not has_soffice:
        say(f"  {preview.MISSING_TEXT}")
    for note in result.notes:
        say(f"  {note}")
    return result
