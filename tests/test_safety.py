"""Preflight of submitted files: analysis.safety on the hostile corpus and on crafted variants."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.core.problems import CODES
from analysis.ingest import compound, zipcheck
from analysis.ingest.safety import MB, FileRejected, Limits, preflight
from tests import hostile_corpus as hc

FORMATS = {"xlsx", "xls", "ods"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hc.build_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def good_bytes() -> bytes:
    return hc.workbook_bytes(hc.data_workbook(hc.value_rows(hc.catalog_values("县司法局"))))


def outcome(path: Path, limits: Limits | None = None) -> str:
    try:
        return preflight(path, limits)
    except FileRejected as exc:
        assert exc.code in CODES
        return exc.code


@pytest.mark.parametrize("case", hc.CASES, ids=[c.name for c in hc.CASES])
def test_corpus_case(case: hc.Case, corpus: dict[str, Path]) -> None:
    path = corpus[case.name]
    try:
        result = preflight(path)
    except FileRejected as exc:
        assert exc.code == case.preflight, exc.message
        # The message is Chinese, tells what to do, and leaves the path to the caller.
        assert CHINESE.search(exc.message)
        assert str(path.parent) not in exc.message and path.name not in exc.message
        assert str(exc) == exc.message
        assert "请" in exc.message
    else:
        assert result == case.preflight


def test_corpus_covers_every_preflight_code() -> None:
    assert {c.preflight for c in hc.CASES} == FORMATS | {
        "unreadable-file",
        "unsafe-file",
        "password-protected",
    }


def test_file_rejected_only_takes_known_codes() -> None:
    with pytest.raises(ValueError):
        FileRejected("no-such-code", "x")
    assert repr(FileRejected("unsafe-file", "消息")).startswith("FileRejected('unsafe-file'")


# --- zip bombs ------------------------------------------------------------------------------------


def test_zip_bomb_is_refused_from_declared_sizes_without_inflating(
    corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_inflating(*args, **kwargs):
        raise AssertionError("a member was inflated")

    monkeypatch.setattr(zipcheck, "_scan_member", no_inflating)
    with pytest.raises(FileRejected) as info:
        preflight(corpus["zip-bomb"])
    assert info.value.code == "unsafe-file"
    assert "压缩炸弹" in info.value.message and "300 MB" in info.value.message
    assert corpus["zip-bomb"].stat().st_size < 1 * MB


def test_lying_zip_bomb_stops_at_its_declared_size(corpus: dict[str, Path]) -> None:
    """Declared 1 MB, inflates to 150 MB: the stream is cut just past the declared size, memory stays small."""
    tracemalloc.start()
    try:
        with pytest.raises(FileRejected) as info:
            preflight(corpus["zip-bomb-lying"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == "unsafe-file" and "实际解压后大于" in info.value.message
    assert peak < 8 * MB


def test_padded_sheet_generator_writes_a_real_deflate_stream(tmp_path: Path) -> None:
    """The bomb's repeated full-flush blocks decode to exactly the padding (checked on a 3 MB instance)."""
    path = hc.write_zip(tmp_path / "small.xlsx", [hc.padded_sheet(3)])
    with zipfile.ZipFile(path) as z:
        data = z.read("xl/worksheets/sheet1.xml")  # zipfile checks the CRC
    assert len(data) > 3 * MB and data.endswith(b"</sheetData></worksheet>")
    assert data.count(b" ") >= 3 * MB


