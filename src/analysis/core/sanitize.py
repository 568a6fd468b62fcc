"""Make submitted text safe to write: formula injection in CSV/Excel, names used as paths and parameters.

Two guards, both pure functions:

- :func:`neutralize` — OWASP "CSV injection": a cell of submitted *text* that begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so Excel and LibreOffice show it as text
  instead of evaluating it. Numbers are never passed here (they stay numbers).
- :func:`safe_name` — a region, department or year name taken from a folder, a file name or a sheet must
  be usable as one path component (it cannot climb out of the output folder or name a device) and as a
  papermill parameter (no quotes, backslashes or line breaks to break out of a string literal).
- :func:`plain_name` / :func:`check_region` — a region or department name is, besides, made only of
  characters that look like themselves: ``通许县ㅤ`` (a Hangul filler) or ``⾦水区`` (a Kangxi radical) would
  be a second region beside the real one. ``all`` is the keyword for every region, never a region name.
"""

from __future__ import annotations

import unicodedata

from analysis.core.names import MAX_FILE_NAME_BYTES, TEMP_EXTRA_BYTES, longest_name_bytes, reserved_as
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


def check_region(name: object, advice: str | None = "请使用普通的地区名称，如 通许县。") -> str:
    """A region name, typed by a user (command line, API) or a submitted folder's (``advice=None``: the
    advice about renaming folders): :func:`safe_name`, :func:`plain_name` (no invisible or look-alike
    characters), and not the keyword ``all``; ``ValueError`` with a Chinese message otherwise."""
    cleaned = plain_name(safe_name(name, "地区", advice), "地区")  # type: ignore[arg-type]
    if unicodedata.normalize("NFKC", cleaned).strip().lower() == ALL_KEYWORD:
        raise ValueError(f"“{cleaned}”不能作为地区名称：all 是表示“全部地区”的关键字。请改用实际的地区名称。")
    collides = reserved_as(unicodedata.normalize("NFKC", cleaned))
    if collides:
        raise ValueError(
            f"“{clip(cleaned, 40)}”不能作为地区名称：报告网站在同一层级使用{collides}这个名称，地区文件夹会与它冲突。"
            "请把地区文件夹改名为实际的地区名称（如 通许县）后重新导入。"
        )
    longest = longest_name_bytes(cleaned)
    if longest > MAX_FILE_NAME_BYTES:
        raise ValueError(
            f"地区名称“{clip(cleaned, 40)}”过长：由它生成的文件名（Word 初稿的临时文件）有 {longest} 字节，"
            f"超过文件系统 {MAX_FILE_NAME_BYTES} 字节的上限（一个汉字占 3 字节）。请使用简短的地区名称"
            f"（不超过约 {(MAX_FILE_NAME_BYTES - longest_name_bytes('')) // 3} 个汉字）后重新导入。"
        )
    return cleaned


def check_file_name(name: str, what: str, suffix: str = ".xlsx") -> str:
    """``name`` unless the file written from it (``name + suffix``, first under its atomic write's temporary
    name) would exceed the file-system limit; then ``ValueError`` in Chinese."""
    longest = len((name + suffix).encode("utf-8", "surrogatepass")) + TEMP_EXTRA_BYTES
    if longest > MAX_FILE_NAME_BYTES:
        raise ValueError(
            f"{what}“{clip(name, 40)}”过长（写出时的临时文件名有 {longest} 字节，超过文件系统 "
            f"{MAX_FILE_NAME_BYTES} 字节的上限，一个汉字占 3 字节）；请缩短名称后重新导入"
        )
    return name


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


# What a region or department name may not hold: invisible characters (format, combining, private-use,
# unassigned; spaces other than the ordinary and the ideographic one; Hangul fillers and the braille blank,
# which are letters that show nothing) and characters that look like others: radicals and compatibility
# ideographs that look like ideographs, letters of scripts other than Han and Latin (Cyrillic "С").
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Mc", "Me"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_LOOK_ALIKE_RANGES = (
    (0x2E80, 0x2EFF),  # CJK Radicals Supplement
    (0x2F00, 0x2FDF),  # Kangxi Radicals
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # CJK Compatibility Ideographs Supplement
)
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x3134F))
ALL_KEYWORD = "all"


def _odd_character(ch: str) -> bool:
    code, kind = ord(ch), unicodedata.category(ch)
    if kind in _INVISIBLE_CATEGORIES or ch in _FILLERS:
        return True
    if kind == "Zs" and ch not in " \u3000":
        return True
    if any(lo <= code <= hi for lo, hi in _LOOK_ALIKE_RANGES):
        return True
    if kind[0] == "L" and not ch.isascii() and not any(lo <= code <= hi for lo, hi in _HAN_RANGES):
        return not 0xFF21 <= code <= 0xFF5A  # full-width Latin letters are what an IME types
    return False


def plain_name(name: str, what: str) -> str:
    """``name`` unless it holds an invisible character or one that looks like another (see above);
    then ``ValueError`` naming the character and its code point."""
    for ch in name:
        if _odd_character(ch):
            visible = ch.isprintable() and ch not in _FILLERS and unicodedata.category(ch) != "Zs"
            shown = f"字符“{ch}”" if visible else "不可见字符"
            raise ValueError(
                f"{what}名称“{clip(name, 40)}”含有{shown}（U+{ord(ch):04X}），它是不可见字符或与常用字外形相似的字符，"
                f"会被当作另一个{what}；请删除该字符，重新输入名称后再导入。"
            )
    return name
