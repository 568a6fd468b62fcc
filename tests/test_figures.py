"""Figures: CJK font choice and coverage, no missing glyphs, both renderers for every chart kind."""

from __future__ import annotations

import io
import warnings

import matplotlib.pyplot as plt
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image, ImageChops

from analysis.core.catalog import load_catalog
from analysis.core.problems import CODES
from analysis.explore import chartspec, interactive_figures, static_figures, style
from analysis.explore.chartspec import Chart

HOSTILE = "<b>局</b>&<script>x</script>"


def catalog_texts() -> list[str]:
    cat = load_catalog()
    texts = [i.name_zh for i in cat.indicators.values()]
    texts += [str(t["title_zh"]) for t in cat.topics.values()]
    texts += list(cat.units) + list(cat.departments) + [x.title_zh for x in cat.identities]
    texts += [title for _, title in CODES.values()]
    return texts


def sample_charts() -> list[Chart]:
    names = tuple(i.name_zh for i in load_catalog().reported[:4])
    one = {
        "labels": names,
        "values": (1146.0, 106.0, 32.0, 19.0),
        "texts": ("1146项", "106项", "32项", "19个"),
    }
    return [
        Chart("bar", "通许县2019年政务服务事项", **one, unit="项", missing=("取缔黑加油站(点)",)),
        Chart("rates", "比例", labels=names[:2], values=(80.0, 98.1), texts=("80%", "98.1%")),
        Chart(
            "parts",
            "证明事项清理",
            labels=("保留证明事项", "取消证明事项"),
            values=(15.0, 205.0),
            texts=("15项", "205项"),
            unit="项",
        ),
        Chart(
            "waterfall",
            "权责清单调整",
            labels=("调整前", "取消", "增补", "未说明的增减", "调整后"),
            values=(2705.0, -38.0, 44.0, -51.0, 2660.0),
            texts=("2705项", "−38项", "+44项", "−51项", "2660项"),
            measures=("absolute", "relative", "relative", "relative", "total"),
            highlight=(3,),
            unit="项",
            note="按各项增减计算应为2711项，报告数为2660项，少51项，差额未作说明。",
        ),
        Chart(
            "funnel",
            "行政复议",
            labels=("收到", "受理", "审结"),
            values=(12.0, 12.0, 12.0),
            texts=("12件", "12件（100%）", "12件（100%）"),
        ),
        Chart("tiles", "主要数字", **one),
        Chart(
            "stacked",
            "填报情况",
            labels=("县司法局", HOSTILE),
            series=(("已填报", (23.0, 0.0)), ("未填报", (0.0, 2.0))),
            unit="项",
        ),
        Chart(
            "trend",
            "历年变化",
            labels=("2018", "2019"),
            series=(("调解矛盾纠纷", (6062.0, 6736.0)), ("人民调解成功率", (None, 98.1))),
            series_units=("件", "%"),
        ),
    ]


def test_font_is_a_cjk_font_system_first_else_mplfonts():
    font = style.cjk_font()
    assert font.source in ("system", "mplfonts")
    if font.source == "system":
        assert font.name in style.PREFERRED_FONTS
    else:
        assert font.path.endswith("NotoSansCJKsc-Regular.otf")
    with style.context():
        assert plt.rcParams["font.sans-serif"][0] == font.name
        assert plt.rcParams["axes.unicode_minus"] is False


def test_font_covers_every_catalog_name_and_figure_text():
    text = "".join(catalog_texts()) + "合计单位：未填报（纵轴未从0开始）−+%，。、“”·—"
    assert style.missing_glyphs(text) == set()


def test_missing_glyphs_detects_a_character_outside_the_font():
    # U+10FFFD (private use plane 16) is in no font: the check must be able to fail.
    assert style.missing_glyphs("通许县\U0010fffd") == {"\U0010fffd"}


def test_rendering_chinese_gives_no_missing_glyph_warning():
    with style.context():
        fig, ax = plt.subplots()
        ax.set_title("；".join(catalog_texts()[:20]))
        ax.set_yticks(range(5), catalog_texts()[20:25])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with style.context():
            fig.savefig(io.BytesIO(), format="png")
        for chart in sample_charts():
            static_figures.figure_bytes(static_figures.to_matplotlib(chart), "png")
    plt.close(fig)
    glyphs = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert glyphs == []


def test_a_latin_only_font_would_warn(monkeypatch):
    # The no-warning test above means something only if matplotlib does warn without a CJK font.
    fig, ax = plt.subplots()
    ax.set_title("调解矛盾纠纷", fontfamily="DejaVu Sans")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    assert any("missing from" in str(w.message) for w in caught)


