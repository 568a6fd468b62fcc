"""The notebook batch: ``python -m analysis run --region R --year Y``.

For every region-year asked for, each notebook of ``notebooks/`` runs under papermill on the project
kernel (:mod:`analysis.kernel`) in a worker process of its own, up to ``--workers`` at a time, with a
per-cell timeout; a kernel that fails to start is retried. A notebook that raises, kills its kernel or
hangs is reported with the cell where it stopped; the others go on; the executed notebook is kept.

Everything is produced in a hidden staging folder and then moved into ``reports/<region>/<year>/`` file
by file with ``os.replace``, under a lock: a run killed at any moment leaves every previous page whole,
and two runs never write the same folder at once.

Parameters are validated before injection (the region must be in the data and usable as a folder name;
the year an integer in range present in the data) and injected with their Python types (``"007"`` stays a
string, unlike ``papermill -p``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import pandas as pd

from analysis.core import sanitize, years
from analysis.core.fileio import atomic_write_bytes, output_lock
from analysis.core.store import EXPECT_ENV
from analysis.report.kernel import KERNEL_NAME

EXECUTED_DIR = "notebooks"
FIGURES_DIR = "figures"
INDEX = "index.html"
STAGING_PREFIX = ".staging-"
START_TIMEOUT = 60  # seconds for a kernel to start and answer
START_ATTEMPTS = 3  # a kernel that fails to start is tried this many times
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PARAMETER_NAMES = ("region", "year", "processed_dir", "output_dir")

Say = Callable[[str], None]


class BatchError(ValueError):
    """A request the batch refuses before running anything (Chinese message; exit status 2)."""


# --- what to run -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Target:
    region: str
    year: int

    @property
    def label(self) -> str:
        return f"{self.region} {self.year} 年"


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the working directory, else of the repository this package is installed from."""
    for candidate in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[3] / "notebooks"):
        if candidate.is_dir():
            return candidate
    return Path.cwd() / "notebooks"


