"""Whose report a workbook is: region and year from the folders, department from the file name, and every
place in the file that contradicts them.

A file name as people save copies (``水利局 (1).xlsx``, ``县水利局 - 副本.xlsx``, ``通许县水利局最终版20200110``)
still names its department: the copy marks are taken off only when what remains is exactly a catalog name,
and an info row says which department the file was read as. Contradictions reject the whole file
(``metadata-mismatch``, the same rule everywhere): the ``基本信息`` sheet's 所属地区, 统计年度 or 填报单位, a
year in the file name, in a data sheet's title rows or in its value column header (``2019年`` in 2021/).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from analysis.core.catalog import Catalog
from analysis.core.names import FEEDBACK_SHEET
from analysis.core.problems import Problem
from analysis.core.text import clip, fold
from analysis.core.years import YEAR_MAX, YEAR_MIN, year_or_none
from analysis.ingest.cells import Sheet, Workbook, a1, cell_text
from analysis.ingest.extract import (
    BRACKETED,
    HEADER_SCAN_ROWS,
    FileContext,
    find_header,
    header_key,
    read_metadata,
)

# --- file names ---------------------------------------------------------------------------------------

_DATE = r"\d{8}|\d{4}[.\-_/年]\d{1,2}(?:[.\-_/月]\d{1,2}日?|月)|\d{1,2}月\d{1,2}日|\d{1,2}\.\d{1,2}"
_YEAR_MARK = r"\d{4}年度?|(?:19|20)\d{2}"
_COPY = (
    r"副本|复件|复制|拷贝|copyof|copy|最终版|最终稿|最终|终版|终稿|定稿|最新版|最新|修改版|修改稿|修订版|修订稿"
    r"|正式版|报送版|上报版|确认版|标注|[vV]\d+(?:\.\d+)?|第?[0-9一二三四五六七八九十]+稿"
)
_FILLER = r"法治政府建设数据统计表|法治政府建设数据|法治政府建设|数据统计表|统计表|数据表|报表|数据|填报"
_MARK = rf"(?:\(\d{{1,3}}\)|[(\[【]?(?:{_DATE}|{_YEAR_MARK}|{_COPY}|{_FILLER})[)\]】]?)"
_SEP = r"[\-_—–.·、+~]*"
_MARK_AT_END = re.compile(rf"{_SEP}{_MARK}{_SEP}$", re.IGNORECASE)
_MARK_AT_START = re.compile(rf"^{_SEP}{_MARK}{_SEP}", re.IGNORECASE)


def _name_forms(stem: str) -> Iterator[tuple[str, list[str]]]:
    """The file name folded, then with one copy mark after another taken off its ends: (rest, marks)."""
    key, front, back = fold(stem), [], []
    while key:
        yield key, front + back
        match = _MARK_AT_END.search(key) or _MARK_AT_START.search(key)
        if match is None or match.group(0) == key:
            return
        mark = match.group(0).strip("-_—–.·、+~")
        if match.end() == len(key):
            back.insert(0, mark)
        else:
            front.append(mark)
        key = key[: match.start()] + key[match.end() :]


def department_of_file(stem: str, region: str, catalog: Catalog) -> tuple[str | None, list[str]]:
    """(catalog department, copy marks taken off the name) for a file name; (None, []) if it names none.

    Marks come off the ends one at a time, and only until the rest is a catalog name or alias (with or
    without the region in front): ``水利局 (1)`` → 县水利局, ``["(1)"]``. Nothing else is guessed."""
    for key, removed in _name_forms(stem):
        found = catalog.department(key, region)
        if found is not None:
            return found, removed
    return None, []


# A year as a file name carries it: 2019, 2019年, 2019年度; never a date (20200110, 2020.1.10, 2020年1月).
_FILE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d|[.\-_/]\d|年\d)")
# A year in a title: 2019年度, 2019年, 2019年1月1日—12月31日 (a period from January); never a date such as
# 填报日期：2020年1月10日 (folded text).
_TITLE_YEAR = re.compile(r"(?<!\d)(\d{4})年(?:度|0?1月(?:0?1日)?[-—–~至到]|(?!\d{1,2}月))")


def _years(pattern: re.Pattern, text: str) -> set[int]:
    return {y for y in map(int, pattern.findall(fold(text))) if YEAR_MIN <= y <= YEAR_MAX}


def years_in_title(text: str) -> set[int]:
    """Statistical years a title or note names (``通许县水利局2019年度…统计表`` → {2019})."""
    return _years(_TITLE_YEAR, text)


def years_in_file_name(stem: str) -> set[int]:
    """Years a file name names (``县水利局2019年`` → {2019}; a date such as ``20200110`` names none)."""
    return _years(_FILE_YEAR, stem)


def resolve_department(ctx: FileContext, catalog: Catalog) -> tuple[FileContext, list[Problem]]:
    """The context with the catalog department the file name names, and a row saying how it was read."""
    canonical, removed = department_of_file(ctx.department, ctx.region, catalog)
    if canonical is None:
        known = "、".join(catalog.departments)
        return ctx, [
            ctx.problem(
                "unknown-department",
                f"文件名“{clip(ctx.department)}”不是指标目录中的填报单位（{known}），数值照常导入并记在该名称下；"
                "请把文件改名为本单位的规范名称",
            )
        ]
    resolved = FileContext(ctx.region, ctx.year, canonical, ctx.file)
    if not removed:
        return resolved, []
    marks = "”“".join(clip(m) for m in removed)
    return resolved, [
        resolved.problem(
            "file-name-variant",
            f"文件名“{clip(ctx.department)}”按{canonical}的报表读取（去掉了“{marks}”）；"
            f"如果这是副本，请只保留一个文件，并改名为“{canonical}”",
        )
    ]


SHOWN_FILES = 5  # file names a multiple-files row lists; the rest are counted


def same_department_files(contexts: list[FileContext]) -> list[Problem]:
    """One warning per department of a region-year that has several files (e.g. saved copies): the count
    and the first :data:`SHOWN_FILES` names, on the first file (one row, not one per file: 1,000 drafts
    would otherwise list 1,000 names 1,000 times)."""
    groups: dict[tuple[str, int, str], list[FileContext]] = defaultdict(list)
    for ctx in contexts:
        groups[(ctx.region, ctx.year, ctx.department)].append(ctx)
    problems = []
    for (_, _, department), group in groups.items():
        if len(group) < 2:
            continue
        group = sorted(group, key=lambda c: c.file)
        names = "、".join(clip(c.file.rsplit("/", 1)[-1]) for c in group[:SHOWN_FILES])
        more = f" 等，共 {len(group)} 个" if len(group) > SHOWN_FILES else ""
        problems.append(
            group[0].problem(
                "multiple-files",
                f"{department}有 {len(group)} 个文件（{names}{more}），都按该单位的报表读取：同一指标数值相同的只计一次，"
                "数值不同的均未导入；请确认哪一个是正式报表，只保留该文件",
            )
        )
    return problems


# --- contradictions -------------------------------------------------------------------------------------


def check_provenance(
    workbook: Workbook, ctx: FileContext, catalog: Catalog
) -> tuple[FileContext, list[Problem]]:
    """The context to use and the ``metadata-mismatch`` problems (any one rejects the file)."""
    ctx, problems = _check_metadata(workbook, ctx, catalog)
    problems += _check_years(workbook, ctx, catalog)
    return ctx, problems


def _same_region(written: str, region: str) -> bool:
    """河南省开封市通许县 names the folder 通许县 as well as 通许县 does; 尉氏县 does not."""
    return fold(written).endswith(fold(region))


_UNIT_ENDINGS = tuple("局办委心院所队站厅处科室部会府司道乡镇庭组")


def _bare_unit(name: str, region: str) -> str:
    """A unit's name without the region, the leading 县 and bracketed remarks (``通许县水利局（盖章）`` → 水利局)."""
    key = BRACKETED.sub("", fold(name))
    key = key.removeprefix(fold(region)) if region and key != fold(region) else key
    return key.removeprefix("县") or key


