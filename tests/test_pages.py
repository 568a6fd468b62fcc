"""Offline HTML pages: outputs sanitised, charts redrawn from JSON, nothing fetched from the network."""

from __future__ import annotations

import json
import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analysis.execute.warm import PLOTLY_MIME
from analysis.explore import quality
from analysis.site import index, pages, sanitizer, static
from analysis.site.index import Coverage, KeyFigure
from analysis.site.pages import PageInfo

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
REMOTE_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host …
REMOTE_CSS = re.compile(r"""url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import""", re.I)
URL_ATTRIBUTES = frozenset({"src", "href", "data", "poster", "action", "srcset", "background", "formaction"})


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name in URL_ATTRIBUTES and REMOTE_URL.match(value):
                self.found.append(f"<{tag} {name}={value}>")
            if name == "style" and REMOTE_CSS.search(value):
                self.found.append(f"<{tag} style={value}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style and REMOTE_CSS.search(data):
            self.found.append(f"<style>{data[:80]}")


def remote_references(page: str) -> list[str]:
    """Every reference in an HTML page that a browser would fetch from another host by itself."""
    parser = _Refs()
    parser.feed(page)
    return parser.found


def plotly_outputs(title: str = "调解情况") -> list[dict]:
    fig = go.Figure(go.Bar(x=[HOSTILE, "县司法局"], y=[6736, 6609]))
    fig.update_layout(title=title)
    spec = json.loads(pio.to_json(fig))
    bundle_js = (
        '<script>window.PlotlyConfig = {MathJaxConfig: "local"};</script><script>/* plotly.js */</script>'
    )
    cdn = '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js"></script>'
    return [
        nbformat.v4.new_output("display_data", data={"text/html": bundle_js}),
        nbformat.v4.new_output("display_data", data={PLOTLY_MIME: spec, "text/html": cdn + "<div></div>"}),
    ]


def executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    table = f'<style scoped>.dataframe > thead th {{ text-align: right; }}</style><table class="dataframe"><tr><td>{ESCAPED}</td></tr></table>'
    nb.cells = [
        nbformat.v4.new_code_cell("region = '通许县'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_markdown_cell("# 公共法律服务与人民调解\n\n说明文字。"),
        nbformat.v4.new_code_cell("fig.show()", outputs=plotly_outputs()),
        nbformat.v4.new_code_cell(
            "table",
            outputs=[
                nbformat.v4.new_output(
                    "execute_result", data={"text/html": table, "text/plain": "t"}, execution_count=3
                ),
                nbformat.v4.new_output("display_data", data={"text/markdown": f"**单位**：{HOSTILE}"}),
                nbformat.v4.new_output("display_data", data={"application/javascript": "alert(2)"}),
                nbformat.v4.new_output(
                    "display_data", data={"text/html": '<img src="http://example.com/x.png">'}
                ),
                nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: 警告文字"),
                nbformat.v4.new_output("stream", name="stdout", text=f"打印 {HOSTILE}"),
            ],
        ),
        nbformat.v4.new_code_cell(
            "secret",
            metadata={"tags": ["remove-cell"]},
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="不应出现在页面上")],
        ),  # fmt: skip
        nbformat.v4.new_code_cell(
            "boom",
            outputs=[
                nbformat.v4.new_output(
                    "error", ename="ValueError", evalue="坏数据", traceback=["ValueError: 坏数据"]
                )
            ],
        ),
    ]
    return nb


# --- sanitising --------------------------------------------------------------------------------------


def test_sanitize_escapes_scripts_and_drops_active_content():
    dirty = (
        f'<div onclick="steal()">{HOSTILE}<iframe src="https://x"></iframe>'
        '<a href="javascript:alert(1)">链接</a><a href="data:text/html,x">数据</a>'
        '<img src="https://example.com/x.png"><img src="data:image/png;base64,AAAA" alt="图">'
        '<p style="color: red; background-image: url(https://x/y.png)">红</p></div>'
    )
    assert len(remote_references(dirty)) == 3  # the checker itself sees iframe, img and the style url()
    clean = sanitizer.sanitize_html(dirty)
    assert "<script" not in clean and ESCAPED in clean
    assert "onclick" not in clean and "<iframe" not in clean and "javascript:" not in clean
    assert "data:text/html" not in clean and "example.com" not in clean
    assert 'src="data:image/png;base64,AAAA"' in clean and "color: red" in clean and "url(" not in clean
    assert remote_references(clean) == []


