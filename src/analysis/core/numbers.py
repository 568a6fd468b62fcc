"""Parse one submitted value cell into a number, a qualifier and the unit written beside it.

Departments write figures as ``6736``, ``6,736``, ``６７３６``, ``6736件``, ``1.1万``, ``98.1%``, ``500余``,
``约500`` or leave them as a cell formatted ``0%`` holding 0.8. This module turns each into a
:class:`Parsed` value or says precisely why it cannot (an issue code and a Chinese reason). It knows
nothing of the catalog: whether the unit fits the indicator is decided by the caller.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from analysis.core.text import clip, drop_invisible

# Spellings that mean "not reported": no value row, never a zero.
NOT_REPORTED = frozenset(
    {"", "-", "--", "—", "——", "–", "―", "－", "/", "\\", "无", "暂无", "不适用", "n/a", "na", "null", "none"}
)
# Excel's error literals (what Excel shows in a cell whose formula failed).
EXCEL_ERRORS = frozenset(
    {"#DIV/0!", "#REF!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#VALUE!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
)
# Qualifiers kept in their own column: before the number (约500) or after it (500余, 500多, 500以上).
PREFIX_QUALIFIERS = ("大约", "约", "近", "超过", "逾")
SUFFIX_QUALIFIERS = ("以上", "左右", "余", "多")
MULTIPLIERS = {"万": 10_000, "千": 1_000, "亿": 100_000_000}

_NUMBER = re.compile(
    r"""^(?P<pre>大约|约|近|超过|逾)?
        (?P<num>[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|[+-]?\.[0-9]+)
        (?P<mult>[万千亿])?
        (?P<post>以上|左右|余|多)?
        (?P<mult2>(?(mult)|[万千亿]))?
        (?P<unit>[^0-9.,+\-]*?)
        (?P<tail>以上|左右)?$""",
    re.VERBOSE,
)
# White space between two digits: accepted only as a thousands separator ("6 736"), never glued ("1 1万").
_DIGIT_GAP = re.compile(r"(?<=[0-9])\s+(?=[0-9])")
# Minus signs that NFKC leaves alone.
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})
_BRACKETED_UNIT = re.compile(r"^[(\[【](.*)[)\]】]$")


@dataclass(frozen=True, slots=True)
class Parsed:
    """Outcome of parsing a cell: a value, "not reported", or an error with its issue code."""

    value: float | None = None
    qualifier: str = ""
    unit: str = ""  # unit written in the cell ("件", "%"), after any multiplier; "" if none
    precision: float = 0.0  # unit of the last digit as written or displayed: 95.9 → 0.1, 1.1万 → 1000
    error: str | None = None  # issue code: bad-number, excel-error
    reason: str = ""  # Chinese explanation for an error

    @property
    def reported(self) -> bool:
        return self.value is not None

    @property
    def blank(self) -> bool:
        return self.value is None and self.error is None


BLANK = Parsed()


def is_percent_format(number_format: str | None) -> bool:
    """True for Excel number formats that display a stored fraction as a percentage (``0%``, ``0.0%``)."""
    if not number_format:
        return False
    # Drop quoted literals and escaped characters: "%" inside quotes is text, not the percent operator.
    stripped = re.sub(r'"[^"]*"|\\.', "", number_format)
    return "%" in stripped


def format_decimals(number_format: str | None) -> int | None:
    """Decimals an Excel number format displays (``0%`` → 0, ``0.0%`` → 1, ``#,##0.00`` → 2); None for
    ``General``/text or no format, where the cell shows the number as stored."""
    if not number_format:
        return None
    section = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format.split(";", 1)[0])
    match = re.search(r"[0#?]+(?:,[0#?]+)*(?:\.([0#?]*))?", section)
    if match is None:
        return None
    return len(match.group(1) or "")


def written_unit(text: str) -> float:
    """The unit of the last digit of a number as written: ``6736`` → 1, ``95.88`` → 0.01, ``1.5e-07`` →
    1e-08 (an integer is exact to the unit, however many zeros it ends with)."""
    exponent = Decimal(text.replace(",", "")).as_tuple().exponent
    return 10.0 ** min(0, int(exponent))


def known_precision(precision: object, value: float) -> float:
    """``precision`` when it is a positive number; otherwise (a row built by hand, a table written before
    the column existed) the unit of the last digit of ``value`` as plainly written (6736 → 1, 98.1 → 0.1)."""
    try:
        known = float(precision)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        known = math.nan
    if math.isfinite(known) and known > 0:
        return known
    return written_unit(f"{tidy_float(value):.15g}") if math.isfinite(value) else 1.0


def tidy_float(x: float) -> float:
    """Remove binary noise from scaling (0.981 * 100 = 98.10000000000001 → 98.1).

    Fifteen significant digits: every decimal a department can type survives; the noise of one or two
    float operations (in the 16th and 17th digits) does not.
    """
    return float(f"{x:.15g}")


def parse_value(raw: object, number_format: str | None = None) -> Parsed:
    """Parse a cell value as read from a workbook (str, int, float, bool, date or None)."""
    if raw is None:
        return BLANK
    if isinstance(raw, bool):
        return Parsed(error="bad-number", reason=f"单元格是逻辑值 {'TRUE' if raw else 'FALSE'}，不是数字")
    if isinstance(raw, dt.date | dt.datetime | dt.time | dt.timedelta):
        return Parsed(
            error="bad-number",
            reason=f"单元格是日期或时间（{raw}），不是数字；请把单元格格式改为“常规”后重填数字",
        )
    if isinstance(raw, int | float):
        value = float(raw)
        if not math.isfinite(value):
            return Parsed(error="bad-number", reason="单元格数值不是有限数")
        shown = format_decimals(number_format)
        if is_percent_format(number_format):
            return Parsed(value=tidy_float(value * 100), unit="%", precision=10.0 ** -(shown or 0))
        unit = written_unit(f"{tidy_float(value):.15g}") if shown is None else 10.0**-shown
        return Parsed(value=tidy_float(value), precision=unit)
    if isinstance(raw, str):
        return parse_text(raw)
    return Parsed(error="bad-number", reason=f"无法识别的单元格内容类型 {type(raw).__name__}")


# The only digits: ASCII 0-9 and their full-width forms ０-９ (an IME in full-width mode types those).
_DIGITS = frozenset("0123456789０１２３４５６７８９")
_NUMERIC_CATEGORIES = frozenset({"Nd", "Nl", "No"})


def look_alike_digit(text: str) -> str | None:
    """The first character of ``text`` that is a digit or numeral of another kind, or None.

    Circled ①, superscript ¹ ⁴, Bengali ৪, Arabic-Indic ٠-٩ and Extended Arabic-Indic ۰-۹, Roman Ⅻ,
    〇 …: NFKC folding and Unicode ``\\d`` would read ``6736①`` as 67361 and ``10⁴`` as 104. Decision (tested):
    Arabic-Indic digits are refused like every other script's digits; Chinese county submissions never
    use them, so one in a cell is a paste or a trick, and the department writes 0-9 instead.
    """
    for ch in text:
        if ch not in _DIGITS and unicodedata.category(ch) in _NUMERIC_CATEGORIES:
            return ch
    return None


def parse_text(text: str) -> Parsed:
    """Parse a number written as text, as departments write it."""
    odd = look_alike_digit(text)
    if odd is not None:
        return Parsed(
            error="bad-number",
            reason=f"“{clip(text)}”含有不是阿拉伯数字的数字字符“{odd}”（U+{ord(odd):04X}），"
            "无法确定填报值；请只用 0-9 填写数字",
        )
    normalized = drop_invisible(unicodedata.normalize("NFKC", text)).translate(_MINUS).strip()
    folded = re.sub(r"\s+", "", _DIGIT_GAP.sub(",", normalized))
    if folded.lower() in NOT_REPORTED:
        return BLANK
    if folded.upper() in EXCEL_ERRORS:
        return Parsed(error="excel-error", reason=f"单元格显示 Excel 错误值 {folded.upper()}")
    match = _NUMBER.match(folded)
    if match is None:
        return Parsed(
            error="bad-number",
            reason=f"“{clip(text)}”不是数字；请只填写阿拉伯数字（可带单位，如 6736 或 6736件）",
        )
    number = float(match["num"].replace(",", ""))
    if not math.isfinite(number):
        return Parsed(error="bad-number", reason=f"“{clip(text)}”不是有限数")
    precision = written_unit(match["num"])
    multiplier = match["mult"] or match["mult2"]
    if multiplier:
        number *= MULTIPLIERS[multiplier]
        precision *= MULTIPLIERS[multiplier]
    qualifier = "".join(q for q in (match["pre"], match["post"], match["tail"]) if q)
    unit = match["unit"]
    if any(ch.isdigit() for ch in unit):
        return Parsed(error="bad-number", reason=f"“{clip(text)}”含有多个数字，无法确定填报值")
    bracketed = _BRACKETED_UNIT.match(unit)
    if bracketed:
        unit = bracketed.group(1)  # 6736（件）
    return Parsed(value=tidy_float(number) + 0.0, qualifier=qualifier, unit=unit, precision=precision)


def split_multiplier(unit: str) -> tuple[float, str]:
    """``万户`` → (10000, ``户``); a unit without a multiplier prefix → (1, unit)."""
    unit = unicodedata.normalize("NFKC", unit).strip()
    if len(unit) > 1 and unit[0] in MULTIPLIERS:
        return float(MULTIPLIERS[unit[0]]), unit[1:]
    return 1.0, unit
