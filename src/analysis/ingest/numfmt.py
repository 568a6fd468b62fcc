"""Excel number formats for the .xlsx reader: the built-in format table, which formats show dates or
durations, and an Excel serial number as a Python date, time or duration (the conventions of the
previous reader, openpyxl's, kept exactly)."""

from __future__ import annotations

import datetime as dt
import re

# ECMA-376 18.8.30 built-in number formats, as openpyxl lists them (ids it does not know have no format).
BUILTIN_FORMATS = {
    **dict(enumerate(["General", "0", "0.00", "#,##0", "#,##0.00"])),
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    **dict(enumerate(["0%", "0.00%", "0.00E+00", "# ?/?", "# ??/??", "mm-dd-yy", "d-mmm-yy"], 9)),
    **dict(enumerate(["d-mmm", "mmm-yy", "h:mm AM/PM", "h:mm:ss AM/PM", "h:mm", "h:mm:ss"], 16)),
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    **dict(enumerate(["mm:ss", "[h]:mm:ss", "mmss.0", "##0.0E+0", "@"], 45)),
}
BUILTIN_IDS = {code: fmt_id for fmt_id, code in BUILTIN_FORMATS.items()}
CUSTOM_BASE = 164  # custom formats are renumbered from here, in order of first use
_DATE_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHARS = re.compile(r"(?<![_\\])[dmhysDMHYS]")
DURATION = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
WINDOWS_EPOCH, MAC_EPOCH = dt.datetime(1899, 12, 30), dt.datetime(1904, 1, 1)


def is_date_format(fmt: str | None) -> bool:
    return fmt is not None and _DATE_CHARS.search(_DATE_STRIP.sub("", fmt.split(";")[0])) is not None


def from_excel(value: float, epoch: dt.datetime, duration: bool) -> object:
    """An Excel serial number shown in a date or time format, as a Python value."""
    if duration:
        delta = dt.timedelta(days=value)
        if delta.microseconds:  # to the millisecond
            delta = dt.timedelta(
                seconds=delta.total_seconds() // 1, microseconds=round(delta.microseconds, -3)
            )
        return delta
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        return dt.time(minutes // 60, minutes % 60, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1  # Excel's 1900 leap-year bug
    return epoch + dt.timedelta(days=day) + diff


def is_duration_format(fmt: str | None) -> bool:
    return fmt is not None and DURATION.search(fmt.split(";")[0]) is not None
