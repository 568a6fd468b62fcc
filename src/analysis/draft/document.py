"""Write a :class:`~analysis.draft.plan.Plan` as a Word document (python-docx).

Every text, including what departments submitted (names, notes), goes in as a plain text run: never a
field code, hyperlink or formula (a note ``=HYPERLINK(…)`` stays those characters). Characters XML
cannot carry (control characters) and bidi controls are dropped from the run
(:func:`~analysis.core.text.xml_safe`; ingest reported each), nothing else is changed.
"""

from __future__ import annotations

import io

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.image.image import Image
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from analysis.core.text import xml_safe
from analysis.draft import plan as dp
from analysis.draft import style as st
from analysis.draft.plan import Plan, Run, Section, Table

PICTURE_MAX_MM = (150, 190)  # width, height of a figure on the page
APPENDIX_COLUMNS = ("序号", "指标", "数值", "单位", "填报单位", "来源（文件 / 工作表 / 单元格）", "备注")
APPENDIX_WIDTHS_MM = (12, 52, 20, 12, 35, 64, 30)  # the landscape text width: 297 − 37 − 35 − ~2 mm
NOTE_HEADING = "附：数据核对说明（致起草人，定稿前删除）"


def plain(text: object) -> str:
    return xml_safe(str(text), mark="")


def add_runs(paragraph, runs: list[Run]) -> None:
    for r in runs:
        run = paragraph.add_run(plain(r.text))
        if r.placeholder:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _paragraph(doc, text: str = "", style: str = st.BODY, placeholder: bool = False):
    p = doc.add_paragraph()
    p._p.style = _style_ids(doc)[style]  # by id: python-docx looks a name up in milliseconds each time
    if text:
        add_runs(p, [Run(text, placeholder)])
    return p


def _style_ids(doc) -> dict[str, str]:
    ids = getattr(doc, "_fazhi_style_ids", None)
    if ids is None:
        ids = {s.name: s.style_id for s in doc.styles}
        doc._fazhi_style_ids = ids
    return ids


def render(plan: Plan) -> bytes:
    """The .docx file of ``plan``."""
    doc = docx.Document()
    st.apply_styles(doc)
    props = doc.core_properties
    props.title = plain(f"{plan.region}{plan.title}（初稿）")
    props.author = "fazhi-analysis"
    props.comments = "由数据自动起草的初稿：黄色底纹处请起草人填写或删除。"
    _paragraph(doc, "【发文字号】", st.TITLE, placeholder=True).runs[0].font.size = st.SIZE_3
    _paragraph(doc, plan.title, st.TITLE)
    _paragraph(doc, "", st.BODY)
    add_runs(_no_indent(_paragraph(doc)), plan.addressee)
    add_runs(_paragraph(doc), plan.opening)
    _paragraph(doc, dp.PART_ONE, st.HEADING_1)
    for section in plan.sections:
        _section(doc, section)
    _paragraph(doc, dp.PART_TWO, st.HEADING_1)
    _paragraph(doc, dp.PART_TWO_PLACEHOLDER, placeholder=True)
    _paragraph(doc, dp.PART_THREE, st.HEADING_1)
    _paragraph(doc, dp.PART_THREE_PLACEHOLDER, placeholder=True)
    _paragraph(doc, "特此报告。")
    _paragraph(doc, "")
    for runs in (plan.signature, plan.date):
        p = _paragraph(doc)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(64)  # four characters in from the right, as signatures are
        add_runs(p, runs)
    _appendix(doc, plan)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _no_indent(p):
    p.paragraph_format.first_line_indent = Pt(0)
    return p


def _section(doc, section: Section) -> None:
    _paragraph(doc, section.heading, st.HEADING_2)
    for runs in section.paragraphs:
        add_runs(_paragraph(doc), runs)
    for table in section.tables:
        _figures_table(doc, table)
    for figure in section.figures:
        picture = _paragraph(doc, "", st.PICTURE)
        width, height = _picture_size(figure.path)
        picture.add_run().add_picture(str(figure.path), width=width, height=height)
        _paragraph(doc, figure.caption, st.CAPTION)


def _picture_size(path) -> tuple[Mm, Mm]:
    """Fit the figure into PICTURE_MAX_MM keeping its proportions (300 dpi: print resolution)."""
    image = Image.from_file(str(path))
    ratio = image.px_height / image.px_width
    width = min(PICTURE_MAX_MM[0], PICTURE_MAX_MM[1] / ratio)
    return Mm(width), Mm(width * ratio)


def _cell(cell, text: str, header: bool = False, placeholder: bool = False) -> None:
    p = cell.paragraphs[0]
    p._p.style = st.CELL_ID  # by id: python-docx's lookup by name costs milliseconds per cell
    add_runs(p, [Run(text, placeholder)])
    if header:
        p.runs[0].font.bold = True
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _figures_table(doc, table: Table) -> None:
    """Two figures a row: 指标 | 数值 | 指标 | 数值."""
    _paragraph(doc, table.caption, st.CAPTION).paragraph_format.keep_with_next = True
    rows = (len(table.rows) + 1) // 2
    grid = doc.add_table(rows=rows + 1, cols=4)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    cells = [row.cells for row in grid.rows]
    for k, head in enumerate(("指标", "数值", "指标", "数值")):
        _cell(cells[0][k], head, header=True)
    for n, (name, value) in enumerate(table.rows):
        row, col = 1 + n % rows, 2 * (n // rows)
        _cell(cells[row][col], name)
        _cell(cells[row][col + 1], value)
    _paragraph(doc, "")


def _appendix(doc, plan: Plan) -> None:
    st.landscape_section(doc)
    _no_indent(_paragraph(doc, "附表", st.HEADING_1))
    _paragraph(doc, plan.appendix_title, st.TITLE).runs[0].font.size = st.SIZE_3
    grid = doc.add_table(rows=len(plan.appendix) + 1, cols=len(APPENDIX_COLUMNS))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    rows = [row.cells for row in grid.rows]
    for k, head in enumerate(APPENDIX_COLUMNS):
        _cell(rows[0][k], head, header=True)
    _repeat_header(grid.rows[0])
    for n, row in enumerate(plan.appendix, start=1):
        texts = (str(n), row.name, row.value, row.unit, row.department, row.source, row.note)
        for k, text in enumerate(texts):
            _cell(rows[n][k], text, placeholder=(k == 2 and not row.reported and not row.source))
    for column, width in zip(grid.columns, APPENDIX_WIDTHS_MM, strict=True):
        column.width = Mm(width)
    for cells in rows:
        for cell, width in zip(cells, APPENDIX_WIDTHS_MM, strict=True):
            cell.width = Mm(width)
    if plan.writer_notes:
        _no_indent(_paragraph(doc, NOTE_HEADING, st.HEADING_2, placeholder=True))
        for k, note in enumerate(plan.writer_notes, start=1):
            _paragraph(doc, f"{k}. {note}", placeholder=True)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    node = OxmlElement("w:tblHeader")
    node.set(qn("w:val"), "true")
    trpr.append(node)
