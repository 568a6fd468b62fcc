"""Content hashes: the one way inputs are compared between runs (never timestamps).

Ingest uses them to reuse what it read from an unchanged file (:mod:`analysis.ingest.reuse`), the batch to
reuse an unchanged report (:mod:`analysis.report.builds`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # src/analysis


def sha_parts(*parts: bytes) -> str:
    """SHA-256 over the hashes of ``parts``, so that no two different lists of parts give the same bytes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


@cache
def program_digest(package: Path = PACKAGE) -> str:
    """The package source: every ``.py``/``.yaml``/``.j2`` file (code, catalog, page templates) and the
    report assets, by path and content."""
    files = sorted(
        p
        for p in package.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and (p.suffix in (".py", ".yaml", ".j2") or "assets" in p.relative_to(package).parts)
    )
    return sha_parts(*(p.relative_to(package).as_posix().encode() + b"\0" + p.read_bytes() for p in files))
