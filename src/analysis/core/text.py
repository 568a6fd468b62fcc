"""Text normalisation shared by matching and parsing (no I/O, no pandas)."""

from __future__ import annotations

import functools
import re
import unicodedata

_SPACE = re.compile(r"\s+")
# Quote and bracket variants that departments add or drop around names ("双替代" vs “双替代”).
_MATCH_NOISE = str.maketrans("", "", "\"'“”‘’「」『』《》〈〉")


# Invisible format characters: soft hyphen, zero-width spaces and joiners, bidi marks, word joiners, BOM.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def drop_invisible(text: str) -> str:
    """Drop invisible format characters (zero-width spaces, byte-order marks, soft hyphens, bidi marks).

    They arrive with text pasted from web pages and chat messages and are never part of a name or number.
    """
    return _INVISIBLE.sub("", text)


def fold(text: str) -> str:
    """Fold full-width characters (NFKC) and drop every kind of white space and invisible character."""
    if len(text) <= 80:  # headers, names and units come back in every file; long texts are not kept
        return _fold_short(text)
    return _SPACE.sub("", drop_invisible(unicodedata.normalize("NFKC", text)))


@functools.lru_cache(maxsize=1 << 15)
def _fold_short(text: str) -> str:
    return _SPACE.sub("", drop_invisible(unicodedata.normalize("NFKC", text)))


def match_key(text: str) -> str:
    """The key two spellings of one indicator name share: folded, without quote marks, lower case."""
    return fold(text).translate(_MATCH_NOISE).lower()


def clip(text: str, limit: int = 60) -> str:
    """Shorten a submitted string for a message, showing control characters visibly."""
    if len(text) <= limit and text.isprintable():  # the usual case, without a look at each character
        return text
    shown = "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds a surrogate code point (a lone one, or half of an escaped pair)."""
    return _SURROGATE.search(text) is not None


def scrub_surrogates(text: str) -> str:
    """``text`` with every lone surrogate (no file format can store one) replaced by U+FFFD; a valid pair
    of surrogates (an escaped emoji) becomes its character."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# The one rule for what no output may carry: what XML 1.0 (xlsx, docx, HTML) cannot hold — C0 controls but
# tab, line feed and carriage return; U+FFFE, U+FFFF; lone surrogates — and the bidi embedding, override and
# isolate controls (U+202A–U+202E, U+2066–U+2069), which would reorder how a number or name reads. Each
# becomes the visible U+FFFD, never active, never silently gone.
_UNHOLDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def unholdable(text: str) -> list[str]:
    """The code points of ``text`` that :func:`xml_safe` replaces, once each, in order (``["U+FFFE"]``);
    a valid surrogate pair (an escaped emoji) is no such character."""
    if not _UNHOLDABLE.search(text):
        return []
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(_UNHOLDABLE.findall(joined))]


def xml_safe(text: str, mark: str = REPLACEMENT) -> str:
    """``text`` as every writer passes it on: each character of the rule above becomes ``mark`` (U+FFFD;
    ``""`` removes them, as the formal Word draft does), a valid surrogate pair becomes its character;
    other text is returned as it is, without a copy."""
    if not _UNHOLDABLE.search(text):
        return text
    return _UNHOLDABLE.sub(mark, scrub_surrogates(text))
