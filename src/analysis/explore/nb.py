"""The few calls a notebook cell makes: set up from the four parameters, show a table, a chart, sentences.

Every ``show_*`` displays and returns what it showed (a ``DataFrame``, a plotly ``Figure``, the texts), so
an analyst can assign it (``table = nb.show_indicators(ctx, "powers")``) and go on with pandas. The tidy
table behind a notebook is :attr:`Context.table`: one row per catalog indicator of the region and year.
Importing this module changes no global state; :func:`setup` sets plotly's renderer (as a notebook needs).

Where print figures go: only a ``run`` stage (staged and locked by the batch, marked with
:data:`RUN_STAGE_MARKER`) receives them in ``<output_dir>/figures``. A notebook run by hand writes them to
a scratch folder, ``<output_dir>/scratch/<region>_<year>/figures`` (``output_dir`` defaults to the
notebook's own ``output`` folder), and never into a published report folder. Every file is written
atomically.

Every text that may come from a submission (department names, file and sheet names, notes, messages) is
HTML-escaped here before it is displayed.
"""

from __future__ import annotations

import html
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.io as pio
from IPython.display import HTML, display, display_html
from plotly.io.base_renderers import MimetypeRenderer
from plotly.offline import get_plotlyjs

from analysis.core import store
from analysis.core.catalog import Catalog
from analysis.core.names import INDEX, RUN_STAGE_MARKER
from analysis.explore import quality, selection, tables
from analysis.explore.chartspec import Chart
from analysis.explore.interactive_figures import to_plotly
from analysis.explore.selection import MISSING, View
from analysis.explore.sentences import Draft
from analysis.explore.static_figures import save_static, to_matplotlib
from analysis.explore.toolbar import plotly_config

PLOTLY_RENDERERS = "plotly_mimetype+notebook"
TABLE_CLASSES = "fazhi-table"
OWN_OUTPUT = "output"  # a notebook's own output folder (beside it) when ``output_dir`` is empty
SCRATCH = "scratch"

# Indirections the tests replace to capture what would be displayed.
_display = display


def _show_plotly(fig) -> None:
    fig.show()


# What plotly's own ``notebook`` renderer publishes once when it is activated (offline: plotly.js inline,
# the global config plotly.js reads as it loads, and the MathJax font setting should MathJax be present).
PLOTLYJS_INIT = """\
        <script>
        window.PlotlyConfig = {{MathJaxConfig: 'local'}};
        if (window.MathJax && window.MathJax.Hub && window.MathJax.Hub.Config) {{window.MathJax.Hub.Config({{SVG: {{font: "STIX-Web"}}}});}}
        </script>
        <script>{plotlyjs}</script>
        """


class OfflineNotebookRenderer(MimetypeRenderer):
    """The ``notebook`` renderer (text/html, kept by nbconvert) built on plotly's public renderer API.

    Like plotly's own: when activated (the first figure after :func:`configure_plotly`) it publishes
    plotly.js once, embedded (no CDN); each figure is then a ``<div>`` with the toolbar ``config``. Unlike
    plotly's own: no MathJax CDN ``<script>`` and no clean-up script in every figure's HTML. With
    ``plotlyjs=False`` (a ``run`` stage, whose pages load plotly.js from their ``assets/``) plotly.js is not
    published: 4.8 MB a notebook that the kernel would send and the batch would read only to drop it."""

    def __init__(self, config: dict | None = None, plotlyjs: bool = True):
        self.config = dict(config) if config else {}
        self.plotlyjs = plotlyjs

    def activate(self) -> None:
        if self.plotlyjs:
            display_html(PLOTLYJS_INIT.format(plotlyjs=get_plotlyjs()), raw=True)

    def to_mimebundle(self, fig_dict: dict) -> dict:
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


def configure_plotly(output_dir: str | Path = "") -> None:
    """JupyterLab gets the plotly mimetype; nbconvert HTML gets text/html with plotly.js embedded, except in
    a ``run`` stage (``output_dir``), whose pages load it from their ``assets/``."""
    renderer = OfflineNotebookRenderer(config=plotly_config(), plotlyjs=not in_run_stage(output_dir))
    pio.renderers["notebook"] = renderer
    pio.renderers["plotly_mimetype"].config = plotly_config()
    pio.renderers.default = PLOTLY_RENDERERS


