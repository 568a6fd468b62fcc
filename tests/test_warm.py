"""papermill's execution manager under the warm engine (``analysis.execute.warm.lean_saves``): the output
notebook is written when a code cell starts (so a killed worker's notebook says where it stopped) and when
the notebook ends, not when every cell completes or a markdown cell passes."""

from __future__ import annotations

from pathlib import Path

import nbformat
from papermill import engines
from papermill.engines import NotebookExecutionManager
from papermill.execute import prepare_notebook_metadata

from analysis.execute.runner import read_stop
from analysis.execute.warm import lean_saves


def book() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 标题"),
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_markdown_cell("说明"),
        nbformat.v4.new_code_cell("b = 2"),
        nbformat.v4.new_code_cell("c = 3"),
    ]
    return nb


def test_the_output_is_written_at_each_code_cell_start_and_at_the_end(tmp_path: Path, monkeypatch) -> None:
    output = tmp_path / "out.ipynb"
    nb = book()
    nb.metadata["papermill"] = {}  # as papermill.execute_notebook starts it
    nb = prepare_notebook_metadata(nb, "in.ipynb", str(output))
    manager = NotebookExecutionManager(nb, output_path=str(output), progress_bar=False)
    writes: list[list[str]] = []
    real = engines.write_ipynb

    def counting(nb, path):
        writes.append([c.metadata.get("papermill", {}).get("status") for c in nb.cells])
        real(nb, path)

    monkeypatch.setattr(engines, "write_ipynb", counting)
    lean_saves(manager)
    manager.notebook_start()
    stops = []
    for index, cell in enumerate(manager.nb.cells):
        manager.cell_start(cell, index)
        if cell.cell_type == "code":
            stops.append(read_stop(output).get("cell"))  # what a worker killed now would report
        manager.cell_complete(cell, cell_index=index)
    manager.notebook_complete()
    assert len(writes) == 1 + 3 + 1  # the start, each code cell's start, the end
    assert stops == [2, 4, 5]  # 1-based positions of the code cells: each one found as it runs
    assert writes[-1] == ["completed"] * 5
    final = nbformat.read(output, as_version=4)
    assert all(c.metadata.papermill["end_time"] for c in final.cells)  # nothing lost at the end
