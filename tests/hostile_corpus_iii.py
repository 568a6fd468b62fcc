"""Hardening III (issue 22): the files and folders of the third hostile round.

Each builder writes one file (or folder) into a ``<region>/<year>/`` folder beside the good file of the first
corpus; ``tests/test_hostile_iii.py`` ingests each case on its own and checks what must come of it. Values
loaded here use indicators of departments whose good file is not beside them, so no duplicate arises.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile_corpus import DATA_SHEET, _indicator, _save, data_workbook, workbook_bytes

# --- case 1 and 7: characters XML cannot hold, control and bidi characters in notes -------------------

# (indicator, value, note as written in the cell, the code points named by the warning)
NOTES = [
    ("functions.rivers_cleaned_km", 12, "河道清理说明_xFFFE_", ("U+FFFE",)),
    ("functions.credit_public_records", 3456, "数据来源_xFFFF_平台", ("U+FFFF",)),
    ("oversight.poverty_audit_projects", 7, "控制_x0001_字符_x001B_", ("U+0001", "U+001B")),
    ("oversight.poverty_audit_issues", 335, "本单位\u202e533\u202c件", ("U+202E", "U+202C")),
    ("functions.gov_service_items", 88, "隔离\u2066字符\u2069", ("U+2066", "U+2069")),
]
NOTE_ROWS = {i: row for i, row in enumerate(NOTES)}


def unholdable_notes(folder: Path, name: str = "无效字符三.xlsx") -> Path:
    rows = [
        (_indicator(i).indicator_id, _indicator(i).name_zh, _indicator(i).unit, v, note)
        for i, v, note, _ in NOTES
    ]
    return _save(folder, name, workbook_bytes(data_workbook(rows)))


# --- case 7: one value in a cell merged over three indicator rows ----------------------------------------

MERGED = [
    "functions.rivers_cleaned_km",
    "functions.credit_public_records",
    "oversight.poverty_audit_projects",
]
MERGED_VALUE = 42
MERGED_RANGE = "E4:E6"


def merged_value(folder: Path, name: str = "合并数值.xlsx") -> Path:
    rows = [(_indicator(i).indicator_id, _indicator(i).name_zh, _indicator(i).unit, None, "") for i in MERGED]
    wb = data_workbook(rows)
    ws = wb[DATA_SHEET]
    ws["E4"] = MERGED_VALUE
    ws.merge_cells(MERGED_RANGE)
    return _save(folder, name, workbook_bytes(wb))


# --- case 7: a region whose counts are all zero --------------------------------------------------------


def zero_counts(values: dict[str, float]) -> dict[str, float]:
    """The same indicators, every count zero (valid data: nothing happened that year)."""
    return {key: 0.0 for key in values}


# --- case 6: 1,000 copies of one department's file -----------------------------------------------------


def copies(folder: Path, count: int, department: str = "县审计局") -> list[Path]:
    """``count`` saved copies of one department's form (``县审计局 - 副本 (n).xlsx``), values differing."""
    from tests.hostile_corpus import catalog_values, value_rows

    values = catalog_values(department)
    return [
        _save(
            folder,
            f"{department} - 副本 ({n}).xlsx",
            workbook_bytes(data_workbook(value_rows({k: v + n for k, v in values.items()}))),
        )
        for n in range(count)
    ]
