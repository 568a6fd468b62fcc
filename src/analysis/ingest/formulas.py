"""Where a formula's cached result comes from, when it is not the workbook itself: another file (external
link), the network (``WEBSERVICE``, ``FILTERXML``, ``RTD``) or a random function (``RAND``, ``RANDBETWEEN``,
``RANDARRAY``). The cached value still loads; the department is told it cannot vouch for it."""

from __future__ import annotations

import re

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
