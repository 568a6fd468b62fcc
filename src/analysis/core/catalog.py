"""The indicator catalog: indicators, units, departments, identities and derived indicators from YAML."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from analysis.core.catalog_time import (
    Lineage,
    NotEvaluated,
    epochs,
    is_timed,
    section_of,
    validity,
    year_data,
)
from analysis.core.expression import CatalogError, Expression
from analysis.core.formatting import format_number
from analysis.core.identities import Identity, Verdict, halfwidth, shown_digits
from analysis.core.numbers import known_precision, written_unit
from analysis.core.text import fold, match_key

__all__ = ["Catalog", "CatalogError", "Computed", "Expression", "Identity", "Indicator", "Unit", "Verdict"]
__all__ += ["load_catalog"]

# libyaml when the platform has it (about 6× faster; the same safe subset of YAML)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str  # count | measure | percent
    max: float | None = None
    aliases: tuple[str, ...] = ()
    convert: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name_zh: str
    unit: str
    topic: str
    description: str = ""
    section: str = ""
    department: str = ""
    aliases: tuple[str, ...] = ()
    derived: bool = False
    formula: Expression | None = None
    digits: int | None = None
    allow_negative: bool = False
    check: bool = False  # a figure that checks others (a reconciliation gap), never an achievement
    since: int | None = None  # first year in the catalog (inclusive; None: always)
    until: int | None = None  # last year in the catalog (inclusive; None: still)


@dataclass(frozen=True)
class ReportSection:
    """One of the eight sections of part 一 of the report (the seed's order and wording)."""

    key: str  # 一(一)
    short: str  # 健全领导机制: key + short is the ``section`` of its indicators
    heading: str  # 健全领导机制，完善法治政府建设体系
    topics: tuple[str, ...] = ()  # topics whose print figures are placed here
    since: int | None = None  # first and last year of the section (None: always)
    until: int | None = None

    @property
    def label(self) -> str:
        return self.key + self.short


@dataclass(frozen=True)
class Computed:
    """A derived indicator's value as shown: rounded no finer than its inputs allow."""

    value: float
    precision: float  # unit of the last digit kept: 0.01 for two decimals, 1 for a sum of counts
    approximate: bool  # some input was rounded coarser than the value can show (a ratio of 1.1万户)


class Catalog:
    """Lookup of indicators by code, by name or alias, of units and of departments."""

    def __init__(
        self,
        data: dict,
        source: str = "catalog.yaml",
        edition: Catalog | None = None,
        year: int | None = None,
    ):
        self.source = source
        self.text = edition.text if edition is not None else ""  # the YAML it was read from (parse_catalog)
        self.year = year  # None: the edition as written (every year); else the catalog of that year
        self.edition: Catalog = edition or self
        self.timed = edition is None and is_timed(data)  # some entry has since / until / replaces
        self.lineage: Lineage = edition.lineage if edition is not None else Lineage(data)
        self.not_evaluated: list[NotEvaluated] = []  # identities of the year whose figures are not all valid
        self._data, self._years = data, {}
        self.version = data.get("version", 1)
        self.units: dict[str, Unit] = {
            name: Unit(
                name=name,
                kind=spec["kind"],
                max=spec.get("max"),
                aliases=tuple(spec.get("aliases", ())),
                convert={k: float(v) for k, v in spec.get("convert", {}).items()},
            )
            for name, spec in data["units"].items()
        }
        self.topics: dict[str, dict] = dict(data["topics"])
        self.headers: dict[str, tuple[str, ...]] = {
            role: tuple(str(x) for x in names) for role, names in data["headers"].items()
        }
        self.sheet_names: dict[str, str] = dict(data["sheets"])
        self.departments: dict[str, tuple[str, ...]] = {
            name: tuple((spec or {}).get("aliases", ())) for name, spec in data["departments"].items()
        }

        def indicator(d: dict, **extra) -> Indicator:
            since, until = validity(d, d["indicator_id"])
            return Indicator(
                indicator_id=d["indicator_id"],
                name_zh=d["name_zh"],
                unit=d["unit"],
                topic=d["topic"],
                description=d.get("description", ""),
                since=since,
                until=until,
                **extra,
            )

        reported = [
            indicator(
                d,
                section=section_of(d, None),
                department=d.get("department", ""),
                aliases=tuple(d.get("aliases", ())),
                digits=d.get("digits"),  # decimals to write (a figure in 万条); default: as written
            )
            for d in data["indicators"]
        ]
        derived = [
            indicator(
                d,
                derived=True,
                formula=Expression(d["formula"]),
                digits=d.get("digits"),
                allow_negative=bool(d.get("allow_negative", False)),
                check=bool(d.get("check", False)),
            )
            for d in data.get("derived", [])
        ]
        self.indicators: dict[str, Indicator] = {}
        for ind in reported + derived:
            if ind.indicator_id in self.indicators:
                raise CatalogError(f"指标编码重复：{ind.indicator_id}")
            self.indicators[ind.indicator_id] = ind
        self.identities: list[Identity] = [
            Identity(
                id=d["id"],
                kind=d["kind"],
                lhs=Expression(str(d["lhs"])),
                rhs=Expression(str(d["rhs"])),
                tolerance=float(d.get("tolerance", 0)),
                title_zh=d.get("title_zh", d["id"]),
            )
            for d in data.get("identities", [])
        ]
        self.report_sections: list[ReportSection] = [
            ReportSection(
                str(d["key"]),
                str(d["short"]),
                str(d["heading"]),
                tuple(d["topics"]),
                *validity(d, f"章节 {d['key']}{d['short']}"),
            )
            for d in data.get("report_sections", [])
        ]
        self._by_code = {match_key(i.indicator_id): i for i in reported}
        self._by_name: dict[str, Indicator] = {}
        for ind in reported:
            for name in (ind.name_zh, *ind.aliases):
                key = match_key(name)
                other = self._by_name.get(key)
                if other is not None and other is not ind and not self.timed:  # timed: checked per year
                    raise CatalogError(f"名称“{name}”同时指向 {other.indicator_id} 和 {ind.indicator_id}")
                self._by_name[key] = ind
        self._suggest_keys = {match_key(i.name_zh): i.name_zh for i in reported}
        self._suggestions: dict[tuple[str, int], list[str]] = {}
        self._unit_lookup: dict[str, tuple[str, float]] = {}
        for unit in self.units.values():
            for spelling in (unit.name, *unit.aliases):
                self._unit_lookup[fold(spelling)] = (unit.name, 1.0)
            for spelling, factor in unit.convert.items():
                self._unit_lookup[fold(spelling)] = (unit.name, factor)
        self._dept_lookup = {
            fold(alias): name for name, aliases in self.departments.items() for alias in (name, *aliases)
        }
        self._validate()

    def _validate(self) -> None:
        for ind in self.indicators.values():
            if ind.unit not in self.units:
                raise CatalogError(f"{ind.indicator_id} 的单位“{ind.unit}”未在 units 中定义")
            if ind.topic not in self.topics:
                raise CatalogError(f"{ind.indicator_id} 的专题“{ind.topic}”未在 topics 中定义")
            if not ind.derived and ind.department not in self.departments:
                raise CatalogError(f"{ind.indicator_id} 的填报单位“{ind.department}”未在 departments 中定义")
        known = set(self.indicators)
        expressions = [(i.indicator_id, i.formula) for i in self.indicators.values() if i.formula]
        expressions += [(x.id, e) for x in self.identities for e in (x.lhs, x.rhs)]
        for owner, expr in expressions:
            for name in expr.names:
                if name not in known:
                    raise CatalogError(f"{owner} 的表达式引用了未知指标 {name}")
        for role in ("code", "name", "unit", "value", "note"):
            if not self.headers.get(role):
                raise CatalogError(f"headers 缺少 {role} 的同义词")
        for x in self.identities:
            if x.kind not in ("equal", "le"):
                raise CatalogError(f"恒等式 {x.id} 的 kind 只能是 equal 或 le")
        if not self.timed:
            self._validate_report_sections()
            return
        for year in epochs(self._data):  # each stretch of years with the same catalog, checked as a whole
            try:
                self.for_year(year)
            except CatalogError as exc:
                raise CatalogError(f"{year}年的指标目录：{exc}") from exc

    def for_year(self, year: int | None) -> Catalog:
        """The catalog of ``year``: only the indicators, derived indicators, identities and report sections
        valid that year, each indicator in its section of the year. The one answer to "is it in that year's
        catalog" (completeness, templates, 已填报 n / m, reports); an edition without years is its own."""
        edition = self.edition
        if year is None or not edition.timed:
            return edition
        if int(year) not in edition._years:
            data, skipped = year_data(edition._data, int(year))
            edition._years[int(year)] = Catalog(data, edition.source, edition=edition, year=int(year))
            edition._years[int(year)].not_evaluated = skipped
        return edition._years[int(year)]

    def is_valid(self, indicator_id: str, year: int | None) -> bool:
        """Whether ``indicator_id`` is in the catalog of ``year``."""
        return indicator_id in self.for_year(year).indicators

    def _validate_report_sections(self) -> None:
        if not self.report_sections:
            return
        labels = [s.label for s in self.report_sections]
        if len(set(labels)) != len(labels) or len({s.key for s in self.report_sections}) != len(labels):
            raise CatalogError("report_sections 中的章节重复")
        placed = [t for s in self.report_sections for t in s.topics]
        for topic in placed:
            if topic not in self.topics:
                raise CatalogError(f"report_sections 引用了未定义的专题“{topic}”")
        for topic in self.topics:
            if placed.count(topic) != 1:
                raise CatalogError(f"专题“{topic}”必须在 report_sections 的一个章节中出现且只出现一次")
        for ind in self.reported:
            if ind.section not in labels:
                raise CatalogError(f"{ind.indicator_id} 的章节“{ind.section}”不在 report_sections 中")

    # --- lookups -------------------------------------------------------------------------------
    @property
    def reported(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if not i.derived]

    @property
    def derived(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.derived]

    def by_code(self, code: str) -> Indicator | None:
        """The indicator of a code: of this year's catalog first, else of the edition (another year's)."""
        return self._by_code.get(match_key(code)) or (self.edition.by_code(code) if self.year else None)

    def by_name(self, name: str) -> Indicator | None:
        """The indicator of a name or alias: of this year's catalog first, else of the edition."""
        return self._by_name.get(match_key(name)) or (self.edition.by_name(name) if self.year else None)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Close catalog names for a name that matched nothing (shown to the user, never applied)."""
        key = match_key(name)
        if (key, n) not in self._suggestions:  # unknown rows repeat: a long sheet must not redo the search
            keys = self._suggest_keys
            found = difflib.get_close_matches(key, list(keys), n=n, cutoff=0.6)
            self._suggestions[(key, n)] = [keys[k] for k in found]
        return self._suggestions[(key, n)]

    def resolve_unit(self, text: str) -> tuple[str, float] | None:
        """Canonical unit and factor for a unit as written (``千米`` → (公里, 1)); None if unknown."""
        return self._unit_lookup.get(fold(text))

    def department(self, name: str, region: str = "") -> str | None:
        """Canonical department name for a name or alias as written; None if unknown.

        With ``region``, the full name departments often write is understood too: 通许县审计局 → 县审计局.
        """
        key = fold(name)
        found = self._dept_lookup.get(key)
        prefix = fold(region)
        if found is None and prefix and key.startswith(prefix) and len(key) > len(prefix):
            rest = key[len(prefix) :]
            found = self._dept_lookup.get(rest) or self._dept_lookup.get("县" + rest)
        return found

    def for_department(self, department: str) -> list[Indicator]:
        return [i for i in self.reported if i.department == department]

    def report_section(self, indicator_id: str) -> ReportSection | None:
        """The report section an indicator is written in (a derived one: its topic's section)."""
        ind = self.indicators[indicator_id]
        for s in self.report_sections:
            if ind.section == s.label:
                return s
        return next((s for s in self.report_sections if ind.topic in s.topics), None)

    def for_topic(self, topic: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.topic == topic]

    # --- computing with the figures: the one evaluator (see analysis.core.identities) --------------
    def _operands(self, rows: dict[str, dict], names: tuple[str, ...]) -> tuple[dict, dict, dict]:
        """Values, half-widths and written precisions of ``names`` among ``rows`` (id → tidy row)."""
        values, half, precisions = {}, {}, {}
        for n in names:
            row = rows.get(n)
            if row is None:
                continue
            values[n] = float(row["value"])
            precision = known_precision(row.get("precision"), values[n])
            count = self.units[self.indicators[n].unit].kind == "count"
            half[n] = halfwidth(precision, count)
            if half[n] > 0:
                precisions[n] = precision
        return values, half, precisions

    def check(self, identity: Identity, rows: dict[str, dict]) -> Verdict:
        """The verdict of ``identity`` on one region-year's tidy rows (id → row with value and precision)."""
        values, half, precisions = self._operands(rows, identity.names)
        labels = {n: f"{self.indicators[n].name_zh} {format_number(v)}" for n, v in values.items()}
        return identity.evaluate(values, half, labels, precisions)

    def compute(self, indicator: Indicator, rows: dict[str, dict]) -> Computed:
        """The value of a derived indicator from one region-year's tidy rows, rounded to the catalog's
        ``digits`` and never finer than its inputs allow. KeyError when an input is missing,
        ZeroDivisionError for a zero divisor."""
        assert indicator.formula is not None
        values, half, _ = self._operands(rows, indicator.formula.names)
        exact = indicator.formula.evaluate(values)
        low, high = indicator.formula.bounds(values, half)
        spread = max(exact - low, high - exact)
        digits = shown_digits(spread, indicator.digits)
        if digits is None:
            value = float(f"{exact:.12g}")
            return Computed(value, written_unit(format_number(value)), False)
        unit = 10.0**-digits
        return Computed(round(exact, digits), unit, spread > unit / 2 * (1 + 1e-9))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load the catalog at ``path``, or the one shipped inside the package (cached)."""
    if path is None:
        return _default_catalog()
    path = Path(path)
    return parse_catalog(path.read_text(encoding="utf-8"), str(path))


def parse_catalog(text: str, source: str) -> Catalog:
    """The catalog written in ``text``; ``catalog.text`` keeps it, so that ingest can publish the exact
    catalog it used beside the data (:func:`analysis.core.store.read_catalog` reads it back)."""
    catalog = Catalog(_read_yaml(text, source), source=source)
    catalog.text = text
    return catalog


@functools.cache
def _default_catalog() -> Catalog:
    text = resources.files("analysis.core").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return parse_catalog(text, "catalog.yaml")


def _read_yaml(text: str, source: str) -> dict:
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CatalogError(f"指标目录 {source} 不是有效的 YAML：{exc}") from exc
    for key in ("units", "headers", "sheets", "topics", "departments", "indicators"):
        if not isinstance(data, dict) or key not in data:
            raise CatalogError(f"指标目录 {source} 缺少 {key} 部分")
    return data
