"""Checks and derivations over the tidy rows: catalog identities, derived indicators, completeness.

Nothing here changes a submitted value: an identity that fails is a ``reconciliation-mismatch`` warning
naming the numbers (the published 2019 power list is 51 items short, and must stay so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from analysis.core.catalog import Catalog, Computed, Indicator
from analysis.core.catalog_time import years_text
from analysis.core.formatting import APPROXIMATE, format_number
from analysis.core.problems import Problem
from analysis.core.schema import MAX_VALUE
from analysis.core.text import clip
from analysis.ingest.extract import Blank, Candidate, FileContext

RegionYear = tuple[str, int]


def _by_region_year(rows: Iterable[dict]) -> dict[RegionYear, dict[str, dict]]:
    grouped: dict[RegionYear, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        grouped[(row["region"], row["year"])][row["indicator_id"]] = row
    return grouped


def _labels(names: Iterable[str], rows: dict[str, dict], catalog: Catalog) -> dict[str, str]:
    return {
        n: f"{catalog.indicators[n].name_zh} {format_number(rows[n]['value'])}" for n in names if n in rows
    }


def _skipped(
    region: str, year: int, what: str, missing: Iterable[str], catalog: Catalog, indicator_id: str = ""
) -> Problem:
    names = "、".join(catalog.indicators[n].name_zh for n in missing)
    return Problem(
        "check-skipped",
        f"{what}未进行：缺少{names}",
        region=region,
        year=year,
        indicator_id=indicator_id,
    )


def out_of_year(
    ctx: FileContext, candidates: list[Candidate], catalog: Catalog
) -> tuple[list[Candidate], list[Problem]]:
    """The values of one file whose indicator is in the catalog of the file's year, and a warning for each
    other one (retired, not yet added, renamed) naming the years it is valid: not loaded, not lost."""
    year_catalog = catalog.for_year(ctx.year)
    kept, problems = [], []
    for cand in candidates:
        ind = cand.indicator
        if ind.indicator_id in year_catalog.indicators:
            kept.append(cand)
            continue
        message = (
            f"指标“{ind.name_zh}”的有效期为{years_text(ind.since, ind.until)}，不在{ctx.year}年的指标目录中；"
            f"填报的数值“{clip(cand.raw_value)}”未导入"
        )
        heirs = [i for i in catalog.lineage.series(ind.indicator_id) if i in year_catalog.indicators]
        if heirs:
            now = year_catalog.indicators[heirs[0]]
            message += f"；{ctx.year}年请按“{now.name_zh}”（{now.unit}）填报"
        problems.append(
            ctx.problem("indicator-not-in-year", message, cand.sheet, cand.cell, ind.indicator_id)
        )
    return kept, problems


def derive(rows: list[dict], catalog: Catalog) -> tuple[list[dict], list[Problem]]:
    """Rows of the derived indicators computable from ``rows`` (marked ``derived=True``), computed and
    rounded by :meth:`Catalog.compute` (the notebooks' ``View`` uses the same)."""
    out: list[dict] = []
    problems: list[Problem] = []
    for (region, year), present in _by_region_year(rows).items():
        present = dict(present)
        for ind in catalog.for_year(year).derived:  # only those in that year's catalog
            assert ind.formula is not None
            names = ind.formula.names
            missing = [n for n in names if n not in present]
            if missing:
                if len(missing) < len(names):
                    what = f"派生指标“{ind.name_zh}”的计算"
                    problems.append(_skipped(region, year, what, missing, catalog, ind.indicator_id))
                continue
            how = ind.formula.render(_labels(names, present, catalog.edition))
            try:
                computed = catalog.for_year(year).compute(ind, present)
            except ZeroDivisionError:
                problems.append(
                    Problem(
                        "check-skipped",
                        f"派生指标“{ind.name_zh}”的计算未进行：除数为 0（{how}）",
                        region=region,
                        year=year,
                        indicator_id=ind.indicator_id,
                    )
                )
                continue
            if not abs(computed.value) < MAX_VALUE:  # each part is below the bound, their sum need not be
                problems.append(
                    Problem(
                        "check-skipped",
                        f"派生指标“{ind.name_zh}”的计算结果 {computed.value:.6g} 超过系统能保存的上限，未计算；请核实各组成指标",
                        region=region,
                        year=year,
                        indicator_id=ind.indicator_id,
                    )
                )
                continue
            row = _derived_row(region, year, ind, computed, how)
            present[ind.indicator_id] = row
            out.append(row)
    return out, problems


def _derived_row(region: str, year: int, ind: Indicator, computed: Computed, how: str) -> dict:
    return {
        "region": region,
        "year": year,
        "indicator_id": ind.indicator_id,
        "name_zh": ind.name_zh,
        "topic": ind.topic,
        "value": float(computed.value),
        "unit": ind.unit,
        "qualifier": APPROXIMATE if computed.approximate else "",
        "precision": computed.precision,
        "department": "",
        "source_file": "",
        "sheet": "",
        "cell": "",
        "raw_value": "",
        "note": f"派生指标：{how}",
        "derived": True,
    }


def check_identities(rows: list[dict], catalog: Catalog) -> list[Problem]:
    """A warning for every catalog identity that does not hold (:meth:`Catalog.check`, the verdict the
    notebooks show too), naming each figure, the allowed range of rounded ones, and the gap."""
    problems: list[Problem] = []
    for (region, year), present in _by_region_year(rows).items():
        for rule in catalog.for_year(year).identities:  # those whose figures are all in that year's catalog
            verdict = catalog.for_year(year).check(rule, present)
            if verdict.missing:
                if len(verdict.missing) < len(rule.names):
                    what = f"勾稽关系“{rule.title_zh}”的检查"
                    problems.append(_skipped(region, year, what, verdict.missing, catalog))
                continue
            if verdict.zero_division:
                problems.append(
                    Problem(
                        "check-skipped",
                        f"勾稽关系“{rule.title_zh}”的检查未进行：除数为 0",
                        region=region,
                        year=year,
                    )
                )
                continue
            if verdict.holds:
                continue
            anchor = present[rule.rhs.names[0]] if rule.rhs.names else present[rule.names[0]]
            departments = "、".join(
                dict.fromkeys(present[n]["department"] for n in rule.names if present[n]["department"])
            )
            problems.append(
                Problem(
                    "reconciliation-mismatch",
                    f"{rule.title_zh}不成立：{verdict.fact()}。数值按报送原样导入，未作任何修正；请{departments or '相关单位'}核实，"
                    "并在报告中说明差异的原因",
                    region=region,
                    year=year,
                    department=anchor["department"],
                    file=anchor["source_file"],
                    sheet=anchor["sheet"],
                    cell=anchor["cell"],
                    indicator_id=anchor["indicator_id"],
                )
            )
    return problems


def check_completeness(
    rows: list[dict],
    submitted: list[FileContext],
    catalog: Catalog,
    flagged: Iterable[Problem] = (),
    blanks: Iterable[tuple[FileContext, Blank]] = (),
) -> list[Problem]:
    """Information on departments with no readable submission and catalog indicators left blank.

    An indicator that already has a problem (a rejected value, a conflict) is not reported again as blank.
    A blank row of an indicator (``blanks``) puts its sheet and cell, and the 备注 saying why when there is
    one, on the missing-indicator row (also when the indicator is another unit's, or its own unit sent no
    report); only an indicator with no row at all is reported without a cell.
    """
    problems: list[Problem] = []
    reported = {(r["region"], r["year"], r["indicator_id"]) for r in rows}
    reported |= {(p.region, p.year, p.indicator_id) for p in flagged if p.indicator_id}
    explained: dict[tuple[str, int, str], tuple[FileContext, Blank]] = {}
    for ctx, blank in blanks:  # the first blank row of each indicator; one with a 备注 before one without
        if not blank.note and ctx.department != blank.indicator.department:
            continue  # another unit's row left blank without a word: that unit's own report speaks for it
        key = (ctx.region, ctx.year, blank.indicator.indicator_id)
        if key not in explained or (blank.note and not explained[key][1].note):
            explained[key] = (ctx, blank)
    files: dict[RegionYear, dict[str, FileContext]] = defaultdict(dict)
    for ctx in submitted:
        files[(ctx.region, ctx.year)].setdefault(ctx.department, ctx)
    for (region, year), by_department in sorted(files.items()):
        for department in catalog.departments:
            expected = catalog.for_year(year).for_department(department)  # not what is outside its validity
            if not expected:
                continue
            ctx = by_department.get(department)
            if ctx is None:
                problems.append(
                    Problem(
                        "missing-submission",
                        f"未收到{department}的报表（或报表未能读取）；其负责的 {len(expected)} 项指标本年度为“未填报”",
                        region=region,
                        year=year,
                        department=department,
                    )
                )
                continue
            for ind in expected:
                key = (region, year, ind.indicator_id)
                if key not in reported and key not in explained:
                    problems.append(
                        ctx.problem(
                            "missing-indicator",
                            f"未填报“{ind.name_zh}”（{ind.unit}）；如本年度确无此项，请在备注中说明",
                            indicator_id=ind.indicator_id,
                        )
                    )
    for key, (where, blank) in explained.items():  # wherever the blank was, even in another unit's file
        if key not in reported and catalog.is_valid(key[2], key[1]):
            ind = blank.indicator
            message = f"未填报“{ind.name_zh}”（{ind.unit}）"
            if blank.note:
                message += f"，填报单位在备注中说明：“{clip(blank.note)}”"
            else:
                message += "；如本年度确无此项，请在备注中说明"
            problems.append(
                where.problem(
                    "missing-indicator", message, blank.sheet, blank.cell, ind.indicator_id, blank.note
                )
            )
    return problems
