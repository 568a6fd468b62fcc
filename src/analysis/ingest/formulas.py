"""Where a formula's cached result comes from, when it is not the workbook itself: another file (external
link), the network (``WEBSERVICE``, ``FILTERXML``, ``RTD``) or a random function (``RAND``, ``RANDBETWEEN``,
``RANDARRAY``). The cached value still loads; the department is told it cannot vouch for it.

Also the other warnings about where a loaded value comes from (:func:`value_warnings`: a hidden row or
column) and the value merged over several indicator rows (:func:`merged_message`)."""

from __future__ import annotations

import re

from analysis.core.text import clip
from analysis.ingest.cells import Cell, Sheet

# In the file an external reference is "[1]Sheet1!A1" (the index of an external link part) or, from some
# writers, "'[other.xlsx]Sheet1'!A1". Structured table references ("表1[[#此行],[数值]]") have no "!".
_EXTERNAL = re.compile(r"\[(?:\d+|[^\[\]]*\.(?:xl[a-z]*|et|csv|ods))\][^\[\]!]*!", re.I)
_NETWORK = re.compile(r"(?<![\w.])(?:_xlfn\.)?(WEBSERVICE|FILTERXML|RTD)\s*\(", re.I)
_RANDOM = re.compile(r"(?<![\w.])(?:_xlfn\.)?(RANDBETWEEN|RANDARRAY|RAND)\s*\(", re.I)


def formula_origin(formula: str) -> str | None:
    """A Chinese clause naming where ``formula``'s value comes from, or None for an ordinary formula."""
    if not formula:
        return None
    text = re.sub(r'"[^"]*"', '""', formula)  # ignore string literals
    if _EXTERNAL.search(text):
        return "数值来自另一个文件（外部链接），打开时可能已经变化"
    found = _NETWORK.search(text)
    if found:
        return f"数值来自网络或其他程序（{found.group(1).upper()} 函数）"
    found = _RANDOM.search(text)
    if found:
        return f"数值来自随机函数（{found.group(1).upper()}），每次计算都会变化"
    return None


def row_of(ref: str) -> int:
    return int("".join(ch for ch in ref if ch.isdigit()) or 0)


def merged_message(sheet: Sheet, origin: str, others: list[str]) -> str:
    """The warning on a value cell merged over several indicator rows: only its own row's value is read."""
    ref = next((r for r in sheet.merged if r.split(":", 1)[0].upper() == origin.upper()), origin)
    names = "、".join(f"“{clip(n or '（无名称）', 30)}”" for n in others[:5])
    more = f"等 {len(others)} 项" if len(others) > 5 else ""
    return (
        f"数值单元格 {origin} 与下方单元格合并（合并区域 {ref}），跨越 {len(others) + 1} 个指标行：数值只按第一行导入，"
        f"{names}{more}未导入；请取消合并，为每个指标分别填写数值"
    )


def value_warnings(sheet: Sheet, row: int, col: int, cell: Cell) -> list[tuple[str, str]]:
    """Warnings for a loaded value the department may not see or that is not theirs to vouch for: a hidden
    row or column, a formula fed by another file, the network or a random function."""
    found = []
    hidden = [
        what for what, gone in (("行", row in sheet.hidden_rows), ("列", col in sheet.hidden_cols)) if gone
    ]
    if hidden:
        found.append(
            (
                "hidden-cell",
                f"数值取自隐藏的{'和'.join(hidden)}，已导入，但填报人在 Excel 中看不到它；请取消隐藏核实，删除过时的数值",
            )
        )
    origin = formula_origin(cell.formula_text) if cell.formula else None
    if origin:
        found.append(
            (
                "formula-source",
                f"数值是公式“{clip(cell.formula_text, 40)}”的计算结果，{origin}，已按文件中保存的结果导入；"
                "请改为直接填写核实过的数字",
            )
        )
    return found
