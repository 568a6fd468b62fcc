"""The cells of a submitted workbook as Excel shows them: :class:`Cell`, :class:`Sheet`, :class:`Workbook`
and A1 references. Filled by the readers (:mod:`analysis.ingest.workbook`, :mod:`analysis.ingest.readers`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core.text import REPLACEMENT, unholdable, xml_safe


@dataclass(slots=True)
class Cell:
    value: object = None  # str, int, float, bool, datetime/date/time, or None
    number_format: str | None = None
    formula: bool = False  # the cell holds a formula
    formula_text: str = ""  # the formula (.xlsx only), e.g. "[1]Sheet1!A1" or "RANDBETWEEN(1,9)"
    error: str | None = None  # Excel error literal such as "#DIV/0!"
    origin: str | None = None  # for a cell filled from a merged range: the range's top-left cell (A1)

    @property
    def empty(self) -> bool:
        return self.error is None and not self.formula and (self.value is None or self.value == "")


def _column(item: tuple[int, Cell]) -> int:
    return item[0]


@dataclass
class Sheet:
    name: str
    hidden: bool = False
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (row, col), both 1-based
    merged: list[str] = field(default_factory=list)  # merged ranges as "A1:C1"
    hidden_rows: set[int] = field(default_factory=set)  # 1-based rows hidden in Excel (not shown, still read)
    hidden_cols: set[int] = field(default_factory=set)  # 1-based columns hidden in Excel
    notices: list[tuple[str, str, str]] = field(default_factory=list)  # (problem code, cell, Chinese message)
    _by_row: tuple[int, dict[int, list[tuple[int, Cell]]]] | None = field(
        default=None, repr=False, compare=False
    )

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def rows(self) -> list[int]:
        return list(self._row_index())

    def row_cells(self, row: int) -> list[tuple[int, Cell]]:
        """The cells present in ``row``, left to right: work proportional to the cells, not the width."""
        return self._row_index().get(row, [])

    def _row_index(self) -> dict[int, list[tuple[int, Cell]]]:
        if self._by_row is None or self._by_row[0] != len(self.cells):  # rebuilt when cells were added
            grouped: dict[int, list[tuple[int, Cell]]] = {}
            for (r, c), cell in self.cells.items():  # readers add cells row by row: little left to sort
                grouped.setdefault(r, []).append((c, cell))
            index = {r: sorted(grouped[r], key=_column) for r in sorted(grouped)}
            self._by_row = (len(self.cells), index)
        return self._by_row[1]

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


@dataclass
class Workbook:
    path: Path
    format: str
    sheets: list[Sheet]
    digest: str = ""  # SHA-256 of the bytes the sheets were read from


def column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


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


def checked_text(text: str, sheet: Sheet, row: int, col: int, escaped: bool = False) -> str:
    """``text`` through the writers' rule (:func:`~analysis.core.text.xml_safe`): when it changes anything,
    one ``invalid-character`` notice names the cell and the code points (``escaped``: they came from Excel's
    ``_xHHHH_`` escapes, named as such), so nothing is silently fixed."""
    codes = unholdable(text)
    if not codes:
        return text
    shown = "、".join(f"{c}（Excel 转义写法 _x{c[2:]}_）" if escaped else c for c in codes[:5])
    more = f" 等 {len(codes)} 种" if len(codes) > 5 else ""
    sheet.notices.append(
        (
            "invalid-character",
            a1(row, col),
            f"单元格文字含有任何文件都无法保存或会改变文字显示方向的字符 {shown}{more}，已替换为“{REPLACEMENT}”；"
            "请删除这些字符，重新输入该单元格的文字后再报送",
        )
    )
    return xml_safe(text)


def check_sheet_text(sheet: Sheet) -> None:
    """:func:`checked_text` for every text cell of ``sheet`` (one search over all its text when clean)."""
    texts = [(key, cell) for key, cell in sheet.cells.items() if isinstance(cell.value, str)]
    if not texts or not unholdable("\n".join(cell.value for _, cell in texts)):  # type: ignore[misc]
        return
    for (row, col), cell in texts:
        cell.value = checked_text(cell.value, sheet, row, col)  # type: ignore[arg-type]
