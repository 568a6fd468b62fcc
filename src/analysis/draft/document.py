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
from analysis.draft.plan import Annex, Plan, Run, Section, Table

PICTURE_MAX_MM = (156, 190)  # width (the text block), height of a figure on the page
APPENDIX_COLUMNS = ("序号", "指标", "数值", "单位", "填报单位", "来源（文件 / 工作表 / 单元格）", "备注")
APPENDIX_WIDTHS_MM = (12, 52, 20, 12, 35, 64, 30)  # the landscape text width: 297 − 37 − 35 − ~2 mm
NOTE_HEADING = "附：数据核对说明（定稿前删除）"
ANNEX_LABEL = "附件"


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
    """The .docx file of ``plan``: the body (text only), the annex of tables and figures after the
    signature, the landscape appendix of sources and the note to the writer."""
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
    # from the last lines of the text to the date, one block: the signature never stands on a page alone
    ending = [_paragraph(doc, dp.PART_THREE_PLACEHOLDER, placeholder=True), _paragraph(doc, "特此报告。")]
    if plan.annex is not None:
        ending.append(_paragraph(doc, ""))
        ending.append(_paragraph(doc, f"{ANNEX_LABEL}：{plan.annex.title}"))  # 附件说明, under the text
    ending += [_paragraph(doc, ""), _paragraph(doc, "")]
    for runs in (plan.signature, plan.date):
        p = _paragraph(doc)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(64)  # four characters in from the right, as signatures are
        add_runs(p, runs)
        ending.append(p)
    for p in ending[:-1]:
        p.paragraph_format.keep_with_next = True
    if plan.annex is not None:
        _annex(doc, plan.annex)
    _appendix(doc, plan)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _annex(doc, annex: Annex) -> None:
    """附件 on a new page (GB/T 9704: after the signature): 附件 in 黑体 at the top left, its title, then the
    tables and the figures, each with its caption."""
    label = _no_indent(_paragraph(doc, ANNEX_LABEL, st.HEADING_1))
    label.paragraph_format.page_break_before = True
    _paragraph(doc, annex.title, st.TITLE)
    _paragraph(doc, "")
    for table in annex.tables:
        _figures_table(doc, table)
    for figure in annex.figures:
        picture = _paragraph(doc, "", st.PICTURE)
        width, height = _picture_size(figure.png)
        picture.add_run().add_picture(io.BytesIO(figure.png), width=width, height=height)
        caption = _paragraph(doc, figure.caption, st.CAPTION)
        if figure.note:
            caption.paragraph_format.keep_with_next = True
            _paragraph(doc, f"注：{figure.note}", st.CELL).alignment = WD_ALIGN_PARAGRAPH.CENTER
        _paragraph(doc, "", st.CELL)


def _no_indent(p):
    p.paragraph_format.first_line_indent = Pt(0)
    return p


def _section(doc, section: Section) -> None:
    _paragraph(doc, section.heading, st.HEADING_2)
    for runs in section.paragraphs:
        add_runs(_paragraph(doc), runs)


def _picture_size(png: bytes) -> tuple[Mm, Mm]:
    """The figure at its own size (drawn for print: 100 % keeps its text sizes), at most PICTURE_MAX_MM."""
    image = Image.from_blob(png)
    width_mm = image.px_width / image.horz_dpi * 25.4
    ratio = image.px_height / image.px_width
    width = min(width_mm, PICTURE_MAX_MM[0], PICTURE_MAX_MM[1] / ratio)
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
    _rows_whole(grid)
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
    _rows_whole(grid)
    for n, row in enumerate(plan.appendix, start=1):
        texts = (str(n), row.name, row.value, row.unit, row.department, row.source, row.note)
        for k, text in enumerate(texts):
            _cell(rows[n][k], text, placeholder=(k == 2 and not row.reported))
    for column, width in zip(grid.columns, APPENDIX_WIDTHS_MM, strict=True):
        column.width = Mm(width)
    for cells in rows:
        for cell, width in zip(cells, APPENDIX_WIDTHS_MM, strict=True):
            cell.width = Mm(width)
    if plan.writer_notes:
        _no_indent(_paragraph(doc, NOTE_HEADING, st.HEADING_2, placeholder=True))
        for k, note in enumerate(plan.writer_notes, start=1):
            _paragraph(doc, f"{k}. {note}", placeholder=True)


def _rows_whole(grid) -> None:
    """No row split across pages (``w:cantSplit``); the first row repeated atop every page (``w:tblHeader``)."""
    for k, row in enumerate(grid.rows):
        trpr = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit", "w:tblHeader") if k == 0 else ("w:cantSplit",):
            node = OxmlElement(tag)
            node.set(qn("w:val"), "true")
            trpr.append(node)
