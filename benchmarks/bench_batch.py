"""Benchmarks of the notebook batch (issue 10): ``python benchmarks/bench_batch.py`` (``make bench`` runs it
after ``benchmarks/bench.py``).

Four measurements, each printed as ONE JSON line followed by a one-line verdict (Chinese). Every figure is a
ratio against a baseline run in the same invocation on the same machine, so runs on different machines
compare; nothing here is a test and nothing asserts a time. Each line says the load average when it began:
on a shared machine the ratios are only comparable within one run.

- **kernels**: a kernel that imports what a report notebook imports and draws its first plotly figure,
  spawned (a new Python) or forked from a warm server (issue 23), alternately: wall time and the kernel
  process's own CPU.

- **batch**: the shipped 通许县 2019 data (copied from ``data/raw`` to a temporary folder and ingested there)
  through ``python -m analysis run --workers 2``, against (a) the naive loop: ``papermill`` CLI then
  ``jupyter nbconvert --to html`` CLI per notebook, one after the other, and (b) the floor: a notebook that
  only takes the parameters and imports the package, executed as many times as there are notebooks over
  two worker processes (each notebook on a fresh kernel), and (c) a skilled user's script: papermill's Python
  API in a pool of 2 processes, nbconvert in the same process. Goals: ≥ 3× faster than (a), ≤ 1.5× (b);
  with forked kernels (the POSIX default since issue 23; ``run_s`` is the spawn path,
  ``FAZHI_KERNEL_START=spawn``): ≥ 6× (a), ≤ 0.8× (b), ≥ 2.5× (c).
  ``run`` also writes the summary workbook and the Word draft, which the naive loop does not; the PDF
  preview (LibreOffice, 8–37 s a report) is left out of the comparison (``FAZHI_SOFFICE`` pointed at
  nothing) and measured on its own.
- **incremental**: two regions × two years from filled templates: (a) ``ingest`` + ``run`` a second time
  with nothing changed (goal ≤ 0.1× the first); (b) one department's workbook resent with one value
  changed: which region-years re-ran, and the time.
- **scale**: 20 regions × 2 years (``--quick``: 3 regions), ``run --region all --year all --workers 2``:
  total and per-notebook time.

Never touches the live ``data/processed`` or ``reports/``: everything is written in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHIPPED = ROOT / "data" / "raw" / "通许县" / "2019"
BIN = Path(sys.executable).parent
KERNEL = "fazhi-analysis"
NO_PDF = {"FAZHI_SOFFICE": "fazhi-no-soffice"}  # soffice() finds nothing: the draft without its PDF
FLOOR_CELLS = (
    'region = "通许县"\nyear = 2019\nprocessed_dir = ""\noutput_dir = ""',
    "import analysis.explore.nb\nfrom analysis.explore import charts, quality, sentences, selection, tables",
)


def _env(extra: dict | None = None) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(extra or {})}
    if env.get("PYTHONPATH"):  # absolute, as the fork server requires (a relative entry is spawned)
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    return env


ENV = "FAZHI_KERNEL_START"
FORK = {ENV: "fork"}  # kernels forked from a warm server per worker (POSIX)
SPAWN = {ENV: "spawn"}


LAST_CPU = [0.0]  # CPU seconds of the last timed command and all its processes (kernels included)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, str]:
    """Wall time of a command (its output kept, for the lines that say what ran); its CPU time, with that
    of every process under it that was waited for, in :data:`LAST_CPU` (POSIX)."""
    started, cpu = time.perf_counter(), _children_cpu() if os.name == "posix" else 0.0
    done = subprocess.run(cmd, capture_output=True, text=True, env=env or _env(), cwd=cwd, timeout=7200)
    seconds = time.perf_counter() - started
    LAST_CPU[0] = (_children_cpu() - cpu) if os.name == "posix" else 0.0
    if done.returncode not in (0, 1):
        raise SystemExit(f"命令失败（{done.returncode}）：{' '.join(map(str, cmd))}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def analysis(*args: object) -> list[str]:
    return [sys.executable, "-m", "analysis", *map(str, args)]


def ingest(raw: Path, processed: Path) -> tuple[float, str]:
    return timed(analysis("ingest", "--raw", raw, "--out", processed))


def files_read(output: str) -> list[str]:
    """The files an ingest read (its per-file lines without "未变化"): the others it reused unread. The
    per-file lines end at the summary ("完成：…"); the issues listed after it are not files."""
    per_file = output.split("\n完成：", 1)[0]
    lines = [line.strip() for line in per_file.splitlines() if line.startswith("  ") and "（" in line]
    return [line[2:].split("（")[0] for line in lines if line[:1] in "✓!✗" and "未变化" not in line]


def run(processed: Path, reports: Path, *extra: object, env: dict | None = None) -> tuple[float, str]:
    cmd = analysis("run", "--processed", processed, "--reports", reports, "--notebooks", NOTEBOOKS)
    return timed(cmd + ["--workers", "2", *map(str, extra)], env=_env(env))


def report_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if re.match(r"\d\d_", p.name))


def shipped_raw(root: Path) -> Path:
    raw = root / "raw"
    shutil.copytree(SHIPPED, raw / "通许县" / "2019")
    return raw


# --- batch -----------------------------------------------------------------------------------------------


def naive_loop(processed: Path, out: Path) -> float:
    """papermill CLI, then jupyter nbconvert CLI, per notebook, one after the other."""
    out.mkdir(parents=True)
    started = time.perf_counter()
    for nb in report_notebooks():
        executed = out / nb.name
        params = ["-p", "region", "通许县", "-p", "year", "2019", "-p", "processed_dir", str(processed)]
        params += ["-p", "output_dir", str(out)]
        timed(
            [str(BIN / "papermill"), str(nb), str(executed), "-k", KERNEL, "--cwd", str(NOTEBOOKS), *params]
        )
        timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)])
    return time.perf_counter() - started


def _skilled_one(notebook: str, processed: str, out: str) -> None:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    executed = Path(out) / Path(notebook).name
    params = {"region": "通许县", "year": 2019, "processed_dir": processed, "output_dir": out}
    pm.execute_notebook(
        notebook, str(executed), parameters=params, kernel_name=KERNEL, cwd=str(NOTEBOOKS), progress_bar=False
    )
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    executed.with_suffix(".html").write_text(body, encoding="utf-8")


def skilled_script(processed: Path, out: Path, workers: int = 2) -> float:
    """A skilled user's script: papermill's Python API in a pool of ``workers`` processes, each notebook
    then converted to HTML by nbconvert in the same process."""
    out.mkdir(parents=True)
    books = [str(p) for p in report_notebooks()]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_skilled_one, books, [str(processed)] * len(books), [str(out)] * len(books)))
    return time.perf_counter() - started


def _floor_share(notebook: str, processed: str, out: str, count: int) -> None:
    import papermill as pm

    for n in range(count):
        params = {"region": "通许县", "year": 2019, "processed_dir": processed, "output_dir": out}
        pm.execute_notebook(
            notebook,
            f"{out}/floor-{os.getpid()}-{n}.ipynb",
            parameters=params,
            kernel_name=KERNEL,
            progress_bar=False,
        )


def floor(processed: Path, out: Path, count: int, workers: int = 2) -> float:
    """A notebook that takes the parameters and imports the package, ``count`` times over ``workers``
    worker processes (each started once), each time on a fresh kernel."""
    import nbformat

    out.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "language": "python", "display_name": KERNEL}
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_CELLS[0], metadata={"tags": ["parameters"]})]
    nb.cells.append(nbformat.v4.new_code_cell(FLOOR_CELLS[1]))
    path = out / "floor.ipynb"
    nbformat.write(nb, path)
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(
            pool.map(
                _floor_share, [str(path)] * workers, [str(processed)] * workers, [str(out)] * workers, shares
            )
        )
    return time.perf_counter() - started


# Runs the batch in a child process and reads that process's own CPU time (all its threads, not its workers
# or kernels) when the last notebook of the report has ended (with its page) and when the batch returns.
TAIL = """
import json, sys, time
from pathlib import Path
from analysis.report.batch import run_batch
count, marks = int(sys.argv[4]), {"ended": 0}
def say(line):
    if line.startswith(("  完成", "  失败")):
        marks["ended"] += 1
        if marks["ended"] == count:
            marks["cpu"], marks["wall"] = time.process_time(), time.perf_counter()
