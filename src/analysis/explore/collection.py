"""Collection status of one region-year: which departments the catalog expects a workbook from, which sent
one, which of those have errors, and which are missing. The index page, the site overview and the summary
workbook all take it from here, so they never disagree (same rule as :func:`quality.submissions_table`: a
department sent a workbook when values of it were loaded or problems were recorded against a file of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from analysis.core.catalog import Catalog
from analysis.core.problems import ERROR


@dataclass(frozen=True)
class Collection:
    expected: tuple[str, ...]  # departments the catalog assigns indicators to
    received: tuple[str, ...]  # departments whose workbook arrived (catalog ones first, then any other)
    with_errors: tuple[str, ...]  # received, with at least one error
    missing: tuple[str, ...]  # expected, not received

    def sentence(self) -> str:
        """``目录应报 8 个单位，已收到 7 个（其中 2 个有错误），未收到 1 个：县审计局``."""
        text = f"目录应报 {len(self.expected)} 个单位，已收到 {len(self.received)} 个（其中 {len(self.with_errors)} 个有错误）"
        if self.missing:
            return f"{text}，未收到 {len(self.missing)} 个：{'、'.join(self.missing)}"
        return f"{text}，全部收到"


def collection_status(catalog: Catalog, departments: Iterable[str], issues: pd.DataFrame) -> Collection:
    """``departments``: the department of each value loaded for the region-year (derived rows excluded);
    ``issues``: the region-year's problems."""
    expected = [d for d in catalog.departments if catalog.for_department(d)]
    sent = {str(d) for d in departments if d}
    if len(issues):
        department = issues["department"].fillna("").astype(str)
        sent |= set(department[(issues["file"].fillna("") != "") & (department != "")])
        erred = set(department[(issues["severity"] == ERROR) & (issues["file"].fillna("") != "")])
    else:
        erred = set()
    received = [d for d in expected if d in sent] + sorted(sent - set(expected))
    return Collection(
        expected=tuple(expected),
        received=tuple(received),
        with_errors=tuple(d for d in received if d in erred),
        missing=tuple(d for d in expected if d not in sent),
    )
