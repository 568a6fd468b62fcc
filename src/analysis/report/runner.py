"""Running notebooks: each one under papermill, on the project kernel, in a worker process of its own.

Up to ``workers`` notebooks run at a time, each with a per-cell timeout and a wall-clock limit for the
whole worker; a kernel that fails to start is retried. A notebook that raises, kills its kernel or hangs
is reported (:class:`NotebookResult`) with the cell where it stopped; the others go on.

Parameters are injected with their Python types (``"007"`` stays a string, unlike ``papermill -p``):
strings as ``repr`` literals by :class:`ReprTranslator`, which every worker registers.

The worker entry point is ``python -m analysis.report.runner --worker JOB.json RESULT.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import papermill as pm
from jupyter_client.kernelspec import NoSuchKernel
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError
from papermill.translators import PythonTranslator, papermill_translators

from analysis.core.fileio import atomic_write_bytes
from analysis.report.kernel import KERNEL_NAME
from analysis.report.targets import Target

START_TIMEOUT = 60  # seconds for a kernel to start and answer
START_ATTEMPTS = 3  # a kernel that fails to start is tried this many times
PARAMETER_NAMES = ("region", "year", "processed_dir", "output_dir")

Say = Callable[[str], None]


@dataclass
class NotebookResult:
    """How one notebook ran. ``status``: ok | error | timeout | dead | startup | crashed."""

    stem: str
    status: str
    seconds: float = 0.0
    attempts: int = 1
    cell: int | None = None  # 1-based position among the cells of the source notebook
    cell_index: int | None = None  # index in the executed notebook (with papermill's injected cell)
    execution_count: int | None = None
    source_line: str = ""
    ename: str = ""
    evalue: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failure_text(self, timeout: int | None = None) -> str:
        """One Chinese line: where the notebook stopped and why."""
        if self.ok:
            return ""
        where = ""
        if self.cell is not None:
            count = f"，In [{self.execution_count}]" if self.execution_count else ""
            line = f"：{self.source_line}" if self.source_line else ""
            where = f"第 {self.cell} 个单元格（代码单元格{count}{line}）"
        if self.status == "error":
            error = f"{self.ename}: {self.evalue}".strip(": ")
            return f"{where}出错：{_short(error, 200)}" if where else f"出错：{_short(error, 200)}"
        if self.status == "timeout":
            limit = f"超过 {timeout} 秒时限" if timeout else "超过时限"
            return f"{where}运行{limit}，已中止" if where else f"运行{limit}，已中止"
        if self.status == "dead":
            return f"{where}运行时内核意外退出（进程崩溃或被结束）" if where else "内核意外退出"
        if self.status == "startup":
            return f"内核 {KERNEL_NAME} 启动失败（已尝试 {self.attempts} 次）：{_short(self.detail, 200)}"
        return (
            f"{where}批处理工作进程异常结束：{_short(self.detail, 200)}"
            if where
            else _short(self.detail, 200)
        )


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def locate_stop(nb: nbformat.NotebookNode) -> dict:
    """Where an executed notebook stopped: the last cell papermill started (or the one it marked failed)."""
    position, found = 0, {}
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            continue
        position += 1
        pm = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type != "code" or not pm.get("start_time"):
            continue
        line = next(
            (s.strip() for s in cell.source.splitlines() if s.strip() and not s.strip().startswith("#")), ""
        )
        found = {
            "cell": position,
            "cell_index": index,
            "execution_count": cell.get("execution_count"),
            "source_line": _short(line, 80),
        }
        if pm.get("exception") or pm.get("status") == "failed":
            break
    return found


def _error_of(nb: nbformat.NotebookNode, index: int | None) -> tuple[str, str]:
    if index is None:
        return "", ""
    for out in nb.cells[index].get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", ""), out.get("evalue", "")
    return "", ""


def notebook_parameters(target: Target, processed_dir: Path | str, output_dir: Path | str) -> dict:
    """The values injected into a notebook's ``parameters`` cell, with their Python types."""
    return {
        "region": str(target.region),
        "year": int(target.year),
        "processed_dir": str(processed_dir),
        "output_dir": str(output_dir),
    }


class ReprTranslator(PythonTranslator):
    """Inject string parameters as Python ``repr`` literals (readable Chinese, always a valid literal)."""

    @classmethod
    def translate_str(cls, val):
        return repr(str(val))


def register_parameter_translator() -> None:
    """Make papermill inject Python parameters with :class:`ReprTranslator` (done in every worker)."""
    papermill_translators.register("python", ReprTranslator)


