"""Generators of hostile, broken and awkward submissions, for the hardening tests and ``make bench``.

Every case is a :class:`Case`: a file name, a writer that puts the file into a folder, the outcome
:func:`analysis.safety.preflight` must give (a format or a problem code) and what the ingest must report
(issue codes for the whole file, codes at given cells, values that must load). :func:`build_corpus` writes
them all into ``<root>/<region>/<year>/`` as one department folder would look after a bad year.

Large cases stay light to generate: the zip bomb's sheet is a deflate stream made of one compressed
megabyte repeated (each copy ends with a full flush, so it decodes on its own), written with a small zip
writer of our own; nothing of its hundreds of inflated megabytes is ever held in memory.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from analysis.core.catalog import load_catalog

REGION, YEAR = "通许县", 2019
DATA_SHEET = "数据"
HEADER = ["序号", "指标编码", "指标名称", "单位", "数值", "备注"]
HEADER_ROW = 3  # title on row 1, blank row 2, header on row 3, data from row 4
VALUE_COLUMN = "E"
NAME_COLUMN = "C"

# Figures of the 2019 report for the indicators that take part in identities, so the good files balance.
_CONSISTENT = {
    "disputes.mediation_cases": 6736,
    "disputes.mediation_success": 6609,
    "disputes.mediation_success_rate": 98.1,
    "disputes.reconsideration_received": 12,
    "disputes.reconsideration_accepted": 12,
    "disputes.reconsideration_concluded": 12,
    "disputes.reconsideration_on_time_rate": 100,
}


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what must come of it."""

    name: str  # identifier used in test ids
    filename: str  # file name inside <region>/<year>/
    title_zh: str  # what the case is (for docs/reliability.md)
    write: Callable[[Path], Path]
    preflight: str  # "xlsx" / "xls" / "ods", or the problem code preflight raises
    file_codes: tuple[str, ...] = ()  # issue codes the ingest reports for the whole file
    cells: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (sheet, cell, acceptable codes)
    may_match: dict[str, str] = field(default_factory=dict)  # cell -> indicator it may match instead
    values: dict[str, float] = field(default_factory=dict)  # indicator_id -> value that must load
    warnings: tuple[tuple[str, str, str], ...] = ()  # (sheet, cell, code) of a warning beside a loaded value


# --- workbook builders ---------------------------------------------------------------------------


def catalog_values(department: str) -> dict[str, float]:
    """Plausible, mutually consistent values for every indicator the catalog assigns to ``department``."""
    catalog = load_catalog()
    out: dict[str, float] = {}
    for i, ind in enumerate(catalog.for_department(department)):
        if ind.indicator_id in _CONSISTENT:
            out[ind.indicator_id] = _CONSISTENT[ind.indicator_id]
        elif catalog.units[ind.unit].kind == "percent":
            out[ind.indicator_id] = 50 + i % 40
        else:
            out[ind.indicator_id] = 10 + i
    return out


def _indicator(indicator_id: str):
    return next(i for i in load_catalog().reported if i.indicator_id == indicator_id)


def data_workbook(rows: Iterable[tuple], *, sheet: str = DATA_SHEET) -> openpyxl.Workbook:
    """A department workbook: title, blank row, header on row 3, then ``(code, name, unit, value, note)`` rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws["A1"] = f"{YEAR}年度法治政府建设情况统计表"
    ws.append([])
    ws.append(HEADER)
    for n, (code, name, unit, value, note) in enumerate(rows, start=1):
        ws.append([n, code, name, unit, value, note])
    return wb


def value_rows(values: dict[str, float]) -> list[tuple]:
    rows = []
    for indicator_id, value in values.items():
        ind = _indicator(indicator_id)
        rows.append((ind.indicator_id, ind.name_zh, ind.unit, value, ""))
    return rows


def workbook_bytes(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def value_cell(row_index: int) -> str:
    """A1 reference of the value of the ``row_index``-th data row (0-based)."""
    return f"{VALUE_COLUMN}{HEADER_ROW + 1 + row_index}"


def _save(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _good_xlsx(department: str = "县司法局") -> bytes:
    return workbook_bytes(data_workbook(value_rows(catalog_values(department))))


def _replace_members(package: bytes, replacements: dict[str, bytes], *, stored: Iterable[str] = ()) -> bytes:
    """Rewrite a zip with some members' contents replaced (or added)."""
    stored = set(stored)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in names:
            data = replacements.get(name, src.read(name))
            dst.writestr(
                name, data, compress_type=zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            )
        for name, data in replacements.items():
            if name not in names:
                dst.writestr(name, data)
    return out.getvalue()


