"""The stable list of problem codes written to ``issues.csv``, and the record of one problem.

Codes are a contract with the analysts (they filter on them) and are documented in
``docs/issue-codes.md``; a test keeps that page and this table in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

ERROR, WARNING, INFO = "error", "warning", "info"

# The one severity order (most severe first) and its Chinese names; everything that sorts, counts or
# lists severities uses these.
SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_ZH = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
assert tuple(SEVERITY_ZH) == SEVERITIES


def severity_rank(severity: str) -> int:
    """0 for an error, 1 a warning, 2 information; anything else after them."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


# code: (severity, short Chinese title)
CODES: dict[str, tuple[str, str]] = {
    # whole file
    "unreadable-file": (ERROR, "文件无法读取（不是 Excel 工作簿或已损坏）"),
    "password-protected": (ERROR, "工作簿设有打开密码"),
    "unsafe-file": (ERROR, "文件含有不安全内容（压缩炸弹、DTD 或实体声明）"),
    "no-data": (ERROR, "工作簿中没有可识别的数据表"),
    "metadata-mismatch": (ERROR, "“基本信息”、标题、表头或文件名中的地区、年度或单位与文件夹或文件名不一致"),
    "bad-path": (ERROR, "文件夹或文件名不符合 <地区>/<年度>/<单位>.xlsx 的约定"),
    # one cell
    "bad-number": (ERROR, "数值无法识别"),
    "negative-value": (ERROR, "数值为负数"),
    "out-of-range": (ERROR, "数值超出允许范围"),
    "excel-error": (ERROR, "单元格是 Excel 错误值"),
    "formula-not-calculated": (ERROR, "公式没有计算结果"),
    "unknown-indicator": (ERROR, "无法识别的指标"),
    "unit-mismatch": (ERROR, "单位与指标目录不符"),
    "duplicate-conflict": (ERROR, "同一指标填报了不同数值"),
    # warnings: the value is loaded, but someone should look
    "reconciliation-mismatch": (WARNING, "勾稽关系不成立"),
    "non-integer-count": (WARNING, "计数类指标不是整数"),
    "suspicious-rate": (WARNING, "百分比数值可能填成了小数"),
    "unknown-department": (WARNING, "文件名不是目录中的填报单位"),
    "unexpected-department": (WARNING, "指标不是由目录规定的单位填报"),
    "hidden-sheet": (WARNING, "数据来自隐藏的工作表"),
    "misplaced-file": (WARNING, "文件不在约定位置，未读取"),
    "multiple-files": (WARNING, "同一单位报送了多个文件"),
    "unsupported-file": (WARNING, "年度文件夹中的文件未读取（格式不受支持或不是普通文件）"),
    "hidden-cell": (WARNING, "数值取自隐藏的行或列"),
    "formula-source": (WARNING, "数值是公式结果，来自其他文件、网络或随机函数"),
    "invalid-character": (WARNING, "单元格文字含有无效字符，已替换"),
    "merge-limit": (WARNING, "合并单元格过多，超出部分未按合并填充"),
    "indicator-not-in-year": (WARNING, "指标不在该年度的指标目录中，数值未导入"),
    "merged-value": (WARNING, "一个数值单元格合并了多个指标行，只按第一行导入"),
    # information
    "duplicate-value": (INFO, "同一指标重复填报，数值相同，只计一次"),
    "marked-not-reported": (INFO, "单元格标为未填报（—、无、/）"),
    "missing-indicator": (INFO, "单位未填报目录中的指标"),
    "missing-submission": (INFO, "未收到该单位的报表"),
    "check-skipped": (INFO, "缺少数据，勾稽或派生计算未进行"),
    "skipped-file": (INFO, "非工作簿文件，已跳过"),
    "file-name-variant": (INFO, "文件名是副本或带有日期等字样，已按目录中的单位读取"),
}

# Codes that reject a whole file: such a row stands for every cell of that file.
FILE_CODES = frozenset(
    {"unreadable-file", "password-protected", "unsafe-file", "no-data", "metadata-mismatch", "bad-path"}
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One row of ``issues.csv``. ``file`` is relative to the raw folder; ``cell`` is A1 style."""

    code: str
    message: str
    region: str = ""
    year: int | None = None
    department: str = ""
    file: str = ""
    sheet: str = ""
    cell: str = ""
    indicator_id: str = ""
    note: str = ""  # the department's 备注 beside a value left blank (why it is blank), as written

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown problem code {self.code!r}")

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def as_row(self) -> dict:
        return {"severity": self.severity, **asdict(self)}


ISSUE_COLUMNS = [
    "severity",
    "code",
    "region",
    "year",
    "department",
    "file",
    "sheet",
    "cell",
    "indicator_id",
    "message",
    "note",
]
assert set(ISSUE_COLUMNS) == {"severity", *(f.name for f in fields(Problem))}
