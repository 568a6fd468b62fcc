"""A report's ``assets/`` folder and the policy that pages load nothing else.

The notebook CSS and plotly.js are copied from the installed nbconvert and plotly packages, the report's
own CSS and script from ``analysis/site/assets``, and a CJK web font is cut down to the characters the
pages use. The Content-Security-Policy of every page forbids the browser to fetch anything from elsewhere
or to run any inline script.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from importlib import resources
from pathlib import Path

import jinja2
from nbconvert import HTMLExporter
from plotly.offline import get_plotlyjs

from analysis import __version__
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import ASSETS_DIR, TIMESTAMP_FORMAT
from analysis.core.store import MANIFEST
from analysis.core.text import xml_safe
from analysis.explore.style import bundled_font_path
from analysis.site import webfont

PLOTLY_JS = "plotly.min.js"
NOTEBOOK_CSS = "notebook.css"
WEB_FONT_FILE = "cjk-subset.woff"
REPORT_CSS = "report.css"
REPORT_JS = "report.js"

CSP = (
    "default-src 'none'; script-src 'self' file:; style-src 'self' file: 'unsafe-inline'; "
    "img-src 'self' file: data: blob:; font-src 'self' file: data:; connect-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


TEMPLATES = Path(__file__).parent / "templates"  # fazhi_base.html.j2: the head, CSP and footer of every page
# (every name starts with fazhi_: the folder is also on nbconvert's search path, whose lab template extends
# its own base.html.j2)


@functools.cache
def environment() -> jinja2.Environment:
    """The site's templates (every value escaped unless marked safe)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def data_note(processed: str | Path, region: str | None = None, year: int | str | None = None) -> str:
    """Which data a page was made from, for readers: when it was imported and how many submissions (of the
    region and year when given), e.g. "2026-12-02 09:30 导入的 8 份报表"; empty when the manifest cannot be
    read."""
    try:
        manifest = json.loads((Path(processed) / MANIFEST).read_text(encoding="utf-8"))
        written = dt.datetime.fromisoformat(str(manifest["written_at"])).astimezone()
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    sources = [str(f).split("/") for f in manifest.get("sources") or {}]
    count = sum(
        (region is None or parts[0] == str(region)) and (year is None or parts[1:2] == [str(year)])
        for parts in sources
    )
    when = written.strftime(TIMESTAMP_FORMAT)
    return f"{when} 导入的 {count} 份报表" if sources else f"{when} 导入的数据"


def footer(generated: str, data: str = "", where: str = "") -> str:
    """The footer of every page: when it was made and from which data (no program names: readers' words)."""
    text = f"本页生成于 {generated}" + (f"，依据{data}" if data else "") + "。"
    return f"{where} · {text}" if where else text


def render(name: str, *, title: str, footer: str, links=(), **context) -> str:
    """A page of the site from ``templates/<name>`` (which extends ``fazhi_layout.html.j2``): the shared head with
    the CSP, the title as heading, the navigation ``links`` ((label, href) pairs) and the footer; no character
    XML cannot hold and no bidi control reaches the page (:func:`~analysis.core.text.xml_safe`)."""
    return xml_safe(
        environment()
        .get_template(name)
        .render(
            csp=CSP,
            assets=ASSETS_DIR,
            version=__version__,
            title=title,
            footer=footer,
            links=list(links),
            **context,
        )
    )


def _nbconvert_css() -> bytes:
    """JupyterLab's notebook CSS as nbconvert ships it (light theme), for ``assets/notebook.css``."""
    template_paths = HTMLExporter(template_name="lab").template_paths
    parts = []
    for name in ("index.css", "theme-light.css"):
        for folder in template_paths:
            path = Path(folder) / "static" / name
            if path.is_file():
                parts.append(path.read_bytes())
                break
        else:
            raise FileNotFoundError(f"nbconvert 的 lab 模板中找不到 static/{name}")
    return b"\n".join(parts)


def asset_payloads() -> dict[str, bytes]:
    """File name → content of everything under a report's ``assets/`` folder."""
    ours = resources.files("analysis.site").joinpath("assets")
    return {
        PLOTLY_JS: get_plotlyjs().encode("utf-8"),
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
        _write_if_changed(path, data)
        written.append(path)
    return written


def write_font(report_dir: Path, pages: list[str]) -> Path:
    """Write ``assets/<WEB_FONT_FILE>``: the bundled CJK font cut down to the characters of ``pages``.

    Pages list system fonts first (Microsoft YaHei, PingFang SC, Noto Sans CJK SC …); this subset is the last
    resort, so that a report copied to a machine without any Chinese font still shows text, not boxes.
    """
    return write_font_bytes(report_dir, webfont.cached_subset(bundled_font_path(), webfont.font_chars(pages)))


def write_font_bytes(report_dir: Path, data: bytes) -> Path:
    """Write ``assets/<WEB_FONT_FILE>`` (only when its content changed)."""
    path = Path(report_dir) / ASSETS_DIR / WEB_FONT_FILE
    _write_if_changed(path, data)
    return path


def _write_if_changed(path: Path, data: bytes) -> None:
    if not (path.is_file() and _digest(path.read_bytes()) == _digest(data)):
        atomic_write_bytes(path, data)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
