"""The Word draft of the annual report (issue 11), read back with python-docx, and its PDF preview.

The shipped 2019 data is regenerated into tmp_path from tests/data's spec copy and ingested there; the print
figures come from the figure module itself. The live data/ and reports/ folders are never touched.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import re
import sys
import unicodedata
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from analysis import cli
from analysis.core.catalog import Catalog, CatalogError, _read_yaml, load_catalog
from analysis.core.formatting import number_zh
from analysis.core.names import DRAFT_RECORD
from analysis.core.store import read_indicators
from analysis.draft import plan as draft_plan
from analysis.draft import preview as pdf_preview
from analysis.draft import style as docx_style
from analysis.draft import writer as draft
from analysis.explore import sentences
from analysis.explore.selection import select
from tests import fixtures_processed as fp
from tests.conftest import REAL_SOFFICE

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

DATA = Path(__file__).parent / "data"
SEED = DATA / "tongxu_2019_report.txt"
SPEC = DATA / "tongxu_2019_indicators.csv"
REPO = Path(__file__).resolve().parents[1]
REGION, YEAR = "通许县", 2019


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def make_sample_raw(raw: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", REPO / "scripts" / "make_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with contextlib.redirect_stdout(io.StringIO()):
        assert module.main(["--spec", str(SPEC), "--out", str(raw)]) == 0
    return raw


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict:
    """The shipped 2019 data ingested into a temp folder and the draft written (its annex figures drawn)."""
    root = tmp_path_factory.mktemp("draft")
    raw, processed, reports = root / "raw", root / "processed", root / "reports"
    make_sample_raw(raw)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["ingest", "--raw", str(raw), "--out", str(processed), "--quiet"]) == 0
    view = select(read_indicators(processed), REGION, YEAR)
    out = root / "初稿.docx"
    result = draft.draft_from_processed(REGION, YEAR, processed, reports, out)
    return {
        "root": root,
        "processed": processed,
        "view": view,
        "result": result,
        "doc": docx.Document(out),
    }


def body_paragraphs(doc) -> list:
    """Paragraphs of the report itself (up to the signature and date: before the annex and appendix)."""
    out = []
    for p in doc.paragraphs:
        if p.text in ("附件", "附表") and p.style.name == docx_style.HEADING_1:
            break
        out.append(p)
    return out


def body_text(doc) -> str:
    return "\n".join(p.text for p in body_paragraphs(doc))


def highlighted(doc) -> list[str]:
    return [r.text for p in doc.paragraphs for r in p.runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]


# --- structure ---------------------------------------------------------------------------------------


def test_headings_follow_the_seed_report_in_order_and_wording(shipped):
    seed = [
        line
        for line in SEED.read_text(encoding="utf-8").splitlines()
        if re.match(r"^([一二三]、|\([一二三四五六七八]\))", line)
    ]
    doc = shipped["doc"]
    headings = [
        p.text for p in body_paragraphs(doc) if p.style.name in (docx_style.HEADING_1, docx_style.HEADING_2)
    ]
    assert [norm(h) for h in headings] == [norm(s) for s in seed]
    assert len(headings) == 11
    levels = [p.style.name for p in body_paragraphs(doc) if p.text in headings]
    assert levels[0] == docx_style.HEADING_1 and levels[1:9] == [docx_style.HEADING_2] * 8
    texts = [p.text for p in body_paragraphs(doc)]
    assert texts[1] == "2019年度法治政府建设情况的报告"
    assert texts[3] == "【上级政府】："  # the addressee, a placeholder by default
    assert "特此报告。" in texts and draft_plan.DATE_PLACEHOLDER in texts
    for placeholder in (draft_plan.PART_TWO_PLACEHOLDER, draft_plan.PART_THREE_PLACEHOLDER):
        assert placeholder in highlighted(doc)
    assert "通许县人民政府" in texts and "通许县人民政府" not in highlighted(doc)  # the county is known
    assert draft_plan.DATE_PLACEHOLDER in highlighted(doc)


def test_every_drafted_sentence_of_the_html_is_in_the_body_verbatim(shipped):
    view, body = shipped["view"], body_text(shipped["doc"])
    templates = {t.id: t for t in sentences.load_templates().sentences}
    checked = 0
    for topic in view.catalog.topics:
        for d in sentences.draft(view, topic=topic):  # what each topic page shows
            assert d.ok
            if any(view.indicator(n).check for n in sentences.template_names(templates[d.id])):
                assert d.text not in body  # a reconciliation gap is no achievement
                continue
            assert d.text in body, d.text
            checked += 1
    assert checked >= 20


def test_the_power_list_gap_is_a_note_to_the_writer_not_body_text(shipped):
    doc = shipped["doc"]
    body = body_text(doc)
    assert "2711" not in body and "51" not in re.sub(r"\d{3,}", "", body)
    notes = [p for p in doc.paragraphs if "相差 51" in p.text]
    assert len(notes) == 1 and "2705" in notes[0].text and "2660" in notes[0].text
    assert all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in notes[0].runs)
    texts = [p.text for p in doc.paragraphs]
    assert texts.index(notes[0].text) > texts.index("附表")


def test_body_numbers_equal_the_seed_reports_numbers(shipped):
    body = norm(body_text(shipped["doc"]))
    with SPEC.open(encoding="utf-8") as fh:
        spec = list(csv.DictReader(fh))
    for row in spec:
        written = f"{number_zh(float(row['value']))}{row['qualifier']}{row['unit']}"
        assert written in body, (row["indicator_id"], written)
    for words in (
        "2705项",
        "2660项",
        "38项",
        "44项",
        "6736件",
        "6609件",
        "98.1%",
        "217条",
        "88条",
        "21条",
        "1.1万户",
        "500余本",
    ):
        assert words in body
    assert "11000" not in body


def test_figures_and_tables_are_in_the_annex_after_the_signature(shipped):
    doc = shipped["doc"]
    texts = [p.text for p in doc.paragraphs]
    annex = next(
        k for k, p in enumerate(doc.paragraphs) if p.text == "附件" and p.style.name == docx_style.HEADING_1
    )
    assert texts.index("通许县人民政府") < annex and texts[annex + 1] == "2019年度法治政府建设主要数据图表"
    assert "附件：2019年度法治政府建设主要数据图表" in texts[: texts.index("通许县人民政府")]
    assert doc.paragraphs[annex].paragraph_format.page_break_before
    pictures = [k for k, p in enumerate(doc.paragraphs) if p._p.xpath(".//pic:pic")]
    assert pictures and min(pictures) > annex and shipped["result"].figures == len(pictures)
    captions = [p.text for p in doc.paragraphs if p.style.name == docx_style.CAPTION]
    assert len(captions) == len(set(captions))  # one distinct caption per figure and table
    figures = [c for c in captions if c.startswith("图")]
    assert figures[0] == "图1 2019年进驻政务服务中心的部门" and len(figures) == len(pictures)
    assert not any("权责清单" in c for c in figures)  # the reconciliation gap is never drawn
    for k in pictures:  # each picture right above its own caption
        assert doc.paragraphs[k + 1].text.startswith("图")
    for shape in doc.inline_shapes:  # placed at the size it was drawn for (its text sizes hold)
        assert Mm(149) < shape.width <= Mm(151)


def test_tables_list_a_sections_figures_as_the_report_writes_them(shipped):
    doc = shipped["doc"]
    captions = [
        p.text for p in doc.paragraphs if p.style.name == docx_style.CAPTION and p.text.startswith("表")
    ]
    assert captions[:2] == ["表1 2019年健全领导机制主要数据", "表2 2019年严格规范职权主要数据"]
    second = [c.text for row in doc.tables[1].rows for c in row.cells]
    assert "1.1万户" in second and "2705项" in second and "调整前行政职权事项" in second


def test_placeholders_for_every_missing_indicator(tmp_path):
    gone = {
        "disputes.mediation_success",
        "functions.credit_public_records",
        "enforcement.demo_sites_upgraded",
    }
    keep = [k for k in fp.spec_values() if k not in gone]
    frame = fp.frame(fp.rows(only=keep))
    out = tmp_path / "d.docx"
    draft.write_draft(frame, fp.issues(), REGION, YEAR, out, figures="none")
    doc = docx.Document(out)
    marks = highlighted(doc)
    catalog = load_catalog()
    for iid in gone:
        ind = catalog.indicators[iid]
        assert marks.count(f"【未填报：{ind.name_zh}（{ind.department}）】") == 1
    assert "【未填报：调解成功矛盾纠纷（县司法局）】" in marks
    body = body_text(doc)
    assert "____" not in body  # a hole is said, never left blank
    # the sentence stands with its hole marked in place; its neighbours are drafted as usual
    assert "全年共调解矛盾纠纷6736件，调解成功【未填报：调解成功矛盾纠纷（县司法局）】，成功率98.1%。" in body
    assert "取缔“散乱污”企业152家" in body
    assert sum(m.startswith("【未填报") for m in marks) == 3


def test_a_region_that_reported_nothing_of_a_section_gets_a_marked_gap(tmp_path):
    out = tmp_path / "d.docx"
    draft.write_draft(fp.tiny_frame(), None, "小县", YEAR, out)
    marks = highlighted(docx.Document(out))
    assert len([m for m in marks if m.startswith("【未填报")]) == len(load_catalog().reported) - 2


def test_appendix_lists_every_indicator_with_its_source_cell(shipped):
    doc, processed = shipped["doc"], shipped["processed"]
    table = doc.tables[-1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0][:6] == ["序号", "指标", "数值", "单位", "填报单位", "来源（文件 / 工作表 / 单元格）"]
    by_name = {r[1]: r for r in rows[1:]}
    tidy = read_indicators(processed)
    reported = tidy[~tidy["derived"]]
    assert len(reported) == 52
    for rec in reported.to_dict("records"):
        row = by_name[rec["name_zh"]]
        assert row[5] == f"{rec['source_file']} / {rec['sheet']} / {rec['cell']}"
        assert row[4] == rec["department"] and row[3] == rec["unit"]
    assert by_name["完成“双替代”户数"][2] == "11000"  # exact, to check against the cell
    assert by_name["权责清单未说明的增减"][2] == "-51" and by_name["权责清单未说明的增减"][5].startswith(
        "计算："
    )
    assert len(rows) - 1 == len(load_catalog().indicators)
    landscape = doc.sections[-1]
    assert landscape.page_width > landscape.page_height


# --- format ------------------------------------------------------------------------------------------


def east_asia(style) -> str:
    return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_page_setup_and_styles_follow_gb_t_9704(shipped):
    doc = shipped["doc"]
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    styles = doc.styles
    expected = {
        docx_style.TITLE: ("方正小标宋简体", 22),
        docx_style.BODY: ("仿宋_GB2312", 16),
        docx_style.HEADING_1: ("黑体", 16),
        docx_style.HEADING_2: ("楷体_GB2312", 16),
        docx_style.FOOTER: ("宋体", 14),
    }
    for name, (font, size) in expected.items():
        style = styles[name]
        assert east_asia(style) == font, name
        assert style.font.size == Pt(size), name
        assert style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None
    body = styles[docx_style.BODY].paragraph_format
    assert body.line_spacing_rule == WD_LINE_SPACING.EXACTLY and body.line_spacing == Pt(28.9)
    assert body.first_line_indent == Pt(32)  # two characters of 三号
    title = next(p for p in doc.paragraphs if p.text == "2019年度法治政府建设情况的报告")
    assert title.style.name == docx_style.TITLE and title.style.paragraph_format.alignment == 1  # centred
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert (
            "PAGE" in xml
            and footer.paragraphs[0].text.startswith("— ")
            and footer.paragraphs[0].text.endswith(" —")
        )
    assert doc.settings.odd_and_even_pages_header_footer
    font_table = next(p for p in doc.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
    assert "仿宋_GB2312" in font_table.blob.decode(
        "utf-8"
    ) and 'w:altName w:val="仿宋"' in font_table.blob.decode("utf-8")


def test_submitted_text_goes_in_as_plain_text(tmp_path):
    rows = fp.rows()
    note = '=HYPERLINK("http://evil.example/","点击")'
    for r in rows:
        if r["indicator_id"] == "disputes.mediators":
            r["note"] = note
            r["department"] = fp.HOSTILE + "\x07"
    out = tmp_path / "d.docx"
    draft.write_draft(fp.frame(rows), fp.issues(), REGION, YEAR, out, figures="none")
    doc = docx.Document(out)
    table = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    row = next(r for r in table if r[1] == "专兼职人民调解员")
    assert row[6] == note and row[4] == fp.HOSTILE  # as written; the control character alone is dropped
    xml = doc.element.xml
    assert "<w:hyperlink" not in xml and "fldSimple" not in xml and "instrText" not in xml
    assert f"<w:t>{note}</w:t>" in xml  # a text run, characters as submitted
    assert not [r for r in doc.part.rels.values() if r.reltype.endswith("/hyperlink")]


# --- the commands ------------------------------------------------------------------------------------


def test_draft_command_writes_alone_from_processed(shipped, tmp_path, capsys):
    out = tmp_path / "x" / "初稿.docx"
    reports = shipped["root"] / "reports"
    code = cli.main(
        [
            "draft",
            "--region",
            REGION,
            "--year",
            "2019",
            "--processed",
            str(shipped["processed"]),
            "--reports",
            str(reports),
            "--out",
            str(out),
            "--to",
            "开封市人民政府",
        ]
    )
    assert code == 0 and out.is_file()
    said = capsys.readouterr().out
    assert "已写出 Word 初稿" in said and "附件图 6 幅" in said
    assert "开封市人民政府：" in [p.text for p in docx.Document(out).paragraphs]
    assert (
        cli.main(
            [
                "draft",
                "--region",
                "兰考县",
                "--year",
                "2019",
                "--processed",
                str(shipped["processed"]),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "没有兰考县2019年的数据" in capsys.readouterr().err
    assert (
        cli.main(["draft", "--region", "../x", "--year", "2019", "--processed", str(shipped["processed"])])
        == 2
    )


def test_batch_step_says_when_libreoffice_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("FAZHI_SOFFICE", "no-such-soffice-here")
    said: list[str] = []
    result = draft.add_to_report(tmp_path, REGION, YEAR, fp.spec_frame(), fp.issues(), said.append)
    assert (
        result.path == tmp_path / "通许县2019年度法治政府建设情况的报告（初稿）.docx"
        and result.path.is_file()
    )
    assert result.pdf is None and not list(tmp_path.glob("*.pdf"))
    assert any("未找到 LibreOffice" in line for line in said)


def test_catalog_declares_where_each_topic_goes_and_checks_it():
    catalog = load_catalog()
    assert [s.key for s in catalog.report_sections] == [f"一({n})" for n in "一二三四五六七八"]
    assert catalog.report_section("disputes.mediation_cases").key == "一(八)"
    assert catalog.report_section("leadership.study_books_printed").key == "一(一)"
    text = (Path(sys.modules["analysis.core.catalog"].__file__).parent / "catalog.yaml").read_text(
        encoding="utf-8"
    )
    data = _read_yaml(text, "test")
    data["report_sections"][1]["topics"].remove("powers")
    with pytest.raises(CatalogError, match="专题“powers”"):
        Catalog(data)
    data = _read_yaml(text, "test")
    data["report_sections"].pop(0)
    with pytest.raises(CatalogError, match="一\\(一\\)健全领导机制"):
        Catalog(data)


# --- the PDF preview ---------------------------------------------------------------------------------


needs_soffice = pytest.mark.skipif(REAL_SOFFICE is None, reason="LibreOffice (soffice) is not installed")


@needs_soffice
def test_pdf_preview_has_pages_the_title_and_no_blank_page(shipped):
    from pypdf import PdfReader

    pdf = pdf_preview.to_pdf(shipped["result"].path, REAL_SOFFICE)
    assert pdf == shipped["result"].path.with_suffix(".pdf")
    pages = PdfReader(pdf).pages
    assert len(pages) >= 4
    texts = [norm(page.extract_text() or "") for page in pages]
    assert "2019年度法治政府建设情况的报告" in texts[0]
    assert all(texts), [k + 1 for k, t in enumerate(texts) if not t]  # no blank page
    assert "附表" in "".join(texts) and "—1—" in texts[0]


@pytest.mark.parametrize("soffice", [pytest.param(REAL_SOFFICE, marks=needs_soffice), "no-such-soffice-here"])
def test_batch_writes_the_draft_into_the_report_folder(tmp_path, monkeypatch, soffice):
    """The draft is one of the report's finishing steps (in a worker, on the staged folder): published
    with the report, with its PDF preview when LibreOffice is installed, else a line saying why not."""
    from analysis.report import batch
    from tests.test_batch import GOOD, write_notebook, write_processed

    monkeypatch.setenv("FAZHI_SOFFICE", str(soffice))
    processed = write_processed(tmp_path / "processed")
    write_notebook(tmp_path / "nbs" / "02_services.ipynb", GOOD)
    said: list[str] = []
    batch.run_batch(
        REGION,
        "2019",
        processed,
        tmp_path / "reports",
        notebooks_dir=tmp_path / "nbs",
        workers=1,
        say=said.append,
    )
    document = tmp_path / "reports" / REGION / "2019" / draft.draft_name(REGION, YEAR)
    assert document.is_file() and any("Word 初稿" in line for line in said)
    assert document.name in (document.parent / DRAFT_RECORD).read_text(
        encoding="utf-8"
    )  # published beside it
    if soffice == REAL_SOFFICE:
        assert document.with_suffix(".pdf").stat().st_size > 1000
        assert any("PDF 预览" in line for line in said)
    else:
        assert not document.with_suffix(".pdf").exists()
        assert any("未找到 LibreOffice" in line for line in said)


@pytest.mark.parametrize(("qualifier", "written"), [("余", "500余本"), ("约", "约500本"), ("", "500本")])
def test_table_values_put_the_qualifier_where_the_report_writes_it(qualifier, written):
    frame = fp.frame(fp.rows())
    row = frame["indicator_id"] == "leadership.study_books_printed"
    frame.loc[row, ["value", "qualifier"]] = [500.0, qualifier]
    view = select(frame, REGION, YEAR)
    assert draft_plan.as_written(view, "leadership.study_books_printed") == written
