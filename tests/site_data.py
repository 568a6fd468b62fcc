"""A second year and a second region, built the way an analyst builds them: the templates of
``python -m analysis template`` filled in (in a temporary folder, never the live data/raw).

通许县 2019 holds the shipped figures (the power list misses its balance by 51); 通许县 2020 holds them
10% higher; 杞县 reports 80% (2019) and 90% (2020) of them with a balanced power list, and leaves
政务服务事项 blank in 2020 (未填报 on every page, never 0).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from analysis.core.catalog import load_catalog
from analysis.ingest import template as tpl
from tests import fixtures_processed as fp

BLANK_IN_QIXIAN_2020 = "functions.gov_service_items"
PLAN = {("通许县", 2019): 1.0, ("通许县", 2020): 1.1, ("杞县", 2019): 0.8, ("杞县", 2020): 0.9}


def values_for(region: str, year: int) -> dict[str, float]:
    """The figures a region-year reports (percentages and lengths as they are, counts scaled)."""
    catalog = load_catalog()
    factor = PLAN[(region, year)]
    out = {}
    for iid, (value, _) in fp.spec_values().items():
        kind = catalog.units[catalog.indicators[iid].unit].kind
        out[iid] = value if kind in ("percent", "measure") else float(round(value * factor))
    if region == "杞县":  # a balanced power list
        out["functions.power_items_after"] = (
            out["functions.power_items_before"]
            - out["functions.power_items_cancelled"]
            + out["functions.power_items_added"]
        )
        if year == 2020:
            del out[BLANK_IN_QIXIAN_2020]
    return out


def fill_templates(raw: Path, region: str, year: int) -> None:
    """Write the templates of ``region``/``year`` under ``raw`` and type :func:`values_for` into them."""
    catalog = load_catalog()
    folder = raw / region / str(year)
    tpl.write_templates(region, year, folder, catalog)
    values = values_for(region, year)
    for department in catalog.departments:
        path = folder / f"{department}.xlsx"
        wb = openpyxl.load_workbook(path)
        info = wb[catalog.sheet_names["metadata"]]
        info["B4"], info["B5"], info["B6"] = "张某", "0371-00000000", f"{year + 1}-01-15"
        ws = wb[tpl.DATA_SHEET]
        for offset, ind in enumerate(catalog.for_department(department)):
            if ind.indicator_id in values:
                ws.cell(tpl.FIRST_DATA_ROW + offset, tpl.VALUE_COL, values[ind.indicator_id])
        wb.save(path)


def build_raw(raw: Path) -> Path:
    """Two regions × two years of filled templates under ``raw``."""
    for region, year in PLAN:
        fill_templates(raw, region, year)
    return raw
