"""Warm workers and incremental runs (issue 10): no state passes from one notebook to the next although the
worker stays; a report is rebuilt only when its data, the notebooks, the program or the parameters changed
(content hashes, never timestamps), and says why; a failed or interrupted build never looks done; a run
that reuses everything imports neither papermill nor nbconvert nor plotly. Small notebooks written here
(the real ones run in test_site.py and test_browser.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from analysis import cli
from analysis.core import names
from analysis.core.store import EXPECT_ENV
from analysis.execute import forkserver
from analysis.report import batch, builds, publish
from tests import fixtures_processed as fp
from tests.test_batch import GOOD, outputs_text, write_notebook, write_processed

pytestmark = pytest.mark.slow  # builds reports or starts kernels: make test-quick skips it

REGIONS = ("通许县", "杞县")
ONLY = ["disputes.mediation_cases", "functions.power_items_before"]


def two_regions(folder: Path, mediation: float = 100.0) -> Path:
    """Processed tables with two regions of 2019 (so the year has a comparison page)."""
    table = fp.frame(
        fp.rows(region="通许县", only=ONLY),
        fp.rows(region="杞县", values={"disputes.mediation_cases": mediation}),
    )
    return write_processed(folder, table, fp.empty_issues())


@pytest.fixture(scope="module")
def workers():
    """One warm worker for the runs of this module that end normally (each notebook still gets a kernel
    of its own): the decisions tested here do not depend on the worker being new, and a worker's start
    (its imports and its fork server) is most of a small run's cost. Runs that stop half-way (a failure
    while publishing) use their own workers, as ``run`` does by default, so nothing of theirs lingers."""
    from analysis.execute.pool import NotebookPool

    pool = NotebookPool(1)
    yield pool
    pool.shutdown()


@pytest.fixture
def setup(tmp_path: Path, workers) -> dict:
    books = tmp_path / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD)
    write_notebook(books / "02_second.ipynb", "print('二')")
    write_notebook(books / "site" / "地区对比.ipynb", "print(year)")
    return {
        "processed": two_regions(tmp_path / "processed"),
        "books": books,
        "reports": tmp_path / "reports",
        "root": tmp_path,
        "executor": workers,
    }


def run(setup: dict, region: str = "all", **kwargs) -> tuple[dict, list[str]]:
    said: list[str] = []
    results = batch.run_batch(
        region,
        "all",
        kwargs.pop("processed", setup["processed"]),
        setup["reports"],
        notebooks_dir=setup["books"],
        workers=kwargs.pop("workers", 1),
        executor=kwargs.pop("executor", setup.get("executor")),
        timeout=60,
        say=said.append,
        **kwargs,
    )
    return {(r.target.region, r.target.year): r for r in results}, said


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- warm workers --------------------------------------------------------------------------------------

DEFINES = """
import json, os, sys
import analysis.core.formatting as formatting
LEAKED = "变量"
formatting.LEAKED = "模块全局"
os.environ["FAZHI_LEAKED"] = "环境"
parent = f"/proc/{os.getppid()}/cmdline"
command = open(parent, "rb").read().decode().split("\\0") if os.path.exists(parent) else []
print(json.dumps({"pid": os.getpid(), "worker": os.getppid(), "parent": command}))
"""

LOOKS = """
import json, os, sys
preloaded = "pandas" in sys.modules and "analysis.core.formatting" in sys.modules
unneeded = "analysis.explore.nb" in sys.modules or "plotly" in sys.modules
import analysis.core.formatting as formatting
parent = f"/proc/{os.getppid()}/cmdline"
command = open(parent, "rb").read().decode().split("\\0") if os.path.exists(parent) else []
print(json.dumps({"pid": os.getpid(), "worker": os.getppid(), "parent": command, "variable": "LEAKED" in globals(),
                  "module": hasattr(formatting, "LEAKED"), "env": "FAZHI_LEAKED" in os.environ,
                  "preloaded": preloaded, "unneeded": unneeded}))
