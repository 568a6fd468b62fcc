"""The terminal's last lines are the answer (issue 21): after an ingest or a run with problems in the data, a
short Chinese summary — how many errors and warnings, the first few as "单位 · 文件 · 单元格 · 问题", and
where the full list is; a mistyped option is named with the closest valid one."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import cli
from analysis.core import names
from analysis.core.problem_summary import SHOWN, summary_lines
from analysis.core.problems import Problem
from analysis.ingest.pipeline import issues_frame
from analysis.report.dispatch import ReportResult
from analysis.report.targets import Target
from tests import fixtures_processed as fp
from tests.builders import write_xlsx
from tests.test_batch import write_processed


def test_ingest_ends_with_the_bad_cell_and_where_the_list_is(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    write_xlsx(raw / "通许县" / "2019" / "县司法局.xlsx", [[1, "调解矛盾纠纷", "件", "很多"]])
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out")]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("数据问题："))
    assert lines[at].startswith("数据问题：错误 1 条，警告 0 条。")
    assert lines[at + 1].startswith("  ✗ 县司法局 · 通许县/2019/县司法局.xlsx · 数据!D")
    assert "很多" in lines[at + 1]
    assert lines[-1] == (
        f"完整清单：{tmp_path / 'out' / 'issues.csv'}；报告中的“数据质量与勾稽核对”页："
        f"生成报告后见 reports/<地区>/<年度>/{names.DATA_QUALITY_PAGE}"
    )


def test_a_clean_ingest_adds_no_summary(tmp_path: Path, capsys) -> None:
    raw = tmp_path / "raw"
    write_xlsx(raw / "通许县" / "2019" / "县司法局.xlsx", [[1, "调解矛盾纠纷", "件", 12]])
    cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert "数据问题：" not in capsys.readouterr().out


def test_run_ends_with_the_problems_of_the_reports_it_made(tmp_path: Path, capsys, monkeypatch) -> None:
    processed = write_processed(
        tmp_path / "processed"
    )  # fp.issues(): of 通许县 2019, an error and 2 warnings
    folder = tmp_path / "reports" / "通许县" / "2019"

    def reused(*args, **kwargs) -> list[ReportResult]:
        return [ReportResult(Target("通许县", 2019), folder, [], 0.0, [], reused_pages=9)]

    monkeypatch.setattr("analysis.report.batch.run_batch", reused)
    code = cli.main(["run", "--region", "通许县", "--year", "2019", "--processed", str(processed)])
    assert code == 0  # the notebooks' status: the data's errors are ingest's to report
    lines = capsys.readouterr().out.strip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("数据问题："))
    assert lines[at - 1].startswith("共 1 份报告")
    assert lines[at] == "数据问题：错误 1 条，警告 2 条。（单位 · 文件 · 单元格 · 问题）："
    assert lines[at + 1].startswith("  ✗ 县水利局 · 通许县/2019/县水利局.xlsx · Sheet1!C4 · ")  # errors first
    warned = lines[at + 2 : at + 4]
    assert any(x.startswith("  ! 县委机构编制委员会办公室 · ") and "权责清单调整!E5" in x for x in warned)
    assert "其他地区的问题" not in "\n".join(lines)  # 杞县's problem is not this report's
    assert lines[-1] == (
        f"完整清单：{processed / 'issues.csv'}；报告中的“数据质量与勾稽核对”页：{folder / names.DATA_QUALITY_PAGE}"
    )


def test_only_the_first_few_are_named_and_control_characters_never_reach_the_terminal() -> None:
    problems = [
        Problem(
            "bad-number", f"第 {k} 个\x1b[31m红字\n换行", region="通许县", year=2019, department="县水利局"
        )
        for k in range(SHOWN + 3)
    ]
    lines = summary_lines(issues_frame(problems), "issues.csv", "页")
    assert (
        lines[0]
        == f"数据问题：错误 {SHOWN + 3} 条，警告 0 条。前 {SHOWN} 条（单位 · 文件 · 单元格 · 问题）："
    )
    assert len(lines) == SHOWN + 2
    assert lines[1] == "  ✗ 县水利局 · — · — · 第 0 个 [31m红字 换行"
    assert not any("\x1b" in line or "\n" in line for line in lines)
    assert summary_lines(fp.empty_issues(), "issues.csv", "页") == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--regoin", "通许县"], "未知参数 --regoin，是否想用 --region？"),
        (["run", "--region", "通许县", "--yaer=2019"], "未知参数 --yaer，是否想用 --year？"),
        (["ingest", "--froce"], "未知参数 --froce，是否想用 --force？"),
        (["draft", "--region", "通许县", "--year", "2019", "--pfd"], "未知参数 --pfd，是否想用 --pdf？"),
    ],
)
def test_a_mistyped_option_is_named_with_the_closest_one(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.strip().splitlines()[-1].endswith(f"错误：{message}")
    assert "缺少必需的参数" not in err


def test_abbreviations_argparse_accepts_still_work(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--reg", "通许县", "--year", "2019", "--time", "x"])
    assert "--timeout：'x' 不是整数" in capsys.readouterr().err and exit_.value.code == 2
