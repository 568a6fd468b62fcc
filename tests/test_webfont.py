"""The CJK web font of every page: cut down to the characters the pages use (printable ASCII and every
other character, also those written as JSON escapes in plotly's figure data), the same bytes wherever it
is cut, and written only when its content changed."""

from __future__ import annotations

from analysis.core.names import ASSETS_DIR
from analysis.explore.style import bundled_font_path
from analysis.site import overview, static, webfont

PAGES = ["<p>权责清单未说明的增减：−51项</p>", '{"text": "\\u8c03\\u89e3"}']  # JSON-escaped 调解


def test_the_chars_are_ascii_and_every_other_character_of_the_pages() -> None:
    chars = webfont.font_chars(PAGES)
    assert set(range(0x20, 0x7F)) <= set(chars) and chars == sorted(set(chars))
    assert {ord(c) for c in "权责调解−"} <= set(chars) and ord("龘") not in chars


def test_a_report_and_the_site_get_the_same_cut(tmp_path) -> None:
    from fontTools.ttLib import TTFont

    expected = webfont.subset_bytes(bundled_font_path(), webfont.font_chars(PAGES))
    path = static.write_font(tmp_path / "report", PAGES)
    overview.write_site_assets(tmp_path / "site", PAGES)
    assert path.read_bytes() == expected
    assert (tmp_path / "site" / ASSETS_DIR / static.WEB_FONT_FILE).read_bytes() == expected
    cmap = TTFont(path).getBestCmap()
    assert {ord(c) for c in "权责调解"} <= set(cmap) and ord("龘") not in cmap


def test_an_unchanged_font_is_not_written_again(tmp_path) -> None:
    path = static.write_font(tmp_path, PAGES)
    first = path.stat().st_mtime_ns, path.stat().st_ino
    static.write_font(tmp_path, PAGES)
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == first
    static.write_font(tmp_path, [*PAGES, "龘"])
    assert path.stat().st_ino != first[1]
