"""Preflight of a submitted file, before any workbook reader touches it.

:func:`preflight` looks at a file's bytes (never its extension) and either returns its format
(``"xlsx"`` for .xlsx/.xlsm/.xltx, ``"xls"``, ``"ods"``) or raises :class:`FileRejected` with a problem code
of :mod:`analysis.problems` and a Chinese message telling the department what is wrong and how to fix it:

- ``unreadable-file`` — empty, text/HTML/PDF/other files named like a workbook, truncated or corrupt
  archives, Word/PowerPoint documents, .xlsb;
- ``unsafe-file`` — a file too large, an archive whose *declared* sizes, compression ratios or member count
  exceed :class:`Limits` (judged from the central directory before anything is inflated; a member that
  inflates beyond its declared size is caught while streaming), or any part of the package containing a
  DTD or entity declaration (``<!DOCTYPE`` / ``<!ENTITY``: "billion laughs", external entities/XXE);
- ``password-protected`` — an encrypted OOXML workbook (an OLE2 file with ``EncryptionInfo`` /
  ``EncryptedPackage`` streams), an .xls whose workbook stream has a FILEPASS record, an encrypted .ods,
  or a zip with encrypted members.

Every part of a zip package is inflated in bounded chunks and scanned for those declarations (XML is
never parsed here), and its CRC and size are verified. Only the standard library is used.

Limits (defaults documented on :class:`Limits`, each overridable by an environment variable)::

    FAZHI_MAX_FILE_MB          50    size of the file on disk
    FAZHI_MAX_UNCOMPRESSED_MB  200   total declared uncompressed size of a zip package
    FAZHI_MAX_MEMBER_MB        100   declared uncompressed size of one member
    FAZHI_MAX_RATIO            100   uncompressed/compressed ratio of a member larger than 1 MB
    FAZHI_MAX_MEMBERS          2000  number of members of a zip package
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import BinaryIO

from analysis.core.problems import CODES
from analysis.core.text import clip

MB = 1024 * 1024

UNREADABLE, UNSAFE, PASSWORD = "unreadable-file", "unsafe-file", "password-protected"


class FileRejected(Exception):
    """A file refused before reading. ``code`` is a problem code, ``message`` Chinese, without the path."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown problem code {code!r}")
        message = message.rstrip("。")  # the caller appends its own clause
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"FileRejected({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submitted file. Sizes in MB (2**20 bytes).

    The defaults leave a wide margin over real submissions (a department's workbook is well under 1 MB;
    a 100,000-row sheet is about 4 MB on disk, 20 MB inflated, ratio about 10) while keeping a zip bomb far
    below what would exhaust memory. Each can be overridden by the environment variable in its comment.
    """

    max_file_mb: float = 50  # FAZHI_MAX_FILE_MB: size of the file on disk
    max_uncompressed_mb: float = 200  # FAZHI_MAX_UNCOMPRESSED_MB: sum of the members' declared sizes
    max_member_mb: float = 100  # FAZHI_MAX_MEMBER_MB: declared size of the largest member
    max_ratio: float = 100  # FAZHI_MAX_RATIO: inflated/compressed size of one member …
    ratio_floor_mb: float = 1  # FAZHI_RATIO_FLOOR_MB: … checked only for members larger than this
    max_members: int = 2000  # FAZHI_MAX_MEMBERS: number of members in the archive

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, overridden by ``FAZHI_<FIELD>`` variables (e.g. ``FAZHI_MAX_UNCOMPRESSED_MB=500``)."""
        env = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for field in fields(cls):
            var = f"FAZHI_{field.name.upper()}"
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if field.type in ("int", int) else float(raw)
            except ValueError:
                value = -1
            if not value > 0:
                raise ValueError(f"环境变量 {var} 的值“{clip(raw, 20)}”无效，应为正数。")
            values[field.name] = value
        return cls(**values)


# Zip members are inflated in chunks of at most this many bytes, so memory stays bounded whatever the ratio.
_CHUNK = 1 * MB
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_BIFF_BOF = {0x0809, 0x0409, 0x0209, 0x0009}
_BIFF_EOF, _BIFF_FILEPASS = 0x000A, 0x002F


