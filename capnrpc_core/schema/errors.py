"""Errors of the schema layer.

Each is a :class:`~capnrpc_core.errors.LocalUsageError` (the caller misused a schema or a typed
message) and also the builtin exception pycapnp users would expect in its place: an unknown
field is an ``AttributeError``, a value of the wrong type a ``TypeError``, a value out of range a
``ValueError``.
"""

from __future__ import annotations

from capnrpc_core.errors import LocalUsageError

__all__ = [
    "FieldTypeError",
    "FieldValueError",
    "NoSuchFieldError",
    "SchemaParseError",
    "UnionMemberError",
]


class SchemaParseError(LocalUsageError, ValueError):
    """A ``.capnp`` file failed to parse: ``path:line: error: <the compiler's message>``.

    ``filename`` and ``line`` (counted from 1) locate the first error when the compiler said
    where it was.
    """

    def __init__(self, message: str, filename: str | None = None, line: int | None = None):
        super().__init__(message)
        self.filename = filename
        self.line = line


class NoSuchFieldError(LocalUsageError, AttributeError):
    """A struct has no field (or a enum no enumerant) of that name."""


class FieldTypeError(LocalUsageError, TypeError):
    """A value of the wrong type for a field, or an operation the field's type does not allow."""


class FieldValueError(LocalUsageError, ValueError):
    """A value of the right type that the field cannot hold (out of range, unknown enumerant)."""


class UnionMemberError(FieldValueError):
    """A union member was read that is not the one currently set."""
