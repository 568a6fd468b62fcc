"""The steps of one report, declared in one place, each a function of the staged folder.

A report is built in its staging folder (:func:`~analysis.report.publish.staging`) by plain steps that run
in the executor's workers, next to its notebooks, never in the batch's main process:

- per notebook, :func:`run_notebook`: :data:`NOTEBOOK_STEPS` — execute it on a fresh kernel, then write
  its page;
- :func:`finish_report` in two jobs side by side (:data:`REPORT_STEPS`): once every notebook of the report
  has ended, the pages a lost worker did not write, the summary workbook, the index page, the assets and
  the web font; and the Word draft with its PDF preview, which reads only the tables
  (:data:`WITHOUT_RESULTS`), so it is handed out with the notebooks, after them (a comparison page has
  only its page, assets and font);
- once every report is published, :func:`write_overview`: the site overview ``reports/index.html``.

Each step takes and returns plain values (a job dict in, a JSON-able dict out), so it runs in a pool
worker, a Dask worker or a thread alike. The main process plans, hands the steps to the executor,
publishes each staged folder atomically and writes the build records (:mod:`~analysis.report.batch`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from analysis.core import names
from analysis.core.fileio import atomic_write_bytes
from analysis.core.store import read_catalog, read_indicators, read_issues
from analysis.execute.runner import NotebookResult, execute_one

# --- per notebook ------------------------------------------------------------------------------------


def execute(job: dict) -> dict:
    """Run the notebook on a fresh kernel (:func:`~analysis.execute.runner.execute_one`)."""
    return execute_one(job)


def page(job: dict, result: dict) -> dict:
    """Retarget and slim the executed notebook, then write its page into the staging folder; the page's
    :class:`~analysis.site.pages.PageInfo` as a dict."""
    import nbformat

    from analysis.report.publish import retarget
    from analysis.site import pages

    report = job["report"]
    stage, folder, nb_path = Path(report["stage"]), Path(report["folder"]), Path(job["input"])
    outcome = NotebookResult(**result)
    executed = Path(job["output"])
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # never written (the kernel did not start) or torn: show the source notebook
        nb = pages.source_without_outputs(nb_path)
    else:
        retarget(nb, stage, folder, Path(report["processed"]), nb_path)
        pages.drop_plotly_bundles(nb)
        atomic_write_bytes(executed, nbformat.writes(nb).encode("utf-8"))
    from analysis.site.static import data_note, footer

    comparison = report["region"] == names.REGIONS
    note = data_note(report["processed"], None if comparison else report["region"], report["year"])
    body, info = pages.render_notebook(
        nb,
        stem=nb_path.stem,
        region=report["region"],
        year=report["year"],
        failure=outcome.failure_text(report["timeout"]),
        failed_cell=outcome.cell_index,
        footer=footer(report["now"], note, f"{report['region']} {report['year']} 年度"),
        home=report["home"],
    )
    info.notebook_name = f"{names.EXECUTED_DIR}/{nb_path.name}"
    info.seconds = outcome.seconds
    atomic_write_bytes(stage / info.html_name, body.encode("utf-8"))
    return asdict(info)


NOTEBOOK_STEPS = (execute, page)


def run_notebook(job: dict) -> dict:
    """:data:`NOTEBOOK_STEPS` for one notebook: its result dict, with its page under ``extra``."""
    result = execute(job)
    return {**result, "extra": {"page": page(job, result)}}


# --- per report --------------------------------------------------------------------------------------


def missing_pages(job: dict, state: dict) -> None:
    """The page of every notebook whose worker was lost before it wrote one (it shows the failure)."""
    found = []
    for book, result in zip(job["books"], job["results"], strict=True):
        info = result.get("extra", {}).get("page")
        found.append(info or page({"report": job, **book}, result))
    state["pages"] = found


def summary(job: dict, state: dict) -> None:
    """The summary workbook ``年度指标汇总.xlsx``."""
    from analysis.explore.quality import issues_of
    from analysis.report import summary as workbook

    tables = _tables(job, state)
    state["issues"] = issues_of(tables["issues"], job["region"], job["year"])
    workbook.write_workbook(
        Path(job["stage"]) / names.WORKBOOK_NAME,
        job["region"],
        job["year"],
        tables["indicators"],
        state["issues"],
        tables["catalog"],
    )


def feedback(job: dict, state: dict) -> None:
    """``退回修改/``: the marked-up copy of each workbook of a department with errors or warnings."""
    from analysis.report.feedback import write_feedback

    stage, published = Path(job["stage"]), Path(job["folder"])  # a file unchanged or edited there is kept
    state["feedback"] = write_feedback(stage, Path(job["processed"]), state["issues"], published)


def index(job: dict, state: dict) -> None:
    """The report's ``index.html``: key figures, coverage, problems and a link to every page."""
    from analysis.explore.selection import select
    from analysis.report.targets import comparison_years
    from analysis.site import index as index_page
    from analysis.site import overview
    from analysis.site.pages import PageInfo
    from analysis.site.static import data_note

    tables = _tables(job, state)
    view = select(tables["indicators"], job["region"], job["year"], tables["catalog"])
    text = index_page.render_index(
        region=job["region"],
        year=job["year"],
        pages=[PageInfo(**info) for info in state["pages"]],
        content=index_page.index_content(view, state["issues"]),
        workbook=names.WORKBOOK_NAME,
        generated=job["now"],
        data=data_note(job["processed"], job["region"], job["year"]),
        links=overview.year_links(
            job["region"],
            job["year"],
            tables["indicators"],
            job["year"] in comparison_years(tables["indicators"]),
        ),
        returns=state.get("feedback"),
    )
    atomic_write_bytes(Path(job["stage"]) / names.INDEX, text.encode("utf-8"))


