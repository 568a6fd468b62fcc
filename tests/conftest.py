"""Suite-wide guard: no test reads or writes the live ``data/raw``, ``data/processed`` or ``reports/``.

Those folders belong to the analyst: a 2020 folder or a second county added there must not change what a test
sees, and no test may overwrite a published report. A process-wide audit hook (:func:`sys.addaudithook`)
refuses every open, listing, copy, move or removal under them, and every subprocess whose arguments name
them; each refusal is also recorded, so a test whose code swallows the error still fails. Tests use their
own copy of the shipped data: the ``sample_raw`` fixture writes it with ``scripts/make_sample_data.py``.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from analysis.draft import preview
from analysis.site import webfont
from tests.builders import write_sample_data

REPO = Path(__file__).resolve().parents[1]
LIVE_FOLDERS = tuple(str(REPO / part) for part in ("data/raw", "data/processed", "reports"))

# Audit events that read or change a path (first argument, and for copies and moves the second one too).
_PATH_EVENTS = {
    "open": 1,
    "os.listdir": 1,
    "os.scandir": 1,
    "os.mkdir": 1,
    "os.remove": 1,
    "os.rmdir": 1,
    "os.rename": 2,
    "os.truncate": 1,
    "os.utime": 1,
    "os.chmod": 1,
    "shutil.copyfile": 2,
    "shutil.copytree": 2,
    "shutil.move": 2,
    "shutil.rmtree": 1,
    "glob.glob": 1,
}
# Hypothesis' per-example deadline is a timing assertion: on a loaded 2-core machine it fails tests for being
# slow, not wrong. Performance is measured by ``make bench``, so the deadline is off everywhere.
settings.register_profile("fazhi", deadline=None)
settings.load_profile("fazhi")

touched: list[str] = []  # every refused access, in order

# The PDF preview of the Word draft takes LibreOffice several seconds a report: only the tests about it
# make one (with ``REAL_SOFFICE``). Every other test, and every process a test starts (batch workers), sees
# no LibreOffice, as on a machine without it: the draft is written and the preview is said to be skipped.
# The real one is found once, by the first pytest process, and handed to its xdist workers in the environment.
REAL_SOFFICE = os.environ.get("FAZHI_TEST_SOFFICE") or preview.soffice() or None
os.environ["FAZHI_TEST_SOFFICE"] = REAL_SOFFICE or ""
os.environ["FAZHI_SOFFICE"] = "fazhi-no-soffice-in-tests"

# Cut web fonts are kept in a cache folder of the test session's own (never the user's cache), made by the
# first pytest process and shared with its xdist workers: a report's pages repeat from test to test, so most
# of the session's font cuts are made once (tests/test_webfont.py tests the cache itself).
if not os.environ.get(webfont.CACHE_ENV):
    os.environ[webfont.CACHE_ENV] = tempfile.mkdtemp(prefix="fazhi-test-fonts-")
    atexit.register(shutil.rmtree, os.environ[webfont.CACHE_ENV], ignore_errors=True)


def is_live(path: object, cwd: str | None = None) -> bool:
    """True when ``path`` (absolute, or relative to ``cwd``) lies in one of the live folders."""
    if isinstance(path, int) or path is None:
        return False
    try:
        text = os.fsdecode(path)
    except TypeError:
        return False
    full = os.path.normpath(os.path.join(cwd or os.getcwd(), text))
    return any(full == live or full.startswith(live + os.sep) for live in LIVE_FOLDERS)


def _audit(event: str, args: tuple) -> None:
    count = _PATH_EVENTS.get(event)
    if count is not None:
        hits = [a for a in args[:count] if is_live(a)]
    elif event == "subprocess.Popen":
        _, argv, cwd, _ = args
        words = [argv] if isinstance(argv, str | bytes | os.PathLike) else list(argv or ())
        hits = [w for w in words if is_live(w, os.fsdecode(cwd) if cwd else None)]
    else:
        return
    if hits:
        touched.append(f"{event}: {os.fsdecode(hits[0])}")
        raise PermissionError(f"tests must not touch the live data folders ({event} {os.fsdecode(hits[0])})")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _no_live_data():
    """Fail any test that touched a live folder, even if its code caught the refusal."""
    before = len(touched)
    yield
    if len(touched) > before:
        pytest.fail("test touched the live data folders: " + "; ".join(touched[before:]), pytrace=False)


@pytest.fixture(scope="session")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A raw folder holding only the shipped sample data (``通许县/2019``), regenerated for the test session.

    Session-wide and shared: copy it before changing anything in it.
    """
    return write_sample_data(tmp_path_factory.mktemp("sample") / "raw")


DURATIONS = Path(__file__).with_name("durations.json")  # seconds per test file, as last measured
STORE_DURATIONS = "--store-durations"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        STORE_DURATIONS,
        action="store_true",
        help="write each test file's measured seconds to tests/durations.json (the order of the next runs)",
    )


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest test files first (a stable sort: tests keep their order within a file). Under ``make test``
    the xdist workers take whole files in this order, so the long files start at once and the many short
    ones fill the end (longest processing time first), instead of one long file starting last while the
    other worker waits idle. The seconds come from ``tests/durations.json`` (``pytest --store-durations``
    writes it); a file not listed there counts as 30 s when marked ``slow``, else as 1 s. A stale table
    costs only time, never a result."""
    try:
        seconds = json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seconds = {}

    def weight(item: pytest.Item) -> float:
        known = seconds.get(_file(item.nodeid))
        return known if isinstance(known, int | float) else (30.0 if item.get_closest_marker("slow") else 1.0)

    items.sort(key=lambda item: -weight(item))


_measured: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each test's setup, call and teardown time, by file (in the main process, also from xdist workers)."""
    _measured[_file(report.nodeid)] = _measured.get(_file(report.nodeid), 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With ``--store-durations``: the files this run measured get their new seconds in
    ``tests/durations.json``; the other files keep theirs (a run of a few files updates only those)."""
    if session.config.getoption(STORE_DURATIONS) and not hasattr(session.config, "workerinput"):
        try:
            table = json.loads(DURATIONS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            table = {}
        table.update({name: round(total, 1) for name, total in _measured.items()})
        DURATIONS.write_text(
            json.dumps(dict(sorted(table.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
