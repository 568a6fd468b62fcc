"""axe-core for the browser tests: installed from the npm registry by ``npm`` into a cache folder outside the
project (once per machine; ``FAZHI_TEST_CACHE`` moves it), injected into a page opened in Chromium, and its
serious and critical violations returned as readable lines. Skips with the reason when npm is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

AXE_PACKAGE = "axe-core@4"
CACHE = Path(os.environ.get("FAZHI_TEST_CACHE") or Path.home() / ".cache" / "fazhi-analysis") / "npm"
SCRIPT = CACHE / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_script() -> Path:
    """The path of ``axe.min.js``, installing axe-core with npm the first time."""
    if SCRIPT.is_file():
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm 未安装：无法从 npm 仓库安装 axe-core，跳过无障碍检查（Debian：apt-get install npm）")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--no-save", AXE_PACKAGE],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and SCRIPT.is_file(), f"npm install {AXE_PACKAGE} 失败：{done.stderr[-2000:]}"
    return SCRIPT


def serious_violations(page, source: str | None = None) -> list[str]:
    """axe-core's serious and critical violations on a loaded playwright ``page``. Without ``source`` axe
    is added as a script element (the page's context must have ``bypass_csp=True``: the pages forbid any
    script that is not a file of their own); with ``source`` (axe's text) it is evaluated through the
    DevTools protocol, which the page's policy does not stop, and runs without preloading the stylesheets
    (the policy refuses that fetch)."""
    if source is None:
        page.add_script_tag(path=str(axe_script()))
    else:
        page.evaluate(source)
    found = page.evaluate(
        """async (preload) => {
            const result = await axe.run(document, {resultTypes: ["violations"], preload});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5), count: v.nodes.length,
            }));
        }""",
        source is None,
    )
    return [
        f"{v['id']}（{v['impact']}，{v['count']} 处）：{v['help']} — {'; '.join(v['nodes'])}"
        for v in found
        if v["impact"] in SERIOUS
    ]