@pytest.mark.parametrize("chart", sample_charts(), ids=lambda c: c.kind)
def test_every_kind_draws_both_ways_and_saves_png_and_svg(chart, tmp_path):
    pfig = interactive_figures.to_plotly(chart)
    assert pfig.layout.title.text
    paths = static_figures.save_static(static_figures.to_matplotlib(chart), tmp_path, f"x_{chart.kind}")
    png, svg = paths
    assert png.name == f"x_{chart.kind}.png" and svg.name == f"x_{chart.kind}.svg"
    with Image.open(png) as im:
        assert round(im.info["dpi"][0]) == 300
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "<script" not in text  # submitted text never becomes markup in the SVG


def test_plotly_escapes_submitted_text():
    chart = sample_charts()[6]
    labels = [str(y) for y in interactive_figures.to_plotly(chart).to_dict()["data"][0]["y"]]
    assert labels[1].startswith("&lt;b&gt;局&lt;/b&gt;&amp;")
    assert not any("<script" in y or "<b>" in y for y in labels)


def test_waterfall_levels_float_the_changes():
    levels = chartspec.waterfall_levels(
        (2705.0, -38.0, 44.0, -51.0, 2660.0), ("absolute",) + ("relative",) * 3 + ("total",)
    )
    assert levels == [(0.0, 2705.0), (2705.0, 2667.0), (2667.0, 2711.0), (2711.0, 2660.0), (0.0, 2660.0)]


def test_waterfall_highlights_the_gap_in_plotly():
    fig = interactive_figures.to_plotly(sample_charts()[3])
    assert list(fig.data[0].measure) == ["absolute", "relative", "relative", "relative", "total"]
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 1 and (rects[0].y0, rects[0].y1) == (2660.0, 2711.0)


def test_empty_chart_is_refused_and_bad_kind_rejected():
    empty = Chart("bar", "无数据", missing=("调解矛盾纠纷",))
    assert empty.empty
    with pytest.raises(ValueError):
        interactive_figures.to_plotly(empty)
    with pytest.raises(ValueError):
        Chart("pie3d", "x")
    with pytest.raises(ValueError):
        Chart("bar", "x", labels=("a",), values=(1.0, 2.0), texts=("1",))


# --- layout: what the analyst sees ------------------------------------------------------------------------

MANY_MISSING = tuple(i.name_zh for i in load_catalog().reported[:16])


def test_labels_wrap_between_words_and_never_start_a_line_with_a_closing_bracket():
    code = "勾稽关系不成立（reconciliation-mismatch）"
    lines = chartspec.wrap_lines(code, 14)
    assert "".join(lines) == code and any("reconciliation-mismatch" in x for x in lines)
    for text, width in [("县政府作为被告的行政应诉案件（件）", 16), ("向“信用开封”推送双公示信息（条）", 16)]:
        lines = chartspec.wrap_lines(text, width)
        assert "".join(lines) == text and not any(x[0] in "）。，、”" for x in lines), lines
    # balanced: no orphan character on a second line
    lines = chartspec.wrap_lines("乡镇(街道)公共法律服务工作站村", 14)
    assert len(lines) == 2 and min(len(x) for x in lines) >= 6, lines
    assert chartspec.wrap_lines("政务服务事项", 14) == ["政务服务事项"]


def test_a_long_missing_list_is_wrapped_in_both_renderers(tmp_path):
    chart = Chart("tiles", "尉氏县2020年主要数字", labels=("调解矛盾纠纷",), values=(3210.0,), texts=("3210件",),
                  missing=MANY_MISSING)  # fmt: skip
    png, _ = static_figures.save_static(static_figures.to_matplotlib(chart), tmp_path, "tiles")
    with Image.open(png) as im:
        assert im.size[0] <= 10 * style.DPI, im.size  # a printed figure, not a 20-inch strip
    fig = interactive_figures.to_plotly(chart)
    footer = fig.layout.annotations[-1].text
    assert footer.count("<br>") >= 3 and max(len(x) for x in footer.split("<br>")) <= 70


def test_plotly_figure_grows_with_its_footer_instead_of_squeezing_the_chart():
    bare = Chart("tiles", "主要数字", labels=("调解矛盾纠纷",), values=(3210.0,), texts=("3210件",))
    noted = Chart(**{**bare.__dict__, "missing": MANY_MISSING})
    a, b = interactive_figures.to_plotly(bare).layout, interactive_figures.to_plotly(noted).layout
    assert b.height - a.height == b.margin.b - a.margin.b > 0


def test_tiles_are_centred_in_their_cards():
    fig = interactive_figures.to_plotly(sample_charts()[5])
    cards = [a for a in fig.layout.annotations if a.xref == "paper" and a.yanchor != "top"]
    assert len(cards) == 8
    assert all(a.xanchor == "center" and a.yanchor == "middle" for a in cards)


