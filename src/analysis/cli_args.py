"""The command line's words: every command, option and argparse message in Chinese (``cli`` uses it).

argparse prints English ("usage", "error: the following arguments are required"); users read Chinese, so
its headings, ``-h`` and its error messages are translated here, matched on the text argparse produces.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from pathlib import Path

EXIT_USAGE = 2  # argparse's own exit status for a bad command line, as in ``cli``

# argparse's own messages (Python 3.11–3.13), in Chinese; matched on the text argparse produces.
_MESSAGES = [
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"one of the arguments (.*) is required", r"必须给出以下参数之一：\1"),
    (r"ambiguous option: (\S+) could match (.*)", r"选项 \1 不明确，可能是：\2"),
    (r"argument (.*?): (.*)", ""),  # translated part by part in translate()
    (r"invalid choice: (.*?) \(choose from (.*)\)", r"无效的选择 \1（可选：\2）"),
    (r"invalid int value: (.*)", r"\1 不是整数"),
    (r"invalid (\w+) value: (.*)", r"\2 不是有效的 \1 值"),
    (r"expected one argument", r"需要一个值"),
    (r"expected at least one argument", r"至少需要一个值"),
    (r"expected at most one argument", r"最多只能有一个值"),
    (r"expected (\d+) arguments?", r"需要 \1 个值"),
    (r"ignored explicit argument (.*)", r"多余的值 \1"),
    (r"not allowed with argument (.*)", r"不能与参数 \1 同时使用"),
]


def translate(message: str) -> str:
    """argparse's English error message in Chinese (unknown messages are left as they are)."""
    for pattern, replacement in _MESSAGES:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match and pattern.startswith("argument"):  # "argument X: <inner message>"
            return f"参数 {match.group(1)}：{translate(match.group(2))}"
        if match:
            return match.expand(replacement)
    return message


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that speaks Chinese: usage, headings, ``-h`` and every error message."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def parse_known_args(self, args=None, namespace=None):
        """An option that is none of this command's is named first, with the closest valid one
        ("未知参数 --regoin，是否想用 --region？"), before argparse would complain about missing ones."""
        if self._subparsers is None:  # a command's own parser: every option it sees must be its own
            for token in sys.argv[1:] if args is None else args:
                if token == "--":
                    break
                self._check_option(str(token))
        return super().parse_known_args(args, namespace)

    def _check_option(self, token: str) -> None:
        if not token.startswith("--"):
            return
        name = token.split("=", 1)[0]
        options = [o for o in self._option_string_actions if o.startswith("--")]
        if any(o.startswith(name) for o in options):  # exact, or an abbreviation argparse accepts
            return
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
        if close:
            self.error(f"未知参数 {name}，是否想用 {close[0]}？")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：错误：{translate(message)}\n")


def _positive(text: str) -> int:
    """A whole number of at least 1 (argparse reports the Chinese message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} 不是整数") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"应至少为 1，收到 {value}")
    return value


def check_lines(result, shown: Path) -> list[str]:
    """What ``check`` prints for a :class:`analysis.ingest.selfcheck.CheckResult`: one line per problem."""
    from analysis.core.problems import SEVERITY_ZH
    from analysis.core.text import clip, scrub_surrogates

    ctx = result.ctx
    lines = [f"检查 {shown}（{ctx.region} {ctx.year} 年度，{ctx.department or '单位未识别'}）"]
    for p in result.problems:
        where = f"工作表“{clip(p.sheet)}” {p.cell}".strip() if p.sheet else "整个文件"
        lines.append(f"  [{SEVERITY_ZH[p.severity]}] {where}：{p.message}")
    if not result.read:
        lines.append("文件无法读取，内容未检查；请按上面的说明改正后再检查。")
    else:
        clean = not result.errors + result.warnings
        lines.append(
            f"共 {result.values} 个数值可以导入；错误 {result.errors}，警告 {result.warnings}；"
            f"用时 {result.seconds:.2f} 秒。" + ("可以报送。" if clean else "请改正后再检查。")
        )
    return [scrub_surrogates(line) for line in lines]


def worker_cap() -> int:
    """The most worker processes ``--workers`` may ask for: four per CPU of this machine (at least 8)."""
    return max(8, 4 * (os.cpu_count() or 1))


def _workers(text: str) -> int:
    """``--workers``: a whole number (``run`` checks it is at least 1), capped at :func:`worker_cap` with a
    notice: 100,000 processes would exhaust the machine before the first notebook ran."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} 不是整数") from None
    cap = worker_cap()
    if value > cap:
        print(
            f"注意：--workers {value} 超过上限 {cap}（本机 CPU 数的 4 倍，至少 8），按 {cap} 个运行。",
            file=sys.stderr,
        )
        return cap
    return value


