"""Print figures laid out once and drawn once (issue 23): the files look the same as those saved the old
way (each format laid out again by ``savefig``; the PNG as RGBA), the PNG is no larger, and the SVG says the
same texts."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from analysis.draft.annex import WIDTH_MM
from analysis.explore import static_figures
from tests import figure_reference as ref


@pytest.fixture(scope="module")
def charts():
    """One figure of each kind a real 2019 report saves (every kind of the notebooks: 8 figures)."""
    chosen = {}
    for name, chart in ref.report_charts():
        chosen.setdefault(chart.kind, (name, chart))
    return list(chosen.values())


def test_the_report_saves_every_kind_of_figure(charts):
    assert {c.kind for _, c in charts} >= {"bar", "rates", "parts", "waterfall", "funnel", "tiles", "trend"}


def test_png_and_svg_look_the_same_as_the_old_way_and_the_png_is_no_larger(charts, tmp_path):
    for name, chart in charts:
        old = ref.old_figure_files(static_figures.to_matplotlib(chart))
        png_path, svg_path = static_figures.save_static(static_figures.to_matplotlib(chart), tmp_path, name)
        png, svg = png_path.read_bytes(), svg_path.read_bytes()
        before, after = ref.png_pixels(old["png"]), ref.png_pixels(png)
        assert after.shape == before.shape, name
        diff = abs(after - before)
        assert diff.max() <= 2 and diff.mean() <= 0.01, (name, diff.max(), diff.mean())
        assert len(png) <= len(old["png"]), name
        assert ref.svg_labels(svg) == ref.svg_labels(old["svg"]), name
        assert any(chart.title in label for label in ref.svg_labels(svg)), name
        (w0, h0), (w1, h1) = ref.svg_size(old["svg"]), ref.svg_size(svg)
        assert abs(w1 - w0) <= 1.5 and abs(h1 - h0) <= 1.5, (name, (w0, h0), (w1, h1))  # points
        with Image.open(png_path) as image:
            assert round(image.info["dpi"][0]) == 300 and image.info["Title"] == chart.title
            assert "Software" not in image.info


def test_the_annex_png_looks_the_same_as_the_old_way(charts):
    for _, chart in charts:
        if chart.kind not in {"bar", "parts"}:  # two of the annex's kinds (a print figure is 150 mm wide)
            continue
        old = ref.old_print_png(static_figures.print_figure(chart, WIDTH_MM, 90))
        new = static_figures.print_png(chart, WIDTH_MM, 90)
        before, after = ref.png_pixels(old), ref.png_pixels(new)
        assert after.shape == before.shape and abs(after - before).max() <= 2, chart.kind
        assert len(new) <= len(old), chart.kind


def test_figure_bytes_gives_each_format_alone(charts):
    _, chart = charts[0]
    fig = static_figures.to_matplotlib(chart)
    png, svg = static_figures.figure_bytes(fig, "png"), static_figures.figure_bytes(fig, "svg")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.mode == "RGB"  # opaque: no alpha channel to store
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


def test_a_small_multiples_figure_keeps_no_layout_engine(charts):
    """Laid out once when drawn: a layout engine left on the figure would make every save lay it out again."""
    trend = next(c for _, c in charts if c.kind == "trend")
    assert static_figures.to_matplotlib(trend).get_layout_engine() is None
