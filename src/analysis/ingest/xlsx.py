"""Read an .xlsx/.xlsm package from its checked bytes, straight from the package XML, with no private API.

Every cell keeps its cached value as Excel saved it, its number format (0.8 shown as ``80%``), whether it
holds a formula (with the text, shared formulas resolved), Excel error values (``t="e"``), and the sheet
keeps its hidden rows and columns, merged ranges and state (hidden sheets). The results are exactly what
the previous reader (openpyxl's streaming parser) gave, including its conventions: a number written
without ``.``/``E`` is an ``int``; a number in a date format is a ``datetime`` (``time`` below one day,
``timedelta`` for ``[h]:mm``), built-in ids outside the ECMA table (the Chinese locale ids 27–36,
50–58) have no format; shared strings drop ``x005F_``; ``_xHHHH_`` escapes are decoded once.

Why not python-calamine for the values (it reads .ods, :mod:`analysis.ingest.readers`): measured on the
submissions, every cell needs its ``s``/``t`` attributes from the XML anyway (number format, formula,
error), and calamine disagrees with the behaviour above on integers (all floats), dates (``date`` for
whole days, Chinese built-in formats read as dates), escapes, errors and uncalculated formulas (``''``);
it also materialises a dense range, so one stray cell at XFD1048576 would cost 17 billion cells. Using
it would add a second decompression and parse of every sheet (about 0.15 ms a department's workbook, a
quarter of this whole reader) only to read the strings. ``benchmarks/bench.py ingest`` compares the
ingest with a bare calamine read.

Parsing uses the standard library's C parser on bytes that :func:`analysis.ingest.safety.load_checked`
has already refused for any DTD or entity declaration (ElementTree never fetches external entities).
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

from analysis.ingest.cells import Cell, Sheet, checked_text
from analysis.ingest.numfmt import (
    CUSTOM_BASE,
    builtin_format,
    from_excel,
    is_builtin,
    is_date_format,
    is_duration_format,
)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.%s+xml"
_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.%s.main+xml"
_MACRO = "application/vnd.ms-excel.%s.macroEnabled.main+xml"
WORKBOOK_TYPES = (_MACRO % "template", _WORKBOOK % "template", _MACRO % "sheet", _WORKBOOK % "sheet")
SHARED_STRINGS = _SPREADSHEET % "sharedStrings"
_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def read_xlsx(data: bytes) -> list[Sheet]:
    """Every worksheet of the package (chart sheets and sheets whose part is missing are skipped)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        overrides, defaults = _manifest(archive.read("[Content_Types].xml"))
        workbook_part = _workbook_part(overrides, defaults)
        sheet_parts, date1904 = _sheet_parts(archive, workbook_part)
        strings_part = next((name for name, ct in overrides if ct == SHARED_STRINGS), None)
        strings = _shared_strings(archive.read(strings_part[1:])) if strings_part else []
        try:
            styles = _styles(archive.read("xl/styles.xml"))
        except KeyError:
            styles = _styles(None)
        sheets = []
        for name, part, state in sheet_parts:
            sheet = Sheet(name=name, hidden=(state or "visible") != "visible")
            with archive.open(part) as src:
                _SheetReader(sheet, strings, styles, date1904).read(src)
            sheets.append(sheet)
        return sheets


# --- package parts --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # departments fill in the same templates: a few layouts in all
def _manifest(xml: bytes) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    root = ElementTree.fromstring(xml)
    overrides = tuple(
        (el.get("PartName", ""), el.get("ContentType", "")) for el in root.iter(_CT + "Override")
    )
    return overrides, frozenset(el.get("ContentType", "") for el in root.iter(_CT + "Default"))


def _workbook_part(overrides: tuple[tuple[str, str], ...], defaults: frozenset[str]) -> str:
    for content_type in WORKBOOK_TYPES:
        for name, ct in overrides:
            if ct == content_type:
                return name[1:]
    if defaults & set(WORKBOOK_TYPES):  # some applications reassign the default for application/xml
        return "xl/workbook.xml"
    raise OSError("File contains no valid workbook part")


def _sheet_parts(archive: zipfile.ZipFile, part: str) -> tuple[list[tuple[str, str, str | None]], bool]:
    """(name, part, state) of each worksheet in workbook order, and whether dates count from 1904."""
    listed, date1904 = _workbook(archive.read(part))
    rels: dict[str, tuple[str, str]] | None = None
    names = set(archive.namelist())
    found = []
    for name, rel_id, state in listed:
        if not rel_id:
            continue
        if rels is None:
            folder, file = posixpath.split(part)
            rels_path = posixpath.join(folder, "_rels", f"{file}.rels")
            rels = _relationships(archive.read(rels_path), posixpath.split(posixpath.dirname(rels_path))[0])
        target, rel_type = rels[rel_id]
        if target in names and "chartsheet" not in rel_type:
            found.append((name, target, state))
    return found, date1904


