"""Write the shipped sample submissions ``data/raw/通许县/2019/<department>.xlsx`` from the spec CSV.

Each of the eight departments of the spec gets one workbook carrying exactly its figures of the spec, laid
out the way departments really fill them in: a merged title row, a unit row, headers renamed from the
synonym lists, code columns in some files and names only in others, ``序号`` columns, section label rows,
a ``注：…`` note row, units written in cells (``2660项``), ``98.1%`` as text, 0.8 formatted as ``0%``,
``1.1万``, ``500余``, full-width digits, ``6,736``, a formula with its cached result, and a ``基本信息``
sheet in some files. The figures come from the CSV given on the command line, never from this file: the
layouts below only say how each department writes its own figures.

The output is byte-for-byte reproducible (fixed document timestamps and zip entry dates), so re-running
the script on an unchanged CSV leaves ``git status`` clean.

Usage::

    python scripts/make_sample_data.py [--spec ../shared/spec/tongxu_2019_indicators.csv] [--out data/raw]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from analysis.core.catalog import Catalog, Expression, load_catalog

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "spec" / "tongxu_2019_indicators.csv"
DEFAULT_OUT = REPO / "data" / "raw"
REGION = "通许县"
YEAR = 2019
# Fixed metadata so that the files are reproducible byte for byte.
FIXED_TIME = dt.datetime(2020, 1, 10, 9, 0, 0)
ZIP_TIME = (2020, 1, 10, 9, 0, 0)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SECTION_NUMERALS = re.compile(r"^一[（(](?P<n>[一二三四五六七八九十]+)[)）](?P<title>.+)$")

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@dataclass(frozen=True)
class Figure:
    """One row of the spec CSV."""

    indicator_id: str
    name_zh: str
    unit: str
    section: str
    department: str
    value: float
    qualifier: str


@dataclass(frozen=True)
class Layout:
    """How one department lays out its workbook.

    ``columns`` are (header as written, role) with role one of seq, code, name, unit, value, note.
    ``styles`` say how a figure's value cell is written (see :func:`value_cell`); unlisted figures are
    plain numbers. ``names`` replace the catalog name by a spelling the department uses (checked to match).
    """

    department: str
    sheet: str
    columns: tuple[tuple[str, str], ...]
    unit_row: str
    styles: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    formulas: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (formula, number format)
    sections: bool = False
    footnote: str = ""
    merge_footnote: bool = False
    info: dict[str, object] | None = None  # 基本信息 rows, or None for no such sheet
    info_first: bool = False  # 基本信息 before the data sheet
    extra_blank_sheet: bool = False


INFO_KEYS = ("填报单位", "所属地区", "统计年度", "填报人", "联系电话", "填报日期")

LAYOUTS: tuple[Layout, ...] = (
    Layout(
        department="县司法局",
        sheet="法治政府建设数据",
        columns=(
            ("序号", "seq"),
            ("指标编码", "code"),
            ("指标名称", "name"),
            ("单位", "unit"),
            ("2019年", "value"),
            ("备注", "note"),
        ),
        unit_row="填报单位（盖章）：通许县司法局　　　　　　　　　　　　统计时间：2019年1月1日—12月31日",
        styles={
            "leadership.study_books_printed": "qualified",
            "disputes.reconsideration_received": "fullwidth",
            "disputes.legal_service_rooms": "with_unit",
            "disputes.mediators": "with_unit",
            "disputes.mediation_cases": "thousands",
            "disputes.mediation_success": "with_unit",
            "disputes.mediation_success_rate": "percent_text",
        },
        formulas={
            # Every application accepted was concluded within the legal time limit: 审结 ÷ 受理.
            "disputes.reconsideration_on_time_rate": (
                "=[disputes.reconsideration_concluded]/[disputes.reconsideration_accepted]",
                "0%",
            ),
        },
        notes={
            "leadership.study_books_printed": "印刷学习用书",
            "disputes.mediation_success_rate": "调解成功件数÷调解件数",
        },
        sections=True,
        footnote="注：1. 本表数据统计期间为2019年1月1日至12月31日；2. 行政复议法定期限内审结率=审结件数÷受理件数。",
        merge_footnote=True,
        info={
            "填报单位": "县司法局",
            "所属地区": "通许县",
            "统计年度": "2019年",
            "填报人": "张某",
            "联系电话": "（略）",
            "填报日期": "2020年1月10日",
        },
    ),
    Layout(
        department="县政府办公室",
        sheet="Sheet1",
        columns=(
            ("序号", "seq"),
            ("项目", "name"),
            ("数量", "value"),
            ("计量单位", "unit"),
            ("备注", "note"),
        ),
        unit_row="填报单位：县政府办公室（政务公开办）",
        styles={
            "disclosure.poverty_items": "with_unit",
            "disclosure.environment_items": "with_unit",
            "disclosure.hotline_cases": "with_unit",
        },
        names={"disclosure.hotline_cases": "县长热线办理件"},
        notes={"disclosure.gov_interviews": "县政府领导参与政务访谈栏目"},
        footnote="注：以上数据由县政府办公室政务公开股统计。",
        extra_blank_sheet=True,
    ),
    Layout(
        department="县政务服务和大数据管理局",
        sheet="2019年度",
        columns=(("序号", "seq"), ("指标名称", "name"), ("单位", "unit"), ("本年数", "value")),
        unit_row="单位：项、个、%",
        styles={
            "functions.gov_service_items": "with_unit",
            "functions.high_freq_window_share": "percent_format",
        },
        footnote="注：高频事项比例为纳入综合窗口受理的高频事项占全部高频事项的比例。",
        info={
            "填报单位": "县政务服务和大数据管理局",
            "所属地区": "通许县",
            "统计年度": 2019,
            "填报人": "李某",
            "联系电话": "（略）",
            "填报日期": dt.datetime(2020, 1, 8),
        },
        info_first=True,
    ),
    Layout(
        department="县委机构编制委员会办公室",
        sheet="权责清单调整",
        columns=(
            ("序号", "seq"),
            ("指标代码", "code"),
            ("指标名称", "name"),
            ("单位", "unit"),
            ("完成数", "value"),
            ("说明", "note"),
        ),
        unit_row="单位：项",
        styles={"functions.power_items_after": "with_unit"},
        notes={
            "functions.power_items_before": "2019年权责清单调整前",
            "functions.power_items_after": "调整后公布的权责清单",
        },
        footnote="注：调整后行政职权事项以县政府公布的权责清单为准。",
        info={
            "填报单位": "县委编办",
            "所属地区": "通许县",
            "统计年度": "2019年",
            "填报人": "王某",
            "联系电话": "（略）",
            "填报日期": "2020-01-09",
        },
    ),
    Layout(
        department="县发展和改革委员会",
        sheet="Sheet1",
        columns=(("编码", "code"), ("名称", "name"), ("单位", "unit"), ("数值", "value")),
        unit_row="单位：条",
    ),
    Layout(
        department="县生态环境分局",
        sheet="统计表",
        columns=(
            ("序号", "seq"),
            ("指标", "name"),
            ("单位", "unit"),
            ("2019年度", "value"),
            ("备注", "note"),
        ),
        unit_row="填报单位：通许县生态环境分局",
        styles={
            "functions.polluting_firms_closed": "with_unit",
            "functions.clean_heating_households": "wan",
        },
        names={
            "functions.illegal_fuel_stations_closed": "取缔黑加油站（点）",
            "functions.clean_heating_households": '完成"双替代"户数',
        },
        notes={"functions.clean_heating_households": "电代煤、气代煤"},
        footnote="注：“双替代”指电代煤、气代煤。",
        info={
            "填报单位": "生态环境分局",
            "所属地区": "通许县",
            "统计年度": "2019年",
            "填报人": "赵某",
            "联系电话": "（略）",
            "填报日期": dt.datetime(2020, 1, 9),
        },
    ),
    Layout(
        department="县水利局",
        sheet="Sheet1",
        columns=(("指标名称", "name"), ("计量单位", "unit"), ("数值", "value")),
        unit_row="",
    ),
    Layout(
        department="县审计局",
        sheet="审计数据",
        columns=(
            ("序号", "seq"),
            ("代码", "code"),
            ("项目", "name"),
            ("单位", "unit"),
            ("数量", "value"),
            ("备注", "note"),
        ),
        unit_row="单位：个",
        styles={"oversight.poverty_audit_issues": "with_unit"},
        notes={"oversight.poverty_audit_projects": "扶贫审计调查"},
        info={
            "填报单位": "审计局",
            "所属地区": "通许县",
            "统计年度": 2019,
            "填报人": "陈某",
            "联系电话": "（略）",
            "填报日期": "2020年1月6日",
        },
    ),
)


class LayoutError(ValueError):
    """A layout cannot write the spec's figures faithfully (the spec changed: update the layout)."""


