"""Issue 9 (hardening II), the parts that are not one file of the corpus: the file read once, formula
sources, invalid characters, the merge budget (the corpus itself is in tests/hostile_corpus_ii.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.core.store import read_indicators, read_issues
from analysis.core.text import scrub_surrogates
from analysis.ingest import safety
from analysis.ingest.formulas import formula_origin
from analysis.ingest.pipeline import ingest
from tests import hostile_corpus as hc
from tests import hostile_corpus_ii as iic


def test_the_checked_bytes_are_the_parsed_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 17: the file is swapped for a DTD-carrying one right after its check; the swap changes nothing
    (before, the reader opened the path again and imported the swapped file's value)."""
    raw = tmp_path / "raw"
    folder = raw / hc.REGION / str(hc.YEAR)
    good = hc._good_file(folder, "县司法局.xlsx")
    hostile = hc._billion_laughs_sheet(tmp_path, "swap.xlsx").read_bytes()
    checked = safety.check_bytes
    opened: list[Path] = []

    def check_then_swap(data: bytes, limits) -> str:
        fmt = checked(data, limits)
        good.write_bytes(hostile)  # an attacker replaces the file between check and read
        return fmt

    real_open = Path.open

    def counting_open(self: Path, mode: str = "r", *args, **kwargs):
        if self == good and "r" in mode:
            opened.append(self)
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(safety, "check_bytes", check_then_swap)
    monkeypatch.setattr(Path, "open", counting_open)
    result = ingest(raw)
    assert len(opened) == 1  # read once
    loaded = result.indicators[result.indicators["source_file"].str.endswith("县司法局.xlsx")]
    assert dict(zip(loaded["indicator_id"], loaded["value"], strict=True)) == pytest.approx(
        hc.catalog_values("县司法局")
    )
    assert "unsafe-file" not in set(result.issues["code"])


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("[1]Sheet1!A1", "另一个文件"),
        ("'[1]数据'!$E$4+1", "另一个文件"),
        ("'[县司法局.xlsx]数据'!E4", "另一个文件"),
        ("SUM([2]Sheet1!A1:A9)", "另一个文件"),
        ('_xlfn.WEBSERVICE("http://x")', "WEBSERVICE"),
        ('FILTERXML(WEBSERVICE("http://x"),"//a")', "FILTERXML"),
        ('RTD("prog",,"x")', "RTD"),
        ("RANDBETWEEN(1,9)", "RANDBETWEEN"),
        ("rand()*10", "RAND"),
        ("_xlfn.RANDARRAY(1)", "RANDARRAY"),
        ("SUM(E4:E9)", None),
        ("表1[[#此行],[数值]]*2", None),  # a structured table reference is no external link
        ('IF(A1="RAND(",1,2)', None),  # inside a string literal
        ("OPERAND(1)", None),  # a name ending in RAND is not RAND
        ("", None),
    ],
)
def test_formula_origin(formula: str, expected: str | None) -> None:
    found = formula_origin(formula)
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found


def test_lone_surrogates_are_replaced_and_pairs_joined() -> None:
    assert scrub_surrogates("说明\ud800") == "说明\ufffd"
    assert scrub_surrogates("\ud83d\ude00") == "😀"
    assert scrub_surrogates("县司法局") == "县司法局"


# --- folders: what a raw folder can hold besides workbooks --------------------------------------------

PREFIX = f"{hc.REGION}/{hc.YEAR}/"


