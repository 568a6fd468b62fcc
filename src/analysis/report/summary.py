"""``年度指标汇总.xlsx``: every catalog indicator of one region and year, with unit, department and source.

For the report writers: one row per catalog indicator, in catalog order, reported or not: the figure as a
number (never text), or ``未填报`` with the department's 备注 saying why it left the value blank; the unit,
who submitted it and where (file, sheet, cell, the cell as written); and, when the data hold an earlier
year of the region, that year's figure and the change written as the HTML report writes it. A second sheet
lists the issues found on import. Text that came from a submission is neutralised against formula
injection (:func:`analysis.sanitize.neutralize`) and stripped of characters Excel cannot store.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from analysis.core.catalog import Catalog, load_catalog
from analysis.core.formatting import MISSING, format_change
from analysis.core.problems import CODES, SEVERITY_ZH, severity_rank
from analysis.core.sanitize import neutralize
from analysis.core.text import xml_safe
from analysis.explore.collection import collection_status
from analysis.explore.selection import View, select, year_on_year
from analysis.explore.tables import note

NOT_COMPUTED = "无法计算"  # a derived indicator whose inputs were not all reported

# (header, source column, width); the value columns are numbers, or 未填报 / 无法计算 when there is none.
INDICATOR_SHEET = "指标汇总"
INDICATOR_LAYOUT = [
    ("专题", "topic_title", 18),
    ("指标编码", "indicator_id", 34),
    ("指标名称", "name_zh", 30),
    ("数值", "value", 12),
    ("限定词", "qualifier", 8),
    ("单位", "unit", 6),
    ("填报单位", "department", 22),
    ("来源文件", "source_file", 30),
    ("工作表", "sheet", 14),
    ("单元格", "cell", 8),
    ("原始填报内容", "raw_value", 16),
    ("备注或计算公式", "note", 40),
    ("是否计算得出", "derived_zh", 8),
]
ISSUE_SHEET = "问题清单"
ISSUE_LAYOUT = [
    ("级别", "severity_zh", 6),
    ("问题代码", "code", 24),
    ("问题类别", "title", 28),
    ("填报单位", "department", 22),
    ("文件", "file", 30),
    ("工作表", "sheet", 14),
    ("单元格", "cell", 8),
    ("指标编码", "indicator_id", 30),
    ("说明", "message", 60),
]
_HEADER_FILL = PatternFill("solid", fgColor="1F5F8B")


def safe_text(value: object) -> str:
    """A text cell as written to the workbook: characters XML cannot hold and bidi controls shown as U+FFFD
    (:func:`~analysis.core.text.xml_safe`), formulas neutralised."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return neutralize(xml_safe(text))


def indicator_rows(view: View) -> pd.DataFrame:
    """Every catalog indicator of the view's region-year in catalog order (then any other id in the data),
    with the previous year's figure and the change when the region has an earlier year."""
    catalog = view.catalog
    prev = view.previous_year
    records = []
    for iid in [*catalog.indicators, *sorted(set(view.current) - set(catalog.indicators))]:
        row, ind = view.current.get(iid), catalog.indicators.get(iid)
        record = dict(row) if row is not None else {**_unreported(ind), "note": note(view, iid)}
        topic = record["topic"]
        record["topic_title"] = catalog.topics.get(topic, {}).get("title_zh", topic)
        record["derived_zh"] = "是" if bool(record["derived"]) else "否"
        if prev is not None and ind is not None:
            before = view.earlier(iid, prev)  # one series across a rename
            if view.footnote(iid, [prev]):
                record["note"] = "；".join(
                    x for x in (str(record.get("note") or ""), view.footnote(iid, [prev])) if x
                )
            record["previous"] = before if before is not None else (NOT_COMPUTED if ind.derived else MISSING)
            compared = year_on_year(view, iid)  # the one rule: never for a check figure or a qualified value
            record["change"] = "—" if compared is None else format_change(*compared[:2], ind.unit, ind.digits)
        records.append(record)
    return pd.DataFrame(records)


