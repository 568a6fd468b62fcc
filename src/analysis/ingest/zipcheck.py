"""Check a zip package (.xlsx, .xlsm, .ods) without parsing XML: declared sizes, member count, duplicate
names, every part inflated in bounded chunks and scanned for DTD/entity declarations, CRC and size, and
the package's format from its content types or mimetype."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from typing import BinaryIO

from analysis.core.text import clip
from analysis.ingest.limits import Limits
from analysis.ingest.rejection import (
    LIMIT_HINT,
    MB,
    PASSWORD,
    RESAVE,
    UNREADABLE,
    UNSAFE,
    FileRejected,
    bomb,
    corrupt,
)

# Zip members are inflated in chunks of at most this many bytes, so memory stays bounded whatever the ratio.
CHUNK = 1 * MB
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


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
# The package relationship namespace of a Strict Open XML workbook (transitional: schemas.openxmlformats.org).
_STRICT = re.compile(rb"purl\.oclc\.org/ooxml/officeDocument/relationships", re.I)
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


def check_zip(fh: BinaryIO, size: int, limits: Limits) -> str:
    declared = _declared_member_count(fh, size)
    if declared > limits.max_members:
        raise FileRejected(UNSAFE, _too_many_members(declared, limits))
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise FileRejected(UNREADABLE, corrupt("压缩结构无效")) from exc
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise FileRejected(UNSAFE, _too_many_members(len(infos), limits))
    _check_unique_names(infos)
    _check_declared_sizes(infos, size, limits)
    heads: dict[str, bytes] = {}
    for info in infos:
        name = info.filename.lower()
        keep = name in ("[content_types].xml", "mimetype", "meta-inf/manifest.xml", "_rels/.rels")
        head = _scan_member(fh, info, keep_head=keep)
        if keep:
            heads[name] = head
    return _package_format(heads, {info.filename.lower() for info in infos})


def _check_unique_names(infos: list[zipfile.ZipInfo]) -> None:
    """Two parts of one name (part names are case-insensitive in a package): readers disagree on which
    copy counts (the last one silently wins in Python), so what is checked may not be what is read."""
    seen: set[str] = set()
    for info in infos:
        name = info.filename.replace("\\", "/").lower()
        if name in seen:
            raise FileRejected(
                UNSAFE,
                f"文件内部有两个同名的部件“{clip(info.filename, 60)}”，Excel 从不这样保存；"
                "不同程序会读到不同的内容，已拒绝读取。请用 Excel 打开后另存为新的 .xlsx 再报送。",
            )
        seen.add(name)


def _declared_member_count(fh: BinaryIO, size: int) -> int:
    """The member count from the end-of-central-directory record, read before zipfile builds its index."""
    tail_size = min(size, 22 + 65535)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise FileRejected(UNREADABLE, corrupt("缺少压缩目录，文件被截断"))
    count = struct.unpack_from("<H", tail, at + 10)[0]
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        record_offset = struct.unpack_from("<Q", tail, locator + 8)[0]
        if record_offset + 56 > size:
            raise FileRejected(UNREADABLE, corrupt("ZIP64 目录位置无效"))
        fh.seek(record_offset)
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06":
            raise FileRejected(UNREADABLE, corrupt("ZIP64 目录无效"))
        count = struct.unpack_from("<Q", record, 32)[0]
    return count


def _too_many_members(count: int, limits: Limits) -> str:
    return (
        f"文件内部有 {count} 个部件，超过 {limits.max_members} 个的上限，疑似恶意构造的压缩文件，已拒绝读取。"
        f"请检查文件来源，新建工作簿重新填报。{LIMIT_HINT}"
    )


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
                UNREADABLE, f"文件使用了 Excel 不会使用的压缩方式（编号 {info.compress_type}）。{RESAVE}"
            )
        if info.header_offset + info.compress_size > size:
            raise FileRejected(UNREADABLE, corrupt("部件超出文件末尾，文件被截断"))
        part = clip(info.filename, 60)
        if info.file_size > limits.max_member_mb * MB:
            raise FileRejected(
                UNSAFE,
                bomb(
                    f"部件“{part}”解压后有 {info.file_size / MB:,.0f} MB，超过 {limits.max_member_mb:g} MB 的上限"
                ),
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_mb * MB and ratio > limits.max_ratio:
            raise FileRejected(
                UNSAFE,
                bomb(
                    f"部件“{part}”压缩比 {ratio:,.0f}:1（{info.compress_size / MB:.2f} MB 解压为 "
                    f"{info.file_size / MB:,.0f} MB），超过 {limits.max_ratio:g}:1 的上限"
                ),
            )
        total += info.file_size
        if total > limits.max_uncompressed_mb * MB:
            raise FileRejected(UNSAFE, bomb(f"全部部件解压后超过 {limits.max_uncompressed_mb:g} MB 的上限"))


def _scan_member(fh: BinaryIO, info: zipfile.ZipInfo, keep_head: bool) -> bytes:
    """Inflate one member in bounded chunks: no DTD/entity declaration, exact size and CRC. Returns its head."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise FileRejected(UNREADABLE, corrupt("部件头无效"))
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    scanner = _PartScanner(info, keep_head)
    remaining = info.compress_size
    while remaining > 0:
        chunk = fh.read(min(CHUNK, remaining))
        if not chunk:
            raise FileRejected(UNREADABLE, corrupt("部件数据不完整，文件被截断"))
        remaining -= len(chunk)
        if inflater is None:
            scanner.feed(chunk)
            continue
        while chunk and not inflater.eof:
            scanner.feed(inflater.decompress(chunk, CHUNK))
            chunk = inflater.unconsumed_tail
    if inflater is not None:
        while not inflater.eof:
            data = inflater.decompress(inflater.unconsumed_tail, CHUNK)
            if not data:
                raise FileRejected(UNREADABLE, corrupt(f"部件“{scanner.part}”的压缩数据不完整"))
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
                bomb(
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
            raise FileRejected(UNREADABLE, corrupt(f"部件“{self.part}”校验失败"))
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
                raise FileRejected(UNREADABLE, corrupt("缺少 content.xml"))
            return "ods"
        if mimetype.startswith(b"application/vnd.oasis.opendocument."):
            kind = mimetype.rsplit(b".", 1)[-1].decode("ascii", "replace")
            raise FileRejected(UNREADABLE, f"这是 OpenDocument {clip(kind, 20)} 文档，不是电子表格。{RESAVE}")
    types = heads.get("[content_types].xml", b"")
    if types:
        if _OOXML_XLSB.search(types):
            raise FileRejected(UNREADABLE, f"这是 Excel 二进制工作簿（.xlsb），系统不读取这种格式。{RESAVE}")
        if _OOXML_WORKBOOK.search(types):
            if _STRICT.search(heads.get("_rels/.rels", b"")):
                raise FileRejected(
                    UNREADABLE,
                    "这是“Strict Open XML 电子表格”格式的工作簿（Excel 另存为时的一个选项），系统不读取这种格式。"
                    "请在 Excel 中打开，“另存为”时保存类型选“Excel 工作簿（*.xlsx）”（不要选“Strict Open XML 电子表格”）后重新报送",
                )
            return "xlsx"
        for marker, kind in _OOXML_OTHER.items():
            if marker in types:
                raise FileRejected(UNREADABLE, f"这是 {kind}，不是 Excel 工作簿。请报送填报用的 Excel 表格。")
        raise FileRejected(UNREADABLE, f"这是 Office 文件包，但其中没有 Excel 工作簿。{RESAVE}")
    raise FileRejected(
        UNREADABLE, "这是普通的 ZIP 压缩包，不是 Excel 工作簿。请解压后报送其中的 Excel 报表（.xlsx）。"
    )
