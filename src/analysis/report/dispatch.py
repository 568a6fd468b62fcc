"""Building the reports the batch planned (:mod:`~analysis.report.batch`): every report is locked and
staged (:mod:`~analysis.report.publish`), its notebooks go to the executor at once (each writing its page),
followed by the finishing steps that read only the tables (the Word draft), the other finishing steps as
soon as its last notebook ends (ahead of the notebooks still queued), and each report
is published and recorded as soon as those end; the site overview is written last. The steps themselves are
in :mod:`~analysis.report.steps`; this module only hands them out and publishes.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core import names
from analysis.core.fileio import output_lock
from analysis.core.names import INDEX, REGIONS
from analysis.core.store import EXPECT_ENV, StoreError, manifest_digest
from analysis.execute.kernel import KERNEL_NAME
from analysis.execute.runner import START_ATTEMPTS, START_PAUSE, START_TIMEOUT, NotebookResult, Say
from analysis.report import builds, publish, steps
from analysis.report.builds import Decision
from analysis.report.targets import BatchError, Target, notebook_parameters

# Imported ahead of a notebook that imports the project, besides what the notebook itself imports: what
# the project's helpers use to read the processed tables on their first call (a notebook that imports
# nothing of the project gets a kernel without them).
PRELOAD = {"analysis": ("pandas", "pyarrow.parquet")}


@dataclass
class ReportResult:
    target: Target
    folder: Path
    results: list[NotebookResult]
    seconds: float
    pages: list  # pages.PageInfo of the pages written (none when reused)
    page: str = INDEX  # the page to open, in ``folder``
    reasons: list[str] = field(default_factory=list)  # why it was built; empty: reused as it was
    reused_pages: int = 0  # pages of a reused report
    error: str = ""  # a finishing step failed: the report was not published (Chinese)
    missing: str = ""  # a part that could not be made (the Word draft): published, but counted as failed

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if not r.ok]

    @property
    def reused(self) -> bool:
        return not self.reasons


@dataclass
class Settings:
    processed: Path
    notebooks: list[Path]
    comparison: Path
    timeout: int
    kernel_name: str
    say: Say
    env: dict


@dataclass
class _Build:
    """A report being built: its folder is locked and staged, its notebooks handed to the executor."""

    target: Target
    decision: Decision
    stage: Path
    notebooks: list[Path]
    handles: list[Future | NotebookResult]
    report: dict  # what every step of this report is told: folders, region, year, time
    started: float
    early: dict[int, Future] = field(default_factory=dict)  # finishing jobs handed out with the notebooks
    finishing: list[Future] = field(default_factory=list)  # all its finishing jobs, once the notebooks ended


def build_all(
    todo: list[tuple[Target, Decision]],
    s: Settings,
    executor: Executor | None,
    workers: int,
    scheduler: str | None,
    overview: dict,
) -> dict[Target, ReportResult]:
    """Stage every report to build, hand all their notebooks to the executor, finish and publish each
    report as its notebooks end (:func:`_finish_all`), then write the site overview."""
    from analysis.execute.kernel import ensure_kernel
    from analysis.execute.pool import NotebookPool

    if s.kernel_name == KERNEL_NAME:
        ensure_kernel()
    with contextlib.ExitStack() as outer:
        own = None
        if executor is None and scheduler:
            from analysis.execute.cluster import dask_executor

            executor = outer.enter_context(dask_executor(scheduler, workers))
        elif executor is None:
            executor = own = NotebookPool(workers, s.env)
        finished = False
        try:
            with contextlib.ExitStack() as stack:  # the reports' locks and staging folders
                several = len(todo) > 1
                started = [_start(stack, t, d, s, executor, several) for t, d in todo]
                out = _finish_all(started, s, executor)
            last = executor.submit(steps.write_overview, {**overview, "priority": 0})
            if own is not None:
                own.close()  # nothing more to queue: each worker exits when it has no more
            done = _outcome(last)
            if done.get("status") != "ok":
                raise BatchError(f"全部报告总览未能生成：{done.get('detail', '')}")
            finished = True
            return out
        finally:
            if own is not None:
                own.shutdown(wait=finished, cancel_futures=True)


def _start(
    stack: contextlib.ExitStack,
    target: Target,
    decision: Decision,
    s: Settings,
    executor: Executor,
    several: bool,
) -> _Build:
    """Lock and stage the report's folder, submit its notebooks (each writes its page)."""
    from analysis.execute import runner

    comparison = target.region == REGIONS
    folder = decision.folder
    stack.enter_context(output_lock(folder, wait_seconds=3600, say=s.say))
    stage = stack.enter_context(publish.staging(folder))
    (stage / names.RUN_STAGE_MARKER).touch()  # the notebooks write their figures here only because of this
    report = {
        "region": target.region,
        "year": int(target.year),
        "comparison": comparison,
        "stage": str(stage),
        "folder": str(folder),
        "processed": str(s.processed),
        "digest": s.env.get(EXPECT_ENV),
        "timeout": int(s.timeout),
        "now": names.timestamp(),
        "home": f"../{INDEX}" if comparison else INDEX,
    }
    books = [s.comparison] if comparison else s.notebooks
    jobs = []
    for nb_path in books:
        params = (
            {"year": int(target.year), "processed_dir": str(s.processed), "output_dir": str(stage)}
            if comparison
            else notebook_parameters(target, s.processed, stage)
        )
        job = {
            "input": str(nb_path.resolve()),
            "output": str(stage / names.EXECUTED_DIR / nb_path.name),
            "parameters": params,
            "kernel_name": s.kernel_name,
            "timeout": int(s.timeout),
            "start_timeout": START_TIMEOUT,
            "attempts": START_ATTEMPTS,
            "pause": START_PAUSE,
            "cwd": str(nb_path.resolve().parent),
            "env": {EXPECT_ENV: s.env[EXPECT_ENV]},  # for executors whose processes did not get it
            "preload_with": {package: list(modules) for package, modules in PRELOAD.items()},
            "report": report,
        }
        jobs.append((nb_path, job))
    label = (f"{target.year} 年地区对比" if comparison else target.label) if several else ""
    handles = runner.submit_all(jobs, executor, s.say, label, steps.run_notebook)
    early = {  # queued after the report's notebooks: a worker takes it when none of them is left to start
        n: executor.submit(steps.finish_report, {**report, "steps": names})
        for n, names in enumerate(steps.finishing_jobs(comparison))
        if not steps.needs_results(names)
    }
    return _Build(target, decision, stage, books, handles, report, time.monotonic(), early)


