"""The notebook batch: parameter validation, failures in one notebook, kernel retries, locking, kills,
and the summary workbook. Notebooks here are small ones written by the tests (the real notebooks run in
test_browser.py)."""

from __future__ import annotations

import html
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import cli
from analysis.core import names
from analysis.core.fileio import output_lock
from analysis.core.names import DRAFT_RECORD
from analysis.core.store import write_tables
from analysis.execute import forkserver
from analysis.report import batch, dispatch, summary, targets
from analysis.report.targets import BatchError, Target
from tests import fixtures_processed as fp

PARAMS_CELL = 'region = "通许县"\nyear = 2019\nprocessed_dir = "../data/processed"\noutput_dir = "out"'

GOOD = """
import json, pathlib
figures = pathlib.Path(output_dir) / "figures"
figures.mkdir(parents=True, exist_ok=True)
(figures / f"{region}_{year}.txt").write_text("图", encoding="utf-8")
print(json.dumps({k: [v, type(v).__name__] for k, v in
                  dict(region=region, year=year, processed_dir=processed_dir, output_dir=output_dir).items()},
                 ensure_ascii=False))
"""


def write_notebook(path: Path, *cells: str, title: str = "测试笔记本") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "fazhi-analysis",
        "display_name": "法治政府分析 (Python 3)",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(PARAMS_CELL, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell(f"# {title}"),
        *(nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_processed(
    folder: Path, indicators: pd.DataFrame | None = None, issues: pd.DataFrame | None = None
) -> Path:
    write_tables(
        folder,
        fp.spec_frame() if indicators is None else indicators,
        fp.issues() if issues is None else issues,
    )
    return folder


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    return write_processed(tmp_path_factory.mktemp("processed"))


def outputs_text(nb_path: Path) -> str:
    return outputs_text_of(nbformat.read(nb_path, as_version=4))


def outputs_text_of(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


# --- parameters ------------------------------------------------------------------------------------


def test_year_must_be_four_digits_in_range():
    assert targets.parse_year("2019") == 2019
    assert targets.parse_year(2020) == 2020
    for bad in ("19", "二〇一九", "2019.0", "2019; import os", "", "1900", "2101", "02019", True):
        with pytest.raises(BatchError, match="年度"):
            targets.parse_year(bad)


@pytest.mark.parametrize(
    "name", ["..", "../x", "a/b", "a\\b", "/etc", "C:盘", "\x00县", "县\n名", ".隐藏", ""]
)
def test_region_names_that_could_escape_the_output_folder_are_refused(name):
    with pytest.raises(BatchError, match="地区"):
        targets.check_region(name)


def test_resolve_targets_all_and_one():
    table = pd.concat(
        [fp.history_frame(), fp.frame(fp.rows(region="007", only=["disputes.mediation_cases"]))]
    )
    every = targets.resolve_targets("all", "all", table)
    assert every == [
        Target("007", 2019),
        Target("杞县", 2019),
        Target("通许县", 2018),
        Target("通许县", 2019),
    ]
    assert targets.resolve_targets("通许县", "all", table) == [Target("通许县", 2018), Target("通许县", 2019)]
    assert targets.resolve_targets("all", "2018", table) == [Target("通许县", 2018)]
    assert targets.resolve_targets("007", "2019", table) == [Target("007", 2019)]  # stays a string
    with pytest.raises(BatchError, match="没有地区“兰考县”.*通许县"):
        targets.resolve_targets("兰考县", "2019", table)
    with pytest.raises(BatchError, match="没有 2017 年的数据.*2018、2019"):
        targets.resolve_targets("通许县", "2017", table)


def test_cli_refuses_bad_requests_with_exit_status_2(processed, tmp_path, capsys):
    reports = tmp_path / "reports"
    for region, year, message in [
        ("兰考县", "2019", "数据中没有地区"),
        ("通许县", "2019x", "年度"),
        ("../../etc", "2019", "不能使用"),
        ("通许县", "2030", "没有 2030 年"),
    ]:
        code = cli.run_reports(region=region, year=year, processed=processed, reports=reports)
        assert code == 2
        assert message in capsys.readouterr().err
    assert not reports.exists()  # nothing was written
    missing = cli.run_reports(region="all", year="all", processed=tmp_path / "nowhere", reports=reports)
    assert missing == 2 and "ingest" in capsys.readouterr().err


def test_report_folder_stays_inside_reports(tmp_path):
    assert targets.report_folder(tmp_path, Target("通许县", 2019)) == (tmp_path / "通许县" / "2019").resolve()
    with pytest.raises(BatchError):
        targets.report_folder(tmp_path, Target("..", 2019))


# --- one notebook failing does not stop the others ---------------------------------------------------


@pytest.fixture(scope="module", params=["fork", "spawn"])
def failing_run(request, tmp_path_factory, processed):
    """One batch over a good notebook and three that fail: raising, kernel death, a hanging cell; once
    with kernels forked from the workers' warm servers (the POSIX default), once spawned
    (``FAZHI_KERNEL_START=spawn``, as on Windows): the failures are reported the same way on both."""
    if request.param == "fork" and not forkserver.fork_enabled({}):
        pytest.skip("no fork here")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(forkserver.ENV, request.param)
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if paths:  # a relative entry is never forked from (it would resolve elsewhere in a kernel)
            patch.setenv("PYTHONPATH", os.pathsep.join(os.path.abspath(p) for p in paths))
        yield _failing_run(tmp_path_factory.mktemp(f"failing-{request.param}"), processed)


def _failing_run(root: Path, processed: Path):
    books = root / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD, "print('第二个单元格')", title="正常的笔记本")
    write_notebook(books / "02_raises.ipynb", "x = 1", 'raise ValueError("坏数据")', "print('不应运行')")
    write_notebook(books / "03_dies.ipynb", "import os\nos._exit(1)")
    write_notebook(books / "04_hangs.ipynb", "import time", "time.sleep(120)")
    (books / "05_broken.ipynb").write_text("{ 不是笔记本", encoding="utf-8")
    said: list[str] = []
    results = batch.run_batch(
        "通许县",
        "2019",
        processed,
        root / "reports",
        notebooks_dir=books,
        workers=2,
        timeout=5,
        say=said.append,
    )
    return results[0], said


def test_failures_are_reported_with_notebook_and_cell(failing_run):
    report, said = failing_run
    status = {r.stem: r for r in report.results}
    assert [status[s].status for s in ("01_good", "02_raises", "03_dies", "04_hangs", "05_broken")] == [
        "ok",
        "error",
        "dead",
        "timeout",
        "crashed",
    ]
    raised = status["02_raises"]
    assert (raised.cell, raised.ename, raised.evalue) == (4, "ValueError", "坏数据")
    assert "第 4 个单元格" in raised.failure_text() and 'raise ValueError("坏数据")' in raised.failure_text()
    assert status["03_dies"].cell == 3 and "内核意外退出" in status["03_dies"].failure_text()
    assert status["04_hangs"].cell == 4 and "超过 5 秒时限" in status["04_hangs"].failure_text(5)
    lines = "\n".join(cli.summary_lines([report], 5))
    assert "笔记本文件无法读取" in status["05_broken"].failure_text()
    for stem in ("02_raises", "03_dies", "04_hangs", "05_broken"):
        assert f"✗ {stem}.ipynb" in lines
    assert "4 个失败" in lines and "01_good" not in lines.split("报告目录")[0].split("4 个失败")[1]


def test_every_notebook_is_kept_and_paged_even_when_it_failed(failing_run):
    report, _ = failing_run
    folder = report.folder
    for stem in ("01_good", "02_raises", "03_dies", "04_hangs"):
        assert (folder / "notebooks" / f"{stem}.ipynb").is_file()
        assert (folder / f"{stem}.html").is_file()
    raised_nb = nbformat.read(folder / "notebooks" / "02_raises.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in raised_nb.cells for o in c.get("outputs", []))
    page = (folder / "02_raises.html").read_text(encoding="utf-8")
    assert "本页笔记本运行失败" in page and 'id="fazhi-failed-cell"' in page and "不应运行" not in page
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.count("fazhi-badge-failed") == 4 and "坏数据" in index
    assert "笔记本文件无法读取" in (folder / "05_broken.html").read_text(encoding="utf-8")
    assert not list(folder.glob(".staging-*"))
    hidden = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert hidden == [
        DRAFT_RECORD
    ]  # no lock file either: only the record of the drafts written (kept beside them)


def test_the_index_shows_the_errors_found_in_the_data(failing_run):
    """A report built from data with errors (ingest exit 1) says so at the top of its index."""
    report, _ = failing_run
    index = (report.folder / "index.html").read_text(encoding="utf-8")
    errors = fp.issues()
    mine = errors[(errors["severity"] == "error") & (errors["region"].isin(["通许县", ""]))]
    assert len(mine) >= 1 and f"导入时发现 {len(mine)} 个错误" in index
    for message in mine["message"]:
        assert message in html.unescape(index)
    assert "<script>" not in index  # shown as text


def test_parameters_are_injected_with_their_types(failing_run):
    report, _ = failing_run
    folder = report.folder
    printed = json.loads(outputs_text(folder / "notebooks" / "01_good.ipynb").splitlines()[0])
    assert printed["region"] == ["通许县", "str"] and printed["year"] == [2019, "int"]
    assert Path(printed["processed_dir"][0]).is_absolute()
    assert (folder / "figures" / "通许县_2019.txt").read_text(encoding="utf-8") == "图"
    # the executed notebook points at the report folder (relative to itself), not at the staging folder
    executed = nbformat.read(folder / "notebooks" / "01_good.ipynb", as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "output_dir = '..'" in injected.source and "region = '通许县'" in injected.source


def test_a_copied_project_re_runs_its_executed_notebooks_in_place(tmp_path):
    """Executed notebooks store paths relative to themselves: move the project (data beside reports) and
    the notebook still finds its data and writes into its own report folder, not the old machine's."""
    from nbclient import NotebookClient

    project = tmp_path / "project"
    processed = write_processed(project / "data" / "processed")
    books = tmp_path / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD)
    batch.run_batch("通许县", 2019, processed, project / "reports", notebooks_dir=books, workers=1)
    moved = tmp_path / "copied"
    project.rename(moved)
    executed = moved / "reports" / "通许县" / "2019" / "notebooks" / "01_good.ipynb"
    stored = nbformat.read(executed, as_version=4)
    injected = [c.source for c in stored.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(project) not in json.dumps([stored.metadata, injected], ensure_ascii=False)
    figure = moved / "reports" / "通许县" / "2019" / "figures" / "通许县_2019.txt"
    figure.unlink()
    nb = nbformat.read(executed, as_version=4)
    NotebookClient(
        nb, kernel_name="fazhi-analysis", resources={"metadata": {"path": str(executed.parent)}}
    ).execute()
    assert figure.read_text(encoding="utf-8") == "图"
    printed = json.loads(outputs_text_of(nb).splitlines()[0])
    assert (executed.parent / printed["processed_dir"][0]).resolve() == (
        moved / "data" / "processed"
    ).resolve()
    assert not project.exists()


def test_a_region_that_looks_like_a_number_stays_a_string(tmp_path):
    table = fp.frame(fp.rows(region="007", only=["disputes.mediation_cases"]))
    processed = write_processed(tmp_path / "processed", table, fp.empty_issues())
    books = tmp_path / "notebooks"
    write_notebook(books / "01_good.ipynb", GOOD)
    code = cli.run_reports(
        region="007", year="2019", processed=processed, reports=tmp_path / "r", workers=1, notebooks=books
    )
    assert code == 0
    printed = json.loads(
        outputs_text(tmp_path / "r" / "007" / "2019" / "notebooks" / "01_good.ipynb").splitlines()[0]
    )
    assert printed["region"] == ["007", "str"]


# --- kernel start-up ---------------------------------------------------------------------------------

FLAKY_KERNEL = """
import pathlib, sys
counter = pathlib.Path(__file__).with_suffix(".count")
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
if n < FAILURES:
    sys.exit(1)  # dies before answering, like a kernel whose start-up failed
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def flaky_kernel(root: Path, failures: int) -> dict:
    """A kernel spec 'flaky' whose first ``failures`` starts fail; the environment that finds it."""
    script = root / "flaky_kernel.py"
    script.write_text(FLAKY_KERNEL.replace("FAILURES", str(failures)), encoding="utf-8")
    spec = root / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(script), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "flaky", "language": "python"})
    )
    return {**os.environ, "JUPYTER_PATH": str(root / "jupyter")}


def run_on_flaky_kernel(tmp_path, processed, failures: int, monkeypatch):
    env = flaky_kernel(tmp_path, failures=failures)
    monkeypatch.setattr(dispatch, "START_PAUSE", 0.2)  # the retry is tested, not the length of its pause
    write_notebook(tmp_path / "nb" / "01_good.ipynb", GOOD)
    [report] = batch.run_batch(
        "通许县",
        2019,
        processed,
        tmp_path / "r",
        notebooks_dir=tmp_path / "nb",
        kernel_name="flaky",
        env=env,
        say=print,
    )
    [result] = report.results
    return report, result


def test_a_kernel_that_fails_to_start_is_retried(tmp_path, processed, monkeypatch):
    _, result = run_on_flaky_kernel(tmp_path, processed, failures=1, monkeypatch=monkeypatch)
    assert result.ok and result.attempts == 2
    assert (tmp_path / "flaky_kernel.count").read_text() == "2"


def test_a_kernel_that_never_starts_is_reported(tmp_path, processed, monkeypatch):
    monkeypatch.setattr(dispatch, "START_ATTEMPTS", 2)
    report, result = run_on_flaky_kernel(tmp_path, processed, failures=99, monkeypatch=monkeypatch)
    assert result.status == "startup" and result.attempts == 2
    assert "启动失败（已尝试 2 次）" in result.failure_text()
    assert "启动失败" in (report.folder / "index.html").read_text(encoding="utf-8")


# --- concurrency and kills ---------------------------------------------------------------------------


def test_a_second_run_waits_for_the_lock(tmp_path, processed):
    write_notebook(tmp_path / "nb" / "01_good.ipynb", GOOD)
    folder = tmp_path / "r" / "通许县" / "2019"
    said: list[str] = []
    outcome: list = []
    with output_lock(folder):
        worker = threading.Thread(
            target=lambda: outcome.append(
                batch.run_batch(
                    "通许县", 2019, processed, tmp_path / "r", notebooks_dir=tmp_path / "nb", say=said.append
                )
            )
        )
        worker.start()
        deadline = time.monotonic() + 30
        while not any("另一个进程正在写入" in s for s in said) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any("另一个进程正在写入" in s for s in said)
        assert not (folder / "index.html").exists()  # nothing written while the lock is held
    worker.join(timeout=120)
    assert outcome and outcome[0][0].results[0].ok
    assert (folder / "index.html").is_file()


def whole(folder: Path) -> list[str]:
    """Problems with the published files: every page ends properly, every notebook and workbook loads."""
    bad = []
    for page in folder.glob("*.html"):
        if not page.read_text(encoding="utf-8").rstrip().endswith("</html>"):
            bad.append(page.name)
    for book in (folder / "notebooks").glob("*.ipynb"):
        try:
            nbformat.read(book, as_version=4)
        except Exception:
            bad.append(book.name)
    workbook = folder / names.WORKBOOK_NAME
    if workbook.exists():
        try:
            load_workbook(workbook)
        except Exception:
            bad.append(workbook.name)
    return bad


@pytest.mark.slow
def test_kill_9_during_a_run_leaves_the_previous_report_whole(tmp_path, processed):
    """SIGKILL at four random moments of ``run``, each inside the run: the moments are drawn over the length
    of a complete run measured just before (so on a fast or a loaded machine alike every kill lands while
    the run is going, never after it ended); the published report stays whole, the next run completes.
    (tests/test_kill_run.py kills at three chosen stages of a run with the real notebooks.)"""
    books = tmp_path / "nb"
    write_notebook(books / "01_good.ipynb", GOOD)
    write_notebook(books / "02_good.ipynb", GOOD, "print('二')")
    reports = tmp_path / "r"
    folder = reports / "通许县" / "2019"
    command = [sys.executable, "-m", "analysis", "run", "--region", "通许县", "--year", "2019"]
    command += ["--processed", str(processed), "--reports", str(reports), "--notebooks", str(books)]
    command += ["--force"]  # every run builds (an unchanged report would be reused in a moment)
    started = time.monotonic()
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    length = time.monotonic() - started  # how long a whole run takes on this machine now

    # the build record (.build.json) is removed while a build publishes: a killed build must not look done
    def report_names() -> list[str]:
        return sorted(
            p.name
            for p in folder.rglob("*")
            if p.is_file() and ".staging-" not in str(p) and p.name != ".build.json"
        )

    expected = report_names()
    rng = random.Random(20190331)
    landed = attempts = 0
    while landed < 4 and attempts < 12:
        attempts += 1
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.95) * length)
        if proc.poll() is None:
            landed += 1
            proc.send_signal(signal.SIGKILL)
        else:  # the machine got faster: later moments are drawn over this run's length
            length = time.monotonic() - started
        proc.wait()
        assert whole(folder) == []
        assert set(expected) <= set(report_names())
    done = subprocess.run(command, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert whole(folder) == [] and not list(folder.glob(".staging-*"))
    assert landed == 4, f"only {landed} of {attempts} kills landed inside a run"


# --- the summary workbook ----------------------------------------------------------------------------


def test_workbook_has_every_value_with_unit_department_and_source(tmp_path):
    table = fp.spec_frame()
    path = summary.write_workbook(tmp_path / names.WORKBOOK_NAME, fp.REGION, fp.YEAR, table, fp.issues())
    wb = load_workbook(path)
    ws = wb[summary.INDICATOR_SHEET]
    header = [c.value for c in ws[1]]
    assert header[:7] == ["专题", "指标编码", "指标名称", "数值", "限定词", "单位", "填报单位"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == len(table)
    mediation = rows["disputes.mediation_cases"]
    assert mediation[3] == 6736 and isinstance(mediation[3], int | float) and mediation[5] == "件"
    assert (
        mediation[6] == "县司法局" and mediation[7].endswith("县司法局.xlsx") and mediation[9].startswith("D")
    )
    assert rows["leadership.study_books_printed"][4] == "余"
    assert rows["derived.power_items_unexplained_change"][3] == -51
    issues = list(wb[summary.ISSUE_SHEET].iter_rows(min_row=2, values_only=True))
    assert issues[0][0] == "错误" and len(issues) == len(fp.issues())


def test_workbook_neutralises_formulas_in_submitted_text(tmp_path):
    table = fp.spec_frame()
    hostile = {
        "department": '=HYPERLINK("http://evil","点我")',
        "note": "+1+cmd|' /C calc'!A0",
        "raw_value": "-5",
        "sheet": "@SUM(A1)",
        "source_file": "\t=1+1",
    }
    for column, text in hostile.items():
        table.loc[0, column] = text
    table.loc[1, "note"] = "控制\x01字符"
    path = summary.write_workbook(tmp_path / "w.xlsx", fp.REGION, fp.YEAR, table, fp.empty_issues())
    ws = load_workbook(path)[summary.INDICATOR_SHEET]
    row_of = {ws.cell(row=r, column=2).value: r for r in range(2, ws.max_row + 1)}
    first, second_row = row_of[table.loc[0, "indicator_id"]], row_of[table.loc[1, "indicator_id"]]
    cells = {
        ws.cell(row=1, column=c).value: ws.cell(row=first, column=c) for c in range(1, ws.max_column + 1)
    }
    by_header = {
        "department": "填报单位",
        "note": "备注或计算公式",
        "raw_value": "原始填报内容",
        "sheet": "工作表",
    }
    for column, header in by_header.items():
        assert cells[header].value == "'" + hostile[column] and cells[header].data_type == "s"
    assert cells["来源文件"].value == "'\t=1+1"
    assert (
        cells["数值"].value == table.loc[0, "value"] and cells["数值"].data_type == "n"
    )  # numbers stay numbers
    second = [ws.cell(row=second_row, column=c).value for c in range(1, ws.max_column + 1)]
    assert "控制\ufffd字符" in second
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


# --- the project kernel ------------------------------------------------------------------------------


def test_kernel_registration_is_idempotent(tmp_path, capsys):
    from analysis.execute import kernel

    folder, changed = kernel.install_kernel(prefix=tmp_path)
    assert changed and folder == tmp_path / "share" / "jupyter" / "kernels" / "fazhi-analysis"
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert spec["display_name"] == "法治政府分析 (Python 3)" and spec["argv"][0] == sys.executable
    assert "ipykernel_launcher" in spec["argv"] and kernel.is_installed(tmp_path)
    assert kernel.install_kernel(prefix=tmp_path) == (folder, False)  # second time: nothing to do
    spec["argv"][0] = "/nonexistent/python"
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    assert not kernel.is_installed(tmp_path) and kernel.install_kernel(prefix=tmp_path) == (folder, True)
    assert cli.run_kernel(install=True) == 0 and "fazhi-analysis" in capsys.readouterr().out


def test_returns_are_published_with_the_report_and_linked_from_its_index(failing_run):
    """退回修改: each department with errors or warnings has its marked-up copy and notice in the published
    report, linked from the index (the processed tables name no raw folder here: the copies list only)."""
    from analysis.core.names import FEEDBACK_DIR

    report, _ = failing_run
    index = html.unescape((report.folder / "index.html").read_text(encoding="utf-8"))
    published = sorted(p.name for p in (report.folder / FEEDBACK_DIR).iterdir() if not p.name.startswith("."))
    assert "县水利局（标注）.xlsx" in published and "县水利局数据修改通知.docx" in published
    assert "退回修改" in index
    for name in published:
        assert f'href="{FEEDBACK_DIR}/{name}"' in index