def test_sanitize_keeps_pandas_styles_but_not_styles_that_fetch():
    kept = sanitizer.sanitize_html(
        "<style>.dataframe > thead th { text-align: right; }</style><table></table>"
    )
    assert "<style>.dataframe > thead th { text-align: right; }</style>" in kept
    dropped = sanitizer.sanitize_html("<style>@import 'https://x/y.css'; td { background: url(//x) }</style>")
    assert "<style" not in dropped and "@import" not in dropped


def test_script_json_cannot_close_the_script_element():
    value = {"label": "</script><script>alert(1)</script>", "amp": "a&b", "sep": "\u2028"}
    text = sanitizer.script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value


# --- pages -------------------------------------------------------------------------------------------


def test_prepare_notebook_redraws_charts_and_drops_what_needs_the_network():
    prepared, charts = pages.prepare_notebook(executed_notebook())
    assert charts == 1
    outputs = [o for c in prepared.cells if c.cell_type == "code" for o in c.outputs]
    htmls = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert sum('class="fazhi-chart"' in h for h in htmls) == 1
    assert not any("window.PlotlyConfig" in h or "cdnjs" in h for h in htmls)  # plotly.js bundle and CDN gone
    assert all("application/javascript" not in o.get("data", {}) for o in outputs)
    assert [o["name"] for o in outputs if o["output_type"] == "stream"] == ["stdout"]
    assert not any("不应出现在页面上" in str(c) for c in prepared.cells)
    assert any(o["output_type"] == "error" for o in outputs)


def test_page_is_chinese_offline_and_escapes_submitted_text():
    body, info = pages.render_notebook(
        executed_notebook(),
        stem="07_legal_services",
        region="通许县",
        year=2019,
        failure=f"出错：{HOSTILE}",
        failed_cell=5,
    )
    assert info.title == "公共法律服务与人民调解" and info.charts == 1 and not info.ok
    assert body.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in body and 'charset="utf-8"' in body
    assert "Content-Security-Policy" in body and "connect-src 'none'" in body
    assert remote_references(body) == []
    assert "require" not in body.lower() and "mathjax" not in body.lower()
    assert HOSTILE not in body and "alert(2)" not in body
    assert body.count(ESCAPED) >= 3  # table, markdown output, stdout and the failure banner
    assert 'src="assets/plotly.min.js"' in body and 'src="assets/report.js"' in body
    assert "本页笔记本运行失败" in body and 'id="fazhi-failed-cell"' in body and 'href="index.html"' in body
    assert "FutureWarning" not in body and "def " not in body  # warnings and code are hidden


def test_page_without_charts_loads_no_script():
    nb = executed_notebook()
    nb.cells = [c for c in nb.cells if "fig.show" not in c.source]
    body, info = pages.render_notebook(nb, stem="x", region="通许县", year=2019)
    assert info.charts == 0 and info.ok and "plotly.min.js" not in body and "运行失败" not in body


def test_notebook_title_is_the_first_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("说明\n\n## **政务公开** ##")]
    assert pages.notebook_title(nb, "05_disclosure") == "政务公开"
    assert pages.notebook_title(nbformat.v4.new_notebook(), "05_disclosure") == "05_disclosure"


