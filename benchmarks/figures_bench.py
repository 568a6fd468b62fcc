"""Print figures (issue 23): ``python benchmarks/bench.py figures [--rounds 3]``.

The figures are those of a real report: every chart the notebooks of 通许县 2019 save (on the processed test
tables, ``tests/figure_reference.py``; nothing read from ``data/`` or written to ``reports/``). Each is drawn
and saved as PNG (300 dpi) + SVG into a temporary folder two ways, alternately in the same process: the old
path (``savefig`` per format, each laying the figure out again; the PNG as RGBA) and the current
:func:`analysis.explore.static_figures.save_static`. The Word annex's print PNGs likewise (old ``savefig``
against :func:`~analysis.explore.static_figures.print_png`). CPU seconds (``time.process_time``) per figure,
medians over the rounds; one JSON line and a one-line verdict against the goal (≤ 0.5× the old cost).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.5


def _old_notebook(charts, folder: Path) -> int:
    from analysis.core.fileio import atomic_write_bytes
    from analysis.explore.static_figures import to_matplotlib
    from tests.figure_reference import old_figure_files

    size = 0
    for name, chart in charts:
        for fmt, data in old_figure_files(to_matplotlib(chart)).items():
            atomic_write_bytes(folder / f"{name}.{fmt}", data)
            size += len(data) if fmt == "png" else 0
    return size


def _new_notebook(charts, folder: Path) -> int:
    from analysis.explore.static_figures import save_static, to_matplotlib

    size = 0
    for name, chart in charts:
        png, _ = save_static(to_matplotlib(chart), folder, name)
        size += png.stat().st_size
    return size


def _old_annex(charts) -> int:
    from analysis.draft.annex import WIDTH_MM
    from analysis.explore.static_figures import print_figure
    from tests.figure_reference import old_print_png

    return sum(len(old_print_png(print_figure(chart, WIDTH_MM, 90))) for chart in charts)


def _new_annex(charts) -> int:
    from analysis.draft.annex import WIDTH_MM
    from analysis.explore.static_figures import print_png

    return sum(len(print_png(chart, WIDTH_MM, 90)) for chart in charts)


def _cpu(fn, *args) -> tuple[float, int]:
    started = time.process_time()
    size = fn(*args)
    return time.process_time() - started, size


def run(rounds: int) -> dict:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from analysis.draft.annex import PRINTABLE
    from tests.figure_reference import report_charts

    charts = report_charts()
    annex = [chart for _, chart in charts if chart.kind in PRINTABLE]
    cpu: dict[str, list[float]] = {"old": [], "new": [], "old_annex": [], "new_annex": []}
    size: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="fazhi-figures-") as tmp:
        folder = Path(tmp)
        _new_notebook(charts[:1], folder)  # fonts and caches loaded before the first measure
        for _ in range(rounds):  # alternately: a load that comes and goes hits both paths alike
            for key, fn, args in (
                ("old", _old_notebook, (charts, folder)),
                ("new", _new_notebook, (charts, folder)),
                ("old_annex", _old_annex, (annex,)),
                ("new_annex", _new_annex, (annex,)),
            ):
                seconds, size[key] = _cpu(fn, *args)
                cpu[key].append(seconds)
    per = {
        key: statistics.median(values) / (len(annex) if "annex" in key else len(charts))
        for key, values in cpu.items()
    }
    return {
        "benchmark": "figures",
        "figures": len(charts),
        "annex_figures": len(annex),
        "rounds": rounds,
        "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
        "old_cpu_s_per_figure": round(per["old"], 4),
        "new_cpu_s_per_figure": round(per["new"], 4),
        "ratio": round(per["new"] / per["old"], 3),
        "png_size_ratio": round(size["new"] / size["old"], 3),
        "annex_old_cpu_s_per_figure": round(per["old_annex"], 4),
        "annex_new_cpu_s_per_figure": round(per["new_annex"], 4),
        "annex_ratio": round(per["new_annex"] / per["old_annex"], 3),
        "annex_png_size_ratio": round(size["new_annex"] / size["old_annex"], 3),
    }


def verdict(result: dict) -> str:
    ratio = result["ratio"]
    met = ratio <= GOAL
    return (
        f"印刷用图（PNG+SVG）：每张 {result['new_cpu_s_per_figure']:.3f} CPU 秒，为原来的 {ratio:g}×"
        f"（目标 ≤ {GOAL:g}×，{'达到' if met else '未达到'}）；PNG 文件为原来的 {result['png_size_ratio']:g}× | "
        f"print figures: {ratio:g}x the old CPU per figure (goal <= {GOAL:g}x: {'met' if met else 'not met'})"
    )


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py figures", description="印刷用图基准")
    parser.add_argument("--rounds", type=int, default=3, help="轮数（新旧两种做法交替，取中位数；默认 3）")
    args = parser.parse_args(argv)
    result = run(args.rounds)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    print(verdict(result), flush=True)
    return 0
