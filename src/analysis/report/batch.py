"""The notebook batch: ``python -m analysis run --region R --year Y``.

For every region-year asked for (:mod:`~analysis.report.targets`) the batch first decides whether its report
is current (:mod:`~analysis.report.builds`: content hashes of its data, the notebooks, the program and the
parameters); a current report is reused as it is. Every report to build is locked and staged
(:mod:`~analysis.report.publish`) and the steps of :mod:`~analysis.report.steps` go to the executor (by
default the warm worker processes of :mod:`~analysis.execute.pool`): all notebooks at once, each writing
its page; a report's finishing steps (summary workbook, index, Word draft, PDF preview, font) as soon as
its last notebook ends, ahead of the notebooks still queued. The main process only plans, publishes each
finished staging folder atomically and writes its build record. When every region is asked for, each year
with two or more regions gets a comparison page, built the same way and rebuilt whenever a region of its
year is; the site overview ``reports/index.html`` is written last (by a worker too), when anything was
built.

Nothing here prints: progress goes to ``say`` and results are returned (:mod:`analysis.cli` prints them).
The modules that run notebooks and write pages (papermill, nbconvert, plotly) are imported only where a
step runs: a run that reuses everything only reads the tables and hashes.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core import names
from analysis.core.fileio import output_lock
from analysis.core.names import INDEX, REGIONS
from analysis.core.store import EXPECT_ENV, StoreError, manifest_digest, read_indicators, read_issues
from analysis.execute.kernel import KERNEL_NAME
from analysis.execute.runner import START_ATTEMPTS, START_TIMEOUT, NotebookResult, Say
from analysis.report import builds, publish, steps
from analysis.report.builds import Decision
from analysis.report.targets import (
    BatchError,
    Target,
    comparison_years,
    discover_notebooks,
    notebook_folder,
    notebook_parameters,
    report_folder,
    resolve_targets,
)

# Imported by every kernel ahead of its notebook, besides what the notebook itself imports: what the
# notebooks' helpers use to read the processed tables on their first call.
PRELOAD = ("pandas", "pyarrow.parquet")


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

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if not r.ok]

    @property
    def reused(self) -> bool:
        return not self.reasons


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
    finishing: Future | None = None


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
    say: Say = lambda _: None,
    env: dict | None = None,
    force: bool = False,
    executor: Executor | None = None,
    scheduler: str | None = None,
) -> list[ReportResult]:
    """Validate the request, then build (or reuse) one report folder per region-year. Raises
    :class:`BatchError`. ``executor`` runs the steps (``submit(step, job)``); by default a
    :class:`~analysis.execute.pool.NotebookPool` of ``workers`` warm worker processes, or with
    ``scheduler`` (``local`` or ``tcp://…``) a Dask cluster (:mod:`~analysis.execute.cluster`)."""
    if scheduler is not None:
        from analysis.execute.cluster import SchedulerError, check_scheduler

        try:
            scheduler = check_scheduler(scheduler)
        except SchedulerError as exc:
            raise BatchError(str(exc)) from exc
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
    folder = notebook_folder(notebooks_dir)
    notebooks = discover_notebooks(folder)
    processed = Path(processed).resolve()
    data = builds.Data(processed, indicators, issues)
    book_digest = builds.notebooks_digest(notebooks)
    plans = []
    for t in targets:
        params = {"region": t.region, "year": t.year, "processed_dir": str(processed), "kernel": kernel_name}
        current = builds.inputs(data.of_region(t.region), book_digest, params)
        plans.append((t, builds.decide(report_folder(reports, t), current, force)))
    # comparison pages only when every region was asked for: a one-region run must not redraw them
    years = comparison_years(indicators) if str(region).strip() == "all" else []
    years = sorted({t.year for t in targets} & set(years))
    comparison = folder / names.COMPARISON_NOTEBOOK
    if years and not comparison.is_file():
        say(f"找不到地区对比笔记本 {comparison}，未生成地区对比页。")
        years = []
    rebuilt_years = {t.year for t, d in plans if not d.reuse}
    for each in years:
        params = {"year": each, "processed_dir": str(processed), "kernel": kernel_name}
        current = builds.inputs(data.of_year(each), builds.notebooks_digest([comparison]), params)
        decision = builds.decide(Path(reports).resolve() / str(each), current, force, names.COMPARISON_PAGE)
        if decision.reuse and each in rebuilt_years:
            decision.reasons = [builds.COMPARED]
        plans.append((Target(REGIONS, each), decision))
    for t, decision in plans:
        say(_plan_line(t, decision, len(notebooks) if t.region != REGIONS else 1, workers, timeout))
    todo = [(t, d) for t, d in plans if not d.reuse]

    overview = {"reports": str(Path(reports).resolve()), "processed": str(processed), "digest": digest}
    built = {}
    if todo:
        settings = _Settings(processed, notebooks, comparison, timeout, kernel_name, say, env)
        built = _build_all(todo, settings, executor, workers, scheduler, overview)
    elif not (Path(reports) / INDEX).is_file():
        steps.write_overview(overview)
    return [built.get(t) or _reused(t, d) for t, d in plans]


def _plan_line(target: Target, decision: Decision, count: int, workers: int, timeout: int) -> str:
    label = f"{target.year} 年地区对比" if target.region == REGIONS else target.label
    if decision.reuse:
        return f"{label}：数据、笔记本、程序和参数均未变化，沿用上次的报告。"
    return (
        f"{label}：运行 {count} 个笔记本（原因：{'、'.join(decision.reasons)}；"
        f"并行 {workers} 个，单元格时限 {timeout} 秒）…"
    )


def _reused(target: Target, decision: Decision) -> ReportResult:
    page = names.COMPARISON_PAGE if target.region == REGIONS else INDEX
    return ReportResult(target, decision.folder, [], 0.0, [], page=page, reused_pages=len(decision.pages))


@dataclass
class _Settings:
    processed: Path
    notebooks: list[Path]
    comparison: Path
    timeout: int
    kernel_name: str
    say: Say
    env: dict


def _build_all(
    todo: list[tuple[Target, Decision]],
    s: _Settings,
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
    s: _Settings,
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
            "cwd": str(nb_path.resolve().parent),
            "env": {EXPECT_ENV: s.env[EXPECT_ENV]},  # for executors whose processes did not get it
            "preload": list(PRELOAD),
            "report": report,
        }
        jobs.append((nb_path, job))
    label = (f"{target.year} 年地区对比" if comparison else target.label) if several else ""
    handles = runner.submit_all(jobs, executor, s.say, label, steps.run_notebook)
    return _Build(target, decision, stage, books, handles, report, time.monotonic())


def _finish_all(started: list[_Build], s: _Settings, executor: Executor) -> dict[Target, ReportResult]:
    """Hand each report's finishing steps to the executor as soon as its last notebook ends (ahead of the
    notebooks still queued), and publish each report as soon as they end."""
    out: dict[Target, ReportResult] = {}
    waiting = list(started)
    while waiting:
        for b in waiting:
            if b.finishing is None and not any(isinstance(h, Future) and not h.done() for h in b.handles):
                b.finishing = executor.submit(steps.finish_report, _finishing_job(b))
        for b in [b for b in waiting if b.finishing is not None and b.finishing.done()]:
            waiting.remove(b)
            out[b.target] = _publish(b, s)
        running = [h for b in waiting for h in (b.finishing, *b.handles) if isinstance(h, Future)]
        if waiting:
            wait([h for h in running if not h.done()], return_when=FIRST_COMPLETED)
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


def _publish(b: _Build, s: _Settings) -> ReportResult:
    """Publish one finished report and write its record when it is whole; a report whose finishing steps
    failed is not published (the previous one stays) and says why."""
    from analysis.execute import runner
    from analysis.site import overview
    from analysis.site.pages import PageInfo

    folder, target, comparison = b.decision.folder, b.target, b.report["comparison"]
    results = runner.collect(b.handles, b.notebooks)
    done = _outcome(b.finishing)
    for line in done.get("lines", []):
        s.say(f"  {line}")
    seconds = round(time.monotonic() - b.started, 1)
    if done.get("status") != "ok":
        error = f"报告的收尾步骤失败（{done.get('detail', '')}），本次报告未发布，原有报告保持不变。"
        s.say(f"  {error}")
        return ReportResult(target, folder, results, seconds, [], reasons=b.decision.reasons, error=error)
    _same_snapshot(s.processed, b.report["digest"])  # before the folder is touched
    failed = any(not r.ok for r in results)
    builds.forget(folder)  # from here until the new record is written, the folder does not look done
    publish.publish(b.stage, folder, keep_figures=failed)
    pages = [PageInfo(**info) for info in done["pages"]]
    if not comparison:
        overview.record_status(
            folder,
            target.region,
            target.year,
            len(results),
            len([r for r in results if not r.ok]),
            b.report["now"],
        )
    if done["whole"] and not failed:  # a report with a failed notebook or no draft is never done
        builds.record(folder, b.decision.inputs, [] if comparison else [p.html_name for p in pages])
    page = names.COMPARISON_PAGE if comparison else INDEX
    return ReportResult(target, folder, results, seconds, pages, page, b.decision.reasons)


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
