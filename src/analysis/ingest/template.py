"""Blank submission templates: one workbook per catalog department for a region and year.

``python -m analysis template --region 通许县 --year 2020 [--out DIR]`` writes
``<out>/<department>.xlsx`` (default ``templates/<region>/<year>/``), each with three sheets:

- ``填报说明`` — how to fill in and send the workbook, generated from the catalog (the department's own
  indicators, units and file names) and the submission contract (``docs/submission-contract.md``);
- ``基本信息`` — 填报单位, 所属地区 and 统计年度 prefilled; 填报人, 联系电话, 填报日期 left to fill;
- ``数据`` — 序号/指标编码/指标名称/单位/数值/备注 with codes, names and units from the catalog, the 数值
  column checked by Excel data validation (a number ≥ 0; percentages 0–100) and the sheet protected
  without a password so that only 数值 and 备注 can be edited. The clerk reads Chinese only: the 指标编码
  column is hidden (ingest still reads it, so a renamed indicator is still recognised) and the guide names
  indicators by their Chinese names.

An untouched template ingests to no values and no errors; a filled one ingests to exactly what was typed.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from analysis.core import sanitize, years
from analysis.core.catalog import Catalog, Indicator, load_catalog
from analysis.core.fileio import atomic_write_bytes

DATA_SHEET = "数据"
# Column roles of the data sheet, left to right; each header is the catalog's first synonym of its role, so
# the template always uses the spelling the ingest looks for first.
COLUMNS = ("seq", "code", "name", "unit", "value", "note")
SEQ_HEADER = "序号"
CODE_COL = COLUMNS.index("code") + 1
VALUE_COL = COLUMNS.index("value") + 1
NOTE_COL = COLUMNS.index("note") + 1
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
INFO_PREFILLED = ("填报单位", "所属地区", "统计年度")
INFO_TO_FILL = ("填报人", "联系电话", "填报日期")

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_UNLOCKED = Protection(locked=False)


class TemplateError(ValueError):
    """The request cannot be served (message in Chinese, shown to the user as is)."""


# --- validation ----------------------------------------------------------------------------------------


def check_region(region: object) -> str:
    """The region as a safe folder name, or :class:`TemplateError` (no separators, ``..``, NUL …)."""
    try:
        return sanitize.check_region(region)
    except ValueError as exc:
        raise TemplateError(str(exc)) from exc


def check_year(year: object) -> int:
    """The year (forms of :func:`analysis.core.years.parse_year`), or :class:`TemplateError`."""
    try:
        return years.parse_year(year, what="统计年度")
    except years.YearError as exc:
        raise TemplateError(f"{exc}。") from exc


# --- the sheets ----------------------------------------------------------------------------------------


def data_headers(catalog: Catalog) -> tuple[str, ...]:
    """Headers of the data sheet: 序号 then the catalog's first synonym of each role (指标编码, 指标名称 …)."""
    return tuple(SEQ_HEADER if role == "seq" else catalog.headers[role][0] for role in COLUMNS)


def _unit_rule(catalog: Catalog, unit: str) -> str:
    spec = catalog.units[unit]
    if spec.kind == "percent":
        top = f"{spec.max:g}" if spec.max is not None else "100"
        return f"填百分数的数值，0—{top}（98.1 表示 98.1%）"
    if spec.kind == "count":
        return f"填整数（{unit}）"
    return f"填不小于 0 的数字（{unit}）"