def execute_one(job: dict) -> dict:
    """Run one notebook as described by ``job`` (paths, parameters, kernel, timeout); a result dict.

    Called in a worker process. A kernel that fails to start (no cell started) is retried.
    """
    register_parameter_translator()
    register_parameter_translator()
    output = Path(job["output"])
    stem = Path(job["input"]).stem
    started = time.monotonic()
    attempts = job.get("attempts", START_ATTEMPTS)
    status, detail, error, stop = "startup", "", ("", ""), {}
    for attempt in range(1, attempts + 1):
        try:
            pm.execute_notebook(
                job["input"],
                str(output),
                parameters=job["parameters"],
                kernel_name=job["kernel_name"],
                execution_timeout=job["timeout"],
                start_timeout=job.get("start_timeout", START_TIMEOUT),
                progress_bar=False,
                log_output=False,
                cwd=job["cwd"],
            )
            status = "ok"
        except PapermillExecutionError as exc:
            status, error = "error", (exc.ename, exc.evalue)
        except CellTimeoutError as exc:
            status, detail = "timeout", str(exc)
        except DeadKernelError as exc:
            status, detail = "dead", str(exc)
        except NoSuchKernel as exc:
            status, detail = "startup", f"没有名为 {exc} 的内核，请运行 python -m analysis kernel --install"
            break
        except Exception as exc:  # kernel start-up failures come as RuntimeError, TimeoutError, OSError …
            status, detail = "startup", f"{type(exc).__name__}: {exc}"
        stop = _read_stop(output)
        if status == "startup" and stop:
            status = "dead"  # a cell had started: the kernel went away under it
        if status != "startup" or attempt == attempts:
            break
        time.sleep(min(2.0 * attempt, 5.0))
    if status == "error" and not error[0] and stop.get("cell_index") is not None:
        error = _error_of(nbformat.read(output, as_version=4), stop["cell_index"])
    result = NotebookResult(
        stem=stem,
        status=status,
        seconds=round(time.monotonic() - started, 2),
        attempts=attempt,
        ename=error[0],
        evalue=error[1],
        detail=_short(detail, 500),
        **(stop if status != "ok" else {}),
    )
    return asdict(result)


def _read_stop(path: Path) -> dict:
    try:
        return locate_stop(nbformat.read(path, as_version=4))
    except Exception:  # not written yet, or torn by a killed worker
        return {}


def _watch_parent() -> None:
    """Exit when the batch process that started this worker is gone (so nothing runs on unattended)."""
    parent = os.getppid()

    def poll() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(3)
            time.sleep(1.0)

    threading.Thread(target=poll, daemon=True).start()


def worker_main(argv: list[str]) -> int:
    """``python -m analysis.report.runner --worker JOB.json RESULT.json``: execute one notebook, write the result."""

    _watch_parent()
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = execute_one(job)
    atomic_write_bytes(Path(argv[1]), json.dumps(result, ensure_ascii=False).encode("utf-8"))
    return 0


def hard_limit(notebook: Path, timeout: int) -> float:
    """Wall-clock limit of one worker: every code cell at its timeout, plus kernel starts."""
    nb = nbformat.read(notebook, as_version=4)
    cells = sum(1 for c in nb.cells if c.cell_type == "code") + 1
    return cells * timeout + START_ATTEMPTS * (START_TIMEOUT + 10) + 60


def run_worker(job: dict, job_dir: Path, hard_limit: float, env: dict | None = None) -> NotebookResult:
    """Run :func:`execute_one` in a fresh Python process; a worker that dies or overruns is reported."""
    stem = Path(job["input"]).stem
    job_path, result_path, log_path = (
        job_dir / f"{stem}.{ext}" for ext in ("job.json", "result.json", "log")
    )
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "analysis.report.runner", "--worker", str(job_path), str(result_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        try:
            proc.wait(timeout=hard_limit)
            overran = False
        except subprocess.TimeoutExpired:
            overran = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if result_path.is_file():
        return NotebookResult(**json.loads(result_path.read_text(encoding="utf-8")))
    stop = _read_stop(Path(job["output"]))
    tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
    detail = f"超过总时限 {hard_limit:.0f} 秒，已强制结束" if overran else f"退出码 {proc.returncode}"
    if tail:
        detail += f"；最后输出：{tail[-1]}"
    return NotebookResult(
        stem=stem,
        status="timeout" if overran else "crashed",
        seconds=round(time.monotonic() - started, 2),
        detail=detail,
        **stop,
    )


def run_all(
    jobs: list[tuple[Path, dict]], jobs_dir: Path, workers: int, say: Say, env: dict | None = None
) -> list[NotebookResult]:
    """Run each ``(notebook, job)`` in a worker process, ``workers`` at a time; results in the same order."""

    def one(item: tuple[Path, dict]) -> NotebookResult:
        nb_path, job = item
        try:
            limit = hard_limit(nb_path, job["timeout"])
        except Exception as exc:  # not a notebook (bad JSON, wrong format): report it, run the others
            result = NotebookResult(stem=nb_path.stem, status="crashed", detail=f"笔记本文件无法读取：{exc}")
        else:
            result = run_worker(job, jobs_dir, limit, env=env)
        mark = "完成" if result.ok else "失败"
        say(f"  {mark}  {nb_path.name}（{result.seconds:.1f} 秒）")
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, jobs))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2:]))
    print("本模块的 --worker 模式供批处理内部使用；请运行 python -m analysis run。", file=sys.stderr)
    sys.exit(2)
