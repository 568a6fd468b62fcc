"""Hardening II (issue 9): the cases added to the hostile corpus, in :data:`CASES_II`.

Each file sits in the same ``<region>/<year>/`` folder as the first corpus, beside the good files, and says
what must come of it: the issue codes at exact cells, values that still load (some with a warning at their
cell). Values loaded here use indicators no other corpus file loads, so no duplicate conflicts arise.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from tests.hostile_corpus import (
    _MAIN_NS,
    DATA_SHEET,
    HEADER,
    Case,
    _case,
    _good_xlsx,
    _indicator,
    _replace_members,
    _save,
    _xml_row,
    catalog_values,
    data_workbook,
    value_cell,
    value_rows,
    workbook_bytes,
)

# --- case 9: digits that only look like digits -------------------------------------------------------

# (indicator, text): each a bad-number naming the character; Arabic-Indic digits are refused too (decision).
LOOK_ALIKE = [
    ("disclosure.poverty_items", "6736①"),
    ("disclosure.environment_items", "6736¹"),
    ("disclosure.welfare_items", "10⁴"),
    ("disclosure.policies_published", "①②"),
    ("disclosure.netizen_replies", "৪০"),
    ("disclosure.hotline_cases", "1٠5"),
    ("disclosure.press_releases", "٦٧٣٦"),
]
FULL_WIDTH = ("functions.illegal_fuel_stations_closed", "６７３６", 6736)  # full-width digits are digits


def _rows(pairs) -> list[tuple]:
    return [(_indicator(i).indicator_id, _indicator(i).name_zh, _indicator(i).unit, v, "") for i, v in pairs]


def _look_alike(folder: Path, name: str) -> Path:
    rows = _rows([*LOOK_ALIKE, FULL_WIDTH[:2]])
    return _save(folder, name, workbook_bytes(data_workbook(rows)))


# --- case 2: values of 1e15 and more ---------------------------------------------------------------


def _huge(folder: Path, name: str) -> Path:
    rows = _rows([("functions.power_items_cancelled", 1e15), ("functions.power_items_added", "10000000亿")])
    return _save(folder, name, workbook_bytes(data_workbook(rows)))


# --- case 3: Excel's escape of a lone surrogate in a note ---------------------------------------------

SURROGATE_NOTE = "说明_xD800_"


def _surrogate_note(folder: Path, name: str) -> Path:
    ind = _indicator("functions.power_items_before")
    rows = [(ind.indicator_id, ind.name_zh, ind.unit, 100, SURROGATE_NOTE)]
    return _save(folder, name, workbook_bytes(data_workbook(rows)))


# --- case 5: one stray character at the last cell of the sheet ---------------------------------------


def _stray_cell(folder: Path, name: str) -> Path:
    wb = data_workbook(_rows([("functions.power_items_after", 120)]))
    wb.active["XFD1048576"] = "x"
    return _save(folder, name, workbook_bytes(wb))


# --- worksheet XML written directly (formulas with cached values, hidden columns, many merges) -------


def _sheet(rows: list[str], *, cols: str = "", merges: list[str] = ()) -> bytes:
    merge_xml = ""
    if merges:
        merge_xml = f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
        merge_xml += "</mergeCells>"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN_NS}">'
        + cols
        + "<sheetData>"
        + "".join(rows)
        + "</sheetData>"
        + merge_xml
        + "</worksheet>"
    ).encode("utf-8")


def _with_sheet(folder: Path, name: str, sheet: bytes) -> Path:
    return _save(folder, name, _replace_members(_good_xlsx(), {"xl/worksheets/sheet1.xml": sheet}))


def _text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# --- case 6: thousands of merge ranges ---------------------------------------------------------------

MERGE_COPIES = 37_000
MERGE_BLOCKS = 25  # distinct 100 x 100 merges: the 21st goes beyond the fill budget (200,000 cells)
MERGE_NOTICE_CELL = "H2001"


def _merge_flood(folder: Path, name: str) -> Path:
    ind = _indicator("functions.power_items_basis_revised")
    rows = [
        '<row r="1">' + _text_cell("A1", "统计表") + _text_cell("H1", "说明") + "</row>",
        _xml_row(3, HEADER),
        _xml_row(4, [1, ind.indicator_id, ind.name_zh, ind.unit, 7, ""]),
    ]
    rows += [
        f'<row r="{1 + 100 * k}">{_text_cell(f"H{1 + 100 * k}", "说明")}</row>'
        for k in range(1, MERGE_BLOCKS)
    ]
    rows.sort(key=lambda r: int(r.split('"')[1]))
    merges = ["H1:DC100"] * MERGE_COPIES + [
        f"H{1 + 100 * k}:DC{100 + 100 * k}" for k in range(1, MERGE_BLOCKS)
    ]
    return _with_sheet(folder, name, _sheet(rows, merges=merges))


# --- case 10: a hidden stale value column and a hidden row --------------------------------------------

HIDDEN_HEADER = ["指标编码", "指标名称", "单位", "本年数", "数值", "备注"]


def _hidden_columns(folder: Path, name: str) -> Path:
    welfare, policies = _indicator("disclosure.welfare_items"), _indicator("disclosure.policies_published")
    rows = [
        _xml_row(3, HIDDEN_HEADER),
        _xml_row(4, [welfare.indicator_id, welfare.name_zh, welfare.unit, 1, 11, "D 列是去年的数"]),
        _xml_row(5, [policies.indicator_id, policies.name_zh, policies.unit, 2, 12, ""]).replace(
            '<row r="5">', '<row r="5" hidden="1">'
        ),
    ]
    cols = '<cols><col min="4" max="4" width="0" hidden="1" customWidth="1"/></cols>'
    return _with_sheet(folder, name, _sheet(rows, cols=cols))


# --- case 13: values from another file, the network, a random function ---------------------------------

FORMULAS = [  # (indicator, formula, cached value, warns)
    ("disclosure.poverty_items", "[1]Sheet1!A1", 5, True),
    ("disclosure.environment_items", '_xlfn.WEBSERVICE("http://example.invalid/n")', 6, True),
    ("disclosure.press_releases", "RANDBETWEEN(1,9)", 7, True),
    ("disclosure.incidents_resolved", "SUM(1,2)", 3, False),
]


def _formulas(folder: Path, name: str) -> Path:
    rows = [_xml_row(3, HEADER)]
    for n, (indicator_id, formula, cached, _warns) in enumerate(FORMULAS):
        ind, r = _indicator(indicator_id), 4 + n
        cells = _xml_row(r, [n + 1, ind.indicator_id, ind.name_zh, ind.unit]).removesuffix("</row>")
        text = formula.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        rows.append(cells + f'<c r="E{r}"><f>{text}</f><v>{cached}</v></c></row>')
    return _with_sheet(folder, name, _sheet(rows))


# --- case 7: an .ods whose repeated rows and columns declare 20 million cells ---------------------------

ODS_ROWS, ODS_COLS = 200_000, 100


def _ods_bomb(folder: Path, name: str) -> Path:
    t = 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        f'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" {t} office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{DATA_SHEET}">'
        f'<table:table-row table:number-rows-repeated="{ODS_ROWS}">'
        f'<table:table-cell table:number-columns-repeated="{ODS_COLS}" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED
        )
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return _save(folder, name, buf.getvalue())


# --- case 14: the same part twice in one zip ------------------------------------------------------------


def _duplicate_entry(folder: Path, name: str) -> Path:
    good = _good_xlsx()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name": exactly what this case is
            dst.writestr("xl/worksheets/sheet1.xml", _sheet([_xml_row(3, HEADER)]))
    return _save(folder, name, buf.getvalue())


# --- case 15: a Strict Open XML workbook -----------------------------------------------------------------

_TRANSITIONAL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def _strict(folder: Path, name: str) -> Path:
    good = _good_xlsx()
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    strict = {
        n: data.replace(_TRANSITIONAL.encode(), _STRICT.encode()).replace(
            _MAIN_NS.encode(), b"http://purl.oclc.org/ooxml/spreadsheetml/main"
        )
        for n, data in parts.items()
        if n.endswith((".xml", ".rels"))
    }
    return _save(folder, name, _replace_members(good, strict))


def _look_alike_cells():
    return tuple((DATA_SHEET, value_cell(i), ("bad-number",)) for i in range(len(LOOK_ALIKE)))


CASES_II: list[Case] = [
    _case(
        "look-alike-digits",
        "数字变体.xlsx",
        "看起来像数字的字符：6736①、6736¹、10⁴、①②、孟加拉数字 ৪০、阿拉伯-印度数字 1٠5 与 ٦٧٣٦；全角 ６７３６",
        _look_alike,
        "xlsx",
        cells=_look_alike_cells(),
        values={FULL_WIDTH[0]: FULL_WIDTH[2]},
    ),
    _case(
        "huge-values",
        "超大数值.xlsx",
        "数值 1e15（数字单元格）与文本 10000000亿",
        _huge,
        "xlsx",
        cells=(
            (DATA_SHEET, value_cell(0), ("out-of-range",)),
            (DATA_SHEET, value_cell(1), ("out-of-range",)),
        ),
    ),
    _case(
        "surrogate-note",
        "无效字符.xlsx",
        "备注中 Excel 转义的孤立代理码位 _xD800_",
        _surrogate_note,
        "xlsx",
        warnings=((DATA_SHEET, "F4", "invalid-character"),),
        values={"functions.power_items_before": 100},
    ),
    _case(
        "stray-far-cell",
        "远端单元格.xlsx",
        "XFD1048576 单元格中的一个字符（5 KB 文件）",
        _stray_cell,
        "xlsx",
        values={"functions.power_items_after": 120},
    ),
    _case(
        "merge-flood",
        "合并单元格.xlsx",
        f"{MERGE_COPIES:,} 个相同的合并区域 H1:DC100 和 {MERGE_BLOCKS - 1} 个不同的 100×100 合并区域",
        _merge_flood,
        "xlsx",
        warnings=((DATA_SHEET, MERGE_NOTICE_CELL, "merge-limit"),),
        values={"functions.power_items_basis_revised": 7},
    ),
    _case(
        "hidden-columns",
        "隐藏行列.xlsx",
        "隐藏的“本年数”列是旧数，可见的“数值”列是新数；一个数值在隐藏行中",
        _hidden_columns,
        "xlsx",
        warnings=((DATA_SHEET, "E5", "hidden-cell"),),
        values={"disclosure.welfare_items": 11, "disclosure.policies_published": 12},
    ),
    _case(
        "formula-sources",
        "公式来源.xlsx",
        "外部链接 [1]Sheet1!A1、WEBSERVICE()、RANDBETWEEN() 的缓存结果；普通 SUM()",
        _formulas,
        "xlsx",
        warnings=tuple((DATA_SHEET, f"E{4 + n}", "formula-source") for n, f in enumerate(FORMULAS) if f[3]),
        values={i: v for i, _f, v, _w in FORMULAS},
    ),
    _case(
        "ods-repeat-bomb",
        "重复行炸弹.ods",
        f"1 KB 的 .ods，number-rows/columns-repeated 声明 {ODS_ROWS * ODS_COLS:,} 个单元格",
        _ods_bomb,
        "ods",
        file_codes=("unsafe-file",),
    ),
    _case(
        "duplicate-entry",
        "同名部件.xlsx",
        "压缩包中同一部件名出现两次（后一个是另一张表）",
        _duplicate_entry,
        "unsafe-file",
        file_codes=("unsafe-file",),
    ),
    _case(
        "strict-ooxml",
        "严格格式.xlsx",
        "“Strict Open XML 电子表格”格式保存的工作簿",
        _strict,
        "unreadable-file",
        file_codes=("unreadable-file",),
    ),
]


# --- folder cases (not one file each): what a raw folder can hold besides workbooks ----------------------

GBK_DEPARTMENT = "县水利局"


def gbk_named_file(folder: Path) -> bytes:
    """A workbook whose name is GBK bytes (an archive made on Chinese Windows, unpacked on Linux)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = os.fsencode(folder) + b"/" + f"{GBK_DEPARTMENT}.xlsx".encode("gbk")
    with open(name, "wb") as fh:
        fh.write(workbook_bytes(data_workbook(value_rows(catalog_values(GBK_DEPARTMENT)))))
    return name


def drafts(folder: Path, count: int, department: str = "县审计局") -> list[Path]:
    """``count`` re-submitted drafts of one department's form, each with different values (issue 9 case 4)."""
    values = catalog_values(department)
    paths = []
    for n in range(count):
        rows = value_rows({k: v + n for k, v in values.items()})
        paths.append(_save(folder, f"{department}_草稿{n:04d}.xlsx", workbook_bytes(data_workbook(rows))))
    return paths


def special_entries(folder: Path) -> dict[str, str]:
    """A FIFO, a broken link and a folder named like a workbook in a year folder: name -> what it is."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "县水利局.xlsx")
    (folder / "县审计局.xlsx").symlink_to(folder / "不存在.xlsx")
    (folder / "县政府办公室.xlsx").mkdir()
    return {"县水利局.xlsx": "管道", "县审计局.xlsx": "失效的快捷方式", "县政府办公室.xlsx": "文件夹"}