def discover_notebooks(folder: Path) -> list[Path]:
    """The report notebooks of ``folder``, in file-name order (``00_overview`` first): those named
    ``NN_<name>.ipynb``; others (``探索.ipynb``, an analyst's own) are not part of the report."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchError(f"找不到笔记本文件夹 {folder}。")
    found = sorted(p for p in folder.glob("*.ipynb") if re.match(r"\d\d_", p.name))
    if not found:
        raise BatchError(f"笔记本文件夹 {folder} 中没有 .ipynb 文件。")
    return found


def parse_year(text: object) -> int:
    """A year as the user typed it: the core parser, strict (four ASCII digits), within 1949–2100."""
    try:
        return years.parse_year(text, strict=True)
    except years.YearError as exc:
        raise BatchError(f"{exc}（或填 all）。") from exc


def check_region(name: object) -> str:
    """A region name usable as one folder and as a notebook parameter (see :func:`sanitize.check_region`)."""
    try:
        return sanitize.check_region(name)
    except ValueError as exc:
        raise BatchError(str(exc)) from exc


def resolve_targets(region: str, year: str | int, indicators: pd.DataFrame) -> list[Target]:
    """The region-years to run: ``all`` means every one found in the processed table."""
    available = sorted(
        {(str(r), int(y)) for r, y in zip(indicators["region"], indicators["year"], strict=True)}
    )
    if not available:
        raise BatchError("整洁数据表中没有任何数据：请先把报表放入 data/raw 并运行 ingest。")
    regions = sorted({r for r, _ in available})
    want_region = None if str(region).strip() == "all" else check_region(region)  # `ALL` is no keyword
    want_year = None if str(year).strip() == "all" else parse_year(year)
    if want_region is not None and want_region not in regions:
        raise BatchError(f"数据中没有地区“{want_region}”。数据中的地区：{'、'.join(regions)}。")
    chosen = [
        Target(r, y)
        for r, y in available
        if (want_region is None or r == want_region) and (want_year is None or y == want_year)
    ]
    if not chosen:
        years = sorted({y for r, y in available if want_region is None or r == want_region})
        where = f"“{want_region}”" if want_region else "数据"
        raise BatchError(f"{where}中没有 {want_year} 年的数据。可选年度：{'、'.join(map(str, years))}。")
    for t in chosen:  # names from the data are checked as strictly as names typed by the user
        check_region(t.region)
        parse_year(t.year)
    return chosen


# --- one notebook, in a worker process ---------------------------------------------------------------


@dataclass
class NotebookResult:
    """How one notebook ran. ``status``: ok | error | timeout | dead | startup | crashed."""

    stem: str
    status: str
    seconds: float = 0.0
    attempts: int = 1
    cell: int | None = None  # 1-based position among the cells of the source notebook
    cell_index: int | None = None  # index in the executed notebook (with papermill's injected cell)
    execution_count: int | None = None
    source_line: str = ""
    ename: str = ""
    evalue: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failure_text(self, timeout: int | None = None) -> str:
        """One Chinese line: where the notebook stopped and why."""
        if self.ok:
            return ""
        where = ""
        if self.cell is not None:
            count = f"，In [{self.execution_count}]" if self.execution_count else ""
            line = f"：{self.source_line}" if self.source_line else ""
            where = f"第 {self.cell} 个单元格（代码单元格{count}{line}）"
        if self.status == "error":
            error = f"{self.ename}: {self.evalue}".strip(": ")
            return f"{where}出错：{_short(error, 200)}" if where else f"出错：{_short(error, 200)}"
        if self.status == "timeout":
            limit = f"超过 {timeout} 秒时限" if timeout else "超过时限"
            return f"{where}运行{limit}，已中止" if where else f"运行{limit}，已中止"
        if self.status == "dead":
            return f"{where}运行时内核意外退出（进程崩溃或被结束）" if where else "内核意外退出"
        if self.status == "startup":
            return f"内核 {KERNEL_NAME} 启动失败（已尝试 {self.attempts} 次）：{_short(self.detail, 200)}"
        return (
            f"{where}批处理工作进程异常结束：{_short(self.detail, 200)}"
            if where
            else _short(self.detail, 200)
        )


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def locate_stop(nb: nbformat.NotebookNode) -> dict:
    """Where an executed notebook stopped: the last cell papermill started (or the one it marked failed)."""
    position, found = 0, {}
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        position += 1
        pm = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type != "code" or not pm.get("start_time"):
            continue
        line = next(
            (s.strip() for s in cell.source.splitlines() if s.strip() and not s.strip().startswith("#")), ""
        )
        found = {
            "cell": position,
            "cell_index": index,
            "execution_count": cell.get("execution_count"),
            "source_line": _short(line, 80),
        }
        if pm.get("exception") or pm.get("status") == "failed":
            break
    return found


def _error_of(nb: nbformat.NotebookNode, index: int | None) -> tuple[str, str]:
    if index is None:
        return "", ""
    for out in nb.cells[index].get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", ""), out.get("evalue", "")
    return "", ""


def notebook_parameters(target: Target, processed_dir: Path, output_dir: Path) -> dict:
    """The values injected into a notebook's ``parameters`` cell, with their Python types."""
    return {
        "region": str(target.region),
        "year": int(target.year),
        "processed_dir": str(processed_dir),
        "output_dir": str(output_dir),
    }


def register_parameter_translator() -> None:
    """Inject string parameters as Python ``repr`` literals (readable Chinese, always a valid literal)."""
    from papermill.translators import PythonTranslator, papermill_translators

    class ReprTranslator(PythonTranslator):
        @classmethod
        def translate_str(cls, val):
            return repr(str(val))

    papermill_translators.register("python", ReprTranslator)


