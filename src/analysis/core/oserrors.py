"""An operating-system error as one Chinese sentence: what happened, to which path, and what to do.

The command line (:mod:`analysis.cli`) shows every :class:`OSError` it meets this way instead of Python's
English ``[Errno 28] No space left on device``. A temporary or staging name (``.x.docx.ab12cd34.tmp``,
``.staging-…``, ``.staged-…``) is never shown: the folder it was written in is.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# errno -> (what happened, what to do)
_KNOWN = {
    errno.ENOSPC: ("磁盘空间已满", "请清理磁盘或改用空间充足的文件夹后重试"),
    errno.EDQUOT: ("超出了磁盘配额", "请清理文件或改用其他文件夹后重试"),
    errno.EROFS: ("所在的文件系统是只读的", "请改用可以写入的文件夹（如用 --out 指定）后重试"),
    errno.ENOTDIR: ("路径中的某一级不是文件夹，而是同名的文件", "请检查路径，删除或改名那个同名文件后重试"),
    errno.EISDIR: ("这是一个文件夹，不能作为文件写入", "请给出完整的文件名（如 …/报告初稿.docx）后重试"),
    errno.ENAMETOOLONG: ("文件名或路径过长", "请使用较短的名称或层级较浅的文件夹后重试"),
    errno.EACCES: ("没有访问权限", "请检查该文件或文件夹的权限，或改用自己有权写入的文件夹后重试"),
    errno.EPERM: ("操作不被允许", "请检查该文件或文件夹的权限，或改用自己有权写入的文件夹后重试"),
    errno.EEXIST: ("已有同名的文件或文件夹", "请删除或改名它，或改用其他位置后重试"),
    errno.ENOENT: ("找不到该文件或文件夹", "请检查路径是否正确后重试"),
    errno.EMFILE: ("同时打开的文件过多", "请减少 --workers 或提高系统的打开文件数上限后重试"),
}
_TEMPORARY = (".staging-", ".staged-")


def shown_path(name: object) -> str:
    """The path to name for ``name`` (an OSError's ``filename``): its folder when it is a temporary or
    staging name the user never asked for."""
    if name is None or name == "":
        return ""
    path = Path(os.fsdecode(name) if isinstance(name, bytes) else str(name))
    while path.name and (
        path.name.endswith(".tmp") and path.name.startswith(".") or path.name.startswith(_TEMPORARY)
    ):
        path = path.parent
    return str(path)


def describe(exc: OSError, path: object = None) -> str:
    """One Chinese line for ``exc``: the path (``exc.filename``, else ``path``), what happened and what to
    do; an unknown error keeps the system's own words after a Chinese lead."""
    named = [n for n in (getattr(exc, "filename2", None), exc.filename) if n not in (None, "")]
    plain = [n for n in named if shown_path(n) == (os.fsdecode(n) if isinstance(n, bytes) else str(n))]
    where = (str(plain[0]) if plain else "") or shown_path(exc.filename) or shown_path(path)
    what, advice = _KNOWN.get(
        exc.errno or -1, (f"系统错误：{exc.strerror or type(exc).__name__}", "请检查后重试")
    )
    place = f"{where}：" if where else ""
    return f"无法读写 {place}{what}。{advice}。"
