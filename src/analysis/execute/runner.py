"""Running notebooks: each one under papermill, on a fresh kernel of its own, in a worker process.

:func:`execute_one` runs one notebook (a job: paths, parameters, kernel, timeouts) in the process that calls
it; :func:`submit_all` hands the jobs of a report to an executor (``concurrent.futures.Executor``-shaped,
by default the warm worker processes of :mod:`~analysis.execute.pool`) and :func:`collect` gathers them. Each notebook has a per-cell timeout
and, in a worker process, a wall-clock limit; a kernel that fails to start is retried. A notebook that
raises, kills its kernel or hangs is reported (:class:`NotebookResult`) with the cell where it stopped; the
others go on.

Parameters are injected with their Python types (``"007"`` stays a string, unlike ``papermill -p``):
strings as ``repr`` literals by :class:`ReprTranslator`, which every worker registers.

papermill and nbclient are imported only when a notebook runs: a batch that reuses every report never
loads them.
"""

from __future__ import annotations

import ast
import functools
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.execute.kernel import KERNEL_NAME

if TYPE_CHECKING:
    import nbformat

    from analysis.execute.warm import Kernels

START_TIMEOUT = 60  # seconds for a kernel to start and answer
START_ATTEMPTS = 3  # a kernel that fails to start is tried this many times
START_PAUSE = 2.0  # seconds before the second attempt (times the attempt number after, at most 5)
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
    extra: dict = field(default_factory=dict)  # what a caller's own step added beside the notebook's run

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


@functools.cache
def _repr_translator() -> type:
    from papermill.translators import PythonTranslator

    class ReprTranslator(PythonTranslator):
        """Inject string parameters as Python ``repr`` literals (readable Chinese, always a valid literal)."""

        @classmethod
        def translate_str(cls, val):
            return repr(str(val))

    return ReprTranslator


def __getattr__(name: str):
    if name == "ReprTranslator":  # built on first use: papermill is imported only when notebooks run
        return _repr_translator()
    raise AttributeError(name)


def register_parameter_translator() -> None:
    """Make papermill inject Python parameters with ``ReprTranslator``, in every process that runs notebooks."""
    from papermill.translators import papermill_translators

    papermill_translators.register("python", _repr_translator())


_worker_kernels: Kernels | None = None  # set by a worker process of the pool (use_kernels)


def use_kernels(kernels: Kernels) -> Kernels:
    """Make :func:`execute_one` in this process run notebooks on ``kernels`` (a pool worker's warm ones)."""
    global _worker_kernels
    _worker_kernels = kernels
    return kernels


def runs_notebook(job: dict) -> bool:
    """A job that runs a notebook on a kernel (:func:`execute_one`, or a step that calls it), as every
    job made by :func:`submit_all` does: a spare kernel is worth starting for it."""
    return {"input", "kernel_name", "cwd"} <= set(job)


def kernel_of(job: dict) -> dict:
    """What a kernel for ``job`` is started with (:meth:`~analysis.execute.warm.Kernels.start`)."""
    return {
        "kernel_name": job["kernel_name"],
        "cwd": job["cwd"],
        "preload": job.get("preload", []),
        "env": job.get("env") or {},
    }


def notebook_imports(nb: nbformat.NotebookNode) -> list[str]:
    """The modules the code cells of ``nb`` import (``import a.b``, ``from a.b import c``), in order: what
    a kernel started ahead for it imports while the previous notebook runs. Cells that are not plain
    Python (magics) are skipped; so are relative imports."""
    found: dict[str, None] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(dict.fromkeys(a.name for a in node.names))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found[node.module] = None  # ``from a import b``: b may be a module of a
                found.update(dict.fromkeys(f"{node.module}.{a.name}" for a in node.names if a.name != "*"))
    return list(found)


def kernel_imports(imports: list[str], always=(), with_package: dict | None = None) -> list[str]:
    """What a kernel started ahead for a notebook importing ``imports`` imports: ``always``, the modules
    ``with_package`` names for each package the notebook imports from (``{"analysis": ["pandas"]}``), then
    the notebook's own, each once."""
    used = {name.split(".")[0] for name in imports}
    extra = [m for package, modules in (with_package or {}).items() if package in used for m in modules]
    return list(dict.fromkeys([*always, *extra, *imports]))


def execute_one(job: dict, kernels: Kernels | None = None) -> dict:
    """Run one notebook as described by ``job`` (paths, parameters, kernel, timeout); a result dict.

    The notebook runs on a new kernel of its own, started with ``job["env"]`` added to its environment and
    importing what the notebook imports (``job["preload"]``); the kernel is shut down at the end. With
    ``kernels`` (a worker's :class:`~analysis.execute.warm.Kernels`, by default the ones of
    :func:`use_kernels`) that kernel was started ahead, and when ``job["prestart"]`` names the next
    notebook's kernel, that one starts while this one runs. A kernel that fails to start (no cell started)
    is retried. This process's own environment is never changed, so threads may run notebooks side by side.
    """
    if kernels is None and _worker_kernels is None:
        from analysis.execute.warm import Kernels

        own = Kernels()
        try:
            return _execute({**job, "prestart": None}, own)
        finally:
            own.discard()
    return _execute(job, kernels or _worker_kernels)


