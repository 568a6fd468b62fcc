"""The official-document format of the Word draft (党政机关公文格式, GB/T 9704 conventions).

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; title 方正小标宋简体 二号 centred; body
仿宋_GB2312 三号, first line indented two characters, fixed line spacing 28.9 pt (22 lines a page);
level-1 headings 黑体 三号, level-2 楷体_GB2312 三号; page numbers ``— 1 —`` 宋体 四号 at the foot, odd pages
right and even pages left. Fonts are set as East-Asian fonts (``w:eastAsia``) so Word and WPS apply them;
the font table names a common fallback for each (``w:altName``: 仿宋, 楷体, 宋体) for machines without the
GB2312 fonts.
"""

from __future__ import annotations

from docx.document import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT, PAGE_FONT = (
    "方正小标宋简体",
    "仿宋_GB2312",
    "黑体",
    "楷体_GB2312",
    "宋体",
)
FALLBACK = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", H2_FONT: "楷体", H1_FONT: "SimHei", PAGE_FONT: "SimSun"}
SIZE_2, SIZE_3, SIZE_4, SIZE_5 = Pt(22), Pt(16), Pt(14), Pt(10.5)  # 二号, 三号, 四号, 五号
LINE = Pt(28.9)
INDENT = Pt(32)  # two characters of 三号
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
PAGE_MM = (210, 297)

# Style names (the built-in headings keep Word's outline levels and navigation pane).
BODY, TITLE, HEADING_1, HEADING_2 = "Normal", "公文标题", "Heading 1", "Heading 2"
CAPTION, PICTURE, CELL, FOOTER = "图表标题", "图片", "表格文字", "页码"
CELL_ID = CELL  # python-docx gives an added style its name as id (set by id in table cells: faster)


def set_fonts(style, font: str, size: Pt) -> None:
    """Set ``font`` for East-Asian and Latin text and ``size`` on a style (its theme fonts removed)."""
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()  # python-docx keeps the schema order
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), font)
    style.font.size = size


def _paragraph_style(doc: Document, name: str, font: str, size: Pt, base: str | None = BODY):
    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base and name != base:
        style.base_style = styles[base]
    set_fonts(style, font, size)
    style.font.bold = False
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    return style


def _spacing(style, align=None, indent=INDENT, exact: bool = True) -> None:
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.first_line_indent = indent
    fmt.left_indent = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if align is not None:
        fmt.alignment = align


def apply_styles(doc: Document) -> None:
    """Page setup, the document's styles and its page-number footers."""
    _defaults(doc)
    body = _paragraph_style(doc, BODY, BODY_FONT, SIZE_3, base=None)
    _spacing(body, WD_ALIGN_PARAGRAPH.JUSTIFY)
    body.paragraph_format.widow_control = True
    title = _paragraph_style(doc, TITLE, TITLE_FONT, SIZE_2)
    _spacing(title, WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))
    title.paragraph_format.line_spacing = Pt(36)  # 二号 characters need a taller line than the body's
    for name, font in ((HEADING_1, H1_FONT), (HEADING_2, H2_FONT)):
        style = _paragraph_style(doc, name, font, SIZE_3)
        _spacing(style, WD_ALIGN_PARAGRAPH.JUSTIFY)
        style.paragraph_format.keep_with_next = True
    caption = _paragraph_style(doc, CAPTION, BODY_FONT, SIZE_4)
    _spacing(caption, WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))
    picture = _paragraph_style(doc, PICTURE, BODY_FONT, SIZE_3)
    _spacing(picture, WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0), exact=False)  # exact spacing clips pictures
    picture.paragraph_format.keep_with_next = True
    cell = _paragraph_style(doc, CELL, BODY_FONT, SIZE_5)
    assert cell.style_id == CELL_ID
    _spacing(cell, WD_ALIGN_PARAGRAPH.LEFT, indent=Pt(0), exact=False)
    footer = _paragraph_style(doc, FOOTER, PAGE_FONT, SIZE_4)
    _spacing(footer, indent=Pt(0), exact=False)
    _page_setup(doc)
    _font_fallbacks(doc)


def _defaults(doc: Document) -> None:
    """Document defaults: the body font instead of the template's theme fonts, Chinese language."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        rpr.remove(fonts)
    rpr.insert(
        0,
        parse_xml(
            f'<w:rFonts {nsdecls("w")} w:ascii="{BODY_FONT}" w:hAnsi="{BODY_FONT}" '
            f'w:eastAsia="{BODY_FONT}" w:cs="{BODY_FONT}"/>'
        ),
    )
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _page_setup(doc: Document) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    for section in doc.sections:
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin = Mm(MARGINS_MM["top"])
        section.bottom_margin = Mm(MARGINS_MM["bottom"])
        section.left_margin = Mm(MARGINS_MM["left"])
        section.right_margin = Mm(MARGINS_MM["right"])
        section.header_distance = Mm(15)
        section.footer_distance = Mm(24)  # the page number about 7 mm below the text block
        _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
        _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)


def landscape_section(doc: Document) -> None:
    """Start a landscape section on a new page (the appendix table); page numbers carry on."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[1]), Mm(PAGE_MM[0])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["right"]), Mm(MARGINS_MM["left"])


def _page_number(paragraph, align) -> None:
    """``— N —`` with a PAGE field; odd pages right, even pages left, one character in from the edge."""
    paragraph.style = FOOTER
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = SIZE_4
    else:
        fmt.left_indent = SIZE_4
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            node = OxmlElement("w:fldChar")
            node.set(qn("w:fldCharType"), kind)
        elif text.strip() == "PAGE":
            node = OxmlElement("w:instrText")
            node.set(qn("xml:space"), "preserve")
            node.text = text
        else:
            node = OxmlElement("w:t")
            node.text = text
        run._r.append(node)
    paragraph.add_run(" —")


def _font_fallbacks(doc: Document) -> None:
    """Declare the official fonts in the font table with a common Windows font as ``w:altName``."""
    from lxml import etree

    part = next((p for p in doc.part.package.iter_parts() if p.partname == "/word/fontTable.xml"), None)
    if part is None:
        return
    root = parse_xml(part.blob)  # python-docx keeps the font table as bytes (tests check the result)
    for font, alt in FALLBACK.items():
        family = "modern" if font == H1_FONT else "roman"
        root.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{font}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
            )
        )
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
