"""Charts of the analysis notebooks: one shared visual style, drawn twice from one :class:`Chart`.

A :class:`Chart` holds what a figure shows (labels, values, their formatted texts, units) and nothing of
how. :func:`to_plotly` draws it interactively for the notebook and the HTML pages; :func:`to_matplotlib`
draws it statically for the printed report, saved by :func:`save_static` as PNG (300 dpi) and SVG.

Chinese text needs a CJK font: :func:`cjk_font` prefers a system font and otherwise registers the Noto Sans
CJK SC file shipped by the ``mplfonts`` package (no network).
"""

from __future__ import annotations

import functools
import html
import importlib.util
import math
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are saved to files; the notebook shows the plotly version

import matplotlib.pyplot as plt  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from analysis.core.formatting import format_number  # noqa: E402

# System fonts first, in this order; then the font shipped by the pip package mplfonts.
PREFERRED_FONTS = ("Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei")
BUNDLED_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")
DPI = 300

# The shared style: one palette for both renderers.
COLORS = {
    "main": "#1f5f8b",  # values, totals
    "light": "#8fb8d8",  # secondary series
    "up": "#3a8f5c",  # increases
    "down": "#d08a2e",  # decreases
    "gap": "#c0392b",  # what the figures do not explain
    "track": "#e6e9ed",  # background of rate bars
    "text": "#222222",
    "muted": "#6b7280",
}
SERIES = ["#1f5f8b", "#d08a2e", "#3a8f5c", "#8e6bb8", "#c0392b", "#5aa6a6", "#b0892f", "#6b7280"]
KINDS = ("bar", "stacked", "rates", "parts", "waterfall", "funnel", "tiles", "trend")
FOOTER_WIDTH = 60  # characters per line of the note under an interactive figure


@dataclass(frozen=True)
class Chart:
    """What one figure shows. ``texts`` are the value labels as printed (already formatted, with unit).

    kind: bar | stacked | rates | parts | waterfall | funnel | tiles | trend
    - bar, rates, parts, funnel, tiles: one value per label.
    - waterfall: ``measures`` per label (absolute | relative | total); ``highlight`` marks unexplained steps.
    - stacked: ``series`` of (name, values per label), stacked horizontally.
    - trend: ``labels`` are years; ``series`` one (indicator name, values per year) each, drawn as small
      multiples, ``series_units`` the unit of each series.
    """

    kind: str
    title: str
    labels: tuple[str, ...] = ()
    values: tuple[float, ...] = ()
    texts: tuple[str, ...] = ()
    unit: str = ""
    measures: tuple[str, ...] = ()
    highlight: tuple[int, ...] = ()
    series: tuple[tuple[str, tuple[float | None, ...]], ...] = ()
    series_units: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # names of indicators not reported (said under the figure)
    note: str = ""  # one sentence under the figure
    tones: tuple[str, ...] = ()  # stacked: a COLORS key per series (e.g. "gap" for errors); default palette

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        if self.kind not in ("stacked", "trend") and not (
            len(self.labels) == len(self.values) == len(self.texts)
        ):
            raise ValueError("labels, values and texts must have the same length")
        if self.tones and (len(self.tones) != len(self.series) or not set(self.tones) <= set(COLORS)):
            raise ValueError("tones: one COLORS key per series")

    @property
    def empty(self) -> bool:
        if self.kind in ("stacked", "trend"):
            return not self.series or not self.labels
        return not self.values


# --- fonts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontChoice:
    name: str
    path: str
    source: str  # "system" or "mplfonts"


# The report pages' own font (a subset of the bundled font, written next to them by the batch): browsers
# use it only for characters no system font in the stack above it can show.
WEB_FONT = "FazhiCJK"


@functools.cache
def cjk_font() -> FontChoice:
    """The CJK font used for every figure: a preferred system font, else the one shipped by mplfonts."""
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for name in PREFERRED_FONTS:
        if name in installed:
            return FontChoice(name, installed[name], "system")
    path = bundled_font_path()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return FontChoice(name, str(path), "mplfonts")


