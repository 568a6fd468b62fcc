"""Drafted report sentences: wording from the data, the power-list gap, 未填报, YoY, template checks."""

from __future__ import annotations

import pytest

from analysis.core.catalog import load_catalog
from analysis.explore import selection, sentences
from tests import fixtures_processed as fp


@pytest.fixture(scope="module")
def view():
    return selection.select(fp.spec_frame(), fp.REGION, fp.YEAR)


def by_id(drafts):
    return {d.id: d for d in drafts}


def test_mediation_sentence_is_the_report_sentence(view):
    d = by_id(sentences.draft(view))["mediation"]
    assert d.ok and d.text == "全年共调解矛盾纠纷6736件，调解成功6609件，成功率98.1%。"


def test_power_list_sentences_name_the_unexplained_gap(view):
    drafts = by_id(sentences.draft(view, topic="powers"))
    assert drafts["power_list"].text == (
        "经动态调整，权责清单取消行政职权事项38项，增补44项，修订、完善实施依据260项，"
        "调整后由原来的2705项行政职权精简至2660项。"
    )
    gap = drafts["power_list_gap"].text
    assert "应为2711项" in gap and "报告数为2660项" in gap and "51项的减少未作说明" in gap


def test_power_list_sentence_follows_the_sign_of_the_gap():
    values = {k: v for k, (v, _) in fp.spec_values().items()}
    values["functions.power_items_after"] = 2711
    balanced = selection.select(fp.frame(fp.rows(values=values)), fp.REGION, fp.YEAR)
    assert "增减平衡" in by_id(sentences.draft(balanced, "powers"))["power_list_gap"].text
    values["functions.power_items_after"] = 2720
    more = selection.select(fp.frame(fp.rows(values=values)), fp.REGION, fp.YEAR)
    drafts = by_id(sentences.draft(more, "powers"))
    assert "9项的增加未作说明" in drafts["power_list_gap"].text
    assert "调整为2720项" in drafts["power_list"].text


def test_values_written_as_the_report_writes_them(view):
    drafts = by_id(sentences.draft(view))
    assert "完成“双替代”1.1万户" in drafts["pollution"].text
    assert "印刷学习用书500余本" in drafts["leadership_study"].text
    assert drafts["service_items"].text == "目前通许县政务服务事项1146项。"
    assert drafts["reconsideration"].text.startswith(
        "2019年，县政府共收到行政复议申请12件，受理12件，审结12件"
    )
    assert drafts["disputes_per_mediator"].text == "平均每名人民调解员调解矛盾纠纷6.79件。"
    assert sentences.number_zh(11000) == "1.1万" and sentences.number_zh(12345) == "12345"


def test_every_sentence_drafts_on_the_full_data(view):
    drafts = sentences.draft(view)
    assert drafts and all(d.ok for d in drafts)
    assert "____" not in sentences.paragraph(drafts)
    topics = [d.topic for d in drafts]
    order = list(load_catalog().topics)
    assert topics == sorted(topics, key=order.index)


def test_missing_figure_means_no_sentence_and_names_it():
    tiny = selection.select(fp.tiny_frame(), "小县", fp.YEAR)
    drafts = by_id(sentences.draft(tiny))
    assert drafts["service_items"].text == "目前小县政务服务事项1146项。"
    mediation = drafts["mediation"]
    assert not mediation.ok and mediation.text == ""
    assert mediation.missing == ("调解成功矛盾纠纷", "人民调解成功率")
    assert drafts["power_list_gap"].missing  # the sign itself cannot be evaluated
    assert sentences.paragraph(list(drafts.values())) == "目前小县政务服务事项1146项。"


def test_yoy_sentences_only_with_an_earlier_year(view):
    assert sentences.yoy(view, ["disputes.mediation_cases"]) == []
    history = selection.select(fp.history_frame(), fp.REGION, fp.YEAR)
    lines = sentences.yoy(
        history,
        ["disputes.mediation_cases", "disputes.mediation_success_rate", "functions.clean_heating_households"],
    )
    assert lines == [
        "调解矛盾纠纷6736件，比2018年增加674件，增长11.1%。",
        "完成“双替代”户数1.1万户，比2018年增加1100户，增长11.1%。",
    ]


def test_templates_refer_to_catalog_ids_and_topics_only():
    templates = sentences.load_templates()
    assert sentences.check_templates(templates, load_catalog()) == []
    assert set(sentences.key_figures()) <= set(load_catalog().indicators)


def test_template_checks_can_fail(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        'key_figures: [no.such]\nsentences:\n  - {id: x, topic: nowhere, text: "{disputes.nope}"}\n',
        encoding="utf-8",
    )
    problems = sentences.check_templates(sentences.load_templates(path), load_catalog())
    assert len(problems) == 3
    path.write_text(
        'sentences:\n  - {id: x, topic: powers, sign: functions.power_items_after, text: "x"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError):
        sentences.load_templates(path)


def test_yoy_of_a_signed_figure_has_no_growth_rate():
    frame = fp.frame(
        fp.rows(year=2018, values={"functions.gov_service_items": 1000.0}),
        fp.rows(values={"functions.gov_service_items": 1146.0}),
    )
    view = selection.select(frame, fp.REGION, fp.YEAR)
    gap = "derived.power_items_unexplained_change"
    history = selection.select(fp.history_frame(), fp.REGION, fp.YEAR)
    before = history.get(gap, 2018)
    assert before is not None and before < 0
    assert sentences.yoy(history, [gap]) == []  # a reconciliation gap is no achievement with a change
    assert sentences.yoy(view, ["functions.gov_service_items"]) == [
        "政务服务事项1146项，比2018年增加146项，增长14.6%。"
    ]