def _declaration_pattern(null_before: bool, null_after: bool) -> re.Pattern[bytes]:
    """``<!DOCTYPE`` or ``<!ENTITY`` in any letter case, in UTF-8 (no nulls) or UTF-16 (a null beside each
    character). Each pattern starts with a literal, so the regex engine scans for it at memchr speed."""

    def encoded(word: str) -> bytes:
        parts = []
        for ch in word:
            cls = re.escape(ch.encode()) if not ch.isalpha() else f"[{ch.upper()}{ch.lower()}]".encode()
            parts.append((b"\x00" if null_before else b"") + cls + (b"\x00" if null_after else b""))
        return b"".join(parts)

    return re.compile(encoded("<!") + b"(?:" + encoded("DOCTYPE") + b"|" + encoded("ENTITY") + b")")


_DECLARATION_UTF8 = _declaration_pattern(False, False)
_DECLARATION_UTF16 = (_declaration_pattern(False, True), _declaration_pattern(True, False))
# Encodings in which "<!DOCTYPE" can only appear as its ASCII bytes. A part declaring anything else
# (UTF-7, UTF-32, EBCDIC …) could hide a DTD from a byte scan while a permissive parser decodes it: refused.
_ASCII_COMPATIBLE = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252"}
    | {"cp1252", "gb2312", "gbk", "gb18030", "big5"}
)
_XML_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']{0,40})["']""")
_PREFIX = 64 * 1024  # bytes of a part inspected for its encoding before the scan starts
_OVERLAP = 32  # bytes kept between chunks so a declaration split across two chunks is still found

# Main content types of a spreadsheet package ([Content_Types].xml).
_OOXML_WORKBOOK = re.compile(
    rb"(?:spreadsheetml\.(?:sheet|template)|ms-excel\.(?:sheet|template)\.macroEnabled)\.main\+xml", re.I
)
_OOXML_XLSB = re.compile(rb"ms-excel\.sheet\.binary\.macroEnabled\.main", re.I)
_OOXML_OTHER = {
    b"wordprocessingml": "Word 文档（.docx）",
    b"presentationml": "PowerPoint 演示文稿（.pptx）",
    b"ms-word": "Word 文档（.docm）",
    b"ms-powerpoint": "PowerPoint 演示文稿（.pptm）",
}
_ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)

_RESAVE = "请在 Excel 或 WPS 表格中打开，另存为“Excel 工作簿（*.xlsx）”后重新报送。"
_PASSWORD_HELP = (
    "工作簿设有打开密码，系统无法读取。请打开文件后取消密码再保存："
    "Excel 中点“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码；"
    "WPS 中点“文件 → 文档加密 → 密码加密”，清空打开密码。保存后重新报送。"
)


def preflight(path: Path, limits: Limits | None = None) -> str:
    """Check a submitted file by content; return ``"xlsx"``, ``"xls"`` or ``"ods"`` or raise FileRejected."""
    limits = limits or Limits.from_env()
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise FileRejected(UNREADABLE, "这不是一个普通文件（可能是文件夹或快捷方式），无法作为报表读取。")
        if size == 0:
            raise FileRejected(
                UNREADABLE, "文件是空的（0 字节），可能在保存、复制或邮件下载时中断。请重新保存工作簿后报送。"
            )
        if size > limits.max_file_mb * MB:
            raise FileRejected(
                UNSAFE,
                f"文件大小 {size / MB:.1f} MB，超过单个报表 {limits.max_file_mb:g} MB 的上限。"
                "请删除与报表无关的工作表和图片后重新保存；确需报送请联系管理员调整 FAZHI_MAX_FILE_MB。",
            )
        with path.open("rb") as fh:
            head = fh.read(8)
            if head.startswith(_ZIP_MAGIC):
                return _check_zip(fh, size, limits)
            if head == _OLE_MAGIC:
                return _check_ole(fh, size)
            fh.seek(0)
            sample = fh.read(4096)
    except FileRejected:
        raise
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError) as exc:
        raise FileRejected(UNREADABLE, _corrupt(type(exc).__name__)) from exc
    except (ValueError, IndexError, KeyError, NotImplementedError, RuntimeError) as exc:
        raise FileRejected(UNREADABLE, _corrupt(type(exc).__name__)) from exc
    raise FileRejected(UNREADABLE, _describe_other(sample))


def _corrupt(detail: str) -> str:
    return (
        f"文件不完整或已损坏（{detail}），常见于下载、复制或邮件传输中断。"
        "请在填报电脑上用 Excel 重新打开并保存，确认能正常打开后重新报送。"
    )


# --- files that are not workbooks ---------------------------------------------------------------


def _describe_other(sample: bytes) -> str:
    """A Chinese explanation of what a non-workbook file probably is."""
    text = sample.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower().replace(b"\x00", b"")
    if text.startswith(b"%pdf"):
        return "这是 PDF 文件，不是 Excel 工作簿。请报送填报用的 Excel 原表（.xlsx），不要转换成 PDF。"
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return f"这是“XML 表格 2003”格式的文件，系统不读取这种格式。{_RESAVE}"
    if (
        text.startswith((b"<!doctype html", b"<html", b"<table", b"<head", b"<meta"))
        or b"<html" in text[:1024]
    ):
        return (
            "这不是 Excel 工作簿，而是改了扩展名的网页（HTML）文件，常见于从业务系统“导出 Excel”得到的文件。"
            + _RESAVE
        )
    if text.startswith(b"{\\rtf"):
        return f"这是 RTF 文档，不是 Excel 工作簿。{_RESAVE}"
    if _looks_like_text(sample):
        return f"这不是 Excel 工作簿，而是改了扩展名的文本文件（如 CSV、TXT）。{_RESAVE}"
    return (
        "无法识别的文件格式：不是 Excel 工作簿（.xlsx、.xlsm、.xls）或 OpenDocument 表格（.ods），"
        f"也可能已损坏。{_RESAVE}"
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


# --- zip packages (.xlsx, .xlsm, .ods) -----------------------------------------------------------


def _check_zip(fh: BinaryIO, size: int, limits: Limits) -> str:
    declared = _declared_member_count(fh, size)
    if declared > limits.max_members:
        raise FileRejected(UNSAFE, _too_many_members(declared, limits))
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise FileRejected(UNREADABLE, _corrupt("压缩结构无效")) from exc
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise FileRejected(UNSAFE, _too_many_members(len(infos), limits))
    _check_declared_sizes(infos, size, limits)
    heads: dict[str, bytes] = {}
    for info in infos:
        name = info.filename.lower()
        keep = name in ("[content_types].xml", "mimetype", "meta-inf/manifest.xml")
        head = _scan_member(fh, info, keep_head=keep)
        if keep:
            heads[name] = head
    return _package_format(heads, {info.filename.lower() for info in infos})


def _declared_member_count(fh: BinaryIO, size: int) -> int:
    """The member count from the end-of-central-directory record, read before zipfile builds its index."""
    tail_size = min(size, 22 + 65535)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise FileRejected(UNREADABLE, _corrupt("缺少压缩目录，文件被截断"))
    count = struct.unpack_from("<H", tail, at + 10)[0]
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        record_offset = struct.unpack_from("<Q", tail, locator + 8)[0]
        if record_offset + 56 > size:
            raise FileRejected(UNREADABLE, _corrupt("ZIP64 目录位置无效"))
        fh.seek(record_offset)
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06":
            raise FileRejected(UNREADABLE, _corrupt("ZIP64 目录无效"))
        count = struct.unpack_from("<Q", record, 32)[0]
    return count


def _too_many_members(count: int, limits: Limits) -> str:
    return (
        f"文件内部有 {count} 个部件，超过 {limits.max_members} 个的上限，疑似恶意构造的压缩文件，已拒绝读取。"
        f"请检查文件来源，新建工作簿重新填报。{_LIMIT_HINT}"
    )


_LIMIT_HINT = "（上限可由管理员通过 FAZHI_MAX_* 环境变量调整，见 docs/reliability.md。）"


def _check_declared_sizes(infos: list[zipfile.ZipInfo], size: int, limits: Limits) -> None:
    """Refuse a zip bomb from the central directory alone, before inflating anything."""
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRejected(
                PASSWORD, "文件内部的部件设有压缩密码，系统无法读取。请取消密码，用 Excel 重新保存后报送。"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRejected(
                UNREADABLE, f"文件使用了 Excel 不会使用的压缩方式（编号 {info.compress_type}）。{_RESAVE}"
            )
        if info.header_offset + info.compress_size > size:
            raise FileRejected(UNREADABLE, _corrupt("部件超出文件末尾，文件被截断"))
        part = clip(info.filename, 60)
        if info.file_size > limits.max_member_mb * MB:
            raise FileRejected(
                UNSAFE,
                _bomb(
                    f"部件“{part}”解压后有 {info.file_size / MB:,.0f} MB，超过 {limits.max_member_mb:g} MB 的上限"
                ),
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_mb * MB and ratio > limits.max_ratio:
            raise FileRejected(
                UNSAFE,
                _bomb(
                    f"部件“{part}”压缩比 {ratio:,.0f}:1（{info.compress_size / MB:.2f} MB 解压为 "
                    f"{info.file_size / MB:,.0f} MB），超过 {limits.max_ratio:g}:1 的上限"
                ),
            )
        total += info.file_size
        if total > limits.max_uncompressed_mb * MB:
            raise FileRejected(UNSAFE, _bomb(f"全部部件解压后超过 {limits.max_uncompressed_mb:g} MB 的上限"))


def _bomb(detail: str, before: bool = True) -> str:
    when = "已在解压前拒绝读取" if before else "已停止解压并拒绝读取"
    return (
        f"文件疑似“压缩炸弹”：{detail}，{when}。正常填写的报表远小于此；请检查文件来源，"
        f"删除无关的工作表和大量空白格式后重新保存报送。{_LIMIT_HINT}"
    )


def _scan_member(fh: BinaryIO, info: zipfile.ZipInfo, keep_head: bool) -> bytes:
    """Inflate one member in bounded chunks: no DTD/entity declaration, exact size and CRC. Returns its head."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise FileRejected(UNREADABLE, _corrupt("部件头无效"))
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    scanner = _PartScanner(info, keep_head)
    remaining = info.compress_size
    while remaining > 0:
        chunk = fh.read(min(_CHUNK, remaining))
        if not chunk:
            raise FileRejected(UNREADABLE, _corrupt("部件数据不完整，文件被截断"))
        remaining -= len(chunk)
        if inflater is None:
            scanner.feed(chunk)
            continue
        while chunk and not inflater.eof:
            scanner.feed(inflater.decompress(chunk, _CHUNK))
            chunk = inflater.unconsumed_tail
    if inflater is not None:
        while not inflater.eof:
            data = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            if not data:
                raise FileRejected(UNREADABLE, _corrupt(f"部件“{scanner.part}”的压缩数据不完整"))
            scanner.feed(data)
    return scanner.finish()


