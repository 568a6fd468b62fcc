"""An edited draft is never overwritten.

Analysts open the 初稿 in Word or WPS, write the narrative and save it in place. Every draft the program
writes is recorded beside it (``.draft-record.json``: the SHA-256 of each file it wrote and the figures of
the last one, by file name). When
the file on disk is not one the program wrote (its hash is not in the record, or there is no record), the
new draft goes beside it as ``…（初稿，<日期时间>）.docx``, and the numbers that changed since the edited
version are listed (from the source appendix of the edited file, which lists every figure exactly, or from
the record when the writer deleted the appendix).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from analysis.core.digest import sha_parts
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import DRAFT_RECORD

KEEP = 20  # hashes remembered per file name (a killed run may leave an older file in place)
APPENDIX_HEAD = ("序号", "指标", "数值")


def read_record(folder: Path) -> dict:
    """The record of ``folder``: ``files`` (file name → hashes written) and ``values`` (file name → the
    figures of the draft last written under that name); empty when absent or unreadable."""
    try:
        data = json.loads((Path(folder) / DRAFT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}, "values": {}}
    files = data.get("files") if isinstance(data, dict) else None
    values = data.get("values") if isinstance(data, dict) else None
    return {
        "files": {str(k): [str(h) for h in v] for k, v in (files or {}).items() if isinstance(v, list)},
        "values": {str(k): dict(v) for k, v in (values or {}).items() if isinstance(v, dict)},
    }


def digest(data: bytes) -> str:
    return sha_parts(data)


def edited(path: Path, record: dict) -> bool:
    """True when ``path`` exists and is not a file the program wrote (so a person may have edited it)."""
    path = Path(path)
    if not path.is_file():
        return False
    return digest(path.read_bytes()) not in record["files"].get(path.name, [])


def beside(path: Path, now: dt.datetime | None = None) -> Path:
    """``…（初稿，2026-12-02 0315）.docx`` beside ``…（初稿）.docx``."""
    path = Path(path)
    stamp = f"{(now or dt.datetime.now()):%Y-%m-%d %H%M}"
    stem = path.stem[:-1] if path.stem.endswith("）") else f"{path.stem}（初稿"
    return path.with_name(f"{stem}，{stamp}）{path.suffix}")


def write_record(folder: Path, record: dict, name: str, data: bytes, values: dict[str, str]) -> None:
    """Add the hash of ``data``, written as ``name`` with the figures ``values``, to ``record`` and write
    it into ``folder``."""
    hashes = [h for h in record["files"].get(name, []) if h != digest(data)] + [digest(data)]
    new = {"files": {**record["files"], name: hashes[-KEEP:]}, "values": {**record["values"], name: values}}
    text = json.dumps(new, ensure_ascii=False, indent=1, sort_keys=True)
    atomic_write_bytes(Path(folder) / DRAFT_RECORD, text.encode("utf-8"))


def values_before(path: Path, record: dict) -> dict[str, str]:
    """The figures of the edited draft at ``path``: from its appendix, or (when the writer deleted the
    appendix) those of the draft last written under its name, which is the one they edited."""
    return appendix_values(path) or record["values"].get(Path(path).name, {})


def appendix_values(path: Path) -> dict[str, str]:
    """Indicator name → value as the appendix of the draft at ``path`` lists it (empty if not found)."""
    import docx

    try:
        doc = docx.Document(str(path))
    except Exception:  # not a readable .docx any more (saved in another format): nothing to compare
        return {}
    for table in reversed(doc.tables):
        rows = [[c.text for c in row.cells] for row in table.rows]
        if rows and tuple(rows[0][:3]) == APPENDIX_HEAD:
            return {r[1]: r[2] for r in rows[1:] if len(r) > 2}
    return {}


def changed_numbers(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """``办理县长热线件：718 → 994`` for each figure whose value differs (added and removed ones too)."""
    out = []
    for name in dict.fromkeys([*old, *new]):
        before, after = old.get(name, "（无）"), new.get(name, "（无）")
        if before != after:
            out.append(f"{name}：{before} → {after}")
    return out
