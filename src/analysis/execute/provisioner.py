"""The kernel launcher of the fork path: a jupyter_client provisioner that asks a
:class:`~analysis.execute.forkserver.ForkServer` for a kernel instead of exec'ing a new Python, and the
``Popen``-shaped handle of the kernel it gets (the server's child, not ours)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from jupyter_client.provisioning import LocalProvisioner

from analysis.execute.forkserver import ForkRefused, ForkServer, split_command


class Forked:
    """The ``Popen``-shaped handle of a forked kernel (the server's child, not ours: its exit is seen in
    ``/proc``)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _running(self.pid):
            self.returncode = 0  # the exit status belongs to the server, which reaped it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs. A kernel whose server died is adopted by whoever reaps orphans, maybe
    seconds later (or never, in some containers): until then it is a zombie, which ``kill(pid, 0)`` still
    finds, so its state is read in ``/proc``. A pid reused by another user's process: ours is gone."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[:1] not in ([b"Z"], [b"X"])
    except (ProcessLookupError, PermissionError, FileNotFoundError):
        return False


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching by fork from :attr:`server` when it can (else as
    the local provisioner does). Set on a kernel manager before ``start_kernel``."""

    server: ForkServer | None = None
    forked: bool = False

    async def launch_kernel(self, cmd: list[str], **kwargs):
        parts = split_command(cmd)
        if self.server is None or parts is None or parts[0] != self.server.options:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = dict(kwargs.get("env") or os.environ)
        try:
            pid = self.server.fork(parts[1], cwd, env)
        except ForkRefused:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = Forked(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # the child leads a session of its own
        self.cwd = cwd
        self.forked = True
        return self.connection_info