def test_index_escapes_everything_and_flags_failures():
    pages = [
        PageInfo(stem="00_overview", title="年度概览", charts=2, html_name="00_overview.html"),
        PageInfo(
            stem="01_x",
            title=HOSTILE,
            ok=False,
            failure=f"第 3 个单元格出错：{HOSTILE}",
            html_name="01_x.html",
        ),
    ]
    issue = {"severity": "error", "code": "bad-number", "sheet": "数据", "cell": "C4"}
    issue |= {"department": HOSTILE, "file": f"{HOSTILE}.xlsx", "message": HOSTILE}
    issues = pd.DataFrame([issue, issue])
    body = index.render_index(
        region="通许县",
        year=2019,
        pages=pages,
        content=index.IndexContent(
            key_figures=[
                KeyFigure(
                    topic="公共法律服务与人民调解",
                    name="调解矛盾纠纷",
                    text="6736件",
                    department=HOSTILE,
                    change="比2018年 +136件（+2.1%）",
                )
            ],
            coverage=Coverage(reported=2, expected=52, missing_departments=["县水利局", HOSTILE]),
            issue_counts=quality.code_table(issues),
            issue_rows=quality.issue_list(issues),
        ),
        workbook="年度指标汇总.xlsx",
        generated="2020-03-31 09:00",
    )
    assert '<html lang="zh-CN">' in body and HOSTILE not in body and body.count(ESCAPED) >= 5
    assert 'href="00_overview.html"' in body and 'href="01_x.html"' in body and "6736件" in body
    assert body.count("fazhi-badge-failed") == 1 and "有笔记本运行失败" in body
    assert "错误" in body and remote_references(body) == []
    # readers' words: the Chinese name of the problem; its code only on the data-quality page
    row = re.search(r'<tr class="fazhi-sev-error">(.*?)</tr>', body).group(1)
    assert re.findall(r"<td>(.*?)</td>", row) == ["错误", "数值无法识别", "2"]
    assert "bad-number" not in body and "fazhi-analysis" not in re.search(r"<footer.*</footer>", body).group()
    assert "本页生成于 2020-03-31 09:00。" in body
    assert "导入时发现 2 个错误" in body  # the data errors are on the index, not only in issues.csv
    assert "已填报指标 2 / 52 项" in body and "未收到报表的单位（2 个）：县水利局、" in body
    assert "比2018年 +136件（+2.1%）" in body


def test_web_font_is_a_small_subset_covering_the_pages(tmp_path):
    from fontTools.ttLib import TTFont

    pages = ["<p>权责清单未说明的增减：−51项</p>", '{"text": "\\u8c03\\u89e3"}']  # JSON-escaped 调解
    path = static.write_font(tmp_path, pages)
    assert path == tmp_path / "assets" / static.WEB_FONT_FILE
    assert path.stat().st_size < 200_000  # the full font is 16 MB
    cmap = TTFont(str(path)).getBestCmap()
    for ch in "权责清单未说明的增减调解−项":
        assert ord(ch) in cmap, ch
    assert ord("龘") not in cmap
    css = (Path(static.__file__).parent / "assets" / "report.css").read_text(encoding="utf-8")
    assert static.WEB_FONT_FILE in css and "FazhiCJK" in css


# --- assets ------------------------------------------------------------------------------------------


def test_assets_are_local_copies_written_once(tmp_path):
    from plotly.offline import get_plotlyjs

    paths = static.write_assets(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(["plotly.min.js", "notebook.css", "report.css", "report.js"])
    assert (tmp_path / "assets" / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    css = (tmp_path / "assets" / "notebook.css").read_text(encoding="utf-8")
    assert ".jp-OutputArea" in css and not REMOTE_CSS.search(css)
    for path in paths:
        assert path.stat().st_mode & stat.S_IROTH or (path.stat().st_mode & 0o777) == 0o666 & ~_umask()
    before = {p.name: p.stat().st_ino for p in paths}
    static.write_assets(tmp_path)
    assert {p.name: p.stat().st_ino for p in paths} == before  # unchanged files are not rewritten


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("name", ["report.js", "report.css"])
def test_our_assets_reference_nothing_remote(name):
    from importlib import resources

    text = resources.files("analysis.site").joinpath("assets", name).read_text(encoding="utf-8")
    assert not REMOTE_CSS.search(text) and "http" not in text
