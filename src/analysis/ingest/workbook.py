"""Read a submitted workbook (.xlsx/.xlsm, .xls, .ods) into sheets of cells, as Excel shows them.

Each cell keeps what later checks need and fast value-only readers lose: the number format (a cell shown as
``80%`` holds 0.8), whether it holds a formula (and whether Excel ever calculated it), and Excel error
values (``#DIV/0!``). Merged ranges are filled from their top-left cell, as Excel displays them, with the
origin kept for tracing.

- .xlsx/.xlsm: openpyxl's streaming sheet parser, one pass, cached values + formula flag + style;
- .xls: xlrd (cell types, error codes and number formats);
- .ods: python-calamine (values only; documented limitation: no formats or error values).

Every file passes :func:`analysis.safety.preflight` first (format by content, zip bombs, DTDs, encryption).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from analysis.ingest.safety import FileRejected, Limits, preflight


@dataclass(slots=True)
class Cell:
    value: object = None  # str, int, float, bool, datetime/date/time, or None
    number_format: str | None = None
    formula: bool = False  # the cell holds a formula
    error: str | None = None  # Excel error literal such as "#DIV/0!"
    origin: str | None = None  # for a cell filled from a merged range: the range's top-left cell (A1)

    @property
    def empty(self) -> bool:
        return self.error is None and not self.formula and (self.value is None or self.value == "")


@dataclass
class Sheet:
    name: str
    hidden: bool = False
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (row, col), both 1-based
    merged: list[str] = field(default_factory=list)  # merged ranges as "A1:C1"
    hidden_rows: set[int] = field(default_factory=set)  # 1-based rows hidden in Excel (not shown, still read)

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def rows(self) -> list[int]:
        return sorted({r for r, _ in self.cells})

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


@dataclass
class Workbook:
    path: Path
    format: str
    sheets: list[Sheet]


class WorkbookError(Exception):
    """The file cannot be read as a workbook; ``code`` is a problem code, ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


def read_workbook(path: Path, limits: Limits | None = None) -> Workbook:
    """Read every sheet of ``path``; raise :class:`WorkbookError` if the file as a whole cannot be read."""
    try:
        fmt = preflight(path, limits)
    except FileRejected as exc:
        raise WorkbookError(exc.code, exc.message) from exc
    reader = {"xlsx": _read_xlsx, "xls": _read_xls, "ods": _read_ods}[fmt]
    try:
        sheets = reader(path)
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError, IndexError) as exc:
        raise WorkbookError(
            "unreadable-file",
            f"文件已损坏，无法读取（{type(exc).__name__}）；请在 Excel 中打开并另存为 .xlsx 后重新报送",
        ) from exc
    except Exception as exc:  # third-party readers raise their own types for damaged files
        raise WorkbookError(
            "unreadable-file",
            f"文件无法读取（{type(exc).__name__}: {str(exc)[:80]}）；请在 Excel 中另存为 .xlsx 后重新报送",
        ) from exc
    for sheet in sheets:
        _fill_merged(sheet)
    return Workbook(path=path, format=fmt, sheets=sheets)


