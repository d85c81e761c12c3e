"""Checks and conversions of Python values written into typed fields and list elements.

The fast paths (an ``int`` in range, a ``str``) are inlined by the accessors; these functions
handle everything else and build the error messages, which always say where the value was going.
"""

from __future__ import annotations

import math
import operator
import struct

from capnrpc_core.schema.errors import FieldTypeError, FieldValueError
from capnrpc_core.schema.model import Kind

__all__ = [
    "FLOAT_FORMATS",
    "INT_FORMATS",
    "INT_RANGES",
    "KIND_NAMES",
    "SIZE_BYTES",
    "to_bool",
    "to_data",
    "to_float",
    "to_int",
    "to_text",
]

U16 = struct.Struct("<H")

INT_FORMATS: dict[Kind, struct.Struct] = {
    Kind.INT8: struct.Struct("<b"),
    Kind.INT16: struct.Struct("<h"),
    Kind.INT32: struct.Struct("<i"),
    Kind.INT64: struct.Struct("<q"),
    Kind.UINT8: struct.Struct("<B"),
    Kind.UINT16: U16,
    Kind.UINT32: struct.Struct("<I"),
    Kind.UINT64: struct.Struct("<Q"),
}
INT_RANGES: dict[Kind, tuple[int, int]] = {
    Kind.INT8: (-(1 << 7), (1 << 7) - 1),
    Kind.INT16: (-(1 << 15), (1 << 15) - 1),
    Kind.INT32: (-(1 << 31), (1 << 31) - 1),
    Kind.INT64: (-(1 << 63), (1 << 63) - 1),
    Kind.UINT8: (0, (1 << 8) - 1),
    Kind.UINT16: (0, (1 << 16) - 1),
    Kind.UINT32: (0, (1 << 32) - 1),
    Kind.UINT64: (0, (1 << 64) - 1),
}
# float kind -> (bit-pattern format, float format)
FLOAT_FORMATS: dict[Kind, tuple[struct.Struct, struct.Struct]] = {
    Kind.FLOAT32: (struct.Struct("<I"), struct.Struct("<f")),
    Kind.FLOAT64: (struct.Struct("<Q"), struct.Struct("<d")),
}
SIZE_BYTES: dict[Kind, int] = {
    Kind.INT8: 1,
    Kind.INT16: 2,
    Kind.INT32: 4,
    Kind.INT64: 8,
    Kind.UINT8: 1,
    Kind.UINT16: 2,
    Kind.UINT32: 4,
    Kind.UINT64: 8,
    Kind.FLOAT32: 4,
    Kind.FLOAT64: 8,
    Kind.ENUM: 2,
}
_F32 = FLOAT_FORMATS[Kind.FLOAT32][1]

KIND_NAMES: dict[Kind, str] = {
    Kind.VOID: "Void",
    Kind.BOOL: "Bool",
    Kind.INT8: "Int8",
    Kind.INT16: "Int16",
    Kind.INT32: "Int32",
    Kind.INT64: "Int64",
    Kind.UINT8: "UInt8",
    Kind.UINT16: "UInt16",
    Kind.UINT32: "UInt32",
    Kind.UINT64: "UInt64",
    Kind.FLOAT32: "Float32",
    Kind.FLOAT64: "Float64",
    Kind.TEXT: "Text",
    Kind.DATA: "Data",
    Kind.ANY_POINTER: "AnyPointer",
}
"""Type names as schema source spells them."""


def _type_name(value: object) -> str:
    return type(value).__name__


def to_int(value: object, kind: Kind, where: str) -> int:
    """``value`` as an integer of ``kind``, or a FieldTypeError/FieldValueError naming ``where``."""
    if isinstance(value, bool | float):
        raise FieldTypeError(
            f"{where} takes an integer ({KIND_NAMES[kind]}), got {_type_name(value)}"
        )
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise FieldTypeError(
            f"{where} takes an integer ({KIND_NAMES[kind]}), got {_type_name(value)}"
        ) from None
    lo, hi = INT_RANGES[kind]
    if not lo <= number <= hi:
        raise FieldValueError(
            f"{where}: {number} is out of range for {KIND_NAMES[kind]} ({lo}..{hi})"
        )
    return number


def to_float(value: object, kind: Kind, where: str) -> float:
    """``value`` as a float of ``kind``; float32 overflow becomes infinity, as in C++."""
    if isinstance(value, bool):
        raise FieldTypeError(f"{where} takes a number ({KIND_NAMES[kind]}), got bool")
    if not isinstance(value, int | float):
        if hasattr(value, "__float__") and not isinstance(value, str | bytes):
            value = float(value)
        else:
            raise FieldTypeError(
                f"{where} takes a number ({KIND_NAMES[kind]}), got {_type_name(value)}"
            )
    number = float(value)
    if kind == Kind.FLOAT32 and math.isfinite(number):
        try:
            _F32.pack(number)
        except OverflowError:
            number = math.copysign(math.inf, number)
    return number


def to_bool(value: object, where: str) -> bool:
    """``value`` as a bool (only ``True``/``False``, as pycapnp)."""
    if value is True or value is False:
        return value
    raise FieldTypeError(f"{where} takes a bool, got {_type_name(value)}")


def to_text(value: object, where: str) -> str:
    """``value`` as Text: a ``str``, or UTF-8 ``bytes``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FieldValueError(f"{where}: bytes are not valid UTF-8 ({exc.reason})") from None
    raise FieldTypeError(f"{where} takes a str, got {_type_name(value)}")


def to_data(value: object, where: str) -> bytes:
    """``value`` as Data: bytes-like, or a ``str`` (encoded as UTF-8)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise FieldTypeError(f"{where} takes bytes, got {_type_name(value)}")
