"""Kernels forked from a warm server (issue 23, ``FAZHI_KERNEL_START=fork``): a forked kernel starts in
the state a spawned one starts in (matplotlib settings, plotly templates and renderer, the folder, the
environment, descriptors, signals, the module path), draws its own random numbers, sees nothing of the
notebook before it, and is killed with its server. Small notebooks written here. Fork is the default on
POSIX, so the batch's own tests run on the fork path; the failing batch of ``tests/test_batch.py`` (error,
kernel death, cell timeout) and the isolation test of ``tests/test_incremental.py`` run on both paths."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis.execute import forkserver, runner
from analysis.execute.kernel import KERNEL_NAME, ensure_kernel
from analysis.execute.provisioner import Forked, ForkProvisioner
from analysis.execute.warm import Kernels, shutdown

PROBE = """
import json, os, random, signal, sys, threading
def iri_checks():  # jsonschema's format checkers, as the analyst's code would use them
    import jsonschema
    checker = jsonschema.FormatChecker()
    values = ("http://例子.中国/路径?q=1", "http://a b", "relative/path")
    return [sorted(checker.checkers), [checker.conforms(v, f) for v in values for f in ("iri", "iri-reference")]]
import matplotlib
import numpy as np
import plotly.io as pio
links = {}
for f in os.listdir("/proc/self/fd"):
    try:
        links[int(f)] = os.readlink(f"/proc/self/fd/{f}")
    except OSError:
        pass
# an unnamed thread's number counts the Thread objects made before it in the process: debugpy makes one as
# it is imported, in the server before a forked kernel's threads, in a spawned kernel after some of them
# zmq's sockets and event descriptors, and the history database's files and folder (sqlite opens the
# profile folder to sync it as it commits), come and go while the kernel runs
from IPython.paths import get_ipython_dir
steady = [v for v in links.values() if not v.startswith(("socket:", "anon_inode:", get_ipython_dir()))
          and "(deleted)" not in v]
kinds = sorted(re.sub(r"\\[\\d+\\]", "", v) for v in steady)
state = {
    "pid": os.getpid(), "parent": os.getppid(), "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"},
    "rc": {k: str(dict.__getitem__(matplotlib.rcParams, k)) for k in matplotlib.rcParams},
    "template": str(pio.templates.default), "renderer": str(pio.renderers.default),
    "random": random.random(), "numpy": float(np.random.random()),
    "fds": kinds, "links": sorted(links.values()), "path": sys.path, "threads": sorted(re.sub(r"^Thread-\\d+", "Thread-N", t.name) for t in threading.enumerate()),
    "signals": [str(signal.getsignal(s)) for s in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)],
    "session": os.getsid(0) == os.getpid(), "umask": os.umask(0o22),
    "seen": "LEFT_BEHIND" in globals(),
    "debugger": type(getattr(get_ipython().kernel, "debugger", None)).__name__,  # debugpy imported in the server
    "trace": [str(sys.gettrace()), str(sys.getprofile()), str(threading._trace_hook)],
    "iri": iri_checks(),
}
LEFT_BEHIND = 1
with open(out, "w", encoding="utf-8") as f:
    json.dump(state, f)
