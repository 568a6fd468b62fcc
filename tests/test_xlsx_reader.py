"""The .xlsx reader (:mod:`analysis.ingest.xlsx`) on crafted packages: every fact the ingest relies on.

The packages are written by hand (not by openpyxl), so each test states exactly the XML Excel or WPS
saves: cached results, number formats, errors, hidden rows and columns, merges, shared formulas, escapes.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import analysis
from analysis.ingest import numfmt
from analysis.ingest.cells import Cell
from analysis.ingest.workbook import read_workbook
from analysis.ingest.xlsx import read_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_REL = REL + "/worksheet"
STYLES = (
    '<numFmts count="2"><numFmt numFmtId="176" formatCode="0.0%"/><numFmt numFmtId="177" formatCode="yyyy/m/d"/>'
    "</numFmts>"
    '<cellXfs count="8"><xf numFmtId="0"/><xf numFmtId="9"/><xf numFmtId="176"/><xf numFmtId="177"/>'
    '<xf numFmtId="14"/><xf numFmtId="46"/><xf numFmtId="31"/><xf numFmtId="0" applyBorder="1"/></cellXfs>'
)
STRINGS = [
    "<t>指标名称</t>",
    "<t>回车_x000D_换行</t>",
    '<r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r><rPh sb="0" eb="1"><t>フ</t></rPh>',
    "<t>说明_xD800_</t>",
    "<t>_x005F_x000D_</t>",
    '<t xml:space="preserve"> 前后空格 </t>',
]


def package(
    sheets: list[tuple[str, str]] | None = None,
    *,
    states: dict[str, str] | None = None,
    styles: str = STYLES,
    strings: list[str] = STRINGS,
    date1904: bool = False,
    chart: bool = False,
) -> bytes:
    """An .xlsx package with the given (name, sheetData XML and what follows) worksheets."""
    sheets = sheets or [("数据", "<sheetData/>")]
    states = states or {}
    overrides = [
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
        (
            "/xl/sharedStrings.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
        ),
    ]
    entries, rels = [], []
    parts = {}
    for i, (name, body) in enumerate(sheets, start=1):
        state = f' state="{states[name]}"' if name in states else ""
        entries.append(f'<sheet name="{name}" sheetId="{i}"{state} r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{SHEET_REL}" Target="worksheets/sheet{i}.xml"/>')
        parts[f"xl/worksheets/sheet{i}.xml"] = f'<worksheet xmlns="{MAIN}">{body}</worksheet>'
    if chart:
        n = len(sheets) + 1
        entries.append(f'<sheet name="图表" sheetId="{n}" r:id="rId{n}"/>')
        rels.append(f'<Relationship Id="rId{n}" Type="{REL}/chartsheet" Target="chartsheets/sheet1.xml"/>')
        parts["xl/chartsheets/sheet1.xml"] = f'<chartsheet xmlns="{MAIN}"/>'
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    parts["xl/workbook.xml"] = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}<sheets>{"".join(entries)}</sheets></workbook>'
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    parts["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{MAIN}">' + "".join(f"<si>{s}</si>" for s in strings) + "</sst>"
    )
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{n}" ContentType="{ct}"/>' for n, ct in overrides)
        + "</Types>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return buf.getvalue()


def one_sheet(rows: str, tail: str = "", head: str = "", **kw):
    return read_xlsx(package([("数据", f"{head}<sheetData>{rows}</sheetData>{tail}")], **kw))[0]


def test_number_formats_percent_custom_and_general():
    sheet = one_sheet(
        '<row r="1"><c r="A1" s="1"><v>0.8</v></c><c r="B1" s="2"><v>0.959</v></c><c r="C1" s="7"><v>5</v></c>'
        '<c r="D1"><v>6</v></c><c r="E1" s="0"><v>7</v></c><c r="F1" s="99"><v>8</v></c></row>'
    )
    assert sheet.get(1, 1) == Cell(value=0.8, number_format="0%")
    assert sheet.get(1, 2) == Cell(value=0.959, number_format="0.0%")
    assert sheet.get(1, 3).number_format == "General"  # a styled cell with the General format
    assert [sheet.get(1, c).number_format for c in (4, 5, 6)] == [None, None, None]


def test_numbers_keep_int_or_float_as_written():
    sheet = one_sheet(
        '<row r="1"><c r="A1"><v>6736</v></c><c r="B1"><v>1.0</v></c><c r="C1"><v>1E3</v></c></row>'
    )
    values = [sheet.get(1, c).value for c in (1, 2, 3)]
    assert values == [6736, 1.0, 1000.0]
    assert [type(v) for v in values] == [int, float, float]


def test_formula_with_and_without_cached_result():
    sheet = one_sheet(
        '<row r="1"><c r="A1"><f>SUM(B1:C1)</f><v>12</v></c><c r="B1"><f>A1*2</f></c>'
        '<c r="C1"><f>B1</f><v></v></c><c r="D1" t="str"><f>"x"&amp;"y"</f><v>xy</v></c></row>'
    )
    assert sheet.get(1, 1) == Cell(value=12, formula=True, formula_text="SUM(B1:C1)")
    assert sheet.get(1, 2) == Cell(value=None, formula=True, formula_text="A1*2")
    assert sheet.get(1, 3) == Cell(value=None, formula=True, formula_text="B1")
    assert sheet.get(1, 4) == Cell(value="xy", formula=True, formula_text='"x"&"y"')


def test_shared_formula_followers_get_the_leaders_text():
    sheet = one_sheet(
        '<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">[1]Sheet1!B1</f><v>1</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" si="0"/><v>2</v></c></row>'
        '<row r="3"><c r="A3"><f t="shared" si="7"/><v>3</v></c></row>'
    )
    assert [sheet.get(r, 1).formula_text for r in (1, 2, 3)] == ["[1]Sheet1!B1", "[1]Sheet1!B1", ""]
    assert all(sheet.get(r, 1).formula for r in (1, 2, 3))


def test_error_values():
    sheet = one_sheet(
        '<row r="1"><c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B1" t="e"><v>#N/A</v></c></row>'
    )
    assert sheet.get(1, 1) == Cell(value=None, formula=True, formula_text="1/0", error="#DIV/0!")
    assert sheet.get(1, 2) == Cell(value=None, error="#N/A")


def test_strings_shared_inline_rich_and_escaped():
    sheet = one_sheet(
        '<row r="1">'
        + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF"))
        + '<c r="G1" t="inlineStr"><is><t>内联_x0009_文字</t></is></c>'
        + '<c r="H1" t="inlineStr"><is><r><t>甲</t></r><r><t>乙</t></r></is></c></row>'
    )
    values = [sheet.get(1, c).value for c in range(1, 9)]
    assert values == [
        "指标名称",
        "回车\r换行",
        "富文本",
        "说明\ufffd",
        "\r",
        " 前后空格 ",
        "内联\t文字",
        "甲乙",
    ]
    assert sheet.notices == [("invalid-character", "D1", sheet.notices[0][2])]
    assert "_xD800_" in sheet.notices[0][2]


def test_booleans_and_empty_cells():
    sheet = one_sheet(
        '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" s="7"/><c r="C1" t="b"><v>0</v></c></row>'
    )
    assert sheet.get(1, 1).value is True and sheet.get(1, 3).value is False
    assert sheet.get(1, 2) is None  # a styled empty cell is no cell


def test_dates_times_and_durations():
    rows = (
        '<row r="1"><c r="A1" s="3"><v>43831</v></c><c r="B1" s="4"><v>43831.5</v></c>'
        '<c r="C1" s="4"><v>0.25</v></c><c r="D1" s="5"><v>1.5</v></c><c r="E1" s="6"><v>43831</v></c>'
        '<c r="F1" s="3"><v>1e300</v></c></row>'
    )
    sheet = one_sheet(rows)
    assert sheet.get(1, 1) == Cell(value=dt.datetime(2020, 1, 1), number_format="yyyy/m/d")
    assert sheet.get(1, 2).value == dt.datetime(2020, 1, 1, 12)
    assert sheet.get(1, 3).value == dt.time(6)
    assert sheet.get(1, 4).value == dt.timedelta(days=1.5)
    # A Chinese-locale built-in id (31) is not in the ECMA table: no format, the number stays a number.
    assert sheet.get(1, 5) == Cell(value=43831, number_format=None)
    assert sheet.get(1, 6) == Cell(value=None, number_format="yyyy/m/d", error="#VALUE!")
    assert one_sheet(rows, date1904=True).get(1, 1).value == dt.datetime(2024, 1, 2)


@pytest.mark.parametrize(
    ("fmt", "date", "duration"),
    [
        ("yyyy/m/d", True, False),
        ('yyyy"年"m"月"d"日"', True, False),
        ("h:mm AM/PM", True, False),
        ("mm:ss", True, False),
        ("[h]:mm:ss", True, True),
        ("[mm]:ss", True, True),
        ("[ss]", True, True),
        ("yyyy", True, False),  # each date letter alone
        ("ss.0", True, False),
        ("D", True, False),
        ("H", True, False),
        ("[$-804]yyyy-mm-dd;@", True, False),
        ("General", False, False),
        ("0.0%", False, False),
        ("#,##0_);[Red](#,##0)", False, False),  # the d of [Red] is a colour, not a day
        ('0.00"天"', False, False),  # quoted text
        (r"\d0", False, False),  # an escaped letter
        ("_d0", False, False),  # the width of a letter
        ("0;[Red]yyyy", False, False),  # only the first section counts
        ("@", False, False),
        (None, False, False),
    ],
)
def test_which_formats_show_dates_and_durations(fmt, date, duration):
    assert numfmt.is_date_format(fmt) is date
    if date:
        assert numfmt.is_duration_format(fmt) is duration


def test_serial_numbers_as_dates_times_and_durations():
    assert numfmt.from_excel(43831, False, False) == dt.datetime(2020, 1, 1)
    assert numfmt.from_excel(43831, True, False) == dt.datetime(2024, 1, 2)  # the 1904 calendar
    assert numfmt.from_excel(59, False, False) == dt.datetime(1900, 2, 28)
    assert numfmt.from_excel(61, False, False) == dt.datetime(1900, 3, 1)  # Excel's 1900 leap-year bug
    assert numfmt.from_excel(0.5, False, False) == dt.time(12)
    assert numfmt.from_excel(0.9999999999, False, False) == dt.datetime(1900, 1, 1)  # rounds up to day 1
    assert numfmt.from_excel(1.0000001, False, True) == dt.timedelta(days=1, milliseconds=9)
    with pytest.raises(OverflowError):
        numfmt.from_excel(1e300, False, False)


def test_builtin_format_ids():
    assert [numfmt.builtin_format(i) for i in (0, 9, 14, 46, 49)] == [
        "General",
        "0%",
        "mm-dd-yy",
        "[h]:mm:ss",
        "@",
    ]
    assert [numfmt.builtin_format(i) for i in (27, 31, 36, 50, 58, 163)] == [None] * 6  # Chinese locale ids
    assert numfmt.is_builtin("General") and numfmt.is_builtin("0.00%") and not numfmt.is_builtin("0.0%")


def test_an_undeclared_custom_id_names_the_renumbered_custom_format():
    """openpyxl's convention, kept: declared non-built-in codes are renumbered from 164 in order of use."""
    styles = (
        '<numFmts><numFmt numFmtId="200" formatCode="0.0%"/><numFmt numFmtId="201" formatCode="0%"/>'
        '<numFmt numFmtId="202" formatCode="yyyy/m/d"/></numFmts>'
        '<cellXfs><xf numFmtId="0"/><xf numFmtId="201"/><xf numFmtId="202"/><xf numFmtId="200"/>'
        '<xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/></cellXfs>'
    )
    cells = "".join(
        f'<c r="{c}1" s="{s}"><v>43831</v></c>' for c, s in zip("ABCDEF", range(1, 7), strict=True)
    )
    sheet = one_sheet(f'<row r="1">{cells}</row>', styles=styles)
    shown = [sheet.get(1, c).number_format for c in range(1, 7)]
    assert shown == ["0%", "yyyy/m/d", "0.0%", "yyyy/m/d", "0.0%", None]
    assert [sheet.get(1, c).value for c in range(1, 7)] == [
        43831,
        dt.datetime(2020, 1, 1),
        43831,
        43831,
        43831,
        43831,
    ]


