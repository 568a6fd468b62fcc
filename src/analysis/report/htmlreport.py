"""Offline HTML pages of executed notebooks, and the report's ``index.html``.

Every page works from ``file://`` with no network: nbconvert's require.js, MathJax, mermaid and widget
CDN references are not written, the notebook CSS and plotly.js are files under ``assets/`` next to the
pages (copied from the installed nbconvert and plotly packages), and a Content-Security-Policy forbids
the browser to fetch anything from elsewhere or to run any inline script (the pages have none: charts are
drawn by ``assets/report.js`` from JSON data blocks), so even text that escaped escaping could not run.

Interactive charts are redrawn from the ``application/vnd.plotly.v1+json`` output (plotly's own
``text/html`` output references a MathJax CDN and embeds plotly.js once more), with the JSON escaped for a
``<script>`` element. Every other HTML or Markdown output is sanitised (bleach allow-list): text that came
from a submission is shown as text, never run.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import bleach
import nbformat
from bleach.css_sanitizer import CSSSanitizer

from analysis.core.fileio import atomic_write_bytes
from analysis.core.problems import SEVERITY_ZH
from analysis.explore.toolbar import plotly_config

ASSETS_DIR = "assets"
PLOTLY_JS = "plotly.min.js"
NOTEBOOK_CSS = "notebook.css"
WEB_FONT_FILE = "cjk-subset.woff"
REPORT_CSS = "report.css"
REPORT_JS = "report.js"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# Only these output types reach a page; JavaScript, widget views and mermaid need code from elsewhere.
_KEPT_MIMES = ("text/html", "text/markdown", "image/png", "image/jpeg", "image/svg+xml", "text/plain")
# Cell tags that remove a cell, or its outputs, from the pages (the executed notebook keeps them).
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell", "papermill-error-cell-tag"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})

CSP = (
    "default-src 'none'; script-src 'self' file:; style-src 'self' file: 'unsafe-inline'; "
    "img-src 'self' file: data: blob:; font-src 'self' file: data:; connect-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


# --- sanitising outputs ------------------------------------------------------------------------------

_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    ]
)
_GLOBAL_ATTRS = frozenset({"class", "id", "title", "style", "lang", "dir", "align", "role", "aria-label"})
_TAG_ATTRS = {
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "headers"},
    "th": {"colspan", "rowspan", "valign", "scope", "headers"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "ol": {"start", "type"},
    "details": {"open"},
}
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_UNSAFE_CSS = re.compile(
    r"@import|url\s*\(|expression\s*\(|javascript:|behavior\s*:|-moz-binding|</|<!--", re.I
)
_CSS_SANITIZER = CSSSanitizer()


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _GLOBAL_ATTRS or name in _TAG_ATTRS.get(tag, ()):
        if tag == "img" and name == "src":
            return value.startswith("data:image/")  # an image from the network or disk would be a fetch
        if tag == "a" and name == "href":
            return not value.lower().lstrip().startswith("data:")
        return True
    return False


def sanitize_html(fragment: str) -> str:
    """An HTML fragment with only formatting left: no script, event handler, frame, form or remote image.

    Disallowed tags are escaped, not dropped, so a department named ``<script>…`` shows as written.
    ``<style>`` blocks are kept verbatim when they cannot fetch anything (pandas styles), dropped otherwise.
    """
    blocks: list[str] = []
    token = f"fazhistyle{uuid.uuid4().hex}n"

    def keep_style(match: re.Match) -> str:
        css = match.group(1)
        if _UNSAFE_CSS.search(css):
            return ""
        blocks.append(css)
        return f"{token}{len(blocks) - 1}z"

    text = _STYLE_BLOCK.sub(keep_style, fragment)
    cleaned = bleach.clean(
        text,
        tags=_TAGS,
        attributes=_allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        css_sanitizer=_CSS_SANITIZER,
        strip=False,
        strip_comments=True,
    )
    for i, css in enumerate(blocks):
        cleaned = cleaned.replace(f"{token}{i}z", f"<style>{css}</style>")
    return cleaned


def script_json(value: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def chart_markup(spec: dict, number: int) -> str:
    """The page markup of one plotly chart; ``assets/report.js`` draws it with ``Plotly.newPlot``."""
    figure = {
        "data": spec.get("data", []),
        "layout": spec.get("layout", {}),
        "config": plotly_config(**spec.get("config", {})),  # never a cloud button, Chinese tooltips
    }
    title = _chart_title(figure["layout"]) or f"图 {number}"
    return (
        f'<div class="fazhi-chart" data-chart="{number}" role="img" aria-label="{html.escape(title)}">'
        f'<div class="fazhi-chart-plot"></div>'
        f'<script type="application/json" class="fazhi-chart-data">{script_json(figure)}</script>'
        f'<noscript><p class="fazhi-note">交互图表需要启用浏览器脚本。</p></noscript>'
        "</div>"
    )


def _chart_title(layout: dict) -> str:
    title = layout.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return re.sub(r"<[^>]*>", " ", title).strip() if isinstance(title, str) else ""


def is_plotly_bundle(data: dict) -> bool:
    """The output plotly's notebook renderer emits once to load plotly.js into the page."""
    text = data.get("text/html", "")
    return isinstance(text, str) and "window.PlotlyConfig" in text and PLOTLY_MIME not in data


