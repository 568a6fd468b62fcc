"""The shipped 2019 workbooks: reproduced by the generator, filled like real submissions, ingested exactly."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from analysis.core.catalog import load_catalog
from analysis.ingest.pipeline import ingest
from tests.builders import REPO, SPEC_COPY, load_generator

SAMPLE = Path("通许县") / "2019"  # where the generator puts the shipped workbooks under a raw folder
SHARED_SPEC = REPO.parent / "shared" / "spec" / "tongxu_2019_indicators.csv"
SPEC = SHARED_SPEC if SHARED_SPEC.is_file() else SPEC_COPY

gen = load_generator()


@pytest.fixture(scope="module")
def spec_rows() -> list[dict]:
    with SPEC.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def shipped(sample_raw: Path) -> Path:
    """The shipped workbooks, as the generator writes them (never the live data/raw, which may hold more)."""
    return sample_raw / SAMPLE


@pytest.fixture(scope="module")
def result(sample_raw: Path):
    return ingest(sample_raw, load_catalog())


def committed_sample(into: Path) -> Path:
    """The sample workbooks as committed to git (the index), copied into ``into``: what a clone ships.

    Read from git's object store, not from the working tree, whose data/raw belongs to the analyst."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the committed sample files cannot be read")
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--", f":(top){(Path('data/raw') / SAMPLE).as_posix()}"],
        capture_output=True,
        check=True,
    )
    names = [n for n in listing.stdout.decode("utf-8").split("\0") if n]
    assert names, "no sample workbooks are committed"
    into.mkdir(parents=True)
    for name in names:
        blob = subprocess.run(["git", "-C", str(REPO), "show", f":{name}"], capture_output=True, check=True)
        (into / Path(name).name).write_bytes(blob.stdout)
    return into


def _sheet_contents(path: Path) -> dict:
    """Every non-empty cell (formulas as written, with number formats) and merged range, per sheet."""
    wb = openpyxl.load_workbook(path)
    return {
        ws.title: (
            {
                c.coordinate: (c.value, c.number_format)
                for row in ws.iter_rows()
                for c in row
                if c.value is not None
            },
            sorted(str(r) for r in ws.merged_cells.ranges),
        )
        for ws in wb.worksheets
    }


def test_spec_copy_matches_shared_spec():
    if not SHARED_SPEC.is_file():
        pytest.skip("../shared/spec is not present next to this clone")
    assert SPEC_COPY.read_bytes() == SHARED_SPEC.read_bytes()


def test_generator_reproduces_committed_files(tmp_path):
    committed = committed_sample(tmp_path / "committed")
    assert gen.main(["--spec", str(SPEC), "--out", str(tmp_path / "made")]) == 0
    made = tmp_path / "made" / SAMPLE
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in committed.iterdir())
    for path in sorted(made.iterdir()):
        assert _sheet_contents(path) == _sheet_contents(committed / path.name), path.name
        # cached formula results are part of the file, not of openpyxl's view: compare the sheet XML too
        with zipfile.ZipFile(path) as a, zipfile.ZipFile(committed / path.name) as b:
            assert sorted(a.namelist()) == sorted(b.namelist())
            for name in a.namelist():
                if name.startswith("xl/worksheets/"):
                    assert a.read(name) == b.read(name), f"{path.name}:{name}"


def test_generator_is_deterministic(spec_rows):
    catalog = load_catalog()
    figures = gen.read_spec(SPEC)
    assert gen.build_all(figures, catalog) == gen.build_all(figures, catalog)


