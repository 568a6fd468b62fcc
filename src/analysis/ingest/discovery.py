"""Find the submissions under the raw folder: ``<region>/<year>/<department>.<ext>``.

Every entry met gets an outcome: a workbook to read (with its region, year and department), or a problem
row saying why it is not read. Nothing in a year folder is passed over with only an info line:

- names that are not valid UTF-8 (an archive made on Chinese Windows, unpacked elsewhere, leaves GBK
  bytes) are refused with the likely GBK reading shown (the bytes cannot be written to any output);
- region and department names with invisible or look-alike characters, or the region ``all``, are refused;
- ``.xlsx ``/``.XLSX`` (trailing spaces, case) are workbooks; ``.et`` and ``.xlsb`` go to the preflight,
  which reads an .et that is an .xls/.xlsx container and says what an .xlsb is; any other file in a year
  folder (``.csv``, ``.wps``, ``.pdf`` …), a FIFO or device, a broken link or a folder named ``*.xlsx`` is
  an ``unsupported-file`` warning with how to fix it;
- a linked folder is followed when it stays inside the raw folder (each real folder once), and refused
  (``bad-path``) when it leads outside.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from analysis.core.problems import Problem
from analysis.core.sanitize import check_file_name, check_region, plain_name, safe_name
from analysis.core.text import clip
from analysis.core.years import YEAR_MAX, YEAR_MIN, year_or_none
from analysis.ingest.extract import FileContext

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".et", ".xlsb"}
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini", ".gitkeep"}
_MAX_DEPTH = 8  # folders nested deeper than this are not walked (links are followed once each anyway)
_RESAVE = "请在 WPS 表格或 Excel 中打开，“另存为”“Excel 工作簿（*.xlsx）”后重新报送"

Found = list[tuple[Path, FileContext]]


def discover(raw_dir: Path) -> tuple[Found, list[Problem]]:
    """Workbooks at ``<region>/<year>/<file>`` with their context; problems for anything else found."""
    walker = _Walker(Path(raw_dir))
    walker.walk(Path(raw_dir), ())
    return walker.found, walker.problems


def place_file(path: Path, region: str, year: int) -> tuple[Found, list[Problem]]:
    """One file judged as if it sat at ``<region>/<year>/<its name>`` of a raw folder (the self-check):
    the same rules on its name as :func:`discover` applies."""
    walker = _Walker(Path(path).parent)
    walker.file(Path(path), (region, str(year), Path(path).name))
    return walker.found, walker.problems


def shown(parts: tuple[str, ...]) -> str:
    """A relative path for messages and tables: bytes that are not UTF-8 shown as U+FFFD."""
    return "/".join(p.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for p in parts)


def _not_utf8(parts: tuple[str, ...]) -> str | None:
    """The first name (as GBK would read it) whose bytes are not UTF-8, or None."""
    for part in parts:
        if any("\udc80" <= ch <= "\udcff" for ch in part):
            return os.fsencode(part).decode("gb18030", "replace")
    return None


class _Walker:
    def __init__(self, raw_dir: Path) -> None:
        self.root = raw_dir.resolve()
        self.visited = {self.root}
        self.found: Found = []
        self.problems: list[Problem] = []

    def skip(self, code: str, parts: tuple[str, ...], message: str) -> None:
        self.problems.append(Problem(code, message, file=shown(parts)))

    def walk(self, directory: Path, parts: tuple[str, ...]) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.skip(
                "unsupported-file",
                parts,
                f"文件夹无法打开（{type(exc).__name__}），其中的文件未读取；请检查权限",
            )
            return
        for entry in entries:
            if entry.name.lower() not in IGNORED_NAMES:
                self.entry(Path(entry.path), (*parts, entry.name), entry)

    def entry(self, path: Path, parts: tuple[str, ...], entry: os.DirEntry) -> None:
        name = clip(shown(parts[-1:]))
        if entry.is_symlink():
            if not path.exists():
                self.skip(
                    "unsupported-file",
                    parts,
                    f"“{name}”是失效的快捷方式（链接指向的文件不存在），未读取；请放入报表文件本身",
                )
                return
            target = path.resolve()
            if target.is_dir():
                if not target.is_relative_to(self.root):
                    self.skip(
                        "bad-path",
                        parts,
                        f"文件夹“{name}”是指向原始报表文件夹之外的链接，其中的文件未读取；请把报表复制到原始报表文件夹中",
                    )
                elif target in self.visited or len(parts) >= _MAX_DEPTH:
                    self.skip("skipped-file", parts, f"文件夹“{name}”是指向已读取文件夹的链接，不重复读取")
                else:
                    self.visited.add(target)
                    self.walk(path, parts)
                return
        if entry.is_dir():
            if len(parts) == 3 and _suffix(parts[-1]) in WORKBOOK_SUFFIXES:
                self.skip(
                    "unsupported-file", parts, f"“{name}”是一个文件夹，不是工作簿，未读取；请放入报表文件本身"
                )
            real = path.resolve()
            if real not in self.visited and len(parts) < _MAX_DEPTH:
                self.visited.add(real)  # a link met later to this folder is not read twice
                self.walk(path, parts)
            return
        if not entry.is_file():
            self.skip(
                "unsupported-file",
                parts,
                f"“{name}”不是普通文件（管道、设备或套接字），未读取；请放入报表文件本身",
            )
            return
        self.file(path, parts)

    def file(self, path: Path, parts: tuple[str, ...]) -> None:
        name = parts[-1].rstrip()  # "县生态环境分局.xlsx " is 县生态环境分局.xlsx
        if name.startswith(("~$", ".")):
            self.skip(
                "skipped-file", parts, f"“{clip(shown(parts[-1:]))}”是 Excel 临时文件或隐藏文件，已跳过"
            )
            return
        suffix = _suffix(name)
        if suffix not in WORKBOOK_SUFFIXES:
            if len(parts) == 3:
                self.skip(
                    "unsupported-file",
                    parts,
                    f"“{clip(shown(parts[-1:]))}”不是系统能读取的工作簿（.xlsx/.xlsm/.xls/.et/.ods），"
                    f"该文件未读取；如果它是本单位的报表，{_RESAVE}",
                )
            else:
                self.skip("skipped-file", parts, f"“{clip(shown(parts[-1:]))}”不是 Excel 工作簿，已跳过")
            return
        if len(parts) != 3:
            self.skip(
                "misplaced-file",
                parts,
                f"工作簿应放在 <地区>/<年度>/<单位>{suffix} 位置，此文件未读取；请移动到正确的文件夹",
            )
            return
        gbk = _not_utf8(parts)
        if gbk is not None:
            self.skip(
                "bad-path",
                parts,
                f"文件名或文件夹名不是有效的 UTF-8 编码（按 GBK 读作“{clip(gbk, 40)}”），常见于在中文 Windows 上压缩、"
                "在其他系统上解压的文件；此文件未读取。请用能识别中文文件名的工具重新解压（如 unzip -O GBK），或重命名后重新导入",
            )
            return
        region_dir, year_dir, _ = parts
        try:
            region = _region(region_dir)
            department = _department(name[: -len(suffix)])
        except ValueError as exc:
            self.skip("bad-path", parts, f"{exc}；此文件未读取")
            return
        year = year_or_none(year_dir)
        if year is None:
            self.problems.append(
                Problem(
                    "bad-path",
                    f"年度文件夹“{clip(year_dir)}”不是 {YEAR_MIN}–{YEAR_MAX} 之间的四位年份；此文件未读取",
                    region=region,
                    file=shown(parts),
                )
            )
            return
        self.found.append(
            (path, FileContext(region=region, year=year, department=department, file=shown(parts)))
        )


@functools.lru_cache(maxsize=4096)  # every file of a region asks again (a bad name raises: not kept)
def _region(folder: str) -> str:
    return check_region(folder, advice=None)


@functools.lru_cache(maxsize=4096)
def _department(stem: str) -> str:
    return check_file_name(plain_name(safe_name(stem, "文件名（单位名称）"), "单位"), "文件名（单位名称）")


def _suffix(name: str) -> str:
    return Path(name.rstrip()).suffix.lower()