def execute_one(job: dict) -> dict:
    """Run one notebook as described by ``job`` (paths, parameters, kernel, timeout); a result dict.

    Called in a worker process. A kernel that fails to start (no cell started) is retried.
    """
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    register_parameter_translator()
    output = Path(job["output"])
    stem = Path(job["input"]).stem
    started = time.monotonic()
    attempts = job.get("attempts", START_ATTEMPTS)
    status, detail, error, stop = "startup", "", ("", ""), {}
    for attempt in range(1, attempts + 1):
        try:
            pm.execute_notebook(
                job["input"],
                str(output),
                parameters=job["parameters"],
                kernel_name=job["kernel_name"],
                execution_timeout=job["timeout"],
                start_timeout=job.get("start_timeout", START_TIMEOUT),
                progress_bar=False,
                log_output=False,
                cwd=job["cwd"],
            )
            status = "ok"
        except PapermillExecutionError as exc:
            status, error = "error", (exc.ename, exc.evalue)
        except CellTimeoutError as exc:
            status, detail = "timeout", str(exc)
        except DeadKernelError as exc:
            status, detail = "dead", str(exc)
        except NoSuchKernel as exc:
            status, detail = "startup", f"没有名为 {exc} 的内核，请运行 python -m analysis kernel --install"
            break
        except Exception as exc:  # kernel start-up failures come as RuntimeError, TimeoutError, OSError …
            status, detail = "startup", f"{type(exc).__name__}: {exc}"
        stop = _read_stop(output)
        if status == "startup" and stop:
            status = "dead"  # a cell had started: the kernel went away under it
        if status != "startup" or attempt == attempts:
            break
        time.sleep(min(2.0 * attempt, 5.0))
    if status == "error" and not error[0] and stop.get("cell_index") is not None:
        error = _error_of(nbformat.read(output, as_version=4), stop["cell_index"])
    result = NotebookResult(
        stem=stem,
        status=status,
        seconds=round(time.monotonic() - started, 2),
        attempts=attempt,
        ename=error[0],
        evalue=error[1],
        detail=_short(detail, 500),
        **(stop if status != "ok" else {}),
    )
    return asdict(result)


def _read_stop(path: Path) -> dict:
    try:
        return locate_stop(nbformat.read(path, as_version=4))
    except Exception:  # not written yet, or torn by a killed worker
        return {}


def _watch_parent() -> None:
    """Exit when the batch process that started this worker is gone (so nothing runs on unattended)."""
    parent = os.getppid()

    def poll() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(3)
            time.sleep(1.0)

    threading.Thread(target=poll, daemon=True).start()


def worker_main(argv: list[str]) -> int:
    """``python -m analysis.report.batch --worker JOB.json RESULT.json``: execute one notebook, write the result."""

    _watch_parent()
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = execute_one(job)
    atomic_write_bytes(Path(argv[1]), json.dumps(result, ensure_ascii=False).encode("utf-8"))
    return 0


def _hard_limit(notebook: Path, timeout: int) -> float:
    """Wall-clock limit of one worker: every code cell at its timeout, plus kernel starts."""
    nb = nbformat.read(notebook, as_version=4)
    cells = sum(1 for c in nb.cells if c.cell_type == "code") + 1
    return cells * timeout + START_ATTEMPTS * (START_TIMEOUT + 10) + 60


def run_worker(job: dict, job_dir: Path, hard_limit: float, env: dict | None = None) -> NotebookResult:
    """Run :func:`execute_one` in a fresh Python process; a worker that dies or overruns is reported."""
    stem = Path(job["input"]).stem
    job_path, result_path, log_path = (
        job_dir / f"{stem}.{ext}" for ext in ("job.json", "result.json", "log")
    )
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "analysis.report.batch", "--worker", str(job_path), str(result_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        try:
            proc.wait(timeout=hard_limit)
            overran = False
        except subprocess.TimeoutExpired:
            overran = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if result_path.is_file():
        return NotebookResult(**json.loads(result_path.read_text(encoding="utf-8")))
    stop = _read_stop(Path(job["output"]))
    tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
    detail = f"超过总时限 {hard_limit:.0f} 秒，已强制结束" if overran else f"退出码 {proc.returncode}"
    if tail:
        detail += f"；最后输出：{tail[-1]}"
    return NotebookResult(
        stem=stem,
        status="timeout" if overran else "crashed",
        seconds=round(time.monotonic() - started, 2),
        detail=detail,
        **stop,
    )


# --- one report folder -------------------------------------------------------------------------------


@dataclass
class ReportResult:
    target: Target
    folder: Path
    results: list[NotebookResult]
    seconds: float
    pages: list

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if not r.ok]


