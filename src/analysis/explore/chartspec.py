"""What a figure shows, independent of how it is drawn: :class:`Chart`, and the geometry and label text
both renderers share (waterfall levels, grids of small multiples, wrapped labels, plain numbers).

:mod:`analysis.explore.static_figures` draws a :class:`Chart` for print (matplotlib),
:mod:`analysis.explore.interactive_figures` for the notebook and the HTML pages (plotly).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from analysis.core.formatting import format_number
from analysis.explore.style import COLORS, SERIES

KINDS = ("bar", "stacked", "rates", "parts", "waterfall", "funnel", "tiles", "trend", "panels")
ALL_ZERO = "全部为0"  # the centre of a donut whose parts are all zero (valid data: an empty ring)


@dataclass(frozen=True)
class Chart:
    """What one figure shows. ``texts`` are the value labels as printed (already formatted, with unit).

    kind: bar | stacked | rates | parts | waterfall | funnel | tiles | trend | panels
    - bar, rates, parts, funnel, tiles: one value per label.
    - waterfall: ``measures`` per label (absolute | relative | total); ``highlight`` marks unexplained steps.
    - stacked: ``series`` of (name, values per label), stacked horizontally.
    - trend: ``labels`` are years; ``series`` one (indicator name, values per year) each, drawn as small
      multiples, ``series_units`` the unit of each series.
    - panels: ``labels`` are rows (regions), one each; ``series`` one (indicator name, value per row, None
      where not reported) each, drawn side by side as small multiples of horizontal bars that share the rows,
      ``series_units`` the unit of each series.
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
    dense: bool = False  # bar, stacked on screen: narrow rows (many regions), a note fit for half a page

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        if self.kind not in ("stacked", "trend", "panels") and not (
            len(self.labels) == len(self.values) == len(self.texts)
        ):
            raise ValueError("labels, values and texts must have the same length")
        if self.tones and (len(self.tones) != len(self.series) or not set(self.tones) <= set(COLORS)):
            raise ValueError("tones: one COLORS key per series")

    @property
    def empty(self) -> bool:
        if self.kind in ("stacked", "trend", "panels"):
            return not self.series or not self.labels
        return not self.values


def series_colors(chart: Chart) -> list[str]:
    """One color per series: the chart's tones, else the palette."""
    if chart.tones:
        return [COLORS[t] for t in chart.tones]
    return [SERIES[k % len(SERIES)] for k in range(len(chart.series))]


def missing_note(chart: Chart) -> str:
    return f"未填报：{'、'.join(chart.missing)}" if chart.missing else ""


def plain(value: float) -> str:
    return format_number(value, 2)


def grid(n: int, columns: int) -> tuple[int, int]:
    """(rows, columns) of ``n`` small multiples, at most ``columns`` across."""
    cols = min(columns, n)
    return math.ceil(n / cols), cols


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


def waterfall_base(levels: list[tuple[float, float]], measures: tuple[str, ...]) -> float:
    """Lower end of the value axis: near the smallest level, so that the changes are visible."""
    tops = [max(a, b) for a, b in levels]
    ends = [min(a, b) if m == "relative" else max(a, b) for (a, b), m in zip(levels, measures, strict=True)]
    low = min(ends)
    return max(0.0, low - 0.6 * ((max(tops) - low) or abs(low) or 1))


# --- label text ----------------------------------------------------------------------------------------

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
