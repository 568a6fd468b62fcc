"""Why a submitted file is refused before reading: :class:`FileRejected` and the advice shared by the checks.

The message is Chinese, tells the department what to do, and never contains the path (the caller adds
file, sheet and cell).
"""

from __future__ import annotations

from analysis.core.problems import CODES

MB = 1024 * 1024

UNREADABLE, UNSAFE, PASSWORD = "unreadable-file", "unsafe-file", "password-protected"


class FileRejected(Exception):
    """A file refused before reading. ``code`` is a problem code, ``message`` Chinese, without the path."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown problem code {code!r}")
        message = message.rstrip("。")  # the caller appends its own clause
        super().__init__(message)
        self.code = code
        self.message = message
        self.digest = ""  # SHA-256 of the refused bytes, when they were read (see safety.load_checked)

    def __repr__(self) -> str:
        return f"FileRejected({self.code!r}, {self.message!r})"


RESAVE = "请在 Excel 或 WPS 表格中打开，另存为“Excel 工作簿（*.xlsx）”后重新报送。"
PASSWORD_HELP = (
    "工作簿设有打开密码，系统无法读取。请打开文件后取消密码再保存："
    "Excel 中点“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码；"
    "WPS 中点“文件 → 文档加密 → 密码加密”，清空打开密码。保存后重新报送。"
)
LIMIT_HINT = "（上限可由管理员通过 FAZHI_MAX_* 环境变量调整，见 docs/reliability.md。）"


def corrupt(detail: str) -> str:
    return (
        f"文件不完整或已损坏（{detail}），常见于下载、复制或邮件传输中断。"
        "请在填报电脑上用 Excel 重新打开并保存，确认能正常打开后重新报送。"
    )


def bomb(detail: str, before: bool = True) -> str:
    when = "已在解压前拒绝读取" if before else "已停止解压并拒绝读取"
    return (
        f"文件疑似“压缩炸弹”：{detail}，{when}。正常填写的报表远小于此；请检查文件来源，"
        f"删除无关的工作表和大量空白格式后重新保存报送。{LIMIT_HINT}"
    )
