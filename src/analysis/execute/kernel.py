"""The project's Jupyter kernel ``fazhi-analysis``, registered inside the virtual environment.

papermill, nbval and JupyterLab all name this kernel explicitly, so a notebook never runs on some other
Python that happens to be registered as ``python3`` on the machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KERNEL_NAME = "fazhi-analysis"
DISPLAY_NAME = "法治政府分析 (Python 3)"


def kernel_dir(prefix: str | Path | None = None) -> Path:
    """Where the kernel spec lives: ``<prefix>/share/jupyter/kernels/fazhi-analysis``."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def is_installed(prefix: str | Path | None = None) -> bool:
    """True when the spec on disk runs ipykernel on this interpreter under the project's display name."""
    path = kernel_dir(prefix) / "kernel.json"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    argv = spec.get("argv") or []
    return (
        spec.get("display_name") == DISPLAY_NAME
        and spec.get("language") == "python"
        and argv[:1] == [sys.executable]
        and "ipykernel_launcher" in argv
    )


def install_kernel(prefix: str | Path | None = None) -> tuple[Path, bool]:
    """Register the kernel under ``prefix`` (default ``sys.prefix``); returns (folder, changed).

    Idempotent: an up-to-date spec is left alone; a stale one (another interpreter) is rewritten.
    """
    from ipykernel.kernelspec import install

    if is_installed(prefix):
        return kernel_dir(prefix), False
    folder = install(kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME, prefix=str(prefix or sys.prefix))
    return Path(folder), True


def ensure_kernel() -> None:
    """Make sure Jupyter can find the kernel (the batch calls this before starting any notebook)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        install_kernel()
        return
    if spec.argv and not Path(spec.argv[0]).exists():
        install_kernel()


def preload(modules: list[str]) -> None:
    """Import ``modules`` in a kernel that is starting (see :mod:`~analysis.execute.warm`), skipping those
    that cannot be imported: ``from a import b`` names both ``a`` and ``a.b``, and ``b`` may be no module."""
    import contextlib
    import importlib

    for name in modules:
        with contextlib.suppress(Exception):  # the notebook's own import will say why
            importlib.import_module(name)