# --- a minimal zip writer (for members whose compressed stream we build ourselves) ---------------


@dataclass
class RawMember:
    name: str
    compressed: bytes
    crc: int
    size: int  # the size written in the headers (a lying bomb declares less than it inflates to)
    method: int = zipfile.ZIP_DEFLATED


def deflated(name: str, data: bytes) -> RawMember:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return RawMember(name, c.compress(data) + c.flush(), zlib.crc32(data), len(data))


def write_zip(path: Path, members: list[RawMember]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    central = bytearray()
    with path.open("wb") as fh:
        for m in members:
            offset = fh.tell()
            name = m.name.encode("utf-8")
            flags = 0x800 if not m.name.isascii() else 0
            fixed = (20, flags, m.method, 0, 0x21, m.crc, len(m.compressed), m.size, len(name))
            fh.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fixed, 0) + name + m.compressed)
            central += (
                struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fixed, 0, 0, 0, 0, 0, offset) + name
            )
        start = fh.tell()
        fh.write(central)
        fh.write(
            struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), start, 0)
        )
    return path


def padded_sheet(megabytes: int, declared_mb: float | None = None) -> RawMember:
    """A worksheet whose XML is ``megabytes`` MB of blank padding, compressed about 1000:1."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    block = b" " * (1 << 20)
    tail = b"</sheetData></worksheet>"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    repeat = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(tail) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + megabytes * len(block) + len(tail)
    declared = size if declared_mb is None else int(declared_mb * (1 << 20))
    return RawMember("xl/worksheets/sheet1.xml", first + repeat * megabytes + last, crc, declared)


def _bomb(folder: Path, name: str, megabytes: int, declared_mb: float | None) -> Path:
    with zipfile.ZipFile(io.BytesIO(_good_xlsx())) as src:
        members = [
            deflated(n, src.read(n))
            if n != "xl/worksheets/sheet1.xml"
            else padded_sheet(megabytes, declared_mb)
            for n in src.namelist()
        ]
    return write_zip(folder / name, members)


# --- XML attacks ---------------------------------------------------------------------------------

_LAUGHS = (
    '<!DOCTYPE {root} [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>\n"
)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _billion_laughs_strings(folder: Path, name: str) -> Path:
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + _LAUGHS.format(root="sst")
        + f'<sst xmlns="{_MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return _save(folder, name, _replace_members(_good_xlsx(), {"xl/sharedStrings.xml": sst.encode()}))


def _entity_sheet(decl: str, ref: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + decl
        + f'<worksheet xmlns="{_MAIN_NS}"><sheetData>'
        '<row r="3"><c r="C3" t="inlineStr"><is><t>指标名称</t></is></c><c r="E3" t="inlineStr"><is><t>数值</t></is></c></row>'
        f'<row r="4"><c r="C4" t="inlineStr"><is><t>{ref}</t></is></c><c r="E4"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()


def _billion_laughs_sheet(folder: Path, name: str) -> Path:
    sheet = _entity_sheet(_LAUGHS.format(root="worksheet"), "&lol9;")
    return _save(folder, name, _replace_members(_good_xlsx(), {"xl/worksheets/sheet1.xml": sheet}))


def _external_entity(folder: Path, name: str) -> Path:
    decl = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    sheet = _entity_sheet(decl, "&xxe;")
    return _save(folder, name, _replace_members(_good_xlsx(), {"xl/worksheets/sheet1.xml": sheet}))


def _utf16_doctype(folder: Path, name: str) -> Path:
    """A DTD hidden in a UTF-16 encoded workbook part (XML parsers accept UTF-16 with a BOM)."""
    with zipfile.ZipFile(io.BytesIO(_good_xlsx())) as src:
        text = src.read("xl/workbook.xml").decode("utf-8")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE workbook [<!ENTITY e "x">]>\n' + text
    data = text.encode("utf-16")  # with BOM
    return _save(folder, name, _replace_members(_good_xlsx(), {"xl/workbook.xml": data}))


# --- encrypted files -----------------------------------------------------------------------------


def _encrypted_xlsx(folder: Path, name: str) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile  # test extra, never a runtime dependency

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(_good_xlsx())).encrypt("fazhi2019", out)
    return _save(folder, name, out.getvalue())


def xls_bytes(rows: list[tuple], sheet: str = DATA_SHEET) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    ws.write(0, 0, f"{YEAR}年度法治政府建设情况统计表")
    for col, title in enumerate(HEADER):
        ws.write(HEADER_ROW - 1, col, title)
    for r, (code, name_zh, unit, value, note) in enumerate(rows, start=HEADER_ROW):
        for col, cell in enumerate((r - HEADER_ROW + 1, code, name_zh, unit, value, note)):
            ws.write(r, col, cell)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _encrypted_xls(folder: Path, name: str) -> Path:
    """An .xls whose globals carry a FILEPASS record (XOR obfuscation), as Excel writes for 打开密码.

    xlwt writes BOF, INTERFACEHDR, MMS, INTERFACEEND; the 16 bytes of the last three become FILEPASS
    (type 0 = XOR, key, verifier) followed by MMS, so every later offset stays valid.
    """
    data = bytearray(xls_bytes(value_rows(catalog_values("县水利局"))))
    bof = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")
    at = bof + 20
    assert data[at : at + 4] == b"\xe1\x00\x02\x00", "unexpected xlwt record layout"
    filepass = struct.pack("<HHHHH", 0x002F, 6, 0, 0x5A3C, 0xC3A5)
    mms = struct.pack("<HHH", 0x00C1, 2, 0)
    data[at : at + 16] = filepass + mms
    return _save(folder, name, bytes(data))


def _encrypted_ods(folder: Path, name: str) -> Path:
    """An .ods saved with a password: its manifest declares encryption-data for content.xml (LibreOffice's
    layout; the content itself is left readable here, the manifest is what marks the package encrypted)."""
    good = _good_ods(folder, name).read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        manifest = z.read("META-INF/manifest.xml").decode("utf-8")
    entry = 'manifest:full-path="content.xml" manifest:media-type="text/xml"'
    encrypted = (
        entry + '><manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0#sha256-1k" manifest:checksum="AAAA"><manifest:algorithm '
        'manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" manifest:initialisation-vector="AAAA"/>'
        "</manifest:encryption-data></manifest:file-entry"
    )
    manifest = manifest.replace(entry + "/", encrypted, 1)
    assert "encryption-data" in manifest
    return _save(folder, name, _replace_members(good, {"META-INF/manifest.xml": manifest.encode()}))


# --- broken and foreign files --------------------------------------------------------------------


def _truncated(folder: Path, name: str) -> Path:
    data = _good_xlsx()
    return _save(folder, name, data[: len(data) * 3 // 5])


def _bad_crc(folder: Path, name: str) -> Path:
    """A stored (uncompressed) sheet with one byte changed: the archive is intact, its checksum is not."""
    data = bytearray(_replace_members(_good_xlsx(), {}, stored=["xl/worksheets/sheet1.xml"]))
    at = data.find(b"<sheetData>") + len(b"<sheetData>") + 2
    data[at] ^= 0x01
    return _save(folder, name, bytes(data))


def _too_many_members(folder: Path, name: str) -> Path:
    extra = {f"xl/media/junk{i}.xml": b"<x/>" for i in range(3000)}
    return _save(folder, name, _replace_members(_good_xlsx(), extra))


def _text(content: bytes) -> Callable[[Path, str], Path]:
    return lambda folder, name: _save(folder, name, content)


_HTML = (
    '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head><body>'
    "<table><tr><td>指标名称</td><td>数值</td></tr><tr><td>调解矛盾纠纷</td><td>6736</td></tr></table></body></html>"
).encode()


def _docx(folder: Path, name: str) -> Path:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("word/document.xml", "<w:document/>")
    return _save(folder, name, buf.getvalue())


def _plain_zip(folder: Path, name: str) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("县司法局.csv", "指标名称,数值\n调解矛盾纠纷,6736\n")
    return _save(folder, name, buf.getvalue())


# --- readable workbooks with awkward content -----------------------------------------------------


def _good_file(folder: Path, name: str) -> Path:
    return _save(folder, name, _good_xlsx("县司法局"))


def _good_xls(folder: Path, name: str) -> Path:
    return _save(folder, name, xls_bytes(value_rows(catalog_values("县水利局"))))


def _good_ods(folder: Path, name: str) -> Path:
    import pandas as pd

    rows = value_rows(catalog_values("县发展和改革委员会"))
    frame = pd.DataFrame([r[:4] for r in rows], columns=["指标编码", "指标名称", "单位", "数值"])
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as writer:
        frame.to_excel(writer, sheet_name=DATA_SHEET, index=False)
    return _save(folder, name, buf.getvalue())


def _empty_workbook(folder: Path, name: str) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    return _save(folder, name, workbook_bytes(wb))


def _hidden_only_sheet(folder: Path, name: str) -> Path:
    """Excel refuses to hide the last visible sheet, openpyxl too: set the state in workbook.xml directly."""
    data = workbook_bytes(data_workbook(value_rows(catalog_values("县审计局"))))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    assert xml.count("<sheet ") == 1 and xml.count('state="visible"') == 1
    xml = xml.replace('state="visible"', 'state="hidden"', 1)
    return _save(folder, name, _replace_members(data, {"xl/workbook.xml": xml.encode()}))


TALL_ROWS = 100_000


def _tall_sheet(folder: Path, name: str) -> Path:
    """100,000 data rows: the department's own figures once, then the whole catalog over and over with no
    value (rows a department leaves blank), each with a note, so every cell is read and matched.

    The sheet XML is generated directly (inline strings, as openpyxl's write-only mode writes them): a
    hundred times faster than going through openpyxl cell by cell.
    """
    catalog = load_catalog()
    own = catalog_values("县政务服务和大数据管理局")
    indicators = catalog.reported
    base = data_workbook(value_rows(own))
    parts = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN_NS}"><sheetData>',
        _xml_row(1, [f"{YEAR}年度法治政府建设情况统计表"]),
        _xml_row(HEADER_ROW, HEADER),
    ]
    own_rows = value_rows(own)
    for n in range(1, TALL_ROWS + 1):
        if n <= len(own_rows):
            code, name_zh, unit, value, _note = own_rows[n - 1]
            cells = [n, code, name_zh, unit, value, "本年度数"]
        else:
            ind = indicators[n % len(indicators)]
            cells = [n, "", ind.name_zh, ind.unit, None, f"第{n}行：本项由其他单位填报，此处留空"]
        parts.append(_xml_row(HEADER_ROW + n, cells))
    parts.append("</sheetData></worksheet>")
    sheet = "".join(parts).encode("utf-8")
    return _save(folder, name, _replace_members(workbook_bytes(base), {"xl/worksheets/sheet1.xml": sheet}))


def _xml_row(r: int, cells: list) -> str:
    out = [f'<row r="{r}">']
    for col, value in zip("ABCDEFGHIJ", cells, strict=False):
        if value is None or value == "":
            continue
        if isinstance(value, int | float):
            out.append(f'<c r="{col}{r}"><v>{value}</v></c>')
        else:
            text = str(value).replace("&", "&amp;").replace("<", "&lt;")
            out.append(f'<c r="{col}{r}" t="inlineStr"><is><t>{text}</t></is></c>')
    out.append("</row>")
    return "".join(out)


# Awkward cells, one per row, in the value column of a 县政府办公室 workbook (its own indicators).
# (indicator_id, cell value, acceptable issue codes). openpyxl writes "#DIV/0!" etc. as real error cells
# (t="e"), dates as date cells, True as a boolean cell.
AWKWARD_VALUES: list[tuple[str, object, tuple[str, ...]]] = [
    ("disclosure.poverty_items", "#DIV/0!", ("excel-error",)),
    ("disclosure.environment_items", "#REF!", ("excel-error",)),
    ("disclosure.welfare_items", "#N/A", ("excel-error",)),
    ("disclosure.policies_published", dt.datetime(2019, 12, 31), ("bad-number",)),
    ("disclosure.netizen_replies", True, ("bad-number",)),
    ("disclosure.hotline_cases", "NaN", ("bad-number",)),
    ("disclosure.press_releases", "inf", ("bad-number",)),
    ("disclosure.incidents_resolved", "九" * 32_767, ("bad-number",)),  # Excel's longest cell
]
# Values that must load from the same file, written awkwardly but legitimately.
AWKWARD_GOOD: list[tuple[str, object, float]] = [
    ("disclosure.gov_interviews", "\t1\n", 1),  # tab and line break around the figure (Alt+Enter)
]
# Names: traditional characters, emoji, zero-width and bidi controls. Each row has a value; the name must be
# matched to the indicator given, or reported as unknown-indicator — never guessed to another one.
AWKWARD_NAMES: list[tuple[str, object, str, tuple[str, ...]]] = [
    ("調解成功矛盾糾紛", 6609, "disputes.mediation_success", ("unknown-indicator",)),
    ("專兼職人民調解員", 992, "disputes.mediators", ("unknown-indicator",)),
    ("回复网民留言😀", 10, "disclosure.netizen_replies", ("unknown-indicator",)),
    ("办理县长热线\u200b件", 718, "disclosure.hotline_cases", ("unknown-indicator",)),
    ("\u202e件线热长县理办", 718, "disclosure.hotline_cases", ("unknown-indicator",)),
]
# A 县生态环境分局 workbook: emoji and a control character (Excel stores BEL as "_x0007_", python-calamine
# decodes it) in values are reported; the file's legitimate values load.
SYMBOL_VALUES: list[tuple[str, object, tuple[str, ...]]] = [
    ("functions.polluting_firms_closed", "152👍", ("bad-number", "unit-mismatch")),
    ("functions.illegal_fuel_stations_closed", "_x0007_5", ("bad-number",)),
]
SYMBOL_GOOD: list[tuple[str, object, float]] = [
    ("functions.clean_heating_households", "1.1万", 11000),
    ("functions.water_source_zones", "15个", 15),
]


# Formula injection: text a spreadsheet would evaluate, in the sheet name and in a note of a good row. The
# tidy table keeps it exactly; the CSV outputs must neutralise it.
INJECTION_SHEET = "=数据"
INJECTION_NOTE = '=HYPERLINK("http://evil.example/","点击查看")'


def _symbol_values(folder: Path, name: str) -> Path:
    rows = []
    for indicator_id, value, *_ in [*SYMBOL_VALUES, *SYMBOL_GOOD]:
        ind = _indicator(indicator_id)
        rows.append((ind.indicator_id, ind.name_zh, ind.unit, value, ""))
    wb = data_workbook(rows, sheet=INJECTION_SHEET)
    note = wb.active.cell(HEADER_ROW + len(rows), len(HEADER))
    note.value = INJECTION_NOTE
    note.data_type = "s"  # text typed as '=HYPERLINK(…), not a formula
    return _save(folder, name, workbook_bytes(wb))


def _awkward_cells(folder: Path, name: str) -> Path:
    rows: list[tuple] = []
    for indicator_id, value, _codes in AWKWARD_VALUES:
        ind = _indicator(indicator_id)
        rows.append((ind.indicator_id, ind.name_zh, ind.unit, value, ""))
    for indicator_id, value, _expected in AWKWARD_GOOD:
        ind = _indicator(indicator_id)
        rows.append((ind.indicator_id, ind.name_zh, ind.unit, value, "含制表符和换行"))
    for text, value, _target, _codes in AWKWARD_NAMES:
        rows.append(("", text, "", value, "异体或特殊字符名称"))
    return _save(folder, name, workbook_bytes(data_workbook(rows)))


def _awkward_cell_expectations() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    out = []
    for i, (_id, _value, codes) in enumerate(AWKWARD_VALUES):
        out.append((DATA_SHEET, value_cell(i), codes))
    offset = len(AWKWARD_VALUES) + len(AWKWARD_GOOD)
    for i, (_text, _value, _target, codes) in enumerate(AWKWARD_NAMES):
        out.append((DATA_SHEET, value_cell(offset + i), codes))
    return tuple(out)


def _named(writer: Callable[[Path, str], Path], filename: str) -> Callable[[Path], Path]:
    return lambda folder: writer(folder, filename)


def _case(
    name: str, filename: str, title_zh: str, writer: Callable[[Path, str], Path], preflight: str, **kw
) -> Case:
    return Case(name, filename, title_zh, _named(writer, filename), preflight, **kw)


CASES: list[Case] = [
    # readable workbooks
    _case("good", "县司法局.xlsx", "正常报表（对照）", _good_file, "xlsx", values=catalog_values("县司法局")),
    _case(
        "good-xls", "县水利局.xls", "正常的 .xls 报表", _good_xls, "xls", values=catalog_values("县水利局")
    ),
    _case(
        "good-ods",
        "县发展和改革委员会.ods",
        "正常的 .ods 报表",
        _good_ods,
        "ods",
        values=catalog_values("县发展和改革委员会"),
    ),
    _case(
        "hidden-sheet",
        "县审计局.xlsx",
        "唯一的工作表被隐藏",
        _hidden_only_sheet,
        "xlsx",
        file_codes=("hidden-sheet",),
        values=catalog_values("县审计局"),
    ),
    _case(
        "tall",
        "县政务服务和大数据管理局.xlsx",
        f"{TALL_ROWS:,} 行的数据表",
        _tall_sheet,
        "xlsx",
        values=catalog_values("县政务服务和大数据管理局"),
    ),
    _case(
        "awkward-cells",
        "县政府办公室.xlsx",
        "错误值、日期、布尔值、NaN/inf 文本、超长文本、控制字符、表情符号、繁体和变体名称",
        _awkward_cells,
        "xlsx",
        cells=_awkward_cell_expectations(),
        may_match={
            value_cell(len(AWKWARD_VALUES) + len(AWKWARD_GOOD) + i): target
            for i, (_text, _value, target, _codes) in enumerate(AWKWARD_NAMES)
        },
        values={i: v for i, _cell, v in AWKWARD_GOOD},
    ),
    _case(
        "symbol-values",
        "县生态环境分局.xlsx",
        "数值中的表情符号和控制字符",
        _symbol_values,
        "xlsx",
        cells=tuple(
            (INJECTION_SHEET, value_cell(i), codes) for i, (_id, _v, codes) in enumerate(SYMBOL_VALUES)
        ),
        values={i: v for i, _cell, v in SYMBOL_GOOD},
    ),
    _case(
        "empty-workbook",
        "县委机构编制委员会办公室.xlsx",
        "空工作簿（没有数据）",
        _empty_workbook,
        "xlsx",
        file_codes=("no-data",),
    ),
    # refused before reading
    _case(
        "zip-bomb",
        "压缩炸弹.xlsx",
        "压缩炸弹：工作表解压后 300 MB（文件约 0.3 MB）",
        lambda f, n: _bomb(f, n, 300, None),
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "zip-bomb-lying",
        "压缩炸弹_虚报大小.xlsx",
        "压缩炸弹：目录声明 1 MB，实际解压 150 MB",
        lambda f, n: _bomb(f, n, 150, 1),
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "too-many-members",
        "部件过多.xlsx",
        "压缩包内 3000 多个部件",
        _too_many_members,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "billion-laughs-strings",
        "实体膨胀_共享字符串.xlsx",
        "“十亿笑声”实体膨胀（sharedStrings.xml）",
        _billion_laughs_strings,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "billion-laughs-sheet",
        "实体膨胀_工作表.xlsx",
        "“十亿笑声”实体膨胀（工作表 XML）",
        _billion_laughs_sheet,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "xxe",
        "外部实体.xlsx",
        "外部实体（XXE，读取 /etc/passwd）",
        _external_entity,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "utf16-doctype",
        "UTF16声明.xlsx",
        "UTF-16 编码部件中的 DTD",
        _utf16_doctype,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "encrypted-xlsx",
        "加密工作簿.xlsx",
        "设有打开密码的 .xlsx（msoffcrypto 加密）",
        _encrypted_xlsx,
        "password-protected",
        file_codes=("password-protected",),
    ),
    _case(
        "encrypted-xls",
        "加密工作簿.xls",
        "设有打开密码的 .xls（FILEPASS 记录）",
        _encrypted_xls,
        "password-protected",
        file_codes=("password-protected",),
    ),
    _case(
        "encrypted-ods",
        "加密表格.ods",
        "设有打开密码的 .ods（清单中有 encryption-data）",
        _encrypted_ods,
        "password-protected",
        file_codes=("password-protected",),
    ),
    _case(
        "truncated",
        "截断.xlsx",
        "传输中断的 .xlsx（只有前 60%）",
        _truncated,
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "bad-crc",
        "校验失败.xlsx",
        "部件数据损坏（CRC 不符）",
        _bad_crc,
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "text",
        "文本.xlsx",
        "改名为 .xlsx 的文本文件",
        _text("调解矛盾纠纷 6736\n调解成功 6609\n".encode()),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "csv",
        "逗号分隔.xlsx",
        "改名为 .xlsx 的 CSV（GBK 编码）",
        _text("指标名称,数值\n调解矛盾纠纷,6736\n".encode("gbk")),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "html",
        "网页.xlsx",
        "改名为 .xlsx 的网页",
        _text(_HTML),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "html-xls",
        "网页导出.xls",
        "业务系统“导出 Excel”得到的网页 .xls",
        _text(_HTML),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "pdf",
        "扫描件.xlsx",
        "改名为 .xlsx 的 PDF",
        _text(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "docx",
        "Word文档.xlsx",
        "改名为 .xlsx 的 Word 文档",
        _docx,
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "plain-zip",
        "压缩包.xlsx",
        "改名为 .xlsx 的普通 ZIP 压缩包",
        _plain_zip,
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
    _case(
        "empty-file",
        "空文件.xlsx",
        "0 字节的文件",
        _text(b""),
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
]

from tests.hostile_corpus_ii import CASES_II  # noqa: E402  (uses the builders above)

CASES.extend(CASES_II)
CASES_BY_NAME = {case.name: case for case in CASES}


def build_corpus(root: Path, cases: Iterable[Case] = CASES) -> dict[str, Path]:
    """Write every case into ``<root>/<REGION>/<YEAR>/``; return case name -> path."""
    folder = root / REGION / str(YEAR)
    return {case.name: case.write(folder) for case in cases}
