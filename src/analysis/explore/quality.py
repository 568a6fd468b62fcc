"""The data-quality section: submissions per department, issues by severity and code, identity checks."""

from __future__ import annotations

import pandas as pd

from analysis.core.problems import CODES, SEVERITIES, SEVERITY_ZH, severity_rank
from analysis.explore.charts import REPORTED_TONES, balance, balance_note, chart_title
from analysis.explore.chartspec import Chart
from analysis.explore.selection import View, format_number

SEVERITY_TONE = {"错误": "gap", "警告": "down", "提示": "muted"}  # the same colour whichever are present


# --- data quality --------------------------------------------------------------------------------------


def issues_of(issues: pd.DataFrame, region: str, year: int, unplaced: bool = True) -> pd.DataFrame:
    """Issues of this region and year, plus (``unplaced``) those that belong to no region-year, such as a
    skipped file: every page of a report lists those too, while counts per region and the Word draft
    (``unplaced=False``) keep only the region-year's own."""
    years = pd.to_numeric(issues["year"], errors="coerce")
    mine = (issues["region"] == region) & (years == year)
    if unplaced:
        mine |= (issues["region"].fillna("") == "") | ((issues["region"] == region) & years.isna())
    return issues[mine].reset_index(drop=True)


def submissions_table(view: View, issues: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per department of the catalog (and any other department found): whether its workbook was received
    (values loaded or problems recorded against a file of it), its files, and how many of its catalog
    indicators it reported."""
    rows_by_dept: dict[str, list[dict]] = {}
    for row in view.current.values():
        if not row.get("derived"):
            rows_by_dept.setdefault(str(row["department"]), []).append(row)
    files_by_dept: dict[str, set[str]] = {
        d: {str(r["source_file"]) for r in rows} for d, rows in rows_by_dept.items()
    }
    if issues is not None and len(issues):
        filed = issues[(issues["file"].fillna("") != "") & (issues["department"].fillna("") != "")]
        for dept, file in zip(filed["department"], filed["file"], strict=True):
            files_by_dept.setdefault(str(dept), set()).add(str(file))
    known = list(view.catalog.departments)
    records = []
    for dept in [*known, *sorted(set(files_by_dept) - set(known))]:
        expected = [i.indicator_id for i in view.catalog.for_department(dept)]
        files = sorted(f for f in files_by_dept.get(dept, set()) if f)
        records.append(
            {
                "填报单位": dept,
                "报表": "已收到" if files or rows_by_dept.get(dept) else "未收到",
                "文件": "、".join(files),
                "已填报指标": len(rows_by_dept.get(dept, [])),
                "目录指标": len(expected),
                "未填报指标": len(view.missing(expected)),
            }
        )
    return pd.DataFrame(records)


def submissions_chart(view: View, issues: pd.DataFrame | None = None) -> Chart:
    table = submissions_table(view, issues)
    table = table[table["目录指标"] > 0]
    return Chart(
        kind="stacked",
        title=chart_title(view, "各单位指标填报情况"),
        labels=tuple(table["填报单位"]),
        series=(
            ("已填报", tuple(float(x) for x in table["目录指标"] - table["未填报指标"])),
            ("未填报", tuple(float(x) for x in table["未填报指标"])),
        ),
        unit="项",
        tones=REPORTED_TONES,
    )


def severity_table(issues: pd.DataFrame) -> pd.DataFrame:
    counts = issues["severity"].value_counts()
    return pd.DataFrame([{"级别": zh, "问题数": int(counts.get(s, 0))} for s, zh in SEVERITY_ZH.items()])


def code_table(issues: pd.DataFrame) -> pd.DataFrame:
    """Issue counts per code, most severe first, with the Chinese title of each code (the code itself last:
    readers go by the title, the code is for looking it up in docs/issue-codes.md)."""
    counts = issues["code"].value_counts()
    rows = [
        {
            "级别": SEVERITY_ZH[CODES[c][0]],
            "含义": CODES[c][1],
            "问题数": int(n),
            "代码": c,
            "_o": severity_rank(CODES[c][0]),
        }
        for c, n in counts.items()
        if c in CODES
    ]
    if not rows:
        return pd.DataFrame(columns=["级别", "含义", "问题数", "代码"])
    table = pd.DataFrame(rows).sort_values(["_o", "问题数", "代码"], ascending=[True, False, True])
    return table.drop(columns="_o").reset_index(drop=True)


def issues_chart(view: View, issues: pd.DataFrame) -> Chart:
    """Issue counts per kind of problem (its Chinese title), coloured by severity (one series per severity)."""
    table = code_table(issues)
    labels = tuple(table["含义"])
    series = tuple(
        (
            zh,
            tuple(
                float(n) if lv == zh else 0.0 for lv, n in zip(table["级别"], table["问题数"], strict=True)
            ),
        )
        for zh in SEVERITY_ZH.values()
        if (table["级别"] == zh).any()
    )
    note = "" if len(table) else "本年度未记录数据问题。"
    return Chart(
        kind="stacked",
        title=chart_title(view, "数据问题（按问题种类）"),
        labels=labels,
        series=series,
        unit="条",
        note=note,
        tones=tuple(SEVERITY_TONE[name] for name, _ in series),
    )


def issue_list(issues: pd.DataFrame, severities: tuple[str, ...] = SEVERITIES[:2]) -> pd.DataFrame:
    """The issues to read, in Chinese column names (text exactly as recorded: escape when displaying)."""
    shown = issues[issues["severity"].isin(severities)]
    table = pd.DataFrame(
        {
            "级别": shown["severity"].map(SEVERITY_ZH),
            "填报单位": shown["department"],
            "文件": shown["file"],
            "工作表": shown["sheet"],
            "单元格": shown["cell"],
            "说明": shown["message"],
            "代码": shown["code"],
        }
    )
    return table.reset_index(drop=True)


def identity_table(view: View) -> pd.DataFrame:
    """Every identity of the catalog on this year's figures: both sides, the gap (right − left), the
    verdict and what was compared; the same verdict ingest writes to the issue list
    (:meth:`analysis.core.catalog.Catalog.check`)."""
    names_zh = {i: ind.name_zh for i, ind in view.catalog.indicators.items()}
    rows = []
    for x in view.catalog.identities:
        verdict = view.catalog.check(x, view.current)
        shown = verdict.checked
        rows.append(
            {
                "检查": x.title_zh,
                "左边": format_number(verdict.lhs, 2) if shown else "—",  # type: ignore[arg-type]
                "右边": format_number(verdict.rhs, 2) if shown else "—",  # type: ignore[arg-type]
                "差额": format_number(round(verdict.gap, 6), 2) if shown else "—",  # type: ignore[arg-type]
                "结果": verdict.result_zh(names_zh),
                "说明": verdict.fact() or "—",
            }
        )
    for x in view.catalog.not_evaluated:  # said once: its figures are not all in this year's catalog
        names = "、".join(view.catalog.edition.indicators[n].name_zh for n in x.absent)
        why = f"{names}不在{view.year}年的指标目录中，本年度不检查"
        rows.append(
            {"检查": x.title_zh, "左边": "—", "右边": "—", "差额": "—", "结果": "不适用", "说明": why}
        )
    return pd.DataFrame(rows)


def open_checks(view: View) -> list[str]:
    """One Chinese line per identity that does not hold this year (e.g. the power list's unexplained gap),
    with the request to the departments: a check to resolve, kept out of the paste-ready sentences."""
    lines = []
    for x in view.catalog.identities:
        verdict = view.catalog.check(x, view.current)
        if verdict.holds is not False:
            continue
        try:
            detail = balance_note(view, balance(view, x.id))
        except ValueError:  # not a "start ± steps = end" balance
            detail = f"{verdict.fact()}。"
        lines.append(f"{x.title_zh}：{detail}请填报单位核实并说明。")
    return lines
