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
never recorded: it is read again next time. ``ingest --force`` reads every file. A damaged or foreign record
is ignored (everything is read) and replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from analysis.core.catalog import Catalog
from analysis.core.digest import program_digest, sha_parts
from analysis.core.fileio import atomic_write_bytes
from analysis.core.problems import Problem
from analysis.ingest.extract import Blank, Candidate, FileContext, Loaded
from analysis.ingest.limits import Limits
from analysis.ingest.rejection import FileRejected
from analysis.ingest.safety import read_capped

RECORD = ".ingest-reads.json"
FORMAT = 1
_CANDIDATE = [f.name for f in dataclasses.fields(Candidate) if f.name != "indicator"]
_BLANK = [f.name for f in dataclasses.fields(Blank) if f.name != "indicator"]


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
        """The record in ``folder`` when it was written with the same settings; an empty one otherwise."""
        settings = settings_digest(catalog, limits)
        if force:
            return cls(settings, note="按 --force 重新读取全部文件")
        try:
            data = json.loads((Path(folder) / RECORD).read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return cls(settings)
        except (OSError, UnicodeDecodeError, ValueError):
            return cls(settings, note="上次的读取记录已损坏，重新读取全部文件")
        if not (
            isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict)
        ):
            return cls(settings, note="上次的读取记录格式不符，重新读取全部文件")
        if data.get("settings") != settings:
            return cls(settings, note="指标目录、文件上限或程序有变化，重新读取全部文件")
        return cls(settings, data["files"])

    def digests(self, files: list[tuple[Path, FileContext]], limits: Limits) -> list[str]:
        """The digest of each file that has a previous result (``""`` for the others: nothing to compare)."""
        return [file_digest(path, limits) if _key(ctx) in self.previous else "" for path, ctx in files]

    def reuse(self, ctx: FileContext, digest: str, catalog: Catalog) -> tuple[Loaded, list[Problem]] | None:
        """The earlier result for ``ctx`` when its bytes are the same, else None."""
        entry = self.previous.get(_key(ctx))
        if not digest or entry is None or entry.get("sha256") != digest:
            return None
        try:
            result = decode(entry, catalog)
        except (KeyError, TypeError, ValueError):  # a record edited by hand: read the file again
            return None
        self.current[_key(ctx)] = entry
        return result

    def keep(self, ctx: FileContext, loaded: Loaded, problems: list[Problem]) -> None:
        """Record the result of a file just read (not one whose reader crashed: ``loaded.digest`` is empty)."""
        if loaded.digest:
            self.current[_key(ctx)] = encode(loaded, problems)

    def save(self, folder: Path) -> None:
        """Write this ingest's record (atomically): exactly the files of this ingest."""
        data = {"format": FORMAT, "settings": self.settings, "files": self.current}
        atomic_write_bytes(Path(folder) / RECORD, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def encode(loaded: Loaded, problems: list[Problem]) -> dict:
    return {
        "sha256": loaded.digest,
        "ctx": asdict(loaded.ctx),
        "rejected": loaded.rejected,
        "candidates": [
            [c.indicator.indicator_id, *(getattr(c, name) for name in _CANDIDATE)] for c in loaded.candidates
        ],
        "blanks": [[b.indicator.indicator_id, *(getattr(b, name) for name in _BLANK)] for b in loaded.blanks],
        "problems": [asdict(p) for p in problems],
    }


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