def report_folder(reports: Path, target: Target) -> Path:
    """``reports/<region>/<year>``, checked to stay inside ``reports``."""
    root = Path(reports).resolve()
    folder = (root / check_region(target.region) / str(parse_year(target.year))).resolve()
    if root not in folder.parents:
        raise BatchError(f"报告文件夹 {folder} 不在 {root} 之内。")
    return folder


def _remove_stale_staging(folder: Path) -> None:
    for old in folder.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(old, ignore_errors=True)


def _publish(stage: Path, folder: Path, keep_figures: bool) -> None:
    """Move every staged file into place (``os.replace``: each file is old or new, never torn)."""
    order = [FIGURES_DIR, EXECUTED_DIR]
    for sub in order:
        src = stage / sub
        if not src.is_dir():
            continue
        produced = set()
        for path in sorted(src.rglob("*")):
            if path.is_file():
                dest = folder / path.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
                produced.add(dest)
        if sub == FIGURES_DIR and not keep_figures:  # drop figures a complete run no longer makes
            for old in (folder / sub).rglob("*"):
                if old.is_file() and old not in produced:
                    old.unlink()
    pages = sorted(stage.glob("*.html"), key=lambda p: p.name == INDEX)  # index.html last
    for path in [*stage.glob("*.xlsx"), *pages]:
        os.replace(path, folder / path.name)


def build_report(
    target: Target,
    *,
    notebooks: list[Path],
    processed: Path,
    reports: Path,
    workers: int,
    timeout: int,
    kernel_name: str = KERNEL_NAME,
    say: Say = print,
    env: dict | None = None,
    indicators: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
) -> ReportResult:
    """Run every notebook for ``target`` and write its report folder."""
    from analysis.core.store import read_catalog, read_indicators, read_issues
    from analysis.explore.nb import RUN_STAGE_MARKER
    from analysis.report import draft, htmlreport, summary

    started = time.monotonic()
    folder = report_folder(reports, target)
    with output_lock(folder, wait_seconds=3600, say=say):
        _remove_stale_staging(folder)
        stage = folder / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        (stage / EXECUTED_DIR).mkdir(parents=True)
        (stage / FIGURES_DIR).mkdir()
        (stage / RUN_STAGE_MARKER).touch()  # the notebooks write their figures here only because of this
        jobs_dir = stage / ".jobs"
        jobs_dir.mkdir()
        try:
            results = _run_all(
                notebooks,
                target,
                stage,
                jobs_dir,
                Path(processed).resolve(),
                workers,
                timeout,
                kernel_name,
                say,
                env,
            )
            htmlreport.write_assets(folder)
            pages = []
            now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
            for nb_path, result in zip(notebooks, results, strict=True):
                pages.append(_write_page(stage, folder, nb_path, result, target, timeout, now))
            digest = (env or {}).get(EXPECT_ENV)
            _same_snapshot(processed, digest)
            indicators = read_indicators(processed, digest) if indicators is None else indicators
            issues = read_issues(processed, digest) if issues is None else issues
            catalog = read_catalog(processed, digest)  # the one ingest used, as the notebooks do
            mine = indicators[(indicators["region"] == target.region) & (indicators["year"] == target.year)]
            their_issues = _issues_of(issues, target)
            summary.write_workbook(
                stage / summary.WORKBOOK_NAME, target.region, target.year, indicators, their_issues, catalog
            )
            index = htmlreport.render_index(
                region=target.region,
                year=target.year,
                pages=pages,
                key_figures=_key_figures(mine, _previous_year(indicators, target), catalog),
                coverage=_coverage(mine, their_issues, catalog),
                issue_counts=_issue_counts(their_issues),
                issue_rows=their_issues[their_issues["severity"] != "info"].to_dict("records"),
                workbook=summary.WORKBOOK_NAME,
                generated=now,
            )
            atomic_write_bytes(stage / INDEX, index.encode("utf-8"))
            htmlreport.write_font(folder, [p.read_text(encoding="utf-8") for p in stage.glob("*.html")])
            _publish(stage, folder, keep_figures=any(not r.ok for r in results))
            draft.add_to_report(folder, target.region, target.year, indicators, issues, say, catalog)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            # Again at the end: a kernel orphaned by a killed run may still have written into its old
            # staging folder after the sweep at the start (it exits within seconds of its parent).
            _remove_stale_staging(folder)
    return ReportResult(target, folder, results, round(time.monotonic() - started, 1), pages)


