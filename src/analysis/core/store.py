"""Read and write the processed tables: atomic writes, one writer at a time, schema checked.

Files in the processed folder:
- ``indicators.parquet`` — the tidy table (exact text as submitted);
- ``indicators.csv`` — the same for Excel (UTF-8 with BOM; submitted text neutralised against formula injection);
- ``issues.parquet`` / ``issues.csv`` — every problem found;
- ``catalog.yaml`` — a copy of the indicator catalog ingest used (``ingest --catalog`` or the built-in one):
  notebooks, the summary workbook and the report index read the data with it (:func:`read_catalog`);
- ``manifest.json`` — run time, row counts, the catalog's path and SHA-256 and the files' SHA-256; readers
  check what they read against it. The set is published with a journal (see :func:`write_tables`), so a crash at any moment
  leaves one run's complete set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import uuid
import warnings
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog, load_catalog, parse_catalog
from analysis.core.fileio import BusyError, atomic_write_bytes, output_lock
from analysis.core.problems import ISSUE_COLUMNS
from analysis.core.sanitize import FORMULA_TRIGGERS, neutralize
from analysis.core.schema import (
    INDICATOR_COLUMNS,
    NUMERIC_COLUMNS,
    indicators_schema,
    issues_schema,
    with_precision,
)
from analysis.core.text import unholdable, xml_safe

INDICATORS_PARQUET = "indicators.parquet"
INDICATORS_CSV = "indicators.csv"
ISSUES_PARQUET = "issues.parquet"
ISSUES_CSV = "issues.csv"
MANIFEST = "manifest.json"
CATALOG = "catalog.yaml"
JOURNAL = ".publish.json"  # present only between the commit point and the end of a publication
STAGE_PREFIX = ".staged-"
# Set by `run` for its notebooks: the SHA-256 of the manifest.json the report is built from. A read that
# finds another manifest (an ingest published a new set meanwhile) fails instead of mixing two sets.
EXPECT_ENV = "FAZHI_EXPECT_MANIFEST"
PUBLISHED = (INDICATORS_PARQUET, INDICATORS_CSV, ISSUES_PARQUET, ISSUES_CSV, CATALOG)
_STAGED = re.compile(r"^\.staged-[0-9a-f]{12}\.[a-z_]+\.(?:parquet|csv|yaml)$")


class StoreError(RuntimeError):
    """The processed folder cannot be read or written (message in Chinese)."""


class StoreWarning(UserWarning):
    """Something in the processed folder was repaired on the way (message in Chinese); the CLI prints it."""


def _json_object(path: Path, raw: bytes | None = None) -> dict:
    """The JSON object stored in ``path`` (or ``raw``, its bytes); :class:`StoreError` (Chinese) if it is not one."""
    try:
        data = json.loads((path.read_bytes() if raw is None else raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{path} 已损坏（不是有效的 JSON：第 {getattr(exc, 'lineno', '?')} 行）") from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path} 已损坏（内容不是 JSON 对象，而是 {type(data).__name__}）")
    return data


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _csv_bytes(frame: pd.DataFrame, text_columns: list[str]) -> bytes:
    shown = frame.copy()
    for col in text_columns:
        values = shown[col].tolist()
        if any(isinstance(v, str) and v and v[0] in FORMULA_TRIGGERS for v in values):  # rarely: one pass
            shown[col] = shown[col].map(lambda v: neutralize(v) if isinstance(v, str) else v)
    return shown.to_csv(index=False).encode("utf-8-sig")


def _holdable(frame: pd.DataFrame, text_columns: list[str]) -> pd.DataFrame:
    """``frame`` with its text through :func:`~analysis.core.text.xml_safe` (parquet and CSV carry the same
    text as every other output); the frame itself when no text needs it (one search per column)."""
    dirty = [
        c for c in text_columns if unholdable("\n".join(v for v in frame[c].tolist() if isinstance(v, str)))
    ]
    if not dirty:
        return frame
    frame = frame.copy()
    for col in dirty:
        frame[col] = frame[col].map(lambda v: xml_safe(v) if isinstance(v, str) else v)
    return frame


def write_tables(
    folder: Path,
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    summary: dict | None = None,
    catalog: Catalog | None = None,
) -> dict:
    """Validate and publish both tables, a copy of ``catalog`` (default: the built-in one) and the manifest
    as one set; the caller holds the folder's lock (:func:`analysis.fileio.output_lock`).

    Publishing is a small commit protocol, so that a crash at any moment leaves one run's complete set:
    1. every file is written in full under a staging name (a crash here leaves the previous set untouched);
    2. a journal naming the staged files and the new manifest is written atomically: the commit point;
    3. the staged files replace the published ones, then the manifest; the journal is removed.
    A journal found later (by the next writer or any reader) is rolled forward, idempotently.
    """
    folder = Path(folder)
    recover(folder)
    indicators = indicators_schema().validate(indicators[INDICATOR_COLUMNS].reset_index(drop=True))
    issues = issues_schema().validate(issues[ISSUE_COLUMNS].reset_index(drop=True))
    text_ind = [c for c in INDICATOR_COLUMNS if c not in NUMERIC_COLUMNS]
    text_iss = [c for c in ISSUE_COLUMNS if c != "year"]
    indicators, issues = _holdable(indicators, text_ind), _holdable(issues, text_iss)
    payloads = {
        INDICATORS_PARQUET: _parquet_bytes(indicators),
        INDICATORS_CSV: _csv_bytes(indicators, text_ind),
        ISSUES_PARQUET: _parquet_bytes(issues),
        ISSUES_CSV: _csv_bytes(issues, text_iss),
        CATALOG: _catalog_bytes(catalog or load_catalog()),
    }
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
    manifest["catalog"] = {
        "path": CATALOG,
        "sha256": manifest["files"][CATALOG],
        "source": (catalog or load_catalog()).source,
    }
    token = uuid.uuid4().hex[:12]
    staged = {name: f"{STAGE_PREFIX}{token}.{name}" for name in payloads}
    try:
        for name, data in payloads.items():
            atomic_write_bytes(folder / staged[name], data)
    except BaseException:  # a full disk half-way: no staged file is left behind (the published set stands)
        for name in staged.values():
            (folder / name).unlink(missing_ok=True)
        raise
    journal = {"staged": staged, "manifest": manifest}
    atomic_write_bytes(folder / JOURNAL, json.dumps(journal, ensure_ascii=False).encode("utf-8"))
    _roll_forward(folder, journal)
    return manifest


def recover(folder: Path) -> None:
    """Finish a publication a crash interrupted after its commit point; drop staging files of one before it."""
    journal_path = folder / JOURNAL
    if journal_path.exists():
        journal = _valid_journal(journal_path)
        if journal is not None:
            _roll_forward(folder, journal)
    for leftover in folder.glob(f"{STAGE_PREFIX}*"):
        leftover.unlink(missing_ok=True)


def _valid_journal(path: Path) -> dict | None:
    """The journal, or None after setting a damaged one aside (renamed, reported): then the published set
    stays as it is (each table is still checked against the manifest when read)."""
    try:
        journal = _json_object(path)
        staged, manifest = journal["staged"], journal["manifest"]
        if not isinstance(manifest, dict) or not isinstance(staged, dict):
            raise StoreError(f"{path} 已损坏（结构不对）")
        for name, stage in staged.items():
            if name not in PUBLISHED or not (isinstance(stage, str) and _STAGED.match(stage)):
                raise StoreError(f"{path} 已损坏（列出了不属于导入结果的文件）")
        return journal
    except (StoreError, KeyError, TypeError) as exc:
        aside = path.with_name(f"{JOURNAL}.damaged-{uuid.uuid4().hex[:8]}")
        os.replace(path, aside)
        reason = exc if isinstance(exc, StoreError) else f"{path} 已损坏（缺少必需的项目）"
        warnings.warn(
            f"{reason}；已改名为 {aside.name} 保留备查，沿用上一次完整的导入结果。如数据有误，请重新运行 ingest。",
            StoreWarning,
            stacklevel=3,
        )
        return None


def _roll_forward(folder: Path, journal: dict) -> None:
    for name, staged in journal["staged"].items():
        if (folder / staged).exists():
            os.replace(folder / staged, folder / name)
    manifest = json.dumps(journal["manifest"], ensure_ascii=False, indent=2).encode("utf-8")
    atomic_write_bytes(folder / MANIFEST, manifest)
    (folder / JOURNAL).unlink(missing_ok=True)


def _catalog_bytes(catalog: Catalog) -> bytes:
    if not catalog.text:
        raise ValueError("the catalog has no YAML text: load it with load_catalog or parse_catalog")
    return catalog.text.encode("utf-8")


def read_catalog(folder: str | Path, expect: str | None = None) -> Catalog:
    """The catalog ingest used for the processed folder (its checked copy); the built-in one for a folder
    written before catalogs travelled with the data, or for a folder that does not exist."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        return load_catalog()
    try:
        recorded = _json_object(manifest_path).get("catalog")
    except StoreError as exc:
        raise StoreError(f"{exc}；请重新运行 ingest。") from exc
    if not recorded:
        return load_catalog()
    return parse_catalog(_verified_bytes(folder, CATALOG, expect).decode("utf-8"), str(folder / CATALOG))