class _PartScanner:
    """The inflated bytes of one member, chunk by chunk: size bound, CRC and the declaration scan."""

    def __init__(self, info: zipfile.ZipInfo, keep_head: bool) -> None:
        self.info = info
        self.part = clip(info.filename, 60)
        self.keep_head = keep_head
        self.head = b""
        self.produced = self.crc = 0
        self.patterns: tuple[re.Pattern[bytes], ...] | None = None
        self.pending = b""  # the first bytes, held until the part's encoding is known
        self.carry = b""  # the end of the previous chunk, for a declaration split across two chunks

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self.produced += len(data)
        if self.produced > self.info.file_size:
            raise FileRejected(
                UNSAFE,
                _bomb(
                    f"部件“{self.part}”实际解压后大于其声明的 {self.info.file_size / MB:,.1f} MB",
                    before=False,
                ),
            )
        self.crc = zlib.crc32(data, self.crc)
        if self.keep_head and len(self.head) < MB:
            self.head += data[: MB - len(self.head)]
        if self.patterns is None:
            self.pending += data
            if len(self.pending) < _PREFIX:
                return
            data, self.pending = self.pending, b""
            self.patterns = _patterns_for(data, self.part)
        self._search(data)

    def finish(self) -> bytes:
        if self.patterns is None:
            data, self.pending = self.pending, b""
            self.patterns = _patterns_for(data, self.part)
            self._search(data)
        if self.produced != self.info.file_size or (self.crc & 0xFFFFFFFF) != self.info.CRC:
            raise FileRejected(UNREADABLE, _corrupt(f"部件“{self.part}”校验失败"))
        return self.head

    def _search(self, data: bytes) -> None:
        seam = self.carry + data[:_OVERLAP]
        for pattern in self.patterns or ():
            if pattern.search(data) or pattern.search(seam):
                raise FileRejected(
                    UNSAFE,
                    f"文件内部的“{self.part}”含有 DTD 或实体声明（<!DOCTYPE / <!ENTITY）。"
                    "Excel 和 WPS 从不写入这类内容，它是“实体膨胀（billion laughs）”和外部实体（XXE）攻击的手法，"
                    "已拒绝读取。请检查文件来源，新建工作簿重新填报后报送。",
                )
        self.carry = (self.carry + data)[-_OVERLAP:] if len(data) < _OVERLAP else data[-_OVERLAP:]


