"""The Word draft a 司法局 would send (issue 18): a 公文 body of text only, figures and tables in an annex,
every absent value told truly, an edited draft never overwritten, print figures made for paper, one rule for
comparing years, and the PDF preview's fonts and pages.

Drafts are written from tidy tables built like ingest builds them (tests/fixtures_processed.py: the spec
figures of 通许县 2019) or ingested from small workbooks; nothing reads or writes the live data/ or reports/.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import docx
import matplotlib.text
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn

from analysis import cli
from analysis.core.formatting import number_zh
from analysis.core.names import DRAFT_RECORD
from analysis.core.store import write_tables
from analysis.draft import annex, edits, preview
from analysis.draft import plan as draft_plan
from analysis.draft import style as docx_style
from analysis.draft import writer as draft
from analysis.explore import charts, sentences, tables
from analysis.explore.selection import select
from analysis.explore.static_figures import PRINT_MIN_PT, print_figure
from analysis.ingest.pipeline import ingest
from tests import fixtures_processed as fp
from tests.builders import write_xlsx
from tests.conftest import REAL_SOFFICE
from tests.test_draft import SEED, highlighted, norm

REGION, YEAR = "通许县", 2019
GAP = "derived.power_items_unexplained_change"


@pytest.fixture(scope="module")
def spec_draft(tmp_path_factory) -> dict:
    """The 2019 draft of the spec figures with the power-list gap's issue row (its annex drawn once)."""
    out = tmp_path_factory.mktemp("gongwen") / draft.draft_name(REGION, YEAR)
    issues = fp.issues()
    result = draft.write_draft(
        fp.spec_frame(), issues[issues["code"] == "reconciliation-mismatch"], REGION, YEAR, out
    )
    return {"result": result, "doc": docx.Document(result.path)}


def annex_start(doc) -> int:
    """The index of the body element where the body ends (the annex's 附件 or the appendix)."""
    for k, child in enumerate(doc.element.body.iterchildren()):
        if child.tag == qn("w:p") and element_text(child) in ("附件", "附表"):
            return k
    raise AssertionError("no annex")


def element_text(element) -> str:
    return "".join(element.xpath(".//w:t/text()"))


def body_elements(doc) -> list:
    return list(doc.element.body.iterchildren())[: annex_start(doc)]


def body_text(doc) -> str:
    return "\n".join(element_text(e) for e in body_elements(doc))


# --- the body is a 公文 ----------------------------------------------------------------------------------


def test_body_is_text_only_in_the_seeds_outline_and_length(spec_draft):
    doc = spec_draft["doc"]
    elements = body_elements(doc)
    assert all(e.tag in (qn("w:p"), qn("w:sectPr")) for e in elements)  # no table in the body
    assert not [e for e in elements if e.xpath(".//pic:pic") or e.xpath(".//w:drawing")]  # no figure
    body = body_text(doc)
    seed = SEED.read_text(encoding="utf-8")
    seed_body = seed[: seed.index("通许县人民政府办公室")]  # the seed without its 印发 line
    assert len(norm(body)) <= 1.5 * len(norm(seed_body)), (len(norm(body)), len(norm(seed_body)))
    headings = re.findall(r"（[一二三四五六七八]）", body)
    assert headings == [f"（{n}）" for n in "一二三四五六七八"]
    for row in fp.spec_values().items():
        iid, (value, qualifier) = row
        unit = load_unit(iid)
        assert f"{number_zh(value)}{qualifier}{unit}" in norm(body), iid


def load_unit(indicator_id: str) -> str:
    from analysis.core.catalog import load_catalog

    return load_catalog().indicators[indicator_id].unit


def test_each_section_asks_for_its_own_narrative_once_and_the_signature_is_known(spec_draft):
    doc = spec_draft["doc"]
    marks = highlighted(doc)
    prompts = [m for m in marks if m.startswith("【由起草人填写：本部分")]
    assert len(prompts) == 8 and len(set(prompts)) == 8  # one per section, worded for it
    assert any("三项制度" in p for p in prompts) and any("人民调解" in p for p in prompts)
    texts = [p.text for p in doc.paragraphs]
    signature = texts.index("通许县人民政府")
    assert "通许县人民政府" not in marks and texts[signature + 1] == draft_plan.DATE_PLACEHOLDER
    assert draft_plan.DATE_PLACEHOLDER in marks
    assert "附件：2019年度法治政府建设主要数据图表" in texts[:signature]


