"""The few calls a notebook cell makes: set up from the four parameters, show a table, a chart, sentences.

Every text that may come from a submission (department names, file and sheet names, notes, messages) is
HTML-escaped here before it is displayed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.io as pio
from IPython.display import HTML, display
from plotly.io._base_renderers import NotebookRenderer

from analysis.explore import figures, quality, selection, tables
from analysis.explore.selection import MISSING, View
from analysis.explore.sentences import Draft

PLOTLY_RENDERERS = "plotly_mimetype+notebook"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
TABLE_CLASSES = "fazhi-table"

# Indirections the tests replace to capture what would be displayed.
_display = display


def _show_plotly(fig) -> None:
    fig.show()


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's ``notebook`` renderer (plotly.js embedded once per notebook, no CDN) without the MathJax
    CDN ``<script>`` plotly puts in every figure's HTML."""

    def to_mimebundle(self, fig_dict):
        html_text = pio.to_html(
            fig_dict,
            config=self.config,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=525,
            validate=False,
        )
        return {"text/html": html_text}


def configure_plotly() -> None:
    """JupyterLab gets the plotly mimetype; nbconvert HTML gets text/html with plotly.js embedded."""
    renderer = OfflineNotebookRenderer(config=PLOTLY_CONFIG)
    pio.renderers["notebook"] = renderer
    pio.renderers["plotly_mimetype"].config = dict(PLOTLY_CONFIG)
    pio.renderers.default = PLOTLY_RENDERERS


@dataclass
class Context:
    """What the cells of one notebook share."""

    region: str
    year: int
    notebook: str  # file stem, e.g. 03_powers: prefix of the figure files
    output_dir: Path
    view: View
    issues: pd.DataFrame  # this region and year, plus issues that belong to no region

    @property
    def figures_dir(self) -> Path:
        return self.output_dir / "figures"


def setup(
    region: str,
    year: int | str,
    processed_dir: str | Path,
    output_dir: str | Path,
    notebook: str,
    *,
    indicators: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
) -> Context:
    """Read the processed tables (or use the given frames), set the figure style and plotly renderer, and
    show a one-line header. The notebook goes on when the region or year has no data: all is 未填报."""
    if isinstance(year, bool) or not str(year).strip().isdigit():
        raise ValueError(f"年度必须是整数，收到 {year!r}")
    year = int(year)
    if indicators is None or issues is None:
        from analysis.core import store

        indicators = store.read_indicators(processed_dir) if indicators is None else indicators
        issues = store.read_issues(processed_dir) if issues is None else issues
    figures.setup_style()
    configure_plotly()
    view = selection.select(indicators, str(region), year)
    ctx = Context(
        region=str(region),
        year=year,
        notebook=notebook,
        output_dir=Path(output_dir),
        view=view,
        issues=quality.issues_of(issues, str(region), year),
    )
    show_header(ctx)
    return ctx


def show_header(ctx: Context) -> None:
    view = ctx.view
    reported = [i for i in view.catalog.reported if view.get(i.indicator_id) is not None]
    parts = [
        f"地区：{ctx.region}",
        f"年度：{ctx.year}",
        f"已填报指标：{len(reported)} / {len(view.catalog.reported)} 项",
    ]
    if len(view.years) > 1:
        parts.append(f"数据年度：{view.years[0]}—{view.years[-1]}")
    text = " · ".join(html.escape(p) for p in parts)
    if not view.current:
        text += f"<br><strong>数据表中没有{html.escape(ctx.region)}{ctx.year}年的数据，以下各项均为“{MISSING}”。</strong>"
    _display(HTML(f'<p class="fazhi-header">{text}</p>'))


def table_html(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table, every cell escaped."""
    return frame.to_html(escape=True, index=False, na_rep=MISSING, border=0, classes=TABLE_CLASSES)


def show_table(frame: pd.DataFrame, empty: str = "（无）") -> None:
    if frame is None or frame.empty:
        show_note(empty)
        return
    _display(HTML(table_html(frame)))


def show_indicators(ctx: Context, topic: str) -> None:
    """The table of every indicator of ``topic`` (values as written, 未填报, sources, 上年 and 同比)."""
    show_table(tables.indicator_table(ctx.view, selection.topic_ids(ctx.view, topic)))


def show_note(text: str) -> None:
    _display(HTML(f'<p class="fazhi-note">{html.escape(text)}</p>'))


def show_chart(ctx: Context, chart: figures.Chart, name: str) -> None:
    """Show ``chart`` interactively and save it as ``<output_dir>/figures/<notebook>_<name>.png`` (300 dpi)
    and ``.svg``. An empty chart (nothing reported) is replaced by a note and saves nothing."""
    if chart.empty:
        reason = chart.note or (f"{MISSING}：{'、'.join(chart.missing)}" if chart.missing else f"{MISSING}。")
        show_note(f"{chart.title}：{reason}（本图略）")
        return
    _show_plotly(figures.to_plotly(chart))
    paths = figures.save_static(figures.to_matplotlib(chart), ctx.figures_dir, f"{ctx.notebook}_{name}")
    shown = " / ".join(f"figures/{p.name}" for p in paths)
    _display(HTML(f'<p class="fazhi-figure-files">印刷用静态图：{html.escape(shown)}</p>'))


def sentences_html(drafts: list[Draft], view: View | None = None) -> str:
    """Drafted sentences as an HTML list (grouped under topic titles when ``view`` is given)."""
    out, current = [], None
    for d in drafts:
        if view is not None and d.topic != current:
            if current is not None:
                out.append("</ul>")
            out.append(f"<h4>{html.escape(selection.topic_title(view, d.topic))}</h4><ul>")
            current = d.topic
        elif current is None and not out:
            out.append("<ul>")
        if d.ok:
            out.append(f'<li class="fazhi-sentence">{html.escape(d.text)}</li>')
        else:
            names = "、".join(d.missing)
            out.append(f'<li class="fazhi-missing">（本句未生成：{html.escape(names)} {MISSING}）</li>')
    if out:
        out.append("</ul>")
    return "".join(out)


def show_sentences(drafts: list[Draft], view: View | None = None) -> None:
    if not drafts:
        show_note("本专题没有语句模板。")
        return
    _display(HTML(sentences_html(drafts, view)))


def show_lines(lines: list[str], empty: str) -> None:
    if not lines:
        show_note(empty)
        return
    _display(HTML("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"))
