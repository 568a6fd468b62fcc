"""Command line: ``python -m analysis {ingest,check,template,run,draft,kernel,codes,catalog}`` (also installed as ``fazhi``).

This module and ``cli_commands`` (the smaller commands) own everything a user sees in the terminal and
every exit status: the library functions
return results or raise typed errors; here they become Chinese lines and one of three exit codes:
0 no errors; 1 errors in the data (or failed notebooks), good outputs still written; 2 a bad request or
an unusable environment (nothing written). Help and argparse's own messages are Chinese too.

Each command's modules are imported when the command runs, so ``--help`` and a mistyped option answer at
once instead of after loading pandas, papermill and nbconvert.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.cli_args import EXIT_USAGE, build_parser
from analysis.cli_commands import (
    EXIT_DATA_ERRORS,
    EXIT_OK,
    run_catalog_diff,
    run_check,
    run_codes,
    run_draft,
    run_kernel,
    run_template,
)
from analysis.cli_commands import error as _error
from analysis.core.oserrors import describe


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(line)


# --- ingest ----------------------------------------------------------------------------------------


def file_line(summary) -> str:
    """One line per ingested file: ✓ clean, ! with errors, ✗ not loaded at all; "未变化" when the file was
    not read again (its earlier result was used)."""
    mark = "✗" if summary.rejected else ("!" if summary.errors else "✓")
    detail = "整个文件未导入" if summary.rejected else f"导入 {summary.values} 个数值"
    if summary.reused:
        detail = f"未变化，沿用上次读取的结果（{detail}）"
    return f"  {mark} {summary.file}（{summary.department}）：{detail}，错误 {summary.errors}，警告 {summary.warnings}"


def run_ingest(
    raw: Path,
    out: Path,
    catalog_path: Path | None = None,
    quiet: bool = False,
    workers: int | None = None,
    force: bool = False,
) -> int:
    """``ingest``: 0 without errors, 1 with errors in the data (good values still written), 2 otherwise."""
    from analysis.core.catalog import CatalogError, load_catalog
    from analysis.core.fileio import BusyError, output_lock
    from analysis.core.problem_summary import ingest_lines
    from analysis.core.problems import ERROR, WARNING
    from analysis.core.store import write_tables
    from analysis.ingest.limits import Limits
    from analysis.ingest.parallel import worker_count
    from analysis.ingest.pipeline import ingest
    from analysis.ingest.reuse import MANIFEST_KEY, Reads

    if not raw.is_dir():
        _error(f"找不到原始报表文件夹 {raw}")
        return EXIT_USAGE
    try:
        catalog = load_catalog(catalog_path)
    except (CatalogError, OSError) as exc:
        _error(f"指标目录无法读取：{exc}")
        return EXIT_USAGE
    try:
        limits = Limits.from_env()  # a bad FAZHI_* value is the caller's to fix, before any file is read
        worker_count(0, workers)  # FAZHI_INGEST_WORKERS too
    except ValueError as exc:
        _error(exc)
        return EXIT_USAGE
    bar: list = []  # the progress bar, when there is one: only on a terminal, never in a log

    def progress(files: list) -> object:
        if quiet or not sys.stderr.isatty() or len(files) < 20:
            return files
        from tqdm import tqdm  # only for a bar on a terminal (about 50 ms to import)

        bar.append(tqdm(files, desc="读取报表", unit="个文件", file=sys.stderr))
        return bar[0]

    def report(summary) -> None:
        bar[0].write(file_line(summary), file=sys.stdout) if bar else print(file_line(summary))

    reads = Reads.load(out, catalog, limits, force=force)
    if not quiet:
        print(f"读取 {raw} …" + (f"（{reads.note}）" if reads.note else ""))
    result = ingest(
        raw,
        catalog,
        limits,
        progress=progress,
        report=None if quiet else report,
        workers=workers,
        reads=reads,
    )
    if not result.files:  # an unmounted share or an empty folder must not replace good tables with empty ones
        _error(f"在 {raw} 中没有找到任何工作簿（应为 <地区>/<年度>/<单位>.xlsx），未写出任何文件，")
        print(f"{out} 中原有的导入结果保持不变。", file=sys.stderr)
        for message in (result.issues["file"] + "：" + result.issues["message"]).head(20):
            print(f"  {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with output_lock(out):
            reused = sum(f.reused for f in result.files)
            meta = {
                "raw": str(raw),
                "raw_folder": str(raw.resolve()),  # where the marked-up copies of a report find the files
                "seconds": round(result.seconds, 3),
                "sources": {f.file: f.digest for f in result.files},  # SHA-256 of each submission as read
                "files_reused": reused,
                MANIFEST_KEY: reads.seal(),  # the record is used next time only where it agrees with this
            }
            write_tables(out, result.indicators, result.issues, meta, catalog=catalog)
            try:  # after the tables: a record never describes tables that were not written
                reads.save(out)
            except OSError as exc:  # the tables stand; the next ingest reads every file again
                print(f"注意：读取记录未能保存（{exc}），下次导入将重新读取全部文件。", file=sys.stderr)
    except (BusyError, OSError) as exc:
        _error(describe(exc, out) if isinstance(exc, OSError) else exc)
        return EXIT_USAGE
    counts = result.issues["severity"].value_counts()
    derived = int(result.indicators["derived"].sum())
    print(
        f"完成：{len(result.files)} 个文件，导入 {len(result.indicators) - derived} 个数值（另计算派生指标 {derived} 个）；"
        f"错误 {counts.get(ERROR, 0)}，警告 {counts.get(WARNING, 0)}，提示 {counts.get('info', 0)}；"
        f"用时 {result.seconds:.1f} 秒。输出：{out}"
    )
    if reused:
        print(
            f"其中 {reused} 个文件内容未变化（按 SHA-256 比对），沿用上次的读取结果；"
            f"重新读取 {len(result.files) - reused} 个。全部重新读取：ingest --force"
        )
    _print_lines(ingest_lines(result.issues, out))
    if result.has_errors:
        print("有错误：请按清单中的说明请相关单位改正后重新报送；正确的数值已照常导入。", file=sys.stderr)
        return EXIT_DATA_ERRORS
    return EXIT_OK


# --- template --------------------------------------------------------------------------------------


# --- run -------------------------------------------------------------------------------------------


def summary_lines(results: list, timeout: int | None = None) -> list[str]:
    """The batch's terminal summary: per report, the notebooks that failed, where, and the folder."""
    from analysis.core.names import EXECUTED_DIR

    lines = []
    for rep in results:
        if rep.reused:
            lines.append(f"{_report_label(rep)}：未变化，沿用上次的报告（{rep.reused_pages or 1} 个页面）。")
            lines.append(f"  报告目录：{rep.folder / rep.page}")
            continue
        total, failed = len(rep.results), rep.failed
        state = "全部成功" if not failed else f"{len(failed)} 个失败"
        if getattr(rep, "missing", ""):  # the notebooks ran, a part of the report is missing
            state = f"{'笔记本全部成功' if not failed else state}，{rep.missing}"
        if rep.error:
            state = f"{state}，未发布"
        why = "、".join(rep.reasons)
        lines.append(
            f"{_report_label(rep)}：{total} 个笔记本，{state}，用时 {rep.seconds:.1f} 秒（原因：{why}）。"
        )
        for r in failed:
            lines.append(f"  ✗ {r.stem}.ipynb：{r.failure_text(timeout)}")
            if not rep.error:
                lines.append(f"    执行后的笔记本已保留：{rep.folder / EXECUTED_DIR / (r.stem + '.ipynb')}")
        if rep.error:
            lines.append(f"  ✗ {rep.error}")
        lines.append(f"  报告目录：{rep.folder / rep.page}")
    return lines


