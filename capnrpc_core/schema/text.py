"""Cap'n Proto text format of a struct, for ``repr``/``str`` (one line, as C++'s ``kj::str``)."""

from __future__ import annotations

import math
from typing import Any

from capnrpc_core.schema.anypointer import AnyPointerReader
from capnrpc_core.schema.enums import Enumerant
from capnrpc_core.schema.lists import ListReader

__all__ = ["struct_to_text", "value_to_text"]

_ESCAPES = {
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
    0x27: "\\'",
    0x22: '\\"',
    0x5C: "\\\\",
}


def _quote(data: bytes) -> str:
    out = []
    for b in data:
        esc = _ESCAPES.get(b)
        if esc is not None:
            out.append(esc)
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\{b:03o}")
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def value_to_text(value: Any) -> str:
    """One field or element value in text format."""
    from capnrpc_core.schema.structs import StructReader

    if value is None:
        return "void"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Enumerant):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _quote(value.encode("utf-8"))
    if isinstance(value, bytes):
        return _quote(value)
    if isinstance(value, StructReader):
        return struct_to_text(value)
    if isinstance(value, ListReader):
        return "[" + ", ".join(value_to_text(v) for v in value) + "]"
    if isinstance(value, AnyPointerReader):
        return "<opaque pointer>"
    return "<external capability>"


def struct_to_text(reader: Any) -> str:
    """A struct reader in text format: ``(a = 1, b = "x")``."""
    layout = reader._layout
    parts = []
    for field in layout.node.fields:
        name = field.name
        if not reader._has(name):
            continue
        parts.append(f"{name} = {value_to_text(layout.reader_getters[name](reader))}")
    return "(" + ", ".join(parts) + ")"
