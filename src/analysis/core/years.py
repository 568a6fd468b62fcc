"""The one reader of a statistical year, wherever a year comes in: year folders, the 基本信息 sheet, the
command line and templates (docs/submission-contract.md lists the accepted forms).

- Lenient (folders, sheets, templates): an integer, or text (full-width digits allowed) made of four
  digits, optionally followed by ``年`` or ``年度`` and then ``全年`` or a full-year span such as
  ``1-12月`` / ``1月至12月``: ``2019``, ``２０１９``, ``2019年``, ``2019年度``, ``2019年1-12月``.
- Strict (``strict=True``, the command line): an integer, or exactly four ASCII digits (``2019``).

Both refuse ``True``/``False``, floats (``2019.0``), Chinese numerals (``二〇一九``), other digits
counts (``19``, ``02019``) and years outside :data:`YEAR_MIN`–:data:`YEAR_MAX`.
"""

from __future__ import annotations

import re

from analysis.core.text import clip, fold

# Statistical years the suite accepts, everywhere a year comes in.
YEAR_MIN, YEAR_MAX = 1949, 2100

_LENIENT = re.compile(r"^([0-9]{4})(?:年度?)?(?:全年|0?1月?[-~—–至到]12月|0?1-12)?$")
_STRICT = re.compile(r"^[0-9]{4}$")


class YearError(ValueError):
    """Not a year this suite accepts; the message is Chinese and names what was given."""


def parse_year(value: object, *, strict: bool = False, what: str = "年度") -> int:
    """The year ``value`` stands for, or :class:`YearError` (``what`` names the year in the message)."""
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str):
        text = value.strip() if strict else fold(value)
        match = (_STRICT if strict else _LENIENT).match(text)
        if match is None:
            raise YearError(f"{what}“{clip(value.strip(), 20)}”无效：请填写四位数字的年份（如 2019）")
        year = int(match.group(0) if strict else match.group(1))
    else:
        raise YearError(f"{what}“{clip(str(value), 20)}”无效：请填写四位数字的年份（如 2019）")
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise YearError(f"{what} {year} 超出允许范围 {YEAR_MIN}–{YEAR_MAX}")
    return year


def year_or_none(value: object) -> int | None:
    """:func:`parse_year` (lenient) for a place that records its own problem: None instead of an error."""
    try:
        return parse_year(value)
    except YearError:
        return None