def _patterns_for(prefix: bytes, part: str) -> tuple[re.Pattern[bytes], ...]:
    """The declaration patterns to scan a part with, from its first bytes (BOM, nulls, XML declaration)."""

    def unusual(encoding: str) -> FileRejected:
        return FileRejected(
            UNSAFE,
            f"文件内部的“{part}”使用了不常见的字符编码（{clip(encoding, 20)}），可用来隐藏 DTD 或实体声明，"
            "Excel 和 WPS 从不这样保存，已拒绝读取。请检查文件来源，新建工作簿重新填报后报送。",
        )

    if prefix.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise unusual("UTF-32")
    if prefix.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in prefix[:4]:
        return (_DECLARATION_UTF8, *_DECLARATION_UTF16)
    body = prefix[3:] if prefix.startswith(b"\xef\xbb\xbf") else prefix
    if body.lstrip().startswith(b"<?xml"):
        end = body.find(b"?>")
        if end < 0:
            raise unusual("XML 声明不完整或过长")
        found = _XML_DECL_ENCODING.search(body, 0, end)
        if found:
            encoding = found.group(1).decode("ascii", "replace").strip().lower()
            if encoding not in _ASCII_COMPATIBLE:
                raise unusual(encoding)
    return (_DECLARATION_UTF8,)


