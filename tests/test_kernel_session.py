"""The analyst's JupyterLab session, in a real kernel (the project's ``fazhi-analysis``, through nbclient):
importing the package leaves matplotlib alone, so the analyst's own ``plt.plot`` shows an image; a chart
cell yields the plotly MIME bundle JupyterLab renders, with the project's toolbar config."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from analysis.core.store import write_tables
from analysis.execute.kernel import KERNEL_NAME, ensure_kernel
from tests import fixtures_processed as fp

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

SECTION_IMPORTS = (
    "from analysis.explore import charts, frames, nb, quality, selection, sentences, style, tables"
)
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def run_cells(sources: list[str], cwd) -> list[list[dict]]:
    """Run ``sources`` as the cells of one notebook in the project's kernel; the outputs of each cell."""
    ensure_kernel()
    book = new_notebook(cells=[new_code_cell(s) for s in sources])
    book.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    NotebookClient(
        book, kernel_name=KERNEL_NAME, timeout=300, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return [[dict(o) for o in cell.outputs] for cell in book.cells]


def test_importing_any_module_changes_no_matplotlib_state():
    # rcParams read raw (dict.__getitem__): reading "backend" the usual way would itself resolve it
    script = (
        "import importlib, json, pkgutil, matplotlib\n"
        "import analysis\n"
        "def state():\n"
        "    return {k: str(dict.__getitem__(matplotlib.rcParams, k)) for k in matplotlib.rcParams}\n"
        "before = state()\n"
        "names = [m.name for m in pkgutil.walk_packages(analysis.__path__, 'analysis.')]\n"
        "names = [n for n in names if not n.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "after = state()\n"
        "changed = sorted(k for k in before if before[k] != after[k])\n"
        "print(json.dumps({'n': len(names), 'changed': changed, 'pyplot': 'matplotlib.pyplot' in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + script],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["n"] >= 20  # every module of the package was imported
    assert result["changed"] == []  # backend included
    assert result["pyplot"] is False  # print figures need no pyplot


def test_the_analysts_own_plot_shows_after_importing_the_package(tmp_path):
    outputs = run_cells(
        [
            SECTION_IMPORTS,
            "import matplotlib.pyplot as plt\nplt.plot([1, 2])",
        ],
        tmp_path,
    )
    assert not [o for o in outputs[0] if o["output_type"] == "error"], outputs[0]
    mimes = [m for o in outputs[1] for m in o.get("data", {})]
    assert "image/png" in mimes, outputs[1]


def test_a_chart_cell_yields_the_plotly_bundle_jupyterlab_renders(tmp_path):
    processed = tmp_path / "processed"
    write_tables(processed, fp.spec_frame(), fp.issues())
    outputs = run_cells(
        [
            SECTION_IMPORTS,
            f"ctx = nb.setup({fp.REGION!r}, {fp.YEAR}, {str(processed)!r}, '', notebook='07_legal_services')",
            "fig = nb.show_chart(\n"
            "    ctx,\n"
            "    charts.bar(ctx.view, ['disputes.mediation_cases', 'disputes.mediation_success'], '人民调解案件'),\n"
            "    'mediators',\n"
            ")",
        ],
        tmp_path,
    )
    chart = [o for o in outputs[2] if PLOTLY_MIME in o.get("data", {})]
    assert len(chart) == 1, [list(o.get("data", {})) for o in outputs[2]]
    bundle = chart[0]["data"][PLOTLY_MIME]
    assert bundle["data"][0]["type"] == "bar" and "人民调解案件" in bundle["layout"]["title"]["text"]
    assert bundle["config"]["showSendToCloud"] is False and bundle["config"]["locale"] == "zh-CN"
    assert "sendChartToCloud" in bundle["config"]["modeBarButtonsToRemove"]
    # a run by hand: the print figures went to the scratch folder beside the notebook
    assert (
        tmp_path
        / "output"
        / "scratch"
        / f"{fp.REGION}_{fp.YEAR}"
        / "figures"
        / "07_legal_services_mediators.png"
    ).exists()


def probe_iri(job: dict) -> dict:
    """A pool job: how this worker process sees ``rfc3987_syntax`` after importing nbformat."""
    import nbformat

    nbformat.validate(nbformat.v4.new_notebook())
    return {"iri": "skipped" if sys.modules.get("rfc3987_syntax", False) is None else "not skipped"}


def test_our_processes_skip_the_iri_grammar() -> None:
    """The CLI and the batch's workers import nbformat without ``rfc3987_syntax`` (a Lark grammar built at
    import, about 1 CPU-s, that nothing of ours uses); nbformat still validates."""
    from analysis.execute.pool import NotebookPool

    script = (
        "import sys\n"
        "from analysis import cli\n"
        "cli.main(['codes'])\n"
        "import nbformat\n"
        "nbformat.validate(nbformat.v4.new_notebook())\n"
        "print('skipped' if sys.modules.get('rfc3987_syntax', False) is None else 'not skipped')\n"
    )
    ours = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines()[-1] == "skipped"
    pool = NotebookPool(1)
    try:
        assert pool.submit(probe_iri, {}).result(timeout=120) == {"iri": "skipped"}
    finally:
        pool.shutdown()
