"""The page of one executed notebook: code hidden, outputs made safe, charts drawn offline.

Pages are rendered by nbconvert's ``lab`` template extended with the report's header, failure banner and
footer. Every page works from ``file://`` with no network: nbconvert's require.js, MathJax, mermaid and
widget CDN references are not written, the notebook CSS and plotly.js are files under ``assets/``
(:mod:`analysis.site.static`), and the pages have no inline script: charts are drawn by
``assets/report.js`` from JSON data blocks.

Interactive charts are redrawn from the ``application/vnd.plotly.v1+json`` output (plotly's own
``text/html`` output references a MathJax CDN and embeds plotly.js once more). Every other HTML or
Markdown output is sanitised (:mod:`analysis.site.sanitizer`).
"""

from __future__ import annotations

import copy
import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jinja2 import FileSystemLoader
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from analysis import __version__
from analysis.core.names import ASSETS_DIR, INDEX, timestamp
from analysis.core.text import xml_safe
from analysis.execute.warm import PLOTLY_MIME, is_plotly_bundle
from analysis.explore.toolbar import plotly_config
from analysis.site.sanitizer import sanitize_html, script_json
from analysis.site.static import CSP, TEMPLATES
from analysis.site.static import footer as static_footer

# Only these output types reach a page; JavaScript, widget views and mermaid need code from elsewhere.
_KEPT_MIMES = ("text/html", "text/markdown", "image/png", "image/jpeg", "image/svg+xml", "text/plain")
# Cell tags that remove a cell, or its outputs, from the pages (the executed notebook keeps them).
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell", "papermill-error-cell-tag"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})


def chart_markup(spec: dict, number: int) -> str:
    """The page markup of one plotly chart; ``assets/report.js`` draws it with ``Plotly.newPlot``."""
    figure = {
        "data": spec.get("data", []),
        "layout": spec.get("layout", {}),
        "config": plotly_config(**spec.get("config", {})),  # never a cloud button, Chinese tooltips
    }
    title = _chart_title(figure["layout"]) or f"图 {number}"
    # a figure, not an image: the toolbar's buttons inside stay reachable (axe: nested-interactive); the
    # figures drawn are also said in words, for screen readers and when scripts are off
    described = f"fazhi-chart-{number}-text"
    return (
        f'<div class="fazhi-chart" data-chart="{number}" role="figure" aria-label="{html.escape(title)}" '
        f'aria-describedby="{described}">'
        f'<div class="fazhi-chart-plot"></div>'
        f'<script type="application/json" class="fazhi-chart-data">{script_json(figure)}</script>'
        f'<p class="fazhi-sr-only" id="{described}">{html.escape(chart_text(figure["data"], title))}</p>'
        f'<noscript><p class="fazhi-note">交互图表需要启用浏览器脚本。</p></noscript>'
        "</div>"
    )


def chart_text(traces: list, title: str, most: int = 40) -> str:
    """The chart in words: its title and each drawn value with its label (the bar's own text when it has
    one, e.g. "6736件"), series by series; at most ``most`` values per series."""
    parts = []
    for trace in traces if isinstance(traces, list) else []:
        if not isinstance(trace, dict):
            continue
        horizontal = trace.get("orientation") == "h"
        labels = trace.get("y" if horizontal else "x") or trace.get("labels") or []
        values = trace.get("x" if horizontal else "y") or trace.get("values") or []
        texts = trace.get("text") if isinstance(trace.get("text"), list) else []
        if not isinstance(labels, list) or not isinstance(values, list):
            continue
        pairs = []
        for k, (label, value) in enumerate(zip(labels, values, strict=False)):
            if k >= most:
                pairs.append(f"等 {len(values)} 项")
                break
            shown = texts[k] if k < len(texts) and texts[k] not in (None, "") else value
            if shown is not None:
                pairs.append(f"{_plain(label)} {_plain(shown)}")
        if pairs:
            name = _plain(trace.get("name") or "")
            parts.append((f"{name}：" if name else "") + "，".join(pairs))
    return f"{title}。" + ("；".join(parts) + "。" if parts else "")


def _plain(value: object) -> str:
    return re.sub(r"<[^>]*>", " ", str(value)).strip()


def _chart_title(layout: dict) -> str:
    title = layout.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return re.sub(r"<[^>]*>", " ", title).strip() if isinstance(title, str) else ""