def test_generator_reads_figures_from_the_spec(tmp_path):
    """Figures come from the CSV: a changed figure changes the workbook; one it cannot write faithfully fails."""
    text = SPEC.read_text(encoding="utf-8")
    changed = tmp_path / "changed.csv"
    changed.write_text(
        text.replace(
            "functions.rivers_cleaned_km,清理河道长度,公里,一(二)严格规范职权,县水利局,335,",
            "functions.rivers_cleaned_km,清理河道长度,公里,一(二)严格规范职权,县水利局,336,",
        ),
        encoding="utf-8",
    )
    files = gen.build_all(gen.read_spec(changed), load_catalog())
    (tmp_path / "w.xlsx").write_bytes(files["县水利局.xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx").active
    assert 336 in [c.value for row in ws.iter_rows() for c in row]

    # the on-time rate is a formula (concluded / accepted): a spec where it cannot be 100 % is refused
    broken = tmp_path / "broken.csv"
    broken.write_text(
        re.sub(r"(disputes\.reconsideration_on_time_rate,[^\n]*?,县司法局,)100,", r"\g<1>95,", text),
        encoding="utf-8",
    )
    assert broken.read_text(encoding="utf-8") != text
    with pytest.raises(gen.LayoutError, match="formula"):
        gen.build_all(gen.read_spec(broken), load_catalog())


def test_generator_refuses_department_without_layout(tmp_path):
    text = SPEC.read_text(encoding="utf-8").replace(",县水利局,", ",县交通运输局,")
    other = tmp_path / "other.csv"
    other.write_text(text, encoding="utf-8")
    with pytest.raises(gen.LayoutError, match="no layout"):
        gen.build_all(gen.read_spec(other), load_catalog())


def test_generator_missing_spec(tmp_path, capsys):
    assert gen.main(["--spec", str(tmp_path / "none.csv"), "--out", str(tmp_path)]) == 2
    assert "找不到规格文件" in capsys.readouterr().err


# --- the files look like real submissions ----------------------------------------------------------------


def test_one_file_per_spec_department(shipped, spec_rows):
    assert sorted(p.name for p in shipped.iterdir()) == sorted({f"{r['department']}.xlsx" for r in spec_rows})


def test_files_carry_the_value_forms_departments_use(result, shipped):
    raw = dict(zip(result.indicators["indicator_id"], result.indicators["raw_value"], strict=True))
    assert raw["leadership.study_books_printed"] == "500余"
    assert raw["functions.clean_heating_households"] == "1.1万"
    assert raw["disputes.mediation_success_rate"] == "98.1%"
    assert raw["disputes.reconsideration_received"] == "１２"
    assert raw["disputes.mediation_cases"] == "6,736"
    assert raw["functions.power_items_after"] == "2660项"
    assert raw["disputes.mediation_success"] == "6609件"
    assert raw["functions.high_freq_window_share"].startswith("0.8")  # 0.8 formatted as 0 %
    headers, with_info, without_info = set(), 0, 0
    for path in shipped.iterdir():
        wb = openpyxl.load_workbook(path)
        with_info += "基本信息" in wb.sheetnames
        without_info += "基本信息" not in wb.sheetnames
        for ws in wb.worksheets:
            cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
            headers.update(cells)
            assert ws.merged_cells.ranges or ws.title in ("基本信息", "Sheet2"), (path.name, ws.title)
    assert with_info and without_info
    for header in ("指标名称", "本年数", "项目", "数量", "计量单位", "备注", "2019年", "序号", "指标编码"):
        assert header in headers, header
    assert any(h.startswith("注：") for h in headers)
    assert any(re.match(r"^[一二三四五六七八九]、", h) for h in headers)


def test_formula_with_cached_result_is_a_spec_figure(result, shipped, spec_rows):
    path = shipped / "县司法局.xlsx"
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    formulas = re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f>([^<]+)</f><v>([^<]+)</v></c>', xml)
    assert len(formulas) == 1
    ref, formula, cached = formulas[0]
    row = result.indicators.set_index("indicator_id").loc["disputes.reconsideration_on_time_rate"]
    assert row["cell"] == ref and row["source_file"] == "通许县/2019/县司法局.xlsx"
    spec = {r["indicator_id"]: float(r["value"]) for r in spec_rows}
    assert float(cached) * 100 == spec["disputes.reconsideration_on_time_rate"]


# --- ingest reproduces the spec ------------------------------------------------------------------------


def test_ingest_yields_all_52_spec_values_exactly(result, spec_rows):
    assert len(spec_rows) == 52
    reported = result.indicators[~result.indicators["derived"]].set_index("indicator_id")
    assert sorted(reported.index) == sorted(r["indicator_id"] for r in spec_rows)
    for r in spec_rows:
        got = reported.loc[r["indicator_id"]]
        assert got["value"] == float(r["value"]), r["indicator_id"]
        assert got["qualifier"] == (r["qualifier"] or ""), r["indicator_id"]
        assert got["unit"] == r["unit"], r["indicator_id"]
        assert got["department"] == r["department"], r["indicator_id"]
        assert got["name_zh"] == r["name_zh"]
        assert (got["region"], got["year"]) == ("通许县", 2019)
        assert got["source_file"] == f"通许县/2019/{r['department']}.xlsx"


def test_ingest_reports_the_power_list_gap_and_no_error(result):
    issues = result.issues
    assert not (issues["severity"] == "error").any(), issues.to_string()
    gap = issues[issues["code"] == "reconciliation-mismatch"]
    assert len(gap) == 1
    assert gap["severity"].iloc[0] == "warning"
    message = gap["message"].iloc[0]
    for number in ("2705", "38", "44", "2711", "2660", "51"):
        assert re.search(rf"(?<!\d){number}(?!\d)", message), number
    # nothing else worth a warning in the shipped data
    assert set(issues.loc[issues["severity"] == "warning", "code"]) == {"reconciliation-mismatch"}


def test_ingest_derives_from_shipped_values(result):
    derived = result.indicators[result.indicators["derived"]].set_index("indicator_id")["value"]
    assert derived["derived.certificates_reviewed"] == 220
    assert derived["derived.service_center_depts"] == 41
    assert derived["derived.power_items_unexplained_change"] == -51