def cli_ingest(raw: Path, out: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def year_folder(tmp_path: Path, region: str = hc.REGION) -> Path:
    folder = tmp_path / "raw" / region / str(hc.YEAR)
    hc._good_file(folder, "县司法局.xlsx")  # the good file beside every case
    return folder


def only_row(issues, code: str):
    rows = issues[issues["code"] == code]
    assert len(rows) == 1, issues[["code", "file", "message"]].to_dict("records")
    return rows.iloc[0]


def test_names_that_are_not_utf8_are_refused_and_the_rest_loads(tmp_path: Path) -> None:
    """Case 1: GBK bytes in a file name (and in a region folder) used to crash the whole write."""
    folder = year_folder(tmp_path)
    iic.gbk_named_file(folder)
    gbk_region = os.fsencode(tmp_path / "raw") + b"/" + "尉氏县".encode("gbk") + b"/2019"
    iic.gbk_named_file(Path(os.fsdecode(gbk_region)))
    out = tmp_path / "out"
    proc = cli_ingest(tmp_path / "raw", out)
    assert proc.returncode == 1
    issues, ind = read_issues(out), read_indicators(out)
    bad = issues[issues["code"] == "bad-path"].sort_values("file")
    assert len(bad) == 2
    assert all("\ufffd" in f for f in bad["file"])
    assert bad["message"].str.contains(f"按 GBK 读作“{iic.GBK_DEPARTMENT}.xlsx”").sum() == 1
    assert bad["message"].str.contains("按 GBK 读作“尉氏县”").sum() == 1
    assert set(ind.loc[~ind["derived"], "source_file"]) == {PREFIX + "县司法局.xlsx"}


def test_an_empty_raw_folder_keeps_the_previous_tables(tmp_path: Path) -> None:
    """Case 8: no workbook at all is exit 2 and leaves the published tables untouched."""
    year_folder(tmp_path)
    out = tmp_path / "out"
    assert cli_ingest(tmp_path / "raw", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    empty = tmp_path / "empty"
    (empty / hc.REGION).mkdir(parents=True)
    proc = cli_ingest(empty, out)
    assert proc.returncode == 2 and "没有找到任何工作簿" in proc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_linked_region_folders(tmp_path: Path) -> None:
    """Case 8: a linked region folder inside the raw folder is followed; one leading outside is refused."""
    raw = tmp_path / "raw"
    year_folder(tmp_path, "真实目录")
    (raw / hc.REGION).symlink_to(raw / "真实目录")  # a second name for the same folder: read once
    outside = tmp_path / "elsewhere" / "2019"
    hc._good_file(outside, "县水利局.xlsx")
    (raw / "尉氏县").symlink_to(outside.parent)
    result = ingest(raw)
    loaded = set(result.indicators.loc[~result.indicators["derived"], "source_file"])
    assert loaded == {"真实目录/2019/县司法局.xlsx"} or loaded == {f"{hc.REGION}/2019/县司法局.xlsx"}
    bad = only_row(result.issues, "bad-path")
    assert bad["file"] == "尉氏县" and "之外" in bad["message"]
    assert "skipped-file" in set(result.issues["code"])  # the second name is said, not silently dropped


def test_files_in_other_formats_are_read_or_warned(tmp_path: Path) -> None:
    """Case 11: .et (an .xlsx container), trailing space and upper case are read; .xlsb says what it is;
    .csv is a warning with how to fix it."""
    folder = year_folder(tmp_path)
    good = hc.workbook_bytes(hc.data_workbook(hc.value_rows(hc.catalog_values("县水利局"))))
    (folder / "县水利局.et").write_bytes(good)
    eco = hc.workbook_bytes(hc.data_workbook(hc.value_rows({"functions.water_source_zones": 15})))
    (folder / "县生态环境分局.XLSX ").write_bytes(eco)
    xlsb = hc._replace_members(
        good,
        {
            "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.ms-excel.sheet.binary.'
            b'macroEnabled.main"/></Types>'
        },
    )
    (folder / "县审计局.xlsb").write_bytes(xlsb)
    (folder / "县政府办公室.csv").write_text("指标名称,数值\n", encoding="utf-8")
    result = ingest(tmp_path / "raw")
    ind = result.indicators
    assert only_value(ind, "functions.rivers_cleaned_km")["source_file"] == PREFIX + "县水利局.et"
    eco_row = only_value(ind, "functions.water_source_zones")
    assert eco_row["department"] == "县生态环境分局" and eco_row["value"] == 15
    issues = result.issues
    xlsb_row = only_row(issues, "unreadable-file")
    assert xlsb_row["file"] == PREFIX + "县审计局.xlsb" and ".xlsb" in xlsb_row["message"]
    csv_row = only_row(issues, "unsupported-file")
    assert csv_row["file"] == PREFIX + "县政府办公室.csv" and csv_row["severity"] == "warning"
    assert "另存为" in csv_row["message"]


def only_value(ind, indicator_id: str):
    rows = ind[ind["indicator_id"] == indicator_id]
    assert len(rows) == 1
    return rows.iloc[0]


def test_fifos_broken_links_and_folders_named_like_workbooks_get_a_row(tmp_path: Path) -> None:
    """Case 12: each is an unsupported-file warning naming the entry (the FIFO is never opened)."""
    folder = year_folder(tmp_path)
    kinds = iic.special_entries(folder)
    result = ingest(tmp_path / "raw")
    rows = result.issues[result.issues["code"] == "unsupported-file"]
    assert dict(zip(rows["file"], rows["severity"], strict=True)) == {
        PREFIX + name: "warning" for name in kinds
    }
    for name, kind in kinds.items():
        assert kind in rows.loc[rows["file"] == PREFIX + name, "message"].iloc[0]
    assert not result.indicators.empty


@pytest.mark.parametrize(
    ("region", "shown"),
    [("通许县\u3164", "U+3164"), ("⾦水区", "U+2FA6"), ("Сity", "U+0421"), ("all", "all"), ("ALL", "all")],
)
def test_invisible_and_look_alike_region_names_are_refused(tmp_path: Path, region: str, shown: str) -> None:
    """Case 16: 通许县ㅤ (Hangul filler) would be a second region beside 通许县; all is the keyword."""
    year_folder(tmp_path)
    hc._good_file(tmp_path / "raw" / region / str(hc.YEAR), "县水利局.xlsx")
    result = ingest(tmp_path / "raw")
    bad = only_row(result.issues, "bad-path")
    assert bad["file"] == f"{region}/{hc.YEAR}/县水利局.xlsx" and shown in bad["message"]
    assert set(result.indicators["region"]) == {hc.REGION}


def test_look_alike_department_names_are_refused(tmp_path: Path) -> None:
    folder = year_folder(tmp_path)
    hc._good_file(folder, "县水利局\u3164.xlsx")
    bad = only_row(ingest(tmp_path / "raw").issues, "bad-path")
    assert bad["file"] == PREFIX + "县水利局\u3164.xlsx" and "U+3164" in bad["message"]


def test_many_drafts_of_one_form_stay_proportional(tmp_path: Path) -> None:
    """Case 4 (1,000 drafts measured in make bench): one row per place, each message of bounded size."""
    count = 40
    iic.drafts(year_folder(tmp_path), count)
    result = ingest(tmp_path / "raw")
    conflicts = result.issues[result.issues["code"] == "duplicate-conflict"]
    places = count * len(hc.catalog_values("县审计局"))
    assert len(conflicts) == places
    assert len(set(zip(conflicts["file"], conflicts["cell"], strict=True))) == places
    assert conflicts["message"].str.len().max() < 600
    assert conflicts["message"].str.contains(f"共 {count} 处").all()


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan"])
def test_a_bad_limit_variable_is_a_message_and_exit_2(tmp_path: Path, value: str) -> None:
    """Case 21 (ingest): a bad FAZHI_* value used to be a traceback with exit 1 at the first file."""
    year_folder(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "ingest", "--raw", str(tmp_path / "raw"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FAZHI_MAX_RATIO": value},
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "FAZHI_MAX_RATIO" in proc.stderr and "应为正数" in proc.stderr
    assert not out.exists()
