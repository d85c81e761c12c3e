"""``capnrpc compile``: turn ``.capnp`` files into importable, typed ``*_capnp.py`` modules.

Usage::

    python -m capnrpc_core.compile schema.capnp -o schema_capnp.py
    capnrpc compile -I include/ schema.capnp            # writes schema_capnp.py next to it
    capnrpc compile --with-imports schema.capnp          # and one module per imported file
    capnp compile -ocapnrpc schema.capnp                 # as a capnp plugin (capnpc-capnrpc)

The schema is parsed by pycapnp's parser (see :func:`capnrpc_core.schema.parse_file`), so this
command needs pycapnp; the modules it writes do not. In plugin mode the ``capnp`` tool does the
parsing and sends a ``CodeGeneratorRequest`` on stdin; each requested file's module is written
under the current directory at the file's path, ``foo/bar.capnp`` -> ``foo/bar_capnp.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from capnrpc_core.errors import CapnrpcError
from capnrpc_core.schema.codegen import generate_module, module_file_name
from capnrpc_core.schema.decode import SCHEMA_LIMITS, decode_code_generator_request
from capnrpc_core.schema.loader import default_import_path, parse_file
from capnrpc_core.wire.framing import decode_frame

__all__ = [
    "CompileError",
    "add_arguments",
    "compile_request",
    "compile_schema",
    "imported_files",
    "main",
    "plugin_main",
    "run",
]

PROG = "capnrpc compile"
_IMPORT = re.compile(r'\bimport\s+"([^"]*)"')


class CompileError(CapnrpcError):
    """Something the user can fix went wrong: reported as one line, exit status 1."""


def compile_schema(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    imports: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Parse ``path`` and write its module to ``output`` (default: next to it); the path written.

    ``imports`` are searched for ``import "/..."``, before pycapnp's and the system's
    directories.
    """
    schema = Path(path)
    target = Path(output) if output is not None else schema.with_name(module_file_name(schema.name))
    schemas = parse_file(schema, imports)
    _write(target, generate_module(schemas))
    return target


def imported_files(
    path: str | os.PathLike[str], imports: Sequence[str | os.PathLike[str]] = ()
) -> list[Path]:
    """The schema files ``path`` imports, directly or not, except the standard ones.

    Standard files are those found only in :func:`default_import_path` (``/capnp/c++.capnp``
    and the like, which come with pycapnp or the capnp tool).
    """
    user_dirs = [Path(p) for p in imports]
    std_dirs = [Path(p) for p in default_import_path()]
    found: list[Path] = []
    seen = {Path(path).resolve()}
    stack = [Path(path)]
    while stack:
        current = stack.pop()
        for name in _import_names(current.read_text(encoding="utf-8")):
            resolved = _resolve_import(name, current, user_dirs, std_dirs)
            if resolved is None:
                continue  # the parser has already accepted the file, so this is a std one
            key = resolved.resolve()
            if key not in seen:
                seen.add(key)
                found.append(resolved)
                stack.append(resolved)
    return found


def _import_names(source: str) -> list[str]:
    names: list[str] = []
    for line in source.splitlines():
        names.extend(_IMPORT.findall(_strip_comment(line)))
    return names


def _strip_comment(line: str) -> str:
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            return line[:i]
    return line


def _resolve_import(
    name: str, importer: Path, user_dirs: list[Path], std_dirs: list[Path]
) -> Path | None:
    if not name.startswith("/"):
        candidate = importer.parent / name
        return candidate if candidate.is_file() else None
    for directory in user_dirs:
        candidate = directory / name.lstrip("/")
        if candidate.is_file():
            return candidate
    return None  # only in the standard directories, if anywhere


def compile_request(data: bytes, out_dir: str | os.PathLike[str] = ".") -> list[Path]:
    """Write a module for each file a framed ``CodeGeneratorRequest`` asks for; the paths."""
    schemas = decode_code_generator_request(decode_frame(data, SCHEMA_LIMITS))
    written: list[Path] = []
    for requested in schemas.requested_files:
        relative = Path(requested.filename)
        target = Path(out_dir) / relative.parent / module_file_name(relative.name)
        _write(target, generate_module(schemas, requested.id))
        written.append(target)
    return written


