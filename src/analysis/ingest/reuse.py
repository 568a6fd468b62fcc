"""Reuse what an earlier ingest read from a file that did not change: a resent workbook is read alone.

What one file yields (its values, blanks and problems, :class:`~analysis.ingest.extract.Loaded`) depends on
nothing but the file's bytes, where it sits (region, year, department, name) and the settings: the catalog,
the limits and the program. The processed folder therefore keeps, beside the tables, a record of each
file's result under the SHA-256 of its bytes (:data:`RECORD`, JSON: no code is ever loaded from it). The
next ingest hashes every file — never looking at a timestamp — and reads again only the files whose bytes,
place or settings changed. The checks across files (duplicates, identities, completeness) always run on the
whole set.

The digest stored is the one of the bytes the reader parsed (the reader returns it), so a file replaced
while the ingest runs is never recorded under bytes it does not hold. A file that crashed its reader is
never recorded: it is read again next time. ``ingest --force`` reads every file.

The record is an optimisation, never a source of truth. Each entry carries the SHA-256 of its own content,
and the manifest (written with the tables, :data:`MANIFEST_KEY`) holds the same digest for each file: an
entry is used only when both agree with its content, its place is the file's place and its values pass the
checks a fresh read passes (:func:`valid_entry`). Anything else — an edited value or place, a wrong type, NaN,
deep nesting, a record over :data:`MAX_RECORD_BYTES`, a link, a FIFO, a device — means "read the file
again", with one Chinese note, never a traceback and never a hang: the record is opened without following
links, read only when it is a regular file, and never beyond its cap.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import math
import os
import stat
from dataclasses import asdict
from pathlib import Path

from analysis.core.catalog import Catalog
from analysis.core.digest import program_digest, sha_parts
from analysis.core.fileio import atomic_write_bytes
from analysis.core.problems import CODES, Problem
from analysis.core.store import MANIFEST
from analysis.ingest.extract import Blank, Candidate, FileContext, Loaded
from analysis.ingest.limits import Limits
from analysis.ingest.rejection import FileRejected
from analysis.ingest.safety import read_capped

RECORD = ".ingest-reads.json"
FORMAT = 2  # 2: each entry carries its digest, sealed in the manifest
MANIFEST_KEY = "reads"  # manifest.json: the digest of each file's entry ({key: digest})
MAX_RECORD_BYTES = 1 << 30  # a record (or manifest) larger than this is not read: every file is read again
_CANDIDATE = [f.name for f in dataclasses.fields(Candidate) if f.name != "indicator"]
_BLANK = [f.name for f in dataclasses.fields(Blank) if f.name != "indicator"]
_PROBLEM = frozenset(f.name for f in dataclasses.fields(Problem))
_AT = {name: i + 1 for i, name in enumerate(_CANDIDATE)}  # a candidate row: [indicator_id, *_CANDIDATE]
_TEXTS = [_AT[k] for k in ("qualifier", "sheet", "cell", "raw_value", "note")]


def settings_digest(catalog: Catalog, limits: Limits) -> str:
    """What every file's result also depends on: the catalog's text, the limits and the program."""
    return sha_parts(
        catalog.text.encode("utf-8"),
        json.dumps(asdict(limits), sort_keys=True).encode(),
        program_digest().encode(),
    )


def file_digest(path: Path, limits: Limits) -> str:
    """SHA-256 of the bytes the reader would parse (:func:`read_capped`); ``""`` when they cannot be read."""
    try:
        return hashlib.sha256(read_capped(path, limits)).hexdigest()
    except FileRejected:
        return ""


def _key(ctx: FileContext) -> str:
    return json.dumps([ctx.file, ctx.region, ctx.year, ctx.department], ensure_ascii=False)


class Reads:
    """The results of an earlier ingest (``previous``) and those of this one (``current``)."""

    def __init__(self, settings: str, previous: dict | None = None, note: str = ""):
        self.settings = settings
        self.previous: dict[str, dict] = previous or {}
        self.current: dict[str, dict] = {}
        self.note = note  # why nothing could be reused, for the terminal ("" when there was no record)

    @classmethod
    def load(cls, folder: Path, catalog: Catalog, limits: Limits, force: bool = False) -> Reads:
        """The usable entries of the record in ``folder`` when it was written with the same settings (each
        sealed in the manifest and valid, :func:`usable`); an empty record otherwise. ``note``: why some or
        all files are read again."""
        settings = settings_digest(catalog, limits)
        if force:
            return cls(settings, note="按 --force 重新读取全部文件")
        try:
            raw = read_regular(Path(folder) / RECORD)
        except _Unusable as exc:
            return cls(settings, note=f"上次的读取记录{exc.why}，重新读取全部文件")
        if raw is None:
            return cls(settings)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return cls(settings, note="上次的读取记录已损坏，重新读取全部文件")
        if not (
            isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict)
        ):
            return cls(settings, note="上次的读取记录格式不符，重新读取全部文件")
        if data.get("settings") != settings:
            return cls(settings, note="指标目录、文件上限或程序有变化，重新读取全部文件")
        sealed = _sealed(Path(folder))
        kept = {key: entry for key, entry in data["files"].items() if usable(key, entry, sealed, catalog)}
        dropped = len(data["files"]) - len(kept)
        note = (
            f"上次的读取记录中有 {dropped} 项与 {MANIFEST} 不符或内容无效（可能被改动），这些文件重新读取"
            if dropped
            else ""
        )
        return cls(settings, kept, note)

    def digests(self, files: list[tuple[Path, FileContext]], limits: Limits) -> list[str]:
        """The digest of each file that has a previous result (``""`` for the others: nothing to compare)."""
        return [file_digest(path, limits) if _key(ctx) in self.previous else "" for path, ctx in files]

    def reuse(self, ctx: FileContext, digest: str, catalog: Catalog) -> tuple[Loaded, list[Problem]] | None:
        """The earlier result for ``ctx`` when its bytes are the same, else None."""
        entry = self.previous.get(_key(ctx))
        if not digest or entry is None or entry.get("sha256") != digest or entry.get("ctx") != asdict(ctx):
            return None
        try:
            result = decode(entry, catalog)
        except (KeyError, TypeError, ValueError):  # checked by :func:`usable` already; never trusted blindly
            return None
        self.current[_key(ctx)] = entry
        return result

    def keep(self, ctx: FileContext, loaded: Loaded, problems: list[Problem]) -> None:
        """Record the result of a file just read (not one whose reader crashed: ``loaded.digest`` is empty)."""
        if loaded.digest:
            self.current[_key(ctx)] = encode(loaded, problems)

    def seal(self) -> dict[str, str]:
        """What the manifest holds under :data:`MANIFEST_KEY`: the digest of each entry of this ingest."""
        return {key: entry["digest"] for key, entry in self.current.items()}

    def save(self, folder: Path) -> None:
        """Write this ingest's record (atomically): exactly the files of this ingest."""
        data = {"format": FORMAT, "settings": self.settings, "files": self.current}
        atomic_write_bytes(Path(folder) / RECORD, json.dumps(data, ensure_ascii=False).encode("utf-8"))


