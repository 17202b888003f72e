"""The package's shape holds: plain code imports no Dagster and nothing from defs/, no two
modules import each other, directly or around a loop, search/ sits above the layers it reads,
and the read side (search/, service/) never asks which source a dataset came from."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from dataset_catalog.common.sources import catalog_sources
from dataset_catalog_tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "dataset_catalog"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PLAIN = sorted(m for m in MODULES if not m.startswith(("dataset_catalog.defs", "dataset_catalog.definitions")))


def _runtime_imports(path: Path) -> list[str]:
    """Every module `path` imports when it runs (any depth), leaving out `if TYPE_CHECKING:` blocks."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                names.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    names.append(submodule if submodule in MODULES else child.module)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return names


def test_the_walk_sees_the_package():
    assert {"dataset_catalog.catalog.store", "dataset_catalog.defs.huggingface.assets", "dataset_catalog.cli"} <= set(
        MODULES
    )
    assert "dataset_catalog.defs.huggingface.assets" not in PLAIN and "dataset_catalog.huggingface.sync" in PLAIN


def test_plain_code_imports_neither_dagster_nor_defs():
    offenders = {
        module: found
        for module in PLAIN
        if (
            found := [
                n
                for n in _runtime_imports(MODULES[module])
                if n.split(".")[0] in ("dagster", "dagster_postgres", "dagster_dg_cli")
                or n.startswith(("dataset_catalog.defs", "dataset_catalog.definitions"))
            ]
        )
    }
    assert offenders == {}


def test_no_import_cycles():
    graph = {m: {n for n in _runtime_imports(p) if n in MODULES and n != m} for m, p in MODULES.items()}
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def walk(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(imported) :], imported]))
            if imported not in state:
                walk(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])


# What may import dataset_catalog.search: itself and the layers above it (the service, the MCP server, the CLI, Dagster's defs).
ABOVE_SEARCH = (
    "dataset_catalog.search",
    "dataset_catalog.service",
    "dataset_catalog.mcp_server",
    "dataset_catalog.cli",
    "dataset_catalog.defs",
)


def test_nothing_below_search_imports_it():
    offenders = {
        module: found
        for module, path in MODULES.items()
        if not module.startswith(ABOVE_SEARCH)
        and (found := [n for n in _runtime_imports(path) if n.startswith("dataset_catalog.search")])
    }
    assert offenders == {}


def _source_literals(path: Path) -> list[str]:
    """`line: text` of each string constant in `path` that names a source (`"kaggle"`) or a key
    of one (`"kaggle_files"`), docstrings left out."""
    sources = set(catalog_sources())
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and any(node.value == s or node.value.startswith((f"{s}_", f"{s}:")) for s in sources)
    ]


def test_the_read_side_never_names_a_source():
    """search/, service/ and mcp_server/ read the standard fields (common/standard_fields.py), never a
    comparison with a source's name nor a source's own keys."""
    assert len(catalog_sources()) >= 4
    read_side = [
        m
        for m in MODULES
        if m.startswith(("dataset_catalog.search", "dataset_catalog.service", "dataset_catalog.mcp_server"))
    ]
    offenders = {m: found for m in read_side if (found := _source_literals(MODULES[m]))}
    assert offenders == {}


@pytest.mark.slow
def test_importing_every_plain_module_loads_no_dagster():
    """At run time too: a third-party import could pull Dagster in where the source shows none."""
    script = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in PLAIN)
    script += (
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster' or m.startswith('dataset_catalog.defs')))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_every_imported_package_is_declared():
    """`httpx2` was imported by three modules and declared nowhere: a clean install only had it by luck."""
    import importlib.metadata
    import re
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for name, path in MODULES.items():
        for imported in _runtime_imports(path):
            top = imported.split(".")[0]
            if top in sys.stdlib_module_names or top == "dataset_catalog":
                continue
            owners = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not owners & declared:
                undeclared.setdefault(top, name)
    assert not undeclared, f"imported but not in pyproject.toml (package: first module importing it): {undeclared}"
