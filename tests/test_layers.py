"""The package's structure: rooms in one direction of imports, no cycles, no private names.

    errors < core < catalog < params < check < documents < run, notebook < cli

A module may import a lower room, or a module of its own room; never a higher room, and
run and notebook never each other. Imports are read from the source (function-level
imports included), so an import hidden in a function to dodge a cycle counts too.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "opslib"
RANK = {"errors": 0, "core": 1, "catalog": 2, "params": 3, "check": 4, "documents": 5, "run": 6, "notebook": 6,
        "entry": 7, "__init__": 7}
ENTRY_POINTS = {"cli", "costgate", "__main__"}  # top-level modules a user runs: one room
# modules that may import opslib inside functions: the CLI imports a command's code only when
# that command runs, so `opslib --help` and `opslib validate` stay fast
LAZY_OK = {"opslib.cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return "entry" if parts[1] in ENTRY_POINTS else parts[1]


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not modules()[module].name == "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports() -> list[tuple[str, str, str | None, int, bool]]:
    """(importer, imported module, imported name or None, line, inside a function)."""
    out = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nested.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            inner = id(node) in nested
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "opslib" or alias.name.startswith("opslib."):
                        out.append((module, alias.name, None, node.lineno, inner))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, node)
                if not (target == "opslib" or target.startswith("opslib.")):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules():
                        out.append((module, sub, None, node.lineno, inner))
                    else:
                        out.append((module, target, alias.name, node.lineno, inner))
    return out


def test_every_module_lives_in_a_known_room():
    assert {room(m) for m in modules()} <= set(RANK), sorted({room(m) for m in modules()} - set(RANK))


def test_imports_go_down_the_layers():
    wrong = []
    for importer, target, _name, line, _inner in imports():
        a, b = room(importer), room(target)
        if b == "__init__" or a == b:
            continue
        if RANK[b] >= RANK[a]:
            wrong.append(f"{modules()[importer].relative_to(PACKAGE.parent)}:{line}: {importer} ({a}) imports {target} ({b})")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for importer, target, _name, _line, _inner in imports():
        if target in graph and target != importer and not modules()[target].name == "__init__.py":
            graph[importer].add(target)
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_private_names_across_modules():
    wrong = [f"{importer}:{line} takes {name} from {target}" for importer, target, name, line, _ in imports()
             if name is not None and name.startswith("_") and not name.startswith("__") and target != importer]
    assert not wrong, "\n".join(wrong)


def _public(module: str) -> set[str] | None:
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def test_imported_names_are_public():
    """A name taken from another module is in that module's __all__ (its documented API)."""
    wrong = []
    for importer, target, name, line, _inner in imports():
        if name is None or target == importer or target not in modules():
            continue
        public = _public(target)
        if public is None:
            wrong.append(f"{target} has no __all__ (imported by {importer}:{line})")
        elif name not in public:
            wrong.append(f"{importer}:{line} takes {name}, which is not in {target}.__all__")
    assert not sorted(set(wrong)), "\n".join(sorted(set(wrong)))


def test_opslib_is_imported_at_module_level():
    """Imports inside functions hide the structure (they were used to dodge cycles); only the
    CLI defers loading a command's code until the command runs."""
    wrong = [f"{modules()[i].relative_to(PACKAGE.parent)}:{line}: imports {t}{'.' + n if n else ''} inside a function"
             for i, t, n, line, inner in imports() if inner and i not in LAZY_OK]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(m for m in modules() if m.count(".") >= 1))
def test_importing_a_module_registers_nothing(module):
    """No import side effects: the Jinja environment's filters are registered in one place."""
    import importlib

    from opslib.core import templates

    before = set(templates.environment().filters)
    importlib.import_module(module)
    assert set(templates.environment().filters) == before
