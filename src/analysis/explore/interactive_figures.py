"""Interactive figures: a :class:`~analysis.explore.chartspec.Chart` drawn with plotly, for the notebooks
and the HTML pages (the toolbar they get is configured in :mod:`analysis.explore.toolbar`).
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
from analysis.explore.style import COLORS, SERIES, WEB_FONT, cjk_font

FOOTER_WIDTH = 60  # characters per line of the note under an interactive figure
HALF_FOOTER_WIDTH = 36  # the same for a dense chart, which a page may show in half of its width
PANELS_BOTTOM = 10  # pixels under small multiples when there is no footer (their value axes are hidden)
PANEL_TITLE_LINE = 16  # pixels per line of a panel's title


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
        "panels": _pl_panels,
    }[chart.kind]
    fig = draw(chart)
    width = HALF_FOOTER_WIDTH if chart.dense else FOOTER_WIDTH
    footer = "<br>".join(_wrap_html(x, width) for x in (chart.note, missing_note(chart)) if x)
    base = PANELS_BOTTOM if chart.kind == "panels" else 40  # panels hide their value axes: no room for it
    bottom = base + 24 * footer.count("<br>") + (60 if footer else 0)
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 60  # panels: room for their titles
    fig.update_layout(
        title={"text": _esc(chart.title), "x": 0.01, "font": {"size": 17}},
        font={
            "family": f"{cjk_font().name}, Microsoft YaHei, PingFang SC, {WEB_FONT}, sans-serif",
            "size": 13,
        },
        template="plotly_white",
        colorway=SERIES,
        margin={"l": 20, "r": 30, "t": top, "b": bottom},
        separators=".,",
        height=fig.layout.height + bottom - base,  # the footer gets its own room; the chart keeps its size
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


def _height(n: int, dense: bool = False) -> int:
    """Pixels of a chart of ``n`` rows; ``dense``: about 30 per row, so that 30 regions fit one figure."""
    return int(max(170, 30 * n + 120)) if dense else int(max(260, 60 * n + 150))


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
    fig.update_layout(height=_height(len(chart.values), chart.dense))
    return fig


def _pl_stacked(chart: Chart) -> go.Figure:
    fig = go.Figure()
    for (name, values), color in zip(chart.series, series_colors(chart), strict=True):
        fig.add_bar(
            y=_labels(chart), x=[v or 0 for v in values], name=_esc(name), orientation="h",
            text=[plain(v) if v else "" for v in values], textposition="inside", marker_color=color,
        )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        barmode="stack", height=_height(len(chart.labels), chart.dense), showlegend=True,
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
    empty = not total  # every part zero (valid data): an empty grey ring that says so, parts in the hover
    fig = go.Figure(
        go.Pie(
            labels=[_esc(ALL_ZERO)] if empty else [_esc(x) for x in chart.labels],
            values=[1] if empty else list(chart.values), hole=0.55, sort=False, direction="clockwise",
            text=["<br>".join(f"{_esc(x)}：{_esc(t)}" for x, t in zip(chart.labels, chart.texts, strict=True))]
            if empty else [_esc(t) for t in chart.texts],
            textinfo="none" if empty else "text",  # texts carry shares
            hovertemplate="%{text}<extra></extra>" if empty else "%{label}：%{text}<extra></extra>",
            marker={"colors": [COLORS["track"]] if empty else SERIES},
        )
    )  # fmt: skip
    suffix = f"<br>{_esc(ALL_ZERO)}" if empty else ""
    fig.add_annotation(
        text=f"合计<br><b>{plain(total)}{_esc(chart.unit)}</b>{suffix}", showarrow=False, font={"size": 16}
    )
    fig.update_layout(height=420)
    return fig


def _pl_waterfall(chart: Chart) -> go.Figure:
    levels = waterfall_levels(chart.values, chart.measures)
    tops = [max(a, b) for a, b in levels]
    base = waterfall_base(levels, chart.measures)
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
    rows, cols = grid(len(chart.values), 3)
    shapes, annotations = [], []  # set at once: adding them one by one re-validates the list each time
    for i, (label, text) in enumerate(zip(chart.labels, chart.texts, strict=True)):
        r, c = divmod(i, cols)
        x0, x1 = c / cols + 0.01, (c + 1) / cols - 0.01
        y1, y0 = 1 - r / rows - 0.02, 1 - (r + 1) / rows + 0.02
        shapes.append({"type": "rect", "xref": "paper", "yref": "paper", "x0": x0, "x1": x1, "y0": y0, "y1": y1,
                       "line": {"width": 0}, "fillcolor": COLORS["track"], "layer": "below"})  # fmt: skip
        middle = (x0 + x1) / 2
        # explicit anchors: plotly's "auto" anchors paper annotations by their side of the page
        tile = {"x": middle, "showarrow": False, "xref": "paper", "yref": "paper", "xanchor": "center",
                "yanchor": "middle"}  # fmt: skip
        annotations.append({**tile, "y": y0 + 0.64 * (y1 - y0), "text": f"<b>{_esc(text)}</b>",
                            "font": {"size": 26, "color": COLORS["main"]}})  # fmt: skip
        annotations.append({**tile, "y": y0 + 0.26 * (y1 - y0), "text": _wrap_html(label, 14),
                            "font": {"size": 13}})  # fmt: skip
    fig = go.Figure()
    fig.update_layout(shapes=shapes, annotations=annotations)
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_layout(height=150 * rows + 90, plot_bgcolor="white")
    return fig


def _pl_trend(chart: Chart) -> go.Figure:
    rows, cols = grid(len(chart.series), 3)
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
                text=[plain(v) if v is not None else "" for v in values], textposition="top center",
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


def panel_height(rows: int, title_lines: int = 1) -> int:
    """Pixels of a panels chart: about 26 per row, so that 30 regions still get one labelled line each,
    below the chart's title and the panels' titles (``title_lines`` lines at most)."""
    return int(max(90, 26 * rows + 30) + panels_top(title_lines) + PANELS_BOTTOM)


def panels_top(title_lines: int) -> int:
    """The top margin of a panels chart: its title, then the panels' titles (wrapped) above the bars."""
    return 44 + PANEL_TITLE_LINE * title_lines


