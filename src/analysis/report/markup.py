"""The marked-up copy of a department's own workbook (退回修改): its file as sent, every problem cell filled
(errors red, warnings amber, notices pale blue) with an Excel comment saying what is wrong and how to fix
it, and a first sheet ``修改说明`` listing every problem of the file in order, cell-less ones included.

Nothing else of the workbook changes: it is opened and saved with openpyxl's public API, which keeps values,
formulas, number formats, fonts, borders, merged cells, column widths, hidden sheets, rows and columns and
data validation (what openpyxl cannot keep: charts and pictures, macros of an .xlsm, and the cached results
of formulas; the copy asks Excel to recalculate on opening, so a workbook saved again in Excel or WPS has
them). An .xls or .ods file is copied as .xlsx with its cell contents and merges only, and says so. The
raw file is never written: the copy is built in memory and written where the caller says.

Lives in ``report`` (it needs only ``core``, the issue rows and the raw file): the batch builds these copies
as a finishing step of a report, and the ``check --mark`` command calls the same function. Text from a
submission stays inert: comments are plain text, and every text written to ``修改说明`` is a string cell
neutralised against formula injection (:func:`analysis.report.summary.safe_text`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis.core.names import FEEDBACK_SHEET
from analysis.core.problems import ERROR, INFO, SEVERITY_ZH, WARNING, severity_rank
from analysis.core.text import clip
from analysis.report.summary import safe_text

FILL_COLOURS = {ERROR: "FF8080", WARNING: "FFC000", INFO: "DDEBF7"}  # red, amber, pale blue
SUMMARY_LAYOUT = [  # (header, width) of the 修改说明 sheet
    ("序号", 6),
    ("级别", 6),
    ("工作表", 14),
    ("单元格", 8),
    ("报送内容", 18),
    ("问题", 60),
    ("改正方法", 50),
    ("涉及单位", 16),
]
COMMENT_AUTHOR = "法治政府建设数据核对"
MAX_SHEET_BYTES = 5_000_000  # worksheet XML of an ordinary workbook: tens of kilobytes
MAX_MERGES = 5_000
_FIX = re.compile(r"[；。，,;]\s*(?=请)")
_A1 = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")


def split_message(message: str) -> tuple[str, str]:
    """(what is wrong, how to fix it) of a problem message: the fix is the part from the first ``请…``."""
    match = _FIX.search(message)
    if match is None:
        return message, "请核实后改正" if message else ""
    return message[: match.start()], message[match.end() :]


def _order(problem: dict, sheets: list[str]) -> tuple:
    sheet, cell = problem.get("sheet") or "", problem.get("cell") or ""
    match = _A1.match(cell)
    row, col = (int(match.group(2)), len(match.group(1)) * 100 + ord(match.group(1)[-1])) if match else (0, 0)
    index = sheets.index(sheet) + 1 if sheet in sheets else (0 if not sheet else len(sheets) + 1)
    return (index, row, col, severity_rank(problem.get("severity", "")))


def too_large(data: bytes, fmt: str) -> str:
    """Why ``data`` is too large to mark up cell by cell (openpyxl holds every cell, and every cell of a
    merged range, in memory), or "" when it is not: beyond :data:`MAX_SHEET_BYTES` of worksheet XML or
    :data:`MAX_MERGES` merged ranges (a hostile file can declare thousands on a few kilobytes)."""
    if fmt != "xlsx":
        return "" if len(data) <= MAX_SHEET_BYTES else "文件过大"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = [i for i in package.infolist() if i.filename.startswith("xl/worksheets/")]
            if sum(i.file_size for i in parts) > MAX_SHEET_BYTES:
                return "工作表过大"
            if sum(package.read(i).count(b"<mergeCell ") for i in parts) > MAX_MERGES:
                return "合并单元格过多"
    except (zipfile.BadZipFile, OSError, KeyError):
        return "文件无法打开"
    return ""


def _load(source: Path | None, fmt: str):
    """The workbook to mark: the file itself for .xlsx/.xlsm, a copy of its cells for .xls/.ods, an empty
    workbook when there is no file to copy."""
    from openpyxl import Workbook, load_workbook

    if source is None:
        wb = Workbook()
        wb.remove(wb.active)
        return wb
    if fmt == "xlsx":
        wb = load_workbook(io.BytesIO(source.read_bytes()))
        wb.calculation.fullCalcOnLoad = True  # openpyxl drops formulas' cached results: Excel recomputes them
        return wb
    return _converted(source.read_bytes(), fmt)


def _converted(data: bytes, fmt: str):
    """An .xlsx workbook holding the cell contents (and, for .xls, the merges and hidden sheets)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    if fmt == "xls":
        import xlrd

        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
        for sheet in book.sheets():
            ws = wb.create_sheet(sheet.name[:31])
            ws.sheet_state = "hidden" if sheet.visibility else "visible"
            for r in range(sheet.nrows):
                for c in range(sheet.ncols):
                    cell = sheet.cell(r, c)
                    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        continue
                    value = cell.value
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        value = xlrd.xldate_as_datetime(value, book.datemode)
                    elif cell.ctype == xlrd.XL_CELL_ERROR:
                        value = xlrd.error_text_from_code.get(value, "#N/A")
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        value = bool(value)
                    _put(ws.cell(row=r + 1, column=c + 1), value)
            for r1, r2, c1, c2 in sheet.merged_cells:
                ws.merge_cells(start_row=r1 + 1, end_row=r2, start_column=c1 + 1, end_column=c2)
        return wb
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        ws = wb.create_sheet(name[:31])
        for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False), start=1):
            for c, value in enumerate(row, start=1):
                if value not in (None, ""):
                    _put(ws.cell(row=r, column=c), value)
    return wb


