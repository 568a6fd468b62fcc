"""Make submitted text safe to write: formula injection in CSV/Excel, names used as paths and parameters.

Two guards, both pure functions:

- :func:`neutralize` — OWASP "CSV injection": a cell of submitted *text* that begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so Excel and LibreOffice show it as text
  instead of evaluating it. Numbers are never passed here (they stay numbers).
- :func:`safe_name` — a region, department or year name taken from a folder, a file name or a sheet must
  be usable as one path component (it cannot climb out of the output folder or name a device) and as a
  papermill parameter (no quotes, backslashes or line breaks to break out of a string literal).
"""

from __future__ import annotations

import unicodedata

from analysis.core.text import clip

# First characters that make a spreadsheet evaluate a cell (OWASP CSV injection).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

MAX_NAME_LENGTH = 100

# Characters Windows forbids in file names, plus the separators of every platform.
_FORBIDDEN_CHARS = frozenset('/\\:*?"<>|')
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
# Unicode categories that are never part of a name: controls, format (bidi overrides, zero-width),
# surrogates, line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def neutralize(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would read it as a formula.

    >>> neutralize("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize("县司法局")
    '县司法局'
    """
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def safe_name(name: str, what: str, advice: str | None = None) -> str:
    """Validate a name used as a path component and a notebook parameter; return it NFC-normalised, stripped.

    ``what`` says what the name is (地区, 单位, 年度 …) for the message, ``advice`` how to fix it (by
    default: rename the submitted folder or file). Raises ``ValueError`` with a
    Chinese message when the name is empty, too long, contains separators, ``..``, control characters,
    characters Windows forbids, a drive letter, or is a Windows device name (CON, NUL, COM1 …).
    """
    if not isinstance(name, str):
        raise ValueError(f"{what}名称必须是文字，收到的是 {type(name).__name__}。")
    normalized = unicodedata.normalize("NFC", name)
    cleaned = normalized.strip()
    # Control characters are refused even at the ends (a tab or line break in a folder name is no typo
    # to tidy away); the compatibility form is checked too: a full-width "／" or "．．" becomes "/" or ".."
    # once folded, and other parts of the program fold names (NFKC) before matching them.
    for form in (cleaned, unicodedata.normalize("NFKC", cleaned).strip(), normalized):
        reason = _why_unsafe(form)
        if reason:
            advice = advice or f"请在文件夹名、文件名或“基本信息”表中改用普通的{what}名称后重新导入。"
            raise ValueError(f"{what}名称“{clip(name, 40)}”不能使用：{reason}。{advice}")
    return cleaned


def check_region(name: object) -> str:
    """A region name typed by a user (command line, API), usable as one folder and as a notebook
    parameter; ``ValueError`` with a Chinese message otherwise. Submitted folders use :func:`safe_name`."""
    return safe_name(name, "地区", "请使用普通的地区名称，如 通许县。")  # type: ignore[arg-type]


def _why_unsafe(name: str) -> str:
    """The reason (Chinese) a name cannot be a path component, or "" when it can."""
    if not name:
        return "名称为空"
    if len(name) > MAX_NAME_LENGTH:
        return f"名称长 {len(name)} 个字符，超过 {MAX_NAME_LENGTH} 个字符的上限"
    for ch in name:
        if ch == "\x00":
            return "含有空字符（NUL）"
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            return f"含有控制字符或不可见字符（U+{ord(ch):04X}）"
        if ch in _FORBIDDEN_CHARS:
            return f"含有不能用于文件名的字符“{ch}”（路径分隔符、盘符或 Windows 禁用字符）"
    if ".." in name:
        return "含有“..”（可能指向上级文件夹）"
    if name.startswith("."):
        return "以“.”开头（隐藏文件名）"
    if name.endswith("."):
        return "以“.”结尾（Windows 会自动去掉，造成重名）"
    if name.split(".", 1)[0].strip().upper() in _WINDOWS_RESERVED:
        return "是 Windows 保留的设备名（如 CON、NUL、COM1）"
    return ""
