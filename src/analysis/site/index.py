"""The report's ``index.html``: key figures, completeness, data problems and links to every page.

The content comes from the same explore functions the notebooks call (:func:`selection.select`,
:func:`tables.coverage_table`, :func:`quality.code_table`, :func:`quality.issue_list`, …), so the index and
the pages never disagree; this module only picks what the index shows and renders it with an escaping
Jinja2 template.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jinja2
import pandas as pd

from analysis import __version__
from analysis.core.formatting import format_change, number_zh, qualified
from analysis.core.names import ASSETS_DIR
from analysis.core.problems import ERROR, SEVERITY_ZH
from analysis.explore import quality, sentences, tables
from analysis.explore.selection import View
from analysis.site.pages import PageInfo
from analysis.site.static import CSP, REPORT_CSS

SEVERITY_CODE = {zh: code for code, zh in SEVERITY_ZH.items()}


@dataclass(frozen=True)
class KeyFigure:
    topic: str
    name: str
    text: str  # value with unit, as printed
    department: str = ""
    change: str = ""  # against the previous year in the data, e.g. "比2019年 +136件（+2.1%）"


@dataclass
class Coverage:
    """How complete the region-year is: indicators reported of those in the catalog, departments missing."""

    reported: int
    expected: int
    missing_departments: list[str] = field(default_factory=list)


@dataclass
class IndexContent:
    """What the index shows besides the page list. Tables as :mod:`analysis.explore.quality` makes them."""

    key_figures: list[KeyFigure]
    coverage: Coverage | None
    issue_counts: pd.DataFrame  # quality.code_table: 级别, 含义, 问题数, 代码
    issue_rows: pd.DataFrame  # quality.issue_list: errors and warnings, one row each
    checks: list[str] = field(default_factory=list)  # identities that do not hold: checks, not achievements


def key_figures(view: View) -> list[KeyFigure]:
    """The 年度概览's key figures this region-year reported, written as the report writes them
    (``1.1万户``), with the change against the previous year when the data has one."""
    out = []
    before_year = view.previous_year
    for ind_id in sentences.key_figures():
        row, ind = view.current.get(ind_id), view.catalog.indicators.get(ind_id)
        if row is None or ind is None:
            continue
        now, before = view.get(ind_id), view.get(ind_id, before_year) if before_year else None
        change = ""
        if now is not None and before is not None:
            change = f"比{before_year}年 {format_change(now, before, ind.unit, ind.digits)}"
        out.append(
            KeyFigure(
                topic=view.catalog.topics.get(ind.topic, {}).get("title_zh", ind.topic),
                name=ind.name_zh,
                text=qualified(number_zh(row["value"], ind.digits), row["qualifier"], row["unit"]),
                department=row["department"],
                change=change,
            )
        )
    return out


def coverage(view: View, issues: pd.DataFrame) -> Coverage:
    """Indicators reported of those in the catalog, and the departments whose workbook never arrived."""
    per_topic = tables.coverage_table(view)
    submitted = quality.submissions_table(view, issues)
    missing = submitted[(submitted["报表"] == "未收到") & (submitted["目录指标"] > 0)]
    return Coverage(
        reported=int(per_topic["已填报"].sum()),
        expected=int(per_topic["目录指标"].sum()),
        missing_departments=sorted(missing["填报单位"]),
    )


def index_content(view: View, issues: pd.DataFrame) -> IndexContent:
    """Everything the index shows for ``view``; ``issues`` are those of its region-year."""
    return IndexContent(
        key_figures=key_figures(view),
        coverage=coverage(view, issues),
        issue_counts=quality.code_table(issues),
        issue_rows=quality.issue_list(issues),
        checks=quality.open_checks(view),
    )


_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="referrer" content="no-referrer">
<title>{{ region }} {{ year }} 年度法治政府建设情况分析报告</title>
<link rel="stylesheet" href="{{ assets }}/{{ css }}">
</head>
<body class="fazhi-index">
<main>
<h1>{{ region }} {{ year }} 年度法治政府建设情况分析报告</h1>
{%- if links %}
<nav class="fazhi-years">相关页面：{% for label, href in links %}<a href="{{ href }}">{{ label }}</a>{% endfor %}</nav>
{%- endif %}
<p class="fazhi-note">生成时间：{{ generated }}。本目录下的全部页面可离线打开，不需要网络。</p>
{%- if errors %}
<div class="fazhi-data-errors" role="alert"><strong>导入时发现 {{ errors }} 个错误。</strong>出错的数值没有导入，
报告中显示为未填报；其余数值照常分析。请按下方“需要处理的错误和警告”请相关单位改正后重新报送。</div>
{%- endif %}
{%- if failed %}
<div class="fazhi-failed" role="alert"><strong>有笔记本运行失败：</strong><ul>
{%- for p in failed %}
<li><a href="{{ p.html_name }}">{{ p.title }}</a>：{{ p.failure }}</li>
{%- endfor %}
</ul>失败页面保留了出错前的结果，执行后的笔记本在 notebooks/ 文件夹中。</div>
{%- endif %}
<section><h2>分析页面</h2><ol class="fazhi-pages">
{%- for p in pages %}
<li><a href="{{ p.html_name }}">{{ p.title }}</a>
{%- if p.charts %}<span class="fazhi-muted">（交互图 {{ p.charts }} 幅）</span>{% endif %}
{%- if not p.ok %} <span class="fazhi-badge-failed">运行失败</span>{% endif %}</li>
{%- endfor %}
</ol>
{%- if workbook %}
<p>年度指标汇总表（每个数值的单位、填报单位和来源单元格）：<a href="{{ workbook }}">{{ workbook }}</a></p>
{%- endif %}
</section>
<section><h2>主要数据</h2>
{%- if coverage %}
<p>已填报指标 {{ coverage.reported }} / {{ coverage.expected }} 项。
{%- if coverage.missing_departments %}<span class="fazhi-missing">未收到报表的单位（{{ coverage.missing_departments | length }} 个）：{{ coverage.missing_departments | join("、") }}。</span>{% endif %}</p>
{%- endif %}
{%- if key_figures %}
<div class="fazhi-cards">
{%- for k in key_figures %}
<div class="fazhi-card"><div class="fazhi-card-topic">{{ k.topic }}</div><div class="fazhi-card-value">{{ k.text }}</div><div class="fazhi-card-name">{{ k.name }}</div>
{%- if k.department %}<span class="fazhi-muted">{{ k.department }}</span>{% endif %}
{%- if k.change %}<div class="fazhi-muted">{{ k.change }}</div>{% endif %}</div>
{%- endfor %}
</div>
{%- else %}
<p>本年度没有可显示的数据。</p>
{%- endif %}
</section>
{%- if checks %}
<section class="fazhi-checks"><h2>待核实的勾稽差额</h2><ul>
{%- for line in checks %}
<li>{{ line }}</li>
{%- endfor %}
</ul><p class="fazhi-note">差额不是工作成绩，不列为主要数字；详见<a href="01_data_quality.html">数据质量与勾稽核对</a>。</p></section>
{%- endif %}
<section><h2>数据问题汇总</h2>
{%- if issue_counts %}
<table><thead><tr><th>级别</th><th>问题</th><th>条数</th><th>问题代码</th></tr></thead><tbody>
{%- for row in issue_counts %}
<tr class="fazhi-sev-{{ severity_code.get(row['级别'], '') }}"><td>{{ row['级别'] }}</td><td>{{ row['含义'] }}</td><td>{{ row['问题数'] }}</td><td><code>{{ row['代码'] }}</code></td></tr>
{%- endfor %}
</tbody></table>
{%- else %}
<p>导入时没有发现问题。</p>
{%- endif %}
{%- if issue_rows %}
<h3>需要处理的错误和警告</h3><table><thead><tr><th>级别</th><th>填报单位</th><th>文件</th><th>工作表</th><th>单元格</th><th>问题</th></tr></thead><tbody>
{%- for row in issue_rows %}
<tr><td>{{ row['级别'] }}</td><td>{{ row['填报单位'] }}</td><td>{{ row['文件'] }}</td><td>{{ row['工作表'] }}</td><td>{{ row['单元格'] }}</td><td title="{{ row['代码'] }}">{{ row['说明'] }}</td></tr>
{%- endfor %}
</tbody></table>
{%- endif %}
</section>
</main>
<footer class="fazhi-footer">由 fazhi-analysis {{ version }} 自动生成。</footer>
</body>
</html>
"""


@functools.cache
def _template() -> jinja2.Template:
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_INDEX_TEMPLATE)


def render_index(
    *,
    region: str,
    year: int | str,
    pages: list[PageInfo],
    content: IndexContent,
    workbook: str | None,
    generated: str,
    links: list[tuple[str, str]] | None = None,
) -> str:
    """The report's ``index.html`` (every value escaped by the template); ``links`` are (label, href) of
    the region's other years and the site pages."""
    counts, rows = content.issue_counts, content.issue_rows
    return _template().render(
        csp=CSP,
        assets=ASSETS_DIR,
        css=REPORT_CSS,
        version=__version__,
        region=str(region),
        year=str(year),
        generated=generated,
        pages=pages,
        failed=[p for p in pages if not p.ok],
        workbook=workbook,
        coverage=content.coverage,
        key_figures=content.key_figures,
        errors=int(counts.loc[counts["级别"] == SEVERITY_ZH[ERROR], "问题数"].sum()),
        issue_counts=counts.to_dict("records"),
        issue_rows=rows.to_dict("records"),
        severity_code=SEVERITY_CODE,
        checks=content.checks,
        links=links or [],
    )
