"""What each notebook section shows, prepared from the tidy table (no drawing, no display).

:func:`select` cuts the table down to one region and year (:class:`View`) and remembers the region's
other years, so that year-over-year columns and trend charts appear by themselves when they exist. Every
function here returns a DataFrame for display or a :class:`analysis.figures.Chart`; an indicator not
reported shows ``未填报`` and is left out of charts (named under them), never treated as zero.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.catalog import Catalog, Indicator, load_catalog
from analysis.catalog import format_number as catalog_format_number
from analysis.figures import Chart
from analysis.problems import CODES, SEVERITY_ZH

MISSING = "未填报"
SEVERITY_TONE = {"错误": "gap", "警告": "down", "提示": "muted"}  # the same colour whichever are present
REPORTED_TONES = ("main", "light")  # 已填报 / 未填报


# --- formatting ----------------------------------------------------------------------------------------


def format_number(value: float, digits: int | None = None) -> str:
    """``2705.0`` → ``2705``; ``6.7903`` → ``6.79``; ``98.1`` → ``98.1`` (no thousands separators, as the
    report writes them)."""
    return catalog_format_number(value, 2 if digits is None else digits)


def format_value(value: float | None, unit: str, qualifier: str = "", digits: int | None = None) -> str:
    """``(500, 本, 余)`` → ``500余本``; ``(98.1, %)`` → ``98.1%``; ``None`` → ``未填报``."""
    if value is None:
        return MISSING
    return f"{format_number(value, digits)}{qualifier}{unit}"


def growth_rate(current: float, previous: float) -> float | None:
    """Percentage change, or None when it means nothing (previous zero or negative, e.g. a gap of −51)."""
    return (current - previous) / previous * 100 if previous > 0 else None


def format_change(current: float, previous: float, unit: str, digits: int | None = None) -> str:
    """``+136件（+2.1%）``; percentages change in percentage points; no rate from a base of zero or less."""
    delta = current - previous
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    amount = format_number(abs(delta), digits)
    if unit == "%":
        return f"{sign}{amount}个百分点"
    rate = growth_rate(current, previous)
    if rate is not None:
        return f"{sign}{amount}{unit}（{sign}{format_number(abs(rate), 1)}%）"
    return f"{sign}{amount}{unit}"


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
        # catalog formula when all its inputs were reported.
        ind = self.catalog.indicators.get(indicator_id)
        if ind is None or ind.formula is None:
            return None
        try:
            values = {name: float(rows[name]["value"]) for name in ind.formula.names}
            result = ind.formula.evaluate(values)
        except (KeyError, ZeroDivisionError):
            return None
        if not math.isfinite(result):
            return None
        return round(result, ind.digits) if ind.digits is not None else result

    def qualifier(self, indicator_id: str, year: int | None = None) -> str:
        rows = self.current if year is None or year == self.year else self.history.get(year, {})
        row = rows.get(indicator_id)
        return str(row["qualifier"]) if row is not None and row["qualifier"] else ""

    def text(self, indicator_id: str, year: int | None = None) -> str:
        """The value as written in the report (``2705项``, ``500余本``) or ``未填报``."""
        ind = self.indicator(indicator_id)
        return format_value(
            self.get(indicator_id, year), ind.unit, self.qualifier(indicator_id, year), ind.digits
        )

    def reported(self, indicator_ids: list[str]) -> list[str]:
        return [i for i in indicator_ids if self.get(i) is not None]

    def missing(self, indicator_ids: list[str]) -> list[str]:
        return [i for i in indicator_ids if self.get(i) is None]


def select(frame: pd.DataFrame, region: str, year: int, catalog: Catalog | None = None) -> View:
    """The :class:`View` of ``region`` and ``year`` (an empty one when the table has no such rows)."""
    catalog = catalog or load_catalog()
    mine = frame[frame["region"] == region]
    history: dict[int, dict[str, dict]] = {}
    for row in mine.to_dict("records"):
        history.setdefault(int(row["year"]), {})[row["indicator_id"]] = row
    return View(region, int(year), catalog, frame, history.get(int(year), {}), history)


def topic_ids(view: View, topic: str) -> list[str]:
    """Indicator ids of a topic in catalog order (reported ones first, then derived)."""
    return [i.indicator_id for i in view.catalog.for_topic(topic)]


def topic_title(view: View, topic: str) -> str:
    return str(view.catalog.topics[topic]["title_zh"])


# --- tables --------------------------------------------------------------------------------------------


def _source(row: dict | None, ind: Indicator) -> str:
    if row is None:
        return f"计算：{ind.description}" if ind.derived else ""
    if ind.derived:
        return str(row.get("note") or f"计算：{ind.description}")
    parts = [str(row.get(k) or "") for k in ("source_file", "sheet", "cell")]
    return " · ".join(p for p in parts if p)


def indicator_table(view: View, indicator_ids: list[str]) -> pd.DataFrame:
    """One row per indicator: value as written (or 未填报), department and source; with 上年 and 同比变化
    columns when the region has an earlier year in the table."""
    prev = view.previous_year
    rows = []
    for iid in indicator_ids:
        ind = view.indicator(iid)
        row = view.current.get(iid)
        record = {
            "指标": ind.name_zh,
            "数值": view.text(iid),
            "填报单位": (str(row["department"]) if row is not None else ind.department)
            or ("（计算）" if ind.derived else ""),
            "来源": _source(row, ind),
        }
        if prev is not None:
            now, before = view.get(iid), view.get(iid, prev)
            record[f"{prev}年"] = view.text(iid, prev)
            record["同比变化"] = (
                format_change(now, before, ind.unit, ind.digits)
                if now is not None and before is not None
                else "—"
            )
        rows.append(record)
    return pd.DataFrame(rows)


def coverage_table(view: View) -> pd.DataFrame:
    """Per topic: how many catalog indicators were reported this year."""
    rows = []
    for topic in view.catalog.topics:
        ids = [i.indicator_id for i in view.catalog.for_topic(topic) if not i.derived]
        done = len(view.reported(ids))
        rows.append(
            {
                "专题": topic_title(view, topic),
                "已填报": done,
                "未填报": len(ids) - done,
                "目录指标": len(ids),
            }
        )
    return pd.DataFrame(rows)


def region_table(view: View, indicator_ids: list[str]) -> pd.DataFrame:
    """The same indicators for every region of the year (one column per region); empty with one region."""
    regions = view.regions
    if len(regions) < 2:
        return pd.DataFrame()
    others = {r: select(view.frame, r, view.year, view.catalog) for r in regions}
    return pd.DataFrame(
        [
            {"指标": view.indicator(i).name_zh, **{r: v.text(i) for r, v in others.items()}}
            for i in indicator_ids
        ]
    )


# --- charts --------------------------------------------------------------------------------------------


def _title(view: View, what: str) -> str:
    return f"{view.region}{view.year}年{what}"


def _names(view: View, ids: list[str]) -> tuple[str, ...]:
    return tuple(view.indicator(i).name_zh for i in ids)


def _simple(view: View, kind: str, ids: list[str], what: str, note: str = "") -> Chart:
    shown = view.reported(ids)
    units = {view.indicator(i).unit for i in shown}
    return Chart(
        kind=kind,
        title=_title(view, what),
        labels=_names(view, shown),
        values=tuple(view.get(i) for i in shown),
        texts=tuple(view.text(i) for i in shown),
        unit=units.pop() if len(units) == 1 else "",
        missing=_names(view, view.missing(ids)),
        note=note,
    )


def bar(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Horizontal bars of the reported ones among ``ids``, each labelled with its value and unit."""
    return _simple(view, "bar", ids, what, note)


