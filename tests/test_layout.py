"""The package layout shows the data flow: sub-packages import one way, modules stay small, and the
README's module map names exactly the modules in the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "analysis"
# Which sub-packages each one may import (besides itself). ``cli`` and ``__main__`` sit on top.
ALLOWED = {
    "core": set(),
    "ingest": {"core"},
    "explore": {"core"},
    "execute": set(),  # runs any notebook: nothing of the domain, could be lifted into another project
    "site": {"core", "explore", "execute"},
    "draft": {"core", "explore"},
    "report": {"core", "explore", "execute", "site", "draft"},
}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The ``analysis`` modules ``path`` imports anywhere (also inside functions): ``from a.b import c``
    is module ``a.b.c`` when that is a module, else ``a.b``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in modules()}
    known = set(paths)
    return {name: imported_modules(path, known) - {name} for name, path in paths.items()}


def imported_subpackages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "analysis" and len(parts) > 1 and parts[1] in ALLOWED:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_run_one_way(path):
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:  # cli.py, __main__.py, __init__.py: the top may use everything
        return
    own = rel.parts[0]
    wrong = imported_subpackages(path) - ALLOWED[own] - {own}
    assert not wrong, f"{rel} imports {sorted(wrong)} against the data flow"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


def test_readme_module_map_matches_the_tree():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## 项目结构") : readme.index("## 依赖及理由")]
    mapped: set[str] = set()
    package = None
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 3:
            continue
        if m := re.fullmatch(r"`(\w+)/`", cells[0]):
            package = m.group(1)
        elif cells[0] == "（顶层）":
            package = ""
        for name in re.findall(r"`([\w.]+\.py)`", cells[1]):
            mapped.add(f"{package}/{name}" if package else name)
    tree = {
        p.relative_to(PACKAGE).as_posix() for p in modules() if p.name not in {"__init__.py", "__main__.py"}
    }
    assert mapped == tree, f"README lacks {sorted(tree - mapped)}; names missing {sorted(mapped - tree)}"


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (module → modules it imports), or []: a depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_no_module_imports_itself_through_others():
    """Counting imports inside functions too: no ``a → b → … → a`` anywhere in the package (the kernel
    layer used to reach back into the page module)."""
    graph = import_graph()
    assert len(graph) > 50
    assert find_cycle(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_the_kernel_layer_imports_nothing_of_the_domain():
    for name, imported in import_graph().items():
        if name.startswith("analysis.execute"):
            outside = {m for m in imported if not m.startswith("analysis.execute")}
            assert not outside, f"{name} imports {sorted(outside)}"


def module_constants() -> dict[str, list[str]]:
    """Module-level UPPER_CASE names bound to a literal string, number or tuple of them, by value."""
    found: dict[str, list[str]] = {}
    for path in modules():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                if name.lstrip("_").isupper():
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        continue
                    found.setdefault(repr(value), []).append(f"{module_name(path)}.{name}")
    return found


def test_each_constant_is_defined_once():
    """A folder name, file name or word list is written in one module and imported elsewhere; two names
    for the same literal drift apart (``INDEX`` once stood in four modules)."""
    repeated = {
        value: where
        for value, where in module_constants().items()
        if len(where) > 1 and not value.lstrip("-").isdigit()  # a small number is no shared constant
    }
    assert not repeated


def test_each_package_says_what_it_owns_and_may_import():
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert len(doc) > 60, f"{folder.name}/__init__.py has no docstring saying what it owns"
        assert "import" in doc.lower() or "Uses" in doc, (
            f"{folder.name}/__init__.py does not say what it may import"
        )