"""
PRELOAD = ["json", "os", "re", "numpy", "matplotlib", "plotly.io", "pandas", "pyarrow", "analysis.explore.nb"]
POSIX = pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc").is_dir(), reason="fork server: POSIX")


def absolute_pythonpath(monkeypatch) -> None:
    """A relative ``PYTHONPATH`` (as ``PYTHONPATH=src`` when run from a worktree) is never forked from:
    the tests that need the fork path make it absolute."""
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if entries:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(os.path.abspath(p) for p in entries))


def write_probe(folder: Path) -> Path:
    book = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("out = 'state.json'")
    params.metadata["tags"] = ["parameters"]
    book.cells = [params, nbformat.v4.new_code_cell("import re\n" + PROBE)]
    book.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(book, path)
    return path


def run_probe(kernels: Kernels, folder: Path, name: str) -> dict:
    job = {
        "input": str(write_probe(folder)),
        "output": str(folder / f"{name}.ipynb"),
        "parameters": {"out": str(folder / f"{name}.json")},
        "kernel_name": KERNEL_NAME,
        "timeout": 120,
        "cwd": str(folder),
        "preload": PRELOAD,
        "env": {"FAZHI_PROBE": name},
        "prestart": None,
    }
    result = runner.execute_one(job, kernels)
    assert result["status"] == "ok", result
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def test_fork_is_the_posix_default_and_spawn_refuses_it(monkeypatch) -> None:
    posix = hasattr(os, "fork") and sys.platform != "win32" and Path("/proc").is_dir()
    for setting in ({}, {forkserver.ENV: ""}, {forkserver.ENV: " Fork "}):
        assert forkserver.fork_enabled(setting) == posix, setting
    for refused in ("spawn", " SPAWN ", "off"):
        assert not forkserver.fork_enabled({forkserver.ENV: refused})
    monkeypatch.setattr(forkserver.sys, "platform", "win32")
    assert not forkserver.fork_enabled({}) and not forkserver.fork_enabled({forkserver.ENV: "fork"})


def test_only_this_pythons_ipykernel_is_forked() -> None:
    split = forkserver.split_command
    assert split([sys.executable, "-m", "ipykernel_launcher", "-f", "x.json"]) == ([], ["-f", "x.json"])
    assert split([sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "x"]) == (
        ["-Xfrozen_modules=off"],
        ["-f", "x"],
    )
    assert split([sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "x"]) is None  # not an -X option
    assert split([sys.executable, "-m", "other_kernel", "-f", "x.json"]) is None
    assert split(["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "x.json"]) is None
    assert split([sys.executable]) is None


@pytest.mark.slow
@POSIX
def test_a_forked_kernel_starts_as_a_spawned_one_and_keeps_nothing(tmp_path: Path, monkeypatch) -> None:
    absolute_pythonpath(monkeypatch)
    ensure_kernel()
    spawned = Kernels()
    try:
        reference = run_probe(spawned, tmp_path, "spawned")
    finally:
        spawned.close()
    forked = Kernels(fork=True)
    try:
        first = run_probe(forked, tmp_path, "forked1")
        second = run_probe(forked, tmp_path, "forked2")
        server = forked.server
        assert server is not None
        assert first["parent"] == second["parent"] == server.proc.pid  # really forked, by one server
        theirs = {
            os.readlink(f"/proc/{server.proc.pid}/fd/{f}")
            for f in os.listdir(f"/proc/{server.proc.pid}/fd")
            if int(f) > 2
        }  # the server's own descriptors (0-2 are the worker's log, as for any kernel)
        assert theirs and not theirs & {*first["links"], *second["links"]}  # none of them left in a kernel
    finally:
        forked.close()
    assert server.proc.returncode is not None  # the server stopped with its kernels
    for state in (first, second):
        assert state["env"] == {**reference["env"], "FAZHI_PROBE": state["env"]["FAZHI_PROBE"]}
        for key in (
            "cwd",
            "rc",
            "template",
            "renderer",
            "fds",
            "path",
            "threads",
            "signals",
            "session",
            "umask",
            "debugger",
            "trace",
            "iri",
        ):
            assert state[key] == reference[key], (key, state[key], reference[key])
        assert state["seen"] is False  # a variable of the notebook before is not there
    assert first["pid"] != second["pid"]
    assert first["random"] != second["random"] and first["numpy"] != second["numpy"]


@pytest.mark.slow
@POSIX
def test_a_forked_kernel_dies_with_its_server_and_a_refused_fork_spawns(tmp_path: Path, monkeypatch) -> None:
    absolute_pythonpath(monkeypatch)
    ensure_kernel()
    kernels = Kernels(fork=True)
    kernels.start(KERNEL_NAME, tmp_path, ["json"])
    km = kernels.take(KERNEL_NAME, tmp_path, ["json"])
    launcher = km.provisioner
    assert isinstance(launcher, ForkProvisioner) and launcher.forked
    pid = launcher.pid
    os.kill(pid, 0)  # running
    server = kernels.server
    assert server is not None
    server.proc.kill()  # as when a worker's process group is killed
    server.proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and km.provisioner.process.poll() is None:
        time.sleep(0.1)
    assert km.provisioner.process.poll() is not None  # the kernel noticed its parent was gone
    shutdown(km)
    # the server is gone: the next kernel is spawned as before, not lost
    kernels.start(KERNEL_NAME, tmp_path, ["json"])
    km = kernels.take(KERNEL_NAME, tmp_path, ["json"])
    try:
        assert not km.provisioner.forked  # type: ignore[union-attr]
        assert km.provisioner.process.poll() is None  # type: ignore[union-attr]
    finally:
        shutdown(km)
        kernels.close()


@POSIX
def test_a_forked_kernel_that_exited_unreaped_is_seen_as_gone() -> None:
    # a kernel whose server died waits, a zombie, until whoever adopted it reaps it (in some containers:
    # never); kill(pid, 0) still finds it, but the batch must see it gone
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])  # never waited for: a zombie once it exits
    handle = Forked(child.pid)
    try:
        deadline = time.monotonic() + 60
        while handle.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handle.poll() == 0 and handle.wait(timeout=0) == 0
        os.kill(child.pid, 0)  # still there, unreaped: only its state says it has exited
    finally:
        child.wait()


@POSIX
def test_a_server_that_does_not_answer_is_given_up(monkeypatch) -> None:
    import signal

    monkeypatch.setattr(forkserver, "ANSWER_WITHIN", 0.5)
    server = forkserver.ForkServer(["json"])
    os.kill(server.proc.pid, signal.SIGSTOP)  # hung (a stuck import, say): it never answers
    try:
        with pytest.raises(forkserver.ForkRefused):
            server.fork(["-f", "x.json"], "/", {})
        assert server.gone
        with pytest.raises(forkserver.ForkRefused):  # not asked again: a late answer would be misread
            server.fork(["-f", "x.json"], "/", {})
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.proc.pid, signal.SIGCONT)
        server.close()
    assert server.proc.returncode is not None


def test_the_server_builds_the_iri_grammar_only_when_a_kernel_checks_an_iri() -> None:
    """jsonschema's "iri" checkers are there after the server's imports, but the Lark grammar behind them
    (0.7 CPU-s) is built at the first check, in the kernel that makes it, with the same verdicts."""
    pytest.importorskip("rfc3987_syntax")
    code = (
        "import json, sys\n"
        "from analysis.execute import forkserver\n"
        "forkserver.warm(['plotly', 'nbformat'])\n"
        "import jsonschema\n"
        "built = 'rfc3987_syntax' in sys.modules\n"
        "checker = jsonschema.FormatChecker()\n"
        "verdicts = [checker.conforms(v, 'iri') for v in ('http://例子.中国/路径', 'http://a b')]\n"
        "print(json.dumps([built, 'iri' in checker.checkers, verdicts, 'rfc3987_syntax' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == [False, True, [True, False], True]


def test_a_kernel_whose_interpreter_settings_differ_is_not_forked(monkeypatch) -> None:
    monkeypatch.setattr(forkserver, "STARTUP", {"PYTHONPATH": "/a", "PYTHONUTF8": "1"})
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    assert forkserver.startup_differs({"PYTHONPATH": "/a", "PYTHONUTF8": "1", "HOME": "/x"}) == ""
    assert forkserver.startup_differs({"PYTHONPATH": "/b", "PYTHONUTF8": "1"}) == "PYTHONPATH"
    assert forkserver.startup_differs({"PYTHONPATH": "/a"}) == "PYTHONUTF8"
    assert "PYTHONHASHSEED" in forkserver.startup_differs(
        {"PYTHONPATH": "/a", "PYTHONUTF8": "1", "PYTHONHASHSEED": "0"}
    )
    # debugpy, imported in the server, reads PYDEVD_* as it is imported
    assert (
        forkserver.startup_differs({"PYTHONPATH": "/a", "PYTHONUTF8": "1", "PYDEVD_DEBUG": "1"})
        == "PYDEVD_DEBUG"
    )
    monkeypatch.setattr(forkserver, "STARTUP", {"PYTHONPATH": "src"})
    assert forkserver.startup_differs({"PYTHONPATH": "src"}) == "src"  # relative: resolved elsewhere


def test_a_server_that_imported_a_kernel_sensitive_module_or_has_threads_refuses_to_fork(monkeypatch) -> None:
    for name in forkserver.KERNEL_SENSITIVE:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(forkserver, "_threads", lambda: 1)
    assert forkserver.refusal() == ""
    monkeypatch.setattr(forkserver, "_threads", lambda: 3)
    assert "3 threads" in forkserver.refusal()
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", object())
    assert "matplotlib.pyplot" in forkserver.refusal()
