"""Turn one workbook's sheets into candidate values and problems (no cross-file logic here).

A data sheet is any sheet with a header row within its first 10 rows naming an indicator column (code or
name) and a value column (synonyms in the catalog's ``headers``). Each data row is matched to an indicator
by its code, else by its name; its value cell is parsed by :mod:`analysis.numbers` and checked against the
catalog's unit. Rows with no value that match nothing are layout (titles, section labels, notes) and are
skipped. Every non-empty value cell of a data row ends as a :class:`Candidate` or a :class:`Problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.core.catalog import Catalog, Indicator
from analysis.core.formatting import format_number
from analysis.core.numbers import Parsed, is_percent_format, parse_value, split_multiplier, tidy_float
from analysis.core.problems import Problem
from analysis.core.text import clip, fold
from analysis.ingest.workbook import Cell, Sheet, Workbook, a1, cell_text, column_letter

HEADER_SCAN_ROWS = 10
_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
# A year as written in a folder name or in 统计年度: 2019, 2019年, 2019年度, 2019年1-12月, 2019年全年 (folded).
# Numbering and sub-item marks written before a name: "1、" "1." "(1)" "一、" "(一)" "其中:" (folded text).
_NUMBERING = re.compile(
    r"^(?:其中:?|\d{1,2}[、.]|\(\d{1,2}\)|[一二三四五六七八九十]{1,3}[、.]|\([一二三四五六七八九十]{1,3}\))+"
)
# A unit in brackets after a name: "专兼职人民调解员（名）", "清理河道长度(米)" (folded text).
_NAME_UNIT = re.compile(r"^(?P<name>.+?)[(\[【](?P<unit>[^()\[\]【】]+)[)\]】]$")


@dataclass(frozen=True)
class FileContext:
    """Where a workbook sits: region, year and department (from folders, file name or 基本信息)."""

    region: str
    year: int
    department: str
    file: str  # path relative to the raw folder, with forward slashes

    def problem(
        self, code: str, message: str, sheet: str = "", cell: str = "", indicator_id: str = "", note: str = ""
    ) -> Problem:
        return Problem(
            code=code,
            message=message,
            region=self.region,
            year=self.year,
            department=self.department,
            file=self.file,
            sheet=sheet,
            cell=cell,
            indicator_id=indicator_id,
            note=note,
        )


@dataclass(frozen=True)
class Candidate:
    """A value that parsed and fits its indicator; still subject to cross-file duplicate checks."""

    indicator: Indicator
    value: float
    qualifier: str
    sheet: str
    cell: str
    raw_value: str
    note: str
    hidden_row: bool = False  # the row is hidden in Excel: the department may not see the figure
    precision: float = 1.0  # unit of the last digit as written or displayed (see core/numbers.py)

    def place(self, ctx: FileContext) -> str:
        hidden = "（隐藏行）" if self.hidden_row else ""
        return f"{ctx.file} 的工作表“{self.sheet}”单元格 {self.cell}{hidden}"


@dataclass(frozen=True)
class Blank:
    """An indicator's row left blank with a 备注 saying why (``本年度未统计``): the note must travel."""

    indicator: Indicator
    sheet: str
    cell: str
    note: str


@dataclass
class Extraction:
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    data_sheets: list[str] = field(default_factory=list)
    blanks: list[Blank] = field(default_factory=list)


@dataclass(frozen=True)
class Metadata:
    """The 基本信息 sheet: key → value as written (keys folded)."""

    sheet: str
    values: dict[str, tuple[str, str]]  # key → (value text, A1 of the value cell)


# --- metadata -----------------------------------------------------------------------------------


def read_metadata(workbook: Workbook, catalog: Catalog) -> Metadata | None:
    wanted = fold(catalog.sheet_names["metadata"])
    for sheet in workbook.sheets:
        if fold(sheet.name) != wanted:
            continue
        values: dict[str, tuple[str, str]] = {}
        for row in sheet.rows():
            key = fold(cell_text(sheet.get(row, 1))).rstrip(":：")
            value = cell_text(sheet.get(row, 2)).strip()
            if key and value:
                values[key] = (value, a1(row, 2))
        return Metadata(sheet=sheet.name, values=values)
    return None