def _check_metadata(
    workbook: Workbook, ctx: FileContext, catalog: Catalog
) -> tuple[FileContext, list[Problem]]:
    """Compare the 基本信息 sheet with the folders and the file name."""
    meta = read_metadata(workbook, catalog)
    if meta is None:
        return ctx, []
    problems = []
    department = ctx.department

    def mismatch(key: str, against: str, fix: str) -> None:
        text, cell = meta.values[key]
        message = f"“基本信息”中的{key}“{clip(text)}”与{against}不一致，本文件全部数值未导入；{fix}"
        problems.append(ctx.problem("metadata-mismatch", message, meta.sheet, cell))

    if "所属地区" in meta.values and not _same_region(meta.values["所属地区"][0], ctx.region):
        mismatch("所属地区", f"文件夹“{ctx.region}”", "请改正后重新报送，或把文件放到正确地区的文件夹")
    if "统计年度" in meta.values and year_or_none(meta.values["统计年度"][0]) != ctx.year:
        mismatch("统计年度", f"文件夹年度 {ctx.year}", "请改正统计年度，或把文件放到正确年度的文件夹")
    if "填报单位" in meta.values:
        written = meta.values["填报单位"][0]
        declared = catalog.department(BRACKETED.sub("", fold(written)), ctx.region)
        by_name, _ = department_of_file(ctx.department, ctx.region, catalog)
        forms = {_bare_unit(key, ctx.region) for key, _ in _name_forms(ctx.department)}
        if by_name is not None:
            agrees = declared == by_name
        elif any(form.endswith(_UNIT_ENDINGS) for form in forms):  # a unit the catalog does not know
            agrees = _bare_unit(written, ctx.region) in forms
        else:  # a file named loosely (报表.xlsx): its 基本信息 says whose it is
            agrees, department = True, declared or department
        if not agrees:
            mismatch(
                "填报单位",
                f"文件名“{clip(ctx.department)}”",
                "请确认是哪个单位的报表，并统一文件名与填报单位",
            )
    return FileContext(ctx.region, ctx.year, department, ctx.file), problems


