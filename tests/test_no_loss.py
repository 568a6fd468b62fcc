"""Property: no value is lost in ingest. Every non-empty value cell of a data row ends in the tidy table or
in the problems table (a whole-file rejection, whose cell is empty, covers every cell of that file); and a
department's 备注 beside a value it left blank ends in the problems table's ``note`` column."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.core.catalog import load_catalog
from analysis.core.problems import FILE_CODES
from analysis.ingest.pipeline import ingest
from tests.builders import write_xlsx

CATALOG = load_catalog()
NAMES = [i.name_zh for i in CATALOG.reported]
DEPARTMENTS = list(CATALOG.departments)

# Text that a workbook can hold (openpyxl refuses control characters; hostile ones are in test_hostile_*).
cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
names = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(NAMES).map(lambda n: f" {n}　"),  # padded with half- and full-width spaces
    cell_text,
)
# Written forms with the number each one means, written out here independently of the parser
# (None: not a number, so it may only end as a problem row or as 未填报).
MEANING = {
    "6,736": 6736,
    "1.1万": 11000,
    "98.1%": 98.1,
    "500余": 500,
    "约12": 12,
    "12个": 12,
    "3公里": 3,
    "若干": None,
    "—": None,
    "无": None,
    "": None,
    " ": None,
    "#N/A": None,
}
BLANKS = {None, "", " ", "—", "无", "/"}  # what the contract calls 未填报 (docs/submission-contract.md)
ANY = "any"  # free text: accounted for, but its value is not compared
# (cell content, the value it must load as when it loads)
values = st.one_of(
    st.none().map(lambda v: (v, ANY)),
    st.integers(min_value=-50, max_value=10**7).map(lambda v: (v, v)),
    st.floats(min_value=-10, max_value=10**6, allow_nan=False, allow_infinity=False).map(lambda v: (v, v)),
    st.sampled_from(sorted(MEANING.items())),
    cell_text.map(lambda t: (t, ANY)),
)
units = st.one_of(st.none(), st.sampled_from(["件", "项", "个", "%", "公里", "米", "吨"]))
notes = st.one_of(st.none(), st.sampled_from(["本年度未统计", "无此项工作"]), cell_text)
rows = st.lists(st.tuples(names, units, values, notes), min_size=0, max_size=25)
files = st.lists(
    st.tuples(st.sampled_from(DEPARTMENTS), rows), min_size=1, max_size=3, unique_by=lambda f: f[0]
)


def _nonempty(value) -> bool:
    return value is not None and value != ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_every_value_cell_is_accounted_for(submissions):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        expected: dict[tuple[str, str], object] = {}
        meaning: dict[tuple[str, str], object] = {}
        matched: dict[str, list[tuple[object, str]]] = {}  # indicator → (value, note) of each row naming it
        for department, content in submissions:
            rel = f"测试县/2020/{department}.xlsx"
            write_xlsx(raw / rel, [[i, n, u, v, c] for i, (n, u, (v, _), c) in enumerate(content, start=1)])
            for row, (name, _, (value, means), note) in enumerate(content, start=2):
                if _nonempty(value) and not _formula(value):
                    expected[(rel, f"D{row}")] = value
                    meaning[(rel, f"D{row}")] = means
                indicator = CATALOG.by_name(name)
                if indicator is not None:
                    text = "" if note is None or _formula(note) else note.strip()
                    matched.setdefault(indicator.indicator_id, []).append((value, text))
        result = ingest(raw)
        loaded = {
            (f, c): v
            for f, c, v, d in zip(
                result.indicators["source_file"],
                result.indicators["cell"],
                result.indicators["value"],
                result.indicators["derived"],
                strict=True,
            )
            if not d
        }
        flagged = set(zip(result.issues["file"], result.issues["cell"], strict=True))
        rejected = set(result.issues.loc[result.issues["code"].isin(FILE_CODES), "file"])
        for place, raw_value in expected.items():
            assert place in loaded or place in flagged or place[0] in rejected, (place, raw_value)
            if place in loaded and meaning[place] != ANY:
                # a loaded value is what the cell says, never altered (units only scale: 米 → 公里),
                # equal up to the 15 significant digits a workbook keeps (Excel's own precision)
                means = meaning[place]
                assert means is not None, (place, raw_value)  # 若干, —, 无 … never become a number
                assert any(loaded[place] == pytest.approx(v, rel=1e-14) for v in (means, means / 1000)), (
                    place,
                    raw_value,
                )
        # nothing is invented: every loaded cell was a non-empty value cell
        assert set(loaded) <= set(expected)
        # a note explaining a blank travels: an indicator named by one row only, left blank with a 备注
        noted = dict(zip(result.issues["indicator_id"], result.issues["note"], strict=True))
        for indicator_id, [(value, note)] in ((k, v) for k, v in matched.items() if len(v) == 1):
            if note and value in BLANKS:
                assert noted.get(indicator_id) == note, (indicator_id, value, note)


def _formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=")