def bundled_font_path() -> Path:
    """The Noto Sans CJK SC file shipped by the pip package mplfonts (no download, same on every machine)."""
    package, relative = BUNDLED_FONT
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("找不到中文字体：系统未安装黑体/雅黑/思源黑体，且未安装 pip 包 mplfonts。")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise RuntimeError(f"找不到中文字体文件 {path}。")
    return path


def missing_glyphs(text: str, font: FontChoice | None = None) -> set[str]:
    """Characters of ``text`` (white space aside) that the font has no glyph for."""
    font = font or cjk_font()
    charmap = _charmap(font.path)
    return {ch for ch in text if not ch.isspace() and ord(ch) not in charmap}


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


@functools.cache
def _bold() -> str:
    """ "bold" when the CJK font has a bold face (the bundled one has not: no fake-bold fallback noise)."""
    name = cjk_font().name
    heavy = any(f.name == name and _weight(f.weight) >= 600 for f in font_manager.fontManager.ttflist)
    return "bold" if heavy else "normal"


def _weight(weight: int | str) -> int:
    return weight if isinstance(weight, int) else font_manager.weight_dict.get(str(weight), 400)


def setup_style() -> FontChoice:
    """Apply the shared matplotlib style (CJK font, no unicode minus, no mathtext) and return the font."""
    font = cjk_font()
    matplotlib.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [font.name, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "text.parse_math": False,  # submitted names may contain "$"
            "figure.dpi": 100,
            "savefig.dpi": DPI,
            "savefig.bbox": "tight",
            "svg.fonttype": "path",  # the SVG needs no font installed to show Chinese
            "svg.hashsalt": "fazhi",  # stable ids: the same chart gives the same file
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#9aa0a6",
            "axes.titlesize": 13,
            "axes.titleweight": _bold(),
            "axes.labelcolor": COLORS["text"],
            "axes.grid": False,
            "xtick.color": COLORS["text"],
            "ytick.color": COLORS["text"],
            "font.size": 10.5,
        }
    )
    return font


# --- matplotlib --------------------------------------------------------------------------------------


_TOKEN = re.compile(r"[A-Za-z0-9_.\-/]+|\s+|.")
_CLOSING = set("）)」』”’，。、；：！？%")
_OPENING = set("（(「『“‘")


def _tokens(text: str) -> list[str]:
    """Latin words whole, one CJK character each; closing punctuation stays with what precedes it,
    opening punctuation with what follows."""
    out: list[str] = []
    glue = False
    for tok in _TOKEN.findall(text):
        if out and (glue or tok in _CLOSING):
            out[-1] += tok
        else:
            out.append(tok)
        glue = tok in _OPENING
    return out


def _width(text: str) -> float:
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def _fill(tokens: list[str], width: float) -> list[str]:
    lines: list[str] = []
    for tok in tokens:
        if lines and _width(lines[-1] + tok) <= width:
            lines[-1] += tok
        elif tok.isspace():
            continue
        else:
            lines.append(tok.lstrip())
    return [x.rstrip() for x in lines]


def wrap_lines(text: str, width: float = 14) -> list[str]:
    """``text`` in lines of about ``width`` Chinese characters (Latin letters count about half), balanced
    so that no line is a lone character; never inside a Latin word, never before a closing bracket."""
    tokens = _tokens(text)
    if _width(text) <= width or len(tokens) < 2:
        return [text]
    n = len(_fill(tokens, width))
    target = math.ceil(_width(text) / n)
    while target < width and len(_fill(tokens, target)) > n:
        target += 1
    return _fill(tokens, min(target, width))


def _wrap(label: str, width: int = 14) -> str:
    return "\n".join(wrap_lines(label, width))


def to_matplotlib(chart: Chart) -> Figure:
    """Draw ``chart`` statically (call :func:`setup_style` first)."""
    if chart.empty:
        raise ValueError("an empty chart cannot be drawn")
    draw = {
        "bar": _mpl_bar,
        "stacked": _mpl_stacked,
        "rates": _mpl_rates,
        "parts": _mpl_parts,
        "waterfall": _mpl_waterfall,
        "funnel": _mpl_funnel,
        "tiles": _mpl_tiles,
        "trend": _mpl_trend,
    }[chart.kind]
    fig = draw(chart)
    fig.suptitle(chart.title, fontsize=13, fontweight=_bold(), color=COLORS["text"])
    footer = [x for x in (chart.note, _missing_note(chart)) if x]
    if footer:
        per_line = max(24, int(fig.get_figwidth() * 72 / 9 * 0.95))  # 9 pt characters across the figure
        lines = [line for part in footer for line in wrap_lines(part, per_line)]
        fig.text(0.01, -0.02, "\n".join(lines), fontsize=9, color=COLORS["muted"], ha="left", va="top")
    return fig


