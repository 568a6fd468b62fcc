"""The CJK web font cut in a helper process (:mod:`analysis.report.webfont`): the same bytes as the cut in
this process, a failed helper changes nothing but who cuts, and a helper whose batch went away writes
nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analysis.explore.style import bundled_font_path
from analysis.report import static, webfont

PAGES = ["<p>权责清单未说明的增减：−51项</p>", '{"text": "\\u8c03\\u89e3"}']  # JSON-escaped 调解


@pytest.fixture(scope="module")
def expected() -> bytes:
    return webfont.subset_bytes(bundled_font_path(), webfont.font_chars(PAGES))


def test_the_chars_are_ascii_and_every_other_character_of_the_pages() -> None:
    chars = webfont.font_chars(PAGES)
    assert set(range(0x20, 0x7F)) <= set(chars) and chars == sorted(set(chars))
    assert {ord(c) for c in "权责调解−"} <= set(chars) and ord("龘") not in chars


def test_the_helper_cuts_the_same_bytes_as_this_process(expected: bytes, tmp_path) -> None:
    cutter = webfont.FontCutter(bundled_font_path())
    cutter.start()
    cutter.cut(webfont.font_chars(PAGES))
    assert cutter.result() == expected
    cutter.close()
    assert cutter.proc is not None and cutter.proc.returncode == 0  # it was the helper's cut
    static.write_font(tmp_path / "here", PAGES)
    assert (tmp_path / "here" / "assets" / static.WEB_FONT_FILE).read_bytes() == expected


@pytest.mark.parametrize(
    "command",
    [
        ["/nonexistent/python"],  # cannot start
        [sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit(1)"],  # fails
        [sys.executable, "-c", "import sys; sys.stdin.read()"],  # says nothing
    ],
)
def test_a_failed_helper_means_the_cut_is_made_here(expected: bytes, monkeypatch, command) -> None:
    monkeypatch.setattr(webfont, "helper_command", lambda font_path: command)
    cutter = webfont.FontCutter(bundled_font_path())
    cutter.cut(webfont.font_chars(PAGES))
    assert cutter.result() == expected
    cutter.close()


def test_a_helper_whose_batch_went_away_writes_nothing() -> None:
    done = subprocess.run(
        webfont.helper_command(str(bundled_font_path())), input=b"[32, 33", capture_output=True, timeout=120
    )
    assert done.returncode == 3 and done.stdout == b""


def test_an_unused_helper_is_ended() -> None:
    cutter = webfont.FontCutter(bundled_font_path())
    cutter.start()
    cutter.close()
    assert cutter.proc is not None and cutter.proc.poll() is not None
    with pytest.raises(RuntimeError):
        cutter.result()


def test_the_site_index_font_from_a_helper_is_the_same(tmp_path) -> None:
    from analysis.report import site

    site.write_site_assets(tmp_path / "here", PAGES)
    cutter = webfont.FontCutter(bundled_font_path())
    cutter.start()
    site.write_site_assets(tmp_path / "helper", PAGES, cutter)
    cutter.close()
    font = f"{static.ASSETS_DIR}/{static.WEB_FONT_FILE}"
    assert (tmp_path / "helper" / font).read_bytes() == (tmp_path / "here" / font).read_bytes()