def _package_format(heads: dict[str, bytes], names: set[str]) -> str:
    mimetype = heads.get("mimetype", b"").strip()
    if mimetype:
        if mimetype in _ODS_MIMETYPES:
            if b"encryption-data" in heads.get("meta-inf/manifest.xml", b""):
                raise FileRejected(
                    PASSWORD,
                    "表格设有打开密码，系统无法读取。请在 LibreOffice 或 WPS 中打开，"
                    "“另存为”时取消“使用密码保存”，或另存为 .xlsx 后重新报送。",
                )
            if "content.xml" not in names:
                raise FileRejected(UNREADABLE, _corrupt("缺少 content.xml"))
            return "ods"
        if mimetype.startswith(b"application/vnd.oasis.opendocument."):
            kind = mimetype.rsplit(b".", 1)[-1].decode("ascii", "replace")
            raise FileRejected(
                UNREADABLE, f"这是 OpenDocument {clip(kind, 20)} 文档，不是电子表格。{_RESAVE}"
            )
    types = heads.get("[content_types].xml", b"")
    if types:
        if _OOXML_XLSB.search(types):
            raise FileRejected(UNREADABLE, f"这是 Excel 二进制工作簿（.xlsb），系统不读取这种格式。{_RESAVE}")
        if _OOXML_WORKBOOK.search(types):
            return "xlsx"
        for marker, kind in _OOXML_OTHER.items():
            if marker in types:
                raise FileRejected(UNREADABLE, f"这是 {kind}，不是 Excel 工作簿。请报送填报用的 Excel 表格。")
        raise FileRejected(UNREADABLE, f"这是 Office 文件包，但其中没有 Excel 工作簿。{_RESAVE}")
    raise FileRejected(
        UNREADABLE, "这是普通的 ZIP 压缩包，不是 Excel 工作簿。请解压后报送其中的 Excel 报表（.xlsx）。"
    )