@functools.lru_cache(maxsize=64)
def _workbook(xml: bytes) -> tuple[tuple[tuple[str, str, str], ...], bool]:
    root = ElementTree.fromstring(xml)
    props = root.find(MAIN + "workbookPr")
    flag = props.get("date1904") if props is not None else None
    date1904 = flag is not None and flag not in ("false", "f", "0", "")
    listed = tuple(
        (el.get("name"), el.get(_REL_ID), el.get("state"))
        for sheets in root.findall(MAIN + "sheets")
        for el in sheets.findall(MAIN + "sheet")
    )
    return listed, date1904


@functools.lru_cache(maxsize=64)
def _relationships(xml: bytes, parent: str) -> dict[str, tuple[str, str]]:
    """Id → (target as an archive path, type) from a ``_rels`` part (read-only: it is shared)."""
    rels = {}
    for el in ElementTree.fromstring(xml).iter(_PKG_REL):
        target = el.get("Target", "")
        if el.get("TargetMode") != "External":
            target = (
                target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(parent, target))
            )
        rels[el.get("Id")] = (target, el.get("Type", ""))
    return rels


def _text_content(node) -> str:
    """The text of an ``<si>``/``<is>`` element: its ``<t>`` and its rich-text runs, not phonetic runs."""
    plain, runs = None, []
    for child in node:
        local = child.tag.rsplit("}", 1)[-1]
        if local == "t":
            plain = child.text
        elif local == "r":
            text = None
            for part in child:
                if part.tag.rsplit("}", 1)[-1] == "t":
                    text = part.text
            if text is not None:
                runs.append(text)
    return "".join(([plain] if plain is not None else []) + runs)


def _shared_strings(xml: bytes) -> list[str]:
    strings = []
    for _, node in ElementTree.iterparse(io.BytesIO(xml)):
        if node.tag == MAIN + "si":
            strings.append(_text_content(node).replace("x005F_", ""))
            node.clear()
    return strings


@functools.lru_cache(maxsize=64)  # departments fill in the same templates: a few style sheets in all
def _styles(xml: bytes | None) -> _Styles:
    return _Styles(xml)


class _Styles:
    """Number format of each cell style (``s``), and which styles show dates or durations (read-only).

    A style's format is the one its ``numFmtId`` declares in ``<numFmts>``, else the built-in one of that
    id. An undeclared id from 164 up keeps openpyxl's convention: custom formats are renumbered from 164
    in order of first use, and the id names the one renumbered to it (its numbers stay numbers)."""

    def __init__(self, xml: bytes | None):
        self.by_style: list[str | None] = []
        self.dates: set[int] = set()
        self.durations: set[int] = set()
        if xml is not None:
            self._read(ElementTree.fromstring(xml))
        if not self.by_style:  # no cell styles: openpyxl's default, one unformatted style
            self.by_style = [builtin_format(0)]

    def _read(self, root) -> None:
        declared = {
            int(el.get("numFmtId")): el.get("formatCode")
            for group in root.findall(MAIN + "numFmts")
            for el in group.findall(MAIN + "numFmt")
        }
        xfs = [int(el.get("numFmtId", 0)) for group in root.findall(MAIN + "cellXfs") for el in group]
        custom: list[str | None] | None = None
        for index, fmt_id in enumerate(xfs):
            if fmt_id in declared:
                fmt = shown = declared[fmt_id]
            elif fmt_id < CUSTOM_BASE:
                fmt = shown = builtin_format(fmt_id)
            else:
                if custom is None:
                    used = dict.fromkeys(declared[i] for i in xfs if i in declared)
                    custom = [code for code in used if not is_builtin(code)]
                fmt, at = None, fmt_id - CUSTOM_BASE
                shown = custom[at] if at < len(custom) else None
            if is_date_format(fmt):
                self.dates.add(index)
                if is_duration_format(fmt):
                    self.durations.add(index)
            self.by_style.append(shown)

    def number_format(self, style_id: int) -> str | None:
        if not style_id or style_id >= len(self.by_style):
            return None
        return self.by_style[style_id]  # a negative id counts from the end, as it always did


# --- one worksheet --------------------------------------------------------------------------------

_ROW, _CELL, _MERGES, _COLS = MAIN + "row", MAIN + "c", MAIN + "mergeCells", MAIN + "cols"
_VALUE, _FORMULA, _INLINE = MAIN + "v", MAIN + "f", MAIN + "is"
_LETTERS = re.compile(r"[A-Za-z]{1,3}")