# --- reading the spec ----------------------------------------------------------------------------------


def read_spec(path: Path) -> list[Figure]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [
            Figure(
                indicator_id=row["indicator_id"],
                name_zh=row["name_zh"],
                unit=row["unit"],
                section=row["section"],
                department=row["department"],
                value=float(row["value"]),
                qualifier=row.get("qualifier") or "",
            )
            for row in csv.DictReader(fh)
        ]


# --- value cells ---------------------------------------------------------------------------------------


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def value_cell(fig: Figure, style: str) -> tuple[object, str | None]:
    """The cell content (and number format) a department writes for ``fig`` in ``style``."""
    text = number_text(fig.value)
    if style == "plain":
        if fig.qualifier:
            raise LayoutError(
                f"{fig.indicator_id}: a qualified figure ({fig.qualifier}) cannot be a plain number"
            )
        return (int(fig.value) if fig.value.is_integer() else fig.value), None
    if style == "qualified":
        if not fig.qualifier:
            raise LayoutError(f"{fig.indicator_id}: style 'qualified' needs a qualifier in the spec")
        return f"{text}{fig.qualifier}", None
    if fig.qualifier:
        raise LayoutError(f"{fig.indicator_id}: style {style!r} would drop the qualifier {fig.qualifier}")
    if style == "with_unit":
        return f"{text}{fig.unit}", None
    if style == "thousands":
        if not fig.value.is_integer():
            raise LayoutError(f"{fig.indicator_id}: thousands separators need a whole number")
        return f"{int(fig.value):,}", None
    if style == "fullwidth":
        return text.translate(FULL_WIDTH), None
    if style == "percent_text":
        if fig.unit != "%":
            raise LayoutError(f"{fig.indicator_id}: percent style on a {fig.unit} figure")
        return f"{text}%", None
    if style == "percent_format":
        if fig.unit != "%":
            raise LayoutError(f"{fig.indicator_id}: percent style on a {fig.unit} figure")
        return fig.value / 100, "0%" if fig.value.is_integer() else "0.0%"
    if style == "wan":
        tens_of_thousands = fig.value / 10_000
        shown = f"{tens_of_thousands:g}"
        if float(shown) * 10_000 != fig.value:
            raise LayoutError(f"{fig.indicator_id}: {fig.value} cannot be written exactly in 万")
        return f"{shown}万", None
    raise LayoutError(f"unknown value style {style!r}")


