"""What the draft says about each value that is not in the tidy table, truthfully.

A value can be absent for three reasons, and the writer must be told which: the department sent something
that ingest rejected (``约两千`` is no number: 【已报送未采用：“约两千”（县政府办公室 数据!E8）不是数字，请核实】),
it left the cell blank with a remark (【未填报（县水利局说明：今年未单独统计）】), or it sent nothing
(【未填报：办理县长热线件（县政府办公室）】). The issues table of the region-year says which: a rejected
cell is an error row naming the indicator and the cell, the sent text quoted at the head of its message; a
blank's remark is the ``note`` of its missing-indicator row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from analysis.core.problems import CODES, ERROR, SEVERITY_ZH, WARNING
from analysis.explore.selection import MISSING, View

UNUSED = "已报送未采用"
BLANK_CODES = ("missing-indicator", "marked-not-reported")
# Told to the writer in the note before the final version even when they are information only.
NOTE_INFO_CODES = (*BLANK_CODES, "missing-submission", "check-skipped")
SENT = re.compile(r"^“(?P<sent>[^”]*)”(?P<rest>.*)$", re.S)


@dataclass(frozen=True)
class Unused:
    """A value a department sent that ingest did not take."""

    sent: str  # the cell's text as sent ("" when the message does not quote it)
    reason: str  # 不是数字
    department: str
    file: str
    sheet: str
    cell: str


@dataclass(frozen=True)
class Blank:
    """A value left blank: where (when the department's row was found) and why (its remark)."""

    remark: str
    department: str
    file: str
    sheet: str
    cell: str


@dataclass
class Account:
    """Every absent value of a region-year, by indicator id."""

    unused: dict[str, Unused] = field(default_factory=dict)
    blanks: dict[str, Blank] = field(default_factory=dict)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _reason(code: str, message: str) -> tuple[str, str]:
    """(sent text, short reason) from a rejection message ``“约两千”不是数字；请只填写…，数值未导入``."""
    match = SENT.match(message)
    if match is None:
        return "", CODES.get(code, ("", "数值未导入"))[1]
    reason = re.split(r"[；;。]|，数值未导入", match["rest"], maxsplit=1)[0].strip("，, ")
    return match["sent"], reason or CODES.get(code, ("", "数值未导入"))[1]


def account(view: View, issues: pd.DataFrame | None) -> Account:
    """The rejected and blank values of ``view``'s region-year according to ``issues`` (already cut to the
    region-year, or the whole table)."""
    out = Account()
    if issues is None or issues.empty:
        return out
    years = pd.to_numeric(issues["year"], errors="coerce")
    mine = issues[(issues["region"] == view.region) & (years == view.year)]
    for row in mine.to_dict("records"):
        iid = _text(row.get("indicator_id"))
        if iid not in view.catalog.indicators or view.get(iid) is not None:
            continue
        where = (_text(row.get("file")), _text(row.get("sheet")), _text(row.get("cell")))
        department = _text(row.get("department")) or view.indicator(iid).department
        if row["severity"] == ERROR and where[2] and iid not in out.unused:
            sent, reason = _reason(str(row["code"]), _text(row.get("message")))
            out.unused[iid] = Unused(sent, reason, department, *where)
        elif row["code"] in BLANK_CODES and iid not in out.blanks:
            out.blanks[iid] = Blank(_text(row.get("note")), department, *where)
    return out


def hole(view: View, acc: Account, indicator_id: str, named: bool = True) -> str:
    """The highlighted text standing for an absent value. ``named``: the indicator's name is said (a hole
    in a sentence names it by the sentence's words; a rejected value or a remark then needs no name)."""
    ind = view.indicator(indicator_id)
    unused = acc.unused.get(indicator_id)
    if unused is not None:
        where = f"{unused.department} {unused.sheet}!{unused.cell}"
        what = f"“{unused.sent}”" if unused.sent else (ind.name_zh if named else "单元格")
        head = ind.name_zh if named and unused.sent else ""
        return f"{head}【{UNUSED}：{what}（{where}）{unused.reason}，请核实】"
    blank = acc.blanks.get(indicator_id)
    if blank is not None and blank.remark:
        head = ind.name_zh if named else ""
        return f"{head}【{MISSING}（{blank.department}说明：{blank.remark}）】"
    return f"【{MISSING}：{ind.name_zh}（{ind.department}）】"


def source_cell(acc: Account, indicator_id: str) -> str:
    """``县政府办公室.xlsx / 数据 / E8`` for a rejected value or a located blank; "" when unknown."""
    found = acc.unused.get(indicator_id) or acc.blanks.get(indicator_id)
    if found is None or not found.file:
        return ""
    return " / ".join(x for x in (found.file, found.sheet, found.cell) if x)


def absent_value(acc: Account, indicator_id: str) -> tuple[str, str]:
    """(value column, note column) of the appendix row of an absent value."""
    unused = acc.unused.get(indicator_id)
    if unused is not None:
        sent = f"：“{unused.sent}”" if unused.sent else ""
        return f"{UNUSED}{sent}", f"{unused.reason}，请核实"
    blank = acc.blanks.get(indicator_id)
    return MISSING, (f"{blank.department}说明：{blank.remark}" if blank and blank.remark else "")


def writer_notes(view: View, issues: pd.DataFrame | None, acc: Account) -> list[str]:
    """The note to the writer (deleted before the final version): every error and warning of the
    region-year, every blank and missing submission, each with its file and cell; and every indicator not
    reported that no issue row explains."""
    notes: list[str] = []
    told: set[str] = set()
    if issues is not None and not issues.empty:
        years = pd.to_numeric(issues["year"], errors="coerce")
        mine = issues[(issues["region"] == view.region) & (years == view.year)]
        for row in mine.to_dict("records"):
            severity, code = str(row["severity"]), str(row["code"])
            if severity not in (ERROR, WARNING) and code not in NOTE_INFO_CODES:
                continue
            where = " ".join(
                x for x in (_text(row.get("file")), _where(row.get("sheet"), row.get("cell"))) if x
            )
            remark = _text(row.get("note"))
            extra = f"；单位说明：{remark}" if remark and remark not in _text(row["message"]) else ""
            notes.append(
                f"【{SEVERITY_ZH.get(severity, severity)}】{_text(row['message'])}{extra}"
                + (f"（{where}）" if where else "")
            )
            told.add(_text(row.get("indicator_id")))
    for ind in view.catalog.reported:
        iid = ind.indicator_id
        if view.get(iid) is None and iid not in told:
            notes.append(f"【{SEVERITY_ZH['info']}】{MISSING}：{ind.name_zh}（{ind.department}）")
    return notes


def _where(sheet: object, cell: object) -> str:
    sheet, cell = _text(sheet), _text(cell)
    return f"{sheet}!{cell}" if sheet and cell else sheet