def _same_snapshot(processed: Path, digest: str | None) -> None:
    """Refuse to publish a report when the processed tables changed while its notebooks ran (an ingest
    published a new set): its pages could mix two sets. The previous report stays as it was."""
    from analysis.core.store import StoreError, manifest_digest

    if digest is None:
        return
    try:
        now = manifest_digest(processed)
    except StoreError as exc:
        raise BatchError(str(exc)) from exc
    if now != digest:
        raise BatchError(
            f"整洁数据（{processed}）在报告生成期间被重新导入，各页可能混用了两次导入的数据，本次报告未发布，"
            "原有报告保持不变；请在导入完成后重新运行 run。"
        )


def _run_all(notebooks, target, stage, jobs_dir, processed, workers, timeout, kernel_name, say, env):
    def one(nb_path: Path) -> NotebookResult:
        job = {
            "input": str(nb_path.resolve()),
            "output": str(stage / EXECUTED_DIR / nb_path.name),
            "parameters": notebook_parameters(target, processed, stage),
            "kernel_name": kernel_name,
            "timeout": int(timeout),
            "start_timeout": START_TIMEOUT,
            "attempts": START_ATTEMPTS,
            "cwd": str(nb_path.resolve().parent),
        }
        try:
            limit = _hard_limit(nb_path, timeout)
        except Exception as exc:  # not a notebook (bad JSON, wrong format): report it, run the others
            result = NotebookResult(stem=nb_path.stem, status="crashed", detail=f"笔记本文件无法读取：{exc}")
        else:
            result = run_worker(job, jobs_dir, limit, env=env)
        mark = "完成" if result.ok else "失败"
        say(f"  {mark}  {nb_path.name}（{result.seconds:.1f} 秒）")
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, notebooks))


def drop_plotly_bundles(nb: nbformat.NotebookNode) -> int:
    """Remove the outputs that embed the whole plotly.js (4.8 MB per notebook) from an executed notebook.

    Each figure keeps its ``application/vnd.plotly.v1+json`` output, which JupyterLab draws with the
    jupyterlab-plotly extension installed with plotly; the HTML pages load plotly.js from ``assets/``.
    """
    from analysis.report.htmlreport import is_plotly_bundle

    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = [o for o in cell.outputs if not is_plotly_bundle(o.get("data", {}))]
        dropped += len(cell.outputs) - len(kept)
        cell.outputs = kept
    return dropped


def retarget(nb: nbformat.NotebookNode, stage: Path, final: Path) -> None:
    """Point the executed notebook's ``output_dir`` at the report folder instead of the staging folder, so
    that re-running it in JupyterLab writes where the batch published its files."""
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    if params.get("output_dir") == str(stage):
        params["output_dir"] = str(final)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.replace(repr(str(stage)), repr(str(final)))


