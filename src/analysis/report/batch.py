"""The notebook batch: ``python -m analysis run --region R --year Y``.

For every region-year asked for (:mod:`~analysis.report.targets`), each notebook runs in a worker process
(:mod:`~analysis.report.runner`); its executed notebook becomes a page (:mod:`~analysis.report.pages`);
the summary workbook and ``index.html`` (:mod:`~analysis.report.index`) follow; everything is staged and
then published under the folder's lock (:mod:`~analysis.report.publish`). When every region is asked
for, each year with two or more regions gets a comparison page, run the same way; the site overview
``reports/index.html`` (:mod:`~analysis.report.site`) is written last. Nothing here prints: progress
goes to ``say`` and results are returned (:mod:`analysis.cli` prints them).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd

from analysis.core.fileio import atomic_write_bytes, output_lock
from analysis.core.store import (
    EXPECT_ENV,
    StoreError,
    manifest_digest,
    read_catalog,
    read_indicators,
    read_issues,
)
from analysis.explore.comparison import REGIONS
from analysis.explore.nb import RUN_STAGE_MARKER
from analysis.explore.quality import issues_of
from analysis.explore.selection import select
from analysis.report import draft, index, pages, publish, site, static, summary
from analysis.report.kernel import KERNEL_NAME, ensure_kernel
from analysis.report.publish import EXECUTED_DIR, INDEX
from analysis.report.runner import (
    START_ATTEMPTS,
    START_TIMEOUT,
    NotebookResult,
    Say,
    hard_limit,
    notebook_parameters,
    run_all,
    run_worker,
)
from analysis.report.targets import (
    BatchError,
    Target,
    discover_notebooks,
    notebook_folder,
    report_folder,
    resolve_targets,
)


@dataclass
class ReportResult:
    target: Target
    folder: Path
    results: list[NotebookResult]
    seconds: float
    pages: list[pages.PageInfo]
    page: str = INDEX  # the page to open, in ``folder``

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if not r.ok]


def build_report(
    target: Target,
    *,
    notebooks: list[Path],
    processed: Path,
    reports: Path,
    workers: int,
    timeout: int,
    kernel_name: str = KERNEL_NAME,
    say: Say = lambda _: None,
    env: dict | None = None,
    indicators: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
) -> ReportResult:
    """Run every notebook for ``target`` and write its report folder."""
    started = time.monotonic()
    folder = report_folder(reports, target)
    processed = Path(processed).resolve()
    with output_lock(folder, wait_seconds=3600, say=say), publish.staging(folder) as stage:
        (stage / RUN_STAGE_MARKER).touch()  # the notebooks write their figures here only because of this
        jobs_dir = stage / ".jobs"
        jobs_dir.mkdir()
        jobs = [
            (
                nb_path,
                {
                    "input": str(nb_path.resolve()),
                    "output": str(stage / EXECUTED_DIR / nb_path.name),
                    "parameters": notebook_parameters(target, processed, stage),
                    "kernel_name": kernel_name,
                    "timeout": int(timeout),
                    "start_timeout": START_TIMEOUT,
                    "attempts": START_ATTEMPTS,
                    "cwd": str(nb_path.resolve().parent),
                },
            )
            for nb_path in notebooks
        ]
        results = run_all(jobs, jobs_dir, workers, say, env)
        static.write_assets(folder)
        now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        written = [
            write_page(stage, folder, processed, nb_path, result, target, timeout, now)
            for nb_path, result in zip(notebooks, results, strict=True)
        ]
        digest = (env or {}).get(EXPECT_ENV)
        _same_snapshot(processed, digest)
        indicators = read_indicators(processed, digest) if indicators is None else indicators
        issues = read_issues(processed, digest) if issues is None else issues
        catalog = read_catalog(processed, digest)  # the one ingest used, as the notebooks do
        view = select(indicators, target.region, target.year, catalog)
        their_issues = issues_of(issues, target.region, target.year)
        summary.write_workbook(
            stage / summary.WORKBOOK_NAME, target.region, target.year, indicators, their_issues, catalog
        )
        page = index.render_index(
            region=target.region,
            year=target.year,
            pages=written,
            content=index.index_content(view, their_issues),
            workbook=summary.WORKBOOK_NAME,
            generated=now,
            links=site.year_links(target.region, target.year, indicators),
        )
        atomic_write_bytes(stage / INDEX, page.encode("utf-8"))
        static.write_font(folder, [p.read_text(encoding="utf-8") for p in stage.glob("*.html")])
        publish.publish(stage, folder, keep_figures=any(not r.ok for r in results))
        draft.add_to_report(folder, target.region, target.year, indicators, issues, say, catalog)
    return ReportResult(target, folder, results, round(time.monotonic() - started, 1), written)


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


def write_page(
    stage: Path,
    final: Path,
    processed: Path,
    nb_path: Path,
    result: NotebookResult,
    target: Target,
    timeout: int,
    now: str,
    home: str = INDEX,
) -> pages.PageInfo:
    """Retarget and slim the executed notebook, then write its page into ``stage``."""
    executed = stage / EXECUTED_DIR / nb_path.name
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # never written (the kernel did not start) or torn: show the source notebook
        nb = _source_without_outputs(nb_path)
    else:
        publish.retarget(nb, stage, final, processed, nb_path)
        pages.drop_plotly_bundles(nb)
        atomic_write_bytes(executed, nbformat.writes(nb).encode("utf-8"))
    body, info = pages.render_notebook(
        nb,
        stem=nb_path.stem,
        region=target.region,
        year=target.year,
        failure=result.failure_text(timeout),
        failed_cell=result.cell_index,
        footer=f"{target.region} {target.year} 年度 · 生成于 {now} · 由 fazhi-analysis 自动生成，代码已隐藏。",
        home=home,
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
) -> list[ReportResult]:
    """Validate the request, then build one report folder per region-year. Raises :class:`BatchError`."""
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
        done = out[-1]
        site.record_status(done.folder, target.region, target.year, len(done.results), len(done.failed))
    # comparison pages only when every region was asked for: a one-region run must not redraw them
    years = site.comparison_years(indicators) if str(region).strip() == "all" else []
    years = sorted({t.year for t in targets} & set(years))
    comparison = folder / site.COMPARISON_NOTEBOOK
    if years and not comparison.is_file():
        say(f"找不到地区对比笔记本 {comparison}，未生成地区对比页。")
        years = []
    for each in years:
        say(f"{each} 年地区对比：运行 {comparison.name} …")
        out.append(
            build_comparison(
                each,
                notebook=comparison,
                processed=processed,
                reports=reports,
                timeout=timeout,
                kernel_name=kernel_name,
                say=say,
                env=env,
            )
        )
    site.write_site_index(reports, indicators, issues, read_catalog(processed, env[EXPECT_ENV]))
    return out


def build_comparison(
    year: int,
    *,
    notebook: Path,
    processed: Path,
    reports: Path,
    timeout: int,
    kernel_name: str = KERNEL_NAME,
    say: Say = lambda _: None,
    env: dict | None = None,
) -> ReportResult:
    """Run the comparison notebook for ``year`` and publish ``reports/<year>/地区对比.html`` (staged, locked)."""
    started = time.monotonic()
    folder = Path(reports).resolve() / str(int(year))
    target = Target(REGIONS, int(year))
    processed = Path(processed).resolve()
    with output_lock(folder, wait_seconds=3600, say=say), publish.staging(folder) as stage:
        (stage / RUN_STAGE_MARKER).touch()  # the notebook writes its figures here only because of this
        jobs_dir = stage / ".jobs"
        jobs_dir.mkdir()
        job = {
            "input": str(notebook.resolve()),
            "output": str(stage / EXECUTED_DIR / notebook.name),
            "parameters": {"year": int(year), "processed_dir": str(processed), "output_dir": str(stage)},
            "kernel_name": kernel_name,
            "timeout": int(timeout),
            "start_timeout": START_TIMEOUT,
            "attempts": START_ATTEMPTS,
            "cwd": str(notebook.resolve().parent),
        }
        result = run_worker(job, jobs_dir, hard_limit(notebook, timeout), env=env)
        say(f"  {'完成' if result.ok else '失败'}  {notebook.name}（{result.seconds:.1f} 秒）")
        _same_snapshot(processed, (env or {}).get(EXPECT_ENV))
        static.write_assets(folder)
        now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        home = f"../{site.SITE_INDEX}"
        info = write_page(stage, folder, processed, notebook, result, target, timeout, now, home=home)
        os.replace(stage / info.html_name, stage / site.COMPARISON_PAGE)
        info.html_name = site.COMPARISON_PAGE
        static.write_font(folder, [(stage / site.COMPARISON_PAGE).read_text(encoding="utf-8")])
        publish.publish(stage, folder, keep_figures=not result.ok)
    seconds = round(time.monotonic() - started, 1)
    return ReportResult(target, folder, [result], seconds, [info], page=site.COMPARISON_PAGE)