def _missing_note(chart: Chart) -> str:
    return f"未填报：{'、'.join(chart.missing)}" if chart.missing else ""


def _bar_height(n: int) -> float:
    return max(2.2, 0.55 * n + 1.2)


def _mpl_bar(chart: Chart) -> Figure:
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(chart.values))))
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


def _series_colors(chart: Chart) -> list[str]:
    if chart.tones:
        return [COLORS[t] for t in chart.tones]
    return [SERIES[k % len(SERIES)] for k in range(len(chart.series))]


def _mpl_stacked(chart: Chart) -> Figure:
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(chart.labels))))
    y = list(range(len(chart.labels)))[::-1]
    left = [0.0] * len(chart.labels)
    for (name, values), color in zip(chart.series, _series_colors(chart), strict=True):
        vals = [v or 0.0 for v in values]
        ax.barh(y, vals, left=left, color=color, height=0.6, label=name)
        for yi, lo, v in zip(y, left, vals, strict=True):
            if v:
                ax.text(lo + v / 2, yi, _plain(v), va="center", ha="center", fontsize=9, color="white")
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
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(chart.values))))
    y = list(range(len(chart.values)))[::-1]
    ax.barh(y, [100] * len(y), color=COLORS["track"], height=0.6)
    ax.barh(y, chart.values, color=COLORS["main"], height=0.6)
    for yi, text in zip(y, chart.texts, strict=True):
        ax.text(101.5, yi, text, va="center", ha="left", fontsize=10.5, fontweight=_bold())
    ax.set_yticks(y, [_wrap(x) for x in chart.labels])
    ax.set_xlim(0, 115)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"])
    return fig


def _mpl_parts(chart: Chart) -> Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    wedges, _ = ax.pie(
        chart.values,
        colors=SERIES[: len(chart.values)],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white"},
    )
    total = sum(chart.values)
    ax.text(
        0, 0, f"合计\n{_plain(total)}{chart.unit}", ha="center", va="center", fontsize=12, fontweight=_bold()
    )
    legend = [f"{label}：{text}" for label, text in zip(chart.labels, chart.texts, strict=True)]
    ax.legend(wedges, legend, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_aspect("equal")
    return fig


def waterfall_levels(values: tuple[float, ...], measures: tuple[str, ...]) -> list[tuple[float, float]]:
    """(bottom, top) of each waterfall bar: absolute and total bars start at zero, relative ones float."""
    levels, running = [], 0.0
    for value, measure in zip(values, measures, strict=True):
        if measure == "relative":
            levels.append((running, running + value))
            running += value
        else:
            running = value if measure == "absolute" else running
            levels.append((0.0, running if measure == "total" else value))
    return levels


def _waterfall_base(levels: list[tuple[float, float]], measures: tuple[str, ...]) -> float:
    """Lower end of the value axis: near the smallest level, so that the changes are visible."""
    tops = [max(a, b) for a, b in levels]
    ends = [min(a, b) if m == "relative" else max(a, b) for (a, b), m in zip(levels, measures, strict=True)]
    low = min(ends)
    return max(0.0, low - 0.6 * ((max(tops) - low) or abs(low) or 1))


def _mpl_waterfall(chart: Chart) -> Figure:
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    levels = waterfall_levels(chart.values, chart.measures)
    top = max(max(a, b) for a, b in levels)
    base = _waterfall_base(levels, chart.measures)
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
            i, hi + visible * 0.02, chart.texts[i], ha="center", va="bottom", fontsize=10, fontweight=_bold()
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
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(chart.values))))
    top = max(chart.values) or 1
    y = list(range(len(chart.values)))[::-1]
    for yi, value, text in zip(y, chart.values, chart.texts, strict=True):
        ax.barh(yi, value, left=(top - value) / 2, color=COLORS["main"], height=0.7)
        ax.text(top / 2, yi, text, ha="center", va="center", color="white", fontsize=11, fontweight=_bold())
    ax.set_yticks(y, [_wrap(x) for x in chart.labels])
    ax.set_xlim(0, top)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    return fig


