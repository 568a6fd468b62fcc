"""A notebook run and saved in JupyterLab (outputs, execution counts, timings, the kernel's version details)
costs nothing (issue 21): the rebuild decision reuses every report, and with the git filter `make lab`
installs, ``git status`` stays clean and a commit carries no outputs. The decision is read from
:func:`batch.plan_batch`; nothing is built."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager

from analysis.core import names
from analysis.execute import clean
from analysis.report import batch, builds
from tests import fixtures_processed as fp
from tests.test_batch import write_processed

ROOT = Path(__file__).resolve().parents[1]
PLOTLY_OUTPUT = "<div>" + "plotly.js " * 20000 + "</div>"


def lab_save(path: Path) -> None:
    """What a front end without the project's hook writes after "run all" and save."""
    nb = nbformat.read(path, as_version=4)
    lab_run(nb)
    nbformat.write(nb, path)


def lab_run(nb: dict) -> None:
    """What running every cell in JupyterLab adds: outputs, counts, UI metadata, language details."""
    count = 0
    for cell in nb["cells"]:
        cell.metadata["jupyter"] = {"source_hidden": False}
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.metadata["execution"] = {
            "iopub.execute_input": "2026-12-02T03:00:00.000Z",
            "shell.execute_reply": "x",
        }
        cell.metadata["scrolled"] = True
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="输出\n"),
            nbformat.v4.new_output("display_data", data={"text/html": PLOTLY_OUTPUT, "text/plain": "图"}),
        ]
    nb["metadata"]["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "version": "3.11.2",
    }
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}


def lab_pre_save_hook(venv: Path) -> str:
    """The pre-save hook ``make lab`` hands JupyterLab."""
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "lab", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return re.search(r"--ContentsManager\.pre_save_hook=(\S+)", shown).group(1)


def copy_notebooks(target: Path) -> Path:
    shutil.copytree(ROOT / "notebooks", target, ignore=shutil.ignore_patterns("output", ".ipynb_checkpoints"))
    return target


def reasons(processed: Path, reports: Path, books: Path) -> dict:
    plan = batch.plan_batch("all", "all", processed, reports, notebooks_dir=books)
    return {(t.region, t.year): d.reasons for t, d in plan.reports}


def test_the_shipped_notebooks_are_stored_stripped() -> None:
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if "output" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        data = path.read_bytes()
        assert clean.strip_bytes(data) == data, path


def test_a_hand_run_in_lab_reuses_every_report(tmp_path: Path) -> None:
    books = copy_notebooks(tmp_path / "notebooks")
    processed = write_processed(
        tmp_path / "processed",
        fp.frame(fp.rows(region="通许县"), fp.rows(region="杞县", values={"disputes.mediation_cases": 5.0})),
        fp.empty_issues(),
    )
    reports = tmp_path / "reports"
    plan = batch.plan_batch("all", "all", processed, reports, notebooks_dir=books)
    assert len(plan.reports) == 3  # two reports and the comparison page
    for target, decision in plan.reports:  # as a finished build leaves them
        decision.folder.mkdir(parents=True, exist_ok=True)
        page = names.COMPARISON_PAGE if target.region == names.REGIONS else names.INDEX
        (decision.folder / page).write_text("页面", encoding="utf-8")
        builds.record(decision.folder, decision.inputs, [])
    assert all(r == [] for r in reasons(processed, reports, books).values())

    saved = sorted(books.rglob("*.ipynb"))
    before = {p: p.stat().st_size for p in saved}
    for path in saved:
        lab_save(path)
    assert all(p.stat().st_size > before[p] * 10 for p in saved if "探索" not in p.name)
    assert all(r == [] for r in reasons(processed, reports, books).values())

    # an edited cell still counts, and so does the parameters tag
    nb = nbformat.read(books / "03_powers.ipynb", as_version=4)
    nb.cells[-1].source += "\n# 改过"
    nbformat.write(nb, books / "03_powers.ipynb")
    after = reasons(processed, reports, books)
    assert after[("通许县", 2019)] == after[("杞县", 2019)] == ["笔记本变化"]


def test_report_content_ignores_only_what_a_front_end_adds() -> None:
    data = (ROOT / "notebooks" / "03_powers.ipynb").read_bytes()
    nb = json.loads(data)
    base = clean.report_content(data)
    untagged = json.loads(data)
    untagged["cells"][0]["metadata"]["tags"] = []
    other_kernel = json.loads(data)
    other_kernel["metadata"]["kernelspec"]["name"] = "python3"
    as_markdown = json.loads(data)
    as_markdown["cells"][2]["cell_type"] = "code"
    side_by_side = json.loads(data)  # a layout tag changes the page
    side_by_side["cells"][3]["metadata"]["tags"] = ["side-by-side"]
    for changed in (untagged, other_kernel, as_markdown, side_by_side):
        assert clean.report_content(json.dumps(changed).encode()) != base
    nb["cells"][0]["metadata"]["tags"] = ["parameters", "parameters"]  # the same set of tags
    nb["cells"][1]["metadata"].update(
        {"collapsed": True, "scrolled": True, "jupyter": {"source_hidden": True}}
    )
    nb["cells"][2]["execution_count"] = 7
    nb["metadata"]["language_info"]["version"] = "3.12"
    assert clean.report_content(json.dumps(nb).encode()) == base
    assert clean.strip_bytes(b"<<<<<<< HEAD\n") == b"<<<<<<< HEAD\n"  # a conflict passes through


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="git 或 make 未安装")
def test_with_the_make_lab_filter_git_status_stays_clean(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT / "src"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "分析员",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "分析员",
        "GIT_COMMITTER_EMAIL": "a@example.org",
    }

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q")
    for name in (".gitattributes", ".gitignore"):
        shutil.copy(ROOT / name, repo / name)
    copy_notebooks(repo / "notebooks")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    made = subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "git-filter", f"VENV={venv}"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert "git 过滤器" in made.stdout
    git("add", "-A")
    git("commit", "-q", "-m", "notebooks")

    hook = lab_pre_save_hook(venv)
    manager = FileContentsManager(root_dir=str(repo / "notebooks"), pre_save_hook=hook)
    for path in sorted((repo / "notebooks").rglob("*.ipynb")):
        name = path.relative_to(repo / "notebooks").as_posix()
        model = manager.get(name)  # as Lab opens it, runs every cell, then saves (autosave does too)
        lab_run(model["content"])
        manager.save(model, name)
    assert git("status", "--porcelain") == ""

    # saved by another tool, outputs and all: a commit still carries none
    lab_save(repo / "notebooks" / "03_powers.ipynb")
    # a new notebook with outputs is committed without them
    assert "plotly.js" in (repo / "notebooks" / "03_powers.ipynb").read_text(encoding="utf-8")
    shutil.copy(repo / "notebooks" / "03_powers.ipynb", repo / "notebooks" / "09_mine.ipynb")
    git("add", "notebooks/09_mine.ipynb")
    stored = json.loads(git("show", ":notebooks/09_mine.ipynb"))
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in stored["cells"])
    assert "widgets" not in stored["metadata"]
