"""Publishing a report folder: everything is produced in a hidden staging folder, then moved into place.

``reports/<region>/<year>/`` is written file by file with ``os.replace``, under a lock, ``index.html``
last: a run killed at any moment leaves every previous page whole, and two runs never write the same
folder at once. Executed notebooks are rewritten to name their folders relative to themselves, so a
copied project (reports beside data) still re-runs them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat

from analysis.core.names import (
    ASSETS_DIR,
    DRAFT_RECORD,
    EXECUTED_DIR,
    FEEDBACK_DIR,
    FIGURES_DIR,
    INDEX,
    STAGING_PREFIX,
)


@contextlib.contextmanager
def staging(folder: Path) -> Iterator[Path]:
    """A fresh staging folder inside ``folder`` (with ``notebooks/`` and ``figures/``), removed afterwards.

    Staging folders left by a killed run are removed first, and again at the end: a kernel orphaned by a
    killed run may still write into its old staging folder after the first sweep (it exits within seconds
    of its parent). Call it while holding the folder's lock.
    """
    _sweep(folder)
    stage = folder / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    (stage / EXECUTED_DIR).mkdir(parents=True)
    (stage / FIGURES_DIR).mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        _sweep(folder)


def _sweep(folder: Path) -> None:
    for old in folder.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(old, ignore_errors=True)


def publish(stage: Path, folder: Path, keep_figures: bool) -> None:
    """Move every staged file into place (``os.replace``: each file is old or new, never torn)."""
    for sub in (ASSETS_DIR, FIGURES_DIR, EXECUTED_DIR, FEEDBACK_DIR):
        src = stage / sub
        if not src.is_dir() and sub != FEEDBACK_DIR:
            continue
        produced = set()
        for path in sorted(src.rglob("*")) if src.is_dir() else ():
            if path.is_file():
                dest = folder / path.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
                produced.add(dest)
        # drop figures a complete run no longer makes, and the copies of departments that have no problems now
        if (sub == FIGURES_DIR and not keep_figures) or sub == FEEDBACK_DIR:
            for old in (folder / sub).rglob("*"):
                if old.is_file() and old not in produced:
                    old.unlink()
    # not the stage marker; the draft's record (which drafts the program wrote: an edited one is kept) is
    files = [
        p for p in stage.iterdir() if p.is_file() and (not p.name.startswith(".") or p.name == DRAFT_RECORD)
    ]
    # the workbook and the draft first, then the pages, index.html last
    for path in sorted(files, key=lambda p: (p.suffix == ".html", p.name == INDEX, p.name)):
        os.replace(path, folder / path.name)


def _relative(path: Path | str, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators), or absolute when there is no relative path
    (another Windows drive)."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), start.resolve())).as_posix()
    except ValueError:
        return str(path)


def retarget(nb: nbformat.NotebookNode, stage: Path, final: Path, processed: Path, source: Path) -> None:
    """Make an executed notebook name its folders relative to where it is published
    (``<final>/notebooks/``): ``output_dir`` becomes ``..`` (the report folder, not the staging folder),
    ``processed_dir`` the way from there to the processed tables, and papermill's record of the input and
    output files loses the paths of the machine that ran it. JupyterLab runs a notebook in its own folder,
    so re-running it writes where the batch published its files, wherever the project was copied.
    The injected cell gets a fixed id, so that two runs on the same inputs give the same page."""
    home = final / EXECUTED_DIR
    new = {str(stage): _relative(final, home), str(processed): _relative(processed, home)}
    pm = nb.metadata.get("papermill", {})
    params = pm.get("parameters", {})
    for key in ("output_dir", "processed_dir"):
        if params.get(key) in new:
            params[key] = new[params[key]]
    if "input_path" in pm:
        pm["input_path"] = source.name
    if "output_path" in pm:
        pm["output_path"] = f"{EXECUTED_DIR}/{source.name}"
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            if "id" in cell:  # papermill gives it a random id: the same page from every run
                cell.id = "injected-parameters"
            for old, rel in new.items():
                cell.source = cell.source.replace(repr(old), repr(rel))