def _grid(n: int, columns: int) -> tuple[int, int]:
    cols = min(columns, n)
    return math.ceil(n / cols), cols


def _mpl_tiles(chart: Chart) -> Figure:
    rows, cols = _grid(len(chart.values), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, label, text in zip(axes.flat, chart.labels, chart.texts, strict=False):
        ax.add_patch(plt.Rectangle((0.03, 0.05), 0.94, 0.9, transform=ax.transAxes, color=COLORS["track"]))
        ax.text(
            0.5, 0.6, text, ha="center", va="center", fontsize=17, fontweight=_bold(), color=COLORS["main"]
        )
        ax.text(0.5, 0.22, _wrap(label, 13), ha="center", va="center", fontsize=9, color=COLORS["text"])
    return fig


def _mpl_trend(chart: Chart) -> Figure:
    rows, cols = _grid(len(chart.series), 3)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    x = list(range(len(chart.labels)))
    units = chart.series_units or ("",) * len(chart.series)
    for ax, (name, values), unit in zip(axes.flat, chart.series, units, strict=False):
        ax.axis("on")
        pts = [(xi, v) for xi, v in zip(x, values, strict=True) if v is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=COLORS["main"])
        for xi, v in pts:
            ax.annotate(
                _plain(v), (xi, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8
            )
        ax.set_xticks(x, chart.labels, fontsize=8)
        ax.set_title(_wrap(f"{name}（{unit}）" if unit else name, 16), fontsize=9, fontweight="normal")
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(x=0.15, y=0.25)
        known = [v for v in values if v is not None]
        if min(known) >= 0:  # counts from zero: a flat or small change is not drawn as a steep one
            ax.set_ylim(0, max(known) * 1.25 or 1)  # room above the highest point for its label
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=all(float(v).is_integer() for v in known)))
    # leave room above the grid for the figure title (added by to_matplotlib)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def _plain(value: float) -> str:
    return format_number(value, 2)


