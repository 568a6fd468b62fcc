"""The CJK web font of every page: cut down to the characters the pages use (printable ASCII and every
other character, also those written as JSON escapes in plotly's figure data), the same bytes wherever it
is cut, and written only when its content changed."""

from __future__ import annotations

import os
from pathlib import Path

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


# --- the cache of cut fonts ----------------------------------------------------------------------------


def test_a_cut_is_made_once_and_read_back_the_same(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(webfont.CACHE_ENV, str(tmp_path / "cache"))
    font, chars = bundled_font_path(), webfont.font_chars(PAGES)
    first = webfont.cached_subset(font, chars)
    assert first == webfont.subset_bytes(font, chars)  # the cache gives what a cut gives
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{webfont.cache_key(font, chars)}.woff"]

    def no_cut(*_):
        raise AssertionError("cut again")

    monkeypatch.setattr(webfont, "subset_bytes", no_cut)
    assert webfont.cached_subset(font, chars) == first
    other = webfont.font_chars([*PAGES, "龘"])
    assert webfont.cache_key(font, other) != webfont.cache_key(font, chars)  # other characters, another cut


def test_a_damaged_cache_entry_is_cut_anew_and_replaced(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(webfont.CACHE_ENV, str(tmp_path))
    font, chars = bundled_font_path(), webfont.font_chars(PAGES)
    entry = tmp_path / f"{webfont.cache_key(font, chars)}.woff"
    entry.write_bytes(b"<html>not a font</html>")
    data = webfont.cached_subset(font, chars)
    assert data.startswith(webfont.WOFF_MAGIC) and entry.read_bytes() == data


def test_a_cache_that_cannot_be_written_costs_nothing_but_time(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(webfont.CACHE_ENV, str(blocker / "cache"))  # a folder under a file: every write fails
    font, chars = bundled_font_path(), webfont.font_chars(PAGES)
    assert webfont.cached_subset(font, chars) == webfont.subset_bytes(font, chars)
    monkeypatch.setenv(webfont.CACHE_ENV, "off")
    assert webfont.cache_folder() is None
    assert webfont.cached_subset(font, chars) == webfont.subset_bytes(font, chars)


def test_the_cache_keeps_the_most_recently_used_cuts(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(webfont, "KEEP", 2)
    for k, name in enumerate("abc"):
        (tmp_path / f"{name}.woff").write_bytes(webfont.WOFF_MAGIC)
        os.utime(tmp_path / f"{name}.woff", ns=(k * 10**9, k * 10**9))
    os.utime(tmp_path / "a.woff")  # used just now
    webfont._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.woff", "c.woff"]


def test_the_default_cache_is_the_users_cache_folder(monkeypatch) -> None:
    import platformdirs

    monkeypatch.delenv(webfont.CACHE_ENV)
    folder = webfont.cache_folder()
    assert folder is not None and folder.parent == Path(
        platformdirs.user_cache_dir("fazhi-analysis", appauthor=False)
    )
