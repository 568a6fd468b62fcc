"""Cutting the CJK web font down to the characters of some pages (fontTools; the same bytes wherever it
runs). The batch cuts each report's font in a worker, as the last of the report's finishing steps
(:mod:`~analysis.report.steps`). fontTools is imported only when a font is cut.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


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