@dataclass
class Context:
    """What the cells of one notebook share.

    ``table`` is the tidy table behind the notebook (see :func:`analysis.explore.tables.tidy_table`): one
    row per catalog indicator with value, unit, qualifier, department, source cell and earlier years.
    """

    region: str
    year: int
    notebook: str  # file stem, e.g. 03_powers: prefix of the figure files
    output_dir: Path
    view: View
    issues: pd.DataFrame  # this region and year, plus issues that belong to no region
    table: pd.DataFrame
    figures_dir: Path  # where print figures go: a run stage's figures/, else a scratch folder
    scratch: bool  # True for a run by hand (figures in the scratch folder)


def figures_folder(output_dir: str | Path, region: str, year: int) -> tuple[Path, bool]:
    """Where a notebook's print figures go, and whether that is a scratch folder (see the module text)."""
    out = Path(output_dir) if str(output_dir).strip() else Path(OWN_OUTPUT)
    if in_run_stage(out):
        return out / "figures", False
    if in_published_report(out):  # a published report is written only by `run`
        out = Path(OWN_OUTPUT)
        if in_published_report(out):  # e.g. an executed notebook opened inside a report folder
            out = Path(tempfile.gettempdir()) / "fazhi-analysis"
    safe = re.sub(r'[\\/:*?"<>|\s]|^\.+', "_", f"{region}_{year}")
    return out / SCRATCH / safe / "figures", True


def in_run_stage(output_dir: str | Path) -> bool:
    """True when ``output_dir`` is a report being built by ``run`` (staged and locked by the batch)."""
    return bool(str(output_dir).strip()) and (Path(output_dir) / RUN_STAGE_MARKER).is_file()


def in_published_report(folder: Path) -> bool:
    """True when ``folder`` is a published report folder (it has the report's index) or lies inside one."""
    folder = folder.resolve()
    return any((p / INDEX).is_file() for p in (folder, *folder.parents))


def setup(
    region: str,
    year: int | str,
    processed_dir: str | Path,
    output_dir: str | Path,
    notebook: str,
    *,
    indicators: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
) -> Context:
    """Read the processed tables and the catalog ingest used (or use the given ones), set plotly's
    renderer, and show a one-line header. The notebook goes on when the region or year has no data: all
    is 未填报."""
    if isinstance(year, bool) or not str(year).strip().isdigit():
        raise ValueError(f"年度必须是整数，收到 {year!r}")
    year = int(year)
    indicators = store.read_indicators(processed_dir) if indicators is None else indicators
    issues = store.read_issues(processed_dir) if issues is None else issues
    catalog = store.read_catalog(processed_dir) if catalog is None else catalog
    configure_plotly(output_dir)
    view = selection.select(indicators, str(region), year, catalog, issues)
    figures_dir, scratch = figures_folder(output_dir, str(region), year)
    ctx = Context(
        region=str(region),
        year=year,
        notebook=notebook,
        output_dir=Path(output_dir),
        view=view,
        issues=quality.issues_of(issues, str(region), year),
        table=tables.tidy_table(view),
        figures_dir=figures_dir,
        scratch=scratch,
    )
    show_header(ctx)
    return ctx


def show_header(ctx: Context) -> str:
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
    return text


