"""The catalog over the years: validity, renames, regrouped sections and editions (issue 20).

``tests/data/catalog_2021.yaml`` is a second edition of the shipped catalog: one indicator added in 2021,
one retired after 2020, one renamed with a unit change (条 → 万条), one section regrouped. Two regions
report 2019–2022 (workbooks written by :func:`tests.builders.write_years`), ingested once with each edition.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import analysis.core
from analysis.cli import main
from analysis.core import store
from analysis.core.catalog import CatalogError, load_catalog
from analysis.core.catalog_diff import diff, lines, year_changes
from analysis.draft.plan import build_plan
from analysis.explore import charts, comparison, frames, quality, sentences, tables
from analysis.explore.selection import select
from analysis.ingest.pipeline import ingest
from analysis.ingest.template import build_template
from analysis.report import summary
from analysis.site import overview
from tests.builders import write_years

EDITION = Path(__file__).parent / "data" / "catalog_2021.yaml"
REGIONS, YEARS = ["通许县", "杞县"], [2019, 2020, 2021, 2022]
ADDED, RETIRED = "disputes.online_mediation_cases", "disclosure.press_releases"
OLD, NEW = "functions.credit_public_records", "functions.credit_public_records_10k"
MOVED = "enforcement.demo_sites_upgraded"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same raw folder ingested with the shipped catalog and with the 2021 edition."""
    edition, shipped = load_catalog(EDITION), load_catalog()
    late = {("通许县", 2021, "县政府办公室"): [["突发事件新闻稿", "条", 3]]}  # retired after 2020, still sent
    raw = write_years(tmp_path_factory.mktemp("years") / "raw", edition, REGIONS, YEARS, late)
    return {
        "raw": raw,
        "edition": (edition, ingest(raw, edition, workers=1)),
        "shipped": (shipped, ingest(raw, shipped, workers=1)),
    }


def _year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    return frame[pd.to_numeric(frame["year"]) == year].reset_index(drop=True)


# --- the catalog of a year ------------------------------------------------------------------------------


def test_the_2019_catalog_of_the_edition_is_the_shipped_catalog():
    edition, shipped = load_catalog(EDITION), load_catalog()
    year = edition.for_year(2019)

    def shape(c):
        return [(i.indicator_id, i.name_zh, i.unit, i.section, i.department) for i in c.indicators.values()]

    assert shape(year) == shape(shipped)
    assert [(s.label, s.heading, s.topics) for s in year.report_sections] == [
        (s.label, s.heading, s.topics) for s in shipped.report_sections
    ]
    assert [x.id for x in year.identities] == [x.id for x in shipped.identities]
    assert shipped.for_year(2021) is shipped  # an edition without years is every year's catalog


def test_validity_decides_what_a_year_lists():
    edition = load_catalog(EDITION)
    assert ADDED not in edition.for_year(2020).indicators and ADDED in edition.for_year(2021).indicators
    assert RETIRED in edition.for_year(2020).indicators and RETIRED not in edition.for_year(2021).indicators
    assert edition.is_valid(OLD, 2020) and not edition.is_valid(OLD, 2021) and edition.is_valid(NEW, 2022)
    assert edition.for_year(2020).indicators[MOVED].section == "一(四)创新行政指导"
    assert edition.for_year(2021).indicators[MOVED].section == "一(五)强化执法监督"
    assert "一(四)深化执法改革" in [s.label for s in edition.for_year(2021).report_sections]
    assert len(edition.for_year(2021).reported) == len(edition.for_year(2019).reported) == 52


@pytest.fixture
def edition_data():
    return yaml.safe_load(EDITION.read_text(encoding="utf-8"))


def _entry(data: dict, iid: str) -> dict:
    return next(d for d in data["indicators"] if d["indicator_id"] == iid)


def _since_after_until(d):
    _entry(d, ADDED)["until"] = 2020


def _cycle(d):
    _entry(d, OLD)["replaces"] = NEW


def _overlap(d):
    del _entry(d, OLD)["until"]


def _unknown_successor(d):
    _entry(d, NEW)["replaces"] = "functions.no_such"


def _year_as_text(d):
    _entry(d, ADDED)["since"] = "2021年"


def _section_year_as_text(d):
    _entry(d, MOVED)["section"] = {2016: "一(四)创新行政指导", "2021年": "一(五)强化执法监督"}