def _finish_all(started: list[_Build], s: Settings, executor: Executor) -> dict[Target, ReportResult]:
    """Hand each report's finishing jobs that need its notebooks' results to the executor as soon as its last
    notebook ends (ahead of the notebooks still queued; the others were handed out with the notebooks), and
    publish each report as soon as they all ended."""
    out: dict[Target, ReportResult] = {}
    waiting = list(started)
    while waiting:
        for b in list(waiting):
            if any(isinstance(h, Future) and not h.done() for h in (*b.handles, *b.finishing)):
                continue
            if not b.finishing:
                job = _finishing_job(b)
                jobs = steps.finishing_jobs(b.report["comparison"])
                b.finishing = [
                    b.early[n]
                    if n in b.early
                    else executor.submit(steps.finish_report, {**job, "steps": names})
                    for n, names in enumerate(jobs)
                ]
            else:
                waiting.remove(b)
                out[b.target] = _publish(b, s)
        running = [h for b in waiting for h in (*b.handles, *b.finishing) if isinstance(h, Future)]
        if waiting:
            wait([h for h in running if not h.done()] or running, return_when=FIRST_COMPLETED)
    return out


def _outcome(future: Future) -> dict:
    """A step's result dict; a job the executor lost (a remote worker died, a broken pool) as crashed."""
    try:
        return future.result()
    except Exception as exc:
        return {"status": "crashed", "detail": f"{type(exc).__name__}: {exc}"}


def _finishing_job(b: _Build) -> dict:
    """What :func:`~analysis.report.steps.finish_report` is told: the report, its notebooks, their results
    (with the page each wrote, when its worker was not lost)."""
    results = [h.__dict__ if isinstance(h, NotebookResult) else _outcome(h) for h in b.handles]
    books = [
        {"input": str(p.resolve()), "output": str(b.stage / names.EXECUTED_DIR / p.name)} for p in b.notebooks
    ]
    return {**b.report, "books": books, "results": results, "priority": 0}


def _publish(b: _Build, s: Settings) -> ReportResult:
    """Publish one finished report and write its record when it is whole; a report whose finishing steps
    failed is not published (the previous one stays) and says why."""
    from analysis.execute import runner
    from analysis.site import overview
    from analysis.site.pages import PageInfo

    folder, target, comparison = b.decision.folder, b.target, b.report["comparison"]
    results = runner.collect(b.handles, b.notebooks)
    done = [_outcome(f) for f in b.finishing]
    for line in (line for each in done for line in each.get("lines", [])):
        s.say(f"  {line}")
    seconds = round(time.monotonic() - b.started, 1)
    failure = next((each for each in done if each.get("status") != "ok"), None)
    if failure is not None:
        error = f"报告的收尾步骤失败（{failure.get('detail', '')}），本次报告未发布，原有报告保持不变。"
        s.say(f"  {error}")
        return ReportResult(target, folder, results, seconds, [], reasons=b.decision.reasons, error=error)
    _same_snapshot(s.processed, b.report["digest"])  # before the folder is touched
    failed = any(not r.ok for r in results)
    builds.forget(folder)  # from here until the new record is written, the folder does not look done
    publish.publish(b.stage, folder, keep_figures=failed)
    pages = [PageInfo(**info) for each in done for info in each.get("pages", [])]
    whole = comparison or any(each.get("drafted") for each in done)
    missing = "" if whole else "Word 初稿未能生成（原因见上）"
    if not comparison:
        overview.record_status(
            folder,
            target.region,
            target.year,
            len(results),
            len([r for r in results if not r.ok]) + (not whole),  # the missing draft counts as a failure
            b.report["now"],
        )
    if whole and not failed:  # a report with a failed notebook or no draft is never done
        builds.record(folder, b.decision.inputs, [] if comparison else [p.html_name for p in pages])
    page = names.COMPARISON_PAGE if comparison else INDEX
    return ReportResult(target, folder, results, seconds, pages, page, b.decision.reasons, missing=missing)


def _same_snapshot(processed: Path, digest: str | None) -> None:
    """Refuse to publish a report when the processed tables changed while its notebooks ran (an ingest
    published a new set): its pages could mix two sets. The previous report stays as it was."""
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
