"""The PDF print preview of the Word draft, rendered by LibreOffice headless (``soffice``).

LibreOffice is a system package (Debian ``libreoffice-writer-nogui``), not a Python dependency: without it
the draft is still written and the caller says, in Chinese, that the preview was skipped. Each conversion
uses a throw-away LibreOffice profile, so conversions running side by side never share one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.core.fileio import atomic_write_bytes

SOFFICE_NAMES = ("soffice", "libreoffice")
TIMEOUT = 180  # seconds for one conversion (the first start of a fresh profile takes a few)
MISSING_TEXT = (
    "未找到 LibreOffice（soffice），未生成 PDF 预览；Word 初稿已写出。"
    "如需预览，请安装 LibreOffice（Debian/Ubuntu：apt-get install libreoffice-writer-nogui）后重新运行。"
)


class PreviewError(RuntimeError):
    """LibreOffice ran but produced no PDF (Chinese message)."""


def soffice() -> str | None:
    """The LibreOffice executable on PATH (``FAZHI_SOFFICE`` overrides), or None."""
    override = os.environ.get("FAZHI_SOFFICE")
    if override:
        return shutil.which(override)
    return next((found for name in SOFFICE_NAMES if (found := shutil.which(name))), None)


def to_pdf(document: Path, executable: str | None = None) -> Path:
    """Render ``document`` to ``<same name>.pdf`` beside it (written atomically); returns the PDF path."""
    executable = executable or soffice()
    if executable is None:
        raise PreviewError(MISSING_TEXT)
    document = Path(document).resolve()
    target = document.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="fazhi-soffice-") as tmp:
        work = Path(tmp)
        profile = (work / "profile").as_uri()
        command = [
            executable,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(document),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PreviewError(f"LibreOffice 转换 PDF 超过 {TIMEOUT} 秒，已放弃：{document.name}") from exc
        produced = work / target.name
        if not produced.is_file() or produced.stat().st_size == 0:
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
            raise PreviewError(f"LibreOffice 未能生成 PDF（退出码 {done.returncode}）：{detail}")
        atomic_write_bytes(target, produced.read_bytes())
    return target