run_batch("通许县", 2019, Path(sys.argv[1]), Path(sys.argv[2]), notebooks_dir=Path(sys.argv[3]), workers=2, say=say)
print(json.dumps({"tail_cpu_s": time.process_time() - marks["cpu"], "tail_wall_s": time.perf_counter() - marks["wall"]}))
"""


def main_process_tail(processed: Path, reports: Path, count: int) -> dict:
    """The batch process's own CPU and wall time after the report's last notebook ended (one region-year)."""
    cmd = [sys.executable, "-c", TAIL, str(processed), str(reports), str(NOTEBOOKS), str(count)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(NO_PDF), check=True)
    return {k: round(v, 3) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def bench_batch(root: Path) -> dict:
    raw = shipped_raw(root)
    processed = root / "processed"
    ingest(raw, processed)
    count = len(report_notebooks())
    one = ("--region", "通许县", "--year", "2019")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    spawned, forked = [], []  # (wall, CPU) of each run, the two paths alternately: the best of each
    for turn in range(2):
        for path, runs in ((SPAWN, spawned), (FORK, forked)):
            wall, _ = run(
                processed, root / f"reports-{path[ENV]}-{turn}", *one, "--force", env=_env({**NO_PDF, **path})
            )
            runs.append((round(wall, 2), round(LAST_CPU[0], 2)))
    run_s, fork_s = min(w for w, _ in spawned), min(w for w, _ in forked)
    tail = main_process_tail(processed, root / "reports-tail", count)
    with_pdf_s, _ = run(processed, root / "reports-pdf", *one)
    naive_s = naive_loop(processed, root / "naive")
    skilled_s = skilled_script(processed, root / "skilled")
    floor_s = floor(processed, root / "floor", count)
    best = min(run_s, fork_s)
    return {
        "benchmark": "batch",
        "cpus": os.cpu_count(),
        "load_at_start": load,
        "notebooks": count,
        "workers": 2,
        "run_s": round(run_s, 2),
        "run_fork_s": round(fork_s, 2),
        "spawn_runs_wall_cpu_s": spawned,
        "fork_runs_wall_cpu_s": forked,
        "cpu_ratio_fork_to_spawn": round(
            min(c for _, c in forked) / max(min(c for _, c in spawned), 0.01), 2
        ),
        "run_with_pdf_s": round(with_pdf_s, 2),
        "naive_s": round(naive_s, 2),
        "skilled_s": round(skilled_s, 2),
        "floor_s": round(floor_s, 2),
        "speedup_vs_naive": round(naive_s / run_s, 2),
        "ratio_to_floor": round(run_s / floor_s, 2),
        "fork_speedup_vs_naive": round(naive_s / fork_s, 2),
        "fork_speedup_vs_skilled": round(skilled_s / fork_s, 2),
        "fork_ratio_to_floor": round(fork_s / floor_s, 2),
        "best_speedup_vs_skilled": round(skilled_s / best, 2),
        "main_cpu_after_last_notebook_s": tail["tail_cpu_s"],
        "main_wall_after_last_notebook_s": tail["tail_wall_s"],
    }


def verdict_batch(m: dict) -> str:
    fast = "满足" if m["speedup_vs_naive"] >= 3 else "未满足"
    near = "满足" if m["ratio_to_floor"] <= 1.5 else "未满足"

    def met(ok: bool) -> str:
        return "满足" if ok else "未满足"

    return (
        f"批量运行（新启动内核，FAZHI_KERNEL_START=spawn）：{m['run_s']} 秒，比逐个调用命令行（{m['naive_s']} 秒）快 {m['speedup_vs_naive']} 倍（目标 ≥3 倍：{fast}）；"
        f"是下限（{m['floor_s']} 秒）的 {m['ratio_to_floor']} 倍（目标 ≤1.5 倍：{near}）；"
        f"派生内核（POSIX 上的默认）{m['run_fork_s']} 秒：是下限的 {m['fork_ratio_to_floor']} 倍"
        f"（目标 ≤0.8 倍：{met(m['fork_ratio_to_floor'] <= 0.8)}），比逐个调用命令行快 {m['fork_speedup_vs_naive']} 倍"
        f"（目标 ≥6 倍：{met(m['fork_speedup_vs_naive'] >= 6)}），比熟练用户的脚本（papermill API 两进程 + nbconvert，"
        f"{m['skilled_s']} 秒）快 {m['fork_speedup_vs_skilled']} 倍（目标 ≥2.5 倍：{met(m['fork_speedup_vs_skilled'] >= 2.5)}）；"
        f"两条路径交替各运行两次取最快；全部进程的 CPU：派生是新启动的 {m['cpu_ratio_fork_to_spawn']} 倍"
        f"（新启动 {m['spawn_runs_wall_cpu_s']}，派生 {m['fork_runs_wall_cpu_s']}，[墙钟, CPU] 秒）；"
        f"开始时负载 {m['load_at_start']}；含 PDF 预览 {m['run_with_pdf_s']} 秒；"
        f"最后一个笔记本结束后批处理主进程自身用 CPU {m['main_cpu_after_last_notebook_s']} 秒"
        f"（目标 <0.5 秒：{'满足' if m['main_cpu_after_last_notebook_s'] < 0.5 else '未满足'}），"
        f"到结束共 {m['main_wall_after_last_notebook_s']} 秒。"
    )


# --- kernel start-up: spawned or forked ----------------------------------------------------------------

KERNEL_IMPORTS = [
    "pandas",
    "pyarrow",
    "analysis.explore.nb",
    "analysis.explore.charts",
    "analysis.explore.tables",
]
FIRST_CELL = (
    "from analysis.explore import charts, nb, tables\n"
    "import plotly.graph_objects as go\n"
    "go.Figure(go.Bar(x=[1], y=['a'], orientation='h')).update_layout(title='x').to_plotly_json()"
)


def _kernel_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one_kernel(kernels, folder: Path) -> tuple[float, float]:
    from jupyter_core.utils import run_sync

    from analysis.execute.warm import shutdown

    started = time.perf_counter()
    km = kernels.take(KERNEL, folder, KERNEL_IMPORTS)
    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=120)
        run_sync(client.execute_interactive)(FIRST_CELL, timeout=120, output_hook=lambda msg: None)
        return time.perf_counter() - started, _kernel_cpu(km.provisioner.pid)
    finally:
        client.stop_channels()
        shutdown(km)


def bench_kernels(root: Path, rounds: int = 4) -> dict:
    """A kernel started, importing what a report notebook imports and drawing its first plotly figure:
    spawned (a new Python) against forked from a warm server, alternately, in this process. Wall time to
    the end of that first cell and the kernel process's own CPU (the server's one-off imports excluded,
    and counted separately as its own start)."""
    from analysis.execute.forkserver import fork_enabled
    from analysis.execute.warm import Kernels

    if not fork_enabled({"FAZHI_KERNEL_START": "fork"}) or not Path("/proc").is_dir():
        return {"benchmark": "kernels", "skipped": "no fork here"}
    os.environ.update({k: v for k, v in _env().items() if k == "PYTHONPATH"})
    spawned, forked = Kernels(), Kernels(fork=True)
    forked.prepare(KERNEL, KERNEL_IMPORTS)
    results: dict[str, list[tuple[float, float]]] = {"spawn": [], "fork": []}
    try:
        results["fork"].append(_one_kernel(forked, root))  # waits for the server: its start, counted once
        server_start = results["fork"].pop()[0]
        server_cpu = _kernel_cpu(forked.server.proc.pid)
        for n in range(rounds):
            for mode in ("spawn", "fork") if n % 2 else ("fork", "spawn"):
                results[mode].append(_one_kernel(spawned if mode == "spawn" else forked, root))
    finally:
        spawned.close()
        forked.close()

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3)

    spawn_wall, spawn_cpu = mean([w for w, _ in results["spawn"]]), mean([c for _, c in results["spawn"]])
    fork_wall, fork_cpu = mean([w for w, _ in results["fork"]]), mean([c for _, c in results["fork"]])
    return {
        "benchmark": "kernels",
        "load_at_start": os.getloadavg()[0],
        "rounds": rounds,
        "spawn_wall_s": spawn_wall,
        "spawn_kernel_cpu_s": spawn_cpu,
        "fork_wall_s": fork_wall,
        "fork_kernel_cpu_s": fork_cpu,
        "fork_server_first_kernel_s": round(server_start, 2),
        "fork_server_cpu_s": round(server_cpu, 2),
        "wall_ratio_fork_to_spawn": round(fork_wall / spawn_wall, 3),
        "cpu_ratio_fork_to_spawn": round(fork_cpu / spawn_cpu, 3),
    }


def verdict_kernels(m: dict) -> str:
    if "skipped" in m:
        return "内核启动：本机不能派生内核，未测。"
    return (
        f"内核启动（导入报告笔记本所需模块并画第一张 plotly 图）：新启动 {m['spawn_wall_s']} 秒、内核自身 CPU {m['spawn_kernel_cpu_s']} 秒；"
        f"从派生服务派生 {m['fork_wall_s']} 秒、CPU {m['fork_kernel_cpu_s']} 秒（墙钟 {m['wall_ratio_fork_to_spawn']} 倍，"
        f"CPU {m['cpu_ratio_fork_to_spawn']} 倍）；派生服务每个工作进程启动一次，CPU {m['fork_server_cpu_s']} 秒；"
        f"开始时负载 {m['load_at_start']:.1f}。"
    )


# --- generated regions and years ----------------------------------------------------------------------------


def generated_raw(raw: Path, regions: int, years: tuple[int, ...] = (2019, 2020)) -> list[str]:
    """Filled templates (as tests/site_data.py fills them) for ``regions`` regions × ``years``; the figures
    vary a little from one region-year to the next."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import site_data

    names = [f"测试县{n:02d}" for n in range(1, regions + 1)]
    for n, name in enumerate(names):
        for year in years:
            site_data.PLAN[(name, year)] = 1.0 + 0.01 * n + (0.1 if year == years[-1] else 0.0)
            site_data.fill_templates(raw, name, year)
    return names


