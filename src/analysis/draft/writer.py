"""The Word draft of the annual report for one region and year, and its PDF print preview.

``run`` writes ``<地区><年度>年度法治政府建设情况的报告（初稿）.docx`` into every report's staging folder after
the notebooks ran (:mod:`~analysis.report.steps`), and its PDF preview beside it when LibreOffice is
installed. ``python -m analysis draft`` writes the draft alone from ``data/processed`` into the same report
folder (``reports/<地区>/<年度>/``, never the working folder) unless ``--out`` names a file. The annex's
figures are drawn from the data for print (:mod:`~analysis.draft.annex`), so both always agree with the
tables. A draft someone edited is never replaced (:mod:`~analysis.draft.edits`): the new one goes beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import DRAFT_NAME
from analysis.draft import document, edits, plan, preview
from analysis.explore.quality import issues_of
from analysis.explore.selection import select

FIGURE_CHOICES = ("annex", "none")  # --figures: tables and print figures in an annex, or none


def draft_name(region: str, year: int) -> str:
    return DRAFT_NAME.format(region=region, year=year)


@dataclass
class DraftResult:
    path: Path
    figures: int
    missing: int  # 【未填报…】 and 【已报送未采用…】 placeholders in the body
    pdf: Path | None = None
    notes: list[str] = field(
        default_factory=list
    )  # Chinese lines for the user (kept draft, skipped preview …)
    kept: Path | None = None  # an edited draft left as it was (the new one is ``path``, beside it)
    changes: list[str] = field(default_factory=list)  # numbers changed since the kept, edited draft


def write_draft(
    indicators: pd.DataFrame,
    issues: pd.DataFrame | None,
    region: str,
    year: int,
    out: Path,
    *,
    addressee: str | None = None,
    pdf: bool = False,
    catalog: Catalog | None = None,
    figures: str = "annex",
    published: Path | None = None,
    now: dt.datetime | None = None,
) -> DraftResult:
    """Write the draft of ``region``/``year`` to ``out`` (atomically); with ``pdf``, its preview beside it.
    ``catalog``: the one ingest used (the processed folder's copy); the built-in one when None.
    ``figures``: ``annex`` or ``none``. ``published``: the folder where the previous draft lives, when
    ``out`` is in a staging folder (default: ``out``'s folder). When the previous draft there is not one the
    program wrote, the new draft is written beside it under a dated name and the result says so."""
    if figures not in FIGURE_CHOICES:
        raise ValueError(f"figures 只能是 {'、'.join(FIGURE_CHOICES)}")
    view = select(indicators, region, int(year), catalog)
    draw = None
    if figures == "annex":
        from analysis.draft.annex import print_figures as draw
    mine = None if issues is None else issues_of(issues, region, int(year), unplaced=False)
    drafted = plan.build_plan(view, mine, addressee, draw)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = Path(published or out.parent) / out.name
    record = edits.read_record(previous.parent)
    data = document.render(drafted)
    target, notes, changes, kept = out, [], [], None
    new_values = {row.name: row.value for row in drafted.appendix}
    if edits.edited(previous, record):
        target, kept = edits.beside(out, now), previous
        before = edits.values_before(previous, record)
        changes = edits.changed_numbers(before, new_values) if before else []
        said = (
            "；".join(changes)
            if changes
            else ("没有数字变化" if before else "无从比较（文件中没有附表，也没有生成记录）")
        )
        notes.append(
            f"{previous.name} 不是上次生成的文件（可能已有人修改），未覆盖；新初稿写在旁边：{target.name}。"
            f"自该版本以来变化的数字：{said}。"
        )
    atomic_write_bytes(target, data)
    edits.write_record(out.parent, record, target.name, data, new_values)
    result = DraftResult(target, len(drafted.figures), len(drafted.missing), None, notes, kept, changes)
    if pdf:
        try:
            result.pdf = preview.to_pdf(target, say=result.notes.append)
        except preview.PreviewError as exc:
            result.notes.append(str(exc))
    return result


def draft_from_processed(
    region: str,
    year: int,
    processed: Path,
    reports: Path,
    out: Path | None = None,
    *,
    addressee: str | None = None,
    pdf: bool = False,
    figures: str = "annex",
) -> DraftResult:
    """``python -m analysis draft``: read ``processed``, write the draft to ``out`` (default: the report
    folder of the region-year, ``reports/<地区>/<年度>/``). Raises StoreError for unreadable tables and
    ValueError when the region-year has no data."""
    from analysis.core.sanitize import safe_name
    from analysis.core.store import read_catalog, read_indicators, read_issues

    region = safe_name(region, "地区")  # it names the output file and folder
    indicators, issues = read_indicators(processed), read_issues(processed)
    mine = indicators[(indicators["region"] == region) & (indicators["year"] == int(year))]
    if mine.empty:
        raise ValueError(f"整洁数据表中没有{region}{year}年的数据：请检查地区和年度，或先运行 ingest。")
    folder = Path(reports) / region / str(int(year))
    return write_draft(
        indicators,
        issues,
        region,
        int(year),
        Path(out) if out else folder / draft_name(region, int(year)),
        addressee=addressee,
        pdf=pdf,
        catalog=read_catalog(processed),
        figures=figures,
    )


def add_to_report(
    folder: Path,
    region: str,
    year: int,
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    say: Callable[[str], None] = print,
    catalog: Catalog | None = None,
    published: Path | None = None,
) -> DraftResult | None:
    """The batch's step after the notebooks ran: the draft (and its PDF preview) in the staging ``folder``;
    ``published``: the report folder, where an earlier (maybe edited) draft may be."""
    has_soffice = preview.soffice() is not None
    try:
        result = write_draft(
            indicators,
            issues,
            region,
            year,
            Path(folder) / draft_name(region, year),
            pdf=has_soffice,
            catalog=catalog,
            published=published,
        )
    except Exception as exc:  # the HTML report stands without the draft; say why it is missing
        say(f"  Word 初稿未能生成：{type(exc).__name__}: {exc}")
        return None
    say(f"  Word 初稿：{result.path.name}（附件图 {result.figures} 幅，未填报或未采用 {result.missing} 项）")
    if result.pdf is not None:
        say(f"  PDF 预览：{result.pdf.name}")
    elif not has_soffice:
        say(f"  {preview.MISSING_TEXT}")
    for note in result.notes:
        say(f"  {note}")
    return result
