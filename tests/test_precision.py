"""Identities judge a figure at the precision it was written with (issue 12): the ``precision`` column,
interval checks over rounded operands, the allowed range in the message, derived values kept no finer
than their inputs allow."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analysis.core.catalog import load_catalog
from analysis.core.numbers import parse_value
from analysis.explore import quality, selection, sentences, tables
from analysis.ingest.checks import check_identities, derive
from analysis.ingest.pipeline import ingest
from tests import fixtures_processed as fp
from tests.builders import write_xlsx

CATALOG = load_catalog()
SJ = "县司法局"
RATE, SUCCESS, CASES = (
    "disputes.mediation_success_rate",
    "disputes.mediation_success",
    "disputes.mediation_cases",
)
RATE_TITLE = next(x.title_zh for x in CATALOG.identities if x.id == "mediation_rate_consistent")

# --- the precision column ---------------------------------------------------------------------------

WRITTEN = [
    # (indicator name, unit column, cell, number format, value, precision, qualifier)
    ("人民调解成功率", "%", "96", None, 96, 1, ""),
    ("人民调解成功率", None, "96%", None, 96, 1, ""),
    ("人民调解成功率", "%", "95.9", None, 95.9, 0.1, ""),
    ("人民调解成功率", "%", 95.9, None, 95.9, 0.1, ""),
    ("人民调解成功率", None, 0.959, "0%", 95.9, 1, ""),  # shown as 96%
    ("人民调解成功率", None, 0.959, "0.0%", 95.9, 0.1, ""),  # shown as 95.9%
    ("人民调解成功率", "%", 95.88, "0.00", 95.88, 0.01, ""),
    ("人民调解成功率", "%", 96, "0.0", 96, 0.1, ""),  # shown as 96.0
    ("调解矛盾纠纷", None, "1.1万", None, 11000, 1000, ""),
    ("调解矛盾纠纷", "万件", 1.1, None, 11000, 1000, ""),
    ("调解矛盾纠纷", "件", "500余", None, 500, 1, "余"),
    ("调解矛盾纠纷", "件", "6,736", None, 6736, 1, ""),
]


@pytest.mark.parametrize(("name", "unit", "raw", "fmt", "value", "precision", "qualifier"), WRITTEN)
def test_every_row_keeps_the_precision_it_was_written_with(
    tmp_path, name, unit, raw, fmt, value, precision, qualifier
):
    path = tmp_path / "raw" / fp.REGION / str(fp.YEAR) / f"{SJ}.xlsx"
    write_xlsx(path, [[1, name, unit, raw]], formats={"D2": fmt} if fmt else None)
    rows = ingest(tmp_path / "raw").indicators
    row = rows[~rows["derived"]].iloc[0]
    assert (row["value"], row["precision"], row["qualifier"]) == (pytest.approx(value), precision, qualifier)


# --- identities of each kind over rounded figures ----------------------------------------------------


def rows_of(**written: str) -> list[dict]:
    """Tidy rows of the 2019 figures with some replaced by text as a department writes it."""
    values = {k: v for k, (v, _) in fp.spec_values().items()}
    out = fp.rows(values=values)
    by_id = {r["indicator_id"]: r for r in out}
    for key, text in written.items():
        iid = key.replace("__", ".")
        parsed = parse_value(text)
        by_id[iid].update(value=parsed.value, precision=parsed.precision, raw_value=text)
    return out


def rate_warning(rows: list[dict]) -> str | None:
    found = [p.message for p in check_identities(rows, CATALOG) if p.message.startswith(RATE_TITLE)]
    return found[0] if found else None


KINDS = [
    # (written figures, identity title, holds, words the verdict must contain)
    (
        dict(
            disputes__mediation_success="1000",
            disputes__mediation_cases="1043",
            disputes__mediation_success_rate="96%",
        ),
        RATE_TITLE,
        True,
        ["= 95.88", "人民调解成功率 96（整数，允许 95.5–96.5）", "一致"],
    ),
    (
        dict(
            disputes__mediation_success="1000",
            disputes__mediation_cases="1043",
            disputes__mediation_success_rate="95.8",
        ),
        RATE_TITLE,
        False,
        [
            "调解成功矛盾纠纷 1000",
            "调解矛盾纠纷 1043",
            "= 95.88",
            "人民调解成功率 95.8（一位小数，允许 95.75–95.85）",
            "相差 0.08",
        ],
    ),
    (
        dict(
            disputes__mediation_success="1000",
            disputes__mediation_cases="1043",
            disputes__mediation_success_rate="95.9",
        ),
        RATE_TITLE,
        True,
        ["一位小数，允许 95.85–95.95", "一致"],
    ),
    (
        dict(
            disputes__mediation_success="1000",
            disputes__mediation_cases="1043",
            disputes__mediation_success_rate="95.89",
        ),
        RATE_TITLE,
        False,
        ["两位小数，允许 95.885–95.895"],
    ),
    (
        dict(disputes__mediation_success="1.1万", disputes__mediation_cases="10800"),
        "调解成功件数不超过调解件数",
        True,
        ["调解成功矛盾纠纷 11000（千位，允许 10500–11500） 不超过 调解矛盾纠纷 10800"],
    ),
    (
        dict(disputes__mediation_success="1.2万", disputes__mediation_cases="11000"),
        "调解成功件数不超过调解件数",
        False,
        ["（千位，允许 11500–12500） 大于 调解矛盾纠纷 11000（超出 1000）"],
    ),
    (
        dict(disputes__mediation_success="101", disputes__mediation_cases="100"),
        "调解成功件数不超过调解件数",
        False,
        ["调解成功矛盾纠纷 101 大于 调解矛盾纠纷 100（超出 1）"],
    ),
]


@pytest.mark.parametrize(("written", "title", "holds", "words"), KINDS)
def test_identities_of_each_kind_over_written_forms(written, title, holds, words):
    rows = rows_of(**written)
    rule = next(x for x in CATALOG.identities if x.title_zh == title)
    verdict = CATALOG.check(rule, {r["indicator_id"]: r for r in rows})
    assert verdict.holds is holds
    for w in words:
        assert w in verdict.fact()
    warned = [p.message for p in check_identities(rows, CATALOG) if p.message.startswith(title + "不成立")]
    assert bool(warned) is not holds
    if warned:
        assert verdict.fact() in warned[0]
    # the notebook says the same, in the same words
    view = selection.select(fp.frame(rows), fp.REGION, fp.YEAR)
    table = quality.identity_table(view).set_index("检查")
    assert table.loc[title, "结果"] == ("成立" if holds else "不成立")
    assert table.loc[title, "说明"] == verdict.fact()


def test_a_rate_off_by_its_own_rounding_from_62_of_125_warns_everywhere():
    rows = rows_of(
        disputes__mediation_success="62",
        disputes__mediation_cases="125",
        disputes__mediation_success_rate="49.55",
    )
    assert "两位小数，允许 49.545–49.555" in rate_warning(rows)
    view = selection.select(fp.frame(rows), fp.REGION, fp.YEAR)
    assert quality.identity_table(view).set_index("检查").loc[RATE_TITLE, "结果"] == "不成立"


# --- the property -------------------------------------------------------------------------------------


@st.composite
def counts_and_rate(draw):
    cases = draw(st.integers(min_value=1, max_value=10**6))
    success = draw(st.integers(min_value=0, max_value=cases))
    digits = draw(st.integers(min_value=0, max_value=2))
    return success, cases, digits, 100 * success / cases


def written(rate: float, digits: int, percent: bool) -> str:
    return f"{rate:.{digits}f}" + ("%" if percent else "")


@settings(max_examples=150, deadline=None)
@given(counts_and_rate(), st.booleans(), st.booleans())
def test_any_correct_rounding_of_the_rate_raises_nothing(case, percent, up):
    success, cases, digits, exact = case
    unit = 10.0**-digits
    rate = (math.ceil if up else math.floor)(round(exact / unit, 6)) * unit  # either neighbour…
    assume(abs(rate - exact) <= unit / 2)  # …that is a correct rounding (both, at a tie)
    rows = rows_of(
        disputes__mediation_success=str(success),
        disputes__mediation_cases=str(cases),
        disputes__mediation_success_rate=written(rate, digits, percent),
    )
    assert rate_warning(rows) is None


@settings(max_examples=150, deadline=None)
@given(counts_and_rate(), st.integers(min_value=-30, max_value=30).filter(bool))
def test_any_rate_off_by_more_than_half_its_last_digit_warns(case, steps):
    success, cases, digits, exact = case
    unit = 10.0**-digits
    rate = round(exact, digits) + steps * unit
    assume(abs(rate - exact) > unit / 2 + 1e-9 and rate >= 0)
    text = written(rate, digits, percent=False)
    rows = rows_of(
        disputes__mediation_success=str(success),
        disputes__mediation_cases=str(cases),
        disputes__mediation_success_rate=text,
    )
    message = rate_warning(rows)
    assert message is not None and f"人民调解成功率 {parse_value(text).value:g}" in message


# --- derived values ------------------------------------------------------------------------------------


def test_derived_values_are_no_finer_than_their_inputs():
    exact, _ = derive(rows_of(disputes__mediation_cases="6736", disputes__mediators="992"), CATALOG)
    per_mediator = next(r for r in exact if r["indicator_id"] == "derived.disputes_per_mediator")
    assert (per_mediator["value"], per_mediator["precision"], per_mediator["qualifier"]) == (6.79, 0.01, "")
    rows = rows_of(disputes__mediation_cases="1.1万", disputes__mediators="992")
    rough, _ = derive(rows, CATALOG)
    per_mediator = next(r for r in rough if r["indicator_id"] == "derived.disputes_per_mediator")
    # 10500–11500 cases over 992 mediators: 10.6–11.6, so no decimals, and marked approximate
    assert (per_mediator["value"], per_mediator["precision"], per_mediator["qualifier"]) == (11, 1, "约")
    view = selection.select(fp.frame(rows), fp.REGION, fp.YEAR)
    assert view.text("derived.disputes_per_mediator") == "约11件"
    # a view over an older table without derived rows computes the same
    older = selection.select(fp.frame(rows).query("~derived"), fp.REGION, fp.YEAR)
    assert older.get("derived.disputes_per_mediator") == 11


def test_a_qualifier_before_the_number_stays_before_it_in_every_place():
    rows = rows_of(disputes__mediation_cases="1.1万", disputes__mediators="992")
    by_id = {r["indicator_id"]: r for r in rows}
    by_id["leadership.study_books_printed"]["qualifier"] = "约"
    view = selection.select(fp.frame(rows), fp.REGION, fp.YEAR)
    drafts = {d.id: d.text for d in sentences.draft(view)}
    assert "印刷学习用书约500本" in drafts["leadership_study"]
    assert drafts["disputes_per_mediator"] == "平均每名人民调解员调解矛盾纠纷约11件。"
    assert view.text("leadership.study_books_printed") == "约500本"


def test_the_notebook_table_carries_the_precision():
    rows = rows_of(disputes__mediation_success_rate="96%", functions__clean_heating_households="1.1万")
    view = selection.select(fp.frame(rows), fp.REGION, fp.YEAR)
    tidy = tables.tidy_table(view).set_index("indicator_id")
    assert (
        tidy.loc[RATE, "precision"] == 1
        and tidy.loc["functions.clean_heating_households", "precision"] == 1000
    )
    assert tidy.loc["derived.disputes_per_mediator", "precision"] == 0.01
