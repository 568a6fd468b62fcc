"""The project's own install files agree with each other."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def test_environment_yml_installs_the_same_as_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == f"python{project['requires-python']}"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-e .[test,lab]"]  # the dependency list lives in pyproject.toml only
    extras = project["optional-dependencies"]
    assert any(d.startswith("jupyterlab") for d in extras["lab"])  # conda users get JupyterLab


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make report" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_data_file_ships_inside_the_package():
    """Each non-Python file under src/analysis (catalog, sentences, report assets) matches a package-data
    pattern, so an installed (non-editable) package still finds it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["analysis"]
    package = ROOT / "src" / "analysis"
    data = [
        f.relative_to(package)
        for f in package.rglob("*")
        if f.is_file() and f.suffix not in {".py", ".pyc"} and "__pycache__" not in f.parts
    ]
    assert {"core/catalog.yaml", "explore/sentences.yaml"} <= {f.as_posix() for f in data}
    unshipped = [f for f in data if not any(f.match(p) for p in patterns)]
    assert unshipped == []