# --- header detection ---------------------------------------------------------------------------


def header_key(text: str) -> str:
    return _BRACKETED.sub("", fold(text)).rstrip(":：")


Synonyms = dict[str, set[str]]


def header_synonyms(catalog: Catalog, year: int) -> Synonyms:
    return {role: {fold(s.format(year=year)) for s in names} for role, names in catalog.headers.items()}


def _roles(sheet: Sheet, row: int, synonyms: Synonyms, width: int | None = None) -> dict[str, int]:
    """{role: column} of the header words in ``row`` (the leftmost column for each role)."""
    columns: dict[str, int] = {}
    for col in range(1, (width or sheet.max_col) + 1):
        cell = sheet.get(row, col)
        if cell is None or not isinstance(cell.value, str):
            continue
        key = header_key(cell.value)
        if not key:
            continue
        for role, names in synonyms.items():
            if key in names and role not in columns:
                columns[role] = col
                break
    return columns


def _complete(columns: dict[str, int]) -> bool:
    return ("code" in columns or "name" in columns) and "value" in columns


def _continuation(
    sheet: Sheet, row: int, columns: dict[str, int], synonyms: Synonyms
) -> tuple[int, dict[str, int]]:
    """A header over two rows (``2019年`` merged over ``数值 | 备注``): the lower row completes the upper.

    The row below belongs to the header when it names at least one column, holds no number, and its
    indicator cells are empty or filled from a cell merged down from the header row.
    """
    below = row + 1
    width = sheet.max_col
    found = _roles(sheet, below, synonyms, width)
    if not found:
        return row, columns
    for col in range(1, width + 1):
        cell = sheet.get(below, col)
        if cell is not None and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
            return row, columns
    for role in ("code", "name"):
        cell = sheet.get(below, columns[role]) if role in columns else None
        if cell is not None and not cell.empty and cell.origin is None and role not in found:
            return row, columns  # an indicator written below: a data row, not a header
    return below, {**columns, **found}


def find_header(sheet: Sheet, catalog: Catalog, year: int) -> tuple[int, dict[str, int]] | None:
    """(header row, {role: column}) for the first row in the first 10 that names an indicator and a value.

    A header spread over two rows (merged cells over sub-headings) counts as one, ending at its lower row.
    """
    synonyms = header_synonyms(catalog, year)
    width = sheet.max_col
    for row in range(1, HEADER_SCAN_ROWS + 1):
        columns = _roles(sheet, row, synonyms, width)
        if _complete(columns):
            return _continuation(sheet, row, columns, synonyms)
        if columns:
            below, merged = _continuation(sheet, row, columns, synonyms)
            if below != row and _complete(merged):
                return below, merged
    return None


# --- rows ---------------------------------------------------------------------------------------


def extract(workbook: Workbook, ctx: FileContext, catalog: Catalog) -> Extraction:
    """Candidates and problems of every data sheet of ``workbook``."""
    out = Extraction()
    skip = {fold(catalog.sheet_names["metadata"]), fold(catalog.sheet_names["instructions"])}
    for sheet in workbook.sheets:
        if fold(sheet.name) in skip:
            continue
        header = find_header(sheet, catalog, ctx.year)
        if header is None:
            continue
        out.data_sheets.append(sheet.name)
        if sheet.hidden:
            out.problems.append(
                ctx.problem(
                    "hidden-sheet",
                    f"工作表“{clip(sheet.name)}”是隐藏的，但含有数据，已照常读取；如果它不是本单位的正式报表，请删除后重新报送",
                    sheet=sheet.name,
                )
            )
        _extract_sheet(sheet, header, ctx, catalog, out, header_synonyms(catalog, ctx.year))
    return out


