"""Notebooks as they are tracked: what a hand run in JupyterLab adds is never part of them.

- :func:`strip` removes outputs, execution counts and the metadata a front end writes (cell timings, scroll
  and collapse state, widget state, the kernel's version details), keeping sources, cell types, ids,
  tags and the kernel spec. ``python -m analysis.execute.clean`` is that function as a git *clean* filter
  (notebook on stdin, stripped notebook on stdout; anything that is not a notebook passes through
  unchanged): ``make lab`` installs it with ``git config filter.fazhi-notebooks.clean`` and
  ``.gitattributes`` applies it to ``*.ipynb``, so a notebook run and saved in Lab shows as unchanged in
  ``git status`` and a commit never carries its outputs.
- :func:`report_content` is what of a notebook changes a report — cell types, sources, the ``parameters``
  tag and the kernel name — as canonical bytes, for the rebuild digest: running a notebook by hand and
  saving it does not make the next batch rebuild anything.

Standard library only.
"""

from __future__ import annotations

import json
import sys

# metadata a front end writes while a notebook is used; nothing a report depends on
CELL_VOLATILE = frozenset(
    {"collapsed", "scrolled", "execution", "ExecuteTime", "jupyter", "trusted", "papermill", "vscode"}
)
NOTEBOOK_VOLATILE = frozenset({"widgets", "vscode", "papermill", "toc", "varInspector", "colab"})


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _as_lines(text: str) -> list[str]:
    """nbformat's on-disk form of a source: lines that keep their newline."""
    return text.splitlines(keepends=True)


def strip(nb: dict) -> dict:
    """The notebook without outputs, execution counts and front-end metadata (a new dict)."""
    out = dict(nb)
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k not in NOTEBOOK_VOLATILE}
    if isinstance(meta.get("language_info"), dict):
        meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
    out["metadata"] = meta
    cells = []
    for cell in nb.get("cells", []):
        cell = dict(cell)
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k not in CELL_VOLATILE}
        cell["source"] = _as_lines(_source(cell))
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        cells.append(cell)
    out["cells"] = cells
    return out


def dumps(nb: dict) -> str:
    """nbformat's own serialization (what Jupyter writes): sorted keys, one-space indent, UTF-8 text."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def strip_bytes(data: bytes) -> bytes:
    """:func:`strip` on a file's bytes; bytes that are not a notebook (a merge conflict, another file) are
    returned unchanged."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return data
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return data
    return dumps(strip(nb)).encode("utf-8")


def report_content(data: bytes) -> bytes:
    """What of a notebook changes the report it makes, as canonical bytes: each cell's type, source and
    tags (an author's: ``parameters``, ``remove-cell``, ``side-by-side`` change what a page shows; no front
    end adds one), and the kernel name. Outputs, execution counts and the rest of the metadata (collapsed,
    scrolled, hidden source, the language version) are left out. Unreadable bytes stand for themselves."""
    try:
        nb = json.loads(data.decode("utf-8"))
        cells = [
            [
                str(cell.get("cell_type", "")),
                _source(cell),
                sorted({str(tag) for tag in cell.get("metadata", {}).get("tags") or []}),
            ]
            for cell in nb["cells"]
        ]
        kernel = str((nb.get("metadata", {}).get("kernelspec") or {}).get("name", ""))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return data
    return json.dumps({"cells": cells, "kernel": kernel}, ensure_ascii=False).encode("utf-8")


def pre_save_hook(model: dict, path: str = "", contents_manager: object = None, **kwargs: object) -> None:
    """JupyterLab's pre-save hook: a notebook is written without outputs (the open document keeps them)."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        model["content"] = strip(model["content"])


def main() -> int:
    """The git clean filter: a notebook on stdin, stripped on stdout."""
    sys.stdout.buffer.write(strip_bytes(sys.stdin.buffer.read()))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
