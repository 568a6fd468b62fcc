"""``<单位>数据修改通知.docx``: a one-page notice to a department whose workbook has errors or warnings.

The same 公文 conventions as the Word draft (page, fonts, sizes, line spacing, page numbers: the styles of
:mod:`analysis.draft.style`): title, the department as addressee, which file and its marked-up copy, the
problems with their cell addresses in a small table (at most :data:`LISTED`; the rest are on the copy's
``修改说明``), and yellow-highlighted placeholders for the deadline, the contact person and the sender.
Every text goes in as a plain run (never a field or hyperlink); characters XML cannot carry are dropped.
"""

from __future__ import annotations

import io

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis.core.problems import SEVERITY_ZH, severity_rank
from analysis.core.text import clip

LISTED = 5  # problems listed in the notice's table (the rest are on the copy): the notice stays one page
COLUMNS = (
    ("序号", 12),
    ("级别", 14),
    ("位置", 28),
    ("问题及改正方法", 102),
)  # (title, mm): the 156 mm text width
DEADLINE, CONTACT, PHONE, SENDER, DATE = (
    "【截止日期】",
    "【联系人】",
    "【联系电话】",
    "【发文单位】",
    "【日期】",
)


def _text(value: object) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def notice_name(department: str) -> str:
    return f"{department}数据修改通知.docx"


def render_notice(
    region: str, year: int, department: str, files: list[str], books: list[str], rows: list[dict]
) -> bytes:
    """The notice (.docx bytes) for ``department``: ``files`` it sent (relative to the raw folder),
    ``books`` the names of their marked-up copies, ``rows`` its problems (issue rows)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.shared import Mm, Pt

    from analysis.draft import style as st

    doc = docx.Document()
    st.apply_styles(doc)
    doc.core_properties.title = _text(f"{department}数据修改通知")
    doc.core_properties.author = "fazhi-analysis"

    def paragraph(parts: list[tuple[str, bool]], style: str = st.BODY, indent: bool = True):
        p = doc.add_paragraph(style=style)
        if not indent:
            p.paragraph_format.first_line_indent = Pt(0)
        for text, placeholder in parts:
            run = p.add_run(_text(text))
            if placeholder:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        return p

    paragraph([("关于修改数据报表的通知", False)], st.TITLE)
    paragraph([("", False)])
    paragraph([(f"{department}：", False)], indent=False)
    sent = "、".join(f"《{clip(f.rsplit('/', 1)[-1], 24)}》" for f in files) or "报表"
    marked = "、".join(f"《{clip(b.rsplit('/', 1)[-1], 24)}》" for b in books)
    converted = any(f.lower().endswith((".xls", ".ods", ".et")) for f in files)
    errors = sum(r["severity"] == "error" for r in rows)
    warnings = sum(r["severity"] == "warning" for r in rows)
    body = f"你单位报送的{year}年度法治政府建设数据报表{sent}经核对，有错误 {errors} 项、警告 {warnings} 项，出错的数值未能导入。"
    if marked:
        body += f"请对照标注副本{marked}（问题单元格已填色并加批注，首页“修改说明”列出全部问题及改正方法）逐项改正，"
        body += "副本已另存为 .xlsx 格式，请在副本中修改，" if converted else ""
    else:
        body += "请按下表逐项改正，"
    paragraph([(body + "于", False), (DEADLINE, True), ("前重新报送。", False)])
    ordered = sorted(rows, key=lambda r: severity_rank(r["severity"]))
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for cell, (title, _) in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.paragraphs[0].style = doc.styles[st.CELL]
        cell.paragraphs[0].add_run(title).font.bold = True
    for n, r in enumerate(ordered[:LISTED], start=1):
        where = (
            f"“{clip(r.get('sheet') or '', 8)}” {r.get('cell') or ''}".strip()
            if r.get("sheet")
            else "整个文件"
        )
        values = (str(n), SEVERITY_ZH.get(r["severity"], ""), where, clip(r.get("message") or "", 50))
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.paragraphs[0].style = doc.styles[st.CELL]
            cell.paragraphs[0].add_run(_text(value))
    for column, (_, width) in zip(table.columns, COLUMNS, strict=True):
        column.width = Mm(width)  # the grid (LibreOffice reads it) and each cell (Word reads these)
        for cell in column.cells:
            cell.width = Mm(width)
    rest = f"另有 {len(ordered) - LISTED} 项见标注副本。" if len(ordered) > LISTED else ""
    paragraph([(f"{rest}报送前可运行 python -m analysis check 文件名 自查。", False)])
    paragraph([("联系人：", False), (CONTACT, True), ("，联系电话：", False), (PHONE, True), ("。", False)])
    for parts in ([(SENDER, True)], [(DATE, True)]):
        p = paragraph(parts)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(64)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