def test_year_on_year_clause_where_last_years_figure_exists(tmp_path):
    out = tmp_path / "d.docx"
    draft.write_draft(fp.history_frame(), None, REGION, YEAR, out, figures="none")
    body = body_text(docx.Document(out))
    assert "办理县长热线件718个，比上年增加72个、增长11.1%。" in body
    assert "全年共调解矛盾纠纷6736件，比上年增加674件、增长11.1%，调解成功6609件" in body
    assert "2711" not in body and "51项" not in body  # the gap: neither in the body nor compared


def test_the_gap_and_a_qualified_value_are_never_compared_across_years():
    view = select(fp.history_frame(), REGION, YEAR)
    assert sentences.change_clause(view, "disclosure.hotline_cases") == "比上年增加72个、增长11.1%"
    assert sentences.change_clause(view, GAP) is None  # a check figure
    assert sentences.change_clause(view, "leadership.study_books_printed") is None  # 500余本
    table = tables.indicator_table(view, [GAP, "disclosure.hotline_cases"]).set_index("指标")
    assert (
        table.loc["权责清单未说明的增减", "同比变化"] == "—"
        and table.loc["权责清单未说明的增减", "2018年"] == "—"
    )
    assert table.loc["办理县长热线件", "同比变化"].startswith("+72个")
    trend = charts.trend(view, [GAP, "disclosure.hotline_cases"])
    assert [name for name, _ in trend.series] == ["办理县长热线件"] and "核对项不作历年比较" in trend.note
    assert not [line for line in sentences.yoy(view, [GAP]) if line]


# --- truth about every value ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qixian(tmp_path_factory) -> dict:
    """杞县 2019: 县政府办公室 sent "约两千" for the hotline cases; 县水利局 left the river length blank with
    a remark; the other departments sent nothing."""
    raw = tmp_path_factory.mktemp("qixian") / "raw"
    folder = raw / "杞县" / "2019"
    write_xlsx(
        folder / "县政府办公室.xlsx",
        [[1, "办理县长热线件", "个", "约两千", None], [2, "回复网民留言", "条", 10, None]],
    )
    write_xlsx(folder / "县水利局.xlsx", [[1, "清理河道长度", "公里", None, "今年未单独统计"]])
    result = ingest(raw)
    out = tmp_path_factory.mktemp("qixian-draft") / "d.docx"
    draft.write_draft(result.indicators, result.issues, "杞县", 2019, out, figures="none")
    return {"doc": docx.Document(out), "issues": result.issues}


def test_a_rejected_value_is_told_as_sent_not_as_missing(qixian):
    doc = qixian["doc"]
    marks = highlighted(doc)
    said = "【已报送未采用：“约两千”（县政府办公室 数据!D2）不是数字，请核实】"
    assert said in marks
    assert "办理县长热线件" + said in body_text(doc).replace("\n", "")  # in its sentence, in place
    assert not [m for m in marks if "未填报" in m and "办理县长热线件" in m]
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in doc.tables[-1].rows}
    row = rows["办理县长热线件"]
    assert row[2] == "已报送未采用：“约两千”" and row[5] == "杞县/2019/县政府办公室.xlsx / 数据 / D2"
    assert "不是数字" in row[6]


def test_a_blank_carries_the_departments_remark(qixian):
    doc = qixian["doc"]
    assert "【未填报（县水利局说明：今年未单独统计）】" in highlighted(doc)
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in doc.tables[-1].rows}
    row = rows["清理河道长度"]
    assert row[2] == "未填报" and row[5] == "杞县/2019/县水利局.xlsx / 数据 / D2"
    assert row[6] == "县水利局说明：今年未单独统计"


