"""Preflight of a submitted file, before any workbook reader touches it.

:func:`load_checked` reads a file's bytes ONCE, judges them by content (never by extension) and returns
the format (``"xlsx"`` for .xlsx/.xlsm/.xltx, ``"xls"``, ``"ods"``) with those same bytes, which the reader
then parses: a file swapped on disk between the check and the read cannot slip past the check. A refused
file raises :class:`FileRejected` with a problem code of :mod:`analysis.core.problems` and a Chinese
message telling the department what is wrong and how to fix it:

- ``unreadable-file`` — empty, text/HTML/PDF/other files named like a workbook, truncated or corrupt
  archives, Word/PowerPoint documents, .xlsb, Strict Open XML workbooks;
- ``unsafe-file`` — a file too large, a zip bomb, duplicate part names, or any part of the package
  containing a DTD or entity declaration (:mod:`analysis.ingest.zipcheck`);
- ``password-protected`` — encrypted OOXML, .xls (:mod:`analysis.ingest.compound`), .ods or zip members.

Limits are documented on :class:`analysis.ingest.limits.Limits`. Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

from analysis.ingest.compound import OLE_MAGIC, check_ole
from analysis.ingest.limits import Limits
from analysis.ingest.rejection import MB, RESAVE, UNREADABLE, UNSAFE, FileRejected, corrupt
from analysis.ingest.zipcheck import ZIP_MAGIC, check_zip

__all__ = ["MB", "FileRejected", "Limits", "load_checked", "preflight"]


def preflight(path: Path, limits: Limits | None = None) -> str:
    """Check a submitted file by content; return ``"xlsx"``, ``"xls"`` or ``"ods"`` or raise FileRejected."""
    return load_checked(path, limits)[0]


def load_checked(path: Path, limits: Limits | None = None) -> tuple[str, bytes]:
    """(format, bytes) of a submitted file that passed the checks, read once; or raise FileRejected.

    A refusal of bytes that were read carries their SHA-256 (``digest``): the verdict depends on them alone,
    so an ingest may reuse it while the file stays the same (:mod:`analysis.ingest.reuse`)."""
    limits = limits or Limits.from_env()
    data = read_capped(path, limits)
    try:
        return check_bytes(data, limits), data
    except FileRejected as exc:
        exc.digest = hashlib.sha256(data).hexdigest()
        raise


def read_capped(path: Path, limits: Limits) -> bytes:
    """The bytes of ``path``, never more than the size limit allows (plus one byte to tell "too large")."""
    path = Path(path)
    try:
        if not path.is_file():
            raise FileRejected(UNREADABLE, "这不是一个普通文件（可能是文件夹或快捷方式），无法作为报表读取。")
        with path.open("rb") as fh:
            return fh.read(min(os.fstat(fh.fileno()).st_size, int(limits.max_file_mb * MB)) + 1)
    except FileRejected:
        raise
    except OSError as exc:
        raise FileRejected(UNREADABLE, corrupt(type(exc).__name__)) from exc


def check_bytes(data: bytes, limits: Limits) -> str:
    """The format of a submitted file's content, or FileRejected."""
    size = len(data)
    if size == 0:
        raise FileRejected(
            UNREADABLE, "文件是空的（0 字节），可能在保存、复制或邮件下载时中断。请重新保存工作簿后报送。"
        )
    if size > limits.max_file_mb * MB:
        raise FileRejected(
            UNSAFE,
            f"文件大小超过单个报表 {limits.max_file_mb:g} MB 的上限。"
            "请删除与报表无关的工作表和图片后重新保存；确需报送请联系管理员调整 FAZHI_MAX_FILE_MB。",
        )
    try:
        fh = io.BytesIO(data)
        if data.startswith(ZIP_MAGIC):
            return check_zip(fh, size, limits)
        if data[:8] == OLE_MAGIC:
            return check_ole(fh, size)
    except FileRejected:
        raise
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError) as exc:
        raise FileRejected(UNREADABLE, corrupt(type(exc).__name__)) from exc
    except (ValueError, IndexError, KeyError, NotImplementedError, RuntimeError) as exc:
        raise FileRejected(UNREADABLE, corrupt(type(exc).__name__)) from exc
    raise FileRejected(UNREADABLE, _describe_other(data[:4096]))


# --- files that are not workbooks ---------------------------------------------------------------


def _describe_other(sample: bytes) -> str:
    """A Chinese explanation of what a non-workbook file probably is."""
    text = sample.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower().replace(b"\x00", b"")
    if text.startswith(b"%pdf"):
        return "这是 PDF 文件，不是 Excel 工作簿。请报送填报用的 Excel 原表（.xlsx），不要转换成 PDF。"
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return f"这是“XML 表格 2003”格式的文件，系统不读取这种格式。{RESAVE}"
    if (
        text.startswith((b"<!doctype html", b"<html", b"<table", b"<head", b"<meta"))
        or b"<html" in text[:1024]
    ):
        return (
            "这不是 Excel 工作簿，而是改了扩展名的网页（HTML）文件，常见于从业务系统“导出 Excel”得到的文件。"
            + RESAVE
        )
    if text.startswith(b"{\\rtf"):
        return f"这是 RTF 文档，不是 Excel 工作簿。{RESAVE}"
    if _looks_like_text(sample):
        return f"这不是 Excel 工作簿，而是改了扩展名的文本文件（如 CSV、TXT）。{RESAVE}"
    return (
        "无法识别的文件格式：不是 Excel 工作簿（.xlsx、.xlsm、.xls）或 OpenDocument 表格（.ods），"
        f"也可能已损坏。{RESAVE}"
    )


def _looks_like_text(sample: bytes) -> bool:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a multi-byte character cut by the sample's end
                return True
            continue
        return True
    return False