class _Unusable(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def read_regular(path: Path, cap: int | None = None) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of at most ``cap`` bytes (default
    :data:`MAX_RECORD_BYTES`), opened without following a link and without waiting on a FIFO; None when
    it does not exist; :class:`_Unusable` (Chinese ``why``) otherwise."""
    cap = MAX_RECORD_BYTES if cap is None else cap
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    if not hasattr(os, "O_NOFOLLOW") and path.is_symlink():  # Windows: no O_NOFOLLOW
        raise _Unusable("是一个链接，不是普通文件")
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        why = (
            "是一个链接，不是普通文件"
            if exc.errno in (errno.ELOOP, errno.EMLINK)
            else f"无法读取（{exc.strerror}）"
        )
        raise _Unusable(why) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Unusable("不是普通文件（管道、设备或文件夹）")
        if info.st_size > cap:
            raise _Unusable(f"过大（{info.st_size:,} 字节，上限 {cap:,}）")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise _Unusable(f"过大（超过 {cap:,} 字节）")
    return data


def _sealed(folder: Path) -> dict:
    """The entry digests the manifest holds (empty when it holds none or cannot be read)."""
    try:
        raw = read_regular(folder / MANIFEST)
        data = json.loads(raw.decode("utf-8")) if raw is not None else {}
    except (_Unusable, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    sealed = data.get(MANIFEST_KEY) if isinstance(data, dict) else None
    return sealed if isinstance(sealed, dict) else {}


def entry_digest(entry: dict) -> str:
    """SHA-256 of an entry's content (every field but ``digest``), in one canonical JSON form."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def usable(key: str, entry: object, sealed: dict, catalog: Catalog) -> bool:
    """True when ``entry`` is exactly what the reader produced: its digest matches its content and the
    manifest's, its place is its key's, its values pass :func:`valid_entry`."""
    try:
        return (
            isinstance(entry, dict)
            and isinstance(entry.get("digest"), str)
            and sealed.get(key) == entry["digest"] == entry_digest(entry)
            and valid_entry(key, entry, catalog)
        )
    except (TypeError, ValueError, RecursionError):
        return False


def _text(*values: object) -> bool:
    return all(isinstance(v, str) for v in values)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def valid_entry(key: str, entry: dict, catalog: Catalog) -> bool:
    """The checks a fresh read passes: the fields and their types, a place equal to the key's, known
    indicators and problem codes, values finite and not negative (a fresh read refuses negative values)."""
    if set(entry) != {"sha256", "ctx", "rejected", "candidates", "blanks", "problems", "digest"}:
        return False
    ctx = entry["ctx"]
    place = json.loads(key)
    if not (isinstance(ctx, dict) and set(ctx) == {"region", "year", "department", "file"}):
        return False
    if [ctx["file"], ctx["region"], ctx["year"], ctx["department"]] != place or isinstance(ctx["year"], bool):
        return False
    sha, rejected, candidates, blanks, problems = (
        entry[k] for k in ("sha256", "rejected", "candidates", "blanks", "problems")
    )
    if not (isinstance(sha, str) and len(sha) == 64 and isinstance(rejected, bool)):
        return False
    if not all(isinstance(x, list) for x in (candidates, blanks, problems)):
        return False
    known = catalog.indicators
    value, precision, hidden = _AT["value"], _AT["precision"], _AT["hidden_row"]
    for row in candidates:
        if not (isinstance(row, list) and len(row) == 1 + len(_CANDIDATE) and row[0] in known):
            return False
        if not (_number(row[value]) and row[value] >= 0 and _number(row[precision]) and row[precision] > 0):
            return False
        if not (isinstance(row[hidden], bool) and all(isinstance(row[i], str) for i in _TEXTS)):
            return False
    for row in blanks:
        if not (
            isinstance(row, list) and len(row) == 1 + len(_BLANK) and row[0] in known and _text(*row[1:])
        ):
            return False
    for p in problems:
        if not (isinstance(p, dict) and p.keys() == _PROBLEM and p["code"] in CODES):
            return False
        if not (
            _text(*(v for k, v in p.items() if k != "year")) and (p["year"] is None or _number(p["year"]))
        ):
            return False
    return True


def encode(loaded: Loaded, problems: list[Problem]) -> dict:
    entry = {
        "sha256": loaded.digest,
        "ctx": asdict(loaded.ctx),
        "rejected": loaded.rejected,
        "candidates": [
            [c.indicator.indicator_id, *(getattr(c, name) for name in _CANDIDATE)] for c in loaded.candidates
        ],
        "blanks": [[b.indicator.indicator_id, *(getattr(b, name) for name in _BLANK)] for b in loaded.blanks],
        "problems": [asdict(p) for p in problems],
    }
    entry["digest"] = entry_digest(entry)
    return entry


def decode(entry: dict, catalog: Catalog) -> tuple[Loaded, list[Problem]]:
    ind = catalog.indicators
    loaded = Loaded(
        ctx=FileContext(**entry["ctx"]),
        candidates=[Candidate(ind[row[0]], *row[1:]) for row in entry["candidates"]],
        rejected=bool(entry["rejected"]),
        blanks=[Blank(ind[row[0]], *row[1:]) for row in entry["blanks"]],
        digest=entry["sha256"],
    )
    return loaded, [Problem(**p) for p in entry["problems"]]