def save_static(fig: Figure, directory: str | Path, basename: str) -> list[Path]:
    """Save ``fig`` as ``<basename>.png`` (300 dpi) and ``.svg`` in ``directory`` and close it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{basename}.png", directory / f"{basename}.svg"]
    try:
        fig.savefig(paths[0], dpi=DPI, facecolor="white", metadata={"Software": None})
        fig.savefig(paths[1], facecolor="white", metadata={"Date": None})
    finally:
        plt.close(fig)
    return paths


# --- plotly ------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    # plotly interprets a few HTML tags in text; submitted names are shown as written.
    return html.escape(text, quote=False)


def to_plotly(chart: Chart) -> go.Figure:
    """Draw ``chart`` interactively."""
    if chart.empty:
        raise ValueError("an empty chart cannot be drawn")
    draw = {
        "bar": _pl_bar,
        "stacked": _pl_stacked,
        "rates": _pl_rates,
        "parts": _pl_parts,
        "waterfall": _pl_waterfall,
        "funnel": _pl_funnel,
        "tiles": _pl_tiles,
        "trend": _pl_trend,
    }[chart.kind]
    fig = draw(chart)
    footer = "<br>".join(_wrap_html(x, FOOTER_WIDTH) for x in (chart.note, _missing_note(chart)) if x)
    bottom = 40 + 24 * footer.count("<br>") + (60 if footer else 0)
    fig.update_layout(
        title={"text": _esc(chart.title), "x": 0.01, "font": {"size": 17}},
        font={
            "family": f"{cjk_font().name}, Microsoft YaHei, PingFang SC, {WEB_FONT}, sans-serif",
            "size": 13,
        },
        template="plotly_white",
        colorway=SERIES,
        margin={"l": 20, "r": 30, "t": 60, "b": bottom},
        separators=".,",
        height=fig.layout.height + bottom - 40,  # the footer gets its own room; the chart keeps its size
    )
    if footer:
        fig.add_annotation(
            text=footer, xref="paper", yref="paper", x=0, y=0, yshift=-50, showarrow=False, xanchor="left",
            yanchor="top", align="left", font={"size": 12, "color": COLORS["muted"]},
        )  # fmt: skip
    return fig


def _labels(chart: Chart, width: int = 14) -> list[str]:
    return [_wrap_html(x, width) for x in chart.labels]


def _wrap_html(text: str, width: float) -> str:
    """Wrap, then escape each line (escaping first would let a line break fall inside an entity)."""
    return "<br>".join(_esc(line) for line in wrap_lines(text, width))


def _height(n: int) -> int:
    return int(max(260, 60 * n + 150))


def _pl_bar(chart: Chart) -> go.Figure:
    colors = [COLORS["gap"] if i in chart.highlight else COLORS["main"] for i in range(len(chart.values))]
    fig = go.Figure(
        go.Bar(
            y=_labels(chart), x=list(chart.values), orientation="h", text=[_esc(t) for t in chart.texts],
            textposition="outside", marker_color=colors, hovertemplate="%{y}：%{text}<extra></extra>",
            cliponaxis=False,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(visible=False, range=[0, (max(chart.values) or 1) * 1.2])
    fig.update_layout(height=_height(len(chart.values)))
    return fig


def _pl_stacked(chart: Chart) -> go.Figure:
    fig = go.Figure()
    for (name, values), color in zip(chart.series, _series_colors(chart), strict=True):
        fig.add_bar(
            y=_labels(chart), x=[v or 0 for v in values], name=_esc(name), orientation="h",
            text=[_plain(v) if v else "" for v in values], textposition="inside", marker_color=color,
        )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        barmode="stack", height=_height(len(chart.labels)), showlegend=True,
        # top right, above the plot: the title is top left
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
                "traceorder": "normal"},
    )  # fmt: skip
    totals = [sum(v or 0 for v in col) for col in zip(*(vals for _, vals in chart.series), strict=True)]
    if max(totals, default=0) <= 10:
        fig.update_xaxes(dtick=1)  # counts: no 0.2, 0.4 …
    if chart.unit:
        fig.update_xaxes(title_text=f"单位：{_esc(chart.unit)}")
    return fig


def _pl_rates(chart: Chart) -> go.Figure:
    labels = _labels(chart)
    fig = go.Figure()
    fig.add_bar(
        y=labels, x=[100] * len(labels), orientation="h", marker_color=COLORS["track"], hoverinfo="skip"
    )
    fig.add_bar(
        y=labels, x=list(chart.values), orientation="h", marker_color=COLORS["main"],
        text=[_esc(t) for t in chart.texts], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}：%{text}<extra></extra>",
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(
        range=[0, 115], tickvals=[0, 25, 50, 75, 100], ticktext=["0", "25%", "50%", "75%", "100%"]
    )
    fig.update_layout(barmode="overlay", showlegend=False, height=_height(len(labels)))
    return fig


def _pl_parts(chart: Chart) -> go.Figure:
    total = sum(chart.values)
    fig = go.Figure(
        go.Pie(
            labels=[_esc(x) for x in chart.labels], values=list(chart.values), hole=0.55, sort=False,
            direction="clockwise", text=[_esc(t) for t in chart.texts], textinfo="text+percent",
            hovertemplate="%{label}：%{text}（%{percent}）<extra></extra>", marker={"colors": SERIES},
        )
    )  # fmt: skip
    fig.add_annotation(
        text=f"合计<br><b>{_plain(total)}{_esc(chart.unit)}</b>", showarrow=False, font={"size": 16}
    )
    fig.update_layout(height=420)
    return fig


def _pl_waterfall(chart: Chart) -> go.Figure:
    levels = waterfall_levels(chart.values, chart.measures)
    tops = [max(a, b) for a, b in levels]
    base = _waterfall_base(levels, chart.measures)
    fig = go.Figure(
        go.Waterfall(
            x=_labels(chart, 8), y=list(chart.values), measure=list(chart.measures),
            text=[_esc(t) for t in chart.texts], textposition="outside", cliponaxis=False,
            increasing={"marker": {"color": COLORS["up"]}}, decreasing={"marker": {"color": COLORS["down"]}},
            totals={"marker": {"color": COLORS["main"]}}, connector={"line": {"color": COLORS["muted"], "dash": "dot"}},
            hovertemplate="%{x}：%{text}<extra></extra>",
        )
    )  # fmt: skip
    for i in chart.highlight:
        lo, hi = sorted(levels[i])
        fig.add_shape(
            type="rect", x0=i - 0.42, x1=i + 0.42, y0=lo, y1=hi, line={"color": COLORS["gap"], "width": 3},
            fillcolor=COLORS["gap"], opacity=0.9,
        )  # fmt: skip
    span = max(tops) - base
    unit = f"单位：{_esc(chart.unit)}" if chart.unit else ""
    fig.update_yaxes(
        range=[base, max(tops) + 0.15 * span], title_text=f"{unit}（纵轴未从0开始）" if base > 0 else unit
    )
    fig.update_layout(height=460, showlegend=False)
    return fig


def _pl_funnel(chart: Chart) -> go.Figure:
    fig = go.Figure(
        go.Funnel(
            y=_labels(chart), x=list(chart.values), text=[_esc(t) for t in chart.texts], textinfo="text",
            marker={"color": COLORS["main"]}, hovertemplate="%{y}：%{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(height=_height(len(chart.values)))
    return fig


def _pl_tiles(chart: Chart) -> go.Figure:
    rows, cols = _grid(len(chart.values), 3)
    fig = go.Figure()
    for i, (label, text) in enumerate(zip(chart.labels, chart.texts, strict=True)):
        r, c = divmod(i, cols)
        x0, x1 = c / cols + 0.01, (c + 1) / cols - 0.01
        y1, y0 = 1 - r / rows - 0.02, 1 - (r + 1) / rows + 0.02
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=x0, x1=x1, y0=y0, y1=y1, line_width=0,
                      fillcolor=COLORS["track"], layer="below")  # fmt: skip
        middle = (x0 + x1) / 2
        # explicit anchors: plotly's "auto" anchors paper annotations by their side of the page
        fig.add_annotation(x=middle, y=y0 + 0.64 * (y1 - y0), text=f"<b>{_esc(text)}</b>", showarrow=False,
                           xref="paper", yref="paper", xanchor="center", yanchor="middle",
                           font={"size": 26, "color": COLORS["main"]})  # fmt: skip
        fig.add_annotation(x=middle, y=y0 + 0.26 * (y1 - y0), text=_wrap_html(label, 14),
                           showarrow=False, xref="paper", yref="paper", xanchor="center", yanchor="middle",
                           font={"size": 13})  # fmt: skip
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_layout(height=150 * rows + 90, plot_bgcolor="white")
    return fig


def _pl_trend(chart: Chart) -> go.Figure:
    rows, cols = _grid(len(chart.series), 3)
    units = chart.series_units or ("",) * len(chart.series)
    titles = [
        _wrap_html(f"{n}（{u}）" if u else n, 16) for (n, _), u in zip(chart.series, units, strict=True)
    ]
    height = 260 * rows + 80
    # about 90 px between rows for the subplot titles and the year labels; the rest is for the plots
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=min(0.3, 90 / height))
    for i, (name, values) in enumerate(chart.series):
        r, c = divmod(i, cols)
        known = [v for v in values if v is not None]
        if all(float(v).is_integer() for v in known) and max(abs(v) for v in known) <= 5:
            fig.update_yaxes(dtick=1, row=r + 1, col=c + 1)
        fig.add_trace(
            go.Scatter(
                x=list(chart.labels), y=list(values), mode="lines+markers+text", name=_esc(name),
                text=[_plain(v) if v is not None else "" for v in values], textposition="top center",
                line={"color": COLORS["main"]}, connectgaps=True, showlegend=False, cliponaxis=False,
            ),
            row=r + 1, col=c + 1,
        )  # fmt: skip
    fig.update_xaxes(type="category")
    # from zero (as the static version), plain numbers (no "11k", no 10.9995k on a flat line)
    fig.update_yaxes(rangemode="tozero", exponentformat="none", tickformat="~g")
    fig.update_annotations(font_size=12)
    fig.update_layout(height=height)
    return fig
