"""Kernels forked from a warm server (POSIX, the default there): the imports of a kernel paid once per worker.

A spawned kernel is a new Python that imports ipykernel, pandas, matplotlib, plotly and the project, then
at its first figure nbformat (jsonschema's format checkers: a Lark grammar), the Agg and SVG backends and
Pillow's encoders. A pool worker instead starts one *fork server* (``python -m analysis.execute.forkserver``)
that imports all of that once (:data:`COMPANIONS`, one small figure drawn to memory; the Lark grammar is
built only when a kernel first checks an IRI), ``gc.freeze``s it (a kernel's collections never walk, so
never copy, it), creates no thread, zmq context or event loop, and
forks, for each notebook, a child that becomes a normal ipykernel, driven unchanged by papermill and
nbclient through :class:`~analysis.execute.provisioner.ForkProvisioner`. ``FAZHI_KERNEL_START=spawn``
(any value but ``fork`` or empty) refuses it: kernels are spawned, as on Windows.

The child starts as a spawned kernel would: its own process, namespace and session; standard input a pipe;
the notebook's folder; exactly the kernel manager's environment; default SIGCHLD; fresh random seeds; no
descriptor of the server. Differences, of speed only: BLAS and pyarrow's jemalloc on one thread
(:data:`SINGLE_THREADED`), the server's string-hash seed. The server changes no setting and never imports a
module whose import looks at a running kernel (:data:`KERNEL_SENSITIVE`): if one is, kernels are spawned.

Kill guarantees: the server exits when its worker goes (its socket closes) and kills the kernels it forked;
a killed server takes its kernels with it (Linux's parent-death signal, else ipykernel's poller). A server
with more than one thread, or a kernel command other than this Python's ``-m ipykernel_launcher``: spawned.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

ENV = "FAZHI_KERNEL_START"  # unset, empty or "fork": forked from a warm server (POSIX); else spawned
INLINE = "module://matplotlib_inline.backend_inline"  # what ipykernel sets before any matplotlib import
# imported only inside a running kernel: their import looks at the kernel (pyplot's backend, plotly's
# default renderer) and would differ if done in the server
KERNEL_SENSITIVE = ("matplotlib.pyplot", "matplotlib_inline.backend_inline", "plotly.io._renderers", "pylab")
ANSWER_WITHIN = 180  # seconds for the server's answer (its imports come first): then it is given up
# what every kernel imports as it starts; ipykernel.debugger (with debugpy) is imported when the kernel object
# is made (its ``debugger_class`` trait), 0.06 CPU-s a kernel: it starts no thread and sets no trace hook
ALWAYS = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger")
# libraries that start native threads on import unless told not to (OpenBLAS's pool with numpy, the
# jemalloc purging thread with pyarrow): the server, which must stay single-threaded, tells them not to,
# so its kernels run BLAS on one thread and purge freed memory as they go (speed only, not results)
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
# imported by a kernel at its first figure or table: module → the library that makes it worth importing
# (pyarrow.dataset: what reading a parquet file imports, after pyarrow.parquet)
COMPANIONS = {
    "nbformat": "plotly",
    "plotly.io.json": "plotly",
    "pyarrow.parquet": "pandas",
    "pyarrow.dataset": "pyarrow.parquet",
}
# variables read when the modules are imported (the interpreter's, debugpy's): a kernel whose own differ from
# the server's would not have imported them as the server did, so it is spawned
READ_AT_IMPORT = ("PYTHON", "PYDEVD")
STARTUP: dict[str, str] = {}  # the server's own such variables, as it started
SET_BY_IMPORTS: dict[str, str] = {}  # variables the imports set where unset (debugpy: PYDEVD_USE_FRAME_EVAL)


def fork_enabled(environ: dict | None = None) -> bool:
    """True when kernels are to be forked: possible here (POSIX, ``/proc``) and not refused
    (``FAZHI_KERNEL_START`` unset, empty or ``fork``; ``spawn`` or any other value refuses)."""
    setting = (os.environ if environ is None else environ).get(ENV, "").strip().lower()
    return (
        setting in ("", "fork") and hasattr(os, "fork") and sys.platform != "win32" and Path("/proc").is_dir()
    )


def split_command(cmd: list[str]) -> tuple[list[str], list[str]] | None:
    """``(interpreter options, kernel arguments)`` of a kernel command the server can stand in for: this
    Python running ``-m ipykernel_launcher`` (options such as ``-Xfrozen_modules=off`` before ``-m``);
    None for any other command."""
    if "-m" not in cmd[1:]:
        return None
    at = cmd.index("-m", 1)
    options = cmd[1:at]
    if cmd[at + 1 : at + 2] != ["ipykernel_launcher"] or not all(o.startswith("-X") for o in options):
        return None
    try:
        same = os.path.samefile(cmd[0], sys.executable)
    except OSError:
        return None
    return (options, cmd[at + 2 :]) if same else None


class ForkRefused(RuntimeError):
    """The server cannot fork this kernel (spawn it instead)."""


class ForkServer:
    """The batch side of one fork server: started with the modules to import, asked for kernels."""

    def __init__(self, modules: list[str] | tuple[str, ...] = (), options: list[str] | tuple[str, ...] = ()):
        self.options = list(options)  # the interpreter options of the kernels it forks (the kernel spec's)
        ours, theirs = socket.socketpair()
        self._lock = threading.Lock()
        self._sock = ours
        self._sock.settimeout(ANSWER_WITHIN)
        self._buffer = b""
        self.gone = False
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *self.options,
                "-m",
                "analysis.execute.forkserver",
                str(theirs.fileno()),
                json.dumps(list(modules)),
            ],
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()

    def fork(self, argv: list[str], cwd: str, env: dict) -> int:
        """A new kernel process running ipykernel with ``argv`` in ``cwd`` with ``env``; its pid."""
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode("utf-8") + b"\n"
        with self._lock:
            if self.gone:
                raise ForkRefused("fork server gone")
            try:
                self._sock.sendall(request)
                line, self._buffer = _line(self._sock, self._buffer)
                if line is None:
                    raise OSError("connection closed")
            except OSError as exc:  # dead, or no answer in time: never asked again (a late answer would
                self.gone = True  # be read as the next one's)
                with contextlib.suppress(OSError):
                    self.proc.kill()
                raise ForkRefused(f"fork server gone: {exc}") from exc
        answer = json.loads(line)
        if "pid" not in answer:
            raise ForkRefused(answer.get("error", "refused"))
        return int(answer["pid"])

    def close(self) -> None:
        """Stop the server (it kills the kernels it forked that still run)."""
        with contextlib.suppress(OSError):
            self._sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _line(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """The next line read on ``sock`` after ``buffer``, and what follows it; None once the other end closed."""
    while b"\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buffer
        buffer += chunk
    line, _, rest = buffer.partition(b"\n")
    return line, rest


# --- the server process ----------------------------------------------------------------------------


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def warm(modules: list[str]) -> str:
    """Import ``modules`` (and ipykernel), pay plotly's first-figure cost; the reason not to fork, if any."""
    os.environ.setdefault("MPLBACKEND", INLINE)  # as ipykernel sets it before a notebook imports matplotlib
    STARTUP.update({k: v for k, v in os.environ.items() if k.startswith(READ_AT_IMPORT)})
    os.environ.update(SINGLE_THREADED)
    before = dict(os.environ)
    with _iri_grammar_deferred():
        for name in [*ALWAYS, *modules]:
            if name in KERNEL_SENSITIVE or name.split(".")[0] in ("matplotlib_inline", "pylab"):
                continue
            with contextlib.suppress(Exception):  # the kernel's own import will say why
                importlib.import_module(name)
        if "plotly" in sys.modules:
            with contextlib.suppress(Exception):
                _warm_plotly()
        _warm_companions()
    SET_BY_IMPORTS.update({k: v for k, v in os.environ.items() if k not in before})
    gc.collect()
    gc.freeze()  # the server's objects are never traversed by a kernel's collector (no copy-on-write)
    return refusal()


