"""The notebook batch: ``python -m analysis run --region R --year Y``.

For every region-year asked for (:mod:`~analysis.report.targets`) the batch first decides whether its report
is current (:mod:`~analysis.report.builds`: content hashes of its data, the notebooks, the program and the
parameters); a current report is reused as it is. The notebooks of every report to build are then handed to
the executor at once (by default the warm worker processes of :mod:`~analysis.report.pool`), so the workers
go on while the batch writes the pages of a finished report: each executed notebook becomes a page
(:mod:`~analysis.report.pages`); the summary workbook and ``index.html`` (:mod:`~analysis.report.index`)
follow; everything is staged and then published under the folder's lock (:mod:`~analysis.report.publish`),
and the build record is written last. When every region is asked for, each year with two or more regions
gets a comparison page, run the same way and rebuilt whenever a region of its year is; the site overview
``reports/index.html`` (:mod:`~analysis.report.site`) is written last, when anything was built.

Nothing here prints: progress goes to ``say`` and results are returned (:mod:`analysis.cli` prints them).
The modules that run notebooks and write pages (papermill, nbconvert, plotly) are imported only when a
report is built: a run that reuses everything only reads the tables and hashes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.fileio import RUN_STAGE_MARKER, atomic_write_bytes, output_lock
from analysis.core.store import (
    EXPECT_ENV,
    StoreError,
    manifest_digest,
    read_catalog,
    read_indicators,
    read_issues,
)
from analysis.report import builds
from analysis.report.builds import Decision
from analysis.report.kernel import KERNEL_NAME
from analysis.report.runner import START_ATTEMPTS, START_TIMEOUT, NotebookResult, Say, notebook_parameters
from analysis.report.targets import (
    COMPARISON_NOTEBOOK,
    COMPARISON_PAGE,
    BatchError,
    Target,
    comparison_years,
    discover_notebooks,
    notebook_folder,
    report_folder,
    resolve_targets,
)

INDEX = "index.html"
REGIONS = "各地区"  # as explore.comparison.REGIONS (not imported: it loads plotly): a comparison's region


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
    started: float


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
    :class:`BatchError`. ``executor`` runs the notebooks (``submit(execute_one, job)``); by default a
    :class:`~analysis.report.pool.NotebookPool` of ``workers`` warm worker processes, or with
    ``scheduler`` (``local`` or ``tcp://…``) a Dask cluster (:mod:`~analysis.report.cluster`)."""
    if scheduler is not None:
        from analysis.report.cluster import check_scheduler

        scheduler = check_scheduler(scheduler)
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
    comparison = folder / COMPARISON_NOTEBOOK
    if years and not comparison.is_file():
        say(f"找不到地区对比笔记本 {comparison}，未生成地区对比页。")
        years = []
    rebuilt_years = {t.year for t, d in plans if not d.reuse}
    for each in years:
        params = {"year": each, "processed_dir": str(processed), "kernel": kernel_name}
        current = builds.inputs(data.of_year(each), builds.notebooks_digest([comparison]), params)
        decision = builds.decide(Path(reports).resolve() / str(each), current, force, COMPARISON_PAGE)
        if decision.reuse and each in rebuilt_years:
            decision.reasons = [builds.COMPARED]
        plans.append((Target(REGIONS, each), decision))
    for t, decision in plans:
        say(_plan_line(t, decision, len(notebooks) if t.region != REGIONS else 1, workers, timeout))
    todo = [(t, d) for t, d in plans if not d.reuse]

    def site_index(cutter=None) -> None:  # cutter: webfont.FontCutter for its font, started beforehand
        from analysis.report import site

        catalog = read_catalog(processed, env[EXPECT_ENV])
        site.write_site_index(reports, indicators, issues, catalog, cutter)

    built = {}
    if todo:
        settings = _Settings(
            processed, notebooks, comparison, timeout, kernel_name, say, env, indicators, issues
        )
        built = _build_all(todo, settings, executor, workers, scheduler, site_index)
    elif not (Path(reports) / INDEX).is_file():
        site_index()
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
    page = COMPARISON_PAGE if target.region == REGIONS else INDEX
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
    indicators: pd.DataFrame
    issues: pd.DataFrame


def _build_all(
    todo: list[tuple[Target, Decision]],
    s: _Settings,
    executor: Executor | None,
    workers: int,
    scheduler: str | None,
    site_index: Callable[..., None],
) -> dict[Target, ReportResult]:
    """Stage every report to build and hand all their notebooks to the executor, then finish and publish
    the reports in order while the later notebooks run, and write the site overview. Each report is
    completed (its web font, then its build record) once the next one is published, the last one after
    the site overview: the fonts are cut in helper processes meanwhile."""
    from analysis.explore.style import bundled_font_path
    from analysis.report import webfont
    from analysis.report.kernel import ensure_kernel
    from analysis.report.pool import NotebookPool

    if s.kernel_name == KERNEL_NAME:
        ensure_kernel()
    with contextlib.ExitStack() as outer:
        own = None
        if executor is None and scheduler:
            from analysis.report.cluster import dask_executor

            executor = outer.enter_context(dask_executor(scheduler, workers))
        elif executor is None:
            executor = own = NotebookPool(workers, s.env)
        finished = False
        try:
            with contextlib.ExitStack() as stack:  # the reports' locks and staging folders
                several = len(todo) > 1
                started = [_start(stack, t, d, s, executor, several) for t, d in todo]
                if own is not None:
                    own.close()  # every job is queued: each worker exits when it has no more
                site_font = webfont.FontCutter(bundled_font_path())  # started beside the last report's helper
                stack.callback(site_font.close)
                out, pending = {}, []
                try:
                    for b in started:
                        out[b.target], complete = _finish(b, s, [site_font] if b is started[-1] else [])
                        _complete(pending)
                        pending = [complete]
                    site_index(site_font)
                finally:
                    _complete(pending)
            finished = True
            return out
        finally:
            if own is not None:
                own.shutdown(wait=finished, cancel_futures=True)


