"""The analysis API notebooks and analysts call: views of the tidy table, tables, chart specs, figures and
drafted sentences. Uses core only.

The analyst's surface is curated: :data:`__all__` names the modules a notebook imports
(``from analysis.explore import nb, frames``) and :data:`ANALYST_API` the calls of each an analyst may make;
``docs/jupyter.md`` documents every one of them with an example. The other modules and names are the
machinery behind them and may change.

Importing this package is cheap: a module is imported on first use (``analysis.explore.nb``), so pandas,
plotly and matplotlib are not loaded until a notebook needs them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The calls an analyst may make from a notebook, by module, in the order docs/jupyter.md lists them.
ANALYST_API: dict[str, tuple[str, ...]] = {
    "nb": (
        "setup",
        "show_indicators",
        "show_table",
        "show_chart",
        "show_charts",
        "show_folded",
        "show_sentences",
        "show_lines",
        "show_note",
        "configure_plotly",
    ),
    "selection": ("topic_ids", "topic_title"),
    "tables": ("indicator_table", "coverage_table", "region_table", "tidy_table"),
    "charts": (
        "bar",
        "rates",
        "tiles",
        "parts",
        "funnel",
        "waterfall",
        "trend",
        "coverage_chart",
        "total_note",
    ),
    "sentences": ("draft", "paragraph", "yoy", "key_figures"),
    "quality": (
        "submissions_table",
        "submissions_chart",
        "severity_table",
        "code_table",
        "issues_chart",
        "issue_list",
        "identity_table",
        "open_checks",
    ),
    "frames": ("all_values", "all_issues", "across_years", "regions_by_indicators", "department_issues"),
    "style": ("apply", "context"),
    "comparison": (
        "setup",
        "show_topics",
        "topic_charts",
        "show_key_figures",
        "show_region_table",
        "indicator_chart",
        "balance_chart",
        "open_checks",
        "checks_table",
        "completeness_chart",
        "completeness_table",
        "region_table",
    ),
}

__all__ = ["charts", "comparison", "frames", "nb", "quality", "selection", "sentences", "style", "tables"]


def __getattr__(name: str) -> ModuleType:
    """``analysis.explore.nb`` and the other modules of :data:`__all__`, imported on first use."""
    if name in ANALYST_API:
        return importlib.import_module(f"{__name__}.{name}")  # also binds it here: asked for only once
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