class _SheetReader:
    def __init__(self, sheet: Sheet, strings: list[str], styles: _Styles, date1904: bool):
        self.sheet, self.strings, self.styles, self.date1904 = sheet, strings, styles, date1904
        self.row = self.col = 0
        self.shared: dict[str, str] = {}  # shared formula index → its leader's text
        self.row_attrs: dict[int, dict] = {}

    def read(self, src) -> None:
        parser = ElementTree.XMLPullParser(("end",))
        sheet = self.sheet
        while chunk := src.read(1 << 16):
            parser.feed(chunk)
            for _, element in parser.read_events():
                tag = element.tag
                if tag == _ROW:
                    self._row(element)
                    element.clear()
                elif tag == _MERGES:  # the refs only: the last <mergeCells> wins
                    sheet.merged = [str(m.get("ref", "")) for m in element]
                    element.clear()
                elif tag == _COLS:
                    sheet.hidden_cols = _hidden_columns(element)
                    element.clear()
        parser.close()
        sheet.hidden_rows = {
            r for r, attrs in self.row_attrs.items() if str(attrs.get("hidden", "")).lower() in ("1", "true")
        }

    def _row(self, row) -> None:
        attrs = row.attrib
        if "r" in attrs:
            try:
                self.row = int(attrs["r"])
            except ValueError:
                number = float(attrs["r"])
                if not number.is_integer():
                    raise ValueError(f"{attrs['r']} is not a valid row number") from None
                self.row = int(number)
        else:
            self.row += 1
        self.col = 0
        if {k for k in attrs if not k.startswith("{")} - {"r", "spans"}:
            self.row_attrs[self.row] = dict(attrs)
        for element in row:
            self._cell(element)

    def _cell(self, element) -> None:
        get = element.get
        data_type, coordinate, style_id = get("t", "n"), get("r"), get("s", 0)
        if style_id:
            style_id = int(style_id)
        if coordinate:
            row, col = _coordinate(coordinate)
            self.col = col
        else:
            self.col += 1
            row, col = self.row, self.col
        value = formula = inline = None
        for child in element:  # the first <v>, <f> and <is>, in one pass
            tag = child.tag
            if tag == _VALUE:
                if value is None:
                    value = child.text or ""
            elif tag == _FORMULA:
                if formula is None:
                    formula = child
            elif tag == _INLINE and inline is None:
                inline = child
        value = None if data_type == "inlineStr" else (value or None)
        if value is not None:
            if data_type == "n":
                value = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                if style_id in self.styles.dates:
                    data_type = "d"
                    try:
                        value = from_excel(value, self.date1904, style_id in self.styles.durations)
                    except (OverflowError, ValueError):
                        data_type, value = "e", "#VALUE!"
            elif data_type == "s":
                value = self.strings[int(value)]
            elif data_type == "b":
                value = bool(int(value))
            elif data_type == "d":
                from openpyxl.utils.datetime import from_ISO8601  # public API; t="d" is rare

                value = from_ISO8601(value)
        elif data_type == "inlineStr" and inline is not None:
            data_type, value = "s", _text_content(inline)
        if value is None and formula is None:
            return
        if isinstance(value, str) and "_x" in value:
            value = checked_text(_ESCAPE.sub(_unescape, value), self.sheet, row, col, escaped=True)
        if formula is None:
            cell = Cell(value, self.styles.number_format(style_id))
        else:
            cell = Cell(value, self.styles.number_format(style_id), True, self._formula_text(formula))
        if data_type == "e":
            cell.value, cell.error = None, str(value)
        self.sheet.cells[(row, col)] = cell

    def _formula_text(self, formula) -> str:
        """The formula's text; a shared formula's followers carry only the index of its leader's text."""
        text, index = formula.text or "", formula.get("si")
        if formula.get("t") == "shared" and index is not None:
            text = self.shared.setdefault(index, text) if text else self.shared.get(index, "")
        return text


@functools.lru_cache(maxsize=1 << 14)  # the same references come back in every file
def _coordinate(ref: str) -> tuple[int, int]:
    """``"AB12"`` → (12, 28), as strictly as the previous reader (a bad reference fails the file)."""
    idx = 0
    for idx, ch in enumerate(ref):  # noqa: B007 - the index of the first digit
        if ch in "0123456789":
            break
    letters, digits = ref[:idx], ref[idx:]
    if not _LETTERS.fullmatch(letters):
        raise ValueError(f"{letters} is not a valid column name")
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits), col


def _unescape(match: re.Match) -> str:
    return chr(int(match.group(1), 16))


def _hidden_columns(cols) -> set[int]:
    """1-based columns hidden by the ``<cols>`` element of a worksheet (ranges ``min``..``max``)."""
    hidden: set[int] = set()
    for col in cols:
        if str(col.get("hidden", "")).lower() in ("1", "true"):
            low, high = int(col.get("min", "0")), int(col.get("max", "0"))
            hidden.update(range(max(low, 1), min(high, 16_384) + 1))
    return hidden