def _write_page(
    stage: Path, final: Path, nb_path: Path, result: NotebookResult, target: Target, timeout: int, now: str
):
    from analysis.report import htmlreport

    executed = stage / EXECUTED_DIR / nb_path.name
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # never written (the kernel did not start) or torn: show the source notebook
        nb = _source_without_outputs(nb_path)
    else:
        retarget(nb, stage, final)
        drop_plotly_bundles(nb)
        atomic_write_bytes(executed, nbformat.writes(nb).encode("utf-8"))
    body, info = htmlreport.render_notebook(
        nb,
        stem=nb_path.stem,
        region=target.region,
        year=target.year,
        failure=result.failure_text(timeout),
        failed_cell=result.cell_index,
        footer=f"{target.region} {target.year} 年度 · 生成于 {now} · 由 fazhi-analysis 自动生成，代码已隐藏。",
    )
    info.notebook_name = f"{EXECUTED_DIR}/{nb_path.name}"
    info.seconds = result.seconds
    atomic_write_bytes(stage / info.html_name, body.encode("utf-8"))
    return info


def _source_without_outputs(nb_path: Path) -> nbformat.NotebookNode:
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {nb_path.stem}\n\n笔记本文件无法读取。")]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    return nb


def _issues_of(issues: pd.DataFrame, target: Target) -> pd.DataFrame:
    from analysis.explore.quality import issues_of

    return issues_of(issues, target.region, target.year)


def _issue_counts(issues: pd.DataFrame) -> list[dict]:
    from analysis.core.problems import CODES, severity_rank

    if issues.empty:
        return []
    counts = issues.groupby(["severity", "code"]).size().reset_index(name="count")
    rows = [
        {
            "severity": r.severity,
            "code": r.code,
            "title": CODES.get(r.code, ("", r.code))[1],
            "count": int(r.count),
        }
        for r in counts.itertuples()
    ]
    return sorted(rows, key=lambda r: (severity_rank(r["severity"]), r["code"]))


def _previous_year(indicators: pd.DataFrame, target: Target) -> pd.DataFrame:
    """The same region's rows of the latest earlier year in the data (empty when there is none)."""
    earlier = indicators[(indicators["region"] == target.region) & (indicators["year"] < target.year)]
    return earlier[earlier["year"] == earlier["year"].max()] if not earlier.empty else earlier


def _coverage(rows: pd.DataFrame, issues: pd.DataFrame, catalog):
    from analysis.report.htmlreport import Coverage

    missing = issues.loc[issues["code"] == "missing-submission", "department"]
    return Coverage(
        reported=int((~rows["derived"]).sum()),
        expected=len(catalog.reported),
        missing_departments=sorted(set(missing) - {""}),
    )


def _key_figures(rows: pd.DataFrame, previous: pd.DataFrame, catalog) -> list:
    """The 年度概览's key figures (ids listed in sentences.yaml) that this region-year reported, written as
    the report writes them (``1.1万户``), with the change against the previous year when the data has one."""
    from analysis.core.formatting import format_change, number_zh, qualified
    from analysis.explore.sentences import key_figures
    from analysis.report.htmlreport import KeyFigure

    by_id = {r["indicator_id"]: r for r in rows.to_dict("records")}
    before = {r["indicator_id"]: r for r in previous.to_dict("records")}
    out = []
    for ind_id in key_figures():
        row, ind = by_id.get(ind_id), catalog.indicators.get(ind_id)
        if row is None or ind is None:
            continue
        old = before.get(ind_id)
        change = ""
        if old is not None:
            change = f"比{old['year']}年 {format_change(row['value'], old['value'], ind.unit, ind.digits)}"
        out.append(
            KeyFigure(
                topic=catalog.topics.get(ind.topic, {}).get("title_zh", ind.topic),
                name=ind.name_zh,
                text=qualified(number_zh(row["value"], ind.digits), row["qualifier"], row["unit"]),
                department=row["department"],
                change=change,
            )
        )
    return out


# --- the command -------------------------------------------------------------------------------------