def test_limits_are_configurable(tmp_path: Path, good_bytes: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as src:
        members = [hc.deflated(n, src.read(n)) for n in src.namelist() if n != "xl/worksheets/sheet1.xml"]
    path = hc.write_zip(tmp_path / "ratio.xlsx", [*members, hc.padded_sheet(3)])
    assert outcome(path) == "unsafe-file"  # 3 MB at about 1000:1 exceeds the default ratio of 100
    assert outcome(path, Limits(max_ratio=5000)) == "xlsx"
    assert outcome(path, Limits(max_ratio=5000, max_member_mb=2)) == "unsafe-file"
    assert outcome(path, Limits(max_ratio=5000, max_uncompressed_mb=2)) == "unsafe-file"
    assert outcome(path, Limits(max_ratio=5000, max_members=3)) == "unsafe-file"
    assert outcome(path, Limits(max_file_mb=0.001)) == "unsafe-file"


def test_limits_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Limits.from_env({}) == Limits()
    env = {"FAZHI_MAX_UNCOMPRESSED_MB": "500", "FAZHI_MAX_MEMBERS": "10", "FAZHI_MAX_RATIO": " 250 "}
    limits = Limits.from_env(env)
    assert (limits.max_uncompressed_mb, limits.max_members, limits.max_ratio) == (500, 10, 250)
    assert isinstance(limits.max_members, int)
    for bad in ("abc", "0", "-5", "nan"):
        with pytest.raises(ValueError, match="FAZHI_MAX_FILE_MB"):
            Limits.from_env({"FAZHI_MAX_FILE_MB": bad})
    monkeypatch.setenv("FAZHI_MAX_FILE_MB", "0.001")
    assert Limits.from_env().max_file_mb == 0.001


def test_preflight_reads_limits_from_environment(
    corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert outcome(corpus["good"]) == "xlsx"
    monkeypatch.setenv("FAZHI_MAX_FILE_MB", "0.001")
    assert outcome(corpus["good"]) == "unsafe-file"


def test_real_workbooks_are_far_below_the_limits(corpus: dict[str, Path]) -> None:
    """The 100,000-row sheet passes with a wide margin: the defaults are not tuned to the corpus."""
    with zipfile.ZipFile(corpus["tall"]) as z:
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
    limits = Limits()
    assert sheet.file_size * 3 < limits.max_member_mb * MB
    assert sheet.file_size / sheet.compress_size * 5 < limits.max_ratio


# --- DTD and entity declarations ------------------------------------------------------------------


def _with_part(good: bytes, name: str, data: bytes, tmp_path: Path, *, stored: bool = True) -> Path:
    """``good`` with one part replaced; stored uncompressed by default, so no ratio limit interferes."""
    path = tmp_path / ("stored.xlsx" if stored else "deflated.xlsx")
    path.write_bytes(hc._replace_members(good, {name: data}, stored=[name] if stored else []))
    return path


def refused_for_declaration(path: Path, limits: Limits | None = None) -> bool:
    try:
        preflight(path, limits)
    except FileRejected as exc:
        return exc.code == "unsafe-file" and "DTD 或实体声明" in exc.message
    return False


SHEET = "xl/worksheets/sheet1.xml"
PLAIN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet><sheetData/></worksheet>'


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "b">]><worksheet/>',
        b'<?xml version="1.0"?><!doctype worksheet><worksheet/>',  # lower case (lenient parsers)
        b'<worksheet><!ENTITY a "b"></worksheet>',  # an entity declaration without a DOCTYPE
        b"\n\n   <!DOCTYPE worksheet SYSTEM 'http://evil.example/x.dtd'><worksheet/>",
        b"<worksheet>" + b" " * (3 * MB) + b"<!DOCTYPE x></worksheet>",  # deep in a large part
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE w [<!ENTITY a 'b'>]><w/>".encode("utf-16"),
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE w><w/>".encode("utf-16-le"),
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE w><w/>".encode("utf-16-be"),
    ],
    ids=["dtd", "lowercase", "entity-only", "external-dtd", "deep", "utf16-bom", "utf16le", "utf16be"],
)
def test_declarations_are_refused_wherever_they_are(data: bytes, good_bytes: bytes, tmp_path: Path) -> None:
    assert refused_for_declaration(_with_part(good_bytes, SHEET, data, tmp_path))
    no_ratio = Limits(max_ratio=1e9)
    assert refused_for_declaration(_with_part(good_bytes, SHEET, data, tmp_path, stored=False), no_ratio)