def _extract_sheet(
    sheet: Sheet,
    header: tuple[int, dict[str, int]],
    ctx: FileContext,
    catalog: Catalog,
    out: Extraction,
    synonyms: Synonyms,
) -> None:
    header_row, cols = header
    last_row = max(sheet.rows(), default=header_row)
    width = sheet.max_col

    def text(row: int, role: str) -> str:
        col = cols.get(role)
        return cell_text(sheet.get(row, col)).strip() if col else ""

    row = header_row
    while row < last_row:
        row += 1
        if _maybe_header(sheet, row, width):
            roles = _roles(sheet, row, synonyms, width)
            if _complete(roles):  # a second table below the first, with its own header and columns
                row, cols = _continuation(sheet, row, roles, synonyms)
                continue
        value_cell = sheet.get(row, cols["value"])
        code, name = text(row, "code"), text(row, "name")
        has_value = value_cell is not None and not value_cell.empty
        if not has_value or _spills_from_left(value_cell, cols["value"]):
            # layout (blank row, title or note across the row), or a blank indicator (missing-indicator, + 备注)
            indicator = _match(code, name, catalog)[0] if not has_value and text(row, "note") else None
            if indicator is not None:
                out.blanks.append(Blank(indicator, sheet.name, a1(row, cols["value"]), text(row, "note")))
            continue
        where = value_cell.origin or a1(row, cols["value"])
        indicator, name_unit = _match(code, name, catalog)
        if indicator is None:
            if not value_cell.error and not value_cell.formula and parse_value(value_cell.value).blank:
                # a layout row (section label, note) whose value cell says "not reported" (—, 无, /)
                message = f"该行“{clip(name or code)}”不是指标，数值列标为“{clip(cell_text(value_cell))}”，按版式行跳过"
                out.problems.append(ctx.problem("marked-not-reported", message, sheet.name, where))
            else:
                message = _unknown_message(code, name, catalog)
                out.problems.append(ctx.problem("unknown-indicator", message, sheet.name, where))
            continue
        problem, candidate = _read_value(value_cell, indicator, text(row, "unit") or name_unit, catalog)
        if problem is not None:
            code_, message = problem
            note = text(row, "note") if code_ == "marked-not-reported" else ""
            message += f"；备注：“{clip(note)}”" if note else ""
            out.problems.append(ctx.problem(code_, message, sheet.name, where, indicator.indicator_id, note))
            if candidate is None:
                continue
        assert candidate is not None
        out.candidates.append(
            Candidate(
                indicator=indicator,
                value=candidate.value,
                qualifier=candidate.qualifier,
                sheet=sheet.name,
                cell=where,
                raw_value=_raw_text(value_cell),
                note=text(row, "note"),
                hidden_row=row in sheet.hidden_rows,
                precision=candidate.precision,
            )
        )


def _maybe_header(sheet: Sheet, row: int, width: int) -> bool:
    """Cheap test before :func:`_roles`: a header row holds text and no number."""
    texts = 0
    for col in range(1, width + 1):
        cell = sheet.get(row, col)
        if cell is None or cell.value is None:
            continue
        if not isinstance(cell.value, str):
            return False
        texts += 1
    return texts >= 2


def _spills_from_left(cell: Cell, value_col: int) -> bool:
    """A merged range reaching the value column from another column (a note or title row) is layout."""
    if not cell.origin:
        return False
    letters = "".join(ch for ch in cell.origin if ch.isalpha())
    return letters != column_letter(value_col)


def _match(code: str, name: str, catalog: Catalog) -> tuple[Indicator | None, str]:
    """The row's indicator, and a unit written in brackets after its name ("" if none)."""
    if code:
        return catalog.by_code(code), ""  # a wrong code is never rescued by the name: it is reported
    if not name:
        return None, ""
    found = catalog.by_name(name)
    if found is not None:
        return found, ""
    # Not guesses, only what departments add around a catalog name: numbering and a unit in brackets.
    bare = _NUMBERING.sub("", fold(name))
    unit = ""
    bracketed = _NAME_UNIT.match(bare)
    is_unit = bracketed and catalog.resolve_unit(split_multiplier(bracketed["unit"])[1]) is not None
    if is_unit and catalog.by_name(bare) is None:
        bare, unit = bracketed["name"], bracketed["unit"]
    return (catalog.by_name(bare) if bare else None), unit


