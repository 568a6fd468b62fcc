"""The batch's default executor: long-lived worker processes, each keeping a warm kernel ready.

:class:`NotebookPool` is a ``concurrent.futures.Executor`` for one function, :func:`~analysis.report.runner.
execute_one`: ``submit(execute_one, job)`` returns a future of the result dict. Up to ``workers`` worker
processes (``python -m analysis.report.pool --serve KERNEL CWD``) are started when the first jobs come and
live until :meth:`NotebookPool.shutdown`; each runs one notebook at a time, on a fresh kernel that started
while the previous notebook ran (:mod:`~analysis.report.warm`). Python, papermill and the kernel's imports
are thus paid once per worker, not once per notebook.

Isolation stays as it was with one process per notebook: every notebook has its own kernel; a worker that
dies or overruns the job's wall-clock limit (``job["hard_limit"]``) is killed with its process group and
reported as ``crashed`` or ``timeout`` for that notebook only, and the next job starts a new worker. A
worker exits by itself when its batch process is gone (even after ``kill -9``): its standard input closes,
and it also watches its parent.

Jobs go to a worker as one JSON line on its standard input; the result comes back as one JSON line on a
copy of its standard output, which the worker takes for itself before anything else can print there
(kernels and libraries write to the worker's log instead).
"""

from __future__ import annotations

import contextlib
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
from concurrent.futures import Executor, Future
from dataclasses import asdict
from pathlib import Path

from analysis.report.runner import NotebookResult, _read_stop, execute_one


class NotebookPool(Executor):
    """``workers`` warm worker processes running :func:`execute_one` jobs (see the module docstring)."""

    def __init__(self, workers: int = 2, env: dict | None = None):
        self.workers = max(1, int(workers))
        self.env = env
        self._jobs: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._logs = Path(tempfile.mkdtemp(prefix="fazhi-workers-"))

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if fn is not execute_one or kwargs or len(args) != 1:
            raise TypeError("NotebookPool 只运行 execute_one(job)")
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("NotebookPool 已关闭")
            self._jobs.put((args[0], future))
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._serve, args=(len(self._threads),), daemon=True)
                thread.start()
                self._threads.append(thread)
        return future

    def close(self) -> None:
        """No more jobs: each worker process exits as soon as the jobs already queued are done (while the
        batch still writes pages), not at :meth:`shutdown`."""
        with self._lock:
            if not self._closed:
                self._closed = True
                for _ in self._threads:
                    self._jobs.put(None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.close()
        if cancel_futures:
            with self._lock, contextlib.suppress(queue.Empty):
                ends = 0
                while True:
                    item = self._jobs.get_nowait()
                    if item is None:
                        ends += 1
                    else:
                        item[1].cancel()
            for _ in range(ends):
                self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
            shutil.rmtree(self._logs, ignore_errors=True)

    def _more_jobs(self) -> bool:
        """A job (not the end) waits in the queue: worth starting a kernel for it."""
        with self._jobs.mutex:
            return any(item is not None for item in self._jobs.queue)

    def _serve(self, number: int) -> None:
        """One thread per worker process: hand it jobs one at a time; replace it when it died."""
        worker: _Worker | None = None
        try:
            while (item := self._jobs.get()) is not None:
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    job = {**job, "prestart": self._more_jobs()}  # start a kernel for the next job
                    if worker is None or not worker.alive():
                        worker = _Worker(job, self._logs / f"worker-{number}.log", self.env)
                    future.set_result(worker.run(job))
                except BaseException as exc:  # never leave a future unanswered
                    future.set_exception(exc)
        finally:
            if worker is not None:
                worker.close()


class _Worker:
    """One worker process, seen from the batch."""

    def __init__(self, job: dict, log_path: Path, env: dict | None):
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "analysis.report.pool", "--serve", job["kernel_name"], job["cwd"]],
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
        return asdict(
            NotebookResult(
                stem=Path(job["input"]).stem,
                status="timeout" if overran else "crashed",
                seconds=round(time.monotonic() - started, 2),
                detail=detail,
                **_read_stop(Path(job["output"])),
            )
        )

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


def serve(kernel_name: str, cwd: str) -> int:
    """``python -m analysis.report.pool --serve KERNEL CWD``: run jobs from standard input until it closes."""
    _watch_parent()
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the result channel: only this module writes it
    os.dup2(2, 1)  # whatever else prints (kernels inherit it) goes to the log
    from analysis.report.warm import Kernels, register_engine

    kernels = Kernels()
    kernels.start(kernel_name, cwd)  # the first kernel starts while papermill is imported
    register_engine()
    try:
        for line in sys.stdin:
            if line.strip():
                result = execute_one(json.loads(line), kernels)
                results.write(json.dumps(result, ensure_ascii=False) + "\n")
                results.flush()
    finally:
        kernels.discard()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        sys.exit(serve(sys.argv[2], sys.argv[3]))
    print("本模块的 --serve 模式供批处理内部使用；请运行 python -m analysis run。", file=sys.stderr)
    sys.exit(2)