def draft(job: dict, state: dict) -> None:
    """The Word draft (its annex figures drawn from the tables, not taken from the notebooks), and its PDF
    preview when LibreOffice is installed; what it says goes to the batch's terminal."""
    from analysis.draft.writer import add_to_report

    tables = _tables(job, state)
    lines = state.setdefault("lines", [])
    done = add_to_report(
        Path(job["stage"]),
        job["region"],
        job["year"],
        tables["indicators"],
        tables["issues"],
        lines.append,
        tables["catalog"],
        published=Path(job["folder"]),  # an edited draft there is kept: the new one goes beside it
    )
    state["drafted"] = done is not None


def comparison_page(job: dict, state: dict) -> None:
    """A comparison page is ``地区对比.html`` in ``reports/<year>/``."""
    [info] = state["pages"]
    stage = Path(job["stage"])
    (stage / info["html_name"]).replace(stage / names.COMPARISON_PAGE)
    info["html_name"] = names.COMPARISON_PAGE


def assets(job: dict, state: dict) -> None:
    """The shared CSS, script and plotly.js, and the CJK web font cut to the characters of the pages."""
    from analysis.site import static

    stage = Path(job["stage"])
    static.write_assets(stage)
    static.write_font(stage, [p.read_text(encoding="utf-8") for p in sorted(stage.glob("*.html"))])


# A report's finishing steps: each tuple is one job, and the jobs run side by side in two workers (the draft
# with its PDF preview takes about as long as the rest, which ends with the font cut).
REPORT_STEPS = ((missing_pages, summary, feedback, index, assets), (draft,))
COMPARISON_STEPS = ((missing_pages, comparison_page, assets),)
# steps that read the processed tables only, never what the notebooks did: a job of these alone need not
# wait for the notebooks (the draft then runs while the report's last notebooks do, not after them)
WITHOUT_RESULTS = (draft,)
STEPS = {step.__name__: step for job in (*REPORT_STEPS, *COMPARISON_STEPS) for step in job}
STEP_NAMES = {
    "missing_pages": "页面",
    "summary": "年度指标汇总表",
    "index": "目录页",
    "feedback": "退回修改的标注报表",
    "draft": "Word 初稿",
    "comparison_page": "地区对比页",
    "assets": "样式与网页字体",
}


def finishing_jobs(comparison: bool) -> list[list[str]]:
    """The names of the finishing steps of a report (or a comparison page), job by job."""
    return [[step.__name__ for step in job] for job in (COMPARISON_STEPS if comparison else REPORT_STEPS)]


def needs_results(names: list[str]) -> bool:
    """Whether a finishing job (step names) must wait for the report's notebooks (see :data:`WITHOUT_RESULTS`)."""
    return not set(names) <= {step.__name__ for step in WITHOUT_RESULTS}


def finish_report(job: dict) -> dict:
    """The finishing steps ``job["steps"]`` (names of :data:`STEPS`) on the staged folder, in order. The
    result: ``status`` ``ok``, or ``error`` with ``detail`` when a step raised (the report is then not
    published); ``lines`` to say; ``pages`` (PageInfo dicts) when the pages were written; ``drafted``
    when the draft was written."""
    state: dict = {}
    for name in job["steps"]:
        try:
            STEPS[name](job, state)
        except Exception as exc:  # the report is not published; the batch says which step and why
            return {
                "status": "error",
                "detail": f"{STEP_NAMES[name]}：{type(exc).__name__}: {exc}",
                "lines": state.get("lines", []),
            }
    done = {"status": "ok", "lines": state.get("lines", [])}
    done.update({key: state[key] for key in ("pages", "drafted") if key in state})
    return done


def _tables(job: dict, state: dict) -> dict:
    """The processed tables and catalog of the batch's snapshot, read once per report."""
    if "tables" not in state:
        processed, digest = Path(job["processed"]), job["digest"]
        state["tables"] = {
            "indicators": read_indicators(processed, expect=digest),
            "issues": read_issues(processed, expect=digest),
            "catalog": read_catalog(processed, digest),
        }
    return state["tables"]


# --- the site ----------------------------------------------------------------------------------------


def write_overview(job: dict) -> dict:
    """The site overview ``reports/index.html`` with its assets and font, from the batch's snapshot."""
    from analysis.site import overview

    tables = _tables(job, {})
    overview.write_site_index(
        Path(job["reports"]), tables["indicators"], tables["issues"], tables["catalog"], job["processed"]
    )
    return {"status": "ok"}
