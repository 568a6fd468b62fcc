"""Draft the report's sentences from the data, for the writers to paste.

Templates live in ``sentences.yaml`` beside this module (see its header for the placeholder syntax). A
sentence is drafted only when every figure it names was reported; otherwise the draft says which ones are
missing. Values are written as the report writes them: ``6736件``, ``500余本``, ``98.1%``, ``1.1万户``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from analysis.core.catalog import SAFE_LOADER, Expression
from analysis.core.formatting import format_number, growth_rate, number_zh, qualified
from analysis.explore.selection import View, year_on_year

PLACEHOLDER = re.compile(r"\{([^{}|]+)(?:\|(abs|num|yoy))?\}")
CONTEXT = ("region", "year")


@dataclass(frozen=True)
class Template:
    id: str
    topic: str
    texts: dict[str, str]  # "text", or "negative" / "zero" / "positive"
    sign: Expression | None = None


@dataclass(frozen=True)
class Draft:
    """One drafted sentence; ``missing`` names the figures that kept it from being drafted."""

    id: str
    topic: str
    text: str
    missing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Templates:
    key_figures: tuple[str, ...]
    sentences: tuple[Template, ...]


def load_templates(path: str | Path | None = None) -> Templates:
    """The templates at ``path``, or the ones shipped with the package (cached)."""
    if path is None:
        return _default()
    return _parse(Path(path).read_text(encoding="utf-8"))


@functools.cache
def _default() -> Templates:
    return _parse(resources.files("analysis.explore").joinpath("sentences.yaml").read_text(encoding="utf-8"))


def _parse(text: str) -> Templates:
    data = yaml.load(text, Loader=SAFE_LOADER)
    items = []
    for d in data["sentences"]:
        texts = {k: d[k] for k in ("text", "negative", "zero", "positive") if k in d}
        sign = Expression(d["sign"]) if "sign" in d else None
        if (sign is None) != ("text" in texts) or (sign is not None and len(texts) != 3):
            raise ValueError(f"sentence {d.get('id')}: give either text, or sign with negative/zero/positive")
        items.append(Template(id=d["id"], topic=d["topic"], texts=texts, sign=sign))
    return Templates(
        key_figures=tuple(data.get("key_figures", ())),
        sentences=tuple(items),
    )


def check_templates(templates: Templates, catalog) -> list[str]:
    """Problems of the templates against the catalog (unknown ids or topics); empty when all is well."""
    problems = []
    for iid in templates.key_figures:
        if iid not in catalog.indicators:
            problems.append(f"key_figures: unknown indicator {iid}")
        elif catalog.indicators[iid].check:
            problems.append(f"key_figures: {iid} is a check to resolve (check: true), not a key figure")
    for t in templates.sentences:
        if t.topic not in catalog.topics:
            problems.append(f"{t.id}: unknown topic {t.topic}")
        for name in template_names(t):
            if name not in catalog.indicators:
                problems.append(f"{t.id}: unknown indicator {name}")
    return problems


def template_names(template: Template) -> list[str]:
    """Indicator ids a template refers to, in order of appearance."""
    names: list[str] = list(template.sign.names) if template.sign else []
    for text in template.texts.values():
        for match in PLACEHOLDER.finditer(text):
            if match[1].strip() not in CONTEXT:
                names.extend(Expression(match[1]).names)
    return list(dict.fromkeys(names))


def _value_text(view: View, expr: Expression, fmt: str | None) -> str | None:
    try:
        value = expr.evaluate({n: v for n in expr.names if (v := view.get(n)) is not None})
    except (KeyError, ZeroDivisionError):
        return None
    single = expr.names[0] if len(expr.names) == 1 and expr.source.strip() == expr.names[0] else None
    ind = view.indicator(expr.names[0])
    if fmt == "abs":
        value = abs(value)
    text = qualified(number_zh(value, ind.digits), view.qualifier(single) if single else "")
    return text if fmt == "num" else text + ind.unit


Hole = tuple  # the ids (reported or derived) a placeholder needed and that were not reported


def pieces(view: View, text: str) -> list[str | Hole]:
    """``text`` with its placeholders filled: literal strings, and a :data:`Hole` (a tuple of the ids that
    were not reported) where a value is missing. ``{id|yoy}`` adds the year-on-year clause when the change
    means something (:func:`~analysis.explore.selection.year_on_year`)."""
    out: list[str | Hole] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        out.append(text[last : match.start()])
        last = match.end()
        name, fmt = match[1].strip(), match[2]
        if name == "region":
            out.append(view.region)
            continue
        if name == "year":
            out.append(str(view.year))
            continue
        expr = Expression(name)
        lacking = tuple(n for n in expr.names if view.get(n) is None)
        result = None if lacking else _value_text(view, expr, None if fmt == "yoy" else fmt)
        if result is None:
            out.append(lacking or tuple(expr.names))
            continue
        clause = change_clause(view, name) if fmt == "yoy" else None
        out.append(f"{result}，{clause}" if clause else result)
    out.append(text[last:])
    return [p for p in out if p != ""]


def fill(view: View, text: str) -> tuple[str, list[str]]:
    """Fill the placeholders of ``text``; returns the sentence and the ids that were not reported."""
    parts = pieces(view, text)
    missing = [n for p in parts if isinstance(p, tuple) for n in p]
    sentence = "".join("____" if isinstance(p, tuple) else p for p in parts)
    return sentence, list(dict.fromkeys(missing))


def chosen_text(view: View, template: Template) -> str | None:
    """The template's text for this view (by the sign of its ``sign`` expression); None when a figure the
    sign needs was not reported."""
    if template.sign is None:
        return template.texts["text"]
    if any(view.get(n) is None for n in template.sign.names):
        return None
    value = template.sign.evaluate({n: view.get(n) for n in template.sign.names})
    return template.texts["negative" if value < 0 else ("positive" if value > 0 else "zero")]


def draft_one(view: View, template: Template) -> Draft:
    text = chosen_text(view, template)
    if text is None:
        lacking = [n for n in template.sign.names if view.get(n) is None]
        return Draft(template.id, template.topic, "", tuple(view.indicator(n).name_zh for n in lacking))
    sentence, missing = fill(view, text)
    if missing:
        return Draft(template.id, template.topic, "", tuple(view.indicator(n).name_zh for n in missing))
    return Draft(template.id, template.topic, sentence)


def in_year(view: View, template: Template) -> bool:
    """Whether every figure ``template`` names is in the view's year's catalog: a template naming a retired
    or not yet added indicator is not for this year."""
    return all(n in view.catalog.indicators for n in template_names(template))


def draft(view: View, topic: str | None = None, templates: Templates | None = None) -> list[Draft]:
    """The drafted sentences of ``topic`` (all topics in catalog order when None)."""
    templates = templates or load_templates()
    order = {t: k for k, t in enumerate(view.catalog.topics)}
    chosen = [t for t in templates.sentences if topic is None or t.topic == topic]
    chosen = [t for t in chosen if in_year(view, t)]
    chosen.sort(key=lambda t: order.get(t.topic, len(order)))  # stable: file order within a topic
    return [draft_one(view, t) for t in chosen]


def paragraph(drafts: list[Draft]) -> str:
    """The drafted sentences joined as one paragraph (sentences that could not be drafted left out)."""
    return "".join(d.text for d in drafts if d.ok)


def change_clause(view: View, indicator_id: str, sep: str = "、", named_year: bool = False) -> str | None:
    """``比上年增加276件、增长4.1%``, ``比上年提高0.5个百分点`` or ``与上年持平``; None when the change means
    nothing (:func:`~analysis.explore.selection.year_on_year`: no earlier year, a check figure, a
    qualified value). ``named_year``: ``比2018年…`` instead of ``比上年…``."""
    change = year_on_year(view, indicator_id)
    if change is None:
        return None
    now, before, prev = change
    ind = view.indicator(indicator_id)
    than = f"{prev}年" if named_year else "上年"
    delta = now - before
    if abs(delta) < 1e-9:
        return f"与{than}持平"
    if ind.unit == "%":
        return f"比{than}{'提高' if delta > 0 else '降低'}{format_number(abs(delta), 1)}个百分点"
    verb, rate = ("增加", "增长") if delta > 0 else ("减少", "下降")
    pct = growth_rate(now, before)  # none from a base of zero or below
    share = f"{sep}{rate}{format_number(abs(pct), 1)}%" if pct is not None else ""
    return f"比{than}{verb}{number_zh(abs(delta), ind.digits)}{ind.unit}{share}"


def yoy(view: View, indicator_ids: list[str]) -> list[str]:
    """``调解矛盾纠纷6736件，比2018年增加136件，增长2.1%。`` for each indicator whose change since the
    region's previous year means something (not a reconciliation gap, not a qualified value); empty
    when there is no earlier year."""
    lines = []
    prev = view.previous_year
    for iid in view.ids(indicator_ids):
        clause = change_clause(view, iid, sep="，", named_year=True)  # across a rename, never across a split
        if clause is None:
            continue
        head = f"{view.indicator(iid).name_zh}{view.text(iid)}"
        if view.footnote(iid, [prev]):  # the figure of the year before was reported under the old name
            head += f"（{view.footnote(iid, [prev])}）"
        lines.append(f"{head}，{clause}。")
    return lines


def key_figures(templates: Templates | None = None) -> list[str]:
    """The ids of the 年度概览's key figures (``key_figures`` in sentences.yaml)."""
    return list((templates or load_templates()).key_figures)
