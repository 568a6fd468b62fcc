"""Formula injection and unsafe names: analysis.sanitize."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from analysis.core.sanitize import FORMULA_TRIGGERS, MAX_NAME_LENGTH, neutralize, safe_name

_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example/","点击")',
        "+86 371",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=cmd|' /C calc'!A0",
        "\r=1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_neutralize_prefixes_formula_triggers(text: str) -> None:
    out = neutralize(text)
    assert out == "'" + text
    assert out[0] not in FORMULA_TRIGGERS


@pytest.mark.parametrize("text", ["", "县司法局", "6736", "98.1%", "'=already", " =spaced", "（=）", "调解"])
def test_neutralize_leaves_harmless_text(text: str) -> None:
    assert neutralize(text) == text


@given(st.text())
def test_neutralize_never_starts_with_a_trigger(text: str) -> None:
    out = neutralize(text)
    assert not out or out[0] not in FORMULA_TRIGGERS
    # Nothing is lost: the original is the output, or the output minus the one added quote.
    assert out == text or (out[0] == "'" and out[1:] == text)
    assert neutralize(out) == out  # idempotent


@pytest.mark.parametrize(
    "name",
    [
        "通许县",
        "2019",
        "县司法局",
        "县政务服务和大数据管理局",
        "开封市 通许县",
        "A区（试点）",
        "x" * MAX_NAME_LENGTH,
    ],
)
def test_safe_name_accepts_ordinary_names(name: str) -> None:
    assert safe_name(name, "地区") == name


def test_safe_name_normalises_and_strips() -> None:
    decomposed = unicodedata.normalize("NFD", "Café县")
    assert safe_name(f"  {decomposed}\u3000", "地区") == "Café县"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\u3000",
        "..",
        ".",
        "../etc",
        "a/../../b",
        "/etc/passwd",
        "\\\\server\\share",
        "..\\..\\windows",
        "C:",
        "C:\\Windows",
        "a\x00b",
        "line\nbreak",
        "通许县\n",
        "\t县司法局",
        "县司法局\r",
        "tab\there",
        "bidi\u202etxt.exe",
        "zero\u200bwidth",
        "CON",
        "nul",
        "Com1",
        "LPT9.xlsx",
        "aux.txt",
        "x" * (MAX_NAME_LENGTH + 1),
        'a"b',
        "a*b",
        "what?",
        "pipe|name",
        "<script>",
        "trailing.",
        ".hidden",
        "．．",  # full-width dots fold to ".."
        "a／b",  # full-width solidus folds to "/"
    ],
)
def test_safe_name_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError) as info:
        safe_name(name, "单位")
    message = str(info.value)
    assert message.startswith("单位名称")
    assert "\x00" not in message and "\n" not in message


def test_safe_name_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="地区名称必须是文字"):
        safe_name(None, "地区")  # type: ignore[arg-type]


@given(st.text(max_size=120))
def test_safe_name_never_escapes_a_folder(name: str) -> None:
    try:
        out = safe_name(name, "地区")
    except ValueError:
        return
    # One component on every platform, no parent references, not absolute, no drive.
    for pure in (PurePosixPath(out), PureWindowsPath(out)):
        assert len(pure.parts) == 1
        assert not pure.is_absolute() and not pure.drive and not pure.anchor
        assert pure.name == out
    assert out not in {".", ".."}
    root = Path("/srv/out")
    assert os.path.normpath(root / out).startswith(str(root) + os.sep)
    assert out == out.strip() and out == unicodedata.normalize("NFC", out)
    # No control, format (bidi, zero-width), surrogate or line-separator characters survive.
    assert not {unicodedata.category(ch) for ch in out} & {"Cc", "Cf", "Cs", "Zl", "Zp"}


@given(st.text(alphabet=st.characters(categories=["Lo", "Nd", "Lu", "Ll"]), min_size=1, max_size=50))
def test_safe_name_keeps_plain_names(name: str) -> None:
    assume(name.strip().upper() not in _RESERVED)
    out = safe_name(name, "地区")
    assert out == unicodedata.normalize("NFC", name).strip()


@given(st.text(max_size=60))
def test_safe_name_is_a_valid_papermill_string(name: str) -> None:
    from papermill.translators import PythonTranslator

    try:
        out = safe_name(name, "地区")
    except ValueError:
        return
    literal = PythonTranslator.translate_str(out)
    namespace: dict = {}
    exec(f"value = {literal}", namespace)  # noqa: S102 - the point: the literal must evaluate to the name
    assert namespace["value"] == out
