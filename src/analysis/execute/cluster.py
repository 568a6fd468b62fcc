"""Running the batch's notebooks on a Dask cluster: ``run --scheduler local|tcp://host:8786``.

Optional: needs the extra ``distributed`` (``pip install -e '.[distributed]'``). The cluster only replaces
the executor (``client.get_executor()``, a ``concurrent.futures.Executor``): each notebook runs
:func:`~analysis.execute.runner.execute_one` (and the caller's other steps) in a Dask worker, on a fresh kernel papermill starts there, with
the same per-cell timeout and kernel start retries. The batch process still decides what to build, writes
the pages and publishes, as with local workers; so the Dask workers must see the same paths (the notebooks,
the processed tables and the reports folder: one machine, or a shared folder mounted at the same path).

``local`` starts a ``LocalCluster`` of ``--workers`` single-threaded worker processes on this machine for
the run. The cluster is started only when a report is to be built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor


class SchedulerError(ValueError):
    """A scheduler that cannot be used (Chinese message)."""


CONNECT_SECONDS = 5  # an unreachable scheduler fails within this (well within 10 s), never after 30

MISSING_DISTRIBUTED = (
    "使用 --scheduler 需要安装可选依赖 distributed：pip install -e '.[distributed]'"
    "（或不加 --scheduler，在本机的工作进程中运行）。"
)


def check_scheduler(scheduler: str) -> str:
    """``local`` or a ``tcp://host:port`` address (Chinese message otherwise)."""
    text = str(scheduler).strip()
    if text == "local" or (text.startswith("tcp://") and len(text) > len("tcp://")):
        return text
    raise SchedulerError(
        f"--scheduler 应为 local 或 Dask 调度器地址（如 tcp://192.168.1.10:8786），收到“{scheduler}”。"
    )


@contextlib.contextmanager
def dask_executor(scheduler: str, workers: int) -> Iterator[Executor]:
    """An executor on the Dask cluster ``scheduler`` (``local``: a LocalCluster for this run)."""
    scheduler = check_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise SchedulerError(MISSING_DISTRIBUTED) from exc
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise SchedulerError(
            f"无法在 {CONNECT_SECONDS} 秒内连接 Dask 调度器 {scheduler}（{type(exc).__name__}）：请确认调度器已启动、"
            "地址和端口正确、防火墙允许连接，或不加 --scheduler 在本机的工作进程中运行。"
        ) from exc
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