# --- .xlsx / .xlsm -------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> list[Sheet]:
    import warnings
    from xml.etree import ElementTree

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils.escape import unescape
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.worksheet.merge import MergeCells
    from openpyxl.xml.constants import SHEET_MAIN_NS

    formula_tag = f"{{{SHEET_MAIN_NS}}}f"

    row_tag, merge_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}mergeCells"

    class _Parser(WorkSheetParser):
        """openpyxl's streaming parser, keeping the cached value AND whether the cell has a formula.

        The sheet XML is read with the standard library's C parser rather than defusedxml's pure-Python one
        (3-4× faster on a 100,000-row sheet). That is safe here: preflight has refused every package with a
        DTD or entity declaration in any part, and ElementTree never fetches external entities. Everything
        else openpyxl reads (workbook, styles, shared strings) still goes through defusedxml.
        """

        def parse(self):
            for _, element in ElementTree.iterparse(self.source):
                if element.tag == row_tag:
                    row = self.parse_row(element)
                    element.clear()
                    yield row
                elif element.tag == merge_tag:
                    self.merged_cells = MergeCells.from_tree(element)
                    element.clear()

        def parse_cell(self, element):  # noqa: D401 - openpyxl hook
            cell = super().parse_cell(element)
            cell["formula"] = element.find(formula_tag) is not None
            return cell

    class _Reader(ExcelReader):
        """openpyxl's package reader without its read-only worksheets, which scan each whole sheet once more
        (with the slow parser) just to learn its dimensions; we only need each sheet's name, part and state."""

        def read_worksheets(self):
            self.sheet_parts = [
                (sheet.name, rel.target, sheet.state)
                for sheet, rel in self.parser.find_sheets()
                if rel.target in self.valid_files and "chartsheet" not in rel.Type
            ]

    reader = _Reader(path, read_only=True, data_only=True, keep_links=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions, not our concern
        reader.read()
    wb = reader.wb
    try:
        styles = wb._cell_styles
        custom_formats = wb._number_formats

        def number_format(style_id: int) -> str | None:
            if not style_id or style_id >= len(styles):
                return None
            fmt_id = styles[style_id].numFmtId
            if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
                return BUILTIN_FORMATS.get(fmt_id)
            index = fmt_id - BUILTIN_FORMATS_MAX_SIZE
            return custom_formats[index] if index < len(custom_formats) else None

        sheets = []
        for name, part, state in reader.sheet_parts:
            sheet = Sheet(name=name, hidden=(state or "visible") != "visible")
            with reader.archive.open(part) as src:
                parser = _Parser(
                    src,
                    reader.shared_strings,
                    data_only=True,
                    epoch=wb.epoch,
                    date_formats=wb._date_formats,
                    timedelta_formats=wb._timedelta_formats,
                )
                for _row_index, row in parser.parse():
                    for c in row:
                        value, dtype = c["value"], c["data_type"]
                        if value is None and not c["formula"]:
                            continue
                        if isinstance(value, str) and "_x" in value:
                            value = unescape(value)  # Excel's _xHHHH_ escapes of control characters
                        cell = Cell(
                            value=value, number_format=number_format(c["style_id"]), formula=c["formula"]
                        )
                        if dtype == "e":
                            cell.value, cell.error = None, str(value)
                        sheet.cells[(c["row"], c["column"])] = cell
                sheet.hidden_rows = {
                    int(r)
                    for r, attrs in parser.row_dimensions.items()
                    if str(attrs.get("hidden", "")).lower() in ("1", "true")
                }
                merged = parser.merged_cells
                sheet.merged = [str(m.ref) for m in merged.mergeCell] if merged is not None else []
            sheets.append(sheet)
        return sheets
    finally:
        reader.archive.close()


# --- .xls ----------------------------------------------------------------------------------------


def _read_xls(path: Path) -> list[Sheet]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    try:
        sheets = []
        for index in range(book.nsheets):
            xs = book.sheet_by_index(index)
            sheet = Sheet(name=xs.name, hidden=xs.visibility != 0)
            for r in range(xs.nrows):
                for c in range(xs.ncols):
                    ctype = xs.cell_type(r, c)
                    if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        continue
                    raw = xs.cell_value(r, c)
                    xf = book.xf_list[xs.cell_xf_index(r, c)]
                    fmt = book.format_map.get(xf.format_key)
                    cell = Cell(number_format=fmt.format_str if fmt else None)
                    if ctype == xlrd.XL_CELL_ERROR:
                        cell.error = xlrd.error_text_from_code.get(raw, "#N/A")
                    elif ctype == xlrd.XL_CELL_DATE:
                        cell.value = xlrd.xldate_as_datetime(raw, book.datemode)
                    elif ctype == xlrd.XL_CELL_BOOLEAN:
                        cell.value = bool(raw)
                    elif ctype == xlrd.XL_CELL_TEXT and raw == "":
                        # Only a FORMULA record yields an empty text cell: its result is an empty string,
                        # or it was never calculated (xlwt and other writers store exactly that).
                        cell.value, cell.formula = "", True
                    else:
                        cell.value = raw
                    sheet.cells[(r + 1, c + 1)] = cell
            sheet.hidden_rows = {r + 1 for r, info in xs.rowinfo_map.items() if info.hidden}
            sheet.merged = [
                f"{a1(rlo + 1, clo + 1)}:{a1(rhi, chi)}"
                for rlo, rhi, clo, chi in xs.merged_cells
                if rhi > rlo and chi > clo
            ]
            sheets.append(sheet)
            book.unload_sheet(index)
        return sheets
    finally:
        book.release_resources()


# --- .ods ----------------------------------------------------------------------------------------


def _read_ods(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for meta in wb.sheets_metadata:
            cs = wb.get_sheet_by_name(meta.name)
            sheet = Sheet(name=meta.name, hidden=str(meta.visible).lower().endswith("hidden"))
            start_row, start_col = cs.start or (0, 0)
            for r, row in enumerate(cs.to_python(skip_empty_area=False)):
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    sheet.cells[(r + 1, c + 1)] = Cell(value=value)
            ranges = getattr(cs, "merged_cell_ranges", None) or []
            sheet.merged = [f"{a1(s[0] + 1, s[1] + 1)}:{a1(e[0] + 1, e[1] + 1)}" for s, e in ranges]
            sheets.append(sheet)
        return sheets
    finally:
        wb.close()


# --- merged ranges ---------------------------------------------------------------------------------


def _parse_ref(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits), col


def _fill_merged(sheet: Sheet) -> None:
    """Give every cell of a merged range its top-left cell's content, as Excel shows it."""
    for ref in sheet.merged:
        if ":" not in ref:
            continue
        first, last = ref.split(":", 1)
        (r1, c1), (r2, c2) = _parse_ref(first), _parse_ref(last)
        top = sheet.cells.get((r1, c1))
        if top is None or (r2 - r1 + 1) * (c2 - c1 + 1) > 10_000:  # a huge merge is decoration, not data
            continue
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    sheet.cells[(r, c)] = Cell(
                        value=top.value, number_format=top.number_format, error=top.error, origin=a1(r1, c1)
                    )


def cell_text(cell: Cell | None) -> str:
    """A cell's content as display text for labels (names, codes, headers)."""
    if cell is None or cell.value is None:
        return ""
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