def ran_lines(output: str) -> tuple[list[str], list[str]]:
    ran = [line.split("：")[0] for line in output.splitlines() if "：运行 " in line]
    reused = [line.split("：")[0] for line in output.splitlines() if "沿用上次的报告。" in line]
    return ran, reused


def change_one_value(workbook: Path) -> None:
    """One department resends its workbook with one figure changed (its first value, +1)."""
    import openpyxl

    from analysis.ingest import template as tpl

    wb = openpyxl.load_workbook(workbook)
    ws = wb[tpl.DATA_SHEET]
    for row in range(tpl.FIRST_DATA_ROW, ws.max_row + 1):
        cell = ws.cell(row, tpl.VALUE_COL)
        if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
            cell.value = cell.value + 1
            wb.save(workbook)
            return
    raise SystemExit(f"{workbook} 中没有数值")


def bench_incremental(root: Path) -> dict:
    raw = root / "raw"
    names = generated_raw(raw, 2)
    processed, reports = root / "processed", root / "reports"
    args = ("--region", "all", "--year", "all")
    first_ingest, _ = ingest(raw, processed)
    first_run, _ = run(processed, reports, *args, env=NO_PDF)
    second_ingest, second_log = ingest(raw, processed)
    second_run, out = run(processed, reports, *args, env=NO_PDF)
    _, unchanged_reused = ran_lines(out)
    workbook = sorted((raw / names[0] / "2020").glob("*.xlsx"))[0]
    change_one_value(workbook)
    third_ingest, third_log = ingest(raw, processed)
    third_run, out = run(processed, reports, *args, env=NO_PDF)
    ran, reused = ran_lines(out)
    first = first_ingest + first_run
    return {
        "benchmark": "incremental",
        "cpus": os.cpu_count(),
        "region_years": 4,
        "first_s": round(first, 2),
        "first_ingest_s": round(first_ingest, 2),
        "unchanged_s": round(second_ingest + second_run, 2),
        "unchanged_ingest_s": round(second_ingest, 2),
        "unchanged_run_s": round(second_run, 2),
        "unchanged_ratio": round((second_ingest + second_run) / first, 3),
        "unchanged_reused": len(unchanged_reused),
        "unchanged_files_read": len(files_read(second_log)),
        "files": len(list(raw.rglob("*.xlsx"))),
        "resent_file": workbook.relative_to(raw).as_posix(),
        "resent_files_read": files_read(third_log),
        "resent_ingest_s": round(third_ingest, 2),
        "resent_s": round(third_ingest + third_run, 2),
        "resent_ratio": round((third_ingest + third_run) / first, 3),
        "resent_reran": ran,
        "resent_reused": reused,
    }


