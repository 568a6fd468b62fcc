"""One region and year of the tidy table (:class:`View`) and how its values are written.

:func:`select` cuts the table down to one region and year and remembers the region's other years, so
that year-over-year columns and trend charts appear by themselves when they exist. An indicator not
reported shows ``未填报``, never zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.core.catalog import Catalog, Indicator, load_catalog
from analysis.core.formatting import MISSING, format_change, format_number, format_value, growth_rate

__all__ = ["MISSING", "View", "format_change", "format_number", "format_value", "growth_rate", "select"]


# --- one region and year -------------------------------------------------------------------------------


@dataclass
class View:
    """The rows of one region and year, plus the region's other years and the other regions' rows."""

    region: str
    year: int
    catalog: Catalog
    frame: pd.DataFrame  # the whole tidy table
    current: dict[str, dict] = field(default_factory=dict)  # indicator_id -> row, this region and year
    history: dict[int, dict[str, dict]] = field(default_factory=dict)  # year -> id -> row, this region
    blank_notes: dict[str, str] = field(default_factory=dict)  # id -> why the department left it blank

    @property
    def years(self) -> list[int]:
        """Years of this region in the table, up to and including :attr:`year`."""
        return sorted(y for y in self.history if y <= self.year)

    @property
    def previous_year(self) -> int | None:
        earlier = [y for y in self.years if y < self.year]
        return earlier[-1] if earlier else None

    @property
    def regions(self) -> list[str]:
        return sorted(self.frame.loc[self.frame["year"] == self.year, "region"].unique())

    def indicator(self, indicator_id: str) -> Indicator:
        return self.catalog.indicators[indicator_id]

    def get(self, indicator_id: str, year: int | None = None) -> float | None:
        """The value of ``indicator_id`` (this year, or ``year``); None when not reported."""
        rows = self.current if year is None or year == self.year else self.history.get(year, {})
        row = rows.get(indicator_id)
        if row is not None:
            return float(row["value"])
        return self._derive(indicator_id, rows)

    def _derive(self, indicator_id: str, rows: dict[str, dict]) -> float | None:
        # A derived indicator missing from the table (e.g. an older processed folder) is computed from the
        # catalog formula when all its inputs were reported, exactly as ingest computes it.
        ind = self.catalog.indicators.get(indicator_id)
        if ind is None or ind.formula is None:
            return None
        try:
            result = self.catalog.compute(ind, rows).value
        except (KeyError, ZeroDivisionError):
            return None
        return result if math.isfinite(result) else None

    def qualifier(self, indicator_id: str, year: int | None = None) -> str:
        rows = self.current if year is None or year == self.year else self.history.get(year, {})
        row = rows.get(indicator_id)
        return str(row["qualifier"]) if row is not None and row["qualifier"] else ""

    def text(self, indicator_id: str, year: int | None = None) -> str:
        """The value as written in the report (``2705项``, ``500余本``, ``约11件`` for a figure derived from
        rounded inputs) or ``未填报``; a derived figure never shows more decimals than it was kept with."""
        ind = self.indicator(indicator_id)
        rows = self.current if year is None or year == self.year else self.history.get(year, {})
        digits = ind.digits
        row = rows.get(indicator_id)
        if row is not None and row.get("derived") and float(row.get("precision") or 0) > 0:
            digits = max(0, round(-math.log10(float(row["precision"]))))
        return format_value(
            self.get(indicator_id, year), ind.unit, self.qualifier(indicator_id, year), digits
        )

    def earlier(self, indicator_id: str, year: int) -> float | None:
        """The value of ``indicator_id``'s series in ``year``: under this id, or under the id it was renamed
        from (``replaces`` in the catalog), converted into this id's unit; None when not reported or when
        the indicator came from a split or merge (no figure before it compares with it)."""
        if self.catalog.lineage.split_from(indicator_id) is not None:
            return self.get(indicator_id, year) if self.catalog.edition.is_valid(indicator_id, year) else None
        for iid, factor in self.catalog.lineage.series(indicator_id).items():
            if self.catalog.edition.is_valid(iid, year) and (value := self.get(iid, year)) is not None:
                return value * factor if iid != indicator_id else value
        return self.get(indicator_id, year)

    def footnote(self, indicator_id: str, years: list[int] | None = None) -> str:
        """``2021年起指标名称改为“…”（原“…”，单位由件改为万件）`` when ``years`` (default: the view's years)
        span a rename of ``indicator_id``; else ""."""
        series = self.catalog.lineage.series(indicator_id)
        edition = self.catalog.edition
        spans = any(edition.is_valid(i, y) for i in series if i != indicator_id for y in years or self.years)
        return self.catalog.lineage.footnote(indicator_id) if spans else ""

    def current_id(self, indicator_id: str) -> str | None:
        """The id of ``indicator_id``'s series (itself or a rename) in this year's catalog; None if none."""
        return next(
            (i for i in self.catalog.lineage.series(indicator_id) if i in self.catalog.indicators), None
        )

    def ids(self, indicator_ids: list[str]) -> list[str]:
        """``indicator_ids`` as this year's catalog has them: a renamed one under its id of the year, one not
        in the year's catalog (retired, not yet added) left out: it is neither shown nor 未填报."""
        return list(dict.fromkeys(filter(None, map(self.current_id, indicator_ids))))

    def reported(self, indicator_ids: list[str]) -> list[str]:
        return [i for i in indicator_ids if self.get(i) is not None]

    def missing(self, indicator_ids: list[str]) -> list[str]:
        return [i for i in indicator_ids if self.get(i) is None]


def select(
    frame: pd.DataFrame,
    region: str,
    year: int,
    catalog: Catalog | None = None,
    issues: pd.DataFrame | None = None,
) -> View:
    """The :class:`View` of ``region`` and ``year`` (an empty one when the table has no such rows); with
    ``issues``, the departments' notes on the values they left blank come along."""
    catalog = (catalog or load_catalog()).for_year(int(year))  # only what is in that year's catalog
    mine = frame[frame["region"] == region]
    history: dict[int, dict[str, dict]] = {}
    for row in mine.to_dict("records"):
        history.setdefault(int(row["year"]), {})[row["indicator_id"]] = row
    notes = blank_notes(issues, region, int(year)) if issues is not None else {}
    return View(region, int(year), catalog, frame, history.get(int(year), {}), history, notes)


def blank_notes(issues: pd.DataFrame, region: str, year: int) -> dict[str, str]:
    """indicator_id → the 备注 a department wrote beside a value it left blank (``本年度未统计``), from the
    ``note`` column of the issues (missing-indicator and marked-not-reported rows)."""
    if "note" not in issues.columns or issues.empty:
        return {}
    years = pd.to_numeric(issues["year"], errors="coerce")
    noted = issues[
        (issues["region"] == region)
        & (years == year)
        & (issues["note"].fillna("") != "")
        & (issues["indicator_id"].fillna("") != "")
    ].drop_duplicates("indicator_id")
    return dict(zip(noted["indicator_id"], noted["note"], strict=True))


# --- comparing years: the one rule (tables, trend panels, sentences and the Word draft use it) ----------


def over_years(view: View, indicator_id: str) -> bool:
    """Whether ``indicator_id`` is compared across years at all (a trend panel, a 上年 column): not a check
    figure (``check: true`` in the catalog, such as the power list's unexplained change), which is a gap
    to resolve each year, not a quantity that grows or falls."""
    return not view.indicator(indicator_id).check


def year_on_year(view: View, indicator_id: str) -> tuple[float, float, int] | None:
    """(this year's value, the previous year's, the previous year) when a change between them means
    something: both reported, the indicator compared across years (:func:`over_years`), and neither value
    written with a qualifier (``500余``, ``约2000``: the difference of two rough figures is no figure).
    None otherwise."""
    prev = view.previous_year
    if prev is None or not over_years(view, indicator_id):
        return None
    now, before = view.get(indicator_id), view.earlier(indicator_id, prev)  # across a rename, not a split
    rough = view.qualifier(indicator_id) or any(
        view.qualifier(i, prev) for i in view.catalog.lineage.series(indicator_id)
    )
    if now is None or before is None or rough:
        return None
    return now, before, prev


def topic_ids(view: View, topic: str) -> list[str]:
    """Indicator ids of a topic in catalog order (reported ones first, then derived)."""
    return [i.indicator_id for i in view.catalog.for_topic(topic)]


def topic_title(view: View, topic: str) -> str:
    return str(view.catalog.topics[topic]["title_zh"])
