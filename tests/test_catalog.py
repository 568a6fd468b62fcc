"""The catalog honours the spec's contract and is the only place metadata lives."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from analysis.core.catalog import Catalog, CatalogError, Expression, load_catalog
from analysis.ingest.pipeline import ingest
from tests.builders import write_xlsx

ROOT = Path(__file__).parents[1]
SPEC = ROOT / "tests" / "data" / "tongxu_2019_indicators.csv"  # byte-identical copy of the spec (checked)
CATALOG_YAML = ROOT / "src" / "analysis" / "core" / "catalog.yaml"


def spec_rows() -> list[dict]:
    return list(csv.DictReader(SPEC.open(encoding="utf-8")))


def test_every_spec_indicator_is_in_the_catalog_unchanged():
    catalog = load_catalog()
    rows = spec_rows()
    assert len(rows) == 52
    assert [r["indicator_id"] for r in rows] == [i.indicator_id for i in catalog.reported]
    for row in rows:
        ind = catalog.indicators[row["indicator_id"]]
        assert (ind.name_zh, ind.unit, ind.section, ind.department) == (
            row["name_zh"],
            row["unit"],
            row["section"],
            row["department"],
        )
        assert ind.description and ind.topic in catalog.topics
        assert catalog.by_name(row["name_zh"]) is ind
        assert catalog.by_code(row["indicator_id"]) is ind


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("双替代户数", "functions.clean_heating_households"),
        ("完成\u201c双替代\u201d户数", "functions.clean_heating_households"),
        ('完成"双替代"户数', "functions.clean_heating_households"),
        ("乡镇（街道）公共法律服务工作站", "disputes.legal_service_stations"),
        ("调解成功率", "disputes.mediation_success_rate"),
        ("人民调解成功率 ", "disputes.mediation_success_rate"),
        ("DISPUTES.MEDIATORS", None),  # codes are matched with by_code, not by_name
    ],
)
def test_names_and_aliases(written, expected):
    found = load_catalog().by_name(written)
    assert (found.indicator_id if found else None) == expected


def test_units_departments_and_expressions():
    catalog = load_catalog()
    assert catalog.resolve_unit("千米") == ("公里", 1.0)
    assert catalog.resolve_unit("米") == ("公里", 0.001)
    assert catalog.resolve_unit("吨") is None
    assert catalog.department("编办") == "县委机构编制委员会办公室"
    assert catalog.department("不存在的局") is None
    expr = Expression("a.x - (a.y + 2) * a.z / 4")
    assert expr.names == ("a.x", "a.y", "a.z")
    assert expr.evaluate({"a.x": 10, "a.y": 2, "a.z": 4}) == 6
    assert expr.render({"a.x": "甲"}) == "甲 − (a.y + 2) × a.z ÷ 4"


@pytest.mark.parametrize("bad", ["__import__('os')", "a.b ** 2", "a.b[0]", "lambda: 1", "a.b +"])
def test_expressions_are_arithmetic_only(bad):
    with pytest.raises(CatalogError):
        Expression(bad)


def _catalog_data() -> dict:
    return yaml.safe_load(CATALOG_YAML.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["indicators"].append(dict(d["indicators"][0])), "重复"),
        (lambda d: d["indicators"][0].update(unit="斤"), "单位"),
        (lambda d: d["indicators"][0].update(department="县不存在局"), "填报单位"),
        (lambda d: d["identities"][0].update(lhs="functions.nope + 1"), "未知指标"),
        (lambda d: d["derived"][0].update(formula="open('x')"), "表达式"),
    ],
)
def test_a_broken_catalog_is_refused_with_a_reason(edit, message):
    data = _catalog_data()
    edit(data)
    with pytest.raises(CatalogError, match=message):
        Catalog(data)


def test_adding_an_indicator_is_a_yaml_edit(tmp_path):
    data = _catalog_data()
    data["indicators"].append(
        {
            "indicator_id": "disputes.legal_aid_cases",
            "name_zh": "办理法律援助案件",
            "unit": "件",
            "section": "一(八)化解社会矛盾纠纷",
            "topic": "legal_services",
            "department": "县司法局",
            "description": "全年办理的法律援助案件数。",
        }
    )
    data["identities"].append(
        {
            "id": "aid_le_cases",
            "kind": "le",
            "lhs": "disputes.legal_aid_cases",
            "rhs": "disputes.mediation_cases",
            "title_zh": "法律援助案件不超过调解件数",
        }
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog = load_catalog(path)
    write_xlsx(
        tmp_path / "raw" / "通许县" / "2020" / "县司法局.xlsx",
        [[1, "办理法律援助案件", "件", "120件"], [2, "调解矛盾纠纷", "件", 100]],
    )
    result = ingest(tmp_path / "raw", catalog)
    row = result.indicators.set_index("indicator_id").loc["disputes.legal_aid_cases"]
    assert row["value"] == 120 and row["topic"] == "legal_services"
    mismatch = result.issues[result.issues["code"] == "reconciliation-mismatch"]
    assert list(mismatch["message"].str.contains("法律援助案件不超过调解件数")) == [True]