def _section_missing_in_a_year(d):
    _entry(d, MOVED)["section"] = {2016: "一(四)创新行政指导"}  # that section ends in 2020


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_since_after_until, ["disputes.online_mediation_cases", "since（2021年）晚于 until（2020年）"]),
        (_cycle, ["循环", "functions.credit_public_records_10k → functions.credit_public_records"]),
        (_overlap, ["有效期重叠", "各年度"]),
        (_unknown_successor, ["未知指标 functions.no_such"]),
        (_year_as_text, ["since 必须是年度"]),
        (_section_year_as_text, ["section 按年度写时，键必须是起始年度", "2021年"]),
        (_section_missing_in_a_year, ["2021年的指标目录", "不在 report_sections 中"]),
    ],
)
def test_loading_refuses_an_inconsistent_edition_in_chinese(tmp_path, edition_data, change, words):
    change(edition_data)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(edition_data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    for word in words:
        assert word in str(caught.value)


def test_an_identity_with_a_figure_outside_the_year_is_not_evaluated_and_said_once(tmp_path, edition_data):
    edition_data["identities"].append(
        {
            "id": "online_le_cases",
            "kind": "le",
            "lhs": ADDED,
            "rhs": "disputes.mediation_cases",
            "title_zh": "在线调解不超过调解件数",
        }
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(edition_data, allow_unicode=True), encoding="utf-8")
    edition = load_catalog(path)
    assert "online_le_cases" in [x.id for x in edition.for_year(2021).identities]
    assert [x.identity_id for x in edition.for_year(2020).not_evaluated] == ["online_le_cases"]
    view = select(pd.DataFrame(columns=["region", "year", "indicator_id"]), "通许县", 2020, edition)
    table = quality.identity_table(view)
    said = table[table["检查"] == "在线调解不超过调解件数"]
    assert len(said) == 1 and "不在2020年的指标目录中" in said["说明"].iloc[0]


# --- ingest ---------------------------------------------------------------------------------------------


def test_a_value_outside_its_validity_is_a_warning_naming_its_years(runs):
    _, result = runs["edition"]
    issues = result.issues
    late = issues[issues["code"] == "indicator-not-in-year"]
    assert len(late) == 1
    row = late.iloc[0]
    assert (row["severity"], row["year"], row["indicator_id"]) == ("warning", 2021, RETIRED)
    assert "2020年及以前" in row["message"] and "“3”" in row["message"] and row["cell"]
    assert not ((result.indicators["indicator_id"] == RETIRED) & (result.indicators["year"] == 2021)).any()


def test_outside_its_validity_an_indicator_is_never_missing(runs):
    edition, result = runs["edition"]
    missing = result.issues[result.issues["code"].isin(["missing-indicator", "missing-submission"])]
    assert missing.empty  # every department sent every indicator of its year, and nothing else is asked
    view = select(result.indicators, "通许县", 2021, edition, result.issues)
    table = quality.submissions_table(view, quality.issues_of(result.issues, "通许县", 2021))
    assert (table["未填报指标"] == 0).all()
    assert table["目录指标"].sum() == 52
    rows = overview.site_rows(Path("/nonexistent"), result.indicators, result.issues, edition)
    assert {(r.year, r.reported, r.expected) for r in rows} == {(y, 52, 52) for y in YEARS}


def test_templates_ask_for_the_indicators_of_their_year():
    edition = load_catalog(EDITION)

    def asked(year: int, department: str) -> list[str]:
        ws = build_template(edition, "通许县", year, department).worksheets
        return [str(c.value) for sheet in ws for row in sheet.iter_rows() for c in row if c.value]

    assert "突发事件新闻稿" in asked(2020, "县政府办公室") and "突发事件新闻稿" not in asked(
        2021, "县政府办公室"
    )
    assert "在线调解矛盾纠纷" in asked(2021, "县司法局") and "在线调解矛盾纠纷" not in asked(2019, "县司法局")


# --- 2019 as with the shipped catalog --------------------------------------------------------------------


def _cells(workbook) -> list[list[tuple]]:
    return [[tuple(c.value for c in row) for row in ws.iter_rows()] for ws in workbook.worksheets]


def test_2019_is_identical_to_a_run_with_the_shipped_catalog(runs):
    (edition, new), (shipped, old) = runs["edition"], runs["shipped"]
    pd.testing.assert_frame_equal(_year(new.indicators, 2019), _year(old.indicators, 2019))
    pd.testing.assert_frame_equal(_year(new.issues, 2019), _year(old.issues, 2019))
    for department in shipped.departments:
        a, b = (
            build_template(edition, "通许县", 2019, department),
            build_template(shipped, "通许县", 2019, department),
        )
        assert _cells(a) == _cells(b)
        assert [dv.sqref for ws in a.worksheets for dv in ws.data_validations.dataValidation] == [
            dv.sqref for ws in b.worksheets for dv in ws.data_validations.dataValidation
        ]
    views = [select(r.indicators, "通许县", 2019, c, r.issues) for c, r in (runs["edition"], runs["shipped"])]
    a, b = views
    mine = [quality.issues_of(r.issues, "通许县", 2019) for r in (new, old)]
    pd.testing.assert_frame_equal(
        quality.submissions_table(a, mine[0]), quality.submissions_table(b, mine[1])
    )
    pd.testing.assert_frame_equal(tables.coverage_table(a), tables.coverage_table(b))
    pd.testing.assert_frame_equal(tables.tidy_table(a), tables.tidy_table(b))
    pd.testing.assert_frame_equal(quality.identity_table(a), quality.identity_table(b))
    pd.testing.assert_frame_equal(summary.indicator_rows(a), summary.indicator_rows(b))
    books = [
        openpyxl.load_workbook(
            io.BytesIO(summary.build_workbook("通许县", 2019, r.indicators, _year(r.issues, 2019), c))
        )
        for c, r in (runs["edition"], runs["shipped"])
    ]
    assert _cells(books[0]) == _cells(books[1])
    assert build_plan(a, new.issues) == build_plan(b, old.issues)
    assert sentences.draft(a) == sentences.draft(b)


# --- renames, trends, year on year -----------------------------------------------------------------------


def test_the_renamed_indicator_is_one_series_over_four_years(runs):
    edition, result = runs["edition"]
    view = select(result.indicators, "通许县", 2022, edition)
    for asked in ([NEW], [OLD]):  # a notebook naming the old id gets the series of the year too
        chart = charts.trend(view, asked)
        assert len(chart.series) == 1 and chart.labels == ("2019", "2020", "2021", "2022")
        name, values = chart.series[0]
        assert name == "向“信用中国（河南开封）”推送双公示信息" and None not in values
        assert values[0] == pytest.approx(440 * 0.0001) and values[3] == pytest.approx(
            round(440 * 1.3 * 0.0001, 4)
        )
        assert "2021年起指标名称改为" in chart.note and "单位由条改为万条" in chart.note
    table = frames.across_years(result.indicators, NEW, edition)
    assert list(table.index) == YEARS and table.notna().all().all()
    assert table.loc[2019, "杞县"] == pytest.approx(2 * 440 * 0.0001)
    assert "2021年起指标名称改为" in table.attrs["footnote"]


def test_year_on_year_text_follows_a_rename_and_says_so(runs):
    edition, result = runs["edition"]
    line = sentences.yoy(select(result.indicators, "通许县", 2021, edition), [OLD])
    assert len(line) == 1 and line[0].startswith("向“信用中国（河南开封）”推送双公示信息")
    assert "2021年起指标名称改为" in line[0] and "比2020年增加0.0044万条" in line[0]
    rows = summary.indicator_rows(select(result.indicators, "通许县", 2021, edition)).set_index(
        "indicator_id"
    )
    assert rows.loc[NEW, "previous"] == pytest.approx(round(440 * 1.1) * 0.0001)
    assert "2021年起指标名称改为" in rows.loc[NEW, "note"]
    assert RETIRED not in rows.index and OLD not in rows.index
    table = tables.indicator_table(select(result.indicators, "通许县", 2021, edition), [OLD]).iloc[0]
    assert table["2020年"] == "0.0484万条" and "2021年起指标名称改为" in table["备注"]


def test_year_on_year_text_is_never_written_across_a_split(tmp_path, edition_data):
    parts = [
        {**_entry(edition_data, "disputes.mediation_orgs"), "indicator_id": f"disputes.mediation_orgs_{k}",
         "name_zh": name, "since": 2021, "replaces": "disputes.mediation_orgs"}
        for k, name in (("village", "村级人民调解组织"), ("trade", "行业性人民调解组织"))
    ]  # fmt: skip
    _entry(edition_data, "disputes.mediation_orgs")["until"] = 2020
    edition_data["indicators"] += parts
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(edition_data, allow_unicode=True), encoding="utf-8")
    edition = load_catalog(path)
    assert edition.lineage.split_from("disputes.mediation_orgs_village").kind == "split"
    rows = [
        {"region": "通许县", "year": y, "indicator_id": i, "value": v, "qualifier": "", "precision": 1.0}
        for y, i, v in [
            (2020, "disputes.mediation_orgs", 300),
            (2021, "disputes.mediation_orgs_village", 200),
        ]
    ]
    view = select(pd.DataFrame(rows), "通许县", 2021, edition)
    assert sentences.yoy(view, ["disputes.mediation_orgs_village", "disputes.mediation_orgs"]) == []
    assert any("拆分为" in x for x in lines(year_changes(edition, 2021)))


