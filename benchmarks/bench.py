"""Benchmark of the hardening work: ``make bench`` (``python benchmarks/bench.py``).

Lives outside the installed package: it needs the source checkout's test generators.

Each measurement runs ``python -m analysis ingest`` in a child process on a folder written for it and
reads the child's own resource usage (``os.wait4``): wall time and peak resident memory. Figures are
printed in absolute terms and as ratios to the baseline measured in the same session (the ingest of the
shipped ``data/raw``), so runs on different machines compare. Nothing here asserts a time: the issue's
budget (the whole hostile corpus under 60 s and 600 MB) is printed next to the figures, not tested.

The hostile corpus comes from ``tests/hostile_corpus.py`` (the generators the tests use), so the
benchmark needs a source checkout, as ``make bench`` has.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import figures_bench  # beside this script (its folder is on sys.path)
import ingest_bench

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS, BUDGET_MB = 60, 600
# Issue 9: each costly case on its own (beside a good file) under 60 s and 1.5 GB on 2 cores.
CASE_BUDGET_SECONDS, CASE_BUDGET_MB = 60, 1536
COSTLY_CASES = ("stray-far-cell", "merge-flood", "ods-repeat-bomb", "tall", "zip-bomb", "zip-bomb-lying")
DRAFTS = 1000


@dataclass
class Measure:
    label: str
    files: int
    runs: int
    wall_s: float  # median over runs, whole process (start-up, ingest, writing)
    ingest_s: float  # median, the ingest itself as the manifest records it
    peak_mb: float  # max over runs of the child's peak resident memory
    exit_code: int
    issues_kb: float = 0.0  # size of issues.csv (proportional to the problems, not to their square)


def measure(label: str, raw: Path, runs: int) -> Measure:
    walls, ingests, peaks, code, issues_kb = [], [], [], 0, 0.0
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="fazhi-bench-") as tmp:
            out = Path(tmp) / "processed"
            wall, code, usage, stderr = ingest_bench.ingest_child(raw, out)
            walls.append(wall)
            if code not in (0, 1) or "Traceback" in stderr:
                raise SystemExit(f"{label}：导入异常退出（{code}）\n{stderr[-2000:]}")
            peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            ingests.append(float(manifest.get("seconds", 0.0)))
            issues_kb = (out / "issues.csv").stat().st_size / 1024
    files = sum(1 for p in raw.rglob("*") if p.is_file())
    return Measure(
        label, files, runs, statistics.median(walls), statistics.median(ingests), max(peaks), code, issues_kb
    )


def preflight_seconds(raw: Path, repeat: int = 3) -> dict[str, float]:
    """Median time of :func:`analysis.safety.preflight` per file (in this process)."""
    from analysis.ingest.safety import FileRejected, preflight

    out: dict[str, float] = {}
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            with contextlib.suppress(FileRejected):
                preflight(path)
            times.append(time.perf_counter() - started)
        out[path.name] = statistics.median(times)
    return out


def _corpus():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from tests import hostile_corpus
    except ImportError as exc:  # an installed package without the source tree
        raise SystemExit(
            "基准测试需要源代码目录中的 tests/hostile_corpus.py，请在项目根目录运行 make bench。"
        ) from exc
    return hostile_corpus


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ingest"]:  # issue 10: ingest at provincial scale (benchmarks/ingest_bench.py)
        return ingest_bench.main(argv[1:])
    if argv[:1] == ["figures"]:  # issue 23: print figures, old saving path against the current one
        return figures_bench.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description="导入性能与资源占用基准")
    parser.add_argument("--runs", type=int, default=3, help="每项测量的重复次数（默认 3）")
    parser.add_argument("--raw", type=Path, default=ROOT / "data" / "raw", help="基线：原始报表文件夹")
    parser.add_argument("--json", type=Path, default=None, help="另把结果写入此 JSON 文件")
    args = parser.parse_args(argv)
    hc = _corpus()
    from tests import hostile_corpus_ii as iic

    with tempfile.TemporaryDirectory(prefix="fazhi-corpus-") as tmp:
        root = Path(tmp)
        hostile = root / "hostile"
        hc.build_corpus(hostile)
        no_tall = root / "hostile-no-tall"
        hc.build_corpus(no_tall, [c for c in hc.CASES if c.name != "tall"])
        tall = root / "tall"
        hc.build_corpus(tall, [hc.CASES_BY_NAME["tall"]])
        mixed = root / "shipped-plus-hostile"
        shutil.copytree(args.raw, mixed)
        hc.build_corpus(mixed, [c for c in hc.CASES if c.preflight not in {"xlsx", "xls", "ods"}])

        singles = []
        for name in COSTLY_CASES:
            folder = root / f"case-{name}"
            hc.build_corpus(folder, [hc.CASES_BY_NAME["good"], hc.CASES_BY_NAME[name]])
            singles.append((f"单项：{name}", folder))
        drafts = root / "drafts"
        hc.build_corpus(drafts, [hc.CASES_BY_NAME["good"]])
        iic.drafts(drafts / hc.REGION / str(hc.YEAR), DRAFTS)
        singles.append((f"单项：同一单位 {DRAFTS} 份草稿", drafts))

        print(f"基准测试（每项 {args.runs} 次，取时间中位数、内存最大值）…", flush=True)
        measures = []
        for label, raw in (
            ("基线：data/raw", args.raw),
            ("data/raw + 全部被拒文件", mixed),
            (f"敌意语料（{len(hc.CASES)} 个文件）", hostile),
            ("敌意语料（不含 10 万行表）", no_tall),
            ("仅 10 万行表", tall),
            *singles,
        ):
            m = measure(label, raw, args.runs)
            measures.append(m)
            print(f"  {label}：{m.wall_s:.2f} 秒，峰值内存 {m.peak_mb:.0f} MB", flush=True)
        pre = preflight_seconds(hostile / hc.REGION / str(hc.YEAR))

    base = measures[0]
    print()
    print(
        f"{'测量':<28}{'文件':>5}{'总耗时(秒)':>12}{'导入(秒)':>10}{'峰值内存(MB)':>14}{'时间倍数':>10}{'内存倍数':>10}"
    )
    for m in measures:
        print(
            f"{m.label:<28}{m.files:>5}{m.wall_s:>12.2f}{m.ingest_s:>10.2f}{m.peak_mb:>14.0f}"
            f"{m.wall_s / base.wall_s:>10.2f}{m.peak_mb / base.peak_mb:>10.2f}"
        )
    corpus = measures[2]
    fits = corpus.wall_s < BUDGET_SECONDS and corpus.peak_mb < BUDGET_MB
    print(
        f"\n敌意语料整体：{corpus.wall_s:.1f} 秒、{corpus.peak_mb:.0f} MB；"
        f"目标 {BUDGET_SECONDS} 秒、{BUDGET_MB} MB 以内：{'满足' if fits else '不满足'}。"
    )
    for m in measures[5:]:
        fits = m.wall_s < CASE_BUDGET_SECONDS and m.peak_mb < CASE_BUDGET_MB
        print(
            f"{m.label}：{m.wall_s:.1f} 秒、{m.peak_mb:.0f} MB、issues.csv {m.issues_kb:,.0f} KB；"
            f"目标 {CASE_BUDGET_SECONDS} 秒、{CASE_BUDGET_MB} MB 以内：{'满足' if fits else '不满足'}。"
        )
    slowest = sorted(pre.items(), key=lambda kv: -kv[1])[:5]
    print(
        "预检（preflight）最慢的文件：" + "；".join(f"{name} {sec * 1000:.1f} 毫秒" for name, sec in slowest)
    )
    if args.json:
        payload = {
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "measures": [asdict(m) for m in measures],
            "preflight_seconds": pre,
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
