"""Issue 9 case 20: a damaged manifest or publication journal is a clear message, never a traceback; a
damaged journal is set aside (renamed, reported) and the last complete set is used."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.fileio import output_lock
from analysis.core.store import (
    EXPECT_ENV,
    JOURNAL,
    MANIFEST,
    StoreError,
    StoreWarning,
    manifest_digest,
    read_indicators,
    read_issues,
    write_tables,
)
from analysis.ingest.pipeline import ingest
from tests import hostile_corpus as hc


@pytest.fixture
def published(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    hc._good_file(raw / hc.REGION / str(hc.YEAR), "县司法局.xlsx")
    result = ingest(raw)
    out = tmp_path / "out"
    with output_lock(out):
        write_tables(out, result.indicators, result.issues)
    return out


@pytest.mark.parametrize(
    "journal",
    [
        b"{not json",
        b"\xff\xfe garbage",
        b"[1, 2]",
        json.dumps({"staged": {}}).encode(),
        json.dumps({"staged": [], "manifest": {}}).encode(),
        json.dumps({"staged": {"indicators.parquet": "../../etc/passwd"}, "manifest": {}}).encode(),
        json.dumps({"staged": {"other.txt": ".staged-0123456789ab.other.csv"}, "manifest": {}}).encode(),
    ],
)
def test_a_damaged_journal_is_set_aside_and_the_last_set_used(published: Path, journal: bytes) -> None:
    expected = read_indicators(published)
    (published / JOURNAL).write_bytes(journal)
    with pytest.warns(StoreWarning, match="已改名为") as caught:
        got = read_indicators(published)
    assert got.equals(expected)
    assert "沿用上一次完整的导入结果" in str(caught[0].message)
    assert not (published / JOURNAL).exists()
    aside = list(published.glob(f"{JOURNAL}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == journal
    # and the next ingest publishes normally
    with output_lock(published):
        write_tables(published, got, read_issues(published))
    assert read_indicators(published).equals(expected)


@pytest.mark.parametrize("manifest", [b"{broken", b"[]", b'"text"', b"\x00\x01"])
def test_a_damaged_manifest_is_a_clear_error(published: Path, manifest: bytes) -> None:
    (published / MANIFEST).write_bytes(manifest)
    with pytest.raises(StoreError, match="已损坏.*请重新运行 ingest"):
        read_indicators(published)


def test_a_damaged_journal_does_not_block_the_next_ingest(published: Path) -> None:
    """Before, every later ingest crashed on the journal until someone deleted a hidden file."""
    indicators = pd.read_parquet(published / "indicators.parquet")
    issues = pd.read_parquet(published / "issues.parquet")
    (published / JOURNAL).write_text("{", encoding="utf-8")
    with pytest.warns(StoreWarning), output_lock(published):
        write_tables(published, indicators, issues)
    assert not (published / JOURNAL).exists()
    assert read_indicators(published).equals(indicators)


def test_a_read_bound_to_one_manifest_refuses_another_set(
    published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case 19 (store side): `run` binds its notebooks to one manifest; a set published meanwhile by an
    ingest is refused instead of being mixed into the report."""
    digest = manifest_digest(published)
    indicators = read_indicators(published, expect=digest)
    with output_lock(published):
        # a new ingest: a new manifest (its summary differs even within the same second)
        write_tables(published, indicators, read_issues(published), {"raw": "另一次导入"})
    with pytest.raises(StoreError, match="重新导入"):
        read_indicators(published, expect=digest)
    monkeypatch.setenv(EXPECT_ENV, digest)  # how the notebooks' kernels receive it
    with pytest.raises(StoreError, match="重新导入"):
        read_issues(published)
    monkeypatch.setenv(EXPECT_ENV, manifest_digest(published))
    assert read_indicators(published).equals(indicators)


@pytest.mark.parametrize(
    "column, bad",
    [("indicator_id", "不是编号"), ("year", 1800), ("value", 1e16), ("precision", 0.0), ("region", "")],
)
def test_a_table_that_breaks_the_contract_is_never_published(published: Path, column, bad) -> None:
    """The schema is built on first use (pandera is imported only by a write) and checked on every write."""
    import pandera.errors

    before = (published / MANIFEST).read_bytes()
    indicators = read_indicators(published)
    indicators.loc[0, column] = bad
    with output_lock(published), pytest.raises(pandera.errors.SchemaError):
        write_tables(published, indicators, read_issues(published))
    assert (published / MANIFEST).read_bytes() == before
