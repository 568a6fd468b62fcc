"""Command line: ``python -m analysis {ingest,template,run,draft,kernel,codes}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis", description="法治政府建设情况报告：数据导入、校验、分析与报告"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="读取 data/raw 中各单位报表，生成整洁数据表与问题清单")
    ingest.add_argument("--raw", type=Path, default=Path("data/raw"), help="原始报表文件夹（默认 data/raw）")
    ingest.add_argument(
        "--out", type=Path, default=Path("data/processed"), help="输出文件夹（默认 data/processed）"
    )
    ingest.add_argument("--catalog", type=Path, default=None, help="指标目录 YAML（默认使用内置目录）")
    ingest.add_argument("--quiet", action="store_true", help="不显示进度条和逐文件摘要")

    template = sub.add_parser("template", help="为各填报单位生成空白报表模板")
    template.add_argument("--region", required=True, help="地区名称，如 通许县")
    template.add_argument("--year", required=True, type=int, help="统计年度，如 2020")
    template.add_argument("--out", type=Path, default=None, help="输出文件夹（默认 templates/<地区>/<年度>）")
    template.add_argument("--catalog", type=Path, default=None, help="指标目录 YAML（默认使用内置目录）")

    run = sub.add_parser("run", help="批量运行分析笔记本，生成离线 HTML 报告")
    run.add_argument("--region", required=True, help="地区名称，或 all 表示数据中的全部地区")
    run.add_argument("--year", required=True, help="统计年度，或 all 表示数据中的全部年度")
    run.add_argument("--processed", type=Path, default=Path("data/processed"), help="整洁数据文件夹")
    run.add_argument("--reports", type=Path, default=Path("reports"), help="报告输出文件夹（默认 reports）")
    run.add_argument("--workers", type=int, default=2, help="并行运行的笔记本数（默认 2）")
    run.add_argument("--timeout", type=int, default=600, help="单个单元格的执行时限（秒，默认 600）")
    run.add_argument("--notebooks", type=Path, default=None, help="笔记本文件夹（默认 notebooks/）")

    draft = sub.add_parser("draft", help="从整洁数据表生成 Word 报告初稿（.docx，公文格式）")
    draft.add_argument("--region", required=True, help="地区名称，如 通许县")
    draft.add_argument("--year", required=True, type=int, help="统计年度，如 2019")
    draft.add_argument(
        "--out", type=Path, default=None, help="输出文件（默认写在当前文件夹，文件名含地区和年度）"
    )
    draft.add_argument("--processed", type=Path, default=Path("data/processed"), help="整洁数据文件夹")
    draft.add_argument(
        "--reports", type=Path, default=Path("reports"), help="报告文件夹（取其中的印刷用图表）"
    )
    draft.add_argument("--to", dest="addressee", default=None, help="主送机关（上级政府；默认留待填写）")
    draft.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF 预览")

    kernel = sub.add_parser("kernel", help="注册本项目的 Jupyter 内核（papermill 和 JupyterLab 使用）")
    kernel.add_argument("--install", action="store_true", help="在当前虚拟环境中注册内核")

    sub.add_parser("codes", help="列出 issues.csv 中全部问题代码")
    return parser


def run_draft(args: argparse.Namespace) -> int:
    """``draft``: 0 when the draft was written, 2 for a bad request or unreadable tables."""
    import time

    from analysis.core.store import StoreError
    from analysis.report.draft import draft_from_processed

    started = time.monotonic()
    try:
        result = draft_from_processed(
            args.region,
            args.year,
            args.processed,
            args.reports,
            args.out,
            addressee=args.addressee,
            pdf=args.pdf,
        )
    except (StoreError, ValueError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    print(
        f"已写出 Word 初稿：{result.path}（图 {result.figures} 幅，未填报指标 {result.missing} 项，用时 {seconds:.1f} 秒）"
    )
    if result.pdf is not None:
        print(f"PDF 预览：{result.pdf}")
    for note in result.notes:
        print(note)
    return 0


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
    args = _parser().parse_args(argv)
    if args.command in ("ingest", "run", "draft"):
        _chinese_store_warnings()
    if args.command == "ingest":
        from analysis.ingest.pipeline import run_ingest_cli

        return run_ingest_cli(args.raw, args.out, catalog_path=args.catalog, quiet=args.quiet)
    if args.command == "template":
        from analysis.ingest.template import run_template_cli

        return run_template_cli(args.region, args.year, args.out, catalog_path=args.catalog)
    if args.command == "run":
        from analysis.report.batch import run_batch_cli

        return run_batch_cli(
            region=args.region,
            year=args.year,
            processed=args.processed,
            reports=args.reports,
            workers=args.workers,
            timeout=args.timeout,
            notebooks=args.notebooks,
        )
    if args.command == "draft":
        return run_draft(args)
    if args.command == "kernel":
        from analysis.report.kernel import run_kernel_cli

        return run_kernel_cli(install=args.install)
    if args.command == "codes":
        from analysis.core.problems import CODES

        for code, (severity, title) in CODES.items():
            print(f"{code}\t{severity}\t{title}")
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