# --- OLE2 compound files (.xls, encrypted OOXML) -------------------------------------------------


def _check_ole(fh: BinaryIO, size: int) -> str:
    streams = _CompoundFile(fh, size).streams()
    names = {name.lower(): entry for name, entry in streams.items()}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        raise FileRejected(PASSWORD, _PASSWORD_HELP)
    book = names.get("workbook") or names.get("book")
    if book is None:
        if "worddocument" in names:
            kind = "Word 97-2003 文档（.doc）"
        elif "powerpoint document" in names:
            kind = "PowerPoint 97-2003 演示文稿（.ppt）"
        else:
            kind = "Office 复合文档（其中没有 Excel 工作簿）"
        raise FileRejected(UNREADABLE, f"这是 {kind}，不是 Excel 工作簿。请报送填报用的 Excel 表格。")
    data = book.read(256 * 1024)
    if _biff_has_filepass(data):
        raise FileRejected(PASSWORD, _PASSWORD_HELP)
    return "xls"


def _biff_has_filepass(data: bytes) -> bool:
    """Walk the workbook globals' records up to their EOF; True when a FILEPASS (encryption) record is met."""
    if len(data) < 4 or struct.unpack_from("<H", data, 0)[0] not in _BIFF_BOF:
        raise FileRejected(UNREADABLE, _corrupt("工作簿数据流开头无效"))
    at = 0
    while at + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, at)
        if kind == _BIFF_FILEPASS:
            return True
        if kind == _BIFF_EOF and at > 0:
            return False
        at += 4 + length
    return False


_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE


