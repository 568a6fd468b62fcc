"""Just enough of an OLE2 compound file ([MS-CFB]) to tell an .xls workbook from an encrypted OOXML package,
a Word or PowerPoint 97-2003 document, and to find the FILEPASS (encryption) record of an .xls."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from analysis.ingest.rejection import PASSWORD, PASSWORD_HELP, UNREADABLE, FileRejected, corrupt

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BIFF_BOF = {0x0809, 0x0409, 0x0209, 0x0009}
_BIFF_EOF, _BIFF_FILEPASS = 0x000A, 0x002F


def check_ole(fh: BinaryIO, size: int) -> str:
    streams = CompoundFile(fh, size).streams()
    names = {name.lower(): entry for name, entry in streams.items()}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        raise FileRejected(PASSWORD, PASSWORD_HELP)
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
        raise FileRejected(PASSWORD, PASSWORD_HELP)
    return "xls"


def _biff_has_filepass(data: bytes) -> bool:
    """Walk the workbook globals' records up to their EOF; True when a FILEPASS (encryption) record is met."""
    if len(data) < 4 or struct.unpack_from("<H", data, 0)[0] not in _BIFF_BOF:
        raise FileRejected(UNREADABLE, corrupt("工作簿数据流开头无效"))
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


class CompoundFile:
    """Just enough of [MS-CFB] to list stream names and read the start of a stream, with bounded loops."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        fh.seek(0)
        header = fh.read(512)
        if len(header) < 512:
            raise FileRejected(UNREADABLE, corrupt("复合文档头不完整"))
        shift, mini_shift = struct.unpack_from("<HH", header, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise FileRejected(UNREADABLE, corrupt("复合文档扇区大小无效"))
        self.sector = 1 << shift
        self.max_sectors = size // self.sector + 1
        n_fat, first_dir = struct.unpack_from("<II", header, 44)
        self.mini_cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from(
            "<IIIII", header, 56
        )
        if n_fat > self.max_sectors or n_difat > self.max_sectors:
            raise FileRejected(UNREADABLE, corrupt("复合文档分配表大小无效"))
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < _END_OF_CHAIN]
        difat, seen = first_difat, 0
        per_difat = self.sector // 4 - 1
        while difat < _END_OF_CHAIN and len(fat_sectors) < n_fat:
            seen += 1
            if seen > n_difat + 1:
                raise FileRejected(UNREADABLE, corrupt("复合文档分配表链循环"))
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
            raise FileRejected(UNREADABLE, corrupt("复合文档比其分配表记录的短，文件被截断"))
        self.directory = b"".join(self._sector_bytes(s) for s in self._chain(first_dir))
        root = self._entry(0)
        if root is None or root[1] != 5:
            raise FileRejected(UNREADABLE, corrupt("复合文档根目录无效"))
        self.root_start, self.root_size = root[2], root[3]
        self.first_minifat, self.n_minifat = first_minifat, n_minifat
        self._minifat: list[int] | None = None
        self._root_chain: list[int] | None = None

    def _sector_bytes(self, sector: int) -> bytes:
        offset = (sector + 1) * self.sector
        if sector >= _END_OF_CHAIN or offset + self.sector > self.size:
            raise FileRejected(UNREADABLE, corrupt("复合文档扇区超出文件末尾"))
        self.fh.seek(offset)
        data = self.fh.read(self.sector)
        if len(data) < self.sector:
            raise FileRejected(UNREADABLE, corrupt("复合文档扇区不完整，文件被截断"))
        return data

    def _chain(self, start: int, table: list[int] | None = None, limit: int | None = None) -> list[int]:
        table = self.fat if table is None else table
        chain: list[int] = []
        sector = start
        while sector != _END_OF_CHAIN and sector != _FREE:
            if sector >= len(table) or len(chain) > len(table):
                raise FileRejected(UNREADABLE, corrupt("复合文档扇区链无效"))
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
                raise FileRejected(UNREADABLE, corrupt("复合文档小扇区超出范围"))
            out += self._sector_bytes(self._root_chain[index])[within : within + 64]
        return bytes(out[:want])


@dataclass(frozen=True)
class _Stream:
    cfb: CompoundFile
    start: int
    size: int

    def read(self, limit: int) -> bytes:
        return self.cfb.read(self.start, self.size, limit)