def table_html(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table, every cell escaped."""
    return frame.to_html(escape=True, index=False, na_rep=MISSING, border=0, classes=TABLE_CLASSES)


def show_table(frame: pd.DataFrame, empty: str = "（无）") -> pd.DataFrame:
    """Show ``frame`` (every cell escaped; an empty one as the note ``empty``) and return it."""
    if frame is None or frame.empty:
        show_note(empty)
        return pd.DataFrame() if frame is None else frame
    _display(HTML(table_html(frame)))
    return frame


def show_indicators(ctx: Context, topic: str) -> pd.DataFrame:
    """The table of every indicator of ``topic`` (values as written, 未填报, sources, 上年 and 同比)."""
    return show_table(tables.indicator_table(ctx.view, selection.topic_ids(ctx.view, topic)))


def show_note(text: str) -> str:
    _display(HTML(f'<p class="fazhi-note">{html.escape(text)}</p>'))
    return text


def show_chart(ctx: Context, chart: Chart, name: str):
    """Show ``chart`` interactively, save it as ``<notebook>_<name>.png`` (300 dpi) and ``.svg`` in
    :attr:`Context.figures_dir`, and return the plotly ``Figure``. An empty chart (nothing reported) is
    replaced by a note (returned) and saves nothing."""
    shown, paths = _draw_chart(ctx, chart, name)
    _show_figure_files(ctx, [(chart.title, paths)])
    return shown


def show_charts(ctx: Context, charts: dict[str, Chart]) -> dict[str, object]:
    """Show several charts (by file name, as :func:`show_chart`) one after the other, then the print files
    of all of them once, folded under one line. A page lays the charts of a cell tagged ``side-by-side``
    next to each other. Returns what was shown (``Figure`` or note), by name."""
    shown, files = {}, []
    for name, chart in charts.items():
        shown[name], paths = _draw_chart(ctx, chart, name)
        files.append((chart.title, paths))
    _show_figure_files(ctx, files)
    return shown


def _draw_chart(ctx: Context, chart: Chart, name: str) -> tuple[object, list[Path]]:
    """The chart shown (the ``Figure``, or the note shown instead of an empty chart) and its print files."""
    if chart.empty:
        reason = chart.note or (f"{MISSING}：{'、'.join(chart.missing)}" if chart.missing else f"{MISSING}。")
        return show_note(f"{chart.title}：{reason}（本图略）"), []
    fig = to_plotly(chart)
    _show_plotly(fig)
    return fig, save_static(to_matplotlib(chart), ctx.figures_dir, f"{ctx.notebook}_{name}")


def _show_figure_files(ctx, charts: list[tuple[str, list[Path]]]) -> None:
    """The print files of the charts shown (title, paths): one line for one chart; for several, one
    folded list under a summary line (a page of small multiples is not a page of download links)."""
    charts = [(title, paths) for title, paths in charts if paths]
    if not charts:
        return

    def files(title: str, paths: list[Path]) -> str:
        if ctx.scratch:
            return html.escape(" / ".join(p.as_posix() for p in paths))
        return " / ".join(_download_link(p, title) for p in paths)  # readers' words, opened from the page

    if len(charts) == 1:
        lead = "印刷用静态图（草稿文件夹，不写入报告）：" if ctx.scratch else ""
        _display(HTML(f'<p class="fazhi-figure-files">{lead}{files(*charts[0])}</p>'))
        return
    summary = (
        f"印刷用静态图（草稿文件夹，不写入报告，共 {len(charts)} 幅）"
        if ctx.scratch
        else f"下载本节的印刷用图（PNG、SVG，共 {len(charts)} 幅）"
    )
    items = "".join(f"<li>{html.escape(t)}：{files(t, p)}</li>" for t, p in charts)
    _display(
        HTML(f'<details class="fazhi-figure-files"><summary>{summary}</summary><ul>{items}</ul></details>')
    )


def show_folded(frame: pd.DataFrame, summary: str, empty: str = "（无）") -> pd.DataFrame:
    """Show ``frame`` folded under the one-line ``summary`` (the reader clicks it to open the table); an
    empty frame as the note ``empty``. Returns the frame."""
    if frame is None or frame.empty:
        show_note(empty)
        return pd.DataFrame() if frame is None else frame
    _display(HTML(f"<details><summary>{html.escape(summary)}</summary>{table_html(frame)}</details>"))
    return frame


def _download_link(path: Path, title: str) -> str:
    """ "下载印刷用图（PNG）", naming the chart for screen readers."""
    kind = path.suffix[1:].upper()
    label = html.escape(f"下载印刷用图（{kind}）：{title}")
    return f'<a href="{html.escape(f"figures/{path.name}")}" download aria-label="{label}">下载印刷用图（{kind}）</a>'


def sentences_html(drafts: list[Draft], view: View | None = None) -> str:
    """Drafted sentences as an HTML list (grouped under topic titles when ``view`` is given)."""
    out, current = [], None
    for d in drafts:
        if view is not None and d.topic != current:
            if current is not None:
                out.append("</ul>")
            out.append(f"<h3>{html.escape(selection.topic_title(view, d.topic))}</h3><ul>")
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


def show_sentences(drafts: list[Draft], view: View | None = None) -> list[str]:
    """Show the drafted sentences; return the texts of those drafted (ready to paste)."""
    if not drafts:
        show_note("本专题没有语句模板。")
        return []
    _display(HTML(sentences_html(drafts, view)))
    return [d.text for d in drafts if d.ok]


def show_lines(lines: list[str], empty: str) -> list[str]:
    if not lines:
        show_note(empty)
        return []
    _display(HTML("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"))
    return list(lines)