def rates(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Percentages on a 0–100 scale."""
    for i in ids:
        if view.indicator(i).unit != "%":
            raise ValueError(f"{i} is not a percentage")
    return _simple(view, "rates", ids, what, note)


def tiles(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Key-figure cards: one per reported indicator, whatever the units."""
    return _simple(view, "tiles", ids, what, note)


def parts(view: View, ids: list[str], what: str, total_id: str | None = None) -> Chart:
    """Parts of a whole (a donut); all of ``ids`` must share a unit. The note states the total."""
    chart = _simple(view, "parts", ids, what)
    note = total_note(view, total_id) if total_id and not chart.missing else ""  # a partial sum is no total
    return Chart(**{**chart.__dict__, "note": note})


def total_note(view: View, total_id: str) -> str:
    """``公共法律服务实体平台合计：322个。``, or "" when the total is not known."""
    if view.get(total_id) is None:
        return ""
    return f"{view.indicator(total_id).name_zh}：{view.text(total_id)}。"


def funnel(view: View, ids: list[str], what: str) -> Chart:
    """Successive stages (received → accepted → concluded); each stage shows its share of the first."""
    chart = _simple(view, "funnel", ids, what)
    if not chart.values:
        return chart
    first = chart.values[0]
    texts = tuple(
        t if k == 0 or not first else f"{t}（{format_number(v / first * 100, 1)}%）"
        for k, (v, t) in enumerate(zip(chart.values, chart.texts, strict=True))
    )
    return Chart(**{**chart.__dict__, "texts": texts})


def _signed_terms(source: str) -> list[tuple[int, str]]:
    """``a - b + c`` → [(+1, a), (-1, b), (+1, c)]; only sums and differences of ids qualify."""

    def walk(node: ast.AST, sign: int) -> list[tuple[int, str]]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            right = sign if isinstance(node.op, ast.Add) else -sign
            return walk(node.left, sign) + walk(node.right, right)
        if isinstance(node, ast.Attribute | ast.Name):
            return [(sign, ast.unparse(node))]
        raise ValueError(f"not a sum of indicators: {source}")

    return walk(ast.parse(source, mode="eval").body, 1)


@dataclass(frozen=True)
class Balance:
    """An ``equal`` identity of the catalog, evaluated: start, signed steps, the end as reported, the gap."""

    start: str
    steps: tuple[tuple[int, str], ...]
    end: str
    expected: float | None  # start ± steps, None when a term is missing
    reported_end: float | None
    gap: float | None  # reported end − expected


def balance(view: View, identity_id: str) -> Balance:
    """Evaluate the catalog identity ``identity_id`` (lhs a sum of indicators, rhs one indicator)."""
    identity = next(x for x in view.catalog.identities if x.id == identity_id)
    terms = _signed_terms(identity.lhs.source)
    (sign0, start), steps = terms[0], tuple(terms[1:])
    if sign0 != 1 or len(identity.rhs.names) != 1:
        raise ValueError(f"identity {identity_id} is not 'start ± steps = end'")
    end = identity.rhs.names[0]
    values = [view.get(t) for _, t in terms]
    expected = None if None in values else sum(s * v for (s, _), v in zip(terms, values, strict=True))
    reported_end = view.get(end)
    gap = reported_end - expected if expected is not None and reported_end is not None else None
    return Balance(start, steps, end, expected, reported_end, gap)


def waterfall(view: View, identity_id: str, what: str, gap_label: str = "未说明的增减") -> Chart:
    """Waterfall of a balance identity: start, each signed step, the unexplained gap (highlighted, even
    when zero it is shown as 0), and the end as reported. Missing steps are left out and named."""
    b = balance(view, identity_id)
    ind = view.indicator(b.end)
    labels, values, texts, measures = [], [], [], []
    start = view.get(b.start)
    if start is None or b.reported_end is None:
        names = [view.indicator(i).name_zh for i in (b.start, b.end) if view.get(i) is None]
        return Chart(kind="waterfall", title=_title(view, what), missing=tuple(names))
    labels.append(view.indicator(b.start).name_zh)
    values.append(start)
    texts.append(view.text(b.start))
    measures.append("absolute")
    for sign, iid in b.steps:
        value = view.get(iid)
        if value is None:
            continue
        labels.append(view.indicator(iid).name_zh)
        values.append(sign * value)
        texts.append(("−" if sign < 0 else "+") + view.text(iid))
        measures.append("relative")
    highlight: tuple[int, ...] = ()
    if b.gap is not None:
        labels.append(gap_label)
        values.append(b.gap)
        texts.append(("−" if b.gap < 0 else "+") + format_value(abs(b.gap), ind.unit))
        measures.append("relative")
        highlight = (len(values) - 1,)
    labels.append(ind.name_zh)
    values.append(b.reported_end)
    texts.append(view.text(b.end))
    measures.append("total" if b.gap is not None else "absolute")
    missing = tuple(view.indicator(i).name_zh for _, i in b.steps if view.get(i) is None)
    note = balance_note(view, b)
    return Chart(
        kind="waterfall",
        title=_title(view, what),
        labels=tuple(labels),
        values=tuple(values),
        texts=tuple(texts),
        unit=ind.unit,
        measures=tuple(measures),
        highlight=highlight,
        missing=missing,
        note=note,
    )


def balance_note(view: View, b: Balance) -> str:
    """One sentence on whether the balance holds, naming the gap."""
    unit = view.indicator(b.end).unit
    if b.gap is None:
        return "缺少数据，无法核对增减是否平衡。"
    if abs(b.gap) < 1e-9:
        return f"按各项增减计算为{format_value(b.expected, unit)}，与报告数一致。"
    direction = "少" if b.gap < 0 else "多"
    return (
        f"按各项增减计算应为{format_value(b.expected, unit)}，报告数为{format_value(b.reported_end, unit)}，"
        f"{direction}{format_value(abs(b.gap), unit)}，差额未作说明。"
    )


def trend(view: View, ids: list[str], what: str = "历年变化") -> Chart:
    """Small multiples over the region's years, one per indicator reported in at least two years; empty
    (with a note) when the table has one year only."""
    years = view.years
    series, units = [], []
    for iid in ids:
        values = tuple(view.get(iid, y) for y in years)
        if sum(v is not None for v in values) >= 2:
            series.append((view.indicator(iid).name_zh, values))
            units.append(view.indicator(iid).unit)
    note = "" if series else "数据表中只有一个年度的数据（或各指标均只有一个年度），暂无历年变化。"
    first = years[0] if years else view.year
    span = f"{first}—{view.year}" if first != view.year else str(view.year)
    return Chart(
        kind="trend",
        title=f"{view.region}{span}年{what}",
        labels=tuple(str(y) for y in years) if series else (),
        series=tuple(series),
        series_units=tuple(units),
        note=note,
    )


def coverage_chart(view: View) -> Chart:
    """Reported vs not reported indicators per topic (stacked bars)."""
    table = coverage_table(view)
    return Chart(
        kind="stacked",
        title=_title(view, "各专题指标填报情况"),
        labels=tuple(table["专题"]),
        series=(
            ("已填报", tuple(float(x) for x in table["已填报"])),
            ("未填报", tuple(float(x) for x in table["未填报"])),
        ),
        unit="项",
        tones=REPORTED_TONES,
    )


# --- data quality --------------------------------------------------------------------------------------


def issues_of(issues: pd.DataFrame, region: str, year: int) -> pd.DataFrame:
    """Issues of this region and year, plus those that belong to no region (e.g. a skipped file)."""
    years = pd.to_numeric(issues["year"], errors="coerce")
    mine = (issues["region"] == region) & (years == year)
    unplaced = (issues["region"].fillna("") == "") | ((issues["region"] == region) & years.isna())
    return issues[mine | unplaced].reset_index(drop=True)


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
        title=_title(view, "各单位指标填报情况"),
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
    """Issue counts per code, most severe first, with the Chinese title of each code."""
    counts = issues["code"].value_counts()
    order = {s: k for k, s in enumerate(SEVERITY_ZH)}
    rows = [
        {
            "级别": SEVERITY_ZH[CODES[c][0]],
            "代码": c,
            "含义": CODES[c][1],
            "问题数": int(n),
            "_o": order[CODES[c][0]],
        }
        for c, n in counts.items()
        if c in CODES
    ]
    if not rows:
        return pd.DataFrame(columns=["级别", "代码", "含义", "问题数"])
    table = pd.DataFrame(rows).sort_values(["_o", "问题数", "代码"], ascending=[True, False, True])
    return table.drop(columns="_o").reset_index(drop=True)


def issues_chart(view: View, issues: pd.DataFrame) -> Chart:
    """Issue counts per code, coloured by severity (one series per severity)."""
    table = code_table(issues)
    labels = tuple(f"{t}（{c}）" for t, c in zip(table["含义"], table["代码"], strict=True))
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
        title=_title(view, "数据问题（按问题代码）"),
        labels=labels,
        series=series,
        unit="条",
        note=note,
        tones=tuple(SEVERITY_TONE[name] for name, _ in series),
    )