_PROBE = """
import sys
from tests.test_xlsx_reader import package
from analysis.ingest.xlsx import read_xlsx
plain = '<numFmts><numFmt numFmtId="176" formatCode="0.00_ "/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="0"/><xf numFmtId="176"/></cellXfs>'
rows = '<sheetData><row r="1"><c r="A1" s="1"><v>1</v></c><c r="B1" s="2"><v>2.5</v></c></row></sheetData>'
read_xlsx(package([("数据", rows)], styles=plain))
before = "openpyxl" in sys.modules
sheet = read_xlsx(package([("数据", rows)], styles=plain.replace("0.00_ ", "yyyy/m/d")))[0]
print(before, "openpyxl" in sys.modules, repr(sheet.get(1, 2).value))
"""


def test_openpyxl_is_imported_only_when_a_format_needs_it():
    """The reader pays for openpyxl's import (about 80 ms with pandas loaded) only on a date or built-in
    format: checked in a fresh process, as the test process has openpyxl loaded already."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(analysis.__file__).parents[1]), str(root)])}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "datetime.datetime(1900,", "1,", "2,", "12,", "0)"]


def test_hidden_rows_columns_and_sheets_merges():
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="3" hidden="1"><c r="A3"><v>3</v></c></row>'
    body = (
        '<cols><col min="2" max="3" hidden="true"/><col min="5" max="5" width="9"/></cols>'
        f"<sheetData>{rows}</sheetData>"
        '<mergeCells count="2"><mergeCell ref="A1:C1"/><mergeCell ref="A3:A4"/></mergeCells>'
    )
    sheets = read_xlsx(package([("数据", body), ("隐藏", "<sheetData/>")], states={"隐藏": "hidden"}))
    assert [s.hidden for s in sheets] == [False, True]
    sheet = sheets[0]
    assert sheet.hidden_rows == {3} and sheet.hidden_cols == {2, 3}
    assert sheet.merged == ["A1:C1", "A3:A4"]


def test_merged_cells_are_filled_from_the_top_left(tmp_path: Path):
    body = (
        '<sheetData><row r="1"><c r="A1" s="1"><v>0.5</v></c></row></sheetData>'
        '<mergeCells count="1"><mergeCell ref="A1:B2"/></mergeCells>'
    )
    path = tmp_path / "合并.xlsx"
    path.write_bytes(package([("数据", body)]))
    sheet = read_workbook(path).sheets[0]
    assert sheet.get(2, 2) == Cell(value=0.5, number_format="0%", origin="A1")


def test_cells_and_rows_without_references_follow_their_order():
    sheet = one_sheet(
        '<row><c><v>1</v></c><c><v>2</v></c></row><row><c r="C2"><v>3</v></c><c><v>4</v></c></row>'
    )
    assert sorted(sheet.cells) == [(1, 1), (1, 2), (2, 3), (2, 4)]


def test_chart_sheets_are_skipped_and_a_far_cell_costs_nothing():
    sheets = read_xlsx(
        package(
            [("数据", '<sheetData><row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row></sheetData>')],
            chart=True,
        )
    )
    assert [s.name for s in sheets] == ["数据"]
    assert list(sheets[0].cells) == [(1_048_576, 16_384)]


def test_no_private_openpyxl_api_in_the_package():
    src = Path(__file__).resolve().parents[1] / "src"
    private = re.compile(r"openpyxl\.(reader|worksheet\._|xml)|\._cell_styles|_number_formats")
    hits = [p for p in src.rglob("*.py") if private.search(p.read_text(encoding="utf-8"))]
    assert hits == []
