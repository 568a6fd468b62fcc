"""Hostile OLE2 compound files (.xls, encrypted workbooks): tiny files whose tables declare gigabytes or loop.

Why the preflight keeps its own bounded [MS-CFB] reader (:mod:`analysis.ingest.compound`) rather than
olefile (docs/reliability.md): measured on these files, olefile 0.47 with its default defect level read the
5.6 KB ``looped_stream`` file for 42.8 s into 9.3 GB of memory, and even at its strictest level
(``DEFECT_INCORRECT``) spent 19.9 s on ``difat_names_itself(100)`` and over 120 s (stopped) on
``difat_names_itself(1000)``. Each case here must be refused at once, with little memory, and a Chinese
message.
"""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import pytest

from analysis.ingest.safety import FileRejected, preflight
from tests import hostile_corpus as hc

_END = 0xFFFFFFFA  # sector numbers from here up are markers (end of chain, free, FAT, DIFAT)


def _good_xls() -> bytearray:
    return bytearray(hc.xls_bytes(hc.value_rows(hc.catalog_values("县水利局"))))


def _fat_sectors(data: bytearray) -> list[int]:
    return [s for s in struct.unpack_from("<109I", data, 76) if s < _END]


def _set_fat(data: bytearray, index: int, value: int) -> None:
    sector = _fat_sectors(data)[index // 128]
    struct.pack_into("<I", data, (sector + 1) * 512 + 4 * (index % 128), value)


def _entry(data: bytearray, name: str) -> int:
    """Offset of the directory entry ``name`` (the directory of an xlwt file fits its first sectors)."""
    fat = [v for s in _fat_sectors(data) for v in struct.unpack_from("<128I", data, (s + 1) * 512)]
    sector = struct.unpack_from("<I", data, 48)[0]
    while sector < _END:
        for offset in range((sector + 1) * 512, (sector + 2) * 512, 128):
            length = struct.unpack_from("<H", data, offset + 64)[0]
            if data[offset : offset + max(length - 2, 0)].decode("utf-16-le", "replace") == name:
                return offset
        sector = fat[sector]
    raise KeyError(name)


def looped_stream() -> bytes:
    """The Workbook stream declares 4 GB and its only sector is its own successor."""
    data = _good_xls()
    entry = _entry(data, "Workbook")
    start = struct.unpack_from("<I", data, entry + 116)[0]
    struct.pack_into("<I", data, entry + 120, 0xFFFFFFF0)
    _set_fat(data, start, start)
    return bytes(data)


def looped_minifat() -> bytes:
    """A small stream sends the reader to a MiniFAT of 4 billion sectors, and a mini stream of 4 GB,
    both chains looping on one sector."""
    data = _good_xls()
    struct.pack_into("<II", data, 60, 0, 0xFFFFFFF0)
    _set_fat(data, 0, 0)
    struct.pack_into("<I", data, _entry(data, "Workbook") + 120, 100)
    struct.pack_into("<II", data, _entry(data, "Root Entry") + 116, 0, 0xFFFFFFF0)
    return bytes(data)


def difat_names_itself(k: int) -> bytes:
    """A DIFAT sector listing the real FAT sector 127 times and naming itself as the next DIFAT sector;
    the header declares 109 + 127·k FAT sectors in k DIFAT sectors (consistent, as olefile checks)."""
    data = _good_xls()
    fat = _fat_sectors(data)[0]
    new = len(data) // 512 - 1  # the sector appended here
    data += struct.pack("<128I", *([fat] * 127 + [new]))
    struct.pack_into("<I", data, 44, 109 + 127 * k)
    struct.pack_into("<II", data, 68, new, k)
    return bytes(data)


def difat_loop_within_bounds() -> bytes:
    """As many FAT sectors as the file could hold, and a DIFAT sector of free entries naming itself: the
    walk finds no FAT sector and would go round for ever."""
    data = _good_xls()
    new = len(data) // 512 - 1
    data += struct.pack("<128I", *([0xFFFFFFFF] * 127 + [new]))
    struct.pack_into("<I", data, 44, len(data) // 512)
    struct.pack_into("<II", data, 68, new, 1)
    return bytes(data)


@pytest.mark.parametrize(
    ("build", "detail"),
    [
        (looped_stream, "复合文档扇区链无效"),
        (looped_minifat, "复合文档扇区链无效"),
        (lambda: difat_names_itself(100), "复合文档分配表大小无效"),
        (lambda: difat_names_itself(1000), "复合文档分配表大小无效"),
        (difat_loop_within_bounds, "复合文档分配表链循环"),
    ],
    ids=["looped-stream", "looped-minifat", "difat-100", "difat-1000", "difat-loop"],
)
def test_hostile_compound_files_are_refused_at_once(build, detail, tmp_path: Path) -> None:
    path = tmp_path / "工作簿.xls"
    path.write_bytes(build())
    assert path.stat().st_size < 8192
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FileRejected) as refused:
            preflight(path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.code == "unreadable-file"
    assert (
        detail in refused.value.message and "请在填报电脑上用 Excel 重新打开并保存" in refused.value.message
    )
    assert seconds < 2 and peak < 4 * 2**20  # measured: well under 1 ms and 100 KB


def test_the_unaltered_file_is_a_workbook(tmp_path: Path) -> None:
    """The builders above alter a readable .xls: without their change it passes."""
    path = tmp_path / "工作簿.xls"
    path.write_bytes(bytes(_good_xls()))
    assert preflight(path) == "xls"