def _check_years(workbook: Workbook, ctx: FileContext, catalog: Catalog) -> list[Problem]:
    """A year in the file name, a title row or the value header that is not the folder's year."""
    problems = []
    named = years_in_file_name(ctx.department)
    if named and ctx.year not in named:
        shown = "、".join(map(str, sorted(named)))
        problems.append(
            ctx.problem(
                "metadata-mismatch",
                f"文件名“{clip(ctx.department)}”中的年度 {shown} 与文件夹年度 {ctx.year} 不一致，本文件全部数值未导入；"
                "请确认是哪一年的报表，改正文件名或把文件放到正确年度的文件夹",
            )
        )
    skip = {fold(catalog.sheet_names["metadata"]), fold(catalog.sheet_names["instructions"]), FEEDBACK_SHEET}
    for sheet in workbook.sheets:
        if fold(sheet.name) not in skip:
            found = _sheet_year_conflict(sheet, ctx, catalog)
            if found is not None:
                problems.append(found)
    return problems


def _value_header_years(catalog: Catalog) -> re.Pattern:
    """``2019年``, ``2019年度``, … : the catalog's value headers that name a year, for any year."""
    forms = [re.escape(fold(s)).replace(re.escape("{year}"), r"(\d{4})") for s in catalog.headers["value"]]
    return re.compile("^(?:" + "|".join(f for f in forms if r"(\d{4})" in f) + ")$")


def _sheet_year_conflict(sheet: Sheet, ctx: FileContext, catalog: Catalog) -> Problem | None:
    year_header = _value_header_years(catalog)

    def header_year(text: str) -> int | None:
        match = year_header.match(header_key(text))
        return int(next(g for g in match.groups() if g)) if match else None

    texts = [  # the header rows' texts, in reading order (from the row index: not every cell sorted)
        (row, col, cell_text(cell))
        for row in range(1, HEADER_SCAN_ROWS + 1)
        for col, cell in sheet.row_cells(row)
        if cell.origin is None and isinstance(cell.value, str)
    ]
    header = find_header(sheet, catalog, ctx.year)
    if header is None:  # a value column headed by another year: this sheet is another year's report
        for row, col, text in texts:
            written = header_year(text)
            if written is not None and written != ctx.year and find_header(sheet, catalog, written):
                return ctx.problem(
                    "metadata-mismatch",
                    f"数值列的表头“{clip(text)}”是 {written} 年，与文件夹年度 {ctx.year} 不一致，本文件全部数值未导入；"
                    "请确认是哪一年的报表，改正表头或把文件放到正确年度的文件夹",
                    sheet.name,
                    a1(row, col),
                )
        return None
    for row, col, text in texts:
        if row >= header[0] or header_year(text) is not None:
            continue
        years = years_in_title(text)
        if years and ctx.year not in years:
            shown = "、".join(map(str, sorted(years)))
            return ctx.problem(
                "metadata-mismatch",
                f"标题“{clip(text)}”写的是 {shown} 年，与文件夹年度 {ctx.year} 不一致，本文件全部数值未导入；"
                "请确认是哪一年的报表，改正标题或把文件放到正确年度的文件夹",
                sheet.name,
                a1(row, col),
            )
    return None