def _plain(text: str) -> str:
    """Text as an .xlsx part can hold it (characters XML forbids shown as ``\\xNN``), otherwise as written."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _put(cell, value) -> None:
    """A copied value; text stays text (a string cell, never a formula), as it was in the department's file."""
    if isinstance(value, str):
        cell.value = _plain(value)
        cell.data_type = "s"
    else:
        cell.value = value


def _target(ws, ref: str):
    """The cell to mark for ``ref``: the top-left cell of the merged range holding it."""
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            return ws.cell(row=merged.min_row, column=merged.min_col)
    return ws[ref]


def _sent(cell) -> str:
    """What the cell holds, for 修改说明: submitted text neutralised (``'=…``), numbers as they are."""
    value = cell.value
    if value is None:
        return "（空白）"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clip(str(value), 80)
    return safe_text(text) if isinstance(value, str) else text


def mark_up(
    source: Path | None,
    fmt: str,
    problems: Iterable[dict],
    note: str = "",
) -> bytes:
    """The marked-up copy (.xlsx bytes) of ``source`` (format ``xlsx``/``xls``/``ods``; ``None``: no file
    to copy, 修改说明 only) for ``problems`` (issue rows: severity, code, sheet, cell, message, department).
    ``note``: a first line on 修改说明 (a raw file gone or changed, a converted format)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = _load(source, fmt)
    sheets = [ws.title for ws in wb.worksheets]
    problems = sorted(problems, key=lambda p: _order(p, sheets))
    by_cell: dict[tuple[str, str], list[dict]] = {}
    for p in problems:
        if p.get("sheet") in sheets and _A1.match(p.get("cell") or ""):
            by_cell.setdefault((p["sheet"], p["cell"]), []).append(p)
    sent: dict[tuple[str, str], str] = {}
    for (sheet, ref), items in by_cell.items():
        cell = _target(wb[sheet], ref)
        sent[(sheet, ref)] = _sent(cell)
        worst = min((p["severity"] for p in items), key=severity_rank)
        cell.fill = PatternFill("solid", fgColor=FILL_COLOURS.get(worst, FILL_COLOURS[INFO]))
        lines = []
        for p in items:
            what, fix = split_message(p["message"])
            lines.append(f"【{SEVERITY_ZH.get(p['severity'], '')}】{what}\n改正：{fix}")
        if cell.comment is not None:  # the department's own comment stays, below ours
            lines.append(f"（原批注）{cell.comment.text}")
        comment = Comment(_plain("\n\n".join(lines)), COMMENT_AUTHOR)
        comment.width, comment.height = 360, 60 + 60 * len(lines)
        cell.comment = comment
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    wb.active = 0
    for view in (w.sheet_view for w in wb.worksheets[1:]):
        view.tabSelected = False
    row = 1
    if note:
        ws.cell(row=1, column=1, value=safe_text(note)).font = Font(bold=True, color="C00000")
        ws.cell(row=1, column=1).data_type = "s"
        row = 2
    for col, (header, width) in enumerate(SUMMARY_LAYOUT, start=1):
        ws.cell(row=row, column=col, value=header).font = Font(bold=True)
        ws.column_dimensions[chr(64 + col)].width = width
    for n, p in enumerate(problems, start=1):
        what, fix = split_message(p["message"])
        has_cell = p.get("sheet") in sheets and _A1.match(p.get("cell") or "")
        values = [
            n,
            SEVERITY_ZH.get(p["severity"], p["severity"]),
            p.get("sheet") or "（整个文件）",
            p.get("cell") or "—",
            sent.get((p.get("sheet"), p.get("cell")), "") if has_cell else "",
            what,
            fix,
            p.get("concerned") or p.get("department") or "",
        ]
        for col, value in enumerate(values, start=1):
            text = value if col in (1, 5) else safe_text(value)  # 5: _sent made it safe
            cell = ws.cell(row=row + n, column=col, value=text)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if col > 1:
                cell.data_type = "s"
        ws.cell(row=row + n, column=2).fill = PatternFill(
            "solid", fgColor=FILL_COLOURS.get(p["severity"], FILL_COLOURS[INFO])
        )
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook_format(data: bytes) -> str:
    """The format of a workbook the preflight accepted: ``ods`` (a zip with the OpenDocument mimetype),
    ``xlsx`` (another zip), else ``xls`` (an OLE2 file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            if "mimetype" in package.namelist() and b"opendocument" in package.read("mimetype"):
                return "ods"
            return "xlsx"
    except (zipfile.BadZipFile, KeyError, OSError):
        return "xls"


def mark_file(path: Path, problems: Iterable[dict], readable: bool) -> Path:
    """``check --mark``: the marked-up copy written beside ``path`` (never over it), or in the current folder
    when ``path`` lies in a project's ``data/raw`` or ``data/processed``; its path."""
    from analysis.core.fileio import atomic_write_bytes

    data = path.read_bytes() if readable else b""
    fmt = workbook_format(data)
    large = too_large(data, fmt) if readable else ""
    note = "" if readable else f"报表“{path.name}”无法读取，本文件只列出问题"
    if large:
        readable, note = False, f"报表“{path.name}”{large}，无法复制标注，本文件只列出问题"
    elif readable and fmt != "xlsx":
        note = f"原报表是 .{fmt} 格式，本标注副本为 .xlsx，只保留单元格内容（不含原格式）"
    out = path.with_name(marked_name(path.stem))
    parts = path.resolve().parts
    if any(a == "data" and b in ("raw", "processed") for a, b in zip(parts, parts[1:], strict=False)):
        out = Path.cwd() / out.name  # data/raw is read-only to the code: the copy goes to the current folder
    atomic_write_bytes(out, mark_up(path if readable else None, fmt, problems, note))
    return out


def marked_name(stem: str) -> str:
    """The marked-up copy's file name: ``<单位>（标注）.xlsx``."""
    return f"{stem}（标注）.xlsx"
