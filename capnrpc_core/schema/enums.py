"""Enum values and enum types, shaped like pycapnp's.

Reading an enum field gives an :class:`Enumerant`: a ``str`` (its name) that also compares equal
to its ordinal and carries it as ``.raw`` -- what pycapnp's ``_DynamicEnum`` offers, but a real
``str``. An ordinal the schema does not know (from a newer peer) reads as a plain ``int``.
Writing accepts a name, an ordinal or an :class:`Enumerant`.

The enum type itself (``module.Color``) has one int attribute per enumerant, as in pycapnp.
"""

from __future__ import annotations

from typing import Any, ClassVar

from capnrpc_core.schema.errors import FieldTypeError, FieldValueError, NoSuchFieldError
from capnrpc_core.schema.model import EnumNode

__all__ = ["Enum", "Enumerant", "UnionMember", "make_enum_type"]


class Enumerant(str):
    """An enum value: its name as a ``str``, equal to its ordinal too, which is ``.raw``."""

    raw: int

    def __new__(cls, name: str, raw: int) -> Enumerant:
        obj = super().__new__(cls, name)
        obj.raw = raw
        return obj

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.raw == other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.raw))


class UnionMember(Enumerant):
    """What ``which`` returns: the set member's name (``.raw`` its discriminant).

    Calling it returns the plain name, so both pycapnp spellings work: ``msg.which == "foo"``
    and ``msg.which() == "foo"``. A discriminant the schema does not know reads as ``""``.
    """

    def __call__(self) -> str:
        return str(self)


class Enum:
    """Base of enum types; never instantiated."""

    schema: ClassVar[EnumNode]
    enumerants: ClassVar[dict[str, int]]
    _values: ClassVar[tuple[Enumerant, ...]]

    def __new__(cls) -> Enum:
        raise TypeError(f"enum type {cls.__name__} is not instantiable; use its names or ordinals")

    @classmethod
    def _from_raw(cls, raw: int) -> Enumerant | int:
        values = cls._values
        return values[raw] if raw < len(values) else raw

    @classmethod
    def _to_raw(cls, value: object, field: str = "") -> int:
        where = f" for field {field!r}" if field else ""
        if isinstance(value, Enumerant):
            value = str(value) if value.raw >= len(cls._values) else value.raw
        if isinstance(value, str):
            try:
                return cls.enumerants[value]
            except KeyError:
                raise NoSuchFieldError(
                    f"enum {cls.schema.display_name} has no enumerant {value!r}{where}"
                ) from None
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= 0xFFFF:
                raise FieldValueError(f"enum ordinal {value} out of range 0..65535{where}")
            return value
        raise FieldTypeError(
            f"expected an enumerant name or ordinal of {cls.schema.display_name}{where}, "
            f"got {type(value).__name__}"
        )


def make_enum_type(node: EnumNode) -> type[Enum]:
    """The enum type of ``node``: class attributes ``name = ordinal`` as in pycapnp."""
    names = {e.name: i for i, e in enumerate(node.enumerants)}
    ns: dict[str, Any] = dict(names)
    ns.update(
        {
            "schema": node,
            "enumerants": names,
            "_values": tuple(Enumerant(e.name, i) for i, e in enumerate(node.enumerants)),
            "__slots__": (),
            "__doc__": f"Enum ``{node.display_name}``.",
            "__module__": node.display_name.rpartition(":")[0],
            "__qualname__": node.display_name.rpartition(":")[2],
        }
    )
    return type(node.short_name, (Enum,), ns)