def issue_list(issues: pd.DataFrame, severities: tuple[str, ...] = ("error", "warning")) -> pd.DataFrame:
    """The issues to read, in Chinese column names (text exactly as recorded: escape when displaying)."""
    shown = issues[issues["severity"].isin(severities)]
    table = pd.DataFrame(
        {
            "级别": shown["severity"].map(SEVERITY_ZH),
            "代码": shown["code"],
            "填报单位": shown["department"],
            "文件": shown["file"],
            "工作表": shown["sheet"],
            "单元格": shown["cell"],
            "说明": shown["message"],
        }
    )
    return table.reset_index(drop=True)


def identity_table(view: View) -> pd.DataFrame:
    """Every identity of the catalog on this year's figures: both sides, the gap and the verdict."""
    rows = []
    values = {i: v for i in view.catalog.indicators if (v := view.get(i)) is not None}
    for x in view.catalog.identities:
        try:
            lhs, rhs = x.lhs.evaluate(values), x.rhs.evaluate(values)
        except KeyError:
            lacking = [view.indicator(n).name_zh for n in (*x.lhs.names, *x.rhs.names) if n not in values]
            rows.append(
                {
                    "检查": x.title_zh,
                    "左边": "—",
                    "右边": "—",
                    "差额": "—",
                    "结果": f"未检查（{MISSING}：{'、'.join(dict.fromkeys(lacking))}）",
                }
            )
            continue
        except ZeroDivisionError:
            rows.append(
                {"检查": x.title_zh, "左边": "—", "右边": "—", "差额": "—", "结果": "未检查（除数为零）"}
            )
            continue
        ok = abs(lhs - rhs) <= x.tolerance if x.kind == "equal" else lhs <= rhs + x.tolerance
        rows.append(
            {
                "检查": x.title_zh,
                "左边": format_number(lhs),
                "右边": format_number(rhs),
                "差额": format_number(round(rhs - lhs, 6)),
                "结果": "成立" if ok else "不成立",
            }
        )
    return pd.DataFrame(rows)
