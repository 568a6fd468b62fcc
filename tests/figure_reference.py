"""The print figures of a real report and the way they were saved before issue 23, for the figure tests and
``python benchmarks/bench.py figures``.

:func:`report_charts` runs the code cells of the shipped notebooks on the processed test tables (通许县
2018–2019, ``tests/fixtures_processed.py``; nothing read from ``data/``), with display turned off, and keeps
every chart a notebook saves as a print figure. :func:`old_figure_files` is the saving path before issue 23
(``savefig`` once per format, each laying the figure out again for ``bbox_inches="tight"``; the PNG as
matplotlib writes it, RGBA). :func:`png_pixels` and :func:`svg_labels` give what a reader sees of each file.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

from analysis.core.catalog import load_catalog
from analysis.explore import nb
from analysis.explore.chartspec import Chart
from analysis.explore.style import DPI, rc
from tests import fixtures_processed as fp

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def report_charts(year: int = fp.YEAR) -> list[tuple[str, Chart]]:
    """(file stem, chart) of every print figure the report notebooks of 通许县 ``year`` save, in order."""
    indicators, issues, catalog = fp.history_frame(), fp.issues(), load_catalog()
    charts: list[tuple[str, Chart]] = []
    saved = nb.setup, nb.show_chart, nb._display

    def setup(region, year, processed_dir, output_dir, notebook):
        return saved[0](
            region,
            year,
            processed_dir,
            output_dir,
            notebook,
            indicators=indicators,
            issues=issues,
            catalog=catalog,
        )

    def show_chart(ctx, chart, name):
        if not chart.empty:
            charts.append((f"{ctx.notebook}_{name}", chart))

    nb.setup, nb.show_chart, nb._display = setup, show_chart, lambda *a, **k: None
    try:
        with tempfile.TemporaryDirectory(prefix="fazhi-figures-") as out:
            for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
                cells = [
                    c
                    for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                    if c["cell_type"] == "code"
                ]
                namespace = {"region": fp.REGION, "year": year, "processed_dir": "", "output_dir": out}
                for cell in cells[1:]:  # the first is the parameters cell, replaced by the namespace
                    exec("".join(cell["source"]), namespace)  # noqa: S102 - the project's own notebooks
    finally:
        nb.setup, nb.show_chart, nb._display = saved
    return charts


def old_figure_files(fig) -> dict[str, bytes]:
    """``fig`` as PNG and SVG saved the way :func:`~analysis.explore.static_figures.save_static` saved it
    before issue 23."""
    out = {}
    with matplotlib.rc_context(rc()):
        for fmt in ("png", "svg"):
            buf = io.BytesIO()
            metadata = (
                {"Software": None, "Title": fig.get_suptitle() or None} if fmt == "png" else {"Date": None}
            )
            fig.savefig(buf, format=fmt, dpi=DPI, facecolor="white", metadata=metadata)
            out[fmt] = buf.getvalue()
    return out


def old_print_png(fig) -> bytes:
    """A print figure (:func:`~analysis.explore.static_figures.print_figure`) as PNG, the way
    :func:`~analysis.explore.static_figures.print_png` saved it before issue 23."""
    buf = io.BytesIO()
    with matplotlib.rc_context({**rc(), "savefig.bbox": "standard"}):
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def png_pixels(data: bytes) -> np.ndarray:
    """The decoded pixels as RGBA integers (an RGB file is opaque)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.int16)


def svg_labels(data: bytes) -> list[str]:
    """The texts of an SVG whose text is drawn as glyph outlines (``svg.fonttype: path``): matplotlib writes
    each text as a comment before its glyphs, in drawing order."""
    return re.findall(r"<!-- (.*?) -->", data.decode("utf-8"), flags=re.S)


def svg_size(data: bytes) -> tuple[float, float]:
    """(width, height) in points of the SVG's viewBox."""
    box = re.search(r'viewBox="([^"]+)"', data.decode("utf-8")).group(1).split()
    return float(box[2]), float(box[3])
