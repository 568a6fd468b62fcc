"""Warm kernels: a fresh kernel for every notebook, started before the notebook needs it.

A notebook never shares a kernel: each one gets a kernel process of its own, which is shut down when the
notebook ends, so nothing a notebook defines (a variable, a module global, a changed setting) can reach
the next one. What is saved is the waiting: while one notebook runs, the next kernel is already starting
and importing the modules that notebook imports (:func:`~analysis.execute.runner.notebook_imports`), so
when the next notebook comes its kernel answers at once; a notebook that imports nothing starts a bare
kernel.

The kernel runs its kernel spec as it is; the imports are asked for with IPython's ``exec_lines`` option,
which leaves no name behind in the notebook's namespace.

:class:`WarmEngine` is a papermill engine (registered as ``fazhi-warm``) that executes a notebook on a kernel
manager it is handed, then shuts that kernel down, as papermill does with a kernel it starts itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

ENGINE_NAME = "fazhi-warm"


def preload_arguments(modules: list[str] | tuple[str, ...]) -> list[str]:
    """The kernel's command-line options that import ``modules`` at start-up (IPython's ``exec_lines``):
    one expression that binds no name and displays nothing (:func:`~analysis.execute.kernel.preload`
    returns None), so the notebook's namespace is the one of a new kernel; a module that fails to import
    is skipped (the notebook will say why when it imports it)."""
    if not modules:
        return []
    call = f"__import__('analysis.execute.kernel', fromlist=['preload']).preload({list(modules)!r})"
    return [f"--IPKernelApp.exec_lines={call}"]


class Kernels:
    """At most one spare kernel, started ahead for the next notebook (kernel, folder and imports).

    With ``fork=True`` (a pool worker on POSIX unless ``FAZHI_KERNEL_START=spawn``, see
    :mod:`~analysis.execute.forkserver`) kernels are forked from a warm server started with the first
    kernel's imports; otherwise, or when the server cannot fork one, each kernel is spawned."""

    def __init__(self, fork: bool = False):
        self.spare: tuple[tuple, AsyncKernelManager | BaseException] | None = None
        self.fork = fork
        self.server = None  # the ForkServer, started with the first kernel

    @staticmethod
    def _key(kernel_name: str, cwd: str | Path, preload, env) -> tuple:
        return (kernel_name, str(cwd), tuple(preload or ()), tuple(sorted((env or {}).items())))

    def start(self, kernel_name: str, cwd: str | Path, preload=(), env: dict | None = None) -> None:
        """Start a kernel for a later :meth:`take` (returns as soon as its process is launched); ``env`` is
        added to this process's environment for the kernel only."""
        self.discard()
        key = self._key(kernel_name, cwd, preload, env)
        km = AsyncKernelManager(kernel_name=kernel_name)
        try:
            if self.fork:
                self._forking(km, key[2])
            run_sync(km.start_kernel)(
                cwd=str(cwd), extra_arguments=preload_arguments(key[2]), env={**os.environ, **(env or {})}
            )
        except BaseException as exc:  # NoSuchKernel, a kernel command that cannot be launched …
            self.spare = (key, exc)
            return
        self.spare = (key, km)

    def take(
        self, kernel_name: str, cwd: str | Path, preload=(), env: dict | None = None
    ) -> AsyncKernelManager:
        """The started kernel for this notebook (starting one now when there is no matching spare).
        A failed start raises here, where the caller counts the attempt."""
        key = self._key(kernel_name, cwd, preload, env)
        if self.spare is None or self.spare[0] != key:
            self.start(kernel_name, cwd, preload, env)
        assert self.spare is not None
        _, found = self.spare
        self.spare = None
        if isinstance(found, BaseException):
            raise found
        return found

    def prepare(self, kernel_name: str, preload=()) -> None:
        """Start the fork server now (it imports while the caller goes on); nothing when spawning."""
        if self.fork and self.server is None:
            from jupyter_client.kernelspec import KernelSpecManager

            from analysis.execute.forkserver import ForkServer, split_command

            with contextlib.suppress(Exception):  # no such kernel: start() will say so
                parts = split_command(KernelSpecManager().get_kernel_spec(kernel_name).argv)
                self.server = ForkServer(tuple(preload or ()), parts[0] if parts else ())

    def _forking(self, km: AsyncKernelManager, preload: tuple) -> None:
        """Make ``km`` launch its kernel by fork from the server (started now if it is not yet)."""
        import uuid

        from analysis.execute.forkserver import ForkServer, split_command
        from analysis.execute.provisioner import ForkProvisioner

        if self.server is None:
            parts = split_command(km.kernel_spec.argv)
            self.server = ForkServer(preload, parts[0] if parts else ())
        km.kernel_id = km.kernel_id or str(uuid.uuid4())
        provisioner = ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        provisioner.server = self.server
        km.provisioner = provisioner

    def close(self) -> None:
        """The spare kernel and the fork server, if any, stopped (end of the worker)."""
        self.discard()
        if self.server is not None:
            self.server.close()
            self.server = None

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


