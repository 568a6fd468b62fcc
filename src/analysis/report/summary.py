"""``年度指标汇总.xlsx``: every value of one region and year, with unit, department and source cell.

For the report writers: one row per indicator, in catalog order, with the figure as a number (never
text), the unit, who submitted it and where (file, sheet, cell, the cell as written). A second sheet
lists the issues found on import. Text that came from a submission is neutralised against formula
injection (:func:`analysis.sanitize.neutralize`) and stripped of characters Excel cannot store.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from analysis.core.catalog import Catalog, load_catalog
from analysis.core.problems import CODES, SEVERITY_ZH, severity_rank
from analysis.core.sanitize import neutralize

WORKBOOK_NAME = "年度指标汇总.xlsx"

# (header, source column, width); the value column is the only number besides the year.
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
    """A text cell as written to the workbook: illegal characters shown as ``\\xNN``, formulas neutralised."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    return neutralize(text)


def indicator_rows(indicators: pd.DataFrame, catalog: Catalog | None = None) -> pd.DataFrame:
    """The rows of one region-year in catalog order (unknown ids last), with the topic title added."""
    catalog = catalog or load_catalog()
    order = {ind_id: i for i, ind_id in enumerate(catalog.indicators)}
    rows = indicators.copy()
    rows["topic_title"] = rows["topic"].map(lambda t: catalog.topics.get(t, {}).get("title_zh", t))
    rows["derived_zh"] = rows["derived"].map(lambda d: "是" if bool(d) else "否")
    rows["_order"] = rows["indicator_id"].map(lambda i: order.get(i, len(order)))
    return rows.sort_values(["_order", "indicator_id"], kind="stable").drop(columns="_order")


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
            if key in numeric:
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    cell.value = float(value)
                    cell.number_format = "0.########" if float(value) % 1 else "0"
            else:
                cell.value = safe_text(value)
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(layout))}{max(frame.shape[0] + 1, 1)}"


def build_workbook(
    region: str, year: int, indicators: pd.DataFrame, issues: pd.DataFrame, catalog: Catalog | None = None
) -> bytes:
    """The workbook for one region and year, as bytes (``indicators``/``issues`` already filtered)."""
    wb = Workbook()
    ws = wb.active
    ws.title = INDICATOR_SHEET
    _write_sheet(ws, INDICATOR_LAYOUT, indicator_rows(indicators, catalog), numeric={"value"})
    _write_sheet(wb.create_sheet(ISSUE_SHEET), ISSUE_LAYOUT, issue_rows(issues), numeric=set())
    about = wb.create_sheet("说明")
    lines = [
        ("地区", safe_text(region)),
        ("年度", int(year)),
        ("指标数", int(indicators.shape[0])),
        ("问题数", int(issues.shape[0])),
        ("数值", "“数值”列为数字；百分比以百分点表示（98.1 表示 98.1%）。"),
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
