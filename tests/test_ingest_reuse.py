"""Incremental ingest (:mod:`analysis.ingest.reuse`): a file whose bytes did not change is not read again,
and the tables are exactly those of an ingest that read everything."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

import analysis.ingest.pipeline as pipeline
import analysis.ingest.reuse as reuse
from analysis import cli
from analysis.core.catalog import load_catalog, parse_catalog
from analysis.core.store import write_tables
from analysis.ingest.limits import Limits
from analysis.ingest.pipeline import ingest
from analysis.ingest.reuse import MANIFEST_KEY, RECORD, Reads

JUDICIAL = "通许县/2019/县司法局.xlsx"


@pytest.fixture
def raw(sample_raw: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "raw"
    shutil.copytree(sample_raw, copy)
    (copy / "通许县" / "2019" / "说明.xlsx").write_bytes(b"not a workbook")  # a rejected file is reused too
    return copy


@pytest.fixture
def reads_spy(monkeypatch) -> list[str]:
    """The files actually read (every ingest below runs in one process: fewer files than the pool needs)."""
    read: list[str] = []
    real = pipeline.read_workbook

    def spy(path, limits=None):
        read.append(Path(path).as_posix())
        return real(path, limits)

    monkeypatch.setattr(pipeline, "read_workbook", spy)
    return read


def _ingest(raw: Path, out: Path, catalog=None, limits=None, force=False, workers=1):
    catalog = catalog or load_catalog()
    limits = limits or Limits()
    reads = Reads.load(out, catalog, limits, force=force)
    result = ingest(raw, catalog, limits, workers=workers, reads=reads)
    write_tables(out, result.indicators, result.issues, {MANIFEST_KEY: reads.seal()}, catalog=catalog)
    reads.save(out)
    return result, reads


def _read(spy: list[str], raw: Path) -> list[str]:
    return sorted(Path(p).relative_to(raw).as_posix() for p in spy)


def _same_tables(a, b) -> None:
    assert a.indicators.to_csv(index=False) == b.indicators.to_csv(index=False)
    assert a.issues.to_csv(index=False) == b.issues.to_csv(index=False)


def _resend(path: Path, add: float = 1) -> tuple[str, float]:
    """Change the first number in the data sheet of ``path`` by ``add``, as a department's corrected file."""
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if (
                    isinstance(cell.value, int | float)
                    and not isinstance(cell.value, bool)
                    and cell.value > 10
                ):
                    old = cell.value
                    cell.value = old + add
                    book.save(path)
                    return f"{sheet.title}!{cell.coordinate}", old
    raise AssertionError(f"no number in {path}")


def test_an_unchanged_ingest_reads_nothing_and_gives_the_same_tables(raw, tmp_path, reads_spy) -> None:
    first, _ = _ingest(raw, tmp_path / "out")
    assert len(reads_spy) == 9 and not any(f.reused for f in first.files)
    reads_spy.clear()
    second, _ = _ingest(raw, tmp_path / "out")
    assert reads_spy == []
    assert all(f.reused for f in second.files)
    _same_tables(first, second)
    assert [(f.file, f.values, f.errors, f.rejected) for f in first.files] == [
        (f.file, f.values, f.errors, f.rejected) for f in second.files
    ]
    assert "unreadable-file" in set(second.issues["code"])  # the rejected file's problem is kept


def test_a_resent_workbook_is_the_only_file_read(raw, tmp_path, reads_spy) -> None:
    _ingest(raw, tmp_path / "out")
    where, old = _resend(raw / JUDICIAL)
    reads_spy.clear()
    result, reads = _ingest(raw, tmp_path / "out")
    assert _read(reads_spy, raw) == [JUDICIAL]
    assert [f.file for f in result.files if not f.reused] == [JUDICIAL]
    sheet, cell = where.split("!")
    changed = result.indicators[(result.indicators["sheet"] == sheet) & (result.indicators["cell"] == cell)]
    assert changed["source_file"].tolist() == [JUDICIAL] and changed["value"].tolist() == [old + 1]
    fresh = ingest(raw, load_catalog(), Limits(), workers=1)  # no record: every file read
    _same_tables(result, fresh)
    # the record holds the digest of the bytes that were read, for exactly the files of this ingest
    record = json.loads((tmp_path / "out" / RECORD).read_text(encoding="utf-8"))
    assert len(record["files"]) == 9
    [entry] = [e for e in record["files"].values() if e["ctx"]["file"] == JUDICIAL]
    assert entry["sha256"] == hashlib.sha256((raw / JUDICIAL).read_bytes()).hexdigest()
    assert reads.note == ""


def test_the_pool_reads_the_changed_files_and_gives_the_same_tables(raw, tmp_path) -> None:
    _ingest(raw, tmp_path / "out", workers=2)
    _resend(raw / JUDICIAL)
    _resend(raw / "通许县/2019/县政府办公室.xlsx", add=2)
    result, _ = _ingest(raw, tmp_path / "out", workers=2)
    assert sorted(f.file for f in result.files if not f.reused) == [JUDICIAL, "通许县/2019/县政府办公室.xlsx"]
    _same_tables(result, ingest(raw, load_catalog(), Limits(), workers=1))


