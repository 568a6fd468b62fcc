"""Safe writing for every output: atomic replacement and one writer per output folder.

Used by the store (processed tables), the templates and the reports alike, so that a crash or ``kill -9``
at any moment leaves each previous file whole, and two runs never interleave their writes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

LOCKS_DIR = "fazhi-analysis-locks"  # under the system temporary folder, shared by every user


class BusyError(RuntimeError):
    """Another process held the output folder for too long (message in Chinese)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never a torn one.

    The file gets the permissions the umask allows (not mkstemp's 0600), so an intranet server can read it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@functools.cache
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def output_lock(
    folder: Path, wait_seconds: float = 600, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock of ``folder`` while writing; a second writer waits (saying so) and then gives up clearly.

    The lock file is :func:`lock_path`, outside ``folder``, so a report or data folder holds only its files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(folder)), mode=0o666)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        (say or _stderr)(f"另一个进程正在写入 {folder}，等待其完成（最多 {wait_seconds:.0f} 秒）…")
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout as exc:
            raise BusyError(
                f"{folder} 被另一个进程占用超过 {wait_seconds:.0f} 秒，本次未写入任何文件。"
            ) from exc
    try:
        yield
    finally:
        lock.release()


def lock_path(folder: Path) -> Path:
    """The lock file of an output folder: one per resolved path, in the system temporary folder."""
    key = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:32]
    locks = Path(tempfile.gettempdir()) / LOCKS_DIR
    if not locks.is_dir():
        locks.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):  # sticky and writable for all, like /tmp itself
            os.chmod(locks, 0o1777)
    return locks / f"{key}.lock"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
