"""A module's source as notebook cells, and a notebook (nbformat 4, as JSON) made of cells."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from ..run.notebook import statement_start

NBFORMAT = {"nbformat": 4, "nbformat_minor": 5}
KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def code_cells(source: str) -> list[str]:
    """Top-level statements grouped as a reader would put them in cells: the module docstring is
    left out (the handout says it), consecutive imports and constants share a cell, and each
    function or class (with its decorators and the comments just above it) gets its own."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells: list[list[str]] = []
    small = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)
    previous_end = 0
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            previous_end = node.end_lineno or 0
            continue
        start = statement_start(node)
        while start - 1 > previous_end and lines[start - 2].lstrip().startswith("#"):
            start -= 1  # comments right above a statement belong to it
        text = "\n".join(lines[start - 1 : node.end_lineno])
        joins = isinstance(node, small) and cells and cells[-1][0] == "small"
        if joins:
            cells[-1][1] += "\n" + text
        else:
            cells.append(["small" if isinstance(node, small) else "big", text])
        previous_end = node.end_lineno or 0
    return [text for _, text in cells]


def cell(kind: str, text: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"cell_type": kind, "metadata": metadata or {}, "source": text}
    if kind == "code":
        out.update(execution_count=None, outputs=[])
    return out


def notebook(cells: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A notebook of ``cells``, each with the id nbformat 4.5 asks for (made from its position)."""
    cells = [{"id": f"cell-{i}", **c} for i, c in enumerate(cells)]
    return {"cells": cells, "metadata": {**KERNEL, **(metadata or {})}, **NBFORMAT}


def write_notebook(path: Path, nb: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
