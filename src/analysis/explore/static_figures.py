"""Print figures: a :class:`~analysis.explore.chartspec.Chart` drawn with matplotlib's object API
(``matplotlib.figure.Figure``, never ``pyplot``, so an analyst's own ``plt`` state is untouched) and saved
atomically as PNG (300 dpi) and SVG.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.text
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from analysis.core.fileio import atomic_write_bytes
from analysis.core.formatting import MISSING, format_value
from analysis.explore.chartspec import (
    ALL_ZERO,
    Chart,
    grid,
    missing_note,
    plain,
    series_colors,
    waterfall_base,
    waterfall_levels,
    wrap_lines,
)
from analysis.explore.style import COLORS, DPI, SERIES, bold, rc


def _subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], squeeze: bool = True):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


def _draw(chart: Chart) -> Figure:
    if chart.empty:
        raise ValueError("an empty chart cannot be drawn")
    return {
        "bar": _mpl_bar,
        "stacked": _mpl_stacked,
        "rates": _mpl_rates,
        "parts": _mpl_parts,
        "waterfall": _mpl_waterfall,
        "funnel": _mpl_funnel,
        "tiles": _mpl_tiles,
        "trend": _mpl_trend,
        "panels": _mpl_panels,
    }[chart.kind](chart)


def to_matplotlib(chart: Chart) -> Figure:
    """Draw ``chart`` statically in the project's style (matplotlib's global settings are left alone)."""
    with matplotlib.rc_context(rc()):
        fig = _draw(chart)
        fig.suptitle(chart.title, fontsize=13, fontweight=bold(), color=COLORS["text"])
        footer = [x for x in (chart.note, missing_note(chart)) if x]
        if footer:
            per_line = max(24, int(fig.get_figwidth() * 72 / 9 * 0.95))  # 9 pt characters across the figure
            lines = [line for part in footer for line in wrap_lines(part, per_line)]
            fig.text(0.01, -0.02, "\n".join(lines), fontsize=9, color=COLORS["muted"], ha="left", va="top")
    return fig


PRINT_MIN_PT = 9  # the smallest text of a printed figure, at its printed size


def print_figure(chart: Chart, width_mm: float, max_height_mm: float) -> Figure:
    """``chart`` drawn for paper, exactly ``width_mm`` wide, to be placed at 100 %: no title inside (the
    document's caption is the title), no note (the document prints it under the caption), every text at
    least :data:`PRINT_MIN_PT` points, everything laid out inside the figure."""
    with matplotlib.rc_context(rc()):
        fig = _draw(chart)
        width_in = width_mm / 25.4
        w, h = fig.get_size_inches()
        fig.set_size_inches(width_in, min(h * width_in / w, max_height_mm / 25.4))
        fig.draw_without_rendering()  # creates the tick labels, so that their sizes can be raised too
        for text in fig.findobj(matplotlib.text.Text):
            if text.get_text() and text.get_fontsize() < PRINT_MIN_PT:
                text.set_fontsize(PRINT_MIN_PT)
        fig.set_layout_engine("constrained")
    return fig


def print_png(chart: Chart, width_mm: float, max_height_mm: float) -> bytes:
    """:func:`print_figure` as a PNG (300 dpi) of exactly that size."""
    fig = print_figure(chart, width_mm, max_height_mm)
    with matplotlib.rc_context({**rc(), "savefig.bbox": "standard"}):
        return _png(fig, None, {})


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """``fig`` as PNG (300 dpi) or SVG bytes, in the project's style, with no date or software stamp."""
    return _figure_files(fig, (fmt,))[fmt]


def save_static(fig: Figure, directory: str | Path, basename: str) -> list[Path]:
    """Save ``fig`` as ``<basename>.png`` (300 dpi) and ``.svg`` in ``directory``, each file atomically."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = _figure_files(fig, ("png", "svg"))
    paths = [directory / f"{basename}.{fmt}" for fmt in files]
    for path in paths:
        atomic_write_bytes(path, files[path.suffix[1:]])
    return paths


def _figure_files(fig: Figure, formats: tuple[str, ...]) -> dict[str, bytes]:
    """``fig`` in each of ``formats`` ("png", "svg"), laid out once: the tight bounding box is measured
    once (at 300 dpi, as ``savefig(bbox_inches="tight")`` measures it for the PNG) and given to every
    format, so no format pays that layout pass again; the PNG is drawn once on the Agg canvas."""
    out = {}
    with matplotlib.rc_context(rc()):
        bbox = tight_bbox(fig)
        for fmt in formats:
            if fmt == "png":
                # a PNG carries the chart title (tEXt Title): a figure copied elsewhere still says what it shows
                out[fmt] = _png(fig, bbox, {"Title": fig.get_suptitle() or None})
            else:
                buf = io.BytesIO()
                fig.savefig(
                    buf, format=fmt, dpi=DPI, facecolor="white", metadata={"Date": None}, bbox_inches=bbox
                )
                out[fmt] = buf.getvalue()
    return out


def tight_bbox(fig: Figure) -> Bbox:
    """The box ``savefig(bbox_inches="tight", dpi=300)`` would crop ``fig`` to (padding included)."""
    dpi = fig.dpi
    try:
        fig.set_dpi(DPI)
        canvas = FigureCanvasAgg(fig)
        fig.draw_without_rendering()  # ticks and layout, as savefig's own pass before it measures
        box = fig.get_tightbbox(canvas.get_renderer())
    finally:
        fig.set_dpi(dpi)
    return box.padded(matplotlib.rcParams["savefig.pad_inches"])


class _Pixels(io.BytesIO):
    """A file that keeps, as a Pillow image, the canvas's pixels ``savefig(format="raw")`` writes: RGB when
    every pixel is opaque (every figure here: its background is white), else RGBA."""

    image: Image.Image

    def write(self, data) -> int:  # a memoryview of the canvas, (height, width, 4) RGBA
        height, width, _ = data.shape
        pixels = np.asarray(data)
        if pixels[..., 3].min() == 255:  # opaque: the same pixels as RGB, a quarter less to compress
            self.image = Image.frombytes("RGB", (width, height), pixels, "raw", "RGBX")
        else:
            self.image = Image.frombuffer("RGBA", (width, height), data, "raw", "RGBA", 0, 1)
        return data.nbytes


def _png(fig: Figure, bbox: Bbox | None, metadata: dict[str, str | None]) -> bytes:
    """``fig`` drawn once on the Agg canvas (300 dpi, white) and encoded as PNG by Pillow (an opaque figure
    as RGB, not RGBA: a smaller file). No software stamp."""
    sink = _Pixels()
    fig.savefig(sink, format="raw", dpi=DPI, facecolor="white", bbox_inches=bbox)
    image = sink.image
    info = PngInfo()
    for key, value in metadata.items():
        if value is not None:
            info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, format="png", dpi=(DPI, DPI), pnginfo=info)
    return buf.getvalue()


def _wrap(label: str, width: int = 14) -> str:
    return "\n".join(wrap_lines(label, width))


def _bar_height(n: int) -> float:
    return max(2.2, 0.55 * n + 1.2)


def _mpl_bar(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(8, _bar_height(len(chart.values))))
    y = range(len(chart.values))[::-1]
    colors = [COLORS["gap"] if i in chart.highlight else COLORS["main"] for i in range(len(chart.values))]
    ax.barh(list(y), chart.values, color=colors, height=0.6)
    ax.set_yticks(list(y), [_wrap(x) for x in chart.labels])
    top = max(chart.values, default=0) or 1
    for yi, value, text in zip(y, chart.values, chart.texts, strict=True):
        ax.text(value + top * 0.01, yi, text, va="center", ha="left", fontsize=10, color=COLORS["text"])
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    return fig


def _mpl_stacked(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(8, _bar_height(len(chart.labels))))
    y = list(range(len(chart.labels)))[::-1]
    left = [0.0] * len(chart.labels)
    for (name, values), color in zip(chart.series, series_colors(chart), strict=True):
        vals = [v or 0.0 for v in values]
        ax.barh(y, vals, left=left, color=color, height=0.6, label=name)
        for yi, lo, v in zip(y, left, vals, strict=True):
            if v:
                ax.text(lo + v / 2, yi, plain(v), va="center", ha="center", fontsize=9, color="white")
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(y, [_wrap(x) for x in chart.labels])
    # above the bars, at the right (a full bar would hide under a legend inside the axes)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(chart.series), frameon=False, fontsize=9)
    ax.set_xlim(0, (max(left, default=0) or 1) * 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.2, 0.4 …
    if chart.unit:
        ax.set_xlabel(f"单位：{chart.unit}")
    return fig


def _mpl_rates(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(8, _bar_height(len(chart.values))))
    y = list(range(len(chart.values)))[::-1]
    ax.barh(y, [100] * len(y), color=COLORS["track"], height=0.6)
    ax.barh(y, chart.values, color=COLORS["main"], height=0.6)
    for yi, text in zip(y, chart.texts, strict=True):
        ax.text(101.5, yi, text, va="center", ha="left", fontsize=10.5, fontweight=bold())
    ax.set_yticks(y, [_wrap(x) for x in chart.labels])
    ax.set_xlim(0, 115)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"])
    return fig


def _mpl_parts(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(6.5, 4.6))
    total = sum(chart.values)
    empty = not total  # every part zero (valid data): an empty ring that says so
    wedges, _ = ax.pie(
        [1] if empty else chart.values,
        colors=[COLORS["track"]] if empty else SERIES[: len(chart.values)],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white"},
    )
    centre = f"合计\n{plain(total)}{chart.unit}" + (f"\n{ALL_ZERO}" if empty else "")
    ax.text(0, 0, centre, ha="center", va="center", fontsize=12, fontweight=bold())
    legend = [f"{label}：{text}" for label, text in zip(chart.labels, chart.texts, strict=True)]
    handles = [wedges[0]] * len(legend) if empty else wedges
    ax.legend(handles, legend, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_aspect("equal")
    return fig


def _mpl_waterfall(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(8.5, 4.8))
    levels = waterfall_levels(chart.values, chart.measures)
    top = max(max(a, b) for a, b in levels)
    base = waterfall_base(levels, chart.measures)
    visible = (top - base) or 1
    for i, ((a, b), measure, value) in enumerate(zip(levels, chart.measures, chart.values, strict=True)):
        if i in chart.highlight:
            color, hatch = COLORS["gap"], "//"
        elif measure != "relative":
            color, hatch = COLORS["main"], None
        else:
            color, hatch = (COLORS["up"] if value >= 0 else COLORS["down"]), None
        lo, hi = (max(base, min(a, b)), max(a, b)) if measure == "relative" else (base, max(a, b))
        ax.bar(i, hi - lo, bottom=lo, color=color, width=0.6, hatch=hatch, edgecolor="white")
        ax.text(
            i, hi + visible * 0.02, chart.texts[i], ha="center", va="bottom", fontsize=10, fontweight=bold()
        )
        if i + 1 < len(levels):
            end = b if measure == "relative" else max(a, b)
            ax.plot([i + 0.3, i + 0.7], [end, end], color=COLORS["muted"], linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(chart.labels)), [_wrap(x, 8) for x in chart.labels])
    ax.set_ylim(base, top + visible * 0.15)
    unit = f"单位：{chart.unit}" if chart.unit else ""
    ax.set_ylabel(f"{unit}（纵轴未从0开始）" if base > 0 else unit)
    return fig


def _mpl_funnel(chart: Chart) -> Figure:
    fig, ax = _subplots(figsize=(8, _bar_height(len(chart.values))))
    top = max(chart.values) or 1
    y = list(range(len(chart.values)))[::-1]
    for yi, value, text in zip(y, chart.values, chart.texts, strict=True):
        ax.barh(yi, value, left=(top - value) / 2, color=COLORS["main"], height=0.7)
        ax.text(top / 2, yi, text, ha="center", va="center", color="white", fontsize=11, fontweight=bold())
    ax.set_yticks(y, [_wrap(x) for x in chart.labels])
    ax.set_xlim(0, top)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    return fig


def _mpl_tiles(chart: Chart) -> Figure:
    rows, cols = grid(len(chart.values), 3)
    fig, axes = _subplots(rows, cols, figsize=(3.0 * cols, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, label, text in zip(axes.flat, chart.labels, chart.texts, strict=False):
        ax.add_patch(Rectangle((0.03, 0.05), 0.94, 0.9, transform=ax.transAxes, color=COLORS["track"]))
        ax.text(
            0.5, 0.6, text, ha="center", va="center", fontsize=17, fontweight=bold(), color=COLORS["main"]
        )
        ax.text(0.5, 0.22, _wrap(label, 13), ha="center", va="center", fontsize=9, color=COLORS["text"])
    return fig


def _mpl_trend(chart: Chart) -> Figure:
    rows, cols = grid(len(chart.series), 3)
    fig, axes = _subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    x = list(range(len(chart.labels)))
    units = chart.series_units or ("",) * len(chart.series)
    for ax, (name, values), unit in zip(axes.flat, chart.series, units, strict=False):
        ax.axis("on")
        pts = [(xi, v) for xi, v in zip(x, values, strict=True) if v is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=COLORS["main"])
        for xi, v in pts:
            ax.annotate(plain(v), (xi, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8)
        ax.set_xticks(x, chart.labels, fontsize=8)
        ax.set_title(_wrap(f"{name}（{unit}）" if unit else name, 16), fontsize=9, fontweight="normal")
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(x=0.15, y=0.25)
        known = [v for v in values if v is not None]
        if min(known) >= 0:  # counts from zero: a flat or small change is not drawn as a steep one
            ax.set_ylim(0, max(known) * 1.25 or 1)  # room above the highest point for its label
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=all(float(v).is_integer() for v in known)))
    # leave room above the grid for the figure title (added by to_matplotlib)
    # laid out once, as fig.tight_layout would, but leaving no layout engine on the figure: with one (even
    # the placeholder tight_layout leaves) every later save would lay the figure out again first
    TightLayoutEngine(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight())).execute(fig)
    return fig


def _mpl_panels(chart: Chart) -> Figure:
    n, k = len(chart.labels), len(chart.series)
    fig, axes = _subplots(1, k, figsize=(max(6.0, 2.6 * k + 1.5), max(2.2, 0.3 * n + 1.4)), squeeze=False)
    units = chart.series_units or ("",) * k
    y = list(range(n))[::-1]
    for ax, (name, values), unit in zip(axes[0], chart.series, units, strict=True):
        known = [0.0 if v is None else float(v) for v in values]
        ax.barh(y, known, color=COLORS["main"], height=0.6)
        top = max(known, default=0) or 1
        for yi, value in zip(y, values, strict=True):
            text = MISSING if value is None else format_value(value, unit)
            ax.text(
                (value or 0) + top * 0.02, yi, text, va="center", ha="left", fontsize=8, color=COLORS["text"]
            )
        ax.set_xlim(0, top * 1.6)
        ax.set_title(_wrap(f"{name}（{unit}）" if unit else name, 10), fontsize=9)
        ax.xaxis.set_visible(False)
        ax.spines["bottom"].set_visible(False)
        ax.set_yticks(y, [_wrap(x) for x in chart.labels] if ax is axes[0][0] else [""] * n)
    return fig