def _execute(job: dict, kernels: Kernels) -> dict:
    import nbformat
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from analysis.execute.warm import ENGINE_NAME, register_engine, shutdown

    register_parameter_translator()
    register_engine()
    output = Path(job["output"])
    stem = Path(job["input"]).stem
    started = time.monotonic()
    attempts = job.get("attempts", START_ATTEMPTS)
    status, detail, error, stop = "startup", "", ("", ""), {}
    for attempt in range(1, attempts + 1):
        engine: dict = {}
        try:
            engine = {"engine_name": ENGINE_NAME, "km": kernels.take(**kernel_of(job))}
            if job.get("prestart") and attempt == 1:
                kernels.start(**job["prestart"])  # for the next notebook, meanwhile
            pm.execute_notebook(
                job["input"],
                str(output),
                parameters=job["parameters"],
                kernel_name=job["kernel_name"],
                execution_timeout=job["timeout"],
                start_timeout=job.get("start_timeout", START_TIMEOUT),
                progress_bar=False,
                log_output=False,
                cwd=None,  # the kernel was started in job["cwd"]; papermill's cwd would chdir the whole process
                **engine,
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
        finally:
            if "km" in engine:  # normally shut down by the engine already
                shutdown(engine["km"])
        stop = read_stop(output)
        if status == "startup" and stop:
            status = "dead"  # a cell had started: the kernel went away under it
        if status != "startup" or attempt == attempts:
            break
        time.sleep(min(job.get("pause", START_PAUSE) * attempt, 5.0))
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


def read_stop(path: Path) -> dict:
    import nbformat

    try:
        return locate_stop(nbformat.read(path, as_version=4))
    except Exception:  # not written yet, or torn by a killed worker
        return {}


def hard_limit(nb: nbformat.NotebookNode, timeout: int) -> float:
    """Wall-clock limit of one notebook in a worker: every code cell at its timeout, plus kernel starts."""
    cells = sum(1 for c in nb.cells if c.cell_type == "code") + 1
    return cells * timeout + START_ATTEMPTS * (START_TIMEOUT + 10) + 60


def submit_all(
    jobs: list[tuple[Path, dict]],
    executor: Executor,
    say: Say,
    label: str = "",
    fn: Callable[[dict], dict] | None = None,
) -> list[Future | NotebookResult]:
    """Hand each ``(notebook, job)`` to ``executor`` (``submit(fn, job)``; ``fn`` is :func:`execute_one` or a
    caller's step that calls it and adds to ``extra``); one line is said per notebook as it ends (``label``
    in front when several reports run at once). A notebook that cannot be read is reported at once,
    without running. :func:`collect` waits for the results."""
    import nbformat

    ready: list[tuple[Path, dict | NotebookResult]] = []  # every notebook read before any is handed out:
    for nb_path, job in jobs:  # a worker then sees the whole queue when it starts (its next kernel ahead)
        try:
            nb = nbformat.read(nb_path, as_version=4)
            preload = kernel_imports(
                notebook_imports(nb), job.get("preload", []), job.get("preload_with", {})
            )
            ready.append((nb_path, {**job, "preload": preload, "hard_limit": hard_limit(nb, job["timeout"])}))
        except Exception as exc:  # not a notebook (bad JSON, wrong format): report it, run the others
            result = NotebookResult(stem=nb_path.stem, status="crashed", detail=f"笔记本文件无法读取：{exc}")
            _say_result(say, label, nb_path, result)
            ready.append((nb_path, result))
    handles: list[Future | NotebookResult] = []
    for nb_path, job in ready:
        if isinstance(job, NotebookResult):
            handles.append(job)
            continue
        future = executor.submit(fn or execute_one, job)
        future.add_done_callback(lambda f, p=nb_path: _say_result(say, label, p, _result_of(f, p)))
        handles.append(future)
    return handles


def collect(handles: list[Future | NotebookResult], notebooks: list[Path]) -> list[NotebookResult]:
    """The results of :func:`submit_all`, in the order of the notebooks. A job the executor lost (a remote
    worker that died, a broken pool) is reported as crashed."""
    return [
        h if isinstance(h, NotebookResult) else _result_of(h, p)
        for h, p in zip(handles, notebooks, strict=True)
    ]


def _result_of(future: Future, nb_path: Path) -> NotebookResult:
    try:
        value = future.result()
    except Exception as exc:  # the executor lost the job (a remote worker died, a broken pool)
        return NotebookResult(stem=nb_path.stem, status="crashed", detail=f"{type(exc).__name__}: {exc}")
    return value if isinstance(value, NotebookResult) else NotebookResult(**value)


def _say_result(say: Say, label: str, nb_path: Path, result: NotebookResult) -> None:
    where = f"{label} · " if label else ""
    say(f"  {'完成' if result.ok else '失败'}  {where}{nb_path.name}（{result.seconds:.1f} 秒）")
