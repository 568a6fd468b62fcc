"""One of each: the number formatter, the year parser, the severity order and the region-name check live
in core, and every place that writes a number, reads a year, sorts issues or takes a region uses them."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core import formatting, sanitize, years
from analysis.core.problems import CODES, SEVERITIES, SEVERITY_ZH, severity_rank
from analysis.explore import quality, selection, sentences
from analysis.ingest import template
from analysis.report import summary, targets
from tests import fixtures_processed as fp

# --- numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (2705.0, None, "2705"),
        (98.1, None, "98.1"),
        (0.959 * 100, None, "95.9"),  # binary noise of the scaling is not shown
        (6.790322580645161, 2, "6.79"),
        (6.790322580645161, None, "6.79032258064516"),
        (2.0, 0, "2"),
        (2.5, 0, "2"),  # Python's round-half-even, as every caller already had
        (-0.001, 2, "0"),  # never "-0"
        (1e16, None, "10000000000000000"),  # never an exponent
        (0.00001, None, "0.00001"),
    ],
)
def test_one_number_formatter(value, digits, text):
    assert formatting.format_number(value, digits) == text


def test_the_other_modules_use_the_core_formatter():
    assert selection.format_number is formatting.format_number
    assert selection.format_value is formatting.format_value
    assert selection.format_change is formatting.format_change
    assert sentences.number_zh is formatting.number_zh


def test_a_prefix_qualifier_is_written_before_the_number():
    assert formatting.format_value(500, "本", "约") == "约500本"
    assert formatting.format_value(500, "本", "余") == "500余本"


@pytest.mark.parametrize(
    ("unit", "words"), [(1, "整数"), (0.1, "一位小数"), (0.01, "两位小数"), (1000, "千位")]
)
def test_precision_in_words(unit, words):
    assert formatting.decimals_zh(unit) == words


# --- years --------------------------------------------------------------------------------------------

LENIENT_ONLY = ["2019年", "2019年度", "２０１９", " 2019 ", "2019年1-12月", "2019年度全年", "2019年1月至12月"]
BOTH = ["2019", 2019]
NEITHER = ["19", "02019", "二〇一九", "2019.0", 2019.0, True, "", "2019a", "1948", "2101", None]


@pytest.mark.parametrize("given", BOTH + LENIENT_ONLY)
def test_lenient_year_forms(given):
    assert years.parse_year(given) == 2019


@pytest.mark.parametrize("given", BOTH)
def test_strict_year_forms(given):
    assert years.parse_year(given, strict=True) == 2019


@pytest.mark.parametrize("given", NEITHER + [f for f in LENIENT_ONLY if f.strip() != "2019"])
def test_strict_refuses(given):
    with pytest.raises(years.YearError, match="年度"):
        years.parse_year(given, strict=True)


@pytest.mark.parametrize("given", NEITHER)
def test_lenient_refuses(given):
    with pytest.raises(years.YearError, match="年度"):
        years.parse_year(given)


@pytest.mark.parametrize("given", BOTH + LENIENT_ONLY + NEITHER)
def test_every_year_reader_agrees_with_the_core_parser(given):
    def outcome(call):
        try:
            return call(given)
        except ValueError:
            return None

    lenient, strict = years.year_or_none(given), outcome(lambda g: years.parse_year(g, strict=True))
    assert outcome(template.check_year) == lenient  # templates and 基本信息 accept the written forms
    assert outcome(targets.parse_year) == strict  # the command line stays strict


# --- severities ---------------------------------------------------------------------------------------


def test_one_severity_order():
    assert SEVERITIES == ("error", "warning", "info") == tuple(SEVERITY_ZH)
    assert [severity_rank(s) for s in (*SEVERITIES, "other")] == [0, 1, 2, 3]


def test_every_issue_listing_sorts_by_the_one_order():
    issues = fp.issues()  # built by ingest's issues_frame, which sorts by severity

    def ranks(frame: pd.DataFrame) -> list[int]:
        return [severity_rank(s) for s in frame["severity"]]

    assert set(issues["severity"]) == set(SEVERITIES)
    assert ranks(issues) == sorted(ranks(issues))
    assert ranks(summary.issue_rows(issues.sample(frac=1, random_state=1))) == sorted(ranks(issues))
    codes = quality.code_table(issues)
    order = [severity_rank(CODES[c][0]) for c in codes["代码"]]
    assert order == sorted(order)
    assert set(quality.issue_list(issues)["级别"]) == {SEVERITY_ZH[s] for s in SEVERITIES[:2]}


# --- region names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", "a/b", "C:盘", "\x00县", ".隐藏", "", "CON", 5])
def test_one_region_check(name):
    with pytest.raises(ValueError) as core:
        sanitize.check_region(name)
    with pytest.raises(targets.BatchError) as from_batch:
        targets.check_region(name)
    with pytest.raises(template.TemplateError) as from_template:
        template.check_region(name)
    assert str(core.value) == str(from_batch.value) == str(from_template.value)


def test_a_plain_region_passes_everywhere():
    assert (
        sanitize.check_region(" 通许县 ") == targets.check_region("通许县") == template.check_region("通许县")
    )
