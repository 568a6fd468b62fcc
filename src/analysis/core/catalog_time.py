"""The catalog over the years: validity (``since`` / ``until``) of indicators, identities and report
sections, successors (``replaces``), and the YAML data of one year's catalog.

A year outside an entry's validity means "not in that year's catalog": :meth:`Catalog.for_year` builds
that year's catalog from :func:`year_data`, and everything that lists, counts or asks for indicators of a
year uses it. The edition (the catalog as written) is checked here: a ``since`` after an ``until``, a cycle
in ``replaces``, an old and a new id valid in the same year are refused with Chinese messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.expression import CatalogError, Expression

TIME_KEYS = ("since", "until", "replaces")
SPLIT, MERGE, RENAME = "split", "merge", "rename"


def validity(entry: dict, owner: str) -> tuple[int | None, int | None]:
    """(since, until) of a catalog entry, both inclusive and optional."""
    bounds = []
    for key in ("since", "until"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise CatalogError(f"{owner} 的 {key} 必须是年度（整数），收到“{value}”")
        bounds.append(value)
    since, until = bounds
    if since is not None and until is not None and since > until:
        raise CatalogError(f"{owner} 的 since（{since}年）晚于 until（{until}年），有效期为空")
    return since, until


def is_valid(entry: dict, year: int | None) -> bool:
    """Whether a catalog entry (its YAML mapping) is in the catalog of ``year`` (None: any year)."""
    if year is None:
        return True
    since, until = entry.get("since"), entry.get("until")
    return (since is None or year >= since) and (until is None or year <= until)


def years_text(since: int | None, until: int | None) -> str:
    """``2021年起``, ``2020年及以前``, ``2019—2022年``, ``各年度``."""
    if since is not None and until is not None:
        return f"{since}年" if since == until else f"{since}—{until}年"
    if since is not None:
        return f"{since}年起"
    if until is not None:
        return f"{until}年及以前"
    return "各年度"


def _entries(data: dict) -> list[tuple[str, dict]]:
    out = [(str(d.get("indicator_id")), d) for d in data.get("indicators", []) + data.get("derived", [])]
    out += [(f"恒等式 {d.get('id')}", d) for d in data.get("identities", [])]
    out += [(f"章节 {d.get('key')}{d.get('short')}", d) for d in data.get("report_sections", [])]
    return out


def is_timed(data: dict) -> bool:
    """Whether the edition says anything about years (else every year's catalog is the edition itself)."""
    return any(
        any(k in d for k in TIME_KEYS) or isinstance(d.get("section"), dict) for _, d in _entries(data)
    )


def section_of(entry: dict, year: int | None) -> str:
    """An indicator's section label in ``year``: ``section`` is a label, or {first year: label} (the
    earliest label also holds before its year; None: the latest label)."""
    section = entry.get("section", "")
    if not isinstance(section, dict):
        return str(section)
    for start in section:
        if isinstance(start, bool) or not isinstance(start, int):
            owner = entry.get("indicator_id")
            raise CatalogError(f"{owner} 的 section 按年度写时，键必须是起始年度（整数），收到“{start}”")
    starts = sorted(section)
    chosen = starts[-1] if year is None else max([s for s in starts if s <= year] or starts[:1])
    return str(section[chosen])


def epochs(data: dict) -> list[int]:
    """One year of each stretch of years whose catalog is the same (checked on load)."""
    marks: set[int] = set()
    for owner, d in _entries(data):
        since, until = validity(d, owner)
        marks |= {y for y in (since, until + 1 if until is not None else None) if y is not None}
        if isinstance(d.get("section"), dict):
            section_of(d, None)  # checks the years
            marks |= set(d["section"])
    if not marks:
        return [0]
    return sorted(marks | {min(marks) - 1})


@dataclass(frozen=True)
class NotEvaluated:
    """An identity of the year left unevaluated because some of its figures are not in that year's catalog."""

    identity_id: str
    title_zh: str
    absent: tuple[str, ...]  # indicator ids not in the year's catalog


def year_data(data: dict, year: int) -> tuple[dict, list[NotEvaluated]]:
    """The YAML data of ``year``'s catalog: entries valid that year, each indicator in its section of the
    year; a derived indicator or identity whose figures are not all in that year's catalog is left out
    (the identities so left out are returned, to be said once on the data-quality page)."""
    out = dict(data)
    out["indicators"] = [
        {**d, "section": section_of(d, year)} for d in data.get("indicators", []) if is_valid(d, year)
    ]
    known = {d["indicator_id"] for d in out["indicators"]}
    derived = []
    for d in data.get("derived", []):
        if is_valid(d, year) and set(Expression(d["formula"]).names) <= known | {
            x["indicator_id"] for x in derived
        }:
            derived.append(d)
    out["derived"] = derived
    known |= {d["indicator_id"] for d in derived}
    identities, skipped = [], []
    for d in data.get("identities", []):
        if not is_valid(d, year):
            continue
        names = Expression(str(d["lhs"])).names + Expression(str(d["rhs"])).names
        absent = tuple(dict.fromkeys(n for n in names if n not in known))
        if absent:
            skipped.append(NotEvaluated(str(d["id"]), str(d.get("title_zh", d["id"])), absent))
        else:
            identities.append(d)
    out["identities"] = identities
    out["report_sections"] = [d for d in data.get("report_sections", []) if is_valid(d, year)]
    return out, skipped


# --- successors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Succession:
    """``new`` replaces ``old``: a rename (one to one, ``factor`` turns an old value into the new unit), a
    split (one old id to several new ones) or a merge (several old ids to one new one)."""

    new: str
    old: tuple[str, ...]
    factor: float
    kind: str


def successions(data: dict) -> list[Succession]:
    """Every ``replaces`` of the edition, checked: known ids, no cycle, no year with both old and new."""
    entries = {d["indicator_id"]: d for d in data.get("indicators", []) + data.get("derived", [])}
    declared: list[tuple[str, tuple[str, ...], float]] = []
    for iid, d in entries.items():
        if "replaces" not in d:
            continue
        old = d["replaces"]
        old = (old,) if isinstance(old, str) else tuple(str(x) for x in old or ())
        if not old:
            raise CatalogError(f"{iid} 的 replaces 为空")
        for o in old:
            if o not in entries:
                raise CatalogError(f"{iid} 的 replaces 引用了未知指标 {o}")
            if o == iid:
                raise CatalogError(f"{iid} 的 replaces 指向自身")
        factor = d.get("factor", 1)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
            raise CatalogError(f"{iid} 的 factor 必须是正数，收到“{factor}”")
        if factor != 1 and len(old) != 1:
            raise CatalogError(f"{iid} 接替多个指标（合并），不能写 factor")
        declared.append((iid, old, float(factor)))
    _refuse_cycles({new: old for new, old, _ in declared})
    heirs: dict[str, list[str]] = {}
    for new, old, _ in declared:
        for o in old:
            heirs.setdefault(o, []).append(new)
            _refuse_overlap(o, entries[o], new, entries[new])
    out = []
    for new, old, factor in declared:
        split = any(len(heirs[o]) > 1 for o in old)
        if split and len(old) > 1:
            raise CatalogError(f"{new} 同时是拆分和合并的结果，请分两步声明")
        if split and factor != 1:
            raise CatalogError(f"{new} 由拆分得来，不能写 factor")
        kind = SPLIT if split else (MERGE if len(old) > 1 else RENAME)
        out.append(Succession(new, old, factor, kind))
    return out


def _refuse_cycles(graph: dict[str, tuple[str, ...]]) -> None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            loop = path[path.index(node) :] + [node]
            raise CatalogError("指标的接替关系（replaces）出现循环：" + " → ".join(loop))
        if node in done:
            return
        for old in graph.get(node, ()):
            visit(old, [*path, node])
        done.add(node)

    for node in graph:
        visit(node, [])


def _refuse_overlap(old: str, old_entry: dict, new: str, new_entry: dict) -> None:
    o_since, o_until = validity(old_entry, old)
    n_since, n_until = validity(new_entry, new)
    if o_until is None or n_since is None or o_until >= n_since:
        raise CatalogError(
            f"{new} 接替 {old}，但两者的有效期重叠（{old}：{years_text(o_since, o_until)}；"
            f"{new}：{years_text(n_since, n_until)}）；旧指标应写 until、新指标应写 since，且 until 早于 since"
        )


class Lineage:
    """The successions of an edition, asked about one id: its series across renames, whether it came
    from a split or merge, and the footnote naming the change."""

    def __init__(self, data: dict):
        self.entries = {d["indicator_id"]: d for d in data.get("indicators", []) + data.get("derived", [])}
        self.successions = successions(data)
        self._renamed_from = {s.new: s for s in self.successions if s.kind == RENAME}
        self._renamed_to = {s.old[0]: s for s in self.successions if s.kind == RENAME}

    def series(self, indicator_id: str) -> dict[str, float]:
        """Every id of ``indicator_id``'s series (itself and its renames, earlier and later), each with the
        factor that turns its values into ``indicator_id``'s unit."""
        out = {indicator_id: 1.0}
        node, factor = indicator_id, 1.0
        while node in self._renamed_from:  # back: an old value × factor is the new one
            s = self._renamed_from[node]
            node, factor = s.old[0], factor * s.factor
            out[node] = factor
        node, factor = indicator_id, 1.0
        while node in self._renamed_to:
            s = self._renamed_to[node]
            node, factor = s.new, factor / s.factor
            out[node] = factor
        return out

    def split_from(self, indicator_id: str) -> Succession | None:
        """The split or merge ``indicator_id`` came from or went into (no year-on-year across it)."""
        for s in self.successions:
            if s.kind != RENAME and (indicator_id == s.new or indicator_id in s.old):
                return s
        return None

    def footnote(self, indicator_id: str) -> str:
        """``2021年起指标名称改为“…”（原“…”，单位由件改为万件）`` for each rename in the series; "" if none."""
        notes = []
        for iid in reversed(list(self.series(indicator_id))):
            s = self._renamed_from.get(iid)
            if s is None:
                continue
            new, old = self.entries[s.new], self.entries[s.old[0]]
            since = new.get("since")
            when = f"{since}年起" if since is not None else "现"
            unit = f"，单位由{old['unit']}改为{new['unit']}" if old["unit"] != new["unit"] else ""
            if new["name_zh"] != old["name_zh"]:
                notes.append(f"{when}指标名称改为“{new['name_zh']}”（原“{old['name_zh']}”{unit}）")
            else:
                notes.append(f"{when}指标“{new['name_zh']}”{unit[1:] or '改用新的编码'}")
        return "；".join(notes)
