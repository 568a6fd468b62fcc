"""The suite never depends on the analyst's live folders: data/raw, data/processed and reports/.

``make test`` must stay green when an analyst adds a 2020 folder or a second county to ``data/raw``. The
guard in ``tests/conftest.py`` refuses every access to those folders; these tests show that it does, and
run the sample-data tests in a copy of the repository whose ``data/raw`` holds more than the shipped data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest
from tests.builders import REPO

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it


@pytest.mark.parametrize("folder", ["data/raw", "data/processed", "reports"])
def test_a_live_folder_is_refused_and_recorded(folder: str) -> None:
    target = REPO / folder / "通许县" / "2019" / "any.xlsx"
    before = len(conftest.touched)
    with pytest.raises(PermissionError, match="live data folders"):
        target.open("rb")
    with pytest.raises(PermissionError):
        os.listdir(REPO / folder)
    assert list((REPO / folder).glob("*")) == []  # pathlib swallows the refusal: only the record shows it
    with pytest.raises(PermissionError):
        subprocess.run([sys.executable, "-c", "pass", str(target)], check=False)
    recorded = conftest.touched[before:]
    assert len(recorded) == 4 and all(folder in entry for entry in recorded)
    del conftest.touched[before:]  # acknowledged here, so the autouse check lets this test pass


def test_relative_paths_count_from_the_working_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert conftest.is_live("data/raw/通许县")
    assert conftest.is_live(os.path.join("data", "processed"))
    assert not conftest.is_live("data/rawfile.txt")
    assert not conftest.is_live("tests/data/tongxu_2019_indicators.csv")
    assert not conftest.is_live(":(top)data/raw")  # a git pathspec, not a path


def test_a_test_that_swallows_the_refusal_still_fails(tmp_path: Path) -> None:
    """Code under test may catch OSError (ingest does, for unreadable files): the record still fails it."""
    copy = _repo_copy(tmp_path)
    (copy / "tests" / "test_swallow.py").write_text(
        "from tests.builders import REPO\n\n"
        "def test_reads_live():\n"
        "    try:\n"
        "        (REPO / 'data' / 'raw' / 'x.xlsx').read_bytes()\n"
        "    except OSError:\n"
        "        pass\n",
        encoding="utf-8",
    )
    run = _pytest(copy, "tests/test_swallow.py")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "touched the live data folders" in run.stdout


def test_sample_data_tests_pass_with_more_data_in_the_live_raw_folder(tmp_path: Path) -> None:
    """An analyst's additions (another year, another county, templates, a stray copy) change nothing."""
    copy = _repo_copy(tmp_path)
    live = copy / "data" / "raw"
    shipped = live / "通许县" / "2019"
    shutil.copytree(shipped, live / "通许县" / "2020")
    shutil.copytree(shipped, live / "杞县" / "2019")
    (shipped / "水利局 (1).xlsx").write_bytes((shipped / "县水利局.xlsx").read_bytes())
    template = subprocess.run(
        [sys.executable, "-m", "analysis", "template", "--region", "杞县", "--year", "2020"]
        + ["--out", str(live / "杞县" / "2020")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert template.returncode == 0, template.stderr
    run = _pytest(copy, "tests/test_sample_data.py")
    assert run.returncode == 0, run.stdout[-4000:]
    assert " passed" in run.stdout and " failed" not in run.stdout


def _repo_copy(tmp_path: Path) -> Path:
    """tests/, scripts/ and pyproject.toml in a new folder whose data/raw holds the shipped sample data."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    shutil.copytree(REPO / "tests", copy / "tests", ignore=ignore)
    shutil.copytree(REPO / "scripts", copy / "scripts", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    from tests.builders import write_sample_data

    write_sample_data(copy / "data" / "raw")
    return copy


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *args]
    # a temporary folder of its own: a nested pytest that cleans the shared /tmp/pytest-of-<user> races the
    # outer run's clean-up ("Directory not empty"), and what neither removes piles up there
    command += ["--basetemp", str(root.parent / f"{root.name}-pytest-tmp")]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600)
