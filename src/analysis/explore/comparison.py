"""Regions side by side for one year (the 地区对比 page): key figures, identity checks, completeness per
region and department, and one table an analyst can sort.

Every region of the year gets a :class:`View`; an indicator a region did not report is 未填报 (named under
the chart, shown as 未填报 in the tables), never 0. Charts have one unit per axis and are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML

from analysis.core import catalog_diff
from analysis.core.catalog import Catalog, load_catalog
from analysis.core.formatting import MISSING, format_value, number_zh
from analysis.core.names import REGIONS
from analysis.explore import nb, quality, selection, sentences
from analysis.explore.charts import REPORTED_TONES, balance
from analysis.explore.chartspec import Chart
from analysis.explore.selection import View

NOTEBOOK = "地区对比"
SORTABLE_CLASSES = "fazhi-table fazhi-sortable fazhi-pinned"  # pinned: report.css keeps 地区 in view
POWER_BALANCE = "power_list_balance"


@dataclass
class Comparison:
    """What the cells of the comparison notebook share (also what :func:`nb.show_chart` needs)."""

    year: int
    output_dir: Path
    catalog: Catalog
    views: dict[str, View]  # region -> its view of the year, regions in name order
    issues: dict[str, pd.DataFrame] = field(default_factory=dict)  # region -> its issues of the year
    notebook: str = NOTEBOOK
    figures_dir: Path = Path(".")  # as for every notebook: a run stage's figures/, else a scratch folder
    scratch: bool = True

    @property
    def regions(self) -> list[str]:
        return list(self.views)


def compare(
    indicators: pd.DataFrame,
    issues: pd.DataFrame,
    year: int,
    output_dir: str | Path = "",
    catalog: Catalog | None = None,
) -> Comparison:
    """The :class:`Comparison` of every region with data in ``year``."""
    catalog = (catalog or load_catalog()).for_year(int(year))  # what is in that year's catalog
    figures_dir, scratch = nb.figures_folder(output_dir, REGIONS, int(year))
    years = pd.to_numeric(indicators["year"], errors="coerce")
    regions = sorted({str(r) for r in indicators.loc[years == int(year), "region"]})
    return Comparison(
        year=int(year),
        output_dir=Path(output_dir),
        catalog=catalog,
        views={r: selection.select(indicators, r, int(year), catalog) for r in regions},
        issues={r: quality.issues_of(issues, r, int(year)) for r in regions},
        figures_dir=figures_dir,
        scratch=scratch,
    )


def setup(
    year: int | str,
    processed_dir: str | Path,
    output_dir: str | Path,
    *,
    indicators: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
) -> Comparison:
    """Read the processed tables and the catalog ingest used (or use the given ones), set plotly's
    renderer and show a header line."""
    from analysis.core import store

    if isinstance(year, bool) or not str(year).strip().isdigit():
        raise ValueError(f"年度必须是整数，收到 {year!r}")
    indicators = store.read_indicators(processed_dir) if indicators is None else indicators
    issues = store.read_issues(processed_dir) if issues is None else issues
    catalog = store.read_catalog(processed_dir) if catalog is None else catalog
    nb.configure_plotly(output_dir)
    cmp = compare(indicators, issues, int(year), output_dir, catalog)
    names = "、".join(cmp.regions) or "（无）"
    nb.show_note(f"年度：{cmp.year} · 地区：{names}（{len(cmp.regions)} 个）")
    changes = catalog_diff.year_changes(cmp.catalog, cmp.year)
    if changes:  # only an edition whose catalog changes in this year says anything
        nb.show_note(f"{cmp.year}年的指标目录与上年相比：" + "；".join(catalog_diff.lines(changes)) + "。")
    if len(cmp.regions) < 2:
        nb.show_note(f"数据表中{cmp.year}年只有{len(cmp.regions)}个地区，不足以比较。")
    return cmp


# --- key figures -----------------------------------------------------------------------------------------


def key_ids() -> list[str]:
    """The key figures of the 年度概览 (the reconciliation gaps are checks, compared in their own section)."""
    return sentences.key_figures()


def indicator_chart(cmp: Comparison, indicator_id: str) -> Chart:
    """One indicator for every region, largest first; regions that did not report it are named below."""
    ind = cmp.catalog.indicators[indicator_id]
    known = [(r, v.get(indicator_id), v.text(indicator_id)) for r, v in cmp.views.items()]
    shown = sorted((k for k in known if k[1] is not None), key=lambda k: (-k[1], k[0]))
    kind = "rates" if ind.unit == "%" else "bar"
    if len(shown) == 1:
        kind = "tiles"  # one region: a figure card, not a single bar
    return Chart(
        kind=kind,
        title=f"{cmp.year}年各地区{ind.name_zh}",
        labels=tuple(r for r, _, _ in shown),
        values=tuple(float(v) for _, v, _ in shown),
        texts=tuple(t for _, _, t in shown),
        unit=ind.unit,
        missing=tuple(r for r, v, _ in known if v is None),
        note=f"单位：{ind.unit}；按数值从高到低排列。" if len(shown) > 1 else "",
    )


def show_key_figures(cmp: Comparison) -> dict[str, go.Figure | str]:
    """For each key figure: a one-line Chinese explanation, then its chart (regions sorted). Returns what
    was shown for each, by indicator id: the plotly ``Figure``, or the note shown instead of an empty chart."""
    shown: dict[str, go.Figure | str] = {}
    current = cmp.catalog.lineage.series  # a key figure renamed since: its id of this year
    ids = [next((i for i in current(k) if i in cmp.catalog.indicators), None) for k in key_ids()]
    for k, iid in enumerate(i for i in ids if i is not None):
        ind = cmp.catalog.indicators[iid]
        topic = selection.topic_title(next(iter(cmp.views.values())), ind.topic) if cmp.views else ""
        nb.show_note(
            f"{topic}：{ind.name_zh}（单位：{ind.unit}）。各地区按数值从高到低排列，未填报的地区列在图下。"
        )
        shown[iid] = nb.show_chart(cmp, indicator_chart(cmp, iid), f"key_{k + 1:02d}")
    return shown


def topic_charts(cmp: Comparison) -> list[tuple[str, Chart]]:
    """One figure per topic of the key figures: small multiples side by side, one per indicator (its own
    unit and scale), every region one labelled row in name order; a region that did not report shows
    未填报 in its row, never 0. Readable at 2 regions and at 30."""
    view = next(iter(cmp.views.values()), None)
    topics: dict[str, list[str]] = {}
    for iid in key_ids():
        topics.setdefault(cmp.catalog.indicators[iid].topic, []).append(iid)
    charts = []
    for topic, ids in topics.items():
        inds = [cmp.catalog.indicators[i] for i in ids]
        title = selection.topic_title(view, topic) if view is not None else topic
        charts.append(
            (
                topic,
                Chart(
                    kind="panels",
                    title=f"{cmp.year}年各地区{title}",
                    labels=tuple(cmp.regions),
                    series=tuple(
                        (i.name_zh, tuple(v.get(i.indicator_id) for v in cmp.views.values())) for i in inds
                    ),
                    series_units=tuple(i.unit for i in inds),
                ),
            )
        )
    return charts


def show_topics(cmp: Comparison) -> dict[str, go.Figure | str]:
    """The key figures, one figure per topic (:func:`topic_charts`), then their print files in one folded
    list (:func:`nb.show_charts`); returns what was shown per topic id."""
    charts = topic_charts(cmp)
    shown = nb.show_charts(cmp, {f"topic_{k + 1:02d}": chart for k, (_, chart) in enumerate(charts)})
    return {topic: shown[f"topic_{k + 1:02d}"] for k, (topic, _) in enumerate(charts)}


# --- identity checks -------------------------------------------------------------------------------------


def checks_table(cmp: Comparison) -> pd.DataFrame:
    """Every identity of the catalog for every region: both sides, the gap, the verdict."""
    frames = [quality.identity_table(v).assign(地区=r) for r, v in cmp.views.items()]
    if not frames:
        return pd.DataFrame(columns=["地区", "检查", "左边", "右边", "差额", "结果"])
    table = pd.concat(frames, ignore_index=True)
    return table[["地区", *(c for c in table.columns if c != "地区")]]


def open_checks(cmp: Comparison) -> list[str]:
    """``杞县：权责清单增减平衡……少51项……`` for every identity that does not hold, region by region."""
    return [f"{r}：{line}" for r, v in cmp.views.items() for line in quality.open_checks(v)]


def balance_chart(cmp: Comparison, identity_id: str = POWER_BALANCE) -> Chart:
    """The unexplained gap of a balance identity per region (largest first, red when not zero); regions
    lacking a term are named below, never drawn as balanced."""
    gaps, lacking = [], []
    unit = ""
    if identity_id not in {x.id for x in cmp.catalog.identities}:  # not checked in this year's catalog
        title = next((x.title_zh for x in cmp.catalog.edition.identities if x.id == identity_id), identity_id)
        note = f"{cmp.year}年的指标目录中不检查“{title}”（所需指标或该项检查不在本年度的目录中）。"
        return Chart(kind="bar", title=f"{cmp.year}年各地区勾稽检查", note=note)
    for r, v in cmp.views.items():
        b = balance(v, identity_id)
        unit = v.indicator(b.end).unit
        if b.gap is None:
            lacking.append(r)
        else:
            gaps.append((r, b.gap))
    gaps.sort(key=lambda g: (-abs(g[1]), g[0]))
    title = next(x.title_zh for x in cmp.catalog.identities if x.id == identity_id).split("（")[0]
    return Chart(
        kind="bar",
        title=f"{cmp.year}年各地区{title}：未说明的差额",
        labels=tuple(r for r, _ in gaps),
        values=tuple(abs(g) for _, g in gaps),
        texts=tuple(("−" if g < 0 else "+" if g > 0 else "") + format_value(abs(g), unit) for _, g in gaps),
        unit=unit,
        highlight=tuple(k for k, (_, g) in enumerate(gaps) if abs(g) > 1e-9),
        missing=tuple(lacking),
        note=f"单位：{unit}；柱长为差额的绝对值，“−”表示报告数少于按各项增减计算的数，0 表示平衡。",
        dense=True,
    )


# --- completeness ----------------------------------------------------------------------------------------


def completeness_chart(cmp: Comparison) -> Chart:
    """Catalog indicators reported and not reported, per region (most complete first)."""
    expected = [i.indicator_id for i in cmp.catalog.reported]
    done = sorted(((r, len(v.reported(expected))) for r, v in cmp.views.items()), key=lambda d: (-d[1], d[0]))
    return Chart(
        kind="stacked",
        title=f"{cmp.year}年各地区指标填报情况",
        labels=tuple(r for r, _ in done),
        series=(
            ("已填报", tuple(float(n) for _, n in done)),
            ("未填报", tuple(float(len(expected) - n) for _, n in done)),
        ),
        unit="项",
        tones=REPORTED_TONES,
        dense=True,
    )


def completeness_table(cmp: Comparison) -> pd.DataFrame:
    """One row per department, one column per region: ``已填报/目录指标`` or 未收到."""
    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for r, v in cmp.views.items():
        table = quality.submissions_table(v, cmp.issues.get(r))
        for row in table.to_dict("records"):
            dept = str(row["填报单位"])
            if dept not in order:
                order.append(dept)
            received = row["报表"] == "已收到"
            cell = f"{row['已填报指标']}/{row['目录指标']}" if received else "未收到"
            columns.setdefault(r, {})[dept] = cell
    return pd.DataFrame(
        [{"填报单位": d, **{r: columns.get(r, {}).get(d, "未收到") for r in cmp.regions}} for d in order]
    )


# --- the table to sort ------------------------------------------------------------------------------------


def region_table(cmp: Comparison) -> pd.DataFrame:
    """One row per region: completeness, errors and warnings, then every key figure (unit in the header,
    未填报 where the region did not report it). Shown sortable on the page (click a header)."""
    expected = [i.indicator_id for i in cmp.catalog.reported]
    rows = []
    for r, v in cmp.views.items():
        severity = cmp.issues[r]["severity"] if r in cmp.issues else pd.Series(dtype=str)
        row = {
            "地区": r,
            "已填报指标（项）": len(v.reported(expected)),
            "错误（条）": int((severity == "error").sum()),
            "警告（条）": int((severity == "warning").sum()),
        }
        for iid in sorted(v.ids(key_ids()), key=_topic_order(cmp)):  # key figures grouped by topic
            ind = v.indicator(iid)
            value = v.get(iid)
            row[f"{ind.name_zh}（{ind.unit}）"] = MISSING if value is None else number_zh(value, ind.digits)
        rows.append(row)
    return pd.DataFrame(rows)


def _topic_order(cmp: Comparison):
    topics = list(cmp.catalog.topics)  # the catalog's order of topics (the year's catalog: ids of that year)
    return lambda iid: topics.index(cmp.catalog.indicators[iid].topic)


def show_region_table(cmp: Comparison) -> pd.DataFrame:
    """Show the region table as a sortable HTML table (every cell escaped) and return it."""
    table = region_table(cmp)
    if table.empty:
        nb.show_note("（无）")
        return table
    markup = table.to_html(escape=True, index=False, na_rep=MISSING, border=0, classes=SORTABLE_CLASSES)
    nb._display(HTML(markup))
    nb.show_note(f"点击表头可按该列排序（再次点击反向）；共 {len(table)} 个地区。")
    return table
