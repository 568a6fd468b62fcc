"""Chart specifications (:class:`analysis.explore.chartspec.Chart`) built from a :class:`View`.

Every function returns a chart spec, not a drawing; missing indicators are left out and named under the
chart, never drawn as zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.explore.chartspec import Chart
from analysis.explore.selection import View, format_number, format_value, over_years
from analysis.explore.tables import coverage_table

REPORTED_TONES = ("main", "light")  # 已填报 / 未填报


# --- charts --------------------------------------------------------------------------------------------


def chart_title(view: View, what: str) -> str:
    return f"{view.region}{view.year}年{what}"


def _names(view: View, ids: list[str]) -> tuple[str, ...]:
    return tuple(view.indicator(i).name_zh for i in ids)


def _simple(view: View, kind: str, ids: list[str], what: str, note: str = "") -> Chart:
    ids = view.ids(ids)  # only what is in the year's catalog
    shown = view.reported(ids)
    units = {view.indicator(i).unit for i in shown}
    return Chart(
        kind=kind,
        title=chart_title(view, what),
        labels=_names(view, shown),
        values=tuple(view.get(i) for i in shown),
        texts=tuple(view.text(i) for i in shown),
        unit=units.pop() if len(units) == 1 else "",
        missing=_names(view, view.missing(ids)),
        note=note,
    )


MIXED_UNITS_NOTE = "各项单位不同（{units}），不在同一坐标轴上比较，以卡片列出。"


def bar(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Horizontal bars of the reported ones among ``ids``, each labelled with its value and unit. One unit
    per axis: when the reported ones have different units (项 beside 个), they are cards instead."""
    chart = _simple(view, "bar", ids, what, note)
    units = list(dict.fromkeys(view.indicator(i).unit for i in view.reported(view.ids(ids))))
    if len(units) > 1:
        mixed = MIXED_UNITS_NOTE.format(units="、".join(units))
        return Chart(**{**chart.__dict__, "kind": "tiles", "note": " ".join(x for x in (mixed, note) if x)})
    return chart


def rates(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Percentages on a 0–100 scale; a lone percentage is a figure card, not a single bar."""
    for i in view.ids(ids):
        if view.indicator(i).unit != "%":
            raise ValueError(f"{i} is not a percentage")
    chart = _simple(view, "rates", ids, what, note)
    return Chart(**{**chart.__dict__, "kind": "tiles"}) if len(chart.values) == 1 else chart


def tiles(view: View, ids: list[str], what: str, note: str = "") -> Chart:
    """Key-figure cards: one per reported indicator, whatever the units."""
    return _simple(view, "tiles", ids, what, note)


def parts(view: View, ids: list[str], what: str, total_id: str | None = None) -> Chart:
    """Parts of a whole (a donut); all of ``ids`` must share a unit. The note states the total."""
    chart = _simple(view, "parts", ids, what)
    note = total_note(view, total_id) if total_id and not chart.missing else ""  # a partial sum is no total
    return Chart(**{**chart.__dict__, "texts": _with_shares(chart), "note": note})


SHARE_DIGITS = 1  # every share of a donut with the same precision: 27.0% / 66.6% / 6.4%


def _with_shares(chart: Chart) -> tuple[str, ...]:
    """``470条（27.0%）``: each part's text with its share of the whole, all to :data:`SHARE_DIGITS`."""
    total = sum(chart.values)
    if not total:
        return chart.texts
    return tuple(
        f"{t}（{v / total * 100:.{SHARE_DIGITS}f}%）" for v, t in zip(chart.values, chart.texts, strict=True)
    )


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
    """Evaluate the catalog identity ``identity_id`` (lhs a sum of indicators, rhs one indicator) with the
    one evaluator ingest uses (:meth:`analysis.core.catalog.Catalog.check`)."""
    identity = next(x for x in view.catalog.identities if x.id == identity_id)
    terms = identity.lhs.signed_terms()
    (sign0, start), steps = terms[0], tuple(terms[1:])
    if sign0 != 1 or not identity.rhs.is_name:
        raise ValueError(f"identity {identity_id} is not 'start ± steps = end'")
    end = identity.rhs.names[0]
    values = {n: v for _, n in terms if (v := view.get(n)) is not None}
    expected = identity.lhs.evaluate(values) if len(values) == len(terms) else None
    return Balance(start, steps, end, expected, view.get(end), view.catalog.check(identity, view.current).gap)


def waterfall(view: View, identity_id: str, what: str, gap_label: str = "未说明的增减") -> Chart:
    """Waterfall of a balance identity: start, each signed step, the unexplained gap (highlighted, even
    when zero it is shown as 0), and the end as reported. Missing steps are left out and named."""
    if identity_id not in {x.id for x in view.catalog.identities}:  # not checked in this year's catalog
        return Chart(kind="waterfall", title=chart_title(view, what), note=not_this_year(view, identity_id))
    b = balance(view, identity_id)
    ind = view.indicator(b.end)
    labels, values, texts, measures = [], [], [], []
    start = view.get(b.start)
    if start is None or b.reported_end is None:
        names = [view.indicator(i).name_zh for i in (b.start, b.end) if view.get(i) is None]
        return Chart(kind="waterfall", title=chart_title(view, what), missing=tuple(names))
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
        title=chart_title(view, what),
        labels=tuple(labels),
        values=tuple(values),
        texts=tuple(texts),
        unit=ind.unit,
        measures=tuple(measures),
        highlight=highlight,
        missing=missing,
        note=note,
    )


def not_this_year(view: View, identity_id: str) -> str:
    """Why an identity of the edition is not checked in the view's year (its figures or itself not valid)."""
    edition = view.catalog.edition
    title = next((x.title_zh for x in edition.identities if x.id == identity_id), identity_id)
    return f"{view.year}年的指标目录中不检查“{title}”（所需指标或该项检查不在本年度的目录中）。"


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
    series, units, single, never, notes = [], [], [], [], []
    checks = [view.indicator(i).name_zh for i in view.ids(ids) if not over_years(view, i)]
    for iid in (i for i in view.ids(ids) if over_years(view, i)):  # a rename is one series, converted
        values = tuple(view.earlier(iid, y) for y in years)
        notes.append(view.footnote(iid, years))
        known = [y for y, v in zip(years, values, strict=True) if v is not None]
        name = view.indicator(iid).name_zh
        if len(known) >= 2:
            series.append((name, values))
            units.append(view.indicator(iid).unit)
        elif known:
            single.append(f"{name}（仅{known[0]}年）")
        else:
            never.append(name)
    if len(years) < 2:
        note = "数据表中只有一个年度的数据，暂无历年变化。"
    else:
        left_out = [
            f"只有一个年度填报、无法比较，未作图：{'、'.join(single)}。" if single else "",
            f"各年度均未填报：{'、'.join(never)}。" if never else "",
            f"核对项不作历年比较：{'、'.join(checks)}。" if checks else "",
        ]
        note = "".join(left_out)
    note += "".join(f"注：{n}。" for n in dict.fromkeys(notes) if n)
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
        title=chart_title(view, "各专题指标填报情况"),
        labels=tuple(table["专题"]),
        series=(
            ("已填报", tuple(float(x) for x in table["已填报"])),
            ("未填报", tuple(float(x) for x in table["未填报"])),
        ),
        unit="项",
        tones=REPORTED_TONES,
    )
