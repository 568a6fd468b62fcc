"""Read a submitted workbook (.xlsx/.xlsm, .xls, .ods) into sheets of cells, as Excel shows them.

Each cell keeps what later checks need and fast value-only readers lose: the number format (a cell shown as
``80%`` holds 0.8), whether it holds a formula (and whether Excel ever calculated it), and Excel error
values (``#DIV/0!``). Merged ranges are filled from their top-left cell, as Excel displays them, with the
origin kept for tracing.

- .xlsx/.xlsm: :mod:`analysis.ingest.xlsx`, straight from the package XML (cached values, formula flag and
  text, style, errors, hidden rows/columns, merges; no private API of any library);
- .xls: xlrd (cell types, error codes and number formats);
- .ods: python-calamine (values only; documented limitation: no formats or error values).

Every file is read once (:func:`analysis.ingest.safety.load_checked`: format by content, zip bombs, DTDs,
encryption) and the readers parse those same bytes, never the path again. What a reader meets that the
department should know (text with invalid characters, merges beyond the budget) is kept as sheet notices.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

from analysis.ingest.cells import Cell, Sheet, Workbook, a1, check_sheet_text
from analysis.ingest.limits import Limits
from analysis.ingest.readers import read_ods, read_xls
from analysis.ingest.rejection import FileRejected
from analysis.ingest.safety import load_checked
from analysis.ingest.xlsx import read_xlsx

# Cells a sheet's merged ranges may fill in all (a merge copies its top-left cell over the range, as Excel
# shows it); a budget, so thousands of large merges cannot cost hours. Beyond it a notice names the range.
MERGE_FILL_BUDGET = 200_000


class WorkbookError(Exception):
    """The file cannot be read as a workbook; ``code`` is a problem code, ``message`` Chinese; ``digest``
    the SHA-256 of the bytes that were refused (empty when the file could not be read at all)."""

    def __init__(self, code: str, message: str, digest: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.digest = digest


def read_workbook(path: Path, limits: Limits | None = None) -> Workbook:
    """Read every sheet of ``path``; raise :class:`WorkbookError` if the file as a whole cannot be read."""
    limits = limits or Limits.from_env()
    try:
        fmt, data = load_checked(path, limits)
    except FileRejected as exc:
        raise WorkbookError(exc.code, exc.message, exc.digest) from exc
    digest = hashlib.sha256(data).hexdigest()
    try:
        sheets = _sheets(fmt, data, limits)
    except WorkbookError as exc:
        exc.digest = digest
        raise
    for sheet in sheets:
        check_sheet_text(sheet)  # before merges copy a cell's text
        _fill_merged(sheet)
    return Workbook(path=path, format=fmt, sheets=sheets, digest=digest)


def _sheets(fmt: str, data: bytes, limits: Limits) -> list[Sheet]:
    try:
        readers = {"xlsx": read_xlsx, "xls": read_xls, "ods": lambda raw: read_ods(raw, limits)}
        return readers[fmt](data)
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