"""


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_nothing_passes_between_notebooks_in_one_worker(tmp_path: Path, start: str, monkeypatch) -> None:
    """One worker runs both notebooks (same parent process), each on its own kernel (another pid): the
    variable, the module global and the environment variable of the first are not seen by the second,
    whose kernel had imported what that notebook imports (and only that) before it was handed it. The
    same with kernels forked from the worker's warm server (``FAZHI_KERNEL_START=fork``, POSIX): their
    parent is then that server."""
    if start == "fork" and not forkserver.fork_enabled({forkserver.ENV: "fork"}):
        pytest.skip("no fork here")
    monkeypatch.setenv(forkserver.ENV, start)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if paths:  # a relative entry is never forked from (it would resolve elsewhere in a kernel)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(os.path.abspath(p) for p in paths))
    processed = write_processed(tmp_path / "processed")
    books = tmp_path / "nb"
    write_notebook(books / "01_defines.ipynb", DEFINES)
    write_notebook(books / "02_looks.ipynb", LOOKS)
    write_notebook(books / "03_looks_again.ipynb", LOOKS)
    [report] = batch.run_batch("通许县", 2019, processed, tmp_path / "r", notebooks_dir=books, workers=1)
    assert [r.status for r in report.results] == ["ok", "ok", "ok"]
    executed = report.folder / "notebooks"
    first = json.loads(outputs_text(executed / "01_defines.ipynb"))
    seen = [json.loads(outputs_text(executed / name)) for name in ("02_looks.ipynb", "03_looks_again.ipynb")]
    assert {s["worker"] for s in seen} == {first["worker"]}  # one long-lived worker (or its server)
    assert len({first["pid"], *(s["pid"] for s in seen)}) == 3  # three kernels
    if first["parent"]:
        module = "analysis.execute.forkserver" if start == "fork" else "analysis.execute.pool"
        assert all(module in s["parent"] for s in (first, *seen))
    for s in seen:
        assert (s["variable"], s["module"], s["env"]) == (False, False, False)
        assert s["preloaded"] is True  # what the notebook imports, before its first cell ran
        assert s["unneeded"] is False  # and nothing it does not import


@pytest.mark.parametrize(
    ("imports", "ahead"),
    [
        ([], []),  # a notebook that imports nothing: a bare kernel
        (["json", "pathlib"], ["json", "pathlib"]),
        (["analysis.explore.nb", "json"], ["pandas", "pyarrow.parquet", "analysis.explore.nb", "json"]),
        (["pandas", "analysis.core.formatting"], ["pandas", "pyarrow.parquet", "analysis.core.formatting"]),
        (["analysis_other"], ["analysis_other"]),  # another package whose name starts the same
    ],
)
def test_a_kernel_imports_ahead_only_what_its_notebook_needs(imports: list[str], ahead: list[str]) -> None:
    """The table reader's modules come ahead only for a notebook that imports the project."""
    from analysis.execute.runner import kernel_imports
    from analysis.report.dispatch import PRELOAD

    assert kernel_imports(imports, (), PRELOAD) == ahead