def _complete(pending: list[Callable[[], None]]) -> None:
    while pending:
        pending.pop(0)()


def _start(
    stack: contextlib.ExitStack,
    target: Target,
    decision: Decision,
    s: _Settings,
    pool: Executor,
    several: bool,
) -> _Build:
    """Lock and stage the report's folder, forget its build record, submit its notebooks."""
    from analysis.report import publish, runner

    comparison = target.region == REGIONS
    folder = decision.folder
    stack.enter_context(output_lock(folder, wait_seconds=3600, say=s.say))
    stage = stack.enter_context(publish.staging(folder))
    (stage / RUN_STAGE_MARKER).touch()  # the notebooks write their figures here only because of this
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
            "output": str(stage / publish.EXECUTED_DIR / nb_path.name),
            "parameters": params,
            "kernel_name": s.kernel_name,
            "timeout": int(s.timeout),
            "start_timeout": START_TIMEOUT,
            "attempts": START_ATTEMPTS,
            "cwd": str(nb_path.resolve().parent),
            "env": {EXPECT_ENV: s.env[EXPECT_ENV]},  # for executors whose processes did not get it
        }
        jobs.append((nb_path, job))
    label = (f"{target.year} 年地区对比" if comparison else target.label) if several else ""
    handles = runner.submit_all(jobs, pool, s.say, label)
    return _Build(target, decision, stage, books, handles, time.monotonic())


def _finish(b: _Build, s: _Settings, also: list) -> tuple[ReportResult, Callable[[], None]]:
    """Wait for the report's notebooks, write its pages, publish, write its draft; returns the result and
    what completes the report: its web font (cut meanwhile in a helper process, started when the first
    notebook ended, with the helpers ``also``), then its build record when it is whole."""
    from analysis.explore.style import bundled_font_path
    from analysis.report import static, webfont

    cutter = webfont.FontCutter(bundled_font_path())
    try:
        result, whole = _write_report(b, s, cutter, [cutter, *also])
    except BaseException:
        cutter.close()
        raise

    def complete() -> None:
        try:
            static.write_font_bytes(b.decision.folder, cutter.result())
        finally:
            cutter.close()
        if whole:  # a report with a failed notebook or no draft is never done
            pages = [] if b.target.region == REGIONS else [info.html_name for info in result.pages]
            builds.record(b.decision.folder, b.decision.inputs, pages)

    return result, complete


def _write_report(b: _Build, s: _Settings, cutter, helpers: list) -> tuple[ReportResult, bool]:
    """Everything of :func:`_finish` but the font's bytes and the record: the result, and whether the
    report is whole (every notebook ran, the draft was written)."""
    from analysis.explore.quality import issues_of
    from analysis.explore.selection import select
    from analysis.report import draft, index, pages, publish, runner, site, static, summary, webfont

    folder, stage, target = b.decision.folder, b.stage, b.target
    digest = s.env.get(EXPECT_ENV)
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    home = f"../{site.SITE_INDEX}" if target.region == REGIONS else INDEX
    results, written = [], []
    for nb_path, handle in zip(b.notebooks, b.handles, strict=True):  # each page as soon as its notebook ends
        [result] = runner.collect([handle], [nb_path])
        results.append(result)
        written.append(
            pages.write_page(stage, folder, s.processed, nb_path, result, target, s.timeout, now, home)
        )
        for helper in helpers:  # the font helpers open the font while the other notebooks run
            helper.start()
    _same_snapshot(s.processed, digest)  # before the folder is touched: an ingest during the notebooks
    builds.forget(folder)  # from here until the new record is written, the folder does not look done
    static.write_assets(folder)
    failed = any(not r.ok for r in results)
    if target.region == REGIONS:
        [info] = written
        os.replace(stage / info.html_name, stage / site.COMPARISON_PAGE)
        info.html_name = site.COMPARISON_PAGE
        cutter.cut(webfont.font_chars([(stage / site.COMPARISON_PAGE).read_text(encoding="utf-8")]))
        publish.publish(stage, folder, keep_figures=failed)
        seconds = round(time.monotonic() - b.started, 1)
        page = site.COMPARISON_PAGE
        return ReportResult(target, folder, results, seconds, written, page, b.decision.reasons), not failed
    _same_snapshot(s.processed, digest)
    catalog = read_catalog(s.processed, digest)  # the one ingest used, as the notebooks do
    view = select(s.indicators, target.region, target.year, catalog)
    their_issues = issues_of(s.issues, target.region, target.year)
    summary.write_workbook(
        stage / summary.WORKBOOK_NAME, target.region, target.year, s.indicators, their_issues, catalog
    )
    page = index.render_index(
        region=target.region,
        year=target.year,
        pages=written,
        content=index.index_content(view, their_issues),
        workbook=summary.WORKBOOK_NAME,
        generated=now,
        links=site.year_links(target.region, target.year, s.indicators),
    )
    atomic_write_bytes(stage / INDEX, page.encode("utf-8"))
    cutter.cut(webfont.font_chars([p.read_text(encoding="utf-8") for p in stage.glob("*.html")]))
    publish.publish(stage, folder, keep_figures=failed)
    drafted = draft.add_to_report(folder, target.region, target.year, s.indicators, s.issues, s.say, catalog)
    site.record_status(folder, target.region, target.year, len(results), sum(not r.ok for r in results))
    seconds = round(time.monotonic() - b.started, 1)
    result = ReportResult(target, folder, results, seconds, written, reasons=b.decision.reasons)
    return result, not failed and drafted is not None


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