class _CompoundFile:
    """Just enough of [MS-CFB] to list stream names and read the start of a stream, with bounded loops."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        fh.seek(0)
        header = fh.read(512)
        if len(header) < 512:
            raise FileRejected(UNREADABLE, _corrupt("复合文档头不完整"))
        shift, mini_shift = struct.unpack_from("<HH", header, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise FileRejected(UNREADABLE, _corrupt("复合文档扇区大小无效"))
        self.sector = 1 << shift
        self.max_sectors = size // self.sector + 1
        n_fat, first_dir = struct.unpack_from("<II", header, 44)
        self.mini_cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from(
            "<IIIII", header, 56
        )
        if n_fat > self.max_sectors or n_difat > self.max_sectors:
            raise FileRejected(UNREADABLE, _corrupt("复合文档分配表大小无效"))
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < _END_OF_CHAIN]
        difat, seen = first_difat, 0
        per_difat = self.sector // 4 - 1
        while difat < _END_OF_CHAIN and len(fat_sectors) < n_fat:
            seen += 1
            if seen > n_difat + 1:
                raise FileRejected(UNREADABLE, _corrupt("复合文档分配表链循环"))
            raw = self._sector_bytes(difat)
            entries = struct.unpack(f"<{per_difat + 1}I", raw)
            fat_sectors.extend(s for s in entries[:per_difat] if s < _END_OF_CHAIN)
            difat = entries[per_difat]
        fat_sectors = fat_sectors[:n_fat]
        per_sector = self.sector // 4
        self.fat: list[int] = []
        for s in fat_sectors:
            self.fat.extend(struct.unpack(f"<{per_sector}I", self._sector_bytes(s)))
        allocated = [i for i, nxt in enumerate(self.fat) if nxt != _FREE]
        if allocated and (allocated[-1] + 2) * self.sector > size:
            raise FileRejected(UNREADABLE, _corrupt("复合文档比其分配表记录的短，文件被截断"))
        self.directory = b"".join(self._sector_bytes(s) for s in self._chain(first_dir))
        root = self._entry(0)
        if root is None or root[1] != 5:
            raise FileRejected(UNREADABLE, _corrupt("复合文档根目录无效"))
        self.root_start, self.root_size = root[2], root[3]
        self.first_minifat, self.n_minifat = first_minifat, n_minifat
        self._minifat: list[int] | None = None
        self._root_chain: list[int] | None = None

    def _sector_bytes(self, sector: int) -> bytes:
        offset = (sector + 1) * self.sector
        if sector >= _END_OF_CHAIN or offset + self.sector > self.size:
            raise FileRejected(UNREADABLE, _corrupt("复合文档扇区超出文件末尾"))
        self.fh.seek(offset)
        data = self.fh.read(self.sector)
        if len(data) < self.sector:
            raise FileRejected(UNREADABLE, _corrupt("复合文档扇区不完整，文件被截断"))
        return data

    def _chain(self, start: int, table: list[int] | None = None, limit: int | None = None) -> list[int]:
        table = self.fat if table is None else table
        chain: list[int] = []
        sector = start
        while sector != _END_OF_CHAIN and sector != _FREE:
            if sector >= len(table) or len(chain) > len(table):
                raise FileRejected(UNREADABLE, _corrupt("复合文档扇区链无效"))
            chain.append(sector)
            if limit is not None and len(chain) >= limit:
                break
            sector = table[sector]
        return chain

    def _entry(self, index: int) -> tuple[str, int, int, int] | None:
        raw = self.directory[index * 128 : index * 128 + 128]
        if len(raw) < 128:
            return None
        name_len = min(struct.unpack_from("<H", raw, 64)[0], 64)
        name = raw[: max(name_len - 2, 0)].decode("utf-16-le", "replace")
        kind = raw[66]
        start, size = struct.unpack_from("<IQ", raw, 116)
        return name, kind, start, size

    def streams(self) -> dict[str, _Stream]:
        out: dict[str, _Stream] = {}
        for index in range(len(self.directory) // 128):
            entry = self._entry(index)
            if entry and entry[1] == 2:  # a stream
                out.setdefault(
                    entry[0],
                    _Stream(self, entry[2], entry[3] & 0xFFFFFFFF if self.sector == 512 else entry[3]),
                )
        return out

    def read(self, start: int, size: int, limit: int) -> bytes:
        want = min(size, limit)
        if size < self.mini_cutoff:
            return self._read_mini(start, want)
        sectors = self._chain(start, limit=want // self.sector + 1)
        return b"".join(self._sector_bytes(s) for s in sectors)[:want]

    def _read_mini(self, start: int, want: int) -> bytes:
        if self._minifat is None:
            per_sector = self.sector // 4
            self._minifat = []
            for s in self._chain(self.first_minifat, limit=self.n_minifat or None):
                self._minifat.extend(struct.unpack(f"<{per_sector}I", self._sector_bytes(s)))
            self._root_chain = self._chain(self.root_start)
        assert self._root_chain is not None
        out = bytearray()
        for mini in self._chain(start, table=self._minifat, limit=want // 64 + 1):
            offset = mini * 64
            index, within = divmod(offset, self.sector)
            if index >= len(self._root_chain):
                raise FileRejected(UNREADABLE, _corrupt("复合文档小扇区超出范围"))
            out += self._sector_bytes(self._root_chain[index])[within : within + 64]
        return bytes(out[:want])


@dataclass(frozen=True)
class _Stream:
    cfb: _CompoundFile
    start: int
    size: int

    def read(self, limit: int) -> bytes:
        return self.cfb.read(self.start, self.size, limit)
