"""Turn one workbook's sheets into candidate values and problems (no cross-file logic here).

A data sheet is any sheet with a header row within its first 10 rows naming an indicator column (code or
name) and a value column (synonyms in the catalog's ``headers``). Each data row is matched to an indicator
by its code, else by its name; its value cell is parsed by :mod:`analysis.numbers` and checked against the
catalog's unit. Rows with no value that match nothing are layout (titles, section labels, notes) and are
skipped. Every non-empty value cell of a data row ends as a :class:`Candidate` or a :class:`Problem`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from analysis.core.catalog import Catalog, Indicator
from analysis.core.names import FEEDBACK_SHEET
from analysis.core.numbers import is_percent_format, parse_value, split_multiplier
from analysis.core.problems import Problem
from analysis.core.text import clip, fold
from analysis.ingest.cells import Cell, Sheet, Workbook, a1, cell_text, column_letter
from analysis.ingest.formulas import merged_message, row_of, value_warnings
from analysis.ingest.values import read_value

HEADER_SCAN_ROWS = 10
BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
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
    """An indicator's row left blank, with the 备注 saying why (``本年度未统计``) or none: its cell and note must
    travel to the missing-indicator row."""

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


@dataclass
class Loaded:
    """What one file yields for the steps across files; ``digest``: SHA-256 of the bytes it was read from
    (empty when the file could not be read at all)."""

    ctx: FileContext
    candidates: list[Candidate]
    rejected: bool = False
    blanks: list[Blank] = field(default_factory=list)
    digest: str = ""


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


@functools.lru_cache(maxsize=4096)
def header_key(text: str) -> str:
    return BRACKETED.sub("", fold(text)).rstrip(":：")


Synonyms = dict[str, set[str]]


def header_synonyms(catalog: Catalog, year: int) -> Synonyms:
    return {role: {fold(s.format(year=year)) for s in names} for role, names in catalog.headers.items()}


def _roles(sheet: Sheet, row: int, synonyms: Synonyms) -> dict[str, int]:
    """{role: column} of the header words in ``row``: for each role the leftmost visible column, else the
    leftmost hidden one (a hidden ``数值`` column of stale figures loses to a visible ``2019年`` column)."""
    columns: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for col, cell in sheet.row_cells(row):
        if not isinstance(cell.value, str):
            continue
        key = header_key(cell.value)
        if not key:
            continue
        for role, names in synonyms.items():
            if key in names:
                found = hidden if col in sheet.hidden_cols else columns
                found.setdefault(role, col)
                break
    return {**hidden, **columns}


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
    found = _roles(sheet, below, synonyms)
    if not found:
        return row, columns
    for _col, cell in sheet.row_cells(below):
        if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
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
    for row in range(1, HEADER_SCAN_ROWS + 1):
        columns = _roles(sheet, row, synonyms)
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
    skip = {fold(catalog.sheet_names["metadata"]), fold(catalog.sheet_names["instructions"]), FEEDBACK_SHEET}
    for sheet in workbook.sheets:
        for code, cell, message in sheet.notices:
            out.problems.append(ctx.problem(code, message, sheet.name, cell))
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

    def text(row: int, role: str) -> str:
        col = cols.get(role)
        return cell_text(sheet.get(row, col)).strip() if col else ""

    merged_below: dict[str, list[str]] = {}  # a value cell merged over rows below it: origin -> their names
    for row in sheet.rows():  # only rows holding cells: a stray cell at XFD1048576 costs one row
        if row <= header_row:
            continue
        if _maybe_header(sheet, row):
            roles = _roles(sheet, row, synonyms)
            if _complete(roles):  # a second table below the first, with its own header and columns
                header_row, cols = _continuation(sheet, row, roles, synonyms)
                continue
        value_cell = sheet.get(row, cols["value"])
        code, name = text(row, "code"), text(row, "name")
        has_value = value_cell is not None and not value_cell.empty
        if not has_value or _spills_from_left(value_cell, cols["value"]):
            # layout (blank row, title or note across the row), or a blank indicator (missing-indicator at
            # its cell, with the 备注 when there is one)
            indicator = _match(code, name, catalog)[0] if not has_value and (code or name) else None
            if indicator is not None:
                out.blanks.append(Blank(indicator, sheet.name, a1(row, cols["value"]), text(row, "note")))
            continue
        if value_cell.origin and row_of(value_cell.origin) < row:  # one value merged over several rows
            matched = _match(code, name, catalog)[0]
            merged_below.setdefault(value_cell.origin, []).append(
                matched.name_zh if matched else name or code
            )
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
        problem, candidate = read_value(value_cell, indicator, text(row, "unit") or name_unit, catalog)
        if problem is not None:
            code_, message = problem
            note = text(row, "note") if code_ == "marked-not-reported" else ""
            message += f"；备注：“{clip(note)}”" if note else ""
            out.problems.append(ctx.problem(code_, message, sheet.name, where, indicator.indicator_id, note))
            if candidate is None:
                continue
        assert candidate is not None
        out.problems.extend(
            ctx.problem(code_, message, sheet.name, where, indicator.indicator_id)
            for code_, message in value_warnings(sheet, row, cols["value"], value_cell)
        )
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
    for origin, others in merged_below.items():
        out.problems.append(
            ctx.problem("merged-value", merged_message(sheet, origin, others), sheet.name, origin)
        )


def _maybe_header(sheet: Sheet, row: int) -> bool:
    """Cheap test before :func:`_roles`: a header row holds text and no number."""
    texts = 0
    for _col, cell in sheet.row_cells(row):
        if cell.value is None:
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