def section_label(section: str) -> str:
    """``一(八)化解社会矛盾纠纷`` → ``八、化解社会矛盾纠纷``, the way a department's table labels a part."""
    match = SECTION_NUMERALS.match(section)
    return f"{match['n']}、{match['title']}" if match else section


# --- one workbook --------------------------------------------------------------------------------------


def build_workbook(layout: Layout, figures: list[Figure], catalog: Catalog) -> tuple[bytes, dict]:
    """The workbook for one department; returns (xlsx bytes, formula cells to patch: ref -> cached value)."""
    known = {f.indicator_id for f in figures}
    for table in (layout.styles, layout.names, layout.notes, layout.formulas):
        stray = set(table) - known
        if stray:
            raise LayoutError(
                f"{layout.department}: layout names figures it does not report: {sorted(stray)}"
            )

    wb = openpyxl.Workbook()
    wb.properties.creator = layout.department
    wb.properties.lastModifiedBy = layout.department
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws = wb.active
    ws.title = layout.sheet
    roles = [role for _, role in layout.columns]
    col = {role: i + 1 for i, role in enumerate(roles)}
    width = len(layout.columns)
    last = get_column_letter(width)

    ws.cell(1, 1, f"{REGION}{layout.department.removeprefix('县')}{YEAR}年度法治政府建设数据统计表")
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    row = 2
    if layout.unit_row:
        ws.cell(2, 1, layout.unit_row)
        ws.merge_cells(f"A2:{last}2")
        row = 3
    for i, (header, _) in enumerate(layout.columns, start=1):
        c = ws.cell(row, i, header)
        c.font = Font(bold=True)
        c.border = BOX
        c.alignment = Alignment(horizontal="center")
    header_row = row

    # First pass: rows of each figure (formulas refer to other figures' cells).
    plan: list[tuple[str, Figure | str]] = []
    current_section = None
    for fig in figures:
        if layout.sections and fig.section != current_section:
            plan.append(("section", section_label(fig.section)))
            current_section = fig.section
        plan.append(("figure", fig))
    value_ref: dict[str, str] = {}
    for offset, (kind, item) in enumerate(plan, start=1):
        if kind == "figure":
            value_ref[item.indicator_id] = f"{get_column_letter(col['value'])}{header_row + offset}"

    patches: dict[str, float] = {}
    seq = 0
    for offset, (kind, item) in enumerate(plan, start=1):
        r = header_row + offset
        if kind == "section":
            seq = 0
            ws.cell(r, 1, item).font = Font(bold=True)
            name_col = col["name"]
            if name_col > 1:
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=name_col)
            continue
        fig: Figure = item
        seq += 1
        if "seq" in col:
            ws.cell(r, col["seq"], seq)
        if "code" in col:
            ws.cell(r, col["code"], fig.indicator_id)
        name = layout.names.get(fig.indicator_id, fig.name_zh)
        ws.cell(r, col["name"], name)
        if "unit" in col:
            ws.cell(r, col["unit"], fig.unit)
        if "note" in col and fig.indicator_id in layout.notes:
            ws.cell(r, col["note"], layout.notes[fig.indicator_id])
        cell = ws.cell(r, col["value"])
        if fig.indicator_id in layout.formulas:
            template, number_format = layout.formulas[fig.indicator_id]
            formula, cached = _formula(template, value_ref, figures)
            shown = cached * 100 if "%" in number_format else cached  # as Excel shows it
            if abs(shown - fig.value) > 1e-9 * max(1.0, abs(fig.value)):
                raise LayoutError(
                    f"{fig.indicator_id}: formula {formula} shows {shown}, spec says {fig.value}"
                )
            cell.value = formula
            cell.number_format = number_format
            patches[cell.coordinate] = cached
        else:
            content, number_format = value_cell(fig, layout.styles.get(fig.indicator_id, "plain"))
            cell.value = content
            if number_format:
                cell.number_format = number_format
        for c in range(1, width + 1):
            ws.cell(r, c).border = BOX
        _check_cell(layout, fig, name, catalog)
    end = header_row + len(plan)
    if layout.footnote:
        ws.cell(end + 1, 1, layout.footnote)
        if layout.merge_footnote:
            ws.merge_cells(start_row=end + 1, start_column=1, end_row=end + 1, end_column=width)
            ws.cell(end + 1, 1).alignment = Alignment(wrap_text=True)
    for i, (_, role) in enumerate(layout.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = {"name": 44, "code": 40, "note": 24}.get(role, 10)

    if layout.info is not None:
        info = wb.create_sheet("基本信息", 0 if layout.info_first else None)
        for i, key in enumerate(INFO_KEYS, start=1):
            info.cell(i, 1, key)
            value = layout.info[key]
            c = info.cell(i, 2, value)
            if isinstance(value, dt.datetime):
                c.number_format = "yyyy-mm-dd"
        info.column_dimensions["A"].width = 12
        info.column_dimensions["B"].width = 28
        dept = catalog.department(str(layout.info["填报单位"]))
        if dept != layout.department:
            raise LayoutError(
                f"{layout.department}: 基本信息 names {layout.info['填报单位']!r}, which is {dept!r}"
            )
    if layout.extra_blank_sheet:
        wb.create_sheet("Sheet2")
    wb.active = wb.sheetnames.index(layout.sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet_part = f"xl/worksheets/sheet{wb.sheetnames.index(layout.sheet) + 1}.xml"
    return buffer.getvalue(), {sheet_part: patches} if patches else {}


def _formula(template: str, value_ref: dict[str, str], figures: list[Figure]) -> tuple[str, float]:
    """Replace ``[indicator_id]`` by cell references; evaluate the same expression for the cached value."""
    values = {f.indicator_id: f.value for f in figures}
    formula = re.sub(r"\[([a-z_.0-9]+)\]", lambda m: value_ref[m[1]], template)
    # The same arithmetic over indicator ids, evaluated safely by the catalog's expression class.
    cached = Expression(re.sub(r"\[([a-z_.0-9]+)\]", r"\1", template.lstrip("="))).evaluate(values)
    return formula, float(cached)


def _check_cell(layout: Layout, fig: Figure, name: str, catalog: Catalog) -> None:
    """Fail early if the written name is not the spec figure's in the catalog, or they disagree on unit."""
    ind = catalog.by_name(name)
    if ind is None or ind.indicator_id != fig.indicator_id:
        raise LayoutError(
            f"{layout.department}: name {name!r} does not match {fig.indicator_id} in the catalog"
        )
    if ind.unit != fig.unit or ind.department != fig.department:
        raise LayoutError(f"{fig.indicator_id}: catalog and spec disagree on unit or department")
    # The value itself is written from the spec by value_cell(); whether ingest reads it back is what the
    # tests check (tests/test_sample_data.py), so it is not filtered through the project's parser here.


# --- packaging -----------------------------------------------------------------------------------------


def _cached_value(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def finalize(data: bytes, patches: dict[str, dict[str, float]]) -> bytes:
    """Store formulas' cached results and make the zip reproducible (fixed entry dates, same order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            for ref, cached in patches.get(info.filename, {}).items():
                text = content.decode("utf-8")
                pattern = re.compile(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v>[^<]*</v>)?(</c>)')
                text, count = pattern.subn(rf"\1\2<v>{_cached_value(cached)}</v>\4", text)
                if count != 1:
                    raise LayoutError(f"formula cell {ref} not found in {info.filename}")
                content = text.encode("utf-8")
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time as "modified"
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_all(figures: list[Figure], catalog: Catalog) -> dict[str, bytes]:
    """File name → workbook bytes for every department of the spec."""
    by_dept: dict[str, list[Figure]] = {}
    for fig in figures:
        by_dept.setdefault(fig.department, []).append(fig)
    layouts = {layout.department: layout for layout in LAYOUTS}
    missing = set(by_dept) - set(layouts)
    if missing:
        raise LayoutError(f"no layout for departments {sorted(missing)}")
    files = {}
    for dept, figs in by_dept.items():
        data, patches = build_workbook(layouts[dept], figs, catalog)
        files[f"{dept}.xlsx"] = finalize(data, patches)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="生成示例报表 data/raw/通许县/2019/<单位>.xlsx（数据取自规格 CSV）"
    )
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="规格 CSV（默认 ../shared/spec/…）")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="原始数据根目录（默认 data/raw）")
    parser.add_argument("--catalog", type=Path, default=None, help="指标目录 YAML（默认使用内置目录）")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"找不到规格文件：{args.spec}", file=sys.stderr)
        return 2
    figures = read_spec(args.spec)
    files = build_all(figures, load_catalog(args.catalog))
    target = args.out / REGION / str(YEAR)
    for name, data in sorted(files.items()):
        write_atomic(target / name, data)
        print(f"{target / name}  ({len(data)} 字节)")
    print(f"共 {len(files)} 个文件，{len(figures)} 项数据")
    return 0


if __name__ == "__main__":
    sys.exit(main())
