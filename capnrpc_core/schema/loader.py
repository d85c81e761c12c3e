"""Turn ``.capnp`` files into a :class:`~capnrpc_core.schema.model.SchemaSet`.

The parsing itself is pycapnp's (the reference compiler), run in a child process -- see
:mod:`capnrpc_core.schema._pycapnp_nodes` for why -- which hands back the raw ``schema.capnp``
node messages; our own wire reader decodes them. Nothing from pycapnp outlives the call.
"""

from __future__ import annotations

import importlib.util
import os
import re
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from capnrpc_core.errors import DecodeError
from capnrpc_core.schema import _pycapnp_nodes
from capnrpc_core.schema.decode import decode_node_messages
from capnrpc_core.schema.errors import SchemaParseError
from capnrpc_core.schema.model import RequestedFile, SchemaSet
from capnrpc_core.wire.framing import decode_frame

__all__ = ["default_import_path", "parse_file", "schema_set_from_pycapnp"]

_HEADER = struct.Struct("<8sQI")
_LENGTH = struct.Struct("<I")
_LOCATION = re.compile(r"([^\s:]+\.capnp):(\d+): (?:failed: )?(.*)")


def default_import_path() -> list[str]:
    """Directories searched for ``import "/capnp/..."``: pycapnp's package root and the system's."""
    dirs: list[str] = []
    spec = importlib.util.find_spec("capnp")
    if spec is not None and spec.origin:
        dirs.append(os.path.dirname(os.path.dirname(spec.origin)))
    dirs.extend(["/usr/local/include", "/usr/include"])
    return [d for d in dirs if os.path.isdir(d)]


def parse_file(
    path: str | os.PathLike[str], imports: Sequence[str | os.PathLike[str]] = ()
) -> SchemaSet:
    """Parse a ``.capnp`` file; the set holds its nodes and every node they depend on.

    ``imports`` are searched before :func:`default_import_path`. The file's id is in
    ``requested_files[0]``. Raises :class:`SchemaParseError` (compiler message with file and
    line) if the schema is invalid, ``FileNotFoundError`` if the file does not exist.
    """
    file_path = Path(path)
    if not file_path.is_file():
        raise FileNotFoundError(f"schema file not found: {file_path}")
    if file_path.suffix != ".capnp":
        raise ValueError(f"schema file name does not end with .capnp: {file_path}")
    # Imported here: subprocess brings threading and selectors, which the core must not load.
    import subprocess

    search = [os.fspath(p) for p in imports] + default_import_path()
    proc = subprocess.run(
        # -P: the script's own directory must not shadow the standard library in the child.
        [sys.executable, "-P", _pycapnp_nodes.__file__, str(file_path.resolve()), *search],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.startswith(_pycapnp_nodes.MAGIC):
        raise _parse_error(file_path, proc.stderr.decode("utf-8", "replace"))
    return _read_nodes(proc.stdout, file_path.name)


def _parse_error(path: Path, stderr: str) -> Exception:
    if "No module named 'capnp'" in stderr:
        return ImportError(
            f"parsing {path} needs pycapnp (pip install pycapnp), which this Python lacks"
        )
    # The compiler's message sits between kj's "what():" and its stack trace. kj shortens file
    # names and counts lines from 0; we report the full path of our file and count from 1, as
    # the capnp tool does.
    text = stderr.split("what():", 1)[1] if "what():" in stderr else stderr
    resolved = str(path.resolve())
    errors: list[str] = []
    filename: str | None = None
    line: int | None = None
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("stack:"):
            break
        match = _LOCATION.match(raw)
        if match is None:
            continue
        shown, number, message = match.group(1), int(match.group(2)) + 1, match.group(3)
        name = resolved if resolved.endswith(shown) else shown
        if filename is None:
            filename, line = name, number
        errors.append(f"{name}:{number}: error: {message}")
    if not errors:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("stack:")]
        errors = lines or ["the schema compiler failed without a message"]
    return SchemaParseError("\n".join(errors), filename, line)


def _read_nodes(data: bytes, filename: str) -> SchemaSet:
    try:
        _magic, file_id, count = _HEADER.unpack_from(data, 0)
        pos = _HEADER.size
        messages: list[list[memoryview]] = []
        for _ in range(count):
            (length,) = _LENGTH.unpack_from(data, pos)
            pos += _LENGTH.size
            messages.append(decode_frame(data[pos : pos + length]))
            pos += length
    except struct.error as exc:
        raise DecodeError(f"truncated node list from the schema parser: {exc}") from None
    schemas = decode_node_messages(messages)
    schemas.requested_files.append(RequestedFile(file_id, filename))
    return schemas


def schema_set_from_pycapnp(module: Any) -> SchemaSet:
    """The schema set of a module pycapnp already loaded (``capnp.load(...)``), in-process."""
    parsed = module.schema
    nodes = _pycapnp_nodes.collect_nodes(parsed)
    schemas = decode_node_messages(decode_frame(data) for data in nodes.values())
    node = parsed.node
    name = node.displayName
    schemas.requested_files.append(RequestedFile(node.id, name))
    return schemas