# --- sections, comparison, editions ---------------------------------------------------------------------


def test_the_draft_uses_the_sections_of_its_year(runs):
    edition, result = runs["edition"]
    headings = {y: [s.heading for s in build_plan(select(result.indicators, "通许县", y, edition), result.issues).sections] for y in (2020, 2021)}  # fmt: skip
    assert any("创新行政指导" in h for h in headings[2020]) and not any(
        "创新行政指导" in h for h in headings[2021]
    )
    assert any("深化行政执法体制改革" in h for h in headings[2021])


def test_the_2021_comparison_names_the_new_indicator_and_2019_does_not(runs, monkeypatch, tmp_path):
    edition, result = runs["edition"]
    shown: dict[int, list[str]] = {}
    for year in (2019, 2021):
        notes = shown.setdefault(year, [])
        monkeypatch.setattr(comparison.nb, "show_note", notes.append)
        comparison.setup(
            year, "", tmp_path, indicators=result.indicators, issues=result.issues, catalog=edition
        )
    text = {y: "".join(n) for y, n in shown.items()}
    assert "在线调解矛盾纠纷" in text[2021] and "在线调解矛盾纠纷" not in text[2019]
    cmp = comparison.compare(result.indicators, result.issues, 2021, catalog=edition)
    assert "向“信用中国（河南开封）”推送双公示信息（万条）" in comparison.region_table(cmp).columns
    assert set(comparison.completeness_table(cmp)["通许县"]) <= {"10/10", *(f"{n}/{n}" for n in range(1, 40))}


