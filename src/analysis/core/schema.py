"""The tidy tables' contract: column order and a pandera schema checked before every write.

The schemas are built on first use: only a write needs pandera, and importing it costs about 0.3 s in every
process that merely reads the tables (each notebook's kernel, `run`, an analyst's session)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from analysis.core.numbers import known_precision
from analysis.core.problems import CODES, ISSUE_COLUMNS, SEVERITIES
from analysis.core.years import YEAR_MAX, YEAR_MIN

if TYPE_CHECKING:  # pandas is not imported for the constants (the senders' check needs only those)
    import pandas as pd

# Magnitude a value must stay under (float64 holds every integer below it exactly; the pandera check too).
MAX_VALUE = 1e15

INDICATOR_COLUMNS = [
    "region",  # 地区, e.g. 通许县
    "year",  # 统计年度 (int)
    "indicator_id",  # catalog id
    "name_zh",  # catalog name
    "topic",  # catalog topic (one notebook each)
    "value",  # float, in the catalog unit
    "unit",  # catalog unit
    "qualifier",  # 余 / 多 / 约 / 以上 … as written, "" if none
    "precision",  # unit of the last digit as written or displayed: 96 → 1, 95.9 → 0.1, 1.1万 → 1000
    "department",  # canonical department that submitted it ("" for derived)
    "source_file",  # path relative to the raw folder
    "sheet",
    "cell",  # A1 reference of the value cell
    "raw_value",  # the cell as submitted (text), for tracing
    "note",  # 备注 column, or the formula of a derived indicator
    "derived",  # bool: computed from other indicators, not submitted
]


@functools.cache
def indicators_schema():
    """The pandera schema of the tidy table (pandera imported here, on first use)."""
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {
            "region": pa.Column(str, pa.Check.str_length(min_value=1)),
            "year": pa.Column(int, pa.Check.in_range(YEAR_MIN, YEAR_MAX)),
            "indicator_id": pa.Column(str, pa.Check.str_matches(r"^[a-z_]+\.[a-z0-9_]+$")),
            "name_zh": pa.Column(str),
            "topic": pa.Column(str),
            "value": pa.Column(float, pa.Check(lambda s: s.abs() < MAX_VALUE, element_wise=False)),
            "unit": pa.Column(str),
            "qualifier": pa.Column(str),
            "precision": pa.Column(float, pa.Check.gt(0)),
            "department": pa.Column(str),
            "source_file": pa.Column(str),
            "sheet": pa.Column(str),
            "cell": pa.Column(str),
            "raw_value": pa.Column(str),
            "note": pa.Column(str),
            "derived": pa.Column(bool),
        },
        unique=["region", "year", "indicator_id"],
        strict=True,
        ordered=True,
    )
    assert list(schema.columns) == INDICATOR_COLUMNS
    return schema


@functools.cache
def issues_schema():
    """The pandera schema of the problems table."""
    import pandera.pandas as pa

    schema = pa.DataFrameSchema(
        {
            "severity": pa.Column(str, pa.Check.isin(list(SEVERITIES))),
            "code": pa.Column(str, pa.Check.isin(list(CODES))),
            "region": pa.Column(str),
            "year": pa.Column("Int64", nullable=True),
            "department": pa.Column(str),
            "file": pa.Column(str),
            "sheet": pa.Column(str),
            "cell": pa.Column(str),
            "indicator_id": pa.Column(str),
            "message": pa.Column(str, pa.Check.str_length(min_value=1)),
            "note": pa.Column(str),
        },
        strict=True,
        ordered=True,
    )
    assert list(schema.columns) == ISSUE_COLUMNS
    return schema


NUMERIC_COLUMNS = ("year", "value", "precision", "derived")


def with_precision(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``precision`` for every row: rows without one (a table written before the column
    existed, rows built by hand) get the unit of the last digit of their value as plainly written."""
    frame = frame.copy()
    given = frame["precision"] if "precision" in frame else [None] * len(frame)
    frame["precision"] = [known_precision(p, float(v)) for p, v in zip(given, frame["value"], strict=True)]
    return frame.astype({"precision": "float64"})
