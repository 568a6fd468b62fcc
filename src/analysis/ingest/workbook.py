"""Read a submitted workbook (.xlsx/.xlsm, .xls, .ods) into sheets of cells, as Excel shows them.

Each cell keeps what later checks need and fast value-only readers lose: the number format (a cell shown as
``80%`` holds 0.8), whether it holds a formula (and whether Excel ever calculated it), and Excel error
values (``#DIV/0!``). Merged ranges are filled from their top-left cell, as Excel displays them, with the
origin kept for tracing.

- .xlsx/.xlsm: openpyxl's streaming sheet parser, one pass, cached values + formula flag + style;
- .xls: xlrd (cell types, error codes and number formats);
- .ods: python-calamine (values only; documented limitation: no formats or error values).

Every file is read once (:func:`analysis.ingest.safety.load_checked`: format by content, zip bombs, DTDs,
encryption) and the readers parse those same bytes, never the path again. What a reader meets that the
department should know (text with invalid characters, merges beyond the budget) is kept as sheet notices.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from analysis.core.text import scrub_surrogates
from analysis.ingest.cells import Cell, Sheet, Workbook, a1
from analysis.ingest.limits import Limits
from analysis.ingest.readers import read_ods, read_xls
from analysis.ingest.rejection import FileRejected
from analysis.ingest.safety import load_checked

# Cells a sheet's merged ranges may fill in all (a merge copies its top-left cell over the range, as Excel
# shows it); a budget, so thousands of large merges cannot cost hours. Beyond it a notice names the range.
MERGE_FILL_BUDGET = 200_000


class WorkbookError(Exception):
    """The file cannot be read as a workbook; ``code`` is a problem code, ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def read_workbook(path: Path, limits: Limits | None = None) -> Workbook:
    """Read every sheet of ``path``; raise :class:`WorkbookError` if the file as a whole cannot be read."""
    limits = limits or Limits.from_env()
    try:
        fmt, data = load_checked(path, limits)
    except FileRejected as exc:
        raise WorkbookError(exc.code, exc.message) from exc
    try:
        readers = {"xlsx": _read_xlsx, "xls": read_xls, "ods": lambda raw: read_ods(raw, limits)}
        sheets = readers[fmt](data)
    except FileRejected as exc:
        raise WorkbookError(exc.code, exc.message) from exc
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


def _read_xlsx(data: bytes) -> list[Sheet]:
    import warnings
    from xml.etree import ElementTree

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils.escape import unescape
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    formula_tag = f"{{{SHEET_MAIN_NS}}}f"

    row_tag, merge_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}mergeCells"
    cols_tag = f"{{{SHEET_MAIN_NS}}}cols"

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
                    # the refs only: openpyxl's MergeCells builds an object per range (100 µs each)
                    self.merged_refs = [str(m.get("ref", "")) for m in element]
                    element.clear()
                elif element.tag == cols_tag:
                    self.hidden_cols = _hidden_columns(element)
                    element.clear()

        def parse_cell(self, element):  # noqa: D401 - openpyxl hook
            cell = super().parse_cell(element)
            formula = element.find(formula_tag)
            cell["formula"] = formula is not None
            cell["formula_text"] = self.formula_text(formula) if formula is not None else ""
            return cell

        def formula_text(self, formula) -> str:
            """The formula's text; a shared formula's followers carry only the index of its leader's text."""
            text, index = formula.text or "", formula.get("si")
            if formula.get("t") == "shared" and index is not None:
                shared = self.__dict__.setdefault("shared", {})
                text = shared.setdefault(index, text) if text else shared.get(index, "")
            return text

    class _Reader(ExcelReader):
        """openpyxl's package reader without its read-only worksheets, which scan each whole sheet once more
        (with the slow parser) just to learn its dimensions; we only need each sheet's name, part and state."""

        def read_worksheets(self):
            self.sheet_parts = [
                (sheet.name, rel.target, sheet.state)
                for sheet, rel in self.parser.find_sheets()
                if rel.target in self.valid_files and "chartsheet" not in rel.Type
            ]

    reader = _Reader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
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
                            value = _checked_text(value, sheet, c["row"], c["column"])
                        cell = Cell(
                            value=value,
                            number_format=number_format(c["style_id"]),
                            formula=c["formula"],
                            formula_text=c["formula_text"],
                        )
                        if dtype == "e":
                            cell.value, cell.error = None, str(value)
                        sheet.cells[(c["row"], c["column"])] = cell
                sheet.hidden_rows = {
                    int(r)
                    for r, attrs in parser.row_dimensions.items()
                    if str(attrs.get("hidden", "")).lower() in ("1", "true")
                }
                sheet.hidden_cols = getattr(parser, "hidden_cols", set())
                sheet.merged = getattr(parser, "merged_refs", [])
            sheets.append(sheet)
        return sheets
    finally:
        reader.archive.close()


def _hidden_columns(cols) -> set[int]:
    """1-based columns hidden by the ``<cols>`` element of a worksheet (ranges ``min``..``max``)."""
    hidden: set[int] = set()
    for col in cols:
        if str(col.get("hidden", "")).lower() in ("1", "true"):
            low, high = int(col.get("min", "0")), int(col.get("max", "0"))
            hidden.update(range(max(low, 1), min(high, 16_384) + 1))
    return hidden


def _checked_text(text: str, sheet: Sheet, row: int, col: int) -> str:
    """Text whose Excel escapes decoded to lone surrogates (``_xD800_``), which no file format can store:
    each becomes U+FFFD and a notice names the cell (nothing is silently fixed)."""
    clean = scrub_surrogates(text)
    if clean != text:
        sheet.notices.append(
            (
                "invalid-character",
                a1(row, col),
                "单元格文字中有无效字符（Excel 转义写法 _xD800_ 一类的孤立代理码位，任何文件都无法保存），"
                "已替换为“\ufffd”；请检查并重新输入该单元格的文字",
            )
        )
    return clean


# --- merged ranges ---------------------------------------------------------------------------------


_REF = re.compile(r"^[A-Za-z]{1,3}[0-9]{1,7}:[A-Za-z]{1,3}[0-9]{1,7}$")


def _parse_ref(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits), col


def _fill_merged(sheet: Sheet) -> None:
    """Give every cell of a merged range its top-left cell's content, as Excel shows it.

    Within a budget of :data:`MERGE_FILL_BUDGET` filled cells per sheet (repeated ranges count once);
    a range beyond it is left unfilled and named in a notice.
    """
    budget = MERGE_FILL_BUDGET
    for ref in dict.fromkeys(sheet.merged):
        if ":" not in ref or not _REF.match(ref):
            continue
        first, last = ref.split(":", 1)
        (r1, c1), (r2, c2) = _parse_ref(first), _parse_ref(last)
        top = sheet.cells.get((r1, c1))
        size = (r2 - r1 + 1) * (c2 - c1 + 1)
        if top is None or size > 10_000:  # a huge merge is decoration, not data
            continue
        budget -= size
        if budget < 0:
            sheet.notices.append(
                (
                    "merge-limit",
                    first,
                    f"工作表的合并单元格过多（展开超过 {MERGE_FILL_BUDGET:,} 个单元格），从合并区域 {ref} 起"
                    "不再按合并显示填充；请取消不必要的合并单元格后重新保存",
                )
            )
            return
        origin = a1(r1, c1)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    sheet.cells[(r, c)] = Cell(
                        value=top.value, number_format=top.number_format, error=top.error, origin=origin
                    )