def read_indicators(folder: str | Path, expect: str | None = None) -> pd.DataFrame:
    """The tidy table of a processed folder (exact submitted text; ``value`` float, ``year`` int).

    ``expect`` (default: the ``FAZHI_EXPECT_MANIFEST`` variable): the SHA-256 of the manifest the table
    must belong to (:func:`manifest_digest`); another set is a :class:`StoreError`, never read.
    """
    return with_precision(_read_table(Path(folder), INDICATORS_PARQUET, expect))[INDICATOR_COLUMNS]


def read_issues(folder: str | Path, expect: str | None = None) -> pd.DataFrame:
    """The problems table of a processed folder (``expect`` as for :func:`read_indicators`; ``note`` empty
    when an older ingest wrote it)."""
    return _read_table(Path(folder), ISSUES_PARQUET, expect).reindex(columns=ISSUE_COLUMNS, fill_value="")


def manifest_digest(folder: str | Path) -> str:
    """SHA-256 of the folder's manifest.json: names one published set (its time and files' hashes)."""
    path = Path(folder) / MANIFEST
    if (Path(folder) / JOURNAL).exists():
        _settle(Path(folder))
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError as exc:
        raise StoreError(f"找不到 {path}：请先运行 `python -m analysis ingest` 生成整洁数据表。") from exc


