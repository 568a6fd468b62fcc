"""The print figures of the draft's annex (附件：<年度>年度法治政府建设主要数据图表), drawn from the data.

Figures made for paper, not the screen's: each drawn at the annex's text width with no title inside (its
caption, distinct for every figure, is the title), text at least 9 pt as printed, under ~10 cm high so two
share a page. Only figures that compare several values: a lone number is a sentence or a table row, never
a card; a reconciliation gap is never drawn (it goes to the note for the writer); a figure is left out
when none of its values was reported. With an earlier year in the table, one figure of the key figures'
trend (the figures :func:`~analysis.explore.selection.over_years` allows).
"""

from __future__ import annotations

from collections.abc import Callable

from analysis.draft.plan import Figure
from analysis.explore import charts, sentences
from analysis.explore.chartspec import Chart, missing_note
from analysis.explore.selection import View, over_years
from analysis.explore.static_figures import print_png

WIDTH_MM = 150  # the A4 text block is 156 mm wide
MAX_HEIGHT_MM = {"parts": 70, "trend": 95}  # by kind; others 90 mm: two figures share a page
TREND_PANELS = 6

# (what the figure shows: its caption after 图N and the year, how it is drawn from the view)
FIGURES: tuple[tuple[str, Callable[[View, str], Chart]], ...] = (
    (
        "进驻政务服务中心的部门",
        lambda v, w: charts.parts(
            v,
            ["functions.service_center_admin_depts", "functions.service_center_enterprise_depts"],
            w,
            "derived.service_center_depts",
        ),
    ),
    (
        "证明事项清理结果（保留与取消）",
        lambda v, w: charts.parts(
            v,
            ["functions.certificates_kept", "functions.certificates_cancelled"],
            w,
            "derived.certificates_reviewed",
        ),
    ),
    (
        "重点领域政府信息公开条数",
        lambda v, w: charts.bar(
            v, ["disclosure.poverty_items", "disclosure.environment_items", "disclosure.welfare_items"], w
        ),
    ),
    (
        "行政复议申请的受理与审结",
        lambda v, w: charts.funnel(
            v,
            [
                "disputes.reconsideration_received",
                "disputes.reconsideration_accepted",
                "disputes.reconsideration_concluded",
            ],
            w,
        ),
    ),
    (
        "公共法律服务实体平台（县、乡镇、村三级）",
        lambda v, w: charts.bar(
            v,
            [
                "disputes.legal_service_centers",
                "disputes.legal_service_stations",
                "disputes.legal_service_rooms",
            ],
            w,
        ),
    ),
    (
        "矛盾纠纷调解与调解成功件数",
        lambda v, w: charts.funnel(v, ["disputes.mediation_cases", "disputes.mediation_success"], w),
    ),
)
PRINTABLE = ("bar", "stacked", "rates", "parts", "funnel", "trend")  # never tiles (cards) nor a waterfall


def printable(view: View, chart: Chart, ids: list[str] | None = None) -> bool:
    """Whether ``chart`` belongs on paper: several values to compare, none of them a check figure."""
    if chart.kind not in PRINTABLE or chart.empty:
        return False
    if chart.kind == "trend":
        return bool(chart.series)
    return len(chart.values) >= 2 and all(over_years(view, i) for i in ids or [])


def trend_ids(view: View) -> list[str]:
    """Key figures reported in at least two of the region's years (never a check figure or a qualified
    value: the same rule as the year-on-year clause), at most :data:`TREND_PANELS`."""
    chosen = []
    for iid in sentences.key_figures():
        known = [y for y in view.years if view.get(iid, y) is not None and not view.qualifier(iid, y)]
        if over_years(view, iid) and len(known) >= 2 and view.get(iid) is not None:
            chosen.append(iid)
    return chosen[:TREND_PANELS]


def print_figures(view: View) -> list[Figure]:
    """The annex's figures of ``view``, numbered in order, each with its caption and what it leaves out."""
    made: list[tuple[str, Chart]] = []
    for what, build in FIGURES:
        chart = build(view, what)
        if printable(view, chart):
            made.append((what, chart))
    ids = trend_ids(view)
    if len(view.years) >= 2 and ids:
        first = view.years[0]
        what = f"主要指标{first}—{view.year}年变化"
        chart = charts.trend(view, ids, what)
        if printable(view, chart):
            made.append((what, chart))
    out = []
    for number, (what, chart) in enumerate(made, start=1):
        caption = f"图{number} {what}" if chart.kind == "trend" else f"图{number} {view.year}年{what}"
        note = "；".join(x for x in (chart.note, missing_note(chart)) if x)
        png = print_png(chart, WIDTH_MM, MAX_HEIGHT_MM.get(chart.kind, 90))
        out.append(Figure(number, png, caption, note))
    return out