def _pl_panels(chart: Chart) -> go.Figure:
    units = chart.series_units or ("",) * len(chart.series)
    titles = [
        _wrap_html(f"{n}（{u}）" if u else n, 12) for (n, _), u in zip(chart.series, units, strict=True)
    ]
    lines = max(t.count("<br>") + 1 for t in titles)
    fig = make_subplots(
        rows=1, cols=len(chart.series), shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.03
    )
    rows = [_esc(x) for x in chart.labels]
    for k, ((name, values), unit) in enumerate(zip(chart.series, units, strict=True)):
        texts = [MISSING if v is None else format_value(v, unit) for v in values]
        fig.add_trace(
            go.Bar(
                y=rows, x=[0 if v is None else v for v in values], orientation="h", name=_esc(name),
                text=[_esc(t) for t in texts], textposition="outside", cliponaxis=False, showlegend=False,
                marker_color=COLORS["main"], hovertemplate="%{y}：%{text}<extra>" + _esc(name) + "</extra>",
            ),
            row=1, col=k + 1,
        )  # fmt: skip
        top = max((v for v in values if v is not None), default=0) or 1
        fig.update_xaxes(visible=False, range=[0, top * 1.6], row=1, col=k + 1)
    # every region labelled, in the given order, top to bottom
    fig.update_yaxes(tickmode="array", tickvals=rows, ticktext=rows, autorange="reversed", automargin=True)
    fig.update_annotations(font_size=12)
    fig.update_layout(
        height=panel_height(len(chart.labels), lines),
        bargap=0.35,
        margin={"t": panels_top(lines)},
        # the title at the top of the figure, the panels' titles between it and the bars
        title={"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 10}},
    )
    return fig
