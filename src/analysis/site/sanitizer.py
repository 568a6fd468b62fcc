"""Making notebook output safe to show on a report page.

:func:`sanitize_html` keeps only formatting (bleach allow-list): no script, event handler, frame, form or
remote image, so text that came from a submission is shown as text, never run. :func:`script_json`
escapes JSON for a ``<script type="application/json">`` data block.
"""

from __future__ import annotations

import json
import re
import uuid

import bleach
from bleach.css_sanitizer import CSSSanitizer

_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    ]
)
_GLOBAL_ATTRS = frozenset({"class", "id", "title", "style", "lang", "dir", "align", "role", "aria-label"})
_TAG_ATTRS = {
    "a": {"href", "name", "download"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "headers"},
    "th": {"colspan", "rowspan", "valign", "scope", "headers"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "ol": {"start", "type"},
    "details": {"open"},
}
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_UNSAFE_CSS = re.compile(
    r"@import|url\s*\(|expression\s*\(|javascript:|behavior\s*:|-moz-binding|</|<!--", re.I
)
_CSS_SANITIZER = CSSSanitizer()


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _GLOBAL_ATTRS or name in _TAG_ATTRS.get(tag, ()):
        if tag == "img" and name == "src":
            return value.startswith("data:image/")  # an image from the network or disk would be a fetch
        if tag == "a" and name == "href":
            return not value.lower().lstrip().startswith("data:")
        return True
    return False


def sanitize_html(fragment: str) -> str:
    """An HTML fragment with only formatting left: no script, event handler, frame, form or remote image.

    Disallowed tags are escaped, not dropped, so a department named ``<script>…`` shows as written.
    ``<style>`` blocks are kept verbatim when they cannot fetch anything (pandas styles), dropped otherwise.
    """
    blocks: list[str] = []
    token = f"fazhistyle{uuid.uuid4().hex}n"

    def keep_style(match: re.Match) -> str:
        css = match.group(1)
        if _UNSAFE_CSS.search(css):
            return ""
        blocks.append(css)
        return f"{token}{len(blocks) - 1}z"

    text = _STYLE_BLOCK.sub(keep_style, fragment)
    cleaned = bleach.clean(
        text,
        tags=_TAGS,
        attributes=_allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        css_sanitizer=_CSS_SANITIZER,
        strip=False,
        strip_comments=True,
    )
    for i, css in enumerate(blocks):
        cleaned = cleaned.replace(f"{token}{i}z", f"<style>{css}</style>")
    return cleaned


def script_json(value: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text