def verdict_incremental(m: dict) -> str:
    ok = "满足" if m["unchanged_ratio"] <= 0.1 else "未满足"
    return (
        f"增量：未变化的第二次导入+运行 {m['unchanged_s']} 秒，是第一次（{m['first_s']} 秒）的 {m['unchanged_ratio']} 倍"
        f"（目标 ≤0.1：{ok}；其中导入 {m['unchanged_ingest_s']} 秒、run {m['unchanged_run_s']} 秒）；"
        f"未变化时读取 {m['unchanged_files_read']}/{m['files']} 个文件；"
        f"重新报送 {m['resent_file']} 后 {m['resent_s']} 秒，重新读取：{'、'.join(m['resent_files_read'])}；重新生成：{'、'.join(m['resent_reran'])}；"
        f"沿用：{'、'.join(m['resent_reused']) or '无'}。"
    )


def bench_scale(root: Path, regions: int) -> dict:
    raw = root / "raw"
    started = time.perf_counter()
    generated_raw(raw, regions)
    generate_s = time.perf_counter() - started
    processed = root / "processed"
    ingest_s, _ = ingest(raw, processed)
    run_s, out = run(processed, root / "reports", "--region", "all", "--year", "all", env=NO_PDF)
    ran, _ = ran_lines(out)
    notebooks = len(report_notebooks()) * regions * 2 + 2  # the two comparison pages
    return {
        "benchmark": "scale",
        "cpus": os.cpu_count(),
        "regions": regions,
        "years": 2,
        "reports": len(ran),
        "notebooks": notebooks,
        "workers": 2,
        "generate_s": round(generate_s, 1),
        "ingest_s": round(ingest_s, 2),
        "run_s": round(run_s, 1),
        "per_notebook_s": round(run_s / notebooks, 3),
        "notebooks_per_s": round(notebooks / run_s, 3),
    }