def _positive_workers(text: str) -> int:
    value = _positive(text)
    return _workers(str(value))


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="python -m analysis", description="法治政府建设情况报告：数据导入、校验、分析与报告"
    )
    sub = parser.add_subparsers(dest="command", required=True, title="命令", metavar="命令")

    ingest = sub.add_parser("ingest", help="读取 data/raw 中各单位报表，生成整洁数据表与问题清单")
    ingest.add_argument(
        "--raw", type=Path, default=Path("data/raw"), metavar="文件夹", help="原始报表文件夹（默认 data/raw）"
    )
    ingest.add_argument(
        "--out",
        type=Path,
        default=Path("data/processed"),
        metavar="文件夹",
        help="输出文件夹（默认 data/processed）",
    )
    ingest.add_argument("--catalog", type=Path, metavar="文件", help="指标目录 YAML（默认使用内置目录）")
    ingest.add_argument("--quiet", action="store_true", help="不显示进度条和逐文件摘要")
    ingest.add_argument(
        "--workers",
        type=_positive_workers,
        metavar="个数",
        help="并行读取报表的进程数（默认取环境变量 FAZHI_INGEST_WORKERS，否则文件多时每个 CPU 一个）",
    )
    ingest.add_argument(
        "--force",
        action="store_true",
        help="重新读取全部报表（默认只读取内容有变化的文件，其余沿用上次的读取结果）",
    )

    template = sub.add_parser("template", help="为各填报单位生成空白报表模板")
    template.add_argument("--region", required=True, metavar="地区", help="地区名称，如 通许县")
    template.add_argument("--year", required=True, type=int, metavar="年度", help="统计年度，如 2020")
    template.add_argument(
        "--out", type=Path, metavar="文件夹", help="输出文件夹（默认 templates/<地区>/<年度>）"
    )
    template.add_argument("--catalog", type=Path, metavar="文件", help="指标目录 YAML（默认使用内置目录）")

    run = sub.add_parser("run", help="批量运行分析笔记本，生成离线 HTML 报告")
    run.add_argument("--region", required=True, metavar="地区", help="地区名称，或 all 表示数据中的全部地区")
    run.add_argument("--year", required=True, metavar="年度", help="统计年度，或 all 表示数据中的全部年度")
    run.add_argument(
        "--processed", type=Path, default=Path("data/processed"), metavar="文件夹", help="整洁数据文件夹"
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        metavar="文件夹",
        help="报告输出文件夹（默认 reports）",
    )
    run.add_argument(
        "--workers",
        type=_workers,
        default=2,
        metavar="个数",
        help="并行运行的笔记本数（默认 2，上限为 CPU 数的 4 倍）",
    )
    run.add_argument(
        "--timeout", type=int, default=600, metavar="秒", help="单个单元格的执行时限（秒，默认 600）"
    )
    run.add_argument(
        "--notebooks",
        type=Path,
        metavar="文件夹",
        help="笔记本文件夹（默认取环境变量 FAZHI_NOTEBOOKS，否则为当前文件夹下的 notebooks/）",
    )
    run.add_argument(
        "--scheduler",
        metavar="地址",
        help="在 Dask 集群上运行笔记本：local 表示在本机启动 --workers 个 Dask 工作进程，或调度器地址 tcp://主机:8786"
        "（需要可选依赖 distributed；各工作机须能以相同路径访问笔记本、整洁数据和报告文件夹）",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="全部重新生成（默认只重新生成数据、笔记本、程序或参数有变化的报告，其余沿用上次的报告）",
    )

    draft = sub.add_parser("draft", help="从整洁数据表生成 Word 报告初稿（.docx，公文格式）")
    draft.add_argument("--region", required=True, metavar="地区", help="地区名称，如 通许县")
    draft.add_argument("--year", required=True, type=int, metavar="年度", help="统计年度，如 2019")
    draft.add_argument(
        "--out",
        type=Path,
        metavar="文件",
        help="输出文件（默认写入该地区、年度的报告文件夹 reports/<地区>/<年度>/；已被修改过的初稿不会被覆盖）",
    )
    draft.add_argument(
        "--processed", type=Path, default=Path("data/processed"), metavar="文件夹", help="整洁数据文件夹"
    )
    draft.add_argument(
        "--reports",
        type=Path,
        default=Path("reports"),
        metavar="文件夹",
        help="报告文件夹（未给出 --out 时，初稿写入其中的 <地区>/<年度>/）",
    )
    draft.add_argument(
        "--figures",
        choices=("annex", "none"),
        default="annex",
        help="图表放在哪里：annex 作为附件放在落款之后（默认），none 不附图表；正文始终只有文字",
    )
    draft.add_argument("--to", dest="addressee", metavar="机关", help="主送机关（上级政府；默认留待填写）")
    draft.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF 预览")

    check = sub.add_parser(
        "check", help="填报单位自查：按导入的全部单文件规则检查一个报表，列出问题（不改动 data/）"
    )
    check.add_argument("file", type=Path, metavar="文件", help="要检查的报表（.xlsx/.xlsm/.xls/.ods）")
    check.add_argument(
        "--region", metavar="地区", help="地区名称（默认取文件夹 <地区>/<年度>/ 或“基本信息”）"
    )
    check.add_argument("--year", type=int, metavar="年度", help="统计年度（默认取文件夹或“基本信息”）")
    check.add_argument(
        "--mark",
        action="store_true",
        help="有问题时在报表旁写一份标注了问题单元格的副本（<文件名>（标注）.xlsx）",
    )
    check.add_argument("--catalog", type=Path, metavar="文件", help="指标目录 YAML（默认使用内置目录）")

    kernel = sub.add_parser("kernel", help="注册本项目的 Jupyter 内核（papermill 和 JupyterLab 使用）")
    kernel.add_argument("--install", action="store_true", help="在当前虚拟环境中注册内核")

    sub.add_parser("codes", help="列出 issues.csv 中全部问题代码")

    catalog = sub.add_parser("catalog", help="指标目录：比较两个版本")
    actions = catalog.add_subparsers(dest="action", metavar="操作", required=True)
    diff = actions.add_parser("diff", help="列出新版目录相对旧版新增、停用、改名或接替、调整章节的指标")
    diff.add_argument("old", type=Path, metavar="旧版.yaml", help="旧版指标目录")
    diff.add_argument("new", type=Path, metavar="新版.yaml", help="新版指标目录")
    return parser
