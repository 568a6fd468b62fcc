"""Tables of indicators for the notebooks: one region-year, coverage per topic, regions side by side."""

from __future__ import annotations

import pandas as pd

from analysis.core.catalog import Indicator
from analysis.explore.selection import (
    View,
    format_change,
    format_value,
    over_years,
    select,
    topic_title,
    year_on_year,
)

# --- tables --------------------------------------------------------------------------------------------


def _source(row: dict | None, ind: Indicator) -> str:
    if row is None:
        return f"计算：{ind.description}" if ind.derived else ""
    if ind.derived:
        return str(row.get("note") or f"计算：{ind.description}")
    parts = [str(row.get(k) or "") for k in ("source_file", "sheet", "cell")]
    return " · ".join(p for p in parts if p)


def note(view: View, indicator_id: str) -> str:
    """The department's 备注: beside its value, or beside the blank it left (why it is 未填报)."""
    row = view.current.get(indicator_id)
    if row is None:
        return view.blank_notes.get(indicator_id, "")
    return "" if row.get("derived") else str(row.get("note") or "")


def indicator_table(view: View, indicator_ids: list[str]) -> pd.DataFrame:
    """One row per indicator: value as written (or 未填报), the department's 备注 (for a blank: why), department
    and source; with 上年 and 同比变化 columns when the region has an earlier year in the table."""
    prev = view.previous_year
    rows = []
    for iid in view.ids(indicator_ids):
        ind = view.indicator(iid)
        row = view.current.get(iid)
        record = {
            "指标": ind.name_zh,
            "数值": view.text(iid),
            "备注": note(view, iid),
            "填报单位": (str(row["department"]) if row is not None else ind.department)
            or ("（计算）" if ind.derived else ""),
            "来源": _source(row, ind),
        }
        if prev is not None:
            compared, before = over_years(view, iid), view.earlier(iid, prev)
            renamed = view.get(iid, prev) is None and before is not None  # reported under its old id
            shown = format_value(before, ind.unit, "", ind.digits) if renamed else view.text(iid, prev)
            record[f"{prev}年"] = shown if compared else "—"
            if renamed and view.footnote(iid, [prev]):
                record["备注"] = "；".join(x for x in (record["备注"], view.footnote(iid, [prev])) if x)
            change = year_on_year(view, iid)
            record["同比变化"] = "—" if change is None else format_change(*change[:2], ind.unit, ind.digits)
        rows.append(record)
    return pd.DataFrame(rows)


def coverage_table(view: View) -> pd.DataFrame:
    """Per topic: how many catalog indicators were reported this year."""
    rows = []
    for topic in view.catalog.topics:
        ids = [i.indicator_id for i in view.catalog.for_topic(topic) if not i.derived]
        done = len(view.reported(ids))
        rows.append(
            {
                "专题": topic_title(view, topic),
                "已填报": done,
                "未填报": len(ids) - done,
                "目录指标": len(ids),
            }
        )
    return pd.DataFrame(rows)


def region_table(view: View, indicator_ids: list[str]) -> pd.DataFrame:
    """The same indicators for every region of the year (one column per region); empty with one region."""
    regions = view.regions
    if len(regions) < 2:
        return pd.DataFrame()
    others = {r: select(view.frame, r, view.year, view.catalog) for r in regions}
    return pd.DataFrame(
        [
            {"指标": view.indicator(i).name_zh, **{r: v.text(i) for r, v in others.items()}}
            for i in view.ids(indicator_ids)
        ]
    )


TIDY_COLUMNS = [
    "indicator_id", "name_zh", "topic", "value", "unit", "qualifier", "precision", "text", "department",
    "source_file", "sheet", "cell", "note", "derived",
]  # fmt: skip


def tidy_table(view: View) -> pd.DataFrame:
    """The tidy table behind a notebook: one row per catalog indicator of the region and year, in catalog
    order, with ``value`` (NaN when not reported), ``unit``, ``qualifier``, ``precision`` (unit of the last
    written digit), ``text`` (as the report writes
    it), ``department``, the source cell (``source_file``, ``sheet``, ``cell``), ``note``, ``derived``, and
    one ``value_<year>`` column per earlier year of the region, nearest first."""
    earlier = [y for y in reversed(view.years) if y < view.year]
    rows = []
    for iid, ind in view.catalog.indicators.items():
        row = view.current.get(iid) or {}
        value = view.get(iid)
        record = {
            "indicator_id": iid,
            "name_zh": ind.name_zh,
            "topic": ind.topic,
            "value": float("nan") if value is None else value,
            "unit": ind.unit,
            "qualifier": view.qualifier(iid),
            "precision": float(row.get("precision") or "nan"),
            "text": view.text(iid),
            "department": str(row.get("department") or ind.department or ""),
            "source_file": str(row.get("source_file") or ""),
            "sheet": str(row.get("sheet") or ""),
            "cell": str(row.get("cell") or ""),
            "note": str(row.get("note") or ""),
            "derived": bool(ind.derived),
        }
        for year in earlier:
            before = view.earlier(iid, year)  # one series across a rename
            record[f"value_{year}"] = float("nan") if before is None else before
        rows.append(record)
    columns = TIDY_COLUMNS + [f"value_{y}" for y in earlier]
    return pd.DataFrame(rows, columns=columns)
