"""The plotly toolbar, in headless Chromium with the network blocked: no "Share chart" / Chart Studio /
cloud button on a report page's chart nor on a notebook's chart, and the tooltips are Chinese.

A chart drawn with plotly's own default config is the control: there the share button is present, so the
checks below can fail.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analysis.explore import nb
from analysis.explore.toolbar import DICTIONARY, LOCALE, PLOTLY_CONFIG, plotly_config
from analysis.site import pages, sanitizer, static
from tests.test_browser import CHROMIUM, LAUNCH_ARGS, _chromium_or_skip, block_network

CLOUD_WORDS = ("share", "cloud", "chart studio", "edit in")


def chart() -> go.Figure:
    return go.Figure(go.Bar(x=["调解", "成功"], y=[6736, 6609]), layout={"title": {"text": "矛盾纠纷调解"}})


def report_page(folder: Path) -> Path:
    """A report page as the batch writes it: assets/, the CSP, chart_markup and report.js."""
    static.write_assets(folder)
    markup = pages.chart_markup({**chart().to_plotly_json(), "config": {}}, 1)
    return _page(folder / "page.html", f'{markup}<script src="assets/report.js"></script>')


def control_page(folder: Path) -> Path:
    """The same chart drawn with plotly.js's own defaults (no CSP: the control has an inline script)."""
    static.write_assets(folder)
    figure = sanitizer.script_json(chart().to_plotly_json())
    body = f'<div id="c"></div><script>var f = {figure}; Plotly.newPlot("c", f.data, f.layout);</script>'
    return _page(folder / "control.html", body, csp=False)


def _page(path: Path, body: str, csp: bool = True) -> Path:
    policy = f'<meta http-equiv="Content-Security-Policy" content="{static.CSP}">' if csp else ""
    path.write_text(
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">{policy}</head><body>'
        f'<script src="assets/plotly.min.js"></script>{body}</body></html>',
        encoding="utf-8",
    )
    return path


def _chart_json(markup: str) -> str:
    start = markup.index('class="fazhi-chart-data">') + len('class="fazhi-chart-data">')
    return markup[start : markup.index("</script>", start)]


def notebook_page(folder: Path) -> Path:
    """The text/html a notebook's chart carries (nbconvert, classic notebook), after plotly.js."""
    nb.configure_plotly()
    bundle = pio.renderers["notebook"].to_mimebundle(chart().to_dict())
    static.write_assets(folder)
    return _page(folder / "notebook.html", bundle["text/html"], csp=False)


def toolbar(path: Path) -> tuple[list[str], list[str]]:
    """The tooltips of every toolbar button once the chart is drawn and hovered, and the page's links."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", block_network(blocked))
            page = context.new_page()
            popups: list[str] = []
            page.on("popup", lambda p: popups.append(p.url))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            page.hover(".js-plotly-plot")
            titles = page.eval_on_selector_all(".modebar-btn", "bs => bs.map(b => b.dataset.title || '')")
            links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        finally:
            browser.close()
    assert blocked == [] and popups == []
    return titles, links


def test_the_config_has_no_cloud_switch_on_and_a_locale_plotly_finds():
    config = plotly_config(showSendToCloud=True, displaylogo=True)  # overrides cannot turn them back on
    assert config["showSendToCloud"] is False and config["displaylogo"] is False
    assert config["plotlyServerURL"] == ""
    assert {"sendChartToCloud", "sendDataToCloud", "editInChartStudio"} <= set(
        config["modeBarButtonsToRemove"]
    )
    # plotly.js looks the locale up by its exact name in config.locales
    assert config["locale"] == LOCALE == "zh-CN" and config["locales"][LOCALE]["dictionary"] is not DICTIONARY
    assert config["locales"][LOCALE]["dictionary"]["Download plot as a PNG"] == "下载为 PNG 图片"
    markup = pages.chart_markup({"data": [], "layout": {}, "config": {"showSendToCloud": True}}, 1)
    sent = json.loads(html.unescape(_chart_json(markup)))
    assert sent["config"]["showSendToCloud"] is False and sent["config"]["locale"] == "zh-CN"
    assert PLOTLY_CONFIG["showSendToCloud"] is False  # the shared dict itself was not changed


def test_every_tooltip_plotly_js_shows_is_translated():
    js = static.asset_payloads()[static.PLOTLY_JS].decode("utf-8")
    for key in ("Download plot as a PNG", "Zoom in", "Zoom out", "Autoscale", "Reset axes", "Pan"):
        assert f'"{key}"' in js, key  # the key as this plotly.js spells it (case-sensitive)
        assert key in DICTIONARY


@pytest.mark.browser
@pytest.mark.parametrize("where", ["report", "notebook"])
def test_no_share_button_and_chinese_tooltips_in_chromium(where, tmp_path):
    _chromium_or_skip()
    page = report_page(tmp_path) if where == "report" else notebook_page(tmp_path)
    titles, links = toolbar(page)
    assert not [x for x in links if "plotly" in x.lower()], links  # no logo link to plotly.com
    assert "下载为 PNG 图片" in titles, titles
    assert not [t for t in titles if any(w in t.lower() for w in CLOUD_WORDS)], titles
    assert not [t for t in titles if t and t.isascii()], titles  # every tooltip in Chinese


@pytest.mark.browser
def test_plotly_defaults_would_offer_the_share_button(tmp_path):
    _chromium_or_skip()
    titles, links = toolbar(control_page(tmp_path))
    assert any("share" in t.lower() for t in titles), titles
    assert "Download plot as a PNG" in titles and "https://plotly.com/" in links
