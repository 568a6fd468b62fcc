"""Read and write the processed tables: atomic writes, one writer at a time, schema checked.

Files in the processed folder:
- ``indicators.parquet`` — the tidy table (exact text as submitted);
- ``indicators.csv`` — the same for Excel (UTF-8 with BOM; submitted text neutralised against formula injection);
- ``issues.parquet`` / ``issues.csv`` — every problem found;
- ``manifest.json`` — written last: run time, row counts and the files' SHA-256, so a reader can tell a
  complete set from a torn one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from analysis.problems import ISSUE_COLUMNS
from analysis.sanitize import neutralize
from analysis.schema import INDICATOR_COLUMNS, INDICATORS_SCHEMA, ISSUES_SCHEMA

INDICATORS_PARQUET = "indicators.parquet"
INDICATORS_CSV = "indicators.csv"
ISSUES_PARQUET = "issues.parquet"
ISSUES_CSV = "issues.csv"
MANIFEST = "manifest.json"
LOCK = ".lock"


class StoreError(RuntimeError):
    """The processed folder cannot be read or written (message in Chinese)."""


@contextlib.contextmanager
def output_lock(
    folder: Path, wait_seconds: float = 600, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``<folder>/.lock`` while writing; a second writer waits (saying so) and then gives up clearly."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        (say or _stderr)(f"另一个进程正在写入 {folder}，等待其完成（最多 {wait_seconds:.0f} 秒）…")
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout as exc:
            raise StoreError(
                f"{folder} 被另一个进程占用超过 {wait_seconds:.0f} 秒，本次未写入任何文件。"
            ) from exc
    try:
        yield
    finally:
        lock.release()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _csv_bytes(frame: pd.DataFrame, text_columns: list[str]) -> bytes:
    shown = frame.copy()
    for col in text_columns:
        shown[col] = shown[col].map(lambda v: neutralize(v) if isinstance(v, str) else v)
    return shown.to_csv(index=False).encode("utf-8-sig")


def write_tables(
    folder: Path, indicators: pd.DataFrame, issues: pd.DataFrame, summary: dict | None = None
) -> dict:
    """Validate and write both tables and the manifest; the caller holds :func:`output_lock`."""
    indicators = INDICATORS_SCHEMA.validate(indicators[INDICATOR_COLUMNS].reset_index(drop=True))
    issues = ISSUES_SCHEMA.validate(issues[ISSUE_COLUMNS].reset_index(drop=True))
    text_ind = [c for c in INDICATOR_COLUMNS if c not in ("value", "year", "derived")]
    text_iss = [c for c in ISSUE_COLUMNS if c != "year"]
    payloads = {
        INDICATORS_PARQUET: _parquet_bytes(indicators),
        INDICATORS_CSV: _csv_bytes(indicators, text_ind),
        ISSUES_PARQUET: _parquet_bytes(issues),
        ISSUES_CSV: _csv_bytes(issues, text_iss),
    }
    for name, data in payloads.items():
        atomic_write_bytes(folder / name, data)
    manifest = {
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "indicators": len(indicators),
        "issues": len(issues),
        "region_years": sorted(
            {f"{r}/{y}" for r, y in zip(indicators["region"], indicators["year"], strict=True)}
        ),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in payloads.items()},
        **(summary or {}),
    }
    atomic_write_bytes(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return manifest


def read_indicators(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a processed folder (exact submitted text; ``value`` float, ``year`` int)."""
    frame = _read_parquet(Path(folder) / INDICATORS_PARQUET)
    return frame[INDICATOR_COLUMNS]


def read_issues(folder: str | Path) -> pd.DataFrame:
    """The problems table of a processed folder."""
    frame = _read_parquet(Path(folder) / ISSUES_PARQUET)
    return frame[ISSUE_COLUMNS]


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise StoreError(f"找不到 {path}：请先运行 `python -m analysis ingest` 生成整洁数据表。")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise StoreError(f"{path} 已损坏或不是 parquet 文件（{exc}）；请重新运行 ingest。") from exc
