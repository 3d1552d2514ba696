"""The package's import structure: no import cycles, and imports inside functions only where the
imported module pulls in a heavy library (start-up time of `p2m --help`, of the UI)."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "transformers", "datasets", "gradio", "chromadb", "llama_cpp", "sentence_transformers",
         "peft", "accelerate", "matplotlib", "sklearn", "langgraph", "langchain_openai", "langchain_core",
         "evaluate", "huggingface_hub", "openai", "scipy", "pandas", "pyarrow", "onnx", "onnxruntime"}


def modules() -> dict[str, Path]:
    dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found = {}
    for package, folder in dirs.items():
        for f in sorted((ROOT / folder).glob("*.py")):
            found[package if f.stem == "__init__" else f"{package}.{f.stem}"] = f
    return found


MODULES = modules()
PACKAGE_DIRS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def imports(name: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import statement of module `name`."""
    found: list[tuple[str, int, bool]] = []
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - child.level + 1] + ([child.module] if child.module else []))
                found.append((base, child.lineno, in_function))
                found.extend((f"{base}.{a.name}", child.lineno, in_function) for a in child.names
                             if f"{base}.{a.name}" in MODULES)
            visit(child, inner)

    visit(ast.parse(MODULES[name].read_text()), False)
    return found


def top_level_graph() -> dict[str, set[str]]:
    """Module -> p2m modules it imports at import time (a package's own submodules that register
    themselves in its __init__ are not a cycle)."""
    graph = {}
    for name in MODULES:
        targets = {t for t, _, inner in imports(name) if not inner and t in MODULES and t != name}
        for t in list(targets):
            parts = t.split(".")
            targets |= {".".join(parts[:i]) for i in range(2, len(parts))
                        if not (name + ".").startswith(".".join(parts[:i]) + ".")}
        graph[name] = targets & set(MODULES)
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m == goal:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph[m])
    return False


def test_no_import_cycles():
    graph = top_level_graph()
    cycles = sorted(f"{a} -> {b}" for a in graph for b in graph[a] if reaches(graph, b, a))
    assert not cycles


def test_imports_inside_functions_are_for_heavy_libraries_only():
    graph = top_level_graph()

    def heavy(name: str) -> bool:
        return any(t.split(".")[0] in HEAVY for m in MODULES if m == name or reaches(graph, name, m)
                   for t, _, inner in imports(m) if not inner)

    needless = [f"{MODULES[name].relative_to(ROOT)}:{line} imports {t}"
                for name in MODULES for t, line, inner in imports(name)
                if inner and t in MODULES and not heavy(t)]
    assert not needless


def room(module: str) -> str:
    """The folder a module lives in: a top folder (p2m.agent, p2m.core, ...) or one of tools/'s
    rooms (p2m.tools.scoring, p2m.tools.families, ...); `p2m` for the entry points."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] == "tools":
        return ".".join(parts[:3])
    package = ".".join(parts[:2])
    return package if len(parts) >= 2 and package in PACKAGE_DIRS else parts[0]


def test_folders_import_downward_only():
    """Issue 37: no two folders import each other, at any depth (the folder graph has no cycle),
    so the tree reads top to bottom: entry points, graph, agent, tools, llm, runfolder, core."""
    edges: dict[str, set[str]] = {}
    for name in MODULES:
        for target, _, _ in imports(name):
            if target in MODULES and room(target) != room(name):
                edges.setdefault(room(name), set()).add(room(target))
    rooms = set(edges) | {t for ts in edges.values() for t in ts}
    graph = {r: edges.get(r, set()) for r in rooms}
    cycles = sorted(f"{a} -> {b}" for a in graph for b in graph[a] if reaches(graph, b, a))
    assert not cycles
    assert "p2m.core" in rooms and not graph.get("p2m.core")  # the ground floor imports no folder