def guide_lines(catalog: Catalog, region: str, year: int, department: str) -> list[tuple[str, str]]:
    """The 填报说明 text as (style, line) pairs; style is title, heading or text."""
    aliases = catalog.departments.get(department, ())
    names = "、".join(f"{a}.xlsx" for a in aliases)
    indicators = catalog.for_year(year).for_department(department)  # only that year's catalog
    _, _, name_h, unit_h, value_h, note_h = data_headers(catalog)
    info_sheet = catalog.sheet_names["metadata"]
    percent_units = [u.name for u in catalog.units.values() if u.kind == "percent"]
    lines = [
        ("title", f"{region}{year}年度法治政府建设数据填报说明（{department}）"),
        (
            "text",
            f"本工作簿供{department}填报{region}{year}年度法治政府建设数据，共 {len(indicators)} 项指标。",
        ),
        ("heading", "一、文件与报送"),
        (
            "text",
            f"1. 请保持文件名为“{department}.xlsx”"
            + (f"（也可使用 {names}）" if names else "")
            + "，不要改名。",
        ),
        (
            "text",
            f"2. 报送位置为 <原始数据文件夹>/{region}/{year}/ ；可保存为 .xlsx、.xlsm、.xls 或 .ods 格式。",
        ),
        ("text", "3. 不要给工作簿设置打开密码，不要把数据粘贴成图片；带密码或已损坏的文件整份不予导入。"),
        ("heading", f"二、“{info_sheet}”表"),
        (
            "text",
            "1. 填报单位、所属地区、统计年度已预先填好，请勿修改：与报送文件夹不一致时，整份文件的数据均不予导入。",
        ),
        ("text", "2. 请填写填报人、联系电话和填报日期（如 2021-01-15）。"),
        ("heading", f"三、“{DATA_SHEET}”表"),
        (
            "text",
            f"1. 只在黄色的“{value_h}”和“{note_h}”两列填写；{SEQ_HEADER}、{name_h}、{unit_h}已锁定，请勿增删行、改名或移动。",
        ),
        (
            "text",
            f"2. “{value_h}”按“{unit_h}”列的单位填写阿拉伯数字，如 6736；也可写成 6,736、6736件 或 1.1万（即 11000）。",
        ),
        (
            "text",
            f"3. 单位为“{'、'.join(percent_units)}”的指标填百分数的数值：98.1 表示 98.1%；直接输入 98.1% 也可以。",
        ),
        (
            "text",
            "4. 约数可写成“500余”“500多”“约500”“500以上”：按 500 计入，“余”等字样单独保留。"
            "Excel 会弹出提示，确认无误后点“是”保留。",
        ),
        (
            "text",
            f"5. 没有开展或没有数据的指标请留空（也可填“—”“无”），并在“{note_h}”中说明原因；不要填 0，数值确实为零时才填 0。",
        ),
        ("text", f"6. 说明文字请写在“{note_h}”列，不要写在“{value_h}”列（如“若干”“见附件”）。"),
        ("text", "7. 可以使用公式，但必须在 Excel 或 WPS 中打开并保存一次，使计算结果随文件保存。"),
        ("heading", "四、以下情况会被退回（该单元格不予导入，其余数据照常导入）"),
        ("text", "1. 数值不是数字（如“若干”）：改填具体数字，无法统计的留空并在备注中说明。"),
        ("text", "2. 数值为负数：本表指标均不为负，请核对后改正。"),
        ("text", "3. Excel 错误值（如 #DIV/0!、#REF!）：修正公式或改填数字。"),
        (
            "text",
            "4. 公式没有计算结果（文件由程序生成、从未在 Excel 中打开）：在 Excel 或 WPS 中打开、保存后重新报送。",
        ),
        ("text", "5. 单位与本表不符且无法换算（如把“件”填成“%”）：按“单位”列的单位填写。"),
        (
            "text",
            "6. 同一指标填了两个不同数值（本表内或与其他单位的报表冲突）：两处均不予导入，请与相关单位核对后只保留一个。",
        ),
        ("text", "7. 无法识别的指标：请使用本模板，不要自行增加行或修改指标名称。"),
        ("heading", "五、本单位填报的指标"),
    ]
    for i, ind in enumerate(indicators, start=1):
        line = f"{i}. {ind.name_zh}：{_unit_rule(catalog, ind.unit)}。"
        if ind.description:
            line += f"说明：{ind.description}"
        lines.append(("text", line))
    lines.append(("text", "详细规则见《报表填报与报送约定》（可向汇总报表的司法局索取）。"))
    return lines


def _guide_sheet(ws: Worksheet, lines: list[tuple[str, str]]) -> None:
    ws.column_dimensions["A"].width = 120
    fonts = {"title": Font(bold=True, size=14), "heading": Font(bold=True, size=12), "text": Font(size=11)}
    for row, (style, text) in enumerate(lines, start=1):
        cell = ws.cell(row, 1, text)
        cell.font = fonts[style]
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.protection.sheet = True