def _markdown_to_html(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(source)


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
                mime, value = "text/html", sanitize_html(_markdown_to_html(value))
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


# --- the page template -------------------------------------------------------------------------------

_PAGE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="{{ resources.fazhi.csp | e }}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="fazhi-analysis {{ resources.fazhi.version | e }}">
<title>{{ resources.fazhi.title | e }} · {{ resources.fazhi.region | e }} {{ resources.fazhi.year | e }} 年</title>
<link rel="stylesheet" href="{{ resources.fazhi.assets | e }}/notebook.css">
{% for css in resources.inlining.css -%}
<style>{{ css }}</style>
{% endfor -%}
<link rel="stylesheet" href="{{ resources.fazhi.assets | e }}/report.css">
</head>
{%- endblock header -%}

{%- block body_header -%}
<body class="jp-Notebook fazhi-page" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="fazhi-bar">
<a class="fazhi-home" href="index.html">← 返回报告目录</a>
<span class="fazhi-where">{{ resources.fazhi.region | e }} · {{ resources.fazhi.year | e }} 年度</span>
</header>
{%- if resources.fazhi.failure %}
<div class="fazhi-failed" role="alert"><strong>本页笔记本运行失败。</strong>{{ resources.fazhi.failure | e }}
{%- if resources.fazhi.has_anchor %} <a href="#fazhi-failed-cell">跳到出错位置</a>{% endif %}
以下为出错前已得到的结果；执行后的笔记本已保留在 notebooks/ 文件夹中供排查。</div>
{%- endif %}
<main>
{%- endblock body_header -%}

{% block body_footer %}
</main>
<footer class="fazhi-footer">{{ resources.fazhi.footer | e }}</footer>
{%- if resources.fazhi.charts %}
<script src="{{ resources.fazhi.assets | e }}/plotly.min.js"></script>
<script src="{{ resources.fazhi.assets | e }}/report.js"></script>
{%- endif %}
</body>
{% endblock body_footer %}

{% block footer %}
</html>
{% endblock footer %}
"""


@functools.cache
def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"fazhi_page.html.j2": _PAGE_TEMPLATE})],
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
) -> tuple[str, PageInfo]:
    """The page of one executed notebook (code hidden) and its :class:`PageInfo`."""
    from analysis import __version__

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
        "footer": footer or f"由 fazhi-analysis {__version__} 根据整洁数据表自动生成。",
    }
    body, _ = _exporter().from_notebook_node(prepared, resources={"fazhi": meta, "metadata": {"name": title}})
    info = PageInfo(
        stem=stem, title=title, ok=not failure, failure=failure, charts=charts, html_name=f"{stem}.html"
    )
    return body, info


# --- assets ------------------------------------------------------------------------------------------


def _nbconvert_css() -> bytes:
    """JupyterLab's notebook CSS as nbconvert ships it (light theme), for ``assets/notebook.css``."""
    exporter = _exporter()
    parts = []
    for name in ("index.css", "theme-light.css"):
        for folder in exporter.template_paths:
            path = Path(folder) / "static" / name
            if path.is_file():
                parts.append(path.read_bytes())
                break
        else:
            raise FileNotFoundError(f"nbconvert 的 lab 模板中找不到 static/{name}")
    return b"\n".join(parts)


def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


def asset_payloads() -> dict[str, bytes]:
    """File name → content of everything under a report's ``assets/`` folder."""
    ours = resources.files("analysis.report").joinpath("assets")
    return {
        PLOTLY_JS: _plotly_js(),
        NOTEBOOK_CSS: _nbconvert_css(),
        REPORT_CSS: ours.joinpath(REPORT_CSS).read_bytes(),
        REPORT_JS: ours.joinpath(REPORT_JS).read_bytes(),
    }


def write_assets(report_dir: Path) -> list[Path]:
    """Write ``report_dir/assets/*`` (atomically, only files whose content changed); returns the paths."""
    folder = Path(report_dir) / ASSETS_DIR
    written = []
    for name, data in asset_payloads().items():
        path = folder / name
        if not (path.is_file() and _digest(path.read_bytes()) == _digest(data)):
            atomic_write_bytes(path, data)
        written.append(path)
    return written


def write_font(report_dir: Path, pages: list[str]) -> Path:
    """Write ``assets/<WEB_FONT_FILE>``: the bundled CJK font cut down to the characters of ``pages``.

    Pages list system fonts first (Microsoft YaHei, PingFang SC, Noto Sans CJK SC …); this subset is the last
    resort, so that a report copied to a machine without any Chinese font still shows text, not boxes.
    """
    from fontTools import subset

    from analysis.explore.style import bundled_font_path

    text = "".join(pages)
    text += "".join(chr(int(h, 16)) for h in re.findall(r"\\u([0-9a-fA-F]{4})", text))  # JSON-escaped
    chars = sorted({ord(ch) for ch in text if ord(ch) > 0x7F} | set(range(0x20, 0x7F)))
    options = subset.Options()
    options.flavor = "woff"  # zlib: no extra dependency (woff2 would need brotli)
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(bundled_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    path = Path(report_dir) / ASSETS_DIR / WEB_FONT_FILE
    data = buffer.getvalue()
    if not (path.is_file() and _digest(path.read_bytes()) == _digest(data)):
        atomic_write_bytes(path, data)
    return path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the index page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFigure:
    topic: str
    name: str
    text: str  # value with unit, as printed
    department: str = ""
    change: str = ""  # against the previous year in the data, e.g. "比2019年 +136件（+2.1%）"


@dataclass
class Coverage:
    """How complete the region-year is: indicators reported of those in the catalog, departments missing."""

    reported: int
    expected: int
    missing_departments: list[str] = field(default_factory=list)


def render_index(
    *,
    region: str,
    year: int | str,
    pages: list[PageInfo],
    key_figures: list[KeyFigure],
    coverage: Coverage | None = None,
    issue_counts: list[dict],
    issue_rows: list[dict],
    workbook: str | None,
    generated: str,
) -> str:
    """The report's ``index.html``: key figures, issues summary, links to every page, failures flagged.

    ``issue_counts``: rows of severity, code, title, count. ``issue_rows``: the error- and warning-level issues to
    list (severity, department, file, sheet, cell, message). Every value is escaped here.
    """
    from analysis import __version__

    e = html.escape
    failed = [p for p in pages if not p.ok]
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{e(str(region))} {e(str(year))} 年度法治政府建设情况分析报告</title>",
        f'<link rel="stylesheet" href="{ASSETS_DIR}/{REPORT_CSS}">',
        "</head>",
        '<body class="fazhi-index">',
        "<main>",
        f"<h1>{e(str(region))} {e(str(year))} 年度法治政府建设情况分析报告</h1>",
        f'<p class="fazhi-note">生成时间：{e(generated)}。本目录下的全部页面可离线打开，不需要网络。</p>',
    ]
    if failed:
        out.append('<div class="fazhi-failed" role="alert"><strong>有笔记本运行失败：</strong><ul>')
        out += [f'<li><a href="{e(p.html_name)}">{e(p.title)}</a>：{e(p.failure)}</li>' for p in failed]
        out.append("</ul>失败页面保留了出错前的结果，执行后的笔记本在 notebooks/ 文件夹中。</div>")

    out.append('<section><h2>分析页面</h2><ol class="fazhi-pages">')
    for p in pages:
        state = "" if p.ok else ' <span class="fazhi-badge-failed">运行失败</span>'
        charts = f'<span class="fazhi-muted">（交互图 {p.charts} 幅）</span>' if p.charts else ""
        out.append(f'<li><a href="{e(p.html_name)}">{e(p.title)}</a>{charts}{state}</li>')
    out.append("</ol>")
    if workbook:
        out.append(
            f'<p>年度指标汇总表（每个数值的单位、填报单位和来源单元格）：<a href="{e(workbook)}">{e(workbook)}</a></p>'
        )
    out.append("</section>")

    out.append("<section><h2>主要数据</h2>")
    if coverage is not None:
        out.append(f"<p>已填报指标 {coverage.reported} / {coverage.expected} 项。")
        if coverage.missing_departments:
            names = "、".join(e(d) for d in coverage.missing_departments)
            out.append(
                f'<span class="fazhi-missing">未收到报表的单位（{len(coverage.missing_departments)} 个）：{names}。</span>'
            )
        out.append("</p>")
    if key_figures:
        out.append('<div class="fazhi-cards">')
        for k in key_figures:
            dept = f'<span class="fazhi-muted">{e(k.department)}</span>' if k.department else ""
            out.append(
                f'<div class="fazhi-card"><div class="fazhi-card-topic">{e(k.topic)}</div>'
                f'<div class="fazhi-card-value">{e(k.text)}</div>'
                f'<div class="fazhi-card-name">{e(k.name)}</div>{dept}'
                + (f'<div class="fazhi-muted">{e(k.change)}</div>' if k.change else "")
                + "</div>"
            )
        out.append("</div>")
    else:
        out.append("<p>本年度没有可显示的数据。</p>")
    out.append("</section>")

    out.append("<section><h2>数据问题汇总</h2>")
    if issue_counts:
        out.append(
            "<table><thead><tr><th>级别</th><th>问题代码</th><th>说明</th><th>条数</th></tr></thead><tbody>"
        )
        for row in issue_counts:
            sev = row["severity"]
            out.append(
                f'<tr class="fazhi-sev-{e(sev)}"><td>{e(SEVERITY_ZH.get(sev, sev))}</td><td><code>{e(row["code"])}</code></td>'
                f"<td>{e(row['title'])}</td><td>{int(row['count'])}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>导入时没有发现问题。</p>")
    if issue_rows:
        out.append(
            "<h3>需要处理的错误和警告</h3><table><thead><tr><th>级别</th><th>填报单位</th><th>文件</th>"
        )
        out.append("<th>工作表</th>")
        out.append("<th>单元格</th><th>问题</th></tr></thead><tbody>")
        for row in issue_rows:
            out.append(
                "<tr>"
                + "".join(
                    f"<td>{e(str(v))}</td>"
                    for v in (
                        SEVERITY_ZH.get(row.get("severity"), row.get("severity", "")),
                        *(row.get(c, "") for c in ("department", "file", "sheet", "cell", "message")),
                    )
                )
                + "</tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    out += [
        "</main>",
        f'<footer class="fazhi-footer">由 fazhi-analysis {e(__version__)} 自动生成。</footer>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)