def test_any_executor_runs_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_batch`` takes a ``concurrent.futures.Executor``: here threads of this process, giving the same
    report files as the default warm workers, and leaving this process's environment and working folder as
    they were: each kernel starts in its notebook's folder, nothing changes the folder of the process (a
    ``chdir`` in one thread would move every other thread, and the test process, along with it)."""
    processed = write_processed(tmp_path / "processed")
    books = tmp_path / "nb"
    write_notebook(books / "01_good.ipynb", GOOD)
    write_notebook(books / "02_second.ipynb", GOOD)
    before = os.environ.get(EXPECT_ENV)
    here, moved = os.getcwd(), []
    monkeypatch.setattr(os, "chdir", lambda path: moved.append(str(path)))  # papermill's chdir restores too
    with ThreadPoolExecutor(2) as threads:  # two notebooks side by side in this process
        [report] = batch.run_batch(
            "通许县", 2019, processed, tmp_path / "threads", notebooks_dir=books, executor=threads
        )
    monkeypatch.undo()
    assert os.environ.get(EXPECT_ENV) == before  # each kernel got the manifest; this process did not
    assert set(moved) <= {here}  # at most "back to where it was": never into a notebook's folder
    [default] = batch.run_batch("通许县", 2019, processed, tmp_path / "pool", notebooks_dir=books)
    assert [r.ok for r in report.results] == [True, True] and default.results[0].ok
    assert set(files(report.folder)) == set(files(default.folder))


# --- incremental runs ----------------------------------------------------------------------------------


def test_an_unchanged_rerun_reuses_every_report_and_says_so(setup: dict) -> None:
    first, said = run(setup)
    assert {k: r.reasons for k, r in first.items()} == {
        ("通许县", 2019): [builds.FIRST],
        ("杞县", 2019): [builds.FIRST],
        (names.REGIONS, 2019): [builds.FIRST],
    }
    folder = setup["reports"] / "通许县" / "2019"
    assert (folder / builds.BUILD_FILE).is_file()
    before = {k: files(r.folder) for k, r in first.items()}
    site_before = (setup["reports"] / "index.html").read_bytes()
    second, said = run(setup)
    assert all(r.reused and r.results == [] for r in second.values())
    assert {k: files(r.folder) for k, r in second.items()} == before  # not one byte rewritten
    assert (setup["reports"] / "index.html").read_bytes() == site_before
    assert sum("沿用上次的报告" in line for line in said) == 3
    lines = cli.summary_lines(list(second.values()))
    assert "通许县 2019 年：未变化，沿用上次的报告（2 个页面）。" in lines


def test_a_changed_region_reruns_with_its_comparison_only(setup: dict) -> None:
    run(setup)
    two_regions(setup["processed"], mediation=101.0)  # 杞县 resends one figure
    again, said = run(setup)
    assert again[("通许县", 2019)].reused
    assert again[("杞县", 2019)].reasons == ["数据变化"]
    assert again[(names.REGIONS, 2019)].reasons == ["数据变化"]
    assert any(line.startswith("杞县 2019 年：运行 2 个笔记本（原因：数据变化") for line in said)


def reasons(setup: dict, region: str = "all", **kwargs) -> dict:
    """Why each report would be built now (``[]``: reused), from :func:`batch.plan_batch`: the decision
    alone, without building anything."""
    plan = batch.plan_batch(
        region,
        "all",
        kwargs.pop("processed", setup["processed"]),
        setup["reports"],
        notebooks_dir=kwargs.pop("books", setup["books"]),
        **kwargs,
    )
    return {(t.region, t.year): d.reasons for t, d in plan.reports}


@pytest.fixture(scope="module")
def built(tmp_path_factory, workers) -> dict:
    """One build of the two regions and their comparison page, shared by the tests that only ask what the
    next run would do (they change copies, never this folder)."""
    root = tmp_path_factory.mktemp("built")
    books = root / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD)
    write_notebook(books / "02_second.ipynb", "print('二')")
    write_notebook(books / "site" / "地区对比.ipynb", "print(year)")
    shared = {"processed": two_regions(root / "processed"), "books": books, "reports": root / "reports"}
    run(shared, executor=workers)
    return shared


def test_a_built_report_is_current(built: dict) -> None:
    assert reasons(built) == {("通许县", 2019): [], ("杞县", 2019): [], (names.REGIONS, 2019): []}


def test_notebook_program_parameters_and_force_are_reasons(built: dict, monkeypatch, tmp_path) -> None:
    """Each input alone makes the report be built again, with its reason (the comparison page follows its
    regions). The decision is read from the plan: nothing is built."""
    books = tmp_path / "books"
    shutil.copytree(built["books"], books)
    write_notebook(books / "02_second.ipynb", "print('改过的')")
    assert reasons(built, region="通许县", books=books) == {("通许县", 2019): ["笔记本变化"]}
    copy = tmp_path / "copy-of-processed"
    shutil.copytree(built["processed"], copy)  # same content, another folder: a parameter of the notebooks
    assert reasons(built, region="通许县", processed=copy) == {("通许县", 2019): ["参数变化"]}
    assert reasons(built, force=True)[(names.REGIONS, 2019)] == ["--force"]
    monkeypatch.setattr(builds, "program_digest", lambda: "另一个版本")
    assert reasons(built) == {
        ("通许县", 2019): ["程序变化"],
        ("杞县", 2019): ["程序变化"],
        (names.REGIONS, 2019): ["程序变化"],
    }


def test_a_report_built_with_new_parameters_is_then_current(setup: dict) -> None:
    """After a build with other parameters, the record holds them: the next run reuses the report."""
    run(setup, region="通许县")
    copy = setup["root"] / "copy-of-processed"
    shutil.copytree(setup["processed"], copy)
    assert run(setup, region="通许县", processed=copy)[0][("通许县", 2019)].reasons == ["参数变化"]
    assert reasons(setup, region="通许县", processed=copy) == {("通许县", 2019): []}


def test_timestamps_alone_change_nothing(built: dict) -> None:
    for path in [*built["books"].rglob("*.ipynb"), *built["processed"].iterdir()]:
        path.touch()
    assert reasons(built) == {("通许县", 2019): [], ("杞县", 2019): [], (names.REGIONS, 2019): []}


def test_a_report_with_a_failed_notebook_is_never_done(setup: dict) -> None:
    write_notebook(setup["books"] / "03_raises.ipynb", 'raise ValueError("坏")')
    first, _ = run(setup, region="通许县")
    folder = first[("通许县", 2019)].folder
    assert first[("通许县", 2019)].failed and not (folder / builds.BUILD_FILE).exists()
    again, said = run(setup, region="通许县")
    assert again[("通许县", 2019)].reasons == [builds.UNFINISHED]
    assert any("上次未完成" in line for line in said)


def test_a_build_stopped_while_publishing_leaves_no_record(setup: dict, monkeypatch) -> None:
    """The record goes before anything new is published and comes back last: a run that stops half-way
    (here the disk fills up while publishing) leaves a folder that does not look done."""
    run(setup, region="通许县")
    folder = setup["reports"] / "通许县" / "2019"
    real = publish.publish

    def half(stage, target, keep_figures):
        (stage / "index.html").unlink()  # some files moved, then the run stops
        real(stage, target, keep_figures)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish, "publish", half)
    with pytest.raises(OSError):
        run(setup, region="通许县", force=True, executor=None)  # stops half-way: workers of its own
    assert not (folder / builds.BUILD_FILE).exists()
    monkeypatch.setattr(publish, "publish", real)
    assert run(setup, region="通许县")[0][("通许县", 2019)].reasons == [builds.UNFINISHED]


def test_a_report_whose_finishing_step_fails_is_not_published(setup: dict, monkeypatch) -> None:
    """The finishing steps (workbook, index, draft, font) run in a worker on the staged folder: when one
    fails (here the font: disk full) that report is not published, its folder and record stay exactly as
    they were (the old report, for the old data), the run says why, the comparison page is
    built as usual, and the next run builds the report again because its data changed."""
    from analysis.site import static

    run(setup)
    folder = setup["reports"] / "杞县" / "2019"
    before = files(folder)
    two_regions(setup["processed"], mediation=250.0)  # 杞县's data changes
    real = static.write_font

    def full_for_qixian(report_dir, pages):
        if "杞县" in str(report_dir):
            raise OSError(28, "No space left on device")
        return real(report_dir, pages)

    monkeypatch.setattr(static, "write_font", full_for_qixian)
    with ThreadPoolExecutor(2) as threads:  # the steps run in this process, where the patch holds
        results, said = run(setup, executor=threads)
    failed = results[("杞县", 2019)]
    assert "样式与网页字体" in failed.error and "No space left on device" in failed.error
    assert any("本次报告未发布" in line for line in said)
    assert files(folder) == before
    assert not results[(names.REGIONS, 2019)].error and results[(names.REGIONS, 2019)].reasons
    assert any("未发布" in line for line in cli.summary_lines([failed]))
    monkeypatch.setattr(static, "write_font", real)
    assert run(setup, region="杞县")[0][("杞县", 2019)].reasons == ["数据变化"]


def test_reports_published_before_a_later_one_failed_are_recorded(setup: dict, monkeypatch) -> None:
    """Each report is completed (font, record) once the next one is published, and still when a later
    one fails: here the comparison page, built last, cannot be published."""
    real = publish.publish

    def full_for_the_comparison(stage, target, keep_figures):
        if target.parent.resolve() == setup["reports"].resolve():  # reports/2019, not reports/<地区>/2019
            raise OSError(28, "No space left on device")
        real(stage, target, keep_figures)

    monkeypatch.setattr(publish, "publish", full_for_the_comparison)
    with pytest.raises(OSError):
        run(setup, executor=None)  # stops half-way: workers of its own
    for region in REGIONS:
        assert (setup["reports"] / region / "2019" / builds.BUILD_FILE).is_file(), region
        assert (setup["reports"] / region / "2019" / "assets" / "cjk-subset.woff").is_file(), region
    assert not (setup["reports"] / "2019" / builds.BUILD_FILE).exists()


def test_a_pool_starts_a_kernel_only_for_a_notebook_that_follows() -> None:
    """A worker starts a spare kernel for the next queued job only when that job runs a notebook: not for
    the end ``close`` queues, nor for a finishing step, which also goes ahead of queued notebooks."""
    from analysis.execute import pool as pool_module
    from analysis.execute.runner import execute_one
    from analysis.report import steps

    pool = pool_module.NotebookPool(1)
    pool._jobs.put(pool_module.END)
    assert pool._next_notebook() is None
    notebook = {
        "call": pool_module.call_name(execute_one),
        "input": "x.ipynb",
        "kernel_name": "k",
        "cwd": "/",
    }
    notebook["preload"] = ["a"]
    pool._jobs.put((1, 1, (notebook, None)))
    assert pool._next_notebook() == {"kernel_name": "k", "cwd": "/", "preload": ["a"], "env": {}}
    pool._jobs.put((0, 2, ({"call": pool_module.call_name(steps.finish_report)}, None)))
    assert pool._next_notebook() is None  # the finishing step is next
    pool.shutdown()


def test_a_new_workers_first_job_starts_the_next_kernel_ahead(monkeypatch) -> None:
    """The next notebook is looked for once the worker is launched: jobs the caller queued meanwhile (it
    hands out a report's notebooks together) are seen, so the first notebook's kernel is not the only one
    started ahead of its notebook."""
    import threading

    from analysis.execute import pool as pool_module
    from analysis.execute.runner import execute_one

    launched, release = threading.Event(), threading.Event()

    class Worker:  # a worker process that takes a moment to launch
        def __init__(self, *args):
            launched.set()
            release.wait(30)

        def alive(self) -> bool:
            return True

        def run(self, job: dict) -> dict:
            return {"prestart": job["prestart"]}

        def close(self) -> None:
            pass

    monkeypatch.setattr(pool_module, "_Worker", Worker)
    pool = pool_module.NotebookPool(1)
    jobs = [{"input": f"{n}.ipynb", "kernel_name": "k", "cwd": "/", "preload": [str(n)]} for n in range(3)]
    first = pool.submit(execute_one, jobs[0])
    assert launched.wait(30)
    rest = [pool.submit(execute_one, job) for job in jobs[1:]]  # queued while the worker launches
    release.set()
    assert first.result(30)["prestart"] == {"kernel_name": "k", "cwd": "/", "preload": ["1"], "env": {}}
    assert rest[0].result(30)["prestart"]["preload"] == ["2"]
    assert rest[1].result(30)["prestart"] is None  # nothing follows the last one
    pool.shutdown()


def test_the_draft_is_queued_after_its_reports_notebooks_not_after_they_end(tmp_path: Path) -> None:
    """The Word draft reads only the tables: it is queued right behind its report's notebooks, at their
    priority (a worker takes it while the last notebooks run); the steps that read the notebooks' results
    (missing pages, index, font; a comparison page's steps) wait for them."""
    import contextlib
    from concurrent.futures import Future

    from analysis.report import dispatch, steps
    from analysis.report.targets import Target

    class Recorder:  # an executor that runs nothing: what was submitted, in order
        def __init__(self):
            self.jobs: list[tuple[str, dict]] = []

        def submit(self, fn, job):
            self.jobs.append((fn.__name__, job))
            return Future()

    recorder = Recorder()
    notebooks = [write_notebook(tmp_path / "nb" / f"{name}.ipynb", GOOD) for name in ("a", "b")]
    settings = dispatch.Settings(
        processed=tmp_path / "processed",
        notebooks=notebooks,
        comparison=notebooks[0],
        timeout=60,
        kernel_name="k",
        say=lambda line: None,
        env={EXPECT_ENV: "digest"},
    )
    folder = tmp_path / "reports" / "县" / "2019"
    with contextlib.ExitStack() as stack:
        build = dispatch._start(
            stack, Target("县", 2019), builds.Decision(folder, {}, ["--force"]), settings, recorder, False
        )
    queued = [(name, job.get("steps"), job.get("priority", 1)) for name, job in recorder.jobs]
    assert queued == [("run_notebook", None, 1), ("run_notebook", None, 1), ("finish_report", ["draft"], 1)]
    assert list(build.early) == [steps.finishing_jobs(False).index(["draft"])] and not build.finishing
    assert steps.needs_results(steps.finishing_jobs(False)[0])
    assert all(steps.needs_results(names) for names in steps.finishing_jobs(True))


def test_a_missing_page_is_rebuilt(built: dict, tmp_path: Path) -> None:
    copied = {**built, "reports": tmp_path / "reports"}
    shutil.copytree(built["reports"], copied["reports"])
    (copied["reports"] / "通许县" / "2019" / "02_second.html").unlink()
    assert reasons(copied, region="通许县") == {("通许县", 2019): [builds.MISSING_FILES]}


def test_a_reusing_run_imports_no_notebook_machinery(built: dict) -> None:
    """The command line, as a user runs it: nothing changed, so papermill, nbconvert and plotly stay out."""
    setup = built
    script = (
        "import json, sys\n"
        "from analysis.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = ('papermill', 'nbconvert', 'nbclient', 'plotly', 'matplotlib', 'jupyter_client', 'pandera')\n"
        "print(json.dumps({'code': code, 'heavy': [m for m in heavy if m in sys.modules]}))\n"
    )
    args = ["run", "--region", "all", "--year", "all", "--processed", str(setup["processed"])]
    args += ["--reports", str(setup["reports"]), "--notebooks", str(setup["books"])]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
    *lines, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 0, "heavy": []}, done.stderr
    assert "沿用 3 份" in lines[-1]


def test_reading_the_tables_imports_no_validator(setup: dict) -> None:
    """pandera (about 0.3 s to import) checks the tables before a write; a kernel that only reads them,
    as every notebook does, never imports it."""
    script = (
        "import json, sys\n"
        "import analysis.explore.nb\n"
        "from analysis.core.store import read_indicators, read_issues\n"
        f"rows = len(read_indicators({str(setup['processed'])!r})) + len(read_issues({str(setup['processed'])!r}))\n"
        "print(json.dumps({'rows': rows > 0, 'pandera': 'pandera' in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"rows": True, "pandera": False}, done.stderr
