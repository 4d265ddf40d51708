"""The package stays as docs/architecture.md draws it: the modules the page names exist,
the public API imports, no module imports another in a cycle (lazy imports included),
the package has at most 14 top-level entries, and every store backend has what the
Store protocol declares."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import sourcetrace

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "sourcetrace"
DOC = ROOT / "docs" / "architecture.md"
MAX_TOP_LEVEL = 14

needs_source = pytest.mark.skipif(not PACKAGE.is_dir(), reason=f"{PACKAGE} is absent: these "
                                  "tests read the package's source tree (an editable install)")


def _doc_paths() -> list[str]:
    """The file and folder paths the page names in backticks ("corpus/store/", "model.py")."""
    tokens = re.findall(r"`([^`\s]+)`", DOC.read_text(encoding="utf-8"))
    return [t for t in tokens if re.fullmatch(r"[a-z_]+(?:/[a-z_.]+)*(?:\.py|\.md|\.json|\.txt|/)", t)]


def _path(name: str) -> Path:
    return ROOT / name if name.split("/")[0] in ("src", "tests", "docs", "train", "scripts", "bench") else PACKAGE / name


def _top_level() -> list[Path]:
    return sorted(p for p in PACKAGE.iterdir()
                  if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))


@needs_source
def test_architecture_doc_names_only_modules_that_exist():
    names = _doc_paths()
    assert len(names) > 40, "the page names its rooms and modules by path"
    missing = [n for n in names if not _path(n).exists()]
    assert missing == [], f"docs/architecture.md names what is not there: {missing}"


@needs_source
def test_architecture_doc_names_every_top_level_entry():
    named = set(_doc_paths())
    for entry in _top_level():
        if entry.name in ("__init__.py", "__main__.py"):
            continue
        label = entry.name + ("/" if entry.is_dir() else "")
        assert label in named, f"docs/architecture.md does not say what {label} holds"


def test_architecture_public_api_imports():
    namespace: dict = {}
    exec("from sourcetrace import *", namespace)
    assert [name for name in sourcetrace.__all__ if name not in namespace] == []
    assert {"analyze", "analyze_documents", "Analysis", "Config", "SourcetraceError"} <= set(namespace)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its body (an import inside a
    function counts: it is a dependency all the same). A module's own parent packages are
    left out: importing a submodule runs them first anyway."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in files else module
                           for alias in node.names]
            else:
                continue
            for target in targets:
                while target not in files and "." in target:
                    target = target.rpartition(".")[0]
                if target in files and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph[start])
    while stack:
        module = stack.pop()
        if module not in seen:
            seen.add(module)
            stack.extend(graph[module])
    return seen


@needs_source
def test_architecture_no_import_cycle():
    graph = _import_graph()
    # the walk sees module-level and lazy (in-function) imports alike
    assert "sourcetrace.model" in graph["sourcetrace.pipeline"]
    assert "sourcetrace.pipeline" in graph["sourcetrace.corpus.runner"]  # inside analyze_chunk
    cyclic = sorted(m for m in graph if m in _reachable(graph, m))
    assert cyclic == [], f"modules in an import cycle: {cyclic}"


def test_architecture_cycle_finder_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(m for m in graph if m in _reachable(graph, m)) == ["a", "b", "c"]


@needs_source
def test_architecture_at_most_14_top_level_entries():
    entries = [p.name for p in _top_level()]
    assert len(entries) <= MAX_TOP_LEVEL, f"{len(entries)} top-level entries: {entries}"


def _members(protocol: type) -> set[str]:
    names = {n for n, v in vars(protocol).items()
             if callable(v) and (not n.startswith("_") or n in ("__enter__", "__exit__"))}
    return names | set(vars(protocol).get("__annotations__", {}))


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "memory"])
def test_architecture_every_store_backend_has_what_the_protocol_declares(backend):
    from sourcetrace.corpus.store import SqlStore, Store

    module = importlib.import_module(f"sourcetrace.corpus.store.{backend}")
    (cls,) = [c for c in vars(module).values() if isinstance(c, type)
              and c.__module__ == module.__name__ and c.__name__.endswith("Store")]
    wanted = _members(Store) | (_members(SqlStore) if backend != "memory" else set())
    assert {"__enter__", "__exit__", "backend", "add", "search"} <= wanted
    assert sorted(n for n in wanted if not hasattr(cls, n)) == []
    assert cls.backend == backend
