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
import zipfile
from collections.abc import Callable
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


# The official fonts of the draft and, for each, the installed fonts closest to it, best first: the
# preview keeps the hierarchy (serif body and title, 黑体 headings in sans) where they are missing.
SERIF = ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "Noto Serif SC", "AR PL UMing CN")
SANS = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC", "WenQuanYi Zen Hei")
CLOSEST = {
    "仿宋_GB2312": ("仿宋", "FangSong", *SERIF),
    "方正小标宋简体": ("方正小标宋_GBK", "华文中宋", "STZhongsong", *SERIF),
    "楷体_GB2312": ("楷体", "KaiTi", "AR PL UKai CN", *SERIF),
    "黑体": ("SimHei", *SANS),
    "宋体": ("SimSun", "NSimSun", *SERIF),
}


def installed_fonts() -> set[str] | None:
    """The font families fontconfig knows (``fc-list``), or None when it cannot be asked (Windows)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        done = subprocess.run([fc_list, ":", "family"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return {name.strip() for line in lines for name in line.split(",") if name.strip()}


def substitutes(installed: set[str] | None) -> dict[str, str]:
    """Official font → the closest installed one, for each official font that is not installed."""
    if installed is None:
        return {}
    out = {}
    for font, candidates in CLOSEST.items():
        if font not in installed:
            found = next((c for c in candidates if c in installed), None)
            if found is not None:
                out[font] = found
    return out


def substitution_line(subs: dict[str, str]) -> str:
    """One Chinese line saying which fonts the preview replaced with which."""
    by_font: dict[str, list[str]] = {}
    for official, used in subs.items():
        by_font.setdefault(used, []).append(official)
    told = "，".join(f"{'、'.join(names)}用 {used} 代替" for used, names in by_font.items())
    return (
        f"本机未安装公文字体，PDF 预览中{told}；Word 文件中的字体不变，在装有公文字体的电脑上按原字体显示。"
    )


def _with_fonts(document: Path, subs: dict[str, str], work: Path) -> Path:
    """A copy of ``document`` in ``work`` whose font names are replaced by ``subs`` (styles, runs, table)."""
    copy = work / "fonts" / document.name
    copy.parent.mkdir()
    with zipfile.ZipFile(document) as zin, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("word/") and info.filename.endswith(".xml"):
                for official, used in subs.items():
                    data = data.replace(f'"{official}"'.encode(), f'"{used}"'.encode())
            zout.writestr(info, data)
    return copy


def to_pdf(document: Path, executable: str | None = None, say: Callable[[str], None] | None = None) -> Path:
    """Render ``document`` to ``<same name>.pdf`` beside it (written atomically); returns the PDF path.
    When the official fonts are missing, the preview uses the closest installed ones and ``say`` is told
    so in one line (the .docx itself is unchanged)."""
    executable = executable or soffice()
    if executable is None:
        raise PreviewError(MISSING_TEXT)
    document = Path(document).resolve()
    target = document.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="fazhi-soffice-") as tmp:
        work = Path(tmp)
        subs = substitutes(installed_fonts())
        if subs:
            document = _with_fonts(document, subs, work)
            if say is not None:
                say(substitution_line(subs))
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