def _unknown_message(code: str, name: str, catalog: Catalog) -> str:
    if code:
        return f"指标编码“{clip(code)}”不在指标目录中，该行数值未导入；请核对编码（可参照报表模板），或删除编码列只按指标名称填报"
    if not name:
        return "该行有数值，但没有指标名称或编码，数值未导入；请补填指标名称"
    hint = catalog.suggest(name)
    tip = f"是否应为：{'、'.join(hint)}？" if hint else "请使用报表模板中的指标名称。"
    return f"指标名称“{clip(name)}”与指标目录中的任何指标都不相符，该行数值未导入。{tip}系统不会自动猜测，请改正名称后重新报送"


def _raw_text(cell: Cell) -> str:
    if cell.error:
        return cell.error
    shown = cell_text(cell) if not isinstance(cell.value, float) else repr(cell.value)
    if is_percent_format(cell.number_format):
        shown += f"（单元格格式 {cell.number_format}）"
    return shown


@dataclass(frozen=True)
class _Value:
    value: float
    qualifier: str
    precision: float


def _read_value(
    cell: Cell, indicator: Indicator, unit_text: str, catalog: Catalog
) -> tuple[tuple[str, str] | None, _Value | None]:
    """(problem, value): a problem alone rejects the cell; a problem with a value is a warning."""
    if cell.error:
        return (
            "excel-error",
            f"单元格是 Excel 错误值 {cell.error}，数值未导入；请修正公式或直接填写数字",
        ), None
    if cell.formula and (cell.value is None or cell.value == ""):
        return (
            "formula-not-calculated",
            "单元格是公式，但文件中没有保存计算结果（常见于程序生成、从未在 Excel 中打开过的文件），数值未导入；"
            "请用 Excel 或 WPS 打开该文件、确认数值显示正确后保存，再重新报送",
        ), None
    parsed: Parsed = parse_value(cell.value, cell.number_format)
    if parsed.error:
        return (parsed.error, f"{parsed.reason}，数值未导入"), None
    if parsed.blank:
        return ("marked-not-reported", f"单元格填写为“{clip(cell_text(cell))}”，视为未填报（不计为 0）"), None
    unit = catalog.units[indicator.unit]
    value, precision = parsed.value, parsed.precision
    assert value is not None
    written = parsed.unit or unit_text
    if written and parsed.unit != "%":
        factor, base = split_multiplier(written)
        resolved = catalog.resolve_unit(base)
        if resolved is None or resolved[0] != indicator.unit:
            return (
                "unit-mismatch",
                f"填写的单位“{clip(written)}”与指标“{indicator.name_zh}”的单位“{indicator.unit}”不符，且无法换算，数值未导入；"
                f"请按“{indicator.unit}”填报",
            ), None
        value, precision = value * factor * resolved[1], precision * factor * resolved[1]
    elif parsed.unit == "%" and indicator.unit != "%":
        return (
            "unit-mismatch",
            f"填写的是百分比，但指标“{indicator.name_zh}”的单位是“{indicator.unit}”，数值未导入；请填写{indicator.unit}数",
        ), None
    value = tidy_float(value)
    if value < 0 and not indicator.allow_negative:
        return (
            "negative-value",
            f"数值 {format_number(value)} 为负数，{indicator.name_zh}不能为负，数值未导入；请核实后填写",
        ), None
    if unit.max is not None and value > unit.max:
        return (
            "out-of-range",
            f"数值 {format_number(value)}{indicator.unit} 超过上限 {format_number(unit.max)}，数值未导入；请核实（百分比请填写如 98.1 或 98.1%）",
        ), None
    result = _Value(value=value, qualifier=parsed.qualifier, precision=tidy_float(precision))
    if unit.kind == "count" and not float(value).is_integer():
        return (
            "non-integer-count",
            f"{indicator.name_zh}是计数（{indicator.unit}），但填写了小数 {format_number(value)}；已导入，请核实",
        ), result
    if unit.kind == "percent" and 0 < value < 1 and parsed.unit != "%":
        return (
            "suspicious-rate",
            f"{indicator.name_zh}填写为 {format_number(value)}，按 {format_number(value)}% 导入；如果本意是 {format_number(value * 100)}%，请改填 {format_number(value * 100)}%",
        ), result
    return None, result
