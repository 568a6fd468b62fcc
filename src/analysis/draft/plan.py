"""What the Word draft of the annual report says, section by section (no formatting: see document).

The draft is a 公文 in the seed report's outline (通政文〔2020〕22号): title, addressee, opening, part 一 with
the eight sections of ``report_sections`` in the catalog, parts 二 and 三 left to the writer, 特此报告, the
annex line, signature and date. The body is text only: each section has one highlighted prompt for the
narrative the data cannot write (measures, documents, meetings), then the drafted sentences of its
indicators (the same templates the HTML pages use, :mod:`analysis.explore.sentences`), numbers as the report
writes them and, where last year's figure exists, the year-on-year clause. A value that is absent is said
truthfully in place (:mod:`~analysis.draft.values`): 已报送未采用 with the sent text and cell, 未填报 with
the department's remark, or 未填报 with its department. Figures and tables go to the annex
(:mod:`~analysis.draft.annex`), reconciliation gaps and every other data problem to the note for the writer
after the appendix, never into the body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from analysis.core.catalog import ReportSection
from analysis.core.formatting import format_number, number_zh, qualified
from analysis.draft import values
from analysis.explore import sentences
from analysis.explore.selection import MISSING, View

PART_ONE = "一、推进法治政府建设的主要举措和成效"
PART_TWO = "二、推进法治政府建设存在的不足、原因和问题情况"
PART_THREE = "三、下一年度推进法治政府建设的主要安排"
PART_TWO_PLACEHOLDER = "【由起草人填写：本年度法治政府建设存在的不足、原因和问题】"
PART_THREE_PLACEHOLDER = "【由起草人填写：下一年度推进法治政府建设的主要安排】"
ADDRESSEE_PLACEHOLDER = "【上级政府】"
DATE_PLACEHOLDER = "【××××年×月×日】"
# The narrative each section asks of the writer (by the section's short name; others get a general one).
SECTION_PROMPTS = {
    "健全领导机制": "领导小组及其办公室履职、年度工作要点、领导干部学法的做法",
    "严格规范职权": "行政审批制度改革、权责清单动态管理、信用体系建设和生态环境保护的主要措施",
    "加强政府决策": "重大行政决策程序、政府法律顾问、规范性文件清理和备案审查的做法",
    "创新行政指导": "服务型行政执法示范点创建、行政指导和违法风险防控的做法",
    "强化执法监督": "执法人员培训与资格管理、行政执法“三项制度”、案卷评查的开展情况",
    "凝聚监督合力": "内部层级监督、审计监督以及人大、政协和社会监督的情况",
    "推进政务公开": "“五公开”、政策解读回应、政务公开信息化的做法",
    "化解社会矛盾纠纷": "行政复议和应诉、公共法律服务体系、人民调解和普法宣传的做法",
}


@dataclass(frozen=True)
class Run:
    """A piece of a paragraph; a placeholder is highlighted for the writer to fill or delete."""

    text: str
    placeholder: bool = False


@dataclass(frozen=True)
class Figure:
    number: int
    png: bytes  # drawn for print at the annex's width (no title inside: the caption is the title)
    caption: str  # 图1 2019年证明事项清理情况
    note: str = ""  # what the figure leaves out (未填报 …), printed under the caption


@dataclass(frozen=True)
class Table:
    number: int
    caption: str  # 表1 2019年严格规范职权主要数据
    rows: tuple[tuple[str, str], ...]  # (indicator name, value as written)


@dataclass
class Section:
    heading: str  # （一）健全领导机制，完善法治政府建设体系
    paragraphs: list[list[Run]] = field(default_factory=list)


@dataclass
class Annex:
    """附件: the tables and print figures of the year."""

    title: str  # 2019年度法治政府建设主要数据图表
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    """One line of the appendix: an indicator with its value and where it came from."""

    indicator_id: str
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
    annex: Annex | None
    appendix_title: str
    appendix: list[SourceRow]
    writer_notes: list[str]

    @property
    def figures(self) -> list[Figure]:
        return self.annex.figures if self.annex else []

    @property
    def missing(self) -> list[str]:
        """The placeholders of the body for absent values (未填报 and 已报送未采用), one per value."""
        runs = [r.text for s in self.sections for p in s.paragraphs for r in p if r.placeholder]
        return [t for t in runs if f"【{MISSING}" in t or f"【{values.UNUSED}" in t]


def section_heading(section: ReportSection) -> str:
    number = section.key[section.key.index("(") + 1 : section.key.rindex(")")]
    return f"（{number}）{section.heading}"


def section_prompt(section: ReportSection) -> str:
    what = SECTION_PROMPTS.get(section.short, f"{section.short}方面的主要举措和成效")
    return f"【由起草人填写：本部分的工作举措和成效，如{what}（出台的文件、召开的会议、具体做法）】"


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


def body_templates(view: View) -> list[tuple[sentences.Template, list[str]]]:
    """Every sentence template that belongs in the body, in the order the HTML pages draft them, with the
    indicator ids it names. Sentences about a check figure (a reconciliation gap) are left to the note."""
    order = {t: k for k, t in enumerate(view.catalog.topics)}
    chosen = [t for t in sentences.load_templates().sentences if sentences.in_year(view, t)]
    chosen.sort(key=lambda t: order.get(t.topic, len(order)))
    out = []
    for t in chosen:
        names = sentences.template_names(t)
        if not any(view.indicator(n).check for n in names):
            out.append((t, names))
    return out


class _Holes:
    """Each absent reported value is told once in the body (a derived figure's hole names its inputs)."""

    def __init__(self, view: View, acc: values.Account):
        self.view, self.acc, self.told = view, acc, set()

    def runs(self, ids: tuple[str, ...], named: bool) -> list[Run]:
        inputs = [i for n in ids for i in _reported_inputs(self.view, n) if self.view.get(i) is None]
        fresh = [i for i in dict.fromkeys(inputs) if i not in self.told]
        self.told.update(fresh)
        if not fresh:  # already told (or its inputs are): the figure waits for them
            return [Run("【待补齐上述数据后计算】", True)] if inputs else []
        single = len(fresh) == 1 and len(ids) == 1 and ids[0] == fresh[0]
        return [Run(values.hole(self.view, self.acc, i, named=named or not single), True) for i in fresh]


def _sentence_runs(view: View, template: sentences.Template, holes: _Holes) -> list[Run]:
    """A drafted sentence as runs; each absent value a highlighted hole in its place. A template whose
    wording depends on a figure not reported (``sign``) gives only the holes."""
    text = sentences.chosen_text(view, template)
    if text is None:
        lacking = tuple(n for n in template.sign.names if view.get(n) is None)
        return holes.runs(lacking, named=True)
    out: list[Run] = []
    for piece in sentences.pieces(view, text):
        out.extend([Run(piece)] if isinstance(piece, str) else holes.runs(piece, named=False))
    return out


def _fill_sections(view: View, sections: dict[str, Section], acc: values.Account) -> None:
    holes = _Holes(view, acc)
    paragraphs: dict[tuple[str, str], list[Run]] = {}
    for template, names in body_templates(view):
        where = _sentence_section(view, names, template.topic)
        if where is not None:
            paragraphs.setdefault((where.key, template.topic), []).extend(
                _sentence_runs(view, template, holes)
            )
    for s in view.catalog.report_sections:
        sections[s.key].paragraphs.append([Run(section_prompt(s), True)])
    for (key, _), runs in paragraphs.items():
        if runs:
            sections[key].paragraphs.append(runs)
    for s in view.catalog.report_sections:
        rest = [
            i.indicator_id
            for i in view.catalog.reported
            if i.section == s.label and view.get(i.indicator_id) is None and i.indicator_id not in holes.told
        ]
        runs = [r for iid in rest for r in holes.runs((iid,), named=True)]
        if runs:
            sections[s.key].paragraphs.append(runs)


def section_tables(view: View) -> list[Table]:
    """For the annex: per section, its reported figures as the report writes them (two to a table row)."""
    out = []
    for s in view.catalog.report_sections:
        ids = [i.indicator_id for i in view.catalog.reported if i.section == s.label]
        rows = tuple((view.indicator(i).name_zh, as_written(view, i)) for i in view.reported(ids))
        if rows:
            number = len(out) + 1
            out.append(Table(number, f"表{number} {view.year}年{s.short}主要数据", rows))
    return out


def as_written(view: View, indicator_id: str) -> str:
    """A reported value as the report writes it: ``1.1万户``, ``500余本``, ``98.1%``."""
    ind = view.indicator(indicator_id)
    value = view.get(indicator_id)
    return qualified(number_zh(value, ind.digits), view.qualifier(indicator_id), ind.unit)


def source_rows(view: View, acc: values.Account | None = None) -> list[SourceRow]:
    """Every indicator of the catalog: reported ones with file / sheet / cell, derived ones with their
    formula, rejected ones with the sent text and its cell, blanks with the cell and the remark."""
    acc = acc or values.Account()
    out = []
    for ind in view.catalog.indicators.values():
        iid = ind.indicator_id
        row = view.current.get(iid)
        value = view.get(iid)
        # exact, as the cell holds it (``11000``, not ``1.1万``): this table is for checking against the source
        text = MISSING if value is None else qualified(format_number(value, ind.digits), view.qualifier(iid))
        note = str(row["note"]) if row is not None and not ind.derived else ""
        if ind.formula is not None:
            label = {n: view.indicator(n).name_zh for n in ind.formula.names}
            source, department = f"计算：{ind.formula.render(label)}", "（派生）"
        elif row is not None:
            source = " / ".join(str(row[k]) for k in ("source_file", "sheet", "cell"))
            department = str(row["department"])
        else:
            text, note = values.absent_value(acc, iid)
            source, department = values.source_cell(acc, iid), ind.department
        out.append(SourceRow(iid, ind.name_zh, text, ind.unit, department, source, note, row is not None))
    return out


def build_plan(
    view: View,
    issues: pd.DataFrame | None = None,
    addressee: str | None = None,
    figures: Callable[[View], list[Figure]] | None = None,
) -> Plan:
    """The draft of ``view``'s region and year. ``figures``: what draws the annex's print figures
    (:func:`analysis.draft.annex.print_figures`); None for a draft without the annex of figures and
    tables (``--figures none``)."""
    region, year = view.region, view.year
    acc = values.account(view, issues)
    sections = {s.key: Section(section_heading(s)) for s in view.catalog.report_sections}
    _fill_sections(view, sections, acc)
    annex = None
    if figures is not None:
        annex = Annex(f"{year}年度法治政府建设主要数据图表", section_tables(view), figures(view))
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
        signature=[Run(f"{region}人民政府")],
        date=[Run(DATE_PLACEHOLDER, True)],
        annex=annex,
        appendix_title=f"{region}{year}年度法治政府建设指标及来源",
        appendix=source_rows(view, acc),
        writer_notes=values.writer_notes(view, issues, acc),
    )
