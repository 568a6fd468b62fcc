"""Every notebook takes the batch's four parameters in one ``parameters`` cell and is stored without outputs;
the batch injects them typed and as literals that cannot carry code."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from papermill.translators import papermill_translators

from analysis.execute import runner
from analysis.report import targets
from analysis.report.targets import PARAMETER_NAMES, Target

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks_and_the_batch_finds_them_all():
    assert len(PATHS) >= 2
    assert targets.discover_notebooks(NOTEBOOKS) == PATHS


def test_the_exploration_notebook_is_not_part_of_the_report():
    explore = NOTEBOOKS / "探索.ipynb"
    assert explore.exists() and explore not in targets.discover_notebooks(NOTEBOOKS)


def assignments(source: str) -> dict[str, object]:
    """``name = literal`` statements of a cell (anything else fails)."""
    found = {}
    for stmt in ast.parse(source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.unparse(stmt)
        assert isinstance(stmt.targets[0], ast.Name), ast.unparse(stmt)
        found[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    return found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_exactly_the_four_parameters(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged parameters"
    assert nb.cells[0] is tagged[0] and tagged[0].cell_type == "code"
    values = assignments(tagged[0].source)
    assert list(values) == list(PARAMETER_NAMES)
    assert isinstance(values["region"], str) and isinstance(values["year"], int)
    assert isinstance(values["processed_dir"], str) and isinstance(values["output_dir"], str)
    # papermill finds the same four
    assert list(papermill.inspect_notebook(str(path))) == list(PARAMETER_NAMES)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: {cell.source[:40]}"
        assert "papermill" not in cell.get("metadata", {})
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize(
    "region", ["007", "通许县", "a'); import os; os.system('x'); ('", "县\u3000名", "O'Brien 县"], ids=repr
)
def test_injected_parameters_are_typed_literals(region, tmp_path):
    runner.register_parameter_translator()  # what every batch worker does before running a notebook
    assert papermill_translators.find_translator("fazhi-analysis", "python") is runner.ReprTranslator
    params = targets.notebook_parameters(Target(region, 2019), tmp_path / "processed", tmp_path / "out")
    assert tuple(params) == PARAMETER_NAMES
    nb = parameterize_notebook(load_notebook_node(str(PATHS[0])), params)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    body = [s for s in ast.parse(injected[0].source).body]
    assert all(isinstance(s, ast.Assign) for s in body)  # nothing but assignments: no call can run
    assert assignments(injected[0].source) == params
    assert type(assignments(injected[0].source)["region"]) is str


def test_names_the_batch_refuses_never_reach_a_notebook():
    for region in ["../x", 'a"b', "a\\b", "a\nb"]:
        with pytest.raises(targets.BatchError):
            targets.check_region(region)
