"""Processed tables for the analysis tests, built the way ingest builds them but without workbooks.

The values come from ``tests/data/tongxu_2019_indicators.csv`` (a copy of the spec CSV of 通许县 2019);
derived rows are computed by the ingest code itself (:func:`analysis.checks.derive`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.core.catalog import load_catalog
from analysis.core.problems import Problem
from analysis.ingest.checks import derive
from analysis.ingest.pipeline import indicators_frame, issues_frame

SPEC_CSV = Path(__file__).parent / "data" / "tongxu_2019_indicators.csv"
REGION, YEAR = "通许县", 2019
HOSTILE = '<script>alert("x")</script>&局'


def spec_values() -> dict[str, tuple[float, str]]:
    """indicator_id -> (value, qualifier) of the spec CSV."""
    with SPEC_CSV.open(encoding="utf-8") as fh:
        return {r["indicator_id"]: (float(r["value"]), r["qualifier"]) for r in csv.DictReader(fh)}


def rows(
    region: str = REGION,
    year: int = YEAR,
    values: dict[str, float] | None = None,
    only: list[str] | None = None,
    department: str | None = None,
) -> list[dict]:
    """Tidy rows of the spec figures (or ``values``), as ingest writes them; ``only`` keeps some ids."""
    catalog = load_catalog()
    spec = spec_values()
    chosen = values if values is not None else {k: v for k, (v, _) in spec.items()}
    out = []
    for n, (iid, value) in enumerate(chosen.items()):
        if only is not None and iid not in only:
            continue
        ind = catalog.indicators[iid]
        dept = department or ind.department
        out.append(
            {
                "region": region,
                "year": year,
                "indicator_id": iid,
                "name_zh": ind.name_zh,
                "topic": ind.topic,
                "value": float(value),
                "unit": ind.unit,
                "qualifier": spec.get(iid, (0, ""))[1] if values is None else "",
                "department": dept,
                "source_file": f"{region}/{year}/{dept}.xlsx",
                "sheet": "数据",
                "cell": f"D{n + 3}",
                "raw_value": str(value),
                "note": "",
                "derived": False,
            }
        )
    return out


def frame(*row_sets: list[dict]) -> pd.DataFrame:
    """The indicators table of the given rows plus their derived rows."""
    reported = [r for rs in row_sets for r in rs]
    derived, _ = derive(reported, load_catalog())
    return indicators_frame(reported + derived)


def spec_frame() -> pd.DataFrame:
    return frame(rows())


def tiny_frame() -> pd.DataFrame:
    """A region that reported two indicators only."""
    return frame(rows(region="小县", only=["disputes.mediation_cases", "functions.gov_service_items"]))


def history_frame() -> pd.DataFrame:
    """通许县 2018 (every figure 10% lower, rounded) and 2019, plus a second region in 2019."""
    before = {k: round(v * 0.9) for k, (v, _) in spec_values().items() if not k.endswith("_rate")}
    other = {k: v * 2 for k, (v, _) in spec_values().items() if k.startswith("disputes.")}
    return frame(rows(year=2018, values=before), rows(), rows(region="杞县", values=other))


def issues(region: str = REGION, year: int = YEAR) -> pd.DataFrame:
    """A few problems, one carrying hostile text in every submitted field."""
    problems = [
        Problem(
            "reconciliation-mismatch",
            "权责清单增减平衡不成立：相差 51。",
            region=region,
            year=year,
            department="县委机构编制委员会办公室",
            file=f"{region}/{year}/县委机构编制委员会办公室.xlsx",
            sheet="权责清单调整",
            cell="E5",
            indicator_id="functions.power_items_after",
        ),
        Problem(
            "unknown-department",
            f"文件名“{HOSTILE}”不是目录中的填报单位",
            region=region,
            year=year,
            department=HOSTILE,
            file=f"{region}/{year}/{HOSTILE}.xlsx",
            sheet=HOSTILE,
        ),
        Problem(
            "bad-number",
            f"“{HOSTILE}”不是数字",
            region=region,
            year=year,
            department="县水利局",
            file=f"{region}/{year}/县水利局.xlsx",
            sheet="Sheet1",
            cell="C4",
        ),  # fmt: skip
        Problem(
            "missing-submission", "未收到县审计局的报表", region=region, year=year, department="县审计局"
        ),
        Problem("skipped-file", "说明.txt 不是工作簿，已跳过", file="说明.txt"),
        Problem("bad-number", "其他地区的问题", region="杞县", year=year, department="县水利局"),
    ]
    return issues_frame(problems)


def empty_issues() -> pd.DataFrame:
    return issues_frame([])
