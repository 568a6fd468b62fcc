"""What the Word draft of the annual report says, section by section (no formatting: see draft_docx).

The outline follows the seed report (通政文〔2020〕22号): title, addressee, opening, part 一 with the eight
sections of ``report_sections`` in the catalog, parts 二 and 三 left to the writer, signature and date. Each
section holds the drafted sentences whose figures belong to it (the same sentences the HTML pages show,
from :mod:`analysis.explore.sentences`), a highlighted ``【未填报：…（单位）】`` for every figure not reported,
a compact table when it lists several figures, and the print figures of its topics. Reconciliation gaps go
into notes to the writer, never into the body. The appendix traces every figure to its file, sheet, cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.catalog import ReportSection
from analysis.core.formatting import format_number, number_zh, qualified
from analysis.explore import sentences
from analysis.explore.selection import MISSING, View

PART_ONE = "一、推进法治政府建设的主要举措和成效"
PART_TWO = "二、推进法治政府建设存在的不足、原因和问题情况"
PART_THREE = "三、下一年度推进法治政府建设的主要安排"
PART_TWO_PLACEHOLDER = "【由起草人填写：本年度法治政府建设存在的不足、原因和问题】"
PART_THREE_PLACEHOLDER = "【由起草人填写：下一年度推进法治政府建设的主要安排】"
ADDRESSEE_PLACEHOLDER = "【上级政府】"
DATE_PLACEHOLDER = "【××××年×月×日】"
EMPTY_SECTION_PLACEHOLDER = "【由起草人填写：本部分没有对应的数据指标】"
TABLE_MIN_ROWS = 4  # a section listing at least this many reported figures gets a compact table
NOTE_CODES = ("reconciliation-mismatch",)  # issues told to the writer in the appendix note


@dataclass(frozen=True)
class Run:
    """A piece of a paragraph; a placeholder is highlighted for the writer to fill or delete."""

    text: str
    placeholder: bool = False


@dataclass(frozen=True)
class Figure:
    number: int
    path: Path
    caption: str  # 图1 通许县2019年权责清单调整


@dataclass(frozen=True)
class Table:
    number: int
    caption: str  # 表1 通许县2019年严格规范职权主要数字
    rows: tuple[tuple[str, str], ...]  # (indicator name, value as written)


@dataclass
class Section:
    heading: str  # （一）健全领导机制，完善法治政府建设体系
    paragraphs: list[list[Run]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    """One line of the appendix: an indicator with its value and where it came from."""

    name: str
    value: str
    unit: str
    department: str
    source: str
    note: str
    reported: bool


@dataclass
class Plan:
    region: str
    year: int
    title: str
    addressee: list[Run]
    opening: list[Run]
    sections: list[Section]
    signature: list[Run]
    date: list[Run]
    appendix_title: str
    appendix: list[SourceRow]
    writer_notes: list[str]

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]

    @property
    def missing(self) -> list[str]:
        """The ``【未填报：…】`` placeholders of the body, one per figure not reported."""
        runs = [r.text for s in self.sections for p in s.paragraphs for r in p if r.placeholder]
        return [t for t in runs if t.startswith(f"【{MISSING}")]


def placeholder(view: View, indicator_id: str) -> Run:
    ind = view.indicator(indicator_id)
    return Run(f"【{MISSING}：{ind.name_zh}（{ind.department}）】", placeholder=True)


def section_heading(section: ReportSection) -> str:
    number = section.key[section.key.index("(") + 1 : section.key.rindex(")")]
    return f"（{number}）{section.heading}"


def _reported_inputs(view: View, indicator_id: str) -> list[str]:
    """The reported indicators behind ``indicator_id`` (itself, or a derived one's formula inputs)."""
    ind = view.indicator(indicator_id)
    if ind.formula is None:
        return [indicator_id]
    return [n for name in ind.formula.names for n in _reported_inputs(view, name)]


def _sentence_section(view: View, names: list[str], topic: str) -> ReportSection | None:
    catalog = view.catalog
    for name in names:
        if not view.indicator(name).derived:
            return catalog.report_section(name)
    return next((s for s in catalog.report_sections if topic in s.topics), None)


def body_drafts(view: View) -> list[tuple[sentences.Draft, list[str]]]:
    """Every drafted sentence that belongs in the body, with the indicator ids its template names.
    Sentences about a check figure (a reconciliation gap) are left to the writer's notes."""
    templates = {t.id: t for t in sentences.load_templates().sentences}
    out = []
    for d in sentences.draft(view):
        names = sentences.template_names(templates[d.id])
        if not any(view.indicator(n).check for n in names):
            out.append((d, names))
    return out


def _fill_sections(view: View, sections: dict[str, Section]) -> None:
    placed: set[str] = set()
    paragraphs: dict[tuple[str, str], list[Run]] = {}
    for d, names in body_drafts(view):
        where = _sentence_section(view, names, d.topic)
        if where is None:
            continue
        runs = paragraphs.setdefault((where.key, d.topic), [])
        if d.ok:
            runs.append(Run(d.text))
            continue
        lacking = [i for n in names if view.get(n) is None for i in _reported_inputs(view, n)]
        for iid in dict.fromkeys(lacking):
            if view.get(iid) is None and iid not in placed:
                runs.append(placeholder(view, iid))
                placed.add(iid)
    for (key, _), runs in paragraphs.items():
        if runs:
            sections[key].paragraphs.append(runs)
    for s in view.catalog.report_sections:
        rest = [
            placeholder(view, i.indicator_id)
            for i in view.catalog.reported
            if i.section == s.label and view.get(i.indicator_id) is None and i.indicator_id not in placed
        ]
        if rest:
            sections[s.key].paragraphs.append(rest)
        if not sections[s.key].paragraphs:
            sections[s.key].paragraphs.append([Run(EMPTY_SECTION_PLACEHOLDER, True)])


def _tables(view: View, sections: dict[str, Section], counter: list[int]) -> None:
    for s in view.catalog.report_sections:
        ids = [i.indicator_id for i in view.catalog.reported if i.section == s.label]
        rows = tuple((view.indicator(i).name_zh, as_written(view, i)) for i in view.reported(ids))
        if len(rows) >= TABLE_MIN_ROWS:
            counter[0] += 1
            caption = f"表{counter[0]} {view.region}{view.year}年{s.short}主要数字"
            sections[s.key].tables.append(Table(counter[0], caption, rows))


def as_written(view: View, indicator_id: str) -> str:
    """A reported value as the report writes it: ``1.1万户``, ``500余本``, ``98.1%``."""
    ind = view.indicator(indicator_id)
    value = view.get(indicator_id)
    return qualified(number_zh(value, ind.digits), view.qualifier(indicator_id), ind.unit)


def figure_title(path: Path) -> str:
    """The chart title the PNG carries (tEXt ``Title``, written by the figure module); "" if none."""
    from PIL import Image

    try:
        with Image.open(path) as image:  # info: the text chunks before the pixels, nothing decoded
            return str(image.info.get("Title", "")).strip()
    except (OSError, ValueError):
        return ""


def topic_figures(figures_dir: Path, stem: str) -> list[Path]:
    """The print figures (PNG) a topic notebook saved, in the order it drew them."""
    found = [p for p in figures_dir.glob(f"{stem}_*.png") if p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _figures(view: View, sections: dict[str, Section], figures_dir: Path | None) -> None:
    if figures_dir is None or not figures_dir.is_dir():
        return
    number = 0
    for s in view.catalog.report_sections:
        for topic in s.topics:
            meta = view.catalog.topics[topic]
            for path in topic_figures(figures_dir, f"{int(meta['order']):02d}_{topic}"):
                number += 1
                title = figure_title(path) or f"{view.region}{view.year}年{meta['title_zh']}"
                sections[s.key].figures.append(Figure(number, path, f"图{number} {title}"))


def source_rows(view: View) -> list[SourceRow]:
    """Every indicator of the catalog: reported ones with file / sheet / cell, derived ones with their
    formula, the others as 未填报."""
    out = []
    for ind in view.catalog.indicators.values():
        row = view.current.get(ind.indicator_id)
        value = view.get(ind.indicator_id)
        # exact, as the cell holds it (``11000``, not ``1.1万``): this table is for checking against the source
        text = (
            MISSING
            if value is None
            else qualified(format_number(value, ind.digits), view.qualifier(ind.indicator_id))
        )
        if ind.formula is not None:
            label = {n: view.indicator(n).name_zh for n in ind.formula.names}
            source, department = f"计算：{ind.formula.render(label)}", "（派生）"
        elif row is not None:
            source = " / ".join(str(row[k]) for k in ("source_file", "sheet", "cell"))
            department = str(row["department"])
        else:
            source, department = "", ind.department
        note = str(row["note"]) if row is not None and not ind.derived else ""
        out.append(SourceRow(ind.name_zh, text, ind.unit, department, source, note, row is not None))
    return out


def writer_notes(issues: pd.DataFrame) -> list[str]:
    """Reconciliation gaps of this region-year, for the writer (from the ingest checks' issue rows)."""
    if issues is None or issues.empty:
        return []
    chosen = issues[issues["code"].isin(NOTE_CODES)]
    return [str(m) for m in chosen["message"]]


def build_plan(
    view: View,
    issues: pd.DataFrame | None = None,
    figures_dir: Path | None = None,
    addressee: str | None = None,
    figure_note: str = "",
) -> Plan:
    """The draft of ``view``'s region and year; ``figures_dir`` holds the notebooks' print figures."""
    region, year = view.region, view.year
    sections = {s.key: Section(section_heading(s)) for s in view.catalog.report_sections}
    _fill_sections(view, sections)
    _tables(view, sections, [0])
    _figures(view, sections, figures_dir)
    notes = writer_notes(issues)
    if figure_note:
        notes.append(figure_note)
    return Plan(
        region=region,
        year=year,
        title=f"{year}年度法治政府建设情况的报告",
        addressee=[Run(addressee) if addressee else Run(ADDRESSEE_PLACEHOLDER, True), Run("：")],
        opening=[
            Run(f"{year}年，{region}法治政府建设工作"),
            Run("【概述指导思想、总体目标和工作重点】", True),
            Run(f"，现将{year}年法治政府建设工作情况报告如下："),
        ],
        sections=list(sections.values()),
        signature=[Run(f"【{region}人民政府】", True)],
        date=[Run(DATE_PLACEHOLDER, True)],
        appendix_title=f"{region}{year}年度法治政府建设指标及来源",
        appendix=source_rows(view),
        writer_notes=notes,
    )
