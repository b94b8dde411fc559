"""The grader package's folders say which process their code runs in, and imports respect it.

`grader/worker` runs inside the sandbox next to student code; `grader/run` is the trusted parent
that starts it. Code on the worker side must never import the parent's (a worker that could reach
the parent's modules would at least suggest it can reach its decisions), and nothing imports in
a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

GRADER = Path(__file__).resolve().parents[2] / "grader"

# folder -> folders its modules may import from (besides the standard library and third parties)
ALLOWED = {
    "core": {"core"},
    "worker": {"core", "worker"},
    "run": {"core", "run"},
    "staff": {"core", "run", "staff"},
    "classroom": {"core", "run", "classroom"},
    "formats": {"core", "run", "classroom", "formats"},
    "notebooks": {"core", "run", "staff", "notebooks"},
}
TOP_LEVEL = {"cli", "__main__", "__init__", "testkit", "perf"}  # entry points and the authoring API


def module_name(path: Path) -> str:
    rel = path.relative_to(GRADER.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every grader module this file imports, as dotted names (relative imports resolved)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("grader"):
                continue
            for alias in node.names:  # `from . import x` imports a module
                candidate = f"{target}.{alias.name}"
                out.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("grader"))
    return out


def _exists(dotted: str) -> bool:
    path = GRADER.parent / dotted.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(GRADER.rglob("*.py"))}


def folder_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


def test_every_module_lives_in_a_folder_that_says_where_it_runs():
    loose = [m for m in graph() if folder_of(m) == "top" and m.split(".")[-1] not in TOP_LEVEL and m != "grader"]
    assert not loose, f"modules outside core/run/worker/staff/classroom/formats: {loose}"


def test_no_folder_imports_what_it_must_not():
    wrong = []
    for module, targets in graph().items():
        folder = folder_of(module)
        if folder == "top":
            continue
        for target in targets:
            if target == "grader" or folder_of(target) not in ALLOWED[folder]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_worker_side_never_imports_the_parent_side():
    """Stated on its own: it is the rule the sandbox's design rests on."""
    parent_side = {"run", "staff", "classroom", "formats", "top"}
    worker = {m: t for m, t in graph().items() if folder_of(m) == "worker"}
    assert len(worker) >= 10  # the rule is checked on real modules
    crossing = [f"{m} -> {t}" for m, targets in worker.items() for t in targets if folder_of(t) in parent_side]
    assert not crossing, crossing


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
