"""Table-driven tests of the value parser: every way departments write a figure."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.core.numbers import is_percent_format, parse_text, parse_value, split_multiplier

VALUES = [
    # raw, number_format, value, qualifier, unit
    ("6736", None, 6736, "", ""),
    ("6,736", None, 6736, "", ""),
    ("６７３６", None, 6736, "", ""),
    ("6736件", None, 6736, "", "件"),
    ("2660项", None, 2660, "", "项"),
    ("1.1万", None, 11000, "", ""),
    ("１.１万", None, 11000, "", ""),
    ("1.1万户", None, 11000, "", "户"),
    ("98.1%", None, 98.1, "", "%"),
    ("98.1％", None, 98.1, "", "%"),
    ("500余", None, 500, "余", ""),
    ("500余本", None, 500, "余", "本"),
    ("500多", None, 500, "多", ""),
    ("约500", None, 500, "约", ""),
    ("500以上", None, 500, "以上", ""),
    ("  12 ", None, 12, "", ""),
    ("1,234,567.5", None, 1234567.5, "", ""),
    ("335公里", None, 335, "", "公里"),
    ("0", None, 0, "", ""),
    ("-5", None, -5, "", ""),
    (6736, None, 6736, "", ""),
    (6736.0, "General", 6736, "", ""),
    (0.8, "0%", 80, "", "%"),
    (0.981, "0.0%", 98.1, "", "%"),
    (1, "0%", 100, "", "%"),
    (98.1, "0.0", 98.1, "", ""),
    (0.8, '0.0"%"', 0.8, "", ""),  # a quoted "%" is a literal, not the percent operator
    # messy spellings seen in county submissions
    ("6 736", None, 6736, "", ""),  # a space as the thousands separator
    ("1 234 567", None, 1234567, "", ""),
    ("6\u00a0736", None, 6736, "", ""),  # a no-break space (WPS, web copies)
    ("500件以上", None, 500, "以上", "件"),  # the qualifier after the unit
    ("500件左右", None, 500, "左右", "件"),
    ("约500件", None, 500, "约", "件"),
    ("6736（件）", None, 6736, "", "件"),  # the unit in brackets
    ("6736(件)", None, 6736, "", "件"),
    ("6736\u200b", None, 6736, "", ""),  # a zero-width space pasted from a web page
    ("\ufeff6736件", None, 6736, "", "件"),  # a byte-order mark
    ("500多万", None, 5_000_000, "多", ""),  # the multiplier after the qualifier
    ("−5", None, -5, "", ""),  # U+2212 minus sign: a negative number (rejected later), not bad text
]


@pytest.mark.parametrize(("raw", "fmt", "value", "qualifier", "unit"), VALUES)
def test_values_departments_write_load(raw, fmt, value, qualifier, unit):
    parsed = parse_value(raw, fmt)
    assert parsed.error is None, parsed.reason
    assert parsed.value == pytest.approx(value, abs=1e-9)
    assert parsed.value == float(f"{value:.12g}")  # exact, no binary noise
    assert parsed.qualifier == qualifier
    assert parsed.unit == unit


@pytest.mark.parametrize(
    ("raw", "value"),
    [(833156.11328125, 833156.11328125), ("1,234,567,890,123", 1234567890123), (0.1 + 0.2, 0.3)],
)
def test_submitted_digits_are_kept_and_only_binary_noise_goes(raw, value):
    assert parse_value(raw).value == value


def test_negative_zero_is_zero():
    parsed = parse_text("-0")
    assert parsed.value == 0 and math.copysign(1.0, parsed.value) == 1.0


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "—", "——", "-", "－", "无", "/", "／", "N/A", "暂无", "不适用"]
)
def test_not_reported_markers_are_blank_never_zero(raw):
    parsed = parse_value(raw)
    assert parsed.blank and parsed.value is None and parsed.error is None


ERRORS = [
    ("若干", "bad-number"),
    ("很多", "bad-number"),
    ("12件3项", "bad-number"),
    ("6,73", "bad-number"),
    ("1e3", "bad-number"),
    ("NaN", "bad-number"),
    ("inf", "bad-number"),
    ("#DIV/0!", "excel-error"),
    ("#REF!", "excel-error"),
    ("#N/A", "excel-error"),
    (True, "bad-number"),
    (dt.datetime(2019, 5, 1), "bad-number"),
    (dt.date(2019, 5, 1), "bad-number"),
    (float("nan"), "bad-number"),
    (float("inf"), "bad-number"),
    ("1 1万", "bad-number"),  # a space inside a number is only a thousands separator: never glued
    ("12 34", "bad-number"),
    ("1,1万", "bad-number"),  # a decimal comma is not guessed
]


@pytest.mark.parametrize(("raw", "code"), ERRORS)
def test_rejected_values_say_why(raw, code):
    parsed = parse_value(raw)
    assert parsed.error == code
    assert parsed.value is None
    assert parsed.reason  # a Chinese explanation for the department


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("0%", True),
        ("0.0%", True),
        ("0.00%;[Red]-0.00%", True),
        ("General", False),
        (None, False),
        ('0"%"', False),
    ],
)
def test_percent_format_detection(fmt, expected):
    assert is_percent_format(fmt) is expected


@pytest.mark.parametrize(
    ("unit", "expected"), [("万户", (10000, "户")), ("户", (1, "户")), ("万", (1, "万")), ("", (1, ""))]
)
def test_split_multiplier(unit, expected):
    assert split_multiplier(unit) == expected


@given(st.integers(min_value=0, max_value=10**12))
def test_any_grouped_integer_round_trips(n):
    assert parse_text(f"{n:,}").value == n
    assert parse_text(str(n)).value == n


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
def test_decimals_with_units_round_trip(d):
    parsed = parse_text(f"{d}件")
    assert parsed.value == float(d) and parsed.unit == "件"


@given(st.text(max_size=30))
def test_parser_never_raises_and_never_invents_a_number(text):
    parsed = parse_text(text)
    assert (parsed.value is None) or math.isfinite(parsed.value)
    if parsed.value is not None:
        assert any(ch.isdigit() for ch in text)


# Issue 9 case 9: only ASCII and full-width digits are digits. NFKC folding and Unicode \d used to read
# these as numbers (6736① → 67361, 10⁴ → 104, ①② → 12, ৪০ → 40, 1٠5 → 105).
@pytest.mark.parametrize(
    ("raw", "odd"),
    [
        ("6736①", "①"),
        ("6736¹", "¹"),
        ("10⁴", "⁴"),
        ("①②", "①"),
        ("৪০", "৪"),
        ("1٠5", "٠"),
        ("6736件²", "²"),
        ("Ⅻ", "Ⅻ"),
        ("〇", "〇"),
        ("𝟔𝟕", "𝟔"),  # mathematical bold digits
    ],
)
def test_look_alike_digits_are_bad_numbers_naming_the_character(raw, odd):
    parsed = parse_text(raw)
    assert parsed.error == "bad-number" and parsed.value is None
    assert f"“{odd}”" in parsed.reason and f"U+{ord(odd):04X}" in parsed.reason


def test_arabic_indic_digits_are_refused_by_decision():
    """Decision (documented in core/numbers.py and docs/reliability.md): Arabic-Indic (U+0660–0669) and
    Extended Arabic-Indic (U+06F0–06F9) digits are refused like every other script's digits."""
    for raw in ("٦٧٣٦", "۶۷۳۶"):
        parsed = parse_text(raw)
        assert parsed.error == "bad-number" and "0-9" in parsed.reason


@given(st.text(alphabet=st.characters(categories=("Nd", "Nl", "No")), min_size=1, max_size=6))
def test_no_digit_outside_ascii_and_full_width_ever_reads_as_a_number(text):
    parsed = parse_text(text)
    allowed = set("0123456789０１２３４５６７８９")
    assert parsed.value is None or set(text) <= allowed