def drop_plotly_bundles(nb: nbformat.NotebookNode) -> int:
    """Remove the outputs that embed the whole plotly.js (4.8 MB per notebook) from an executed notebook.

    Each figure keeps its ``application/vnd.plotly.v1+json`` output, which JupyterLab draws with the
    jupyterlab-plotly extension installed with plotly; the HTML pages load plotly.js from ``assets/``.
    """
    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = [o for o in cell.outputs if not is_plotly_bundle(o.get("data", {}))]
        dropped += len(cell.outputs) - len(kept)
        cell.outputs = kept
    return dropped


def _prepare_output(output: dict, charts: list[int]) -> dict | None:
    """The output as a page shows it (a new dict), or None when the page leaves it out."""
    kind = output.get("output_type")
    if kind == "stream":
        return output if output.get("name") == "stdout" else None  # warnings stay in the notebook
    if kind == "error":
        return output
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data", {})
    if is_plotly_bundle(data):
        return None
    new_data: dict[str, object] = {}
    if PLOTLY_MIME in data:
        charts.append(len(charts) + 1)
        spec = data[PLOTLY_MIME]
        new_data["text/html"] = chart_markup(dict(spec) if isinstance(spec, dict) else {}, len(charts))
    else:
        for mime in _KEPT_MIMES:
            if mime not in data:
                continue
            value = data[mime]
            value = "".join(value) if isinstance(value, list) else value
            if mime == "text/html":
                value = sanitize_html(value)
            elif mime == "text/markdown":
                mime, value = "text/html", sanitize_html(markdown2html_mistune(value))
                if "text/html" in new_data:
                    continue
            new_data[mime] = value
    if not new_data:
        return None
    out = {"output_type": kind, "data": new_data, "metadata": {}}
    if kind == "execute_result":
        out["execution_count"] = output.get("execution_count")
    return out


def prepare_notebook(
    nb: nbformat.NotebookNode, failed_cell: int | None = None
) -> tuple[nbformat.NotebookNode, int]:
    """A copy of an executed notebook ready for the page, and the number of interactive charts in it.

    ``failed_cell`` (index in ``nb.cells``) gets an anchor ``#fazhi-failed-cell`` the page banner links to.
    """
    nb = copy.deepcopy(nb)
    charts: list[int] = []
    cells = []
    for index, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if index == failed_cell:
            cells.append(nbformat.v4.new_markdown_cell('<a id="fazhi-failed-cell"></a>'))
        if cell.cell_type == "code":
            outputs = [] if tags & REMOVE_OUTPUT_TAGS else cell.get("outputs", [])
            prepared = (_prepare_output(o, charts) for o in outputs)
            cell.outputs = [nbformat.from_dict(o) for o in prepared if o is not None]
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb, len(charts)


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown heading of the notebook, as plain text."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return re.sub(r"<[^>]*>|[*_`]", "", match.group(1)).strip() or fallback
    return fallback


@functools.cache
def _exporter():
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[FileSystemLoader(str(TEMPLATES))],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    exporter.template_file = "fazhi_page.html.j2"
    return exporter


@dataclass
class PageInfo:
    """What the batch knows about one page, for the page itself and for the index."""

    stem: str
    title: str
    ok: bool = True
    failure: str = ""  # Chinese, one line: which cell, which error
    charts: int = 0
    html_name: str = ""
    notebook_name: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def render_notebook(
    nb: nbformat.NotebookNode,
    *,
    stem: str,
    region: str,
    year: int | str,
    failure: str = "",
    failed_cell: int | None = None,
    footer: str = "",
    home: str = INDEX,
) -> tuple[str, PageInfo]:
    """The page of one executed notebook (code hidden) and its :class:`PageInfo`; ``home`` is the page its
    back link opens (the report's index, or the site overview for a comparison page)."""
    prepared, charts = prepare_notebook(nb, failed_cell=failed_cell if failure else None)
    title = notebook_title(prepared, stem)
    meta = {
        "title": title,
        "region": str(region),
        "year": str(year),
        "failure": failure,
        "has_anchor": failure and failed_cell is not None,
        "charts": charts,
        "assets": ASSETS_DIR,
        "csp": CSP,
        "version": __version__,
        "footer": footer or static_footer(timestamp()),
        "home": home,
    }
    body, _ = _exporter().from_notebook_node(prepared, resources={"fazhi": meta, "metadata": {"name": title}})
    info = PageInfo(
        stem=stem, title=title, ok=not failure, failure=failure, charts=charts, html_name=f"{stem}.html"
    )
    return xml_safe(body), info  # no bidi control or character XML cannot hold reaches the page


def source_without_outputs(nb_path: Path) -> nbformat.NotebookNode:
    """The source notebook without outputs (for the page of a notebook that never ran), or a stand-in
    saying it cannot be read."""
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {nb_path.stem}\n\n笔记本文件无法读取。")]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    return nb