def _read_table(folder: Path, name: str, expect: str | None) -> pd.DataFrame:
    path = folder / name
    data = _verified_bytes(folder, name, expect)
    try:
        # on this thread, not pyarrow's pool: the tables are small, and a pool thread still alive when the
        # process exits can abort it ("terminate called without an active exception", apache/arrow#34314;
        # seen once in 13 runs of `run`, after all its work was done)
        return pd.read_parquet(io.BytesIO(data), use_threads=False, pre_buffer=False)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise StoreError(f"{path} 已损坏或不是 parquet 文件（{exc}）；请重新运行 ingest。") from exc


def _verified_bytes(folder: Path, name: str, expect: str | None = None) -> bytes:
    """The bytes of ``name`` as the manifest records them (after finishing a publication in progress)."""
    path = folder / name
    expect = expect or os.environ.get(EXPECT_ENV) or None
    if (folder / JOURNAL).exists():  # a writer was interrupted after its commit point: finish its work
        _settle(folder)
    data = _checked_bytes(folder, name, expect)
    if data is None:  # a writer is publishing right now (or was cut short): wait for it, then read again
        _settle(folder)
        data = _checked_bytes(folder, name, expect)
    if data is None:
        raise StoreError(
            f"{path} 与 {MANIFEST} 记录的内容不一致（文件被改动，或来自另一次导入）；请重新运行 ingest。"
        )
    return data


def _checked_bytes(folder: Path, name: str, expect: str | None = None) -> bytes | None:
    """The file's bytes if they are the ones the manifest records (or there is no manifest); else None."""
    path = folder / name
    if not path.exists():
        raise StoreError(f"找不到 {path}：请先运行 `python -m analysis ingest` 生成整洁数据表。")
    data = path.read_bytes()
    manifest_path = folder / MANIFEST
    try:
        manifest = manifest_path.read_bytes()
    except FileNotFoundError:
        manifest = None
    if expect is not None and (manifest is None or hashlib.sha256(manifest).hexdigest() != expect):
        raise StoreError(
            f"{folder} 中的整洁数据在报告生成期间被重新导入（manifest.json 已变化），"
            "为避免一份报告混用两次导入的数据，停止读取；请在导入完成后重新运行 run"
        )
    if manifest is not None:
        try:
            files = _json_object(manifest_path, manifest).get("files", {})
        except StoreError as exc:
            raise StoreError(f"{exc}；请重新运行 ingest。") from exc
        expected = files.get(name) if isinstance(files, dict) else None
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            return None
    return data


def _settle(folder: Path) -> None:
    """Wait for any writer of ``folder`` and finish a publication it left half done."""
    try:
        with output_lock(folder, wait_seconds=120):
            recover(folder)
    except PermissionError:
        return  # a read-only folder (e.g. a shared copy): nothing can be finished here; the check decides
    except (BusyError, OSError) as exc:
        raise StoreError(f"{folder} 的上一次写入没有完成，且无法补全（{exc}）；请重新运行 ingest。") from exc
