"""Cutting the CJK web font down to the characters of some pages (fontTools; the same bytes wherever it
runs). The batch cuts each report's font in a worker, as the last of the report's finishing steps
(:mod:`~analysis.report.steps`). fontTools is imported only when a font is cut.

A cut costs 0.4–2 CPU-s (more characters, more time), and the same pages give the same characters: a
report rebuilt because its notebooks or parameters changed, a re-run with ``--force`` or the site overview
redrawn over the same regions ask for a cut made before. :func:`cached_subset` keeps each cut in a cache
folder, keyed by the font file (path, size, modification time), fontTools' version, the cut's options and
the characters, so a cut is made once per machine and read back after (the same bytes: the cut is
deterministic). The folder is ``FAZHI_FONT_CACHE`` when set (``off``: no cache), else the user's cache
folder (``~/.cache/fazhi-analysis/webfont`` on Linux, ``%LOCALAPPDATA%\\fazhi-analysis\\Cache\\webfont`` on Windows);
it keeps the :data:`KEEP` most recently used cuts. A cache that cannot be read or written is passed by:
the font is cut as without one, never a failed report; a cached file that is not a WOFF font is cut anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from pathlib import Path

from analysis.core.fileio import atomic_write_bytes

ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
CACHE_ENV = "FAZHI_FONT_CACHE"  # the cache folder of cut fonts; "off" for none
KEEP = 200  # cuts kept in the cache, the most recently used (a cut is 50 KB–1 MB)
CUT_VERSION = 1  # raised whenever _options() changes what a cut contains
WOFF_MAGIC = b"wOFF"


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


def cache_folder() -> Path | None:
    """Where cut fonts are kept (see the module's docstring); None when the cache is off."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fazhi-analysis", appauthor=False)) / "webfont"


def cache_key(font_path: Path | str, chars: list[int]) -> str:
    """The cut's name in the cache: what the cut's bytes depend on, hashed."""
    import fontTools

    stat = Path(font_path).stat()
    what = [
        CUT_VERSION,
        fontTools.version,
        str(Path(font_path).resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        chars,
    ]
    return hashlib.sha256(json.dumps(what).encode("utf-8")).hexdigest()


def cached_subset(font_path: Path | str, chars: list[int]) -> bytes:
    """:func:`subset_bytes`, read from the cache when this cut was made before (and kept there when not)."""
    folder = cache_folder()
    if folder is None:
        return subset_bytes(font_path, chars)
    path = folder / f"{cache_key(font_path, chars)}.woff"
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if data.startswith(WOFF_MAGIC):
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: kept longest
            return data
    data = subset_bytes(font_path, chars)
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, data)
        _prune(folder)
    return data


def _prune(folder: Path) -> None:
    """Remove all but the :data:`KEEP` most recently used cuts."""
    cuts = []
    for path in folder.glob("*.woff"):
        with contextlib.suppress(OSError):
            cuts.append((path.stat().st_mtime_ns, path))
    for _, path in sorted(cuts, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            path.unlink()
