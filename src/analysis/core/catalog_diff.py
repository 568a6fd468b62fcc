"""What changes between two catalogs, in Chinese: indicators added, retired, renamed (``replaces``), split
or merged, moved to another section, and report sections added or dropped.

The same comparison serves two questions: two editions (``python -m analysis catalog diff A.yaml B.yaml``,
to review a new province list before using it) and two years of one edition (what the comparison page of
a year says about its catalog).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.catalog import Catalog, ReportSection
from analysis.core.catalog_time import RENAME, SPLIT, years_text

ADDED, RETIRED, RENAMED, REGROUPED = "新增", "停用", "改名或接替", "调整章节"
KINDS = (ADDED, RETIRED, RENAMED, REGROUPED)


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    text: str  # one Chinese line


def _name(catalog: Catalog, indicator_id: str) -> str:
    return f"“{catalog.indicators[indicator_id].name_zh}”（{indicator_id}）"


def diff(old: Catalog, new: Catalog) -> list[Change]:
    """The changes from ``old`` to ``new`` (editions or year catalogs), grouped by kind in :data:`KINDS`."""
    changes: list[Change] = []
    replaced: set[str] = set()
    for s in new.lineage.successions:
        if s.new not in new.indicators or s.new in old.indicators or not set(s.old) & set(old.indicators):
            continue
        replaced |= set(s.old)
        olds = "、".join(_name(old, o) for o in s.old if o in old.indicators)
        ind = new.indicators[s.new]
        when = f"{ind.since}年起" if ind.since is not None else ""
        if s.kind == RENAME:
            unit = old.indicators[s.old[0]].unit if s.old[0] in old.indicators else ind.unit
            factor = f"，单位由{unit}改为{ind.unit}（旧值 × {s.factor:g}）" if unit != ind.unit else ""
            text = f"{when}{olds}改为{_name(new, s.new)}{factor}；历年变化视为同一指标"
        else:
            how = "拆分" if s.kind == SPLIT else "合并"
            text = f"{when}{olds}{how}为{_name(new, s.new)}；不与{how}前的数值作同比"
        changes.append(Change(RENAMED, text))
    for iid, ind in new.indicators.items():
        if iid not in old.indicators and not any(
            s.new == iid for s in new.lineage.successions if replaced & set(s.old)
        ):
            valid = (
                ""
                if ind.since is None and ind.until is None
                else f"，有效期{years_text(ind.since, ind.until)}"
            )
            changes.append(
                Change(ADDED, f"{_name(new, iid)}，{ind.unit}，{ind.department or '计算得出'}{valid}")
            )
    for iid in old.indicators:
        if iid not in new.indicators and iid not in replaced:
            changes.append(Change(RETIRED, f"{_name(old, iid)}不再列入指标目录"))
    for iid, ind in new.indicators.items():
        before = old.indicators.get(iid)
        if before is None:
            continue
        if (before.since, before.until) != (ind.since, ind.until):
            text = f"{_name(new, iid)}的有效期由{years_text(before.since, before.until)}改为{years_text(ind.since, ind.until)}"
            changes.append(Change(RETIRED if ind.until is not None else ADDED, text))
        if before.section != ind.section and not ind.derived:
            changes.append(Change(REGROUPED, f"{_name(new, iid)}由“{before.section}”移至“{ind.section}”"))
    old_sections = {s.label: s for s in old.report_sections}
    new_sections = {s.label: s for s in new.report_sections}
    for label, s in new_sections.items():
        if label not in old_sections:
            changes.append(Change(REGROUPED, f"新增报告章节“{label}”（{s.heading}）{_span(s)}"))
    for label in old_sections:
        if label not in new_sections:
            changes.append(Change(REGROUPED, f"报告章节“{label}”不再使用"))
    return sorted(changes, key=lambda c: KINDS.index(c.kind))


def _span(section: ReportSection) -> str:
    since, until = section.since, section.until
    return "" if since is None and until is None else f"，{years_text(since, until)}"


def year_changes(catalog: Catalog, year: int) -> list[Change]:
    """What the catalog of ``year`` changes against the year before (empty for an edition without years)."""
    if not catalog.edition.timed:
        return []
    return diff(catalog.for_year(year - 1), catalog.for_year(year))


def lines(changes: list[Change]) -> list[str]:
    """``新增：…`` lines, one per change, grouped by kind."""
    return [f"{c.kind}：{c.text}" for c in changes]
