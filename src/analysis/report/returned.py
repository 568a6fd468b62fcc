"""What ``退回修改`` does with the files of the last build: a department's marked-up copy and notice are
made again only when what goes into them changed (its problems, the file as read, the wording's format),
and a file a person edited since it was published (the analyst fills the notice's deadline and contact
person, and may annotate a copy) is never overwritten.

Beside the files, ``退回修改/.feedback-record.json`` keeps, per file, the key of its content and the SHA-256
of the bytes written. When the key is unchanged the published file is carried into the new build as it is
(edited or not). When it changed and the published file is still the one written, the new file replaces
it; when a person edited it, it is kept and the new file goes beside it (``…（<日期时间>）.docx``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from analysis.core.digest import sha_parts
from analysis.core.fileio import atomic_write_bytes
from analysis.core.names import FEEDBACK_DIR, FEEDBACK_RECORD

FORMAT = 1  # bump when the copies or notices are laid out differently: every one is made again
PERSONS = {"key": "", "sha": ""}  # the record of a file a person edited: matches no content, never replaced


def content_key(*parts: object) -> str:
    """The key of what goes into a file: its problem rows, the source file's digest, names, the format."""
    text = json.dumps([FORMAT, *parts], ensure_ascii=False, sort_keys=True, default=str)
    return sha_parts(text.encode("utf-8"))


def beside(relative: str, now: dt.datetime | None = None) -> str:
    """``退回修改/县司法局数据修改通知（2026-12-02 0315）.docx`` for ``退回修改/县司法局数据修改通知.docx``."""
    path = Path(relative)
    return path.with_name(
        f"{path.stem}（{(now or dt.datetime.now()):%Y-%m-%d %H%M}）{path.suffix}"
    ).as_posix()


class Returned:
    """The files of one build's ``退回修改/``, written into ``stage`` against the ``published`` report folder
    (None: no earlier build). :meth:`write` returns the relative path the file ended up under."""

    def __init__(self, stage: Path, published: Path | None):
        self.stage, self.published = Path(stage), Path(published) if published else None
        self.old = self._read() if self.published else {}
        self.new: dict[str, dict] = {}
        self.kept: list[str] = []  # edited files kept, a new one written beside each

    def _read(self) -> dict:
        try:
            data = json.loads((self.published / FEEDBACK_DIR / FEEDBACK_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict) and {"key", "sha"} <= set(v)}

    def write(self, relative: str, key: str, make: Callable[[], bytes]) -> str:
        before = self.old.get(relative)
        on_disk = self.published / relative if self.published else None
        current = on_disk.read_bytes() if on_disk is not None and on_disk.is_file() else None
        if current is not None and before is not None and before["key"] == key:
            atomic_write_bytes(self.stage / relative, current)  # unchanged: as published (edited or not)
            self.new[relative] = before
            return relative
        data = make()
        if current is not None and (before is None or sha_parts(current) != before["sha"]):
            atomic_write_bytes(self.stage / relative, current)  # a person's edit: kept where it is
            self.new[relative] = PERSONS
            self.kept.append(relative)
            relative = beside(relative)
        atomic_write_bytes(self.stage / relative, data)
        self.new[relative] = {"key": key, "sha": sha_parts(data)}
        return relative

    def close(self) -> None:
        """Carry over the edited files this build did not name (a department with no problems now, an
        earlier file written beside), then write the record (when ``退回修改/`` has any file)."""
        for relative, before in self.old.items():
            on_disk = self.published / relative
            if relative in self.new or not on_disk.is_file():
                continue
            current = on_disk.read_bytes()
            if sha_parts(current) != before["sha"]:  # edited (or a person's already): never dropped
                atomic_write_bytes(self.stage / relative, current)
                self.new[relative] = PERSONS
                self.kept.append(relative)
        if self.new:
            text = json.dumps(self.new, ensure_ascii=False, indent=1, sort_keys=True)
            atomic_write_bytes(self.stage / FEEDBACK_DIR / FEEDBACK_RECORD, text.encode("utf-8"))