def run_batch(
    region: str,
    year: str | int,
    processed: Path,
    reports: Path,
    *,
    notebooks_dir: Path | None = None,
    workers: int = 2,
    timeout: int = 600,
    kernel_name: str = KERNEL_NAME,
    say: Say = print,
    env: dict | None = None,
) -> list[ReportResult]:
    """Validate the request, then build one report folder per region-year. Raises :class:`BatchError`."""
    from analysis.core.store import StoreError, manifest_digest, read_indicators, read_issues
    from analysis.report.kernel import ensure_kernel

    if workers < 1:
        raise BatchError(f"--workers 必须至少为 1，收到 {workers}。")
    if timeout < 1:
        raise BatchError(f"--timeout 必须至少为 1 秒，收到 {timeout}。")
    try:  # one snapshot: every notebook reads the set of this manifest, or fails (see _same_snapshot)
        digest = manifest_digest(processed)
        indicators = read_indicators(processed, expect=digest)
        issues = read_issues(processed, expect=digest)
    except StoreError as exc:
        raise BatchError(str(exc)) from exc
    env = {**(os.environ if env is None else env), EXPECT_ENV: digest}
    targets = resolve_targets(region, year, indicators)
    notebooks = discover_notebooks(notebooks_dir or default_notebooks_dir())
    if kernel_name == KERNEL_NAME:
        ensure_kernel()
    out = []
    for target in targets:
        say(f"{target.label}：运行 {len(notebooks)} 个笔记本（并行 {workers} 个，单元格时限 {timeout} 秒）…")
        out.append(
            build_report(
                target,
                notebooks=notebooks,
                processed=processed,
                reports=reports,
                workers=workers,
                timeout=timeout,
                kernel_name=kernel_name,
                say=say,
                env=env,
                indicators=indicators,
                issues=issues,
            )
        )
    return out


def summary_lines(results: list[ReportResult], timeout: int | None = None) -> list[str]:
    """The terminal summary, in Chinese."""
    lines = []
    for rep in results:
        total, failed = len(rep.results), rep.failed
        state = "全部成功" if not failed else f"{len(failed)} 个失败"
        lines.append(f"{rep.target.label}：{total} 个笔记本，{state}，用时 {rep.seconds:.1f} 秒。")
        for r in failed:
            lines.append(f"  ✗ {r.stem}.ipynb：{r.failure_text(timeout)}")
            lines.append(f"    执行后的笔记本已保留：{rep.folder / EXECUTED_DIR / (r.stem + '.ipynb')}")
        lines.append(f"  报告目录：{rep.folder / INDEX}")
    return lines


def run_batch_cli(
    region: str,
    year: str,
    processed: Path,
    reports: Path,
    workers: int = 2,
    timeout: int = 600,
    notebooks: Path | None = None,
) -> int:
    """``python -m analysis run``: 0 when every notebook ran, 1 when one failed, 2 for a bad request."""
    from analysis.core.fileio import BusyError
    from analysis.core.store import StoreError

    started = time.monotonic()
    try:
        results = run_batch(
            region,
            year,
            Path(processed),
            Path(reports),
            notebooks_dir=notebooks,
            workers=workers,
            timeout=timeout,
        )
    except BatchError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, BusyError) as exc:  # unreadable tables, or the folder stayed locked too long
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a read-only or full reports folder: the previous report is left intact
        where = exc.filename or reports
        print(
            f"错误：无法写入报告文件夹 {where}（{exc.strerror or type(exc).__name__}），本次报告未发布，"
            "原有报告保持不变；请检查该文件夹的写入权限和磁盘剩余空间。",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for line in summary_lines(results, timeout):
        print(line)
    failed = sum(len(r.failed) for r in results)
    total = sum(len(r.results) for r in results)
    print(
        f"共 {len(results)} 份报告、{total} 个笔记本，失败 {failed} 个；总用时 {time.monotonic() - started:.1f} 秒。"
    )
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2:]))
    print(
        "用法：python -m analysis run --region 地区 --year 年度（本模块的 --worker 模式供批处理内部使用）",
        file=sys.stderr,
    )
    sys.exit(EXIT_USAGE)
