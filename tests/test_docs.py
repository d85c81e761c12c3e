"""The docs match the code: what README.md and docs/*.md name exists, and their Python parses.

The examples in the docs are mostly fragments (a server method, the body of ``async def
main``), so they are not run here; the tutorial's programs are (examples/calculator, in
tests/trio/test_demo.py). What is checked is what goes stale without anyone noticing when
the code moves on: a renamed function or keyword argument, a moved file, a Note that was
renamed, an example that no longer parses.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = ("capnrpc_core", "capnrpc_trio", "capnrpc_asyncio", "capnrpc_socket")
# A dotted name rooted at one of our packages, as prose writes it: `capnrpc_socket.serve`.
DOTTED = re.compile(r"\b((?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_]\w*)+)")
# A path in this repository, as prose writes it: capnrpc_core/driver.py, tests/conformance.
REPO_PATH = re.compile(r"(?<![\w/.])((?:capnrpc_\w+|tests|bench|examples|docs)/[\w./-]*\w)")
NOTE = re.compile(r"Note\s+\[([^\]]+)\]")
NOTE_DEFINITION = re.compile(r"^\s*(?:#\s*)?Note \[([^\]]+)\]\s*\n\s*(?:#\s*)?~~~", re.M)


def _python_blocks(path: Path) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown file: (line of the fence, source)."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in re.finditer(r"```python\n(.*?)```", text, re.S)
    ]


def _parse(source: str) -> ast.Module:
    # Examples await at the top level, as if in the body of ``async def main``.
    tree = compile(source, "<doc>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert isinstance(tree, ast.Module)
    return tree


def _resolve(dotted: str) -> Any:
    """The object a dotted name rooted at one of our packages stands for; raises if none."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain on a name, else None."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(names)])


BLOCKS = [
    pytest.param(path, line, source, id=f"{path.name}:{line}")
    for path in DOCS
    for line, source in _python_blocks(path)
]


def test_the_docs_have_python_examples() -> None:
    # The parametrised test below would pass vacuously if the block pattern stopped matching.
    assert len(BLOCKS) >= 25


@pytest.mark.parametrize(("path", "line", "source"), BLOCKS)
def test_a_python_example_parses_and_calls_what_exists(path: Path, line: int, source: str) -> None:
    tree = _parse(source)
    modules: dict[str, ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    modules[alias.asname or alias.name] = importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                if not hasattr(module, alias.name):  # a submodule, until it is imported
                    importlib.import_module(f"{node.module}.{alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted(node.func)
        if dotted is None or dotted.split(".")[0] not in modules:
            continue
        target = _resolve(dotted)
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):  # a builtin or a class without one
            continue
        parameters = signature.parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            continue
        names = {p.name for p in parameters}
        for keyword in node.keywords:
            if keyword.arg is not None:
                assert keyword.arg in names, f"{dotted}() takes no {keyword.arg}="


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_names_and_paths_the_prose_gives_exist(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for code in re.findall(r"`([^`\n]+)`", text):
        for dotted in DOTTED.findall(code):
            _resolve(dotted)  # raises ImportError or AttributeError
    for found in REPO_PATH.findall(text):
        assert (ROOT / found).exists() or (ROOT / "docs" / found).exists(), found


def test_every_note_cited_is_written_somewhere() -> None:
    files = [
        p
        for p in [*ROOT.glob("*.md"), *ROOT.glob("*/**/*.py"), *ROOT.glob("*/**/*.md")]
        if not {".venv", "build"} & set(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)
    ]
    written: set[str] = set()
    cited: dict[str, str] = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        written.update(NOTE_DEFINITION.findall(text))
        for name in NOTE.findall(text):
            cited.setdefault(" ".join(name.split()), str(path.relative_to(ROOT)))
    assert len(written) >= 30
    # A Note written inline ("Note [receiving]: ...") in a docstring counts as written.
    missing = {
        name: where
        for name, where in cited.items()
        if name not in written
        and not re.search(rf"Note \[{re.escape(name)}\]:", (ROOT / where).read_text("utf-8"))
    }
    assert not missing, missing


# A signature written out in full in the prose: `capnrpc_socket.serve(address, bootstrap, *, ...)`.
SIGNATURE = re.compile(r"`((?:" + "|".join(PACKAGES) + r"|open_vat)[\w.]*)\(([^`]*\*[^`]*)\)`")
# Whose open_vat a driver's page means.
PAGE_PACKAGE = {
    "drivers-trio.md": "capnrpc_trio",
    "drivers-asyncio.md": "capnrpc_asyncio",
    "drivers-socket.md": "capnrpc_socket",
}


def _documented_signatures() -> list[Any]:
    found = []
    for path in DOCS:
        for match in SIGNATURE.finditer(path.read_text(encoding="utf-8")):
            name, params = match.group(1), " ".join(match.group(2).split())
            if not name.startswith(PACKAGES):
                name = f"{PAGE_PACKAGE[path.name]}.{name}"
            found.append(pytest.param(name, params, id=f"{path.name}:{name}"))
    return found


@pytest.mark.parametrize(("name", "params"), _documented_signatures())
def test_a_signature_the_docs_write_out_is_the_real_one(name: str, params: str) -> None:
    documented = ast.parse(f"def f({params}): pass").body[0]
    assert isinstance(documented, ast.FunctionDef)
    args = documented.args
    real = [
        p for p in inspect.signature(_resolve(name)).parameters.values() if p.name != "task_status"
    ]
    positional = [a.arg for a in args.args]
    keyword_only = [a.arg for a in args.kwonlyargs]
    assert [p.name for p in real] == positional + keyword_only
    kinds = [p.kind is inspect.Parameter.KEYWORD_ONLY for p in real]
    assert kinds == [False] * len(positional) + [True] * len(keyword_only)
    with_default = positional[len(positional) - len(args.defaults) :]
    defaults = dict(zip(with_default, args.defaults, strict=True))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is not None:
            defaults[arg.arg] = default
    for p in real:
        if p.name in defaults:
            assert p.default == ast.literal_eval(defaults[p.name]), p.name
        else:
            assert p.default is inspect.Parameter.empty, f"{p.name} has a default"
