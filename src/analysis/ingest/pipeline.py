"""Ingest: ``<raw>/<region>/<year>/<department>.xlsx`` → one tidy table and one list of problems.

Flow (one way): discover files → read each workbook → extract candidates → resolve duplicates across
files → derive indicators and check identities (:mod:`analysis.checks`) → tables. A bad file or cell never
costs the good data beside it; nothing is silently dropped: every non-empty value cell of a data row is
either a row of the tidy table or a row of the problems table (a whole-file rejection covers its cells).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.catalog import Catalog, load_catalog
from analysis.core.formatting import format_number
from analysis.core.problems import ERROR, ISSUE_COLUMNS, WARNING, Problem, severity_rank
from analysis.core.schema import INDICATOR_COLUMNS, NUMERIC_COLUMNS, with_precision
from analysis.core.text import has_surrogates, scrub_surrogates
from analysis.ingest.checks import check_completeness, check_identities, derive
from analysis.ingest.discovery import discover
from analysis.ingest.extract import Candidate, FileContext, Loaded, extract
from analysis.ingest.numfmt import preload
from analysis.ingest.parallel import gc_paused, map_files, worker_count
from analysis.ingest.provenance import check_provenance, resolve_department, same_department_files
from analysis.ingest.reuse import Reads
from analysis.ingest.safety import Limits
from analysis.ingest.workbook import WorkbookError, read_workbook

# Places a duplicate-conflict message lists (1,000 drafts of one form would otherwise make each of the
# 1,000 rows name all 1,000 places: a million places in issues.csv).
LISTED = 3


@dataclass
class FileSummary:
    file: str
    department: str
    values: int = 0
    errors: int = 0
    warnings: int = 0
    rejected: bool = False
    reused: bool = False  # unchanged since the last ingest: its earlier result was used, the file not read
    digest: str = ""  # SHA-256 of the file's bytes as read ("" when they could not be read)


@dataclass
class IngestResult:
    indicators: pd.DataFrame
    issues: pd.DataFrame
    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def has_errors(self) -> bool:
        return bool((self.issues["severity"] == ERROR).any())


# --- one file -------------------------------------------------------------------------------------


def ingest_file(
    path: Path, ctx: FileContext, catalog: Catalog, limits: Limits | None = None
) -> tuple[Loaded, list[Problem]]:
    try:
        workbook = read_workbook(path, limits)
    except WorkbookError as exc:
        ctx, _ = resolve_department(ctx, catalog)
        return Loaded(ctx, [], rejected=True, digest=exc.digest), [
            ctx.problem(exc.code, f"{exc.message}；本文件的数值全部未导入")
        ]
    ctx, problems = check_provenance(workbook, ctx, catalog)
    if problems:
        return Loaded(ctx, [], rejected=True, digest=workbook.digest), problems
    ctx, problems = resolve_department(ctx, catalog)
    extraction = extract(workbook, ctx, catalog)
    problems.extend(extraction.problems)
    if not extraction.data_sheets:
        synonyms = catalog.headers
        problems.append(
            ctx.problem(
                "no-data",
                "工作簿中没有找到数据表：任一工作表的前 10 行中应有表头行，同时包含指标列（"
                + "/".join(synonyms["code"] + synonyms["name"])
                + "）和数值列（"
                + "/".join(s.format(year=ctx.year) for s in synonyms["value"][:6])
                + "）；请使用报表模板填报",
            )
        )
        return Loaded(ctx, [], rejected=True, digest=workbook.digest), problems
    for cand in extraction.candidates:
        if (
            cand.indicator.department
            and ctx.department in catalog.departments
            and cand.indicator.department != ctx.department
        ):
            problems.append(
                ctx.problem(
                    "unexpected-department",
                    f"指标“{cand.indicator.name_zh}”按目录应由{cand.indicator.department}填报，本表也填报了；已导入，请核实口径",
                    cand.sheet,
                    cand.cell,
                    cand.indicator.indicator_id,
                )
            )
    return Loaded(ctx, extraction.candidates, blanks=extraction.blanks, digest=workbook.digest), problems


def file_crashed(
    path: Path, ctx: FileContext, catalog: Catalog, limits: Limits | None = None
) -> tuple[Loaded, list[Problem]]:
    """What stands for a file whose reading failed unexpectedly or killed its worker process."""
    ctx, _ = resolve_department(ctx, catalog)
    message = (
        "读取本文件时程序意外出错（文件可能已损坏或结构异常），本文件的数值全部未导入；"
        "请在 Excel 中打开并另存为 .xlsx 后重新报送"
    )
    return Loaded(ctx, [], rejected=True), [ctx.problem("unreadable-file", message)]


def _results(
    files: list[tuple[Path, FileContext]],
    catalog: Catalog,
    limits: Limits,
    workers: int | None,
    reads: Reads | None,
) -> Iterator[tuple[Loaded, list[Problem], bool]]:
    """(result, problems, reused) of every file in order: the earlier result of an unchanged file, else the
    file read (in a pool when there are many to read)."""
    earlier: list[tuple[Loaded, list[Problem]] | None] = [None] * len(files)
    if reads is not None:
        digests = reads.digests(files, limits)
        earlier = [reads.reuse(ctx, digest, catalog) for (_, ctx), digest in zip(files, digests, strict=True)]
    todo = [f for f, hit in zip(files, earlier, strict=True) if hit is None]
    if worker_count(len(todo), workers) > 1:
        preload()  # before the fork: once for all workers (measured: about 80 ms of CPU in each)
    fresh = map_files(ingest_file, todo, (catalog, limits), file_crashed, workers)
    for (_, ctx), hit in zip(files, earlier, strict=True):
        if hit is not None:
            yield *hit, True
            continue
        item, problems = next(fresh)
        if reads is not None:
            reads.keep(ctx, item, problems)
        yield item, problems, False


# --- across files ---------------------------------------------------------------------------------


def resolve_duplicates(loaded: list[Loaded]) -> tuple[list[tuple[FileContext, Candidate]], list[Problem]]:
    """One value per region, year and indicator: equal repeats count once; different values load none."""
    groups: dict[tuple[str, int, str], list[tuple[FileContext, Candidate]]] = defaultdict(list)
    for item in loaded:
        for cand in item.candidates:
            groups[(item.ctx.region, item.ctx.year, cand.indicator.indicator_id)].append((item.ctx, cand))
    kept: list[tuple[FileContext, Candidate]] = []
    problems: list[Problem] = []
    for places in groups.values():
        if len(places) == 1:
            kept.append(places[0])
            continue
        first_ctx, first = places[0]
        if all((c.value, c.qualifier) == (first.value, first.qualifier) for _, c in places):
            kept.append(places[0])
            for ctx, cand in places[1:]:
                problems.append(
                    ctx.problem(
                        "duplicate-value",
                        f"“{cand.indicator.name_zh}”重复填报，数值相同（{format_number(cand.value)}），以 {first.place(first_ctx)} 为准",
                        cand.sheet,
                        cand.cell,
                        cand.indicator.indicator_id,
                    )
                )
            continue
        listing = "；".join(
            f"{c.place(x)}：{format_number(c.value)}{c.qualifier}" for x, c in places[:LISTED]
        )
        if len(places) > LISTED:  # one row per place; each message names a few others, never all of them
            listing += f"……共 {len(places)} 处"
        for ctx, cand in places:
            problems.append(
                ctx.problem(
                    "duplicate-conflict",
                    f"“{cand.indicator.name_zh}”填报了不同的数值（{listing}），均未导入；请相关单位核对后只保留一个正确数值",
                    cand.sheet,
                    cand.cell,
                    cand.indicator.indicator_id,
                )
            )
    return kept, problems


def _rows(kept: list[tuple[FileContext, Candidate]]) -> list[dict]:
    return [
        {
            "region": ctx.region,
            "year": ctx.year,
            "indicator_id": c.indicator.indicator_id,
            "name_zh": c.indicator.name_zh,
            "topic": c.indicator.topic,
            "value": c.value,
            "unit": c.indicator.unit,
            "qualifier": c.qualifier,
            "precision": c.precision,
            "department": ctx.department,
            "source_file": ctx.file,
            "sheet": c.sheet,
            "cell": c.cell,
            "raw_value": c.raw_value,
            "note": c.note,
            "derived": False,
        }
        for ctx, c in kept
    ]


def _scrubbed(column: pd.Series) -> pd.Series:
    """The column with lone surrogates replaced (:func:`scrub_surrogates`); one search when there are none."""
    if not has_surrogates("".join(column.tolist())):
        return column
    return column.map(scrub_surrogates)


def indicators_frame(rows: list[dict]) -> pd.DataFrame:
    frame = with_precision(pd.DataFrame(rows, columns=INDICATOR_COLUMNS))
    frame = frame.astype({"year": "int64", "value": "float64", "derived": "bool"})
    for col in INDICATOR_COLUMNS:
        if col not in NUMERIC_COLUMNS:
            frame[col] = _scrubbed(frame[col].astype(object).fillna("").astype(str))
    return frame.sort_values(["region", "year", "derived", "indicator_id"], kind="stable").reset_index(
        drop=True
    )


def issues_frame(problems: list[Problem]) -> pd.DataFrame:
    frame = pd.DataFrame([p.as_row() for p in problems], columns=ISSUE_COLUMNS)
    frame["year"] = pd.array(frame["year"].tolist(), dtype="Int64")
    for col in ISSUE_COLUMNS:
        if col != "year":
            frame[col] = _scrubbed(frame[col].astype(object).fillna("").astype(str))
    frame["_order"] = frame["severity"].map(severity_rank)
    frame = frame.sort_values(["_order", "region", "year", "file", "sheet", "cell"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


# --- entry points ---------------------------------------------------------------------------------


@gc_paused
def ingest(
    raw_dir: Path | str,
    catalog: Catalog | None = None,
    limits: Limits | None = None,
    progress: Callable[[list], Iterable] | None = None,
    report: Callable[[FileSummary], None] | None = None,
    workers: int | None = None,
    reads: Reads | None = None,
) -> IngestResult:
    """Read every submission under ``raw_dir``; never raises for bad input (it becomes problems).

    ``progress`` may wrap the list of files (e.g. in a progress bar); ``report`` is called after each file.
    Many files are read in a process pool (:mod:`analysis.ingest.parallel`; ``workers``, else
    ``FAZHI_INGEST_WORKERS``, else one per CPU); the result is the same as in one process. With ``reads``
    (:mod:`analysis.ingest.reuse`), a file whose bytes did not change since that record is not read again;
    ``reads`` then holds this ingest's record. The result is the same either way."""
    started = time.perf_counter()
    raw_dir = Path(raw_dir)
    catalog = catalog or load_catalog()
    limits = limits or Limits.from_env()
    files, problems = discover(raw_dir)
    loaded: list[Loaded] = []
    summaries: list[FileSummary] = []
    results = _results(files, catalog, limits, workers, reads)
    for (_, ctx), (item, file_problems, reused) in zip(
        progress(files) if progress else files, results, strict=True
    ):
        loaded.append(item)
        problems.extend(file_problems)
        summary = FileSummary(
            file=ctx.file,
            department=item.ctx.department,
            values=len(item.candidates),
            errors=sum(p.severity == ERROR for p in file_problems),
            warnings=sum(p.severity == WARNING for p in file_problems),
            rejected=item.rejected,
            reused=reused,
            digest=item.digest,
        )
        summaries.append(summary)
        if report is not None:
            report(summary)
    problems.extend(same_department_files([item.ctx for item in loaded if not item.rejected]))
    kept, dup_problems = resolve_duplicates(loaded)
    problems.extend(dup_problems)
    rows = _rows(kept)
    derived_rows, derive_problems = derive(rows, catalog)
    problems.extend(derive_problems)
    all_rows = rows + derived_rows
    problems.extend(check_identities(all_rows, catalog))
    read = [item for item in loaded if not item.rejected]
    blanks = [(item.ctx, blank) for item in read for blank in item.blanks]
    problems.extend(check_completeness(rows, [item.ctx for item in read], catalog, problems, blanks))
    return IngestResult(
        indicators=indicators_frame(all_rows),
        issues=issues_frame(problems),
        files=summaries,
        seconds=time.perf_counter() - started,
    )