def test_the_note_to_the_writer_lists_every_problem_with_file_and_cell(qixian, tmp_path):
    texts = [p.text for p in qixian["doc"].paragraphs]
    heading = texts.index("附：数据核对说明（定稿前删除）")
    notes = texts[heading + 1 :]
    assert any("约两千" in n and "杞县/2019/县政府办公室.xlsx 数据!D2" in n for n in notes)
    assert any("今年未单独统计" in n for n in notes)
    assert any("未收到县司法局的报表" in n for n in notes)
    out = tmp_path / "d.docx"  # any blank, even without an issues table, gets the note
    draft.write_draft(fp.tiny_frame(), None, "小县", YEAR, out, figures="none")
    assert "附：数据核对说明（定稿前删除）" in [p.text for p in docx.Document(out).paragraphs]
    draft.write_draft(fp.spec_frame(), fp.empty_issues(), REGION, YEAR, out, figures="none")
    assert "附：数据核对说明（定稿前删除）" not in [p.text for p in docx.Document(out).paragraphs]


# --- an edited draft is never overwritten ----------------------------------------------------------------


def test_an_edited_draft_is_kept_and_the_new_one_goes_beside_it(tmp_path):
    out = tmp_path / draft.draft_name(REGION, YEAR)
    first = draft.write_draft(fp.spec_frame(), None, REGION, YEAR, out, figures="none")
    again = draft.write_draft(fp.spec_frame(), None, REGION, YEAR, out, figures="none")
    assert first.path == again.path == out and again.kept is None  # its own file: replaced
    edited = docx.Document(out)
    edited.add_paragraph("起草人写的一段话。")
    edited.save(out)
    before = out.read_bytes()
    changed = fp.frame(
        fp.rows(values={**{k: v for k, (v, _) in fp.spec_values().items()}, "disclosure.hotline_cases": 994})
    )
    now = dt.datetime(2026, 12, 2, 3, 15)
    result = draft.write_draft(changed, None, REGION, YEAR, out, figures="none", now=now)
    assert out.read_bytes() == before  # the writer's work is untouched
    assert (
        result.kept == out
        and result.path == tmp_path / "通许县2019年度法治政府建设情况的报告（初稿，2026-12-02 0315）.docx"
    )
    assert result.path.is_file() and "起草人写的一段话。" not in [
        p.text for p in docx.Document(result.path).paragraphs
    ]
    assert "办理县长热线件：718 → 994" in result.changes
    assert any("未覆盖" in n and result.path.name in n and "718 → 994" in n for n in result.notes)


def test_numbers_changed_since_an_edited_draft_whose_appendix_was_deleted(tmp_path):
    out = tmp_path / "d.docx"
    draft.write_draft(fp.spec_frame(), None, REGION, YEAR, out, figures="none")
    edited = docx.Document(out)
    body = edited.element.body
    for table in list(body.iterchildren(qn("w:tbl"))):  # the writer removed the appendix before sending
        body.remove(table)
    edited.save(out)
    values = {k: v for k, (v, _) in fp.spec_values().items()}
    changed = fp.frame(fp.rows(values={**values, "disputes.mediation_cases": 6800}))
    result = draft.write_draft(changed, None, REGION, YEAR, out, figures="none")
    assert "调解矛盾纠纷：6736 → 6800" in result.changes  # from the record of the draft last written


def test_a_draft_without_a_record_is_treated_as_edited(tmp_path):
    out = tmp_path / "d.docx"
    draft.write_draft(fp.spec_frame(), None, REGION, YEAR, out, figures="none")
    (tmp_path / DRAFT_RECORD).unlink()
    result = draft.write_draft(fp.spec_frame(), None, REGION, YEAR, out, figures="none")
    assert result.kept == out and result.path != out and result.changes == []  # its appendix: no change
    assert any("没有数字变化" in n for n in result.notes)
    assert (
        edits.beside(Path("a（初稿）.docx"), dt.datetime(2020, 1, 2, 3, 4)).name
        == "a（初稿，2020-01-02 0304）.docx"
    )


def test_the_batch_step_keeps_an_edited_draft_in_the_report_folder(tmp_path):
    folder, stage = tmp_path / "report", tmp_path / "report" / ".staging-x"
    stage.mkdir(parents=True)
    said: list[str] = []
    draft.add_to_report(folder, REGION, YEAR, fp.spec_frame(), fp.empty_issues(), said.append)
    name = draft.draft_name(REGION, YEAR)
    doc = docx.Document(folder / name)
    doc.add_paragraph("改过了")
    doc.save(folder / name)
    result = draft.add_to_report(
        stage, REGION, YEAR, fp.spec_frame(), fp.empty_issues(), said.append, published=folder
    )
    assert result.kept == folder / name and result.path.parent == stage and result.path.name != name
    assert not (stage / name).exists() and (stage / DRAFT_RECORD).is_file()  # publishing adds a file beside
    assert any("未覆盖" in line for line in said)


