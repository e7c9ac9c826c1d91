"""The import graph of the toolkit's packages, read from their import statements (not by importing them).

    python tools/import_graph.py            # prints every import cycle and every module over the size limit

Every ``import`` and ``from ... import`` counts, at any depth of the file (inside functions too), so an
import hidden in a function to dodge a cycle is still a cycle here. ``from package import name`` is an
edge to ``package.name`` when that is a module, else to the package. A module's implicit import of its
parent packages is not an edge (Python finishes those first).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("shared_mask", "rl_lth", "fairseq_lth")
MAX_LINES = 300


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """{dotted name: file} of every module of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules that module ``name`` (at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        edges.update(t for t in targets if t in known and t != name)
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def long_modules(known: dict[str, Path]) -> list[tuple[str, int]]:
    lengths = ((name, len(path.read_text().splitlines())) for name, path in known.items())
    return [(name, n) for name, n in lengths if n > MAX_LINES]


def problems(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """One line per import cycle and per module over :data:`MAX_LINES` lines."""
    known = modules(root, packages)
    graph = {name: imports(name, path, known) for name, path in known.items()}
    found = [f"import cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    return found + [f"{name}: {n} lines (at most {MAX_LINES})" for name, n in long_modules(known)]


def main() -> int:
    sys.setrecursionlimit(10_000)
    found = problems(Path(__file__).resolve().parent.parent)
    print("\n".join(found) or f"no import cycle, no module over {MAX_LINES} lines in {', '.join(PACKAGES)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
