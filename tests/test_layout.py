"""The package's shape (issue: a layout that shows the recipe): no import circles, short modules,
unique file names, and function-level imports only where they defer a heavy dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "specs_vl"
MAX_LINES = 350
DEFERRED_OK = {
    "torch",
    "transformers",
    "trl",
    "vllm",
    "datasets",
    "pyarrow",
    "peft",
    "safetensors",
    "math_verify",
    "tokenizers",
    "accelerate",
    "deepspeed",
    "PIL",
    "matplotlib",
    "numpy",
    "tensorboard",
    "scipy",
}


def _modules() -> dict[str, Path]:
    mods = {}
    for f in ROOT.rglob("*.py"):
        parts = f.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = f
    return mods


def _targets(mods: dict[str, Path], cur: str, node: ast.AST) -> list[str]:
    """The project modules an import statement names (`from pkg import sub` names pkg.sub)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in mods]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        pkg = cur.split(".") if mods[cur].name == "__init__.py" else cur.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    out = []
    for a in node.names:
        if f"{base}.{a.name}" in mods:
            out.append(f"{base}.{a.name}")
        elif base in mods:
            out.append(base)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for name, f in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):  # ast.walk: imports inside functions count too
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(d for d in _targets(mods, name, node) if d != name)
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return path[path.index(w) :] + [w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = 2
        path.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_no_import_circle_counting_function_level_imports():
    graph = _graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_over_the_line_limit():
    long = {
        str(f.relative_to(ROOT)): n for f in ROOT.rglob("*.py") if (n := len(f.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_no_two_modules_share_a_file_name():
    seen: dict[str, Path] = {}
    for f in sorted(ROOT.rglob("*.py")):
        if f.name in ("__init__.py", "__main__.py"):
            continue
        assert f.name not in seen, f"{f.relative_to(ROOT)} and {seen[f.name].relative_to(ROOT)}"
        seen[f.name] = f


def test_function_level_imports_only_defer_heavy_dependencies_and_say_so():
    bad = []
    for f in sorted(ROOT.rglob("*.py")):
        lines = f.read_text().splitlines()
        tree = ast.parse(f.read_text())
        import_lines = {
            i
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for i in range(n.lineno - 1, n.end_lineno)
        }
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                top = "." if getattr(node, "level", 0) else (mod or "").split(".")[0]
                allowed = top in DEFERRED_OK or (top == "specs_vl" and "cli" in f.relative_to(ROOT).parts)
                k = node.lineno - 1  # the comment sits above the block of imports this one belongs to
                while k > 0 and (k - 1) in import_lines:
                    k -= 1
                said = k > 0 and lines[k - 1].strip().startswith("# deferred")
                if not (allowed and said):
                    bad.append(f"{f.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not bad, "\n".join(bad)


def test_the_cli_imports_no_heavy_library_at_start():
    code = (
        "import sys, specs_vl.cli; heavy = {'torch', 'transformers', 'trl', 'datasets', 'PIL', 'numpy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_reading_a_run_config_imports_no_heavy_library():
    """Every stage's config sits in a light module beside its trainer (stages/*_config.py, world/base_config.py),
    so `specs base` finds the shipped model, and a bad config fails, in about a second, not after torch loads."""
    code = (
        "import sys; from specs_vl.config import load_run_config, demo_config_path; "
        "from specs_vl.world.base_config import find_base; c = load_run_config(demo_config_path()); "
        "assert find_base(c.world, c.base); "
        "heavy = {'torch', 'transformers', 'trl', 'datasets', 'peft', 'accelerate', 'matplotlib', 'scipy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# Low to high; a package may import its own layer and the ones below, never one above (README: Architecture).
# world, data and models share a layer: the world is a data source and a model factory in the example schema.
LAYERS = [
    {"util"},
    {"scoring"},
    {"data", "judge"},
    {"models"},
    {"world"},  # the world's base model is built and calibrated with models/
    {"export", "evaluation"},
    {"training"},
    {"recipe"},
    {"config"},
    {"report"},
    {"orchestration"},
    {"api"},
    {"cli"},
]


def test_no_import_climbs_a_layer():
    rank = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

    def top(module: str) -> str:
        return module.split(".")[1] if "." in module else ""

    up = [
        f"{a} -> {d}"
        for a, deps in _graph().items()
        for d in deps
        if top(a) in rank and top(d) in rank and rank[top(d)] > rank[top(a)]
    ]
    assert not up, "\n".join(sorted(up))
    assert set(rank) >= {top(m) for m in _graph() if top(m)}, "a new package needs a place in LAYERS"