def test_draft_without_out_writes_into_the_report_folder(tmp_path, monkeypatch, capsys):
    processed, reports, cwd = tmp_path / "processed", tmp_path / "reports", tmp_path / "cwd"
    write_tables(processed, fp.spec_frame(), fp.empty_issues())
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    args = [
        "draft",
        "--region",
        REGION,
        "--year",
        "2019",
        "--processed",
        str(processed),
        "--reports",
        str(reports),
    ]
    assert cli.main([*args, "--figures", "none"]) == 0
    assert not list(cwd.iterdir())
    assert (reports / REGION / "2019" / draft.draft_name(REGION, YEAR)).is_file()
    assert "附件图 0 幅" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main([*args, "--figures", "inline"])
    assert exit_.value.code == 2
    assert "无效的选择" in capsys.readouterr().err


# --- print figures and tables in the annex -------------------------------------------------------------


def test_print_figures_are_made_for_paper():
    view = select(fp.history_frame(), REGION, YEAR)
    for chart in (
        charts.trend(
            view, ["disclosure.hotline_cases", "disputes.mediation_cases", "functions.gov_service_items"]
        ),
        charts.parts(view, ["functions.certificates_kept", "functions.certificates_cancelled"], "证明事项"),
        charts.funnel(view, ["disputes.mediation_cases", "disputes.mediation_success"], "调解"),
    ):
        fig = print_figure(chart, annex.WIDTH_MM, 90)
        assert fig.get_suptitle() == ""  # the caption is the title
        sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert sizes and min(sizes) >= PRINT_MIN_PT
        assert round(fig.get_figwidth() * 25.4) == annex.WIDTH_MM and fig.get_figheight() * 25.4 <= 90.5
    figures = annex.print_figures(view)
    captions = [f.caption for f in figures]
    assert len(captions) == len(set(captions)) >= 6
    assert not any("权责清单" in c for c in captions)  # the gap is never drawn
    assert captions[-1] == "图7 主要指标2018—2019年变化"


def test_single_numbers_and_the_gap_are_never_figures():
    view = select(fp.spec_frame(), REGION, YEAR)
    lone = charts.rates(view, ["disputes.mediation_success_rate"], "调解成功率")
    assert lone.kind == "tiles" and not annex.printable(view, lone)
    gap = charts.waterfall(view, "power_list_balance", "权责清单调整")
    assert not annex.printable(view, gap)


def test_table_rows_never_split_and_headers_repeat(spec_draft):
    doc = spec_draft["doc"]
    assert len(doc.tables) >= 3
    for table in doc.tables:
        rows = table._tbl.tr_lst
        assert all(r.trPr is not None and r.trPr.find(qn("w:cantSplit")) is not None for r in rows)
        assert rows[0].trPr.find(qn("w:tblHeader")) is not None


# --- the PDF preview's fonts -----------------------------------------------------------------------------


def test_missing_official_fonts_are_replaced_by_the_closest_installed_ones(tmp_path):
    noto = {"Noto Serif CJK SC", "Noto Sans CJK SC", "DejaVu Sans"}
    subs = preview.substitutes(noto)
    assert subs == {
        "仿宋_GB2312": "Noto Serif CJK SC",
        "方正小标宋简体": "Noto Serif CJK SC",
        "楷体_GB2312": "Noto Serif CJK SC",
        "黑体": "Noto Sans CJK SC",
        "宋体": "Noto Serif CJK SC",
    }
    assert preview.substitutes(noto | {"楷体", "SimHei"})["楷体_GB2312"] == "楷体"
    assert preview.substitutes(set(preview.CLOSEST)) == {} and preview.substitutes(None) == {}
    line = preview.substitution_line(subs)
    assert "\n" not in line and "黑体用 Noto Sans CJK SC 代替" in line and "Word 文件中的字体不变" in line
    out = tmp_path / "d.docx"
    draft.write_draft(fp.tiny_frame(), None, "小县", YEAR, out, figures="none")
    work = tmp_path / "work"
    work.mkdir()
    copy = preview._with_fonts(out, subs, work)
    styles = docx.Document(copy).styles
    fonts = styles[docx_style.HEADING_1].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Noto Sans CJK SC"
    assert (
        docx.Document(out).styles[docx_style.HEADING_1].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
        == "黑体"
    )