def test_stacked_legend_is_clear_of_the_title_and_counts_are_whole_numbers(tmp_path):
    chart = Chart("stacked", "通许县2019年数据问题（按问题代码）", labels=("勾稽关系不成立",),
                  series=(("警告", (1.0,)),), unit="条", tones=("down",))  # fmt: skip
    fig = interactive_figures.to_plotly(chart)
    assert fig.layout.legend.xanchor == "right" and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.legend.y >= 1 and fig.layout.title.x < 0.5
    assert fig.layout.xaxis.dtick == 1
    assert fig.data[0].marker.color == style.COLORS["down"]
    mfig = static_figures.to_matplotlib(chart)
    ax = mfig.axes[0]
    with style.context():
        FigureCanvasAgg(mfig).draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the bars, not on them


def test_tones_must_match_the_series():
    with pytest.raises(ValueError):
        Chart("stacked", "x", labels=("a",), series=(("已填报", (1.0,)),), tones=("main", "light"))
    with pytest.raises(ValueError):
        Chart("stacked", "x", labels=("a",), series=(("已填报", (1.0,)),), tones=("purple",))


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_trend_title_clears_the_small_multiples_and_axes_start_at_zero():
    names = tuple(i.name_zh for i in load_catalog().reported[:6])
    chart = Chart("trend", "通许县2019—2020年历年变化", labels=("2019", "2020"),
                  series=tuple((n, (16.0, 16.0)) for n in names), series_units=("个",) * 6)  # fmt: skip
    fig = static_figures.to_matplotlib(chart)
    canvas = FigureCanvasAgg(fig)
    with style.context():
        canvas.draw()
    renderer = canvas.get_renderer()
    [suptitle] = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    title = suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        if ax.axison:
            assert not _overlaps(title, ax.title.get_window_extent(renderer)), ax.title.get_text()
            assert ax.get_ylim()[0] == 0
            assert all(float(t).is_integer() for t in ax.get_yticks())
    pfig = interactive_figures.to_plotly(chart)
    assert pfig.layout.yaxis.rangemode == "tozero" and pfig.layout.yaxis.exponentformat == "none"
    # the rows keep most of the height for the plots themselves
    domain = pfig.layout.yaxis.domain
    assert domain[1] - domain[0] > 0.3


def test_rate_axis_is_labelled_in_percent_and_a_cut_waterfall_axis_says_so():
    fig = interactive_figures.to_plotly(sample_charts()[1])
    assert list(fig.layout.xaxis.ticktext) == ["0", "25%", "50%", "75%", "100%"]
    wf = interactive_figures.to_plotly(sample_charts()[3])
    assert "纵轴未从0开始" in wf.layout.yaxis.title.text


def test_trend_axis_of_a_signed_series_keeps_a_readable_tick_count():
    chart = Chart("trend", "历年变化", labels=("2019", "2020"),
                  series=(("权责清单未说明的增减", (-51.0, 0.0)), ("化解新闻突发事件", (1.0, 2.0)),
                          ("双替代", (11000.0, 11000.0))),
                  series_units=("项", "起", "户"))  # fmt: skip
    fig = interactive_figures.to_plotly(chart)
    assert fig.layout.yaxis.dtick is None  # −51 … 0 in steps of one would be 52 labels
    assert fig.layout.yaxis2.dtick == 1
    assert fig.layout.yaxis3.tickformat == "~g"  # 11000, not "11,000" or "11k"


def test_static_trend_has_few_ticks_and_room_for_the_top_label():
    chart = Chart("trend", "历年变化", labels=("2019", "2020"), series=(("调整后行政职权事项", (2660.0, 2666.0)),),
                  series_units=("项",))  # fmt: skip
    fig = static_figures.to_matplotlib(chart)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) <= 7
    assert ax.get_ylim()[1] >= 2666 * 1.2
    plt.close(fig)


@pytest.mark.parametrize("chart", sample_charts(), ids=lambda c: c.kind)
def test_png_without_alpha_has_matplotlibs_pixels_and_is_no_larger(chart):
    fig = static_figures.to_matplotlib(chart)
    ours = static_figures.figure_bytes(fig, "png")
    reference = io.BytesIO()  # matplotlib's own RGBA writer, as the figures were saved before
    with style.context():
        fig.savefig(
            reference,
            format="png",
            dpi=style.DPI,
            facecolor="white",
            metadata={"Software": None, "Title": fig.get_suptitle() or None},
        )
    with Image.open(io.BytesIO(ours)) as new, Image.open(reference) as old:
        assert new.mode == "RGB" and old.mode == "RGBA"
        assert new.size == old.size and round(new.info["dpi"][0]) == 300
        assert new.info.get("Title") == old.info.get("Title") == chart.title
        assert old.getchannel("A").getextrema() == (255, 255)  # nothing transparent was dropped
        diff = ImageChops.difference(new, old.convert("RGB"))
        assert diff.getbbox() is None  # the same pixels, not merely close ones
    assert len(ours) <= len(reference.getvalue())
    svg = static_figures.figure_bytes(fig, "svg")
    assert svg == static_figures.figure_bytes(fig, "svg")  # stable text: the same chart, the same file
