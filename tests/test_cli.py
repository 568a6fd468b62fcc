"""The command line: Chinese help and errors, exit codes, terminal output that suits logs, and outputs
that hold only their own files."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from analysis import cli, cli_args
from analysis.core.fileio import lock_path
from analysis.ingest.reuse import RECORD
from analysis.report import targets
from tests.builders import write_xlsx

# What argparse writes in English when left alone.
ENGLISH = re.compile(
    r"usage:|options:|positional arguments|optional arguments|show this help|error:|required|"
    r"invalid|unrecognized|expected|choose from|argument"
)
FILE_LINE = re.compile(r"  [✓!✗] \S+\.xlsx（")
COMMANDS = ["ingest", "template", "run", "draft", "kernel", "codes"]


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMANDS)], ids=lambda a: " ".join(a) or "main")
def test_help_is_chinese(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert out.startswith("用法：python -m analysis") and "显示本帮助并退出" in out
    assert not ENGLISH.search(out), out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run"], "错误：缺少必需的参数：--region, --year"),
        (["template", "--region", "通许县", "--year", "二〇二〇"], "错误：参数 --year：'二〇二〇' 不是整数"),
        (["bogus"], "错误：参数 命令：无效的选择 'bogus'（可选：'ingest'"),
        (["codes", "--verbose"], "错误：无法识别的参数：--verbose"),
        (["run", "--region"], "错误：参数 --region：需要一个值"),
        ([], "错误：缺少必需的参数：命令"),
    ],
)
def test_argument_errors_are_chinese_with_exit_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("用法：") and message in err
    assert not ENGLISH.search(err), err


def test_unknown_argparse_messages_pass_through_unchanged():
    assert cli_args.translate("something new") == "something new"
    assert cli_args.translate("argument --x: expected 2 arguments") == "参数 --x：需要 2 个值"


def _raw_with_files(tmp_path: Path, n: int) -> Path:
    raw = tmp_path / "raw"
    for k in range(n):
        write_xlsx(raw / "通许县" / "2019" / f"单位{k:02d}.xlsx", [[1, "调解矛盾纠纷", "件", k + 1]])
    return raw


def test_ingest_shows_no_progress_bar_in_a_log(tmp_path, capsys):
    """stderr is not a terminal here (as in a log file or CI): one line per file, no bar interleaved."""
    raw = _raw_with_files(tmp_path, 21)
    code = cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code in (0, 1)  # the made-up units may be flagged; the output is the point here
    assert "读取报表" not in captured.err and "\r" not in captured.err
    lines = [x for x in captured.out.splitlines() if FILE_LINE.match(x)]
    assert len(lines) == 21 and "单位00.xlsx" in lines[0]


def test_ingest_shows_a_progress_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    raw = _raw_with_files(tmp_path, 21)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out")]) in (0, 1)
    captured = capsys.readouterr()
    assert "读取报表" in captured.err
    assert len([x for x in captured.out.splitlines() if FILE_LINE.match(x)]) == 21


def test_ingest_leaves_no_lock_file_in_its_output(tmp_path, capsys):
    out = tmp_path / "out"
    cli.main(["ingest", "--raw", str(_raw_with_files(tmp_path, 1)), "--out", str(out), "--quiet"])
    assert (out / "manifest.json").is_file()
    # the only hidden file is the record of what was read (analysis.ingest.reuse): no lock, no staging
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [RECORD]
    assert not lock_path(out).is_relative_to(out)


def test_ingest_exit_codes(tmp_path, capsys):
    raw = tmp_path / "raw"
    write_xlsx(raw / "通许县" / "2019" / "县司法局.xlsx", [[1, "调解矛盾纠纷", "件", "很多"]])
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "有错误" in captured.err and (tmp_path / "out" / "issues.csv").is_file()  # written all the same
    assert cli.main(["ingest", "--raw", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o2")]) == 2
    assert "找不到原始报表文件夹" in capsys.readouterr().err


def test_notebooks_are_found_through_the_documented_setting(tmp_path, monkeypatch):
    given, from_env = tmp_path / "given", tmp_path / "env"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(targets.NOTEBOOKS_ENV, raising=False)
    assert targets.notebook_folder(None) == tmp_path / "notebooks"
    monkeypatch.setenv(targets.NOTEBOOKS_ENV, str(from_env))
    assert targets.notebook_folder(None) == from_env
    assert targets.notebook_folder(given) == given
    with pytest.raises(targets.BatchError, match="--notebooks.*FAZHI_NOTEBOOKS"):
        targets.discover_notebooks(targets.notebook_folder(None))