def _report_label(rep) -> str:
    from analysis.core.names import REGIONS

    return f"{rep.target.year} 年地区对比" if rep.target.region == REGIONS else rep.target.label


def run_reports(
    region: str,
    year: str,
    processed: Path,
    reports: Path,
    workers: int = 2,
    timeout: int = 600,
    notebooks: Path | None = None,
    force: bool = False,
    scheduler: str | None = None,
) -> int:
    """``run``: 0 when every notebook ran (or every report was current), 1 when one failed, 2 for a bad
    request."""
    from analysis.core.fileio import BusyError
    from analysis.core.names import REGIONS
    from analysis.core.problem_summary import run_lines
    from analysis.core.store import StoreError
    from analysis.report.batch import run_batch
    from analysis.report.targets import BatchError

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
            say=print,
            force=force,
            scheduler=scheduler,
        )
    except BatchError as exc:
        _error(exc)
        return EXIT_USAGE
    except (StoreError, BusyError) as exc:  # unreadable tables, or the folder stayed locked too long
        _error(exc)
        return EXIT_DATA_ERRORS
    except OSError as exc:  # a read-only or full reports folder: the previous report is left intact
        _error(f"无法写入报告文件夹。{describe(exc, reports)}本次报告未发布，原有报告保持不变。")
        return EXIT_USAGE
    for line in summary_lines(results, timeout):
        print(line)
    failed = sum(len(r.failed) for r in results)
    total = sum(len(r.results) for r in results)
    reused = sum(r.reused for r in results)
    unpublished = sum(bool(r.error) for r in results)
    incomplete = sum(bool(getattr(r, "missing", "")) for r in results)
    missing = (f"，{unpublished} 份未能发布" if unpublished else "") + (
        f"，{incomplete} 份缺少 Word 初稿" if incomplete else ""
    )
    print(
        f"共 {len(results)} 份报告：重新生成 {len(results) - reused} 份（{total} 个笔记本，失败 {failed} 个）"
        f"{missing}，沿用 {reused} 份；总用时 {time.monotonic() - started:.1f} 秒。"
    )
    built = [(r.target.region, r.target.year, r.folder) for r in results if r.target.region != REGIONS]
    _print_lines(run_lines(Path(processed), built))  # the data's problems: the last lines on the terminal
    return EXIT_DATA_ERRORS if failed or unpublished or incomplete else EXIT_OK


