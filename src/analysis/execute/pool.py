"""The batch's default executor: long-lived worker processes, each keeping a warm kernel ready.

:class:`NotebookPool` is a ``concurrent.futures.Executor`` for module-level functions of one JSON argument
(a job dict) that return a JSON result: :func:`~analysis.execute.runner.execute_one` for a notebook, or a
caller's own step (found again by its module and name in the worker). ``submit(fn, job)`` returns a future
of the result. Up to ``workers`` worker processes (``python -m analysis.execute.pool --serve``) are
started when the first jobs come and live until the queue is empty after :meth:`NotebookPool.close`; each
runs one job at a time. A notebook job runs on a fresh kernel that started while the previous job ran
(:mod:`~analysis.execute.warm`), importing the modules that notebook imports. Python, papermill and the
kernel's imports are thus paid once per worker, not once per notebook. Jobs with a lower
``job["priority"]`` (default 1) are taken first: a caller finishes what it started before it starts more.

Isolation stays as it was with one process per notebook: every notebook has its own kernel; a worker that
dies or overruns the job's wall-clock limit (``job["hard_limit"]``) is killed with its process group and
reported as ``crashed`` or ``timeout`` for that job only, and the next job starts a new worker. A worker
exits by itself when its batch process is gone (even after ``kill -9``): its standard input closes, and it
also watches its parent.

Jobs go to a worker as one JSON line on its standard input; the result comes back as one JSON line on a
copy of its standard output, which the worker takes for itself before anything else can print there
(kernels and libraries write to the worker's log instead).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import asdict
from pathlib import Path

from analysis.execute import runner
from analysis.execute.runner import NotebookResult, read_stop

END = (float("inf"), 0, None)  # queued by close(): a worker that takes it exits


def call_name(fn: Callable) -> str:
    """``module:name`` of a module-level function (what a worker imports to call it)."""
    name = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', '')}"
    if "<" in name or name.startswith(":") or name.endswith(":"):
        raise TypeError(f"NotebookPool 只运行模块级函数，收到 {fn!r}")
    return name


def resolve(name: str) -> Callable[[dict], dict]:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


class NotebookPool(Executor):
    """``workers`` warm worker processes running jobs (see the module docstring)."""

    def __init__(self, workers: int = 2, env: dict | None = None):
        self.workers = max(1, int(workers))
        self.env = env
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()  # first in, first out within one priority
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._logs = Path(tempfile.mkdtemp(prefix="fazhi-workers-"))

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if kwargs or len(args) != 1 or not isinstance(args[0], dict):
            raise TypeError("NotebookPool 只运行 fn(job)：一个字典参数")
        job = {**args[0], "call": call_name(fn)}
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("NotebookPool 已关闭")
            self._jobs.put((job.get("priority", 1), next(self._order), (job, future)))
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._serve, args=(len(self._threads),), daemon=True)
                thread.start()
                self._threads.append(thread)
        return future

    def close(self) -> None:
        """No more jobs: each worker process exits as soon as the jobs already queued are done (while the
        caller still writes its results), not at :meth:`shutdown`."""
        with self._lock:
            if not self._closed:
                self._closed = True
                for _ in self._threads:
                    self._jobs.put(END)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.close()
        if cancel_futures:
            with self._lock, contextlib.suppress(queue.Empty):
                ends = 0
                while True:
                    item = self._jobs.get_nowait()[2]
                    if item is None:
                        ends += 1
                    else:
                        item[1].cancel()
            for _ in range(ends):
                self._jobs.put(END)
        if wait:
            for thread in self._threads:
                thread.join()
            shutil.rmtree(self._logs, ignore_errors=True)

    def _next_notebook(self) -> dict | None:
        """The next queued notebook job (not the end, not another kind of job): worth starting a kernel
        for; its kernel, folder and imports."""
        with self._jobs.mutex:
            waiting = sorted(entry for entry in self._jobs.queue if entry[2] is not None)
        job = waiting[0][2][0] if waiting else None
        return runner.kernel_of(job) if job is not None and runner.runs_notebook(job) else None

    def _serve(self, number: int) -> None:
        """One thread per worker process: hand it jobs one at a time; replace it when it died."""
        worker: _Worker | None = None
        try:
            while (item := self._jobs.get()[2]) is not None:
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if worker is None or not worker.alive():
                        worker = _Worker(self._logs / f"worker-{number}.log", self.env, job)
                    # a kernel for the next notebook: looked for once the worker is launched, by when the
                    # caller has queued the jobs it submits together (a new worker's first job would
                    # otherwise see an empty queue and start nothing ahead)
                    job = {**job, "prestart": self._next_notebook()}
                    future.set_result(worker.run(job))
                except BaseException as exc:  # never leave a future unanswered
                    future.set_exception(exc)
        finally:
            if worker is not None:
                worker.close()


class _Worker:
    """One worker process, seen from the batch."""

    def __init__(self, log_path: Path, env: dict | None, first: dict):
        self.log_path = log_path
        kernel = runner.kernel_of(first) if runner.runs_notebook(first) else {}
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "analysis.execute.pool", "--serve", json.dumps(kernel)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                env=env,
            )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output: the worker exited

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict) -> dict:
        started = time.monotonic()
        limit = float(job.get("hard_limit") or 3600)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job, ensure_ascii=False).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except OSError:  # the worker is gone: reported below from its exit
            pass
        try:
            line = self.lines.get(timeout=limit)
            overran = False
        except queue.Empty:
            line, overran = None, True
        if line:
            with contextlib.suppress(ValueError):
                return json.loads(line)
        self.kill()
        tail = self.log_path.read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
        detail = f"超过总时限 {limit:.0f} 秒，已强制结束" if overran else f"退出码 {self.proc.returncode}"
        if tail:
            detail += f"；最后输出：{tail[-1]}"
        failure = {
            "status": "timeout" if overran else "crashed",
            "seconds": round(time.monotonic() - started, 2),
            "detail": detail,
        }
        if "input" not in job:  # not a notebook: the caller reads the status and the detail
            return failure
        stem, stop = Path(job["input"]).stem, read_stop(Path(job["output"]))
        return asdict(NotebookResult(stem=stem, **failure, **stop))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        """End of the batch: close the worker's input (it shuts its spare kernel down and exits)."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


