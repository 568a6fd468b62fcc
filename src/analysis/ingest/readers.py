""".xls (xlrd: cell types, error codes, number formats, hidden rows and columns) and .ods (python-calamine:
values only, a documented limitation: no formats or error values) readers, both from the checked bytes."""

from __future__ import annotations

import io
import zipfile

from analysis.ingest.cells import Cell, Sheet, a1
from analysis.ingest.limits import Limits
from analysis.ingest.rejection import FileRejected


def read_xls(data: bytes) -> list[Sheet]:
    import xlrd

    # ragged_rows: each row as long as its last cell (not padded to the widest row: one stray cell at
    # IV65536 would otherwise make 16 million cells).
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, ragged_rows=True)
    try:
        sheets = []
        for index in range(book.nsheets):
            xs = book.sheet_by_index(index)
            sheet = Sheet(name=xs.name, hidden=xs.visibility != 0)
            for r in range(xs.nrows):
                for c in range(xs.row_len(r)):
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
            sheet.hidden_cols = {c + 1 for c, info in xs.colinfo_map.items() if info.hidden}
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


def read_ods(data: bytes, limits: Limits) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    _check_ods_extent(data, limits)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
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


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _check_ods_extent(data: bytes, limits: Limits) -> None:
    """Refuse an .ods whose repeated rows and columns (``number-rows-repeated``: a 1 KB file can declare
    millions of cells) would make the reader build more than ``limits.max_cells`` cells.

    Counts, without expanding anything, the area from A1 to the last non-empty cell of every sheet (what
    the reader materialises). Blank repeated rows and columns, as LibreOffice writes after the data, cost
    nothing. The XML passed preflight (no DTD or entities) and ElementTree fetches nothing.
    """
    from xml.etree import ElementTree

    area = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as content:
        row = col = last_row = last_col = 0
        rows_repeat = 1
        for event, element in ElementTree.iterparse(content, events=("start", "end")):
            tag = element.tag
            if tag == _ODS_TABLE + "table" and event == "start":
                row = last_row = last_col = 0
            elif tag == _ODS_TABLE + "table-row":
                if event == "start":
                    rows_repeat, col = int(element.get(_ODS_TABLE + "number-rows-repeated", "1")), 0
                else:
                    row += rows_repeat
                    element.clear()
            elif tag in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell") and event == "end":
                repeat = int(element.get(_ODS_TABLE + "number-columns-repeated", "1"))
                if len(element) or any("value" in key for key in element.attrib):
                    last_row, last_col = max(last_row, row + rows_repeat), max(last_col, col + repeat)
                col += repeat
                element.clear()
            elif tag == _ODS_TABLE + "table" and event == "end":
                area += last_row * last_col
                element.clear()
            if area > limits.max_cells:
                raise FileRejected(
                    "unsafe-file",
                    f"表格用“重复行/列”声明了超过 {limits.max_cells:,} 个单元格（文件很小，展开后极大），"
                    f"疑似恶意构造的文件，已拒绝读取。请删除空白区域的格式和无关内容，另存为 .xlsx 后重新报送。"
                    "（上限可由管理员通过 FAZHI_MAX_CELLS 环境变量调整。）",
                )
