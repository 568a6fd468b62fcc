"""JupyterLab itself, in headless Chromium: the analyst's ``make lab`` on the project kernel.

One Lab server is started on a temporary copy of ``notebooks/`` with processed data beside it (never the
live ``data/`` or the tracked notebooks), with Jupyter's config, data, runtime and Lab settings folders in
the temporary folder (the kernel spec ``fazhi-analysis`` is found in the environment's prefix, as
``python -m analysis kernel --install`` registers it) and the pre-save hook ``make lab`` uses. Chromium
opens ``探索.ipynb`` with the network blocked except the local server, runs every cell from the Run menu,
and the notebook must show an inline matplotlib image and a drawn plotly chart with no cell error; saving
it (Ctrl+S) writes no outputs to the file.

Skips only when Chromium (see ``tests/test_browser.py``; under ``CI=true`` it fails instead) or
JupyterLab is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from analysis.core.store import write_tables
from analysis.execute.kernel import KERNEL_NAME, ensure_kernel
from tests import fixtures_processed as fp

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPLORE = "探索.ipynb"
WAIT_S = 180  # every wait is bounded; the verdicts never depend on how fast Lab or the kernel are
# Lab's own settings for the test: every cell stays in the page (Lab 4 may leave cells out of view out of
# the DOM), and no news or update check (they would go to the network).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
ERROR_TEXT = re.compile(r"Traceback|\b\w+Error\b")
STDERR_OUTPUTS = """() => [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.textContent)"""
PLOTLY_DRAWN = ".jp-Notebook .js-plotly-plot .main-svg"  # Lab's plotly output is the .js-plotly-plot itself


def _jupyterlab_or_skip() -> None:
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("未安装 JupyterLab：pip install -e '.[test]'（或 '.[lab]'）")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str):
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the local server)
        return json.loads(response.read())


def _wait(what: str, check, log: Path, timeout: float = WAIT_S, page=None):
    """Poll ``check`` until it returns something truthy; fail naming ``what`` with the server's log.
    With a ``page``, the pauses are the page's: playwright handles the page's requests (the route that
    blocks the network) only while the test waits through it, never during a ``time.sleep``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
            found = check()
            if found:
                return found
        if time.monotonic() > deadline:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"{what}：{timeout:.0f} 秒内未完成。JupyterLab 日志末尾：\n{tail}")
        if page is None:
            time.sleep(0.5)
        else:
            page.wait_for_timeout(500)


def _menu(page, menu: str, item: str) -> None:
    """Choose ``item`` from the main menu ``menu`` (Lab's English labels: no language pack installed)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).first.click()


def _stop(server: subprocess.Popen) -> None:
    """Terminate the server (it shuts its kernels down), kill it if it does not end, then anything left in
    its process group (a kernel of a killed server)."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture
def workspace(tmp_path) -> Path:
    """``notebooks/`` copied, processed tables at ``../data/processed`` (where 探索.ipynb looks)."""
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    write_tables(tmp_path / "data" / "processed", fp.history_frame(), fp.issues())
    return tmp_path


def test_jupyterlab_runs_the_exploration_notebook_on_the_project_kernel(workspace, tmp_path):
    from tests.test_browser import CHROMIUM, LAUNCH_ARGS, _chromium_or_skip

    _chromium_or_skip()
    _jupyterlab_or_skip()
    from playwright.sync_api import sync_playwright

    ensure_kernel()  # registered in the environment's prefix, where Lab finds it (as `make lab` does)
    notebook = workspace / "notebooks" / EXPLORE
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(notebook, as_version=4).cells)
    jupyter = tmp_path / "jupyter"
    settings = jupyter / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values), encoding="utf-8")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
        "IPYTHONDIR": str(jupyter / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    token, port = secrets.token_hex(16), _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={workspace / 'notebooks'}",
        "--ContentsManager.pre_save_hook=analysis.execute.clean.pre_save_hook",
    ]  # fmt: skip
    started = time.monotonic()
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, cwd=workspace, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    blocked: list[str] = []
    try:
        _wait("JupyterLab 服务器启动", lambda: _api(base, token, "/api/status"), log)
        specs = _api(base, token, "/api/kernelspecs")["kernelspecs"]
        assert KERNEL_NAME in specs, f"JupyterLab 找不到内核 {KERNEL_NAME}：{sorted(specs)}"
        before = notebook.stat().st_mtime_ns
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.set_default_timeout(WAIT_S * 1000)

                def local_only(route):
                    if route.request.url.startswith(base):
                        route.continue_()
                    else:
                        blocked.append(route.request.url)
                        route.abort()

                context.route("**/*", local_only)
                page = context.new_page()
                page.goto(f"{base}/lab/tree/{EXPLORE}?token={token}")
                page.locator(".jp-Notebook .jp-CodeCell").nth(code_cells - 1).wait_for()
                _wait(
                    f"内核 {KERNEL_NAME} 启动",
                    lambda: [
                        s
                        for s in _api(base, token, "/api/sessions")
                        if s["kernel"]["name"] == KERNEL_NAME and s["kernel"]["execution_state"] == "idle"
                    ],
                    log,
                    page=page,
                )
                _menu(page, "Run", "Run All Cells")
                prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")

                def cell_errors() -> list[str]:
                    return [t for t in page.evaluate(STDERR_OUTPUTS) if ERROR_TEXT.search(t)]

                def settled() -> bool:
                    kernels = _api(base, token, "/api/kernels")
                    if not kernels or any(k["execution_state"] != "idle" for k in kernels):
                        return False
                    texts = prompts.all_inner_texts()
                    numbered = len(texts) == code_cells and all(
                        re.fullmatch(r"\[\d+\]:", t.strip()) for t in texts
                    )
                    return numbered or bool(cell_errors())  # Run All stops at a cell that fails

                _wait("运行全部单元格（每个代码单元格都有执行序号、内核空闲）", settled, log, page=page)
                errors = cell_errors()
                if not errors:
                    _wait("画出 plotly 交互图", lambda: page.locator(PLOTLY_DRAWN).count(), log, page=page)
                images = page.locator(".jp-OutputArea-output[data-mime-type='image/png'] img").count()
                plots = page.locator(PLOTLY_DRAWN).count()
                ran = time.monotonic() - started
                _menu(page, "File", "Save Notebook")  # as an analyst does (or Ctrl+S, or autosave)
                _wait("保存笔记本", lambda: notebook.stat().st_mtime_ns != before, log, timeout=60, page=page)
            finally:
                browser.close()
    finally:
        _stop(server)
    assert errors == [], f"单元格出错：{errors}"
    assert images >= 1, "没有 matplotlib 内嵌图（image/png）"
    assert plots >= 1, "没有画出 plotly 交互图"
    assert blocked == [], f"JupyterLab 页面请求了本机以外的地址：{blocked}"
    saved = nbformat.read(notebook, as_version=4)
    kept = [
        c.get("execution_count") or len(c.get("outputs", [])) for c in saved.cells if c.cell_type == "code"
    ]
    assert not any(kept), "保存的笔记本中留下了运行结果"
    print(f"JupyterLab：启动到全部单元格运行完 {ran:.0f} 秒")