def verdict_scale(m: dict) -> str:
    return (
        f"规模：{m['regions']} 个地区 × {m['years']} 个年度（{m['reports']} 份报告、{m['notebooks']} 个笔记本）"
        f"用时 {m['run_s']} 秒，每个笔记本 {m['per_notebook_s']} 秒（2 个工作进程，每秒 {m['notebooks_per_s']} 个）。"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_batch.py", description="批量运行、增量运行与规模基准"
    )
    parser.add_argument(
        "--only",
        choices=("kernels", "batch", "incremental", "scale"),
        action="append",
        help="只运行某项（可重复）",
    )
    parser.add_argument("--quick", action="store_true", help="规模基准只用 3 个地区")
    parser.add_argument("--regions", type=int, default=None, help="规模基准的地区数（默认 20，--quick 为 3）")
    args = parser.parse_args(argv)
    chosen = args.only or ["kernels", "batch", "incremental", "scale"]
    regions = args.regions or (3 if args.quick else 20)
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix=f"fazhi-bench-{name}-") as tmp:
            root = Path(tmp)
            if name == "kernels":
                m = bench_kernels(root)
                line = verdict_kernels(m)
            elif name == "batch":
                m = bench_batch(root)
                line = verdict_batch(m)
            elif name == "incremental":
                m = bench_incremental(root)
                line = verdict_incremental(m)
            else:
                m = bench_scale(root, regions)
                line = verdict_scale(m)
        print(json.dumps(m, ensure_ascii=False), flush=True)
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