def test_catalog_diff_prints_what_an_edition_changes(capsys):
    shipped = Path(analysis.core.__file__).parent / "catalog.yaml"
    assert main(["catalog", "diff", str(shipped), str(EDITION)]) == 0
    out = capsys.readouterr().out
    for words in (
        "新增：“在线调解矛盾纠纷”",
        "停用：“突发事件新闻稿”",
        "改名或接替：2021年起",
        "单位由条改为万条",
        "调整章节：“再提升的服务型行政执法示范点”",
    ):
        assert words in out
    assert main(["catalog", "diff", str(EDITION), str(EDITION)]) == 0
    assert "没有变化" in capsys.readouterr().out
    assert not diff(load_catalog(), load_catalog())


def test_a_balance_not_checked_in_a_year_is_an_empty_chart_saying_why(tmp_path, edition_data):
    for entry in edition_data["identities"]:
        if entry["id"] == "power_list_balance":
            entry["until"] = 2020
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(edition_data, allow_unicode=True), encoding="utf-8")
    edition = load_catalog(path)
    empty = pd.DataFrame(columns=["region", "year", "indicator_id", "value"])
    chart = charts.waterfall(select(empty, "通许县", 2021, edition), "power_list_balance", "权责清单调整")
    assert not chart.values and "2021年的指标目录中不检查“权责清单增减平衡" in chart.note
    cmp = comparison.compare(empty, empty.assign(severity=[]), 2021, catalog=edition)
    assert "不检查" in comparison.balance_chart(cmp).note
    assert charts.waterfall(
        select(empty, "通许县", 2020, edition), "power_list_balance", "权责清单调整"
    ).missing


def test_ingest_with_an_edition_records_its_hash(runs, tmp_path, capsys):
    out = tmp_path / "processed"
    assert (
        main(["ingest", "--raw", str(runs["raw"]), "--out", str(out), "--catalog", str(EDITION), "--quiet"])
        == 0
    )
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["catalog"]["sha256"] == hashlib.sha256(EDITION.read_bytes()).hexdigest()
    assert (
        store.read_catalog(out).for_year(2021).indicators.keys()
        == load_catalog(EDITION).for_year(2021).indicators.keys()
    )


def test_a_merge_is_declared_and_never_compared_year_on_year(tmp_path, edition_data):
    merged = {**_entry(edition_data, "disputes.legal_service_stations"), "indicator_id": "disputes.legal_service_points",
              "name_zh": "基层公共法律服务站点", "since": 2021,
              "replaces": ["disputes.legal_service_stations", "disputes.legal_service_rooms"]}  # fmt: skip
    for old in merged["replaces"]:
        _entry(edition_data, old)["until"] = 2020
    edition_data["indicators"].append(merged)
    edition_data["derived"] = [
        d for d in edition_data["derived"] if "legal_service_rooms" not in d["formula"]
    ]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(edition_data, allow_unicode=True), encoding="utf-8")
    edition = load_catalog(path)
    assert edition.lineage.split_from("disputes.legal_service_points").kind == "merge"
    rows = [
        {"region": "通许县", "year": y, "indicator_id": i, "value": v, "qualifier": "", "precision": 1.0}
        for y, i, v in [
            (2020, "disputes.legal_service_stations", 12),
            (2021, "disputes.legal_service_points", 330),
        ]
    ]
    view = select(pd.DataFrame(rows), "通许县", 2021, edition)
    assert sentences.yoy(view, ["disputes.legal_service_points"]) == []
    assert view.earlier("disputes.legal_service_points", 2020) is None
    assert any("合并为" in x for x in lines(year_changes(edition, 2021)))
