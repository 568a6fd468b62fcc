"""The notebook batch: ``python -m analysis run --region R --year Y``.

:func:`plan_batch` decides, for every region-year asked for (:mod:`~analysis.report.targets`), whether its
report is current (:mod:`~analysis.report.builds`: content hashes of its data, the notebooks, the program and
the parameters) and so reused as it is, or must be built, and why; when every region is asked for, each year
with two or more regions also gets a comparison page, rebuilt whenever a region of its year is.
:func:`run_batch` then has the reports to build built (:mod:`~analysis.report.dispatch`: the steps of
:mod:`~analysis.report.steps` in the executor's workers, publication and build records in this process).

Nothing here prints: progress goes to ``say`` and results are returned (:mod:`analysis.cli` prints them).
The modules that run notebooks and write pages (papermill, nbconvert, plotly) are imported only where a
step runs: a run that reuses everything only reads the tables and hashes.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from analysis.core import names
from analysis.core.names import INDEX, REGIONS
from analysis.core.store import EXPECT_ENV, StoreError, manifest_digest, read_indicators, read_issues
from analysis.execute.kernel import KERNEL_NAME
from analysis.execute.runner import Say
from analysis.report import builds, steps
from analysis.report.builds import Decision
from analysis.report.dispatch import ReportResult, Settings, build_all
from analysis.report.targets import (
    BatchError,
    Target,
    comparison_years,
    discover_notebooks,
    notebook_folder,
    report_folder,
    resolve_targets,
)


@dataclass
class Plan:
    """What a run would do: each report to consider with its :class:`~analysis.report.builds.Decision`
    (reuse, or build and why), and what building needs."""

    reports: list[tuple[Target, Decision]]
    settings: Settings
    overview: dict  # the job of steps.write_overview

    @property
    def todo(self) -> list[tuple[Target, Decision]]:
        return [(t, d) for t, d in self.reports if not d.reuse]


def plan_batch(
    region: str,
    year: str | int,
    processed: Path,
    reports: Path,
    *,
    notebooks_dir: Path | None = None,
    timeout: int = 600,
    kernel_name: str = KERNEL_NAME,
    say: Say = lambda _: None,
    env: dict | None = None,
    force: bool = False,
) -> Plan:
    """Validate the request and decide, report by report, whether it is current (reused as it is) or
    must be built, and why. Reads the tables and hashes; builds nothing. Raises :class:`BatchError`."""
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
    settings = Settings(processed, notebooks, comparison, timeout, kernel_name, say, env)
    overview = {"reports": str(Path(reports).resolve()), "processed": str(processed), "digest": digest}
    return Plan(plans, settings, overview)


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
    """:func:`plan_batch`, then build each report that is not current. Raises :class:`BatchError`.
    ``executor`` runs the steps (``submit(step, job)``); by default a
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
    plan = plan_batch(
        region,
        year,
        processed,
        reports,
        notebooks_dir=notebooks_dir,
        timeout=timeout,
        kernel_name=kernel_name,
        say=say,
        env=env,
        force=force,
    )
    books = len(plan.settings.notebooks)
    for t, decision in plan.reports:
        say(_plan_line(t, decision, books if t.region != REGIONS else 1, workers, timeout))
    built = {}
    if plan.todo:
        from analysis.execute.cluster import SchedulerError

        try:
            built = build_all(plan.todo, plan.settings, executor, workers, scheduler, plan.overview)
        except SchedulerError as exc:  # the cluster could not be reached (Chinese)
            raise BatchError(str(exc)) from exc
    elif not (Path(reports) / INDEX).is_file():
        steps.write_overview(plan.overview)
    return [built.get(t) or _reused(t, d) for t, d in plan.reports]


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