def test_highlight_is_yellow_for_every_placeholder(qixian):
    runs = [r for p in qixian["doc"].paragraphs for r in p.runs if r.text.startswith("【")]
    assert runs and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in runs)


# --- the PDF pages ---------------------------------------------------------------------------------------


def lowest_content(page, floor: float) -> float | None:
    """The lowest point (PDF points from the bottom) of any text or image on ``page`` above ``floor`` (the
    bottom margin, under which only the page number is)."""
    from pypdf.generic import ContentStream

    ys: list[float] = []
    page.extract_text(
        visitor_text=lambda text, cm, tm, *_: ys.append(cm[3] * tm[5] + cm[5]) if text.strip() else None
    )
    stack, ctm = [], (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    for operands, op in ContentStream(page.get_contents(), page.pdf).operations:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q" and stack:
            ctm = stack.pop()
        elif op == b"cm":
            a, b, c, d, e, f = (float(x) for x in operands)
            A, B, C, D, E, F = ctm
            ctm = (
                a * A + b * C,
                a * B + b * D,
                c * A + d * C,
                c * B + d * D,
                e * A + f * C + E,
                e * B + f * D + F,
            )
        elif op == b"Do":  # an image: its lower edge
            ys.append(min(ctm[5], ctm[5] + ctm[3]))
    kept = [y for y in ys if y >= floor - 6]
    return min(kept) if kept else None


def page_facts(pdf: Path) -> list[tuple[str, float]]:
    """(part, how full) of every page: part 正文, 附件 or 附表 (by the page that starts it); how full: the
    share of the text block's height down to the lowest text or image."""
    from pypdf import PdfReader

    out, part = [], "正文"
    for page in PdfReader(pdf).pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        top_mm, bottom_mm = (
            (docx_style.MARGINS_MM["right"], docx_style.MARGINS_MM["left"])
            if w > h
            else (
                docx_style.MARGINS_MM["top"],
                docx_style.MARGINS_MM["bottom"],
            )
        )
        top, bottom = h - top_mm / 25.4 * 72, bottom_mm / 25.4 * 72
        text = norm(page.extract_text() or "")
        for start in ("附件", "附表"):
            if text.startswith(start):
                part = start
        low = lowest_content(page, bottom)
        out.append((part, 0.0 if low is None else (top - low) / (top - bottom)))
    return out


@pytest.mark.slow
@pytest.mark.skipif(REAL_SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_pdf_pages_body_at_most_six_and_no_half_empty_page_but_a_parts_last(spec_draft):
    pdf = preview.to_pdf(spec_draft["result"].path, REAL_SOFFICE)
    facts = page_facts(pdf)
    parts = [part for part, _ in facts]
    assert parts.count("正文") <= 6 and "附件" in parts and "附表" in parts
    for k, (part, full) in enumerate(facts):
        last_of_part = k + 1 == len(facts) or facts[k + 1][0] != part
        assert full >= 0.5 or last_of_part, (k + 1, part, round(full, 2), facts)


def test_the_pages_and_the_workbook_never_compare_the_gap_across_years():
    from analysis.report import summary
    from analysis.site import index

    view = select(fp.history_frame(), REGION, YEAR)
    figures = {k.name: k.change for k in index.key_figures(view)}
    assert figures["办理县长热线件"].startswith("比2018年 +72个")
    rows = summary.indicator_rows(view).set_index("indicator_id")
    assert rows.loc[GAP, "change"] == "—" and rows.loc["disclosure.hotline_cases", "change"].startswith(
        "+72个"
    )
    assert (
        rows.loc["leadership.study_books_printed", "change"] == "—"
    )  # 500余本: no difference of rough figures
