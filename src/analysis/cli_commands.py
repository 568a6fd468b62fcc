"""Command line, the smaller commands: ``template``, ``draft``, ``check``, ``kernel``, ``codes`` and
``catalog diff``; their terminal lines and exit statuses (``cli.py`` dispatches to them and owns ``ingest``
and ``run``). Each command imports its modules when it runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.cli_args import EXIT_USAGE
from analysis.core.oserrors import describe

EXIT_OK, EXIT_DATA_ERRORS = 0, 1


def error(message: object) -> None:
    print(f"错误：{message}", file=sys.stderr)


# --- template --------------------------------------------------------------------------------------


def run_template(region: str, year: int, out: Path | None, catalog_path: Path | None = None) -> int:
    """``template``: 0 on success, 2 on a bad request, an unusable catalog or an unwritable folder."""
    from analysis.core.catalog import load_catalog
    from analysis.ingest.template import check_region, write_templates

    try:
        paths = write_templates(region, year, out, load_catalog(catalog_path))
    except ValueError as exc:  # TemplateError, CatalogError, an unsafe department name
        print(f"无法生成模板：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"无法写入模板文件：{describe(exc, out)}", file=sys.stderr)
        return EXIT_USAGE
    for path in paths:
        print(f"已生成 {path}")
    print(f"共 {len(paths)} 个单位的模板，请分发给各单位填报后放入 data/raw/{check_region(region)}/{year}/。")
    return EXIT_OK


# --- draft ---------------------------------------------------------------------------------------


def run_draft(args: argparse.Namespace) -> int:
    """``draft``: 0 when the draft was written, 2 for a bad request or unreadable tables."""
    from analysis.core.store import StoreError
    from analysis.draft.writer import draft_from_processed

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
            figures=args.figures,
        )
    except (StoreError, ValueError, OSError) as exc:
        error(describe(exc, args.out) if isinstance(exc, OSError) else exc)
        return EXIT_USAGE
    seconds = time.monotonic() - started
    print(
        f"已写出 Word 初稿：{result.path}（附件图 {result.figures} 幅，未填报或未采用 {result.missing} 项，用时 {seconds:.1f} 秒）"
    )
    if result.pdf is not None:
        print(f"PDF 预览：{result.pdf}")
    for note in result.notes:
        print(note)
    return EXIT_OK


# --- kernel, codes ---------------------------------------------------------------------------------


def run_kernel(install: bool = False) -> int:
    """``kernel [--install]``: register the kernel, or show where it is (2 when it is not registered)."""
    from analysis.execute.kernel import DISPLAY_NAME, KERNEL_NAME, install_kernel, is_installed, kernel_dir

    if install:
        folder, changed = install_kernel()
        state = "已注册" if changed else "已是最新，无需更改"
        print(f"Jupyter 内核 {KERNEL_NAME}（{DISPLAY_NAME}）{state}：{folder}")
        return EXIT_OK
    if is_installed():
        print(f"Jupyter 内核 {KERNEL_NAME} 已注册：{kernel_dir()}")
        return EXIT_OK
    print(
        f"Jupyter 内核 {KERNEL_NAME} 尚未注册，请运行：python -m analysis kernel --install", file=sys.stderr
    )
    return EXIT_USAGE


def run_check(args: argparse.Namespace) -> int:
    """``check``: 0 without errors or warnings, 1 with problems, 2 when the file could not be read."""
    from analysis.cli_args import check_lines
    from analysis.core.catalog import CatalogError, load_catalog
    from analysis.ingest.selfcheck import CheckError, check_file

    try:
        result = check_file(args.file, args.region, args.year, load_catalog(args.catalog))
    except (CheckError, CatalogError, OSError, ValueError) as exc:
        error(exc)
        return EXIT_USAGE
    print("\n".join(check_lines(result, args.file)))
    if args.mark and result.problems:
        from analysis.report.markup import mark_file

        print(f"标注副本：{mark_file(args.file, [p.as_row() for p in result.problems], result.read)}")
    if not result.read:
        return EXIT_USAGE
    return EXIT_DATA_ERRORS if result.errors or result.warnings else EXIT_OK


def run_codes() -> int:
    from analysis.core.problems import CODES

    for code, (severity, title) in CODES.items():
        print(f"{code}\t{severity}\t{title}")
    return EXIT_OK


def run_catalog_diff(old_path: Path, new_path: Path) -> int:
    """``catalog diff A.yaml B.yaml``: what edition B adds, retires, renames or regroups against A."""
    from analysis.core.catalog import CatalogError, load_catalog
    from analysis.core.catalog_diff import diff, lines

    try:
        old, new = load_catalog(old_path), load_catalog(new_path)
    except (CatalogError, OSError) as exc:
        error(f"指标目录无法读取：{exc}")
        return EXIT_USAGE
    changes = lines(diff(old, new))
    print(f"{new_path} 相对 {old_path}：" + (f"{len(changes)} 处变化" if changes else "没有变化"))
    for line in changes:
        print(f"  {line}")
    return EXIT_OK
