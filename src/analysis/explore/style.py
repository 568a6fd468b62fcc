"""The project's visual style: one palette for both renderers, the CJK font, the matplotlib settings.

Nothing here changes matplotlib's global state on import. :func:`rc` is the style as a dict, used inside
``matplotlib.rc_context`` by the print figures; :func:`apply` puts it into ``matplotlib.rcParams`` for an
analyst who wants their own ``pyplot`` charts in the project's style (an explicit call, never implicit).

Chinese text needs a CJK font: :func:`cjk_font` prefers a system font and otherwise registers the Noto Sans
CJK SC file shipped by the ``mplfonts`` package (no network).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

# System fonts first, in this order; then the font shipped by the pip package mplfonts.
PREFERRED_FONTS = ("Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei")
BUNDLED_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")
DPI = 300
# The report pages' own font (a subset of the bundled font, written next to them by the batch): browsers
# use it only for characters no system font in the stack above it can show.
WEB_FONT = "FazhiCJK"

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


@dataclass(frozen=True)
class FontChoice:
    name: str
    path: str
    source: str  # "system" or "mplfonts"


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
def bold() -> str:
    """ "bold" when the CJK font has a bold face (the bundled one has not: no fake-bold fallback noise)."""
    name = cjk_font().name
    heavy = any(f.name == name and _weight(f.weight) >= 600 for f in font_manager.fontManager.ttflist)
    return "bold" if heavy else "normal"


def _weight(weight: int | str) -> int:
    return weight if isinstance(weight, int) else font_manager.weight_dict.get(str(weight), 400)


def rc() -> dict:
    """The matplotlib settings of the style (CJK font, no unicode minus, no mathtext)."""
    font = cjk_font()
    return {
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
        "axes.titleweight": bold(),
        "axes.labelcolor": COLORS["text"],
        "axes.prop_cycle": matplotlib.cycler(color=SERIES),
        "axes.grid": False,
        "xtick.color": COLORS["text"],
        "ytick.color": COLORS["text"],
        "font.size": 10.5,
    }


@contextlib.contextmanager
def context() -> Iterator[None]:
    """The style for the duration of a ``with`` block; matplotlib's settings are restored afterwards."""
    with matplotlib.rc_context(rc()):
        yield


def apply() -> FontChoice:
    """Put the style into ``matplotlib.rcParams`` (for an analyst's own ``pyplot`` charts); return the font."""
    matplotlib.rcParams.update(rc())
    return cjk_font()
