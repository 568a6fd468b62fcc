"""The real notebooks in batch, and every page of the report opened in headless Chromium from ``file://``
with the network blocked: no request leaves the folder, every chart draws, Chinese text shows, the
console stays clean, and a department named ``<script>alert(1)</script>`` shows only as text.

Chromium is Debian's ``chromium`` package (installed by ``.ci/run``), driven by the pip package
playwright; the test skips without it, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import cli
from analysis.core import names
from analysis.core.problems import CODES, Problem
from analysis.core.store import write_tables
from analysis.execute.warm import PLOTLY_MIME, is_plotly_bundle
from analysis.report import batch, targets
from analysis.site import static
from tests import fixtures_processed as fp
from tests.test_pages import remote_references

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CJK = re.compile(r"[\u4e00-\u9fff]")


def hostile_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2019 figures with one department renamed to a script tag, and issues naming it."""
    indicators = fp.spec_frame()
    judicial = indicators["department"] == "县司法局"
    indicators.loc[judicial, "department"] = HOSTILE
    indicators.loc[judicial, "source_file"] = f"{fp.REGION}/{fp.YEAR}/{HOSTILE}.xlsx"
    from analysis.ingest.pipeline import issues_frame

    extra = issues_frame(
        [
            Problem(
                "bad-number",
                f"“{HOSTILE}”不是数字",
                region=fp.REGION,
                year=fp.YEAR,
                department=HOSTILE,
                cell="C4",
            ),
            Problem(
                "unknown-department",
                f"{HOSTILE} 不在目录中",
                region=fp.REGION,
                year=fp.YEAR,
                department=HOSTILE,
            ),
        ]
    )
    return indicators, pd.concat([fp.issues(), extra], ignore_index=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The batch over the real notebooks, then the report folder copied elsewhere (the original removed)."""
    root = tmp_path_factory.mktemp("browser")
    indicators, issues = hostile_tables()
    write_tables(root / "processed", indicators, issues)
    [result] = batch.run_batch(
        fp.REGION,
        fp.YEAR,
        root / "processed",
        root / "reports",
        notebooks_dir=NOTEBOOKS,
        workers=2,
        timeout=300,
    )
    assert not result.failed, cli.summary_lines([result])
    copied = root / "copied" / "报告"
    shutil.copytree(result.folder, copied)
    shutil.rmtree(root / "reports")
    return copied


def pages(folder: Path) -> list[Path]:
    found = sorted(folder.glob("*.html"))
    assert len(found) == len(targets.discover_notebooks(NOTEBOOKS)) + 1  # one per notebook, plus index.html
    return found


def expected_charts(folder: Path, page: Path) -> int:
    """Plotly figures in the executed notebook behind ``page`` (counted from the .ipynb, not the HTML)."""
    executed = folder / "notebooks" / f"{page.stem}.ipynb"
    if not executed.exists():
        return 0
    nb = nbformat.read(executed, as_version=4)
    return sum(PLOTLY_MIME in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def block_network(sink: list[str]):
    """A playwright route handler: local files load, every other request is aborted and recorded."""

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            sink.append(r.request.url)
            r.abort()

    return route


def test_submitted_text_appears_only_escaped(report):
    escaped_in = []
    for page in pages(report):
        text = page.read_text(encoding="utf-8")
        assert HOSTILE not in text, page.name
        assert "<script>alert" not in text.lower(), page.name
        if ESCAPED in text:
            escaped_in.append(page.name)
    assert "index.html" in escaped_in and len(escaped_in) >= 2, escaped_in
    cells = [c for row in load_workbook(report / names.WORKBOOK_NAME).worksheets[0].iter_rows() for c in row]
    assert any(c.value == HOSTILE and c.data_type == "s" for c in cells)  # plain text in the workbook


def test_pages_reference_nothing_outside_the_folder(report):
    for page in pages(report):
        text = page.read_text(encoding="utf-8")
        assert remote_references(text) == [], page.name
        assert '<html lang="zh-CN">' in text and 'charset="utf-8"' in text.lower()
        # the site navigation (other years, comparison, overview) points into the reports tree by design
        own = re.sub(r'<nav class="fazhi-years">.*?</nav>', "", text, flags=re.S)
        assert not re.search(r'(?:src|href)="\.\./', own), page.name
        for ref in re.findall(r'(?:src|href)="([^"#]+)"', own):
            if not ref.startswith(("data:", "mailto:")):
                assert (report / ref).is_file(), f"{page.name} → {ref}"


def test_print_figures_are_linked_from_the_pages(report):
    linked = set()
    for page in pages(report):
        linked |= set(re.findall(r'href="(figures/[^"]+)"', page.read_text(encoding="utf-8")))
    assert linked == {f"figures/{p.name}" for p in (report / "figures").iterdir()}


def test_pages_speak_to_readers_not_developers(report):
    """No tool, file or parameter names on a page; problem codes never as chart labels (the Chinese name
    is shown, the code only in the last table column or a tooltip); no lock file in the folder."""
    for page in pages(report):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r'<p class="fazhi-figure-files">.*?</p>', "", text)  # file names may say anything
        for word in ("papermill", "sentences.yaml", "key_figures", "processed_dir", "output_dir"):
            assert word not in text, f"{word} on {page.name}"
        for block in re.findall(r'class="fazhi-chart-data">(.*?)</script>', text, flags=re.S):
            assert not [c for c in CODES if c in block], page.name
    assert not [p.name for p in report.rglob(".lock")]


def test_published_notebooks_keep_their_charts_but_not_plotly_js(report):
    for page in pages(report):
        if page.name == "index.html":
            continue
        executed = report / "notebooks" / f"{page.stem}.ipynb"
        assert executed.stat().st_size < 1_000_000, executed.name  # plotly.js is in assets/, once
        nb = nbformat.read(executed, as_version=4)
        outputs = [o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not any(is_plotly_bundle(d) for d in outputs)
        assert expected_charts(report, page) == page.read_text(encoding="utf-8").count('class="fazhi-chart"')


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    message = f"找不到 {CHROMIUM}：请安装 Debian 的 chromium 软件包（apt-get install chromium）"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def opened(report) -> dict:
    """Every page of the report opened once in Chromium, as a reader opens it (``file://``, the network
    blocked, the pages' own content security policy in force), once its charts are drawn: what the offline
    test and the accessibility test look at. axe-core is run last on each page (after what the offline
    test reads was taken): injected through the DevTools protocol, which the policy does not stop, with
    its stylesheet preload off (the policy refuses axe's fetch of the CSS; the one rule that needs it is
    checked on the CSS files themselves, :func:`test_no_stylesheet_locks_the_orientation`)."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    from tests.accessibility import axe_script, serious_violations

    try:
        axe, why = axe_script().read_text(encoding="utf-8"), ""
    except pytest.skip.Exception as skipped:  # no npm: only the accessibility test skips
        axe, why = "", str(skipped)
    seen: dict = {"blocked": [], "pages": {}, "axe": {} if axe else None, "why": why}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", block_network(seen["blocked"]))
            for path in pages(report):
                seen["pages"][path.name], page = _read_page(context, report, path)
                if seen["axe"] is not None:
                    problems = serious_violations(page, source=axe) + page.evaluate(CHARTS_WITHOUT_WORDS)
                    if problems:
                        seen["axe"][path.name] = problems
                page.close()
        finally:
            browser.close()
    return seen


def _read_page(context, report: Path, path: Path):
    """What the offline test asserts about one page, and the page (still open)."""
    expected = expected_charts(report, path)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('div.fazhi-chart .js-plotly-plot .main-svg').length > 0 &&"
            " [...document.querySelectorAll('div.fazhi-chart')].filter("
            "   c => c.querySelector('.js-plotly-plot .main-svg')).length >= n",
            arg=expected,
            timeout=60_000,
        )
    facts = {
        "expected": expected,
        "drawn": page.evaluate(
            "() => [...document.querySelectorAll('div.fazhi-chart')]"
            ".filter(c => c.querySelector('.js-plotly-plot .main-svg')).length"
        ),
        "charts": page.locator("div.fazhi-chart").count(),
        "lang": page.evaluate("document.documentElement.lang"),
        "body": page.inner_text("body"),
        "hostile": HOSTILE in page.content(),  # a script element of that text in the DOM
    }
    page.wait_for_timeout(200)  # late console errors from asynchronous drawing
    facts["problems"] = list(problems)  # before anything of the test's own is injected
    return facts, page


@pytest.mark.browser
def test_every_page_works_offline_in_chromium(opened):
    assert opened["blocked"] == []
    assert sum(facts["expected"] for facts in opened["pages"].values()) > 0
    for name, facts in opened["pages"].items():
        assert facts["drawn"] == facts["expected"] == facts["charts"], name
        assert facts["lang"] == "zh-CN", name
        assert len(CJK.findall(facts["body"])) > 20, name
        assert ("分析报告" if name == "index.html" else "返回报告目录") in facts["body"], name
        assert not facts["hostile"], name
        assert facts["problems"] == [], f"{name}: {facts['problems']}"


@pytest.mark.browser
def test_the_pages_policy_blocks_inline_scripts_and_remote_loads(tmp_path):
    """Defence in depth: even a script tag that escaped escaping would not run, nor anything be fetched."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "page.html"
    page_path.write_text(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{static.CSP}"></head>'
        "<body><p>页面</p><script>document.title = '已执行'</script>"
        '<img src="https://example.com/x.png"><link rel="stylesheet" href="http://example.com/y.css"></body></html>',
        encoding="utf-8",
    )
    routed: list[str] = []  # requests that got as far as the network layer
    failed: dict[str, str] = {}
    violations: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", block_network(routed))
            page.on("requestfailed", lambda r: failed.update({r.url: r.failure}))
            page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
            page.goto(page_path.as_uri(), wait_until="load")
            assert page.title() != "已执行" and page.inner_text("body") == "页面"
        finally:
            browser.close()
    assert routed == []
    assert failed == {"https://example.com/x.png": "csp", "http://example.com/y.css": "csp"}
    assert len(violations) == 3  # the inline script, the image, the stylesheet


def test_readers_words_only(report):
    """Footers say when and from which data the page was made (no program name); problem codes appear on
    the data-quality page only, in a last column titled 代码; figure links read 下载印刷用图（PNG）/（SVG）."""
    coded = []
    for page in pages(report):
        text = page.read_text(encoding="utf-8")
        footer = re.search(r'<footer class="fazhi-footer">(.*?)</footer>', text, flags=re.S).group(1)
        assert re.search(
            r"本页生成于 \d{4}-\d\d-\d\d \d\d:\d\d，依据\d{4}-\d\d-\d\d \d\d:\d\d 导入的", footer
        )
        assert "fazhi-analysis" not in footer and "代码已隐藏" not in footer, page.name
        for table in re.findall(r"<table.*?</table>", text, flags=re.S):
            cells = [
                re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table)
            ]
            if set(cells) & set(CODES):
                coded.append(page.name)
                headers = [
                    re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table)
                ]
                assert headers[-1] == "代码", (page.name, headers)
        links = re.findall(r'<a [^>]*href="figures/[^"]+"[^>]*>(.*?)</a>', text)
        assert set(links) <= {"下载印刷用图（PNG）", "下载印刷用图（SVG）"}, (page.name, links)
    assert set(coded) == {"01_data_quality.html"}


def test_nbconvert_fazhi_html_writes_the_page_run_wrote(report):
    """An analyst's ``jupyter nbconvert --to fazhi-html`` of a published notebook gives the batch's page
    (only the footer's time and data note may differ: the copied report no longer sees its data folder)."""
    from analysis.site.export import FazhiHTMLExporter

    footer = re.compile(r'<footer class="fazhi-footer">.*?</footer>', flags=re.S)
    for stem in ("03_powers", "07_legal_services"):
        body, resources = FazhiHTMLExporter().from_filename(str(report / "notebooks" / f"{stem}.ipynb"))
        published = (report / f"{stem}.html").read_text(encoding="utf-8")
        assert footer.sub("", body) == footer.sub("", published), stem
        assert "assets/plotly.min.js" in resources["outputs"]


def open_drawn(context, path: Path):
    """A page opened from ``file://`` once all of its charts are drawn."""
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    expected = expected_charts(path.parent, path)
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('div.fazhi-chart .js-plotly-plot .main-svg').length >= n",
            arg=expected,
            timeout=60_000,
        )
    return page


CHARTS_WITHOUT_WORDS = """() => [...document.querySelectorAll('div.fazhi-chart')].filter(c => {
    const text = document.getElementById(c.getAttribute('aria-describedby') || '');
    return !c.getAttribute('aria-label') || !text || text.textContent.trim().length < 4;
}).map(c => '图表缺少文字说明：' + (c.getAttribute('aria-label') || c.dataset.chart))"""


def accessibility_problems(paths: list[Path]) -> dict[str, list[str]]:
    """axe-core's serious and critical violations per page, and any chart without its text alternative."""
    from playwright.sync_api import sync_playwright

    from tests.accessibility import axe_script, serious_violations

    axe_script()  # installs axe-core (or skips) before the browser starts
    found: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(bypass_csp=True)  # axe is injected as a script of the test's own
            context.route("**/*", block_network([]))
            for path in paths:
                page = open_drawn(context, path)
                problems = serious_violations(page) + page.evaluate(CHARTS_WITHOUT_WORDS)
                if problems:
                    found[path.relative_to(path.parents[1]).as_posix()] = problems
                page.close()
        finally:
            browser.close()
    return found


@pytest.mark.browser
def test_every_report_page_passes_axe_without_serious_violations(opened):
    """GB/T 37668 (WCAG 2.x): axe-core finds no serious or critical violation on any page of a report, and
    every chart says its values in words (``aria-describedby``)."""
    if opened["axe"] is None:
        pytest.skip(opened["why"])
    assert opened["axe"] == {}


def test_no_stylesheet_locks_the_orientation(report):
    """axe's ``css-orientation-lock`` reads the stylesheets, which the pages' policy keeps from it in
    :func:`opened`: no stylesheet of the report has a rule that applies only in one orientation."""
    for css in (report / "assets").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"@media[^{]*orientation", text), css.name