@pytest.mark.parametrize("offset", [-9, -5, -1, 0, 1])
def test_declaration_split_across_chunks_is_found(offset: int, good_bytes: bytes, tmp_path: Path) -> None:
    """The scan reads 1 MB at a time; a declaration straddling two chunks must still be seen."""
    prefix = b"<worksheet>" + b" " * (zipcheck.CHUNK + offset - len(b"<worksheet>"))
    data = prefix + b"<!ENTITY x 'y'></worksheet>"
    assert refused_for_declaration(_with_part(good_bytes, SHEET, data, tmp_path))
    no_ratio = Limits(max_ratio=1e9)
    assert refused_for_declaration(_with_part(good_bytes, SHEET, data, tmp_path, stored=False), no_ratio)


@pytest.mark.parametrize(
    "name",
    [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/media/image1.png",
    ],
)
def test_every_part_is_scanned(name: str, good_bytes: bytes, tmp_path: Path) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert refused_for_declaration(_with_part(good_bytes, name, data, tmp_path, stored=False))


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-<worksheet/>',
        b'<?xml version="1.0" encoding="ebcdic-cp-us"?><worksheet/>',
        "<?xml version='1.0' encoding='UTF-32'?><w/>".encode("utf-32"),
        b'<?xml version="1.0" encoding="UTF-16"?><worksheet/>',  # declares UTF-16 but has no BOM or nulls
        b'<?xml version="1.0"' + b" " * (80 * 1024) + b'encoding="UTF-7"?><worksheet/>',
    ],
    ids=["utf7", "ebcdic", "utf32", "utf16-without-bom", "padded-declaration"],
)
def test_parts_in_encodings_that_could_hide_a_dtd_are_refused(
    data: bytes, good_bytes: bytes, tmp_path: Path
) -> None:
    with pytest.raises(FileRejected) as info:
        preflight(_with_part(good_bytes, SHEET, data, tmp_path))
    assert info.value.code == "unsafe-file" and "字符编码" in info.value.message


@pytest.mark.parametrize(
    "text",
    ["&lt;!DOCTYPE html&gt;", "<!-- a comment -->", "<![CDATA[x]]>", "DOCTYPE ENTITY", "&amp;lt;!ENTITY"],
)
def test_escaped_or_harmless_markup_is_not_a_false_alarm(
    text: str, good_bytes: bytes, tmp_path: Path
) -> None:
    data = PLAIN.replace("<sheetData/>", f"<sheetData/>{text}").encode()
    assert outcome(_with_part(good_bytes, SHEET, data, tmp_path)) == "xlsx"


def test_a_submitted_string_that_looks_like_a_dtd_is_fine(tmp_path: Path) -> None:
    """A department typing "<!DOCTYPE" into a cell: Excel escapes it, the file is not refused."""
    wb = hc.data_workbook([("", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "", 1, "<!ENTITY>")])
    path = tmp_path / "typed.xlsx"
    path.write_bytes(hc.workbook_bytes(wb))
    assert outcome(path) == "xlsx"


# --- packages and formats -------------------------------------------------------------------------


def test_format_is_detected_by_content_not_extension(corpus: dict[str, Path], tmp_path: Path) -> None:
    for case, fmt in (("good", "xlsx"), ("good-xls", "xls"), ("good-ods", "ods")):
        for suffix in (".xlsx", ".xls", ".ods", ".txt", ""):
            renamed = tmp_path / f"renamed{suffix}"
            renamed.write_bytes(corpus[case].read_bytes())
            assert preflight(renamed) == fmt