PLOTLY_MIME = "application/vnd.plotly.v1+json"


def is_plotly_bundle(data: dict) -> bool:
    """The output plotly's notebook renderer emits once to load plotly.js into the page (4.8 MB of script)."""
    text = data.get("text/html", "")
    return isinstance(text, str) and "window.PlotlyConfig" in text and PLOTLY_MIME not in data


def drop_bundles(cell, **_) -> None:
    """nbclient's ``on_cell_executed`` hook: drop the outputs that embed all of plotly.js before papermill
    saves the cell (a page loads plotly.js from its ``assets/`` folder instead). The project's helpers do
    not publish it in a run stage; a notebook's own use of plotly's renderers may."""
    cell.outputs[:] = [o for o in cell.get("outputs", []) if not is_plotly_bundle(o.get("data", {}))]


def lean_saves(nb_man) -> None:
    """Make papermill's execution manager write the output notebook when a code cell starts (a worker
    killed mid-cell leaves the file that says where it stopped, :func:`~analysis.execute.runner.locate_stop`)
    and when the notebook ends, not also when each cell completes and when a markdown cell passes: a third
    of the writes (each one deep-copies the notebook and writes indented JSON). papermill's timed autosave
    during a long cell is kept."""
    save, start, complete = nb_man.save, nb_man.cell_start, nb_man.cell_complete
    skip = [False]

    def maybe_save(**kwargs):
        if not skip[0]:
            save(**kwargs)

    def cell_start(cell, cell_index=None, **kwargs):
        skip[0] = cell.get("cell_type") != "code"
        try:
            start(cell, cell_index, **kwargs)
        finally:
            skip[0] = False

    def cell_complete(cell, cell_index=None, **kwargs):
        skip[0] = True
        try:
            complete(cell, cell_index, **kwargs)
        finally:
            skip[0] = False

    nb_man.save, nb_man.cell_start, nb_man.cell_complete = maybe_save, cell_start, cell_complete


@functools.cache
def register_engine() -> None:
    """Make :class:`WarmEngine` available to ``papermill.execute_notebook(engine_name="fazhi-warm")``."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, _engine_class())


def _engine_class():
    """papermill's documented extension point is the engine (``papermill.engines.Engine``, registered by
    name). The engine builds the client papermill's own nbclient engine builds (``PapermillNotebookClient``,
    not subclassed) with two public nbclient options: ``km``, the kernel started ahead, and
    ``on_cell_executed``, which drops plotly.js bundles as each cell ends (and :func:`lean_saves` on
    papermill's execution manager); ``execute(cleanup_kc=True)`` then shuts that kernel and its client down
    when the notebook ends, whether it finished, failed or timed out."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import Engine, logger

    class WarmEngine(Engine):
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
            lean_saves(nb_man)
            client = PapermillNotebookClient(
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
                on_cell_executed=drop_bundles,
            )
            return client.execute(cleanup_kc=True)

    return WarmEngine
