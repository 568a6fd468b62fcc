"""How every figure is written for a reader: messages, tables, charts, sentences and report pages.

One formatter for the whole suite, so a figure reads the same in ``issues.csv``, a notebook and the
HTML report: no thousands separators, no exponent, no trailing zeros (``2705``, ``98.1``, ``6.79``).
"""

from __future__ import annotations

import math

from analysis.core.numbers import PREFIX_QUALIFIERS  # written before the number (约500); others follow it

MISSING = "未填报"  # an indicator not reported: never shown as 0
DISPLAY_DIGITS = 2  # decimals a table or chart shows when the catalog says nothing
APPROXIMATE = "约"  # marks a figure derived from rounded inputs (1.1万户 ÷ …)


def format_number(value: float, digits: int | None = None) -> str:
    """``2705.0`` → ``2705``; ``6.7903`` with ``digits=2`` → ``6.79``; ``0.959`` → ``0.959``.

    ``digits=None`` writes the figure exactly as far as a department can type it (15 significant
    digits, which drops the binary noise of ``0.959 * 100``); an integer ``digits`` rounds to at most
    that many decimals.
    """
    value = float(value)
    if digits is None:
        text = f"{value:.15g}"
        if "e" in text or "E" in text:  # very large or very small: write it out in full
            text = f"{value:.15f}"
    else:
        text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(value: float | None, unit: str, qualifier: str = "", digits: int | None = None) -> str:
    """``(500, 本, 余)`` → ``500余本``; ``(500, 本, 约)`` → ``约500本``; ``(98.1, %)`` → ``98.1%``;
    ``(11000, 户)`` → ``1.1万户`` (the one rule of :func:`number_zh`, on cards, tables, charts and in
    sentences alike); ``None`` → ``未填报``. ``digits=None`` shows :data:`DISPLAY_DIGITS` decimals at most."""
    if value is None:
        return MISSING
    return qualified(number_zh(value, digits), qualifier, unit)


def qualified(number: str, qualifier: str, unit: str = "") -> str:
    """A written number with its qualifier where it belongs: ``约500本``, ``500余本``."""
    if qualifier.startswith(PREFIX_QUALIFIERS):
        return f"{qualifier}{number}{unit}"
    return f"{number}{qualifier}{unit}"


def number_zh(value: float, digits: int | None = None) -> str:
    """The one rule for writing a figure for a reader: a whole number of hundreds from ten thousand up in
    万 (``11000`` → ``1.1万``); others plain (``6736``, ``6.79``, ``12345``)."""
    if abs(value) >= 10_000 and float(value).is_integer() and value % 100 == 0:
        return f"{format_number(value / 10_000, 2)}万"
    return format_number(value, DISPLAY_DIGITS if digits is None else digits)


def growth_rate(current: float, previous: float) -> float | None:
    """Percentage change, or None when it means nothing (previous zero or negative, e.g. a gap of −51)."""
    return (current - previous) / previous * 100 if previous > 0 else None


def format_change(current: float, previous: float, unit: str, digits: int | None = None) -> str:
    """``+136件（+2.1%）``; percentages change in percentage points; no rate from a base of zero or less."""
    delta = current - previous
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    amount = format_number(abs(delta), DISPLAY_DIGITS if digits is None else digits)
    if unit == "%":
        return f"{sign}{amount}个百分点"
    rate = growth_rate(current, previous)
    if rate is not None:
        return f"{sign}{amount}{unit}（{sign}{format_number(abs(rate), 1)}%）"
    return f"{sign}{amount}{unit}"


def decimals_zh(unit: float) -> str:
    """The precision of a written figure in words: 1 → 整数, 0.1 → 一位小数, 1000 → 千位."""
    if unit >= 1:
        places = {1: "整数", 10: "十位", 100: "百位", 1000: "千位", 10_000: "万位"}
        return places.get(round(unit), f"精确到 {format_number(unit)}")
    count = round(-math.log10(unit))
    words = {1: "一", 2: "两", 3: "三", 4: "四"}
    return f"{words.get(count, str(count))}位小数"
