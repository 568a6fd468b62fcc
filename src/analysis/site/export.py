"""``jupyter nbconvert --to fazhi-html 某个执行过的笔记本.ipynb``: the same offline page ``run`` writes.

nbconvert's own ``--to html`` loads require.js and MathJax from the network and drops the plotly charts of
an executed report notebook. This exporter renders the notebook with :func:`analysis.site.pages.render_notebook`
(the page template, sanitiser and chart markup of the batch) and returns the report's ``assets/`` (styles,
script, plotly.js and the CJK font cut to the page's characters) as extra output files, which nbconvert
writes beside the page. It is registered as the entry point ``fazhi-html`` of ``nbconvert.exporters``
(``pyproject.toml``), so JupyterLab's "Export Notebook As" lists it too.

The region, year and data folder are read from the parameters papermill recorded in the notebook, so the
header and footer say what the batch's page says.
"""

from __future__ import annotations

import copy
from pathlib import Path

from nbconvert.exporters import Exporter

from analysis.core.names import ASSETS_DIR, INDEX, REGIONS, timestamp
from analysis.explore.style import bundled_font_path
from analysis.site import pages, static, webfont


class FazhiHTMLExporter(Exporter):
    """An executed notebook as the report's offline page (code hidden, charts drawn from ``assets/``)."""

    export_from_notebook = "法治报告页面（离线 HTML）"
    output_mimetype = "text/html"

    def _file_extension_default(self) -> str:
        return ".html"

    def from_notebook_node(self, nb, resources=None, **kw):
        nb_copy, resources = super().from_notebook_node(copy.deepcopy(nb), resources, **kw)
        meta = resources.get("metadata", {})
        stem = str(meta.get("name") or "notebook")
        params = nb_copy.metadata.get("papermill", {}).get("parameters", {}) or {}
        region = str(params.get("region") or REGIONS)
        year = params.get("year", "")
        pages.drop_plotly_bundles(nb_copy)
        body, _ = pages.render_notebook(
            nb_copy,
            stem=stem,
            region=region,
            year=year,
            footer=static.footer(
                timestamp(), _data(params, meta.get("path"), region, year), _where(region, year)
            ),
            home=f"../{INDEX}" if region == REGIONS else INDEX,
        )
        outputs = dict(resources.get("outputs") or {})
        for name, data in static.asset_payloads().items():
            outputs[f"{ASSETS_DIR}/{name}"] = data
        font = webfont.cached_subset(bundled_font_path(), webfont.font_chars([body]))
        outputs[f"{ASSETS_DIR}/{static.WEB_FONT_FILE}"] = font
        resources["outputs"] = outputs
        return body, resources


def _where(region: str, year: object) -> str:
    return f"{region} {year} 年度" if year != "" else region


def _data(params: dict, folder: object, region: str, year: object) -> str:
    """Which data the notebook read: its ``processed_dir`` parameter, relative to the notebook's folder."""
    processed = params.get("processed_dir")
    if not processed:
        return ""
    path = Path(str(processed))
    if not path.is_absolute() and folder:
        path = Path(str(folder)) / path
    return static.data_note(path, None if region == REGIONS else region, year if year != "" else None)
