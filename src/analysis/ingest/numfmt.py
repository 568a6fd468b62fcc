"""Excel number formats for the .xlsx reader, through openpyxl's public API: the built-in format table
(:data:`openpyxl.styles.numbers.BUILTIN_FORMATS`), which formats show dates or durations
(:func:`openpyxl.styles.numbers.is_date_format`, :func:`~openpyxl.styles.numbers.is_timedelta_format`) and an
Excel serial number as a Python date, time or duration (:func:`openpyxl.utils.datetime.from_excel`).

Built-in ids outside the ECMA-376 table (the Chinese locale ids 27–36, 50–58) have no format, as in
openpyxl: a workbook that uses one declares it in ``<numFmts>`` (Excel and WPS do), and an undeclared one
leaves the number a number.

openpyxl is imported lazily, on the first format that needs it. Measured (``python -X importtime``,
2 cores): ``import openpyxl.styles.numbers`` loads the whole package and costs 170–250 ms in a fresh
process (numpy included), 75–97 ms in an ingest process where pandas is already loaded; this module
without it costs about 1 ms. So a workbook whose cells show only General or custom non-date formats,
and an ingest that reads no workbook at all (every file reused, only .xls/.ods), never pay for it. The
two facts needed without openpyxl are fixed by ECMA-376 18.8.30: id 0 is ``General`` and custom formats
are numbered from 164; and a format with none of the letters ``dmhys`` cannot be a date format (a
necessary condition of openpyxl's test), so it is answered without the import.
"""

from __future__ import annotations

import re

GENERAL = "General"  # built-in format 0 (ECMA-376 18.8.30), the format of most styled cells
CUSTOM_BASE = 164  # ECMA-376: ids below are built-in; custom formats are numbered from here
_DATE_LETTER = re.compile("[dmhysDMHYS]")


def builtin_format(fmt_id: int) -> str | None:
    """The code of a built-in number format, or None for an id openpyxl's table does not know."""
    if fmt_id == 0:
        return GENERAL
    from openpyxl.styles.numbers import BUILTIN_FORMATS  # public; lazy (module docstring)

    return BUILTIN_FORMATS.get(fmt_id)


def is_builtin(fmt: str | None) -> bool:
    """Whether a format code is one of the built-in formats."""
    if fmt == GENERAL:
        return True
    from openpyxl.styles.numbers import is_builtin  # public; lazy (module docstring)

    return is_builtin(fmt)


def is_date_format(fmt: str | None) -> bool:
    """Whether a number in this format is shown as a date, a time or a duration."""
    if fmt is None or _DATE_LETTER.search(fmt) is None:
        return False
    from openpyxl.styles.numbers import is_date_format  # public; lazy (module docstring)

    return is_date_format(fmt)


def is_duration_format(fmt: str | None) -> bool:
    """Whether a date format shows elapsed time (``[h]:mm``): its numbers become ``timedelta``."""
    from openpyxl.styles.numbers import is_timedelta_format  # public; lazy (module docstring)

    return is_timedelta_format(fmt)


def from_excel(value: float, date1904: bool, duration: bool) -> object:
    """An Excel serial number shown in a date or time format, as a Python value: a ``datetime``, a
    ``time`` below one day, a ``timedelta`` for a duration format (to the millisecond). Raises
    OverflowError or ValueError for a number beyond the calendar."""
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel  # public; lazy

    return from_excel(value, MAC_EPOCH if date1904 else WINDOWS_EPOCH, timedelta=duration)


def preload() -> None:
    """Import openpyxl's number formats now. Called before a pool of readers is forked: the workers then
    share one import instead of each paying it on its first date or built-in format."""
    import openpyxl.styles.numbers  # noqa: F401
    import openpyxl.utils.datetime  # noqa: F401