# --- the worker process ----------------------------------------------------------------------------


def _watch_parent() -> None:
    """Exit when the batch process that started this worker is gone (so nothing runs on unattended)."""
    parent = os.getppid()

    def poll() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(3)
            time.sleep(1.0)

    threading.Thread(target=poll, daemon=True).start()


def skip_iri_grammar() -> None:
    """In a process of ours, let jsonschema go without ``rfc3987_syntax``. Installed with JupyterLab
    (jupyter_server → jupyter_events → ``jsonschema[format-nongpl]``), that module builds a Lark grammar when
    imported, and jsonschema imports it whenever it is present: ``import nbformat`` then costs 1.04 CPU-s
    instead of 0.14 (measured), in the batch's main process and in every worker. Only jsonschema's "iri"
    format checker uses it, and nothing here checks formats (nbformat validates without a FormatChecker).
    Never done in a kernel: the analyst's own code sees the environment as installed."""
    sys.modules.setdefault("rfc3987_syntax", None)  # an ImportError for jsonschema, which then skips it


def serve(first_kernel: dict) -> int:
    """``python -m analysis.execute.pool --serve KERNEL``: run jobs from standard input until it closes.
    ``KERNEL`` (JSON: kernel name, folder, imports) is started at once, for the first notebook."""
    skip_iri_grammar()
    _watch_parent()
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the result channel: only this module writes it
    os.dup2(2, 1)  # whatever else prints (kernels inherit it) goes to the log
    from analysis.execute.forkserver import fork_enabled
    from analysis.execute.warm import Kernels, register_engine

    kernels = runner.use_kernels(Kernels(fork=fork_enabled()))
    if first_kernel and kernels.fork:  # the fork server imports while papermill is imported here
        kernels.prepare(first_kernel["kernel_name"], first_kernel.get("preload"))
    elif first_kernel:
        kernels.start(**first_kernel)  # the first kernel starts while papermill is imported
    register_engine()
    if first_kernel and kernels.fork:
        kernels.start(**first_kernel)
    try:
        for line in sys.stdin:
            if line.strip():
                job = json.loads(line)
                try:
                    result = resolve(job["call"])(job)
                except Exception as exc:  # a caller's step that raised: its job fails, the worker goes on
                    result = {"status": "crashed", "detail": f"{type(exc).__name__}: {exc}"}
                results.write(json.dumps(result, ensure_ascii=False) + "\n")
                results.flush()
    finally:
        kernels.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        sys.exit(serve(json.loads(sys.argv[2])))
    print("本模块的 --serve 模式供批处理内部使用；请运行 python -m analysis run。", file=sys.stderr)
    sys.exit(2)