def _unreported(ind) -> dict:
    return {
        "indicator_id": ind.indicator_id,
        "name_zh": ind.name_zh,
        "topic": ind.topic,
        "value": NOT_COMPUTED if ind.derived else MISSING,
        "unit": ind.unit,
        "qualifier": "",
        "department": ind.department,
        "derived": ind.derived,
    }


def issue_rows(issues: pd.DataFrame) -> pd.DataFrame:
    rows = issues.copy()
    rows["severity_zh"] = rows["severity"].map(lambda s: SEVERITY_ZH.get(s, s))
    rows["title"] = rows["code"].map(lambda c: CODES.get(c, ("", c))[1])
    rows["_rank"] = rows["severity"].map(severity_rank)
    return rows.sort_values(["_rank", "code"], kind="stable").drop(columns="_rank")


def _write_sheet(ws, layout: list[tuple[str, str, int]], frame: pd.DataFrame, numeric: set[str]) -> None:
    for col, (header, _, width) in enumerate(layout, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, record in enumerate(frame.to_dict("records"), start=2):
        for col, (_, key, _) in enumerate(layout, start=1):
            value = record.get(key)
            cell = ws.cell(row=r, column=col)
            if key in numeric and not isinstance(value, str):
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    cell.value = float(value)
                    cell.number_format = "0.########" if float(value) % 1 else "0"
            else:  # never a formula, whatever the text; our own change text ("+674件") needs no quote mark
                cell.value = safe_text(value) if key != "change" else str(value)
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(layout))}{max(frame.shape[0] + 1, 1)}"


def build_workbook(
    region: str, year: int, indicators: pd.DataFrame, issues: pd.DataFrame, catalog: Catalog | None = None
) -> bytes:
    """The workbook for one region and year, as bytes. ``indicators`` is the tidy table (other years of the
    region give the previous-year columns; other regions are ignored); ``issues`` are this region-year's."""
    view = select(indicators, region, int(year), catalog or load_catalog(), issues)
    layout = list(INDICATOR_LAYOUT)
    if view.previous_year is not None:
        at = [key for _, key, _ in layout].index("unit") + 1
        layout[at:at] = [(f"{view.previous_year}年数值", "previous", 12), ("同比变化", "change", 18)]
    wb = Workbook()
    ws = wb.active
    ws.title = INDICATOR_SHEET
    _write_sheet(ws, layout, indicator_rows(view), numeric={"value", "previous"})
    _write_sheet(wb.create_sheet(ISSUE_SHEET), ISSUE_LAYOUT, issue_rows(issues), numeric=set())
    about = wb.create_sheet("说明")
    reported = sum(1 for r in view.current.values() if not r["derived"])
    collection = collection_status(
        view.catalog, (r["department"] for r in view.current.values() if not r["derived"]), issues
    )
    lines = [
        ("地区", safe_text(region)),
        ("年度", int(year)),
        ("已填报指标", f"{reported} / {len(view.catalog.reported)}"),
        ("问题数", int(issues.shape[0])),
        ("报表收集", safe_text(collection.sentence())),
        (
            "数值",
            f"“数值”列为数字；百分比以百分点表示（98.1 表示 98.1%）。目录中没有数值的指标写“{MISSING}”"
            "（“备注或计算公式”列是填报单位对空白的说明），缺少数据的计算指标写“无法计算”。",
        ),
        ("来源", "“来源文件”“工作表”“单元格”指向各单位报送的原始工作簿，可据此核对。"),
        ("安全", "以 = + - @ 或制表符开头的填报文字前加了单引号，防止被当作公式执行。"),
    ]
    for r, (key, value) in enumerate(lines, start=1):
        about.cell(row=r, column=1, value=key).font = Font(bold=True)
        cell = about.cell(row=r, column=2, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
    about.column_dimensions["A"].width = 10
    about.column_dimensions["B"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_workbook(
    path: Path,
    region: str,
    year: int,
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    catalog: Catalog | None = None,
) -> Path:
    """Build and write the workbook atomically."""
    from analysis.core.fileio import atomic_write_bytes

    atomic_write_bytes(Path(path), build_workbook(region, year, indicators, issues, catalog))
    return Path(path)
