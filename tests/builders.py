"""Small builders of submission workbooks for tests (crafted cases, not the shipped data)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl

HEADER = ["序号", "指标名称", "单位", "数值", "备注"]
REPO = Path(__file__).resolve().parents[1]
SPEC_COPY = Path(__file__).parent / "data" / "tongxu_2019_indicators.csv"  # byte-identical to the spec


def load_generator():
    """``scripts/make_sample_data.py`` as a module (it writes the shipped 2019 workbooks)."""
    if "make_sample_data" in sys.modules:
        return sys.modules["make_sample_data"]
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", REPO / "scripts" / "make_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script is executed
    spec.loader.exec_module(module)
    return module


def write_sample_data(raw: Path) -> Path:
    """The shipped sample data (通许县/2019, from the spec copy) written under ``raw``; returns ``raw``.

    Tests use this copy, never the live ``data/raw``, which the analyst may have filled with other years."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert load_generator().main(["--spec", str(SPEC_COPY), "--out", str(raw)]) == 0
    return raw


def write_xlsx(
    path: Path,
    rows: list[list[object]],
    *,
    header: list[str] | None = HEADER,
    sheet: str = "数据",
    formats: dict[str, str] | None = None,
    metadata: dict[str, object] | None = None,
    title: str | None = None,
) -> Path:
    """A workbook with an optional title row, a header row and ``rows``; ``formats`` maps A1 → number format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    if metadata is not None:
        meta = wb.create_sheet("基本信息")
        for key, value in metadata.items():
            meta.append([key, value])
    wb.save(path)
    return path


def set_cached_formula(path: Path, sheet_index: int, ref: str, formula: str, cached: float) -> None:
    """Store ``formula`` with a cached result in cell ``ref`` (what Excel saves; openpyxl cannot)."""
    member = f"xl/worksheets/sheet{sheet_index + 1}.xml"
    with zipfile.ZipFile(path) as zin:
        xml = zin.read(member).decode("utf-8")
        items = [(info, zin.read(info.filename)) for info in zin.infolist()]
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)')
    new_cell = f'<c r="{ref}"><f>{formula}</f><v>{cached}</v></c>'
    assert pattern.search(xml), f"cell {ref} must exist (write a placeholder first)"
    xml = pattern.sub(new_cell, xml, count=1)
    tmp = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            zout.writestr(info, xml.encode("utf-8") if info.filename == member else data)
    shutil.move(tmp, path)


SAMPLE_REGION = "通许县"


def _char_refs(text: str) -> bytes:
    return "".join(f"&#{ord(ch)};" for ch in text).encode()


def renamed_region(data: bytes, region: str) -> bytes:
    """A sample workbook with the region's name replaced in every part (titles, 基本信息), whether written
    as UTF-8 or as character references (openpyxl writes inline strings that way)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            part = zin.read(info).replace(SAMPLE_REGION.encode(), region.encode())
            zout.writestr(info, part.replace(_char_refs(SAMPLE_REGION), _char_refs(region)))
    return out.getvalue()


def write_sample_regions(raw: Path, regions: list[str]) -> Path:
    """The eight sample workbooks of 2019 for each of ``regions`` (``raw/<region>/2019/…``); returns ``raw``."""
    with tempfile.TemporaryDirectory() as tmp:
        sample = write_sample_data(Path(tmp)) / SAMPLE_REGION / "2019"
        books = {p.name: p.read_bytes() for p in sorted(sample.glob("*.xlsx"))}
    for region in regions:
        folder = raw / region / "2019"
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in books.items():
            (folder / name).write_bytes(renamed_region(data, region))
    return raw


def write_years(raw: Path, catalog, regions: list[str], years: list[int], extra: dict | None = None) -> Path:
    """One workbook per department of ``catalog``'s year for each region and year (``raw/<region>/<year>/…``),
    each listing that year's indicators by name: the spec figure of 2019 grown 10% a year (rates unchanged,
    the second region twice the first), an indicator without a spec figure 100 + year − 2019, in its catalog
    unit (a renamed one converted by its ``factor``). ``extra`` maps (region, year, department) to more rows
    ([name, unit, value]) appended to that workbook. Returns ``raw``."""
    import csv

    with SPEC_COPY.open(encoding="utf-8") as fh:
        spec = {r["indicator_id"]: float(r["value"]) for r in csv.DictReader(fh)}
    for k, region in enumerate(regions):
        for year in years:
            year_catalog = catalog.for_year(year)
            for department in year_catalog.departments:
                rows = []
                for ind in year_catalog.for_department(department):
                    series = catalog.lineage.series(ind.indicator_id)
                    base = next((spec[i] * f for i, f in series.items() if i in spec), None)
                    if base is None:
                        value = 100 + year - 2019
                    elif ind.unit == "%":
                        value = base
                    else:
                        grown = base * (1 + 0.1 * (year - 2019)) * (k + 1)
                        value = (
                            round(grown, 4) if year_catalog.units[ind.unit].kind != "count" else round(grown)
                        )
                    rows.append([len(rows) + 1, ind.name_zh, ind.unit, value, ""])
                for name, unit, value in (extra or {}).get((region, year, department), []):
                    rows.append([len(rows) + 1, name, unit, value, ""])
                if rows:
                    write_xlsx(raw / region / str(year) / f"{department}.xlsx", rows)
    return raw