IRI_SYNTAX = "rfc3987_syntax"


@contextlib.contextmanager
def _iri_grammar_deferred():
    """While the server imports: jsonschema (imported with nbformat) finds ``rfc3987_syntax`` (installed with
    JupyterLab) and registers its "iri" format checkers as always, but their syntax check imports the real
    module, whose import builds a Lark grammar (0.7 CPU-s), only when a kernel first checks an IRI. The
    stand-in is gone from ``sys.modules`` afterwards: a kernel's own ``import rfc3987_syntax`` imports the real
    one. Where the real module could not be imported (it or lark missing), nothing is deferred."""
    import importlib.util
    import types

    def findable(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    if IRI_SYNTAX in sys.modules or not (findable(IRI_SYNTAX) and findable("lark")):
        yield
        return
    stand_in = types.ModuleType(IRI_SYNTAX)
    stand_in.is_valid_syntax = _is_valid_iri_syntax  # type: ignore[attr-defined]
    sys.modules[IRI_SYNTAX] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(IRI_SYNTAX) is stand_in:
            del sys.modules[IRI_SYNTAX]


def _is_valid_iri_syntax(term: str, value: str) -> bool:
    """``rfc3987_syntax.is_valid_syntax``, the real module imported (its grammar built) on the first call."""
    return importlib.import_module(IRI_SYNTAX).is_valid_syntax(term, value)


def startup_differs(env: dict) -> str:
    """The settings read at import (``PYTHON*``, ``PYDEVD*`` variables) in which a kernel's environment
    differs from the server's, or a relative ``PYTHONPATH`` entry (resolved against another folder in a
    spawned kernel): such a kernel would not start as the server did, so it is spawned."""
    names = {k for k in (*env, *STARTUP) if k.startswith(READ_AT_IMPORT)}
    differ = sorted(k for k in names if env.get(k) != STARTUP.get(k))
    relative = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and not os.path.isabs(p)]
    return ", ".join(differ + relative)