def _chinese_store_warnings() -> None:
    """Print a repaired-on-the-way notice of the processed folder (a damaged journal set aside) as a Chinese
    line, not as Python's warning format."""
    import warnings

    from analysis.core.store import StoreWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, StoreWarning):
            print(f"警告：{message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    from analysis.execute.pool import skip_iri_grammar

    skip_iri_grammar()  # about 1 CPU-s less for any command that reads notebooks (JupyterLab installed)
    args = build_parser().parse_args(argv)
    try:
        return _command(args)
    except (
        OSError
    ) as exc:  # any the command did not expect: one Chinese line naming the path, never a traceback
        _error(describe(exc))
        return EXIT_USAGE


def _command(args: argparse.Namespace) -> int:
    if args.command in ("ingest", "run", "draft"):
        _chinese_store_warnings()
    if args.command == "ingest":
        return run_ingest(
            args.raw,
            args.out,
            catalog_path=args.catalog,
            quiet=args.quiet,
            workers=args.workers,
            force=args.force,
        )
    if args.command == "template":
        return run_template(args.region, args.year, args.out, catalog_path=args.catalog)
    if args.command == "run":
        return run_reports(
            region=args.region,
            year=args.year,
            processed=args.processed,
            reports=args.reports,
            workers=args.workers,
            timeout=args.timeout,
            notebooks=args.notebooks,
            force=args.force,
            scheduler=args.scheduler,
        )
    if args.command == "draft":
        return run_draft(args)
    if args.command == "check":
        return run_check(args)
    if args.command == "kernel":
        return run_kernel(install=args.install)
    if args.command == "catalog":
        return run_catalog_diff(args.old, args.new)
    return run_codes()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
