"""``pytest --nbval-lax`` over every notebook, on the shipped 2019 data, with the notebooks' own defaults.

The notebooks' parameters point at ``../data/processed`` and leave ``output_dir`` empty: the test copies
``notebooks/`` into a temporary folder, ingests the shipped sample data (regenerated, never the live
``data/raw``) into ``<tmp>/data/processed`` beside it, and runs nbval there, so nothing in the working tree
is written. This is how nbval is part of ``make test``. A run like this one (by hand, not by ``run``)
writes its print figures to the notebooks' own scratch folder, never to ``reports/``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.execute.kernel import KERNEL_NAME, ensure_kernel

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def test_every_notebook_runs_under_nbval_on_the_2019_data(tmp_path, sample_raw):
    ensure_kernel()
    work = tmp_path / "repo"
    shutil.copytree(NOTEBOOKS, work / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    ingest = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "ingest",
            "--raw",
            str(sample_raw),
            "--out",
            str(work / "data" / "processed"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", KERNEL_NAME]
    command += ["-p", "no:cacheprovider", "-o", "addopts=", "-q", "notebooks"]
    command += ["--basetemp", str(tmp_path / "pytest-tmp")]  # not the shared /tmp/pytest-of-<user>
    run = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    code_cells = sum(
        c.cell_type == "code"
        for p in NOTEBOOKS.rglob("*.ipynb")
        for c in nbformat.read(p, as_version=4).cells
    )
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) == code_cells, run.stdout[-2000:]
    figures = work / "notebooks" / "output" / "scratch" / "通许县_2019" / "figures"
    assert len(list(figures.glob("*.png"))) >= len(list(NOTEBOOKS.glob("[0-9]*.ipynb")))
    assert not (work / "reports").exists()  # a run by hand never writes a report folder