def _info_sheet(ws: Worksheet, region: str, year: int, department: str) -> None:
    values = {"填报单位": department, "所属地区": region, "统计年度": year}
    for row, key in enumerate((*INFO_PREFILLED, *INFO_TO_FILL), start=1):
        ws.cell(row, 1, key).font = Font(bold=True)
        cell = ws.cell(row, 2, values.get(key))
        for c in (ws.cell(row, 1), cell):
            c.border = _BOX
        if key in INFO_TO_FILL:
            cell.protection = _UNLOCKED
            cell.fill = _INPUT_FILL
        if key == "填报日期":
            cell.number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 36
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _value_validation(catalog: Catalog, unit: str) -> DataValidation:
    """Excel validation of a 数值 cell: a number ≥ 0 (percent: 0..max), Chinese prompt and error."""
    spec = catalog.units[unit]
    rule = _unit_rule(catalog, unit)
    if spec.kind == "percent":
        top = spec.max if spec.max is not None else 100
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{top:g}")
    else:
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    dv.allow_blank = True
    dv.showInputMessage = True
    dv.showErrorMessage = True
    # "warning": Excel asks before keeping a non-number, so that 约数 such as 500余 can still be entered.
    dv.errorStyle = "warning"
    dv.promptTitle = "填写提示"
    dv.prompt = f"{rule}。没有数据请留空，不要填 0。"[:255]
    dv.errorTitle = "数值不符合要求"
    dv.error = f"应{rule}。约数如“500余”可点“是”保留；否则请点“否”后改正。"[:255]
    return dv


def _data_sheet(ws: Worksheet, catalog: Catalog, region: str, year: int, department: str) -> None:
    indicators: list[Indicator] = catalog.for_year(year).for_department(department)
    headers = data_headers(catalog)
    last_col = get_column_letter(len(headers))
    ws.cell(TITLE_ROW, 1, f"{region}{year}年度法治政府建设数据统计表（{department}）")
    ws.merge_cells(f"A{TITLE_ROW}:{last_col}{TITLE_ROW}")
    ws.cell(TITLE_ROW, 1).font = Font(bold=True, size=14)
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center")
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, col, header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center")
    validations: dict[str, DataValidation] = {}
    for i, ind in enumerate(indicators):
        row = FIRST_DATA_ROW + i
        for col, content in enumerate((i + 1, ind.indicator_id, ind.name_zh, ind.unit), start=1):
            ws.cell(row, col, content)
        for col in (VALUE_COL, NOTE_COL):
            cell = ws.cell(row, col)
            cell.protection = _UNLOCKED
            cell.fill = _INPUT_FILL
        for col in range(1, len(headers) + 1):
            ws.cell(row, col).border = _BOX
        if ind.unit not in validations:
            validations[ind.unit] = _value_validation(catalog, ind.unit)
        validations[ind.unit].add(ws.cell(row, VALUE_COL))
    for dv in validations.values():
        ws.add_data_validation(dv)
    for col, width in zip(range(1, len(headers) + 1), (6, 40, 44, 8, 14, 30), strict=True):
        ws.column_dimensions[get_column_letter(col)].width = width
    # the indicator id is for the ingest, not for the clerk: hidden (not removed), like the formatting
    ws.column_dimensions[get_column_letter(CODE_COL)].hidden = True
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)
    # Protected without a password: only the unlocked 数值 and 备注 cells can be edited.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def build_template(catalog: Catalog, region: str, year: int, department: str) -> Workbook:
    """The blank workbook of ``department`` (must be a catalog department) for ``region`` and ``year``."""
    region, year = check_region(region), check_year(year)
    if department not in catalog.departments:
        raise TemplateError(f"“{department}”不是指标目录中的填报单位。")
    wb = Workbook()
    guide = wb.active
    guide.title = catalog.sheet_names["instructions"]
    _guide_sheet(guide, guide_lines(catalog, region, year, department))
    _info_sheet(wb.create_sheet(catalog.sheet_names["metadata"]), region, year, department)
    _data_sheet(wb.create_sheet(DATA_SHEET), catalog, region, year, department)
    wb.active = wb.sheetnames.index(DATA_SHEET)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == DATA_SHEET
    wb.properties.creator = "fazhi-analysis"
    wb.properties.title = f"{region}{year}年度法治政府建设数据（{department}）"
    return wb


# --- writing -------------------------------------------------------------------------------------------


def write_templates(
    region: str, year: int, out: Path | None = None, catalog: Catalog | None = None
) -> list[Path]:
    """Write one template per catalog department into ``out`` (default ``templates/<region>/<year>``)."""
    region, year = check_region(region), check_year(year)
    catalog = catalog or load_catalog()
    out = Path(out) if out is not None else Path("templates") / region / str(year)
    departments = [sanitize.safe_name(d, "单位") for d in catalog.departments]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TemplateError(f"无法创建输出文件夹 {out}：{exc.strerror or exc}") from exc
    written = []
    for department in departments:
        buffer = io.BytesIO()
        build_template(catalog, region, year, department).save(buffer)
        path = out / f"{department}.xlsx"
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written