def test_xlsm_and_template_content_types_are_workbooks(good_bytes: bytes, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as z:
        types = z.read("[Content_Types].xml").decode()
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert main in types
    for other in (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    ):
        path = _with_part(good_bytes, "[Content_Types].xml", types.replace(main, other).encode(), tmp_path)
        assert preflight(path) == "xlsx"
    xlsb = types.replace(main, "application/vnd.ms-excel.sheet.binary.macroEnabled.main")
    with pytest.raises(FileRejected, match="xlsb"):
        preflight(_with_part(good_bytes, "[Content_Types].xml", xlsb.encode(), tmp_path))


def test_zip_level_encryption_and_odd_compression(good_bytes: bytes, tmp_path: Path) -> None:
    data = bytearray(good_bytes)
    # Set the "encrypted" flag of every central directory entry.
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 8] |= 0x01
        at = data.find(b"PK\x01\x02", at + 4)
    (tmp_path / "enc.xlsx").write_bytes(bytes(data))
    assert outcome(tmp_path / "enc.xlsx") == "password-protected"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z, zipfile.ZipFile(io.BytesIO(good_bytes)) as src:
        for name in src.namelist():
            z.writestr(name, src.read(name))
    (tmp_path / "bz.xlsx").write_bytes(buf.getvalue())
    assert outcome(tmp_path / "bz.xlsx") == "unreadable-file"


def test_not_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert outcome(folder) == "unreadable-file"
    assert outcome(tmp_path / "missing.xlsx") == "unreadable-file"


def test_every_truncation_of_a_workbook_is_unreadable(corpus: dict[str, Path], tmp_path: Path) -> None:
    for case in ("good", "good-xls", "good-ods", "encrypted-xlsx"):
        data = corpus[case].read_bytes()
        for cut in sorted(
            {1, 7, 8, 100, 511, 512, 513, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1}
        ):
            path = tmp_path / f"cut{cut}.xlsx"
            path.write_bytes(data[:cut])
            assert outcome(path) in {"unreadable-file", "password-protected"}, (case, cut)


# --- fuzzing: whatever the bytes, preflight answers with a format or a FileRejected ----------------

_fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_fuzz
@given(data=st.binary(max_size=2048), prefix=st.sampled_from([b"", b"PK\x03\x04", compound.OLE_MAGIC]))
def test_random_bytes_never_crash(data: bytes, prefix: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.xlsx"
    path.write_bytes(prefix + data)
    result = outcome(path)
    assert result in FORMATS | set(CODES)


@_fuzz
@given(data=st.data())
def test_corrupted_workbooks_never_crash(
    data: st.DataObject, corpus: dict[str, Path], tmp_path: Path
) -> None:
    case = data.draw(st.sampled_from(["good", "good-xls", "good-ods", "encrypted-xlsx", "encrypted-xls"]))
    raw = bytearray(corpus[case].read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutated.bin"
    path.write_bytes(bytes(raw))
    result = outcome(path)
    assert result in FORMATS | {"unreadable-file", "unsafe-file", "password-protected"}


def test_compound_file_reader_agrees_with_olefile(corpus: dict[str, Path]) -> None:
    """Our minimal [MS-CFB] reader (regular and mini streams) against olefile, msoffcrypto's own reader."""
    import olefile

    checked = 0
    for case in ("encrypted-xlsx", "good-xls", "encrypted-xls"):
        path = corpus[case]
        with olefile.OleFileIO(str(path)) as ole:
            by_leaf: dict[str, list[list[str]]] = {}
            for entry in ole.listdir():
                by_leaf.setdefault(entry[-1], []).append(entry)
            expected = {leaf: ole.openstream(p[0]).read() for leaf, p in by_leaf.items() if len(p) == 1}
        with path.open("rb") as fh:
            streams = compound.CompoundFile(fh, path.stat().st_size).streams()
            for leaf, data in expected.items():
                assert streams[leaf].read(len(data) + 10) == data, (case, leaf)
                checked += 1
    assert checked >= 6
    with corpus["encrypted-xlsx"].open("rb") as fh:
        small = compound.CompoundFile(fh, corpus["encrypted-xlsx"].stat().st_size).streams()["EncryptionInfo"]
        assert small.size < 4096  # read from the mini stream
