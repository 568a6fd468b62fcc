"""Warm kernels: a fresh kernel for every notebook, started before the notebook needs it.

A notebook never shares a kernel: each one gets a kernel process of its own, which is shut down when the
notebook ends, so nothing a notebook defines (a variable, a module global, a changed setting) can reach
the next one. What is saved is the waiting: while one notebook runs, the next kernel is already starting
and importing the heavy modules every report notebook needs (pandas, matplotlib, plotly and
``analysis.explore``), so when the next notebook comes its kernel answers at once.

The kernel runs the project's kernel spec as it is; the imports are asked for with IPython's
``exec_lines`` option, which leaves no name behind in the notebook's namespace.

:class:`WarmEngine` is a papermill engine (registered as ``fazhi-warm``) that executes a notebook on a kernel
manager it is handed, then shuts that kernel down, as papermill does with a kernel it starts itself.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

ENGINE_NAME = "fazhi-warm"
# Imported by every new kernel before it is handed a notebook (the modules the report notebooks import).
PRELOAD = (
    "pandas",
    "pyarrow.parquet",
    "matplotlib.figure",
    "plotly.graph_objects",
    "analysis.explore.nb",
    "analysis.explore.charts",
    "analysis.explore.quality",
    "analysis.explore.sentences",
    "analysis.explore.comparison",
)


def preload_arguments(modules: tuple[str, ...] = PRELOAD) -> list[str]:
    """The kernel's command-line options that import ``modules`` at start-up. Each line is a statement
    (``if __import__(name): pass``): no name is bound and nothing is displayed, so the notebook's namespace is
    the one of a new kernel; a module that fails to import is skipped (the notebook will say why)."""
    return [f"--IPKernelApp.exec_lines=if __import__({m!r}): pass" for m in modules]


class Kernels:
    """At most one spare kernel, started ahead for the next notebook (``kernel_name`` and ``cwd``)."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD):
        self.preload = preload
        self.spare: tuple[tuple[str, str], AsyncKernelManager | BaseException] | None = None

    def start(self, kernel_name: str, cwd: str | Path) -> None:
        """Start a kernel for a later :meth:`take` (returns as soon as its process is launched)."""
        self.discard()
        key = (kernel_name, str(cwd))
        km = AsyncKernelManager(kernel_name=kernel_name)
        try:
            run_sync(km.start_kernel)(cwd=str(cwd), extra_arguments=preload_arguments(self.preload))
        except BaseException as exc:  # NoSuchKernel, a kernel command that cannot be launched …
            self.spare = (key, exc)
            return
        self.spare = (key, km)

    def take(self, kernel_name: str, cwd: str | Path) -> AsyncKernelManager:
        """The started kernel for this notebook (starting one now when there is no matching spare).
        A failed start raises here, where the caller counts the attempt."""
        key = (kernel_name, str(cwd))
        if self.spare is None or self.spare[0] != key:
            self.start(kernel_name, cwd)
        assert self.spare is not None
        _, found = self.spare
        self.spare = None
        if isinstance(found, BaseException):
            raise found
        return found

    def discard(self) -> None:
        """Shut the spare kernel down (end of the worker, or the next notebook wants another kernel)."""
        if self.spare is not None and not isinstance(self.spare[1], BaseException):
            shutdown(self.spare[1])
        self.spare = None


def shutdown(km: AsyncKernelManager) -> None:
    """Stop a kernel at once (nothing of a finished notebook is left to save); a stopped one is left alone."""
    if km.has_kernel:
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)


def register_engine() -> None:
    """Make :class:`WarmEngine` available to ``papermill.execute_notebook(engine_name="fazhi-warm")``."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, _engine_class())


def _engine_class():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, logger

    from analysis.report.pages import is_plotly_bundle

    class SlimClient(PapermillNotebookClient):
        """Drops the output that embeds all of plotly.js (4.8 MB) as soon as it arrives: the page loads
        plotly.js from ``assets/`` and the batch drops that output anyway (``pages.drop_plotly_bundles``),
        but until then papermill would write it again with every cell it saves."""

        def process_message(self, msg, cell, cell_index):
            output = super().process_message(msg, cell, cell_index)
            if output is not None and is_plotly_bundle(output.get("data", {})):
                cell.outputs[:] = [o for o in cell.outputs if o is not output]
            return output

    class WarmEngine(NBClientEngine):
        """papermill's nbclient engine on a kernel that was started before (``km``); the kernel is shut
        down when the notebook ends, whether it finished, failed or timed out."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            km=None,
            **kwargs,
        ):
            client = SlimClient(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                shutdown_kernel="immediate",
            )
            return client.execute(cleanup_kc=True)

    return WarmEngine