def refusal() -> str:
    """Why this process must not fork a kernel now ("" when it may): a kernel-sensitive module imported,
    or more than one thread (a fork copies only the calling thread, not the locks the others hold)."""
    loaded = [name for name in KERNEL_SENSITIVE if name in sys.modules]
    if loaded:
        return f"imported in the server: {', '.join(loaded)}"
    return "" if _threads() == 1 else f"{_threads()} threads in the server"


def _warm_plotly() -> None:
    """Build one figure of each trace kind a report draws: plotly loads its validators and the default
    template here, once, instead of in every kernel (no setting is changed)."""
    import plotly.graph_objects as go

    traces = [go.Bar(x=[1], y=["a"], orientation="h"), go.Pie(values=[1], hole=0.4), go.Scatter(x=[1], y=[1])]
    traces += [go.Waterfall(x=["a"], y=[1]), go.Funnel(x=[1], y=["a"])]
    for trace in traces:
        fig = go.Figure(trace)
        fig.update_layout(title={"text": "x"}, annotations=[{"text": "x", "showarrow": False}])
        fig.to_plotly_json()


def _warm_companions() -> None:
    """What a report kernel imports only when its cells run (:data:`COMPANIONS`; nbformat: 1–3 CPU-s), and one
    small Figure saved to memory as PNG and SVG (object API: no setting changed; its font files closed)."""
    for name, when in COMPANIONS.items():
        if when in sys.modules:  # only for the libraries the notebooks import
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    with contextlib.suppress(Exception):  # nothing when the notebooks do not import matplotlib
        if "matplotlib" not in sys.modules:
            return
        from matplotlib import font_manager
        from matplotlib.figure import Figure

        figure = Figure(figsize=(2, 1))
        axes = figure.add_subplot()
        axes.barh(["a"], [1])
        axes.set_title("x")
        for kind in ("png", "svg"):
            figure.savefig(io.BytesIO(), format=kind, dpi=72)
        font_manager._get_font.cache_clear()  # FT2Font objects hold their font files open


def serve(fd: int, modules: list[str]) -> int:
    """``python -m analysis.execute.forkserver FD MODULES``: fork a kernel for each request on socket FD."""
    conn = socket.socket(fileno=fd)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does; the kernel puts the notebook's folder back
    signal.signal(signal.SIGCHLD, _reap)  # reset in each child
    refused = warm(modules)
    server = os.getpid()
    children: list[int] = []
    buffer = b""
    try:
        while True:
            line, buffer = _line(conn, buffer)
            if line is None:
                return 0  # the worker is gone
            request = json.loads(line)
            differs = startup_differs(request["env"])
            reason = refused or refusal() or (f"interpreter settings differ: {differs}" if differs else "")
            if reason:
                print(f"fork server: kernel spawned instead ({reason})", file=sys.stderr, flush=True)
                conn.sendall(json.dumps({"error": reason}).encode() + b"\n")
                continue
            pid = os.fork()
            if pid == 0:
                _become_kernel(conn, request, server)  # never returns
            children.append(pid)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    finally:
        for pid in children:  # kernels whose worker went away: nothing is left running unattended
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def _reap(*_) -> None:
    """Reap exited kernels at once, waited for (not ignored): their CPU time counts in the batch's."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _become_kernel(conn: socket.socket, request: dict, server: int) -> None:
    """In the child: leave the server behind and run ipykernel as ``ipykernel_launcher`` would."""
    code = 1
    try:
        conn.close()
        os.setsid()
        _die_with(server)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        read, write = os.pipe()  # standard input a pipe, as jupyter_client gives a spawned kernel
        os.dup2(read, 0)
        os.close(read)
        os.close(write)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for name, value in SET_BY_IMPORTS.items():  # as the kernel's own imports would have set them
            os.environ.setdefault(name, value)
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        _reseed()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel import kernelapp

        # the parent handle is read from JPY_PARENT_PID when ipykernel is imported (in the server, before
        # there was one): given here, so the kernel's poller exits when the server goes
        kernelapp.IPKernelApp.launch_instance(argv=request["argv"], parent_handle=os.getppid())
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report it in the log, never return into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _die_with(server: int) -> None:
    """Be killed the moment the server dies (Linux's parent-death signal; elsewhere ipykernel's poller sees
    it within a second), and exit now if it died already (the poller, started later, would not see it)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != server:
        os._exit(1)


def _reseed() -> None:
    """Fresh seeds in the child (``random`` reseeds itself after a fork; numpy's global generator does not)."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1].isdigit():
        sys.exit(serve(int(sys.argv[1]), json.loads(sys.argv[2])))
    print("本模块供批处理内部使用（内核派生服务）；请运行 python -m analysis run。", file=sys.stderr)
    sys.exit(2)
