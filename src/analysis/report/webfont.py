"""Cutting the CJK web font down to the characters of some pages, in this process or in a helper process.

:func:`subset_bytes` is the cut itself (fontTools; the same bytes wherever it runs). The batch hands the cut
of a report's font to a :class:`FontCutter`: a helper process (``python -m analysis.report.webfont FONT``)
started while the notebooks run, which imports fontTools and opens the font at once, then waits for the
characters. The main process meanwhile publishes the report and writes its Word draft and the site overview,
instead of waiting about a second per font. Should the helper fail in any way, the font is cut in this
process, so the result and its errors are those of :func:`subset_bytes`.

This module imports nothing heavy at the top: the helper process loads fontTools only.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
DEEP_TABLES = ("GSUB", "GPOS", "GDEF", "BASE")  # OpenType tables whose parts are parsed on first use


def font_chars(pages: list[str]) -> list[int]:
    """The code points the subset keeps: printable ASCII and every non-ASCII character of ``pages``
    (including those written as JSON escapes ``\\uXXXX``, as in plotly's figure data)."""
    text = "".join(pages)
    text += "".join(chr(int(h, 16)) for h in ESCAPED.findall(text))
    return sorted({ord(ch) for ch in text if ord(ch) > 0x7F} | set(range(0x20, 0x7F)))


def _options():
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib: no extra dependency (woff2 would need brotli)
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    return options


def _load(font_path: str):
    from fontTools import subset

    return subset.load_font(font_path, _options())


def _cut(font, chars: list[int]) -> bytes:
    from fontTools import subset

    options = _options()
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def subset_bytes(font_path: Path | str, chars: list[int]) -> bytes:
    """The WOFF font of ``font_path`` cut down to ``chars`` (see :func:`font_chars`)."""
    return _cut(_load(str(font_path)), chars)


def helper_command(font_path: str) -> list[str]:
    """The helper process's command line (tests replace it)."""
    return [sys.executable, "-m", "analysis.report.webfont", font_path]


class FontCutter:
    """One cut in a helper process: :meth:`start` starts it (it opens the font and waits), :meth:`cut`
    sends the characters, :meth:`result` waits for the bytes (cutting here instead when the helper failed).
    :meth:`close` ends a helper still running."""

    def __init__(self, font_path: Path | str):
        self.font_path = str(font_path)
        self.proc: subprocess.Popen | None = None
        self._future: Future | None = None
        self._chars: list[int] = []

    def start(self) -> None:
        if self.proc is not None:
            return
        with contextlib.suppress(OSError):  # no helper: the cut is made in this process
            self.proc = subprocess.Popen(
                helper_command(self.font_path),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )

    def cut(self, chars: list[int]) -> None:
        """Hand the characters to the helper; it cuts while this process goes on."""
        self._chars = list(chars)
        self._future = Future()
        self.start()
        if self.proc is None:
            self._future.set_result(None)
            return
        payload = json.dumps(self._chars).encode("ascii")
        threading.Thread(target=self._talk, args=(self.proc, payload, self._future), daemon=True).start()

    @staticmethod
    def _talk(proc: subprocess.Popen, payload: bytes, future: Future) -> None:
        try:
            out, _ = proc.communicate(payload)
            future.set_result(out if proc.returncode == 0 and out else None)
        except BaseException:  # noqa: BLE001 - any failure of the helper: cut in the main process
            future.set_result(None)

    def result(self) -> bytes:
        """The font bytes: the helper's, or (when it failed) cut in this process."""
        if self._future is None:
            raise RuntimeError("FontCutter.cut() 尚未调用")
        data = self._future.result()
        return data if data is not None else subset_bytes(self.font_path, self._chars)

    def close(self) -> None:
        """End the helper if it is still running (a batch that stopped before the cut)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def serve(font_path: str) -> int:
    """The helper: open the font, read the characters (JSON list) from standard input, write the cut font
    to standard output. Input that is not a whole list (the batch went away) ends it without output."""
    import gc

    font = _load(font_path)
    # Parse, while waiting, what the cut reads (the layout tables down to their lookups): same bytes, sooner.
    for tag in font.keys():  # noqa: SIM118 (TTFont has no __iter__)
        if tag == "GlyphOrder":
            continue
        table = font[tag]
        if tag in DEEP_TABLES and hasattr(table, "ensureDecompiled"):
            table.ensureDecompiled(recurse=True)
    gc.disable()  # a short-lived process: no collection pauses in the middle of the cut
    try:
        chars = json.loads(sys.stdin.buffer.read())
    except ValueError:
        return 3
    if not isinstance(chars, list):
        return 3
    sys.stdout.buffer.write(_cut(font, chars))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2:
        sys.exit(serve(sys.argv[1]))
    print("本模块供批处理内部使用（裁剪网页字体）；请运行 python -m analysis run。", file=sys.stderr)
    sys.exit(2)