def _write(target: Path, source: str) -> None:
    data = source.encode("utf-8")
    # Left alone when unchanged, so that build tools see no new modification time.
    if target.is_file() and target.read_bytes() == data:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``compile`` options to ``parser`` (shared by ``capnrpc compile``)."""
    parser.add_argument("schemas", nargs="*", metavar="SCHEMA", help="the .capnp files to compile")
    parser.add_argument(
        "-I",
        "--import-path",
        action="append",
        default=[],
        metavar="DIR",
        help='a directory searched for import "/..." (repeatable)',
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="the module to write (default: <name>_capnp.py next to the schema); "
        "with several schemas or --with-imports, an existing directory",
    )
    parser.add_argument(
        "--with-imports",
        action="store_true",
        help="also write a module for every file the schemas import "
        "(except the standard ones under /capnp/), next to the first",
    )
    parser.add_argument(
        "--plugin",
        action="store_true",
        help="read a CodeGeneratorRequest on stdin, as a `capnp compile -o` plugin "
        "(the default when no SCHEMA is given and stdin is not a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    """Carry out a parsed ``compile`` command line; the exit status."""
    try:
        if args.plugin or not args.schemas:
            if not args.plugin and sys.stdin.isatty():
                raise CompileError("no schema given (and no CodeGeneratorRequest on stdin)")
            request = sys.stdin.buffer.read()
            if not request:
                raise CompileError("no schema given, and stdin had no CodeGeneratorRequest")
            compile_request(request)
            return 0
        for target, schema in _plan(args.schemas, args.output, args.import_path, args.with_imports):
            compile_schema(schema, target, args.import_path)
    except (CapnrpcError, OSError, ImportError, ValueError) as exc:
        print(f"{PROG}: error: {_message(exc)}", file=sys.stderr)
        return 1
    return 0


def _message(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"no such file: {exc.filename}"
    return str(exc)


def _plan(
    schemas: Sequence[str], output: str | None, imports: Sequence[str], with_imports: bool
) -> list[tuple[Path, Path]]:
    """(module, schema) pairs to write, checked before anything is parsed."""
    for name in schemas:
        if not Path(name).is_file():
            raise CompileError(f"no such schema file: {name}")
    out_dir: Path | None = None
    if output is not None and Path(output).is_dir():
        out_dir = Path(output)
    elif output is not None and (len(schemas) > 1 or with_imports):
        raise CompileError("with several schemas or --with-imports, -o must be a directory")
    groups = [[Path(s) for s in schemas]]
    if with_imports:
        groups += [imported_files(s, imports) for s in schemas]
    files = _unique(groups)
    if out_dir is None and with_imports:
        out_dir = files[0].parent
    plan: list[tuple[Path, Path]] = []
    taken: dict[Path, Path] = {}
    for schema in files:
        if out_dir is not None:
            target = out_dir / module_file_name(schema.name)
        elif output is not None:
            target = Path(output)
        else:
            target = schema.with_name(module_file_name(schema.name))
        other = taken.setdefault(target.resolve(), schema)
        if other is not schema:
            raise CompileError(f"{schema} and {other} would both be compiled to {target}")
        plan.append((target, schema))
    return plan


def _unique(groups: Iterable[list[Path]]) -> list[Path]:
    out: list[Path] = []
    seen: set[Path] = set()
    for group in groups:
        for p in group:
            if p.resolve() not in seen:
                seen.add(p.resolve())
                out.append(p)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m capnrpc_core.compile``: the exit status."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Compile .capnp schemas into typed capnrpc modules."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def plugin_main() -> int:
    """``capnpc-capnrpc``: the plugin ``capnp compile -ocapnrpc`` runs."""
    return main(["--plugin"])


if __name__ == "__main__":
    sys.exit(main())
