"""Read many submissions in a process pool, with results in the order of the files.

:func:`map_files` applies the per-file step of the pipeline to every file and yields its results in the
order of ``items``, whether it ran in this process or in a pool, so the tables are byte-identical either
way. Below :data:`MIN_FILES` files or with one worker, everything runs in this process: measured on 2 cores,
starting a forked pool costs 30–40 ms and a department's workbook about 1.2 ms of CPU, so two workers
break even near 60 files. Where workers are spawned rather than forked (Windows, macOS) each one imports
the package again (about 1 s), so the pool waits for :data:`MIN_FILES_SPAWN` files.

Workers: ``FAZHI_INGEST_WORKERS`` (``1`` turns the pool off), otherwise one per CPU the process may use,
at most :data:`MAX_WORKERS`. Failure isolation: a file that kills its worker process (a crash in a
reader's native code, the memory killer) becomes an ``unreadable-file`` problem for that file alone; the
others of its batch are read again. An exception in a worker (a bug met by one file) likewise becomes
that file's problem, with the traceback on stderr; in one process it propagates, as it always did.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

MIN_FILES = 64  # fewer files: one process (the pool's start-up is not worth it)
MIN_FILES_SPAWN = 2000
MAX_WORKERS = 8
CHUNK = 16  # files per task: few enough to balance the load, enough to amortise the messages
ENV = "FAZHI_INGEST_WORKERS"

_state: dict[str, Any] = {}


def worker_count(files: int, workers: int | None = None) -> int:
    """Processes to use for ``files`` files: ``workers`` if given, else ``FAZHI_INGEST_WORKERS``, else CPUs."""
    if workers is None:
        setting = os.environ.get(ENV, "").strip()
        if setting:
            try:
                workers = int(setting)
            except ValueError:
                raise ValueError(f"环境变量 {ENV} 应为正整数（进程数），当前为“{setting}”") from None
            if workers < 1:
                raise ValueError(f"环境变量 {ENV} 应为正整数（进程数），当前为“{setting}”")
        else:
            workers = min(_cpus(), MAX_WORKERS)
            method = (
                multiprocessing.get_start_method(allow_none=True)
                or multiprocessing.get_all_start_methods()[0]
            )
            forked = method == "fork"
            if files < (MIN_FILES if forked else MIN_FILES_SPAWN):
                return 1
    return max(1, min(workers, max(files, 1)))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_files(
    step: Callable[..., Any],
    items: Sequence[tuple],
    shared: tuple,
    crashed: Callable[..., Any],
    workers: int | None = None,
) -> Iterator[Any]:
    """``step(*item, *shared)`` for every item, in order; ``crashed(*item, *shared)`` stands in for a file
    whose step failed or killed its worker. ``shared`` (the catalog, the limits) goes to each worker once."""
    count = worker_count(len(items), workers)
    if count <= 1:
        for item in items:
            yield step(*item, *shared)
        return
    pending = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
    while pending:
        done = 0
        with ProcessPoolExecutor(count, initializer=_init, initargs=(step, shared)) as pool:
            futures = [pool.submit(_run_chunk, chunk) for chunk in pending]
            try:
                for future in futures:
                    for item, result in zip(pending[done], future.result(), strict=True):
                        yield crashed(*item, *shared) if result is _FAILED else result
                    done += 1
            except BrokenProcessPool:
                pass
        if done == len(pending):
            return
        # A worker died and took the pool with it. The first unfinished batch is read again one file per
        # process, so the file that kills its process is named and costs nobody else; the rest go on in a
        # new pool.
        for item in pending[done]:
            yield _isolated(step, item, shared, crashed)
        pending = pending[done + 1 :]


class _Failed:
    def __reduce__(self):
        return "_FAILED"


_FAILED = _Failed()


def _init(step: Callable[..., Any], shared: tuple) -> None:
    gc.enable()  # a worker forked while the collector was paused (:func:`gc_paused`) runs with it again
    _state["step"], _state["shared"] = step, shared
    _watch_parent()


def _watch_parent() -> None:
    """Exit when the ingest that started this worker is gone (``kill -9``): an orphaned worker would
    otherwise wait for work forever."""
    parent = os.getppid()

    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=poll, daemon=True).start()


def gc_paused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with Python's cyclic garbage collector paused while it runs.

    An ingest allocates hundreds of thousands of small objects that all stay alive until the tables are
    built (cells, candidates, problems; results unpickled from the workers) and makes almost no reference
    cycles, so every full collection during it walks every object for nothing: measured, a quarter of the
    main process's time over 2,000 workbooks. Reference counting still frees everything as usual."""

    @functools.wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


def _run_chunk(chunk: list[tuple]) -> list[Any]:
    step, shared = _state["step"], _state["shared"]
    results = []
    for item in chunk:
        try:
            results.append(step(*item, *shared))
        except Exception:  # a bug met by one file: that file's problem, not the batch's (traceback on stderr)
            traceback.print_exc()
            results.append(_FAILED)
    return results


def _isolated(step: Callable[..., Any], item: tuple, shared: tuple, crashed: Callable[..., Any]) -> Any:
    with ProcessPoolExecutor(1, initializer=_init, initargs=(step, shared)) as pool:
        try:
            result = pool.submit(_run_chunk, [item]).result()[0]
        except BrokenProcessPool:
            result = _FAILED
    return crashed(*item, *shared) if result is _FAILED else result