@pytest.mark.parametrize(
    "change, note",
    [
        ("catalog", "指标目录、文件上限或程序有变化"),
        ("limits", "指标目录、文件上限或程序有变化"),
        ("program", "指标目录、文件上限或程序有变化"),
        ("damaged", "已损坏"),
        ("foreign", "格式不符"),
        ("force", "--force"),
    ],
)
def test_what_makes_every_file_read_again(raw, tmp_path, reads_spy, monkeypatch, change, note) -> None:
    out = tmp_path / "out"
    _ingest(raw, out)
    reads_spy.clear()
    catalog, limits, force = load_catalog(), Limits(), False
    if change == "catalog":
        catalog = parse_catalog(catalog.text + "\n# 本地修改\n", "local.yaml")
    elif change == "limits":
        limits = Limits(max_cells=1_000_000)
    elif change == "program":
        monkeypatch.setattr(reuse, "program_digest", lambda: "另一个版本")
    elif change == "damaged":
        (out / RECORD).write_bytes(b'{"format": 1, "files": {')
    elif change == "foreign":
        (out / RECORD).write_text(json.dumps([1, 2, 3]), encoding="utf-8")
    else:
        force = True
    result, reads = _ingest(raw, out, catalog=catalog, limits=limits, force=force)
    assert len(reads_spy) == 9 and not any(f.reused for f in result.files)
    assert note in reads.note
    reads_spy.clear()
    _ingest(raw, out, catalog=catalog, limits=limits)  # the record was replaced: reused again
    assert reads_spy == []


def test_a_moved_file_is_read_again(raw, tmp_path, reads_spy) -> None:
    """Region, year and department come from where a file sits: the same bytes elsewhere are another file."""
    _ingest(raw, tmp_path / "out")
    (raw / "通许县" / "2020").mkdir()
    shutil.move(raw / JUDICIAL, raw / "通许县" / "2020" / "县司法局.xlsx")
    reads_spy.clear()
    result, _ = _ingest(raw, tmp_path / "out")
    assert _read(reads_spy, raw) == ["通许县/2020/县司法局.xlsx"]
    _same_tables(result, ingest(raw, load_catalog(), Limits(), workers=1))


def test_an_entry_edited_by_hand_is_not_trusted(raw, tmp_path, reads_spy) -> None:
    out = tmp_path / "out"
    _ingest(raw, out)
    record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    for entry in record["files"].values():
        if entry["ctx"]["file"] == JUDICIAL:
            entry["candidates"][0][0] = "no_such_indicator"
    (out / RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    reads_spy.clear()
    result, _ = _ingest(raw, out)
    assert _read(reads_spy, raw) == [JUDICIAL]
    _same_tables(result, ingest(raw, load_catalog(), Limits(), workers=1))


def test_a_file_whose_reader_crashed_is_not_recorded(raw, tmp_path) -> None:
    catalog = load_catalog()
    reads = Reads.load(tmp_path, catalog, Limits())
    files, _ = pipeline.discover(raw)
    path, ctx = files[0]
    crashed, problems = pipeline.file_crashed(path, ctx, catalog)
    reads.keep(ctx, crashed, problems)
    assert reads.current == {}
    read, problems = pipeline.ingest_file(path, ctx, catalog, Limits())
    reads.keep(ctx, read, problems)
    assert len(reads.current) == 1


def test_the_terminal_says_which_files_were_reused(raw, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(out)]) == 1  # the text file is an error
    capsys.readouterr()
    _resend(raw / JUDICIAL)
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    reused = [line for line in text.splitlines() if "未变化，沿用上次读取的结果" in line]
    assert len(reused) == 8 and not any(JUDICIAL in line for line in reused)
    assert "其中 8 个文件内容未变化（按 SHA-256 比对），沿用上次的读取结果；重新读取 1 个" in text
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files_reused"] == 8
    # the manifest names the exact bytes every table row came from
    assert manifest["sources"][JUDICIAL] == hashlib.sha256((raw / JUDICIAL).read_bytes()).hexdigest()
    assert len(manifest["sources"]) == 9
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(out), "--force"]) == 1
    text = capsys.readouterr().out
    assert "按 --force 重新读取全部文件" in text and "未变化" not in text


def test_a_record_that_cannot_be_saved_costs_nothing_but_the_reuse(
    raw, tmp_path, capsys, monkeypatch
) -> None:
    def full(self, folder):
        raise OSError(28, "磁盘已满")

    monkeypatch.setattr(Reads, "save", full)
    out = tmp_path / "out"
    assert cli.main(["ingest", "--raw", str(raw), "--out", str(out), "--quiet"]) == 1  # the data's own error
    assert "读取记录未能保存" in capsys.readouterr().err
    assert (out / "indicators.parquet").is_file() and not (out / RECORD).exists()
