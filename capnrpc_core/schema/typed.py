"""Bases that the typed declarations of a generated ``*_capnp.py`` module refer to.

A generated module (see :mod:`capnrpc_core.schema.codegen`) declares, inside
``if TYPE_CHECKING:``, one class per struct, group, enum and interface with typed properties
and methods, so that mypy checks user code against the schema. Those declarations subclass the
classes here. At run time the module's names are the types :func:`load_node_messages` builds;
the classes here only describe them to the type checker and are never instantiated.

The shapes follow the runtime types: lists read as :class:`ListReader` (a ``Sequence``), built
lists are :class:`ListBuilder` (element assignment, ``init`` for lists of lists), a call returns
a :class:`Promise` of its results reader. :class:`Client` and :class:`Server` are the runtime
bases themselves (from :mod:`capnrpc_core.schema.interfaces`), so a declared client is a
``Client`` to the type checker as it is at run time.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeAlias, TypeVar, overload

from capnrpc_core.schema.enums import Enumerant
from capnrpc_core.schema.interfaces import Client, Server
from capnrpc_core.schema.structs import StructSchema
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.reader import StructReader as WireStructReader

__all__ = [
    "Client",
    "DataValue",
    "EnumValue",
    "Group",
    "ListBuilder",
    "ListReader",
    "Promise",
    "Server",
    "Struct",
    "StructBuilder",
    "StructReader",
]

E = TypeVar("E", covariant=True)
B = TypeVar("B")
V = TypeVar("V")
R = TypeVar("R")
T = TypeVar("T", covariant=True)
C = TypeVar("C", bound=Client)


EnumValue: TypeAlias = Enumerant | int
"""How an enum field reads: an :class:`Enumerant`, or an ``int`` the schema does not name."""

DataValue: TypeAlias = bytes | bytearray | memoryview
"""What a Data field accepts."""


def _typing_only(what: str) -> NotImplementedError:
    return NotImplementedError(f"{what} is a typing declaration; it has no implementation")


class ListReader(Sequence[E]):
    """A list read from a message whose elements read as ``E``."""

    __slots__ = ()

    def __len__(self) -> int:
        raise _typing_only("ListReader.__len__")

    @overload
    def __getitem__(self, i: int) -> E: ...
    @overload
    def __getitem__(self, i: slice) -> list[E]: ...
    def __getitem__(self, i: int | slice) -> E | list[E]:
        raise _typing_only("ListReader.__getitem__")

    def __iter__(self) -> Iterator[E]:
        raise _typing_only("ListReader.__iter__")

    def to_list(self) -> list[E]:
        """The elements as a plain list."""
        raise _typing_only("ListReader.to_list")


class ListBuilder(Sequence[B], Generic[B, V]):
    """A list being built whose elements get as ``B`` and accept ``V``."""

    __slots__ = ()

    def __len__(self) -> int:
        raise _typing_only("ListBuilder.__len__")

    @overload
    def __getitem__(self, i: int) -> B: ...
    @overload
    def __getitem__(self, i: slice) -> list[B]: ...
    def __getitem__(self, i: int | slice) -> B | list[B]:
        raise _typing_only("ListBuilder.__getitem__")

    def __setitem__(self, i: int, value: V) -> None:
        raise _typing_only("ListBuilder.__setitem__")

    def __iter__(self) -> Iterator[B]:
        raise _typing_only("ListBuilder.__iter__")

    def init(self, i: int, size: int) -> B:
        """Make element ``i`` of a list of lists a new list of ``size`` elements."""
        raise _typing_only("ListBuilder.init")

    def as_reader(self) -> ListReader[Any]:
        """A reader over this list."""
        raise _typing_only("ListBuilder.as_reader")

    def to_list(self) -> list[B]:
        """The elements as a plain list."""
        raise _typing_only("ListBuilder.to_list")


class Group:
    """Base of declared group types (a group has no message of its own)."""

    __slots__ = ()
    schema: ClassVar[StructSchema]


class Struct(Generic[R, B]):
    """Base of declared struct types whose readers are ``R`` and builders ``B``."""

    __slots__ = ()
    schema: ClassVar[StructSchema]

    @overload
    @classmethod
    def from_bytes(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        builder: Literal[False] = False,
    ) -> R: ...
    @overload
    @classmethod
    def from_bytes(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        *,
        builder: Literal[True],
    ) -> B: ...
    @classmethod
    def from_bytes(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        builder: bool = False,
    ) -> R | B:
        """A reader (or with ``builder=True`` a builder copy) of one framed message."""
        raise _typing_only("Struct.from_bytes")

    @classmethod
    def from_bytes_packed(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
    ) -> R:
        """A reader of one packed, framed message."""
        raise _typing_only("Struct.from_bytes_packed")

    @classmethod
    def from_segments(
        cls,
        segments: Sequence[bytes | memoryview],
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        caps: Sequence[object] = (),
    ) -> R:
        """A reader of a message given as its segments."""
        raise _typing_only("Struct.from_segments")


class StructReader(Generic[B]):
    """What every declared ``T.Reader`` offers besides its fields (``B`` is ``T.Builder``)."""

    __slots__ = ()

    @property
    def schema(self) -> StructSchema:
        """The struct's schema."""
        raise _typing_only("StructReader.schema")

    @property
    def wire(self) -> WireStructReader:
        """The untyped wire-level struct."""
        raise _typing_only("StructReader.wire")

    def as_builder(self, num_first_segment_words: int | None = None) -> B:
        """A builder of a copy of this struct, as the root of a new message."""
        raise _typing_only("StructReader.as_builder")

    def to_dict(
        self, verbose: bool = False, ordered: bool = False, encode_bytes_as_base64: bool = False
    ) -> dict[str, Any]:
        """The struct as a dict."""
        raise _typing_only("StructReader.to_dict")

    def to_bytes(self) -> bytes:
        """This struct copied as the root of a new framed message."""
        raise _typing_only("StructReader.to_bytes")

    def total_size_words(self) -> int:
        """Words this struct and everything it points to take up."""
        raise _typing_only("StructReader.total_size_words")

    def _has(self, name: str) -> bool:
        raise _typing_only("StructReader._has")

    def __enter__(self) -> Self:
        raise _typing_only("StructReader.__enter__")

    def __exit__(self, *exc: object) -> None:
        raise _typing_only("StructReader.__exit__")


class StructBuilder(Generic[R]):
    """What every declared ``T.Builder`` offers besides its fields (``R`` is ``T.Reader``)."""

    __slots__ = ()

    @property
    def schema(self) -> StructSchema:
        """The struct's schema."""
        raise _typing_only("StructBuilder.schema")

    @property
    def wire(self) -> WireStructBuilder:
        """The untyped wire-level struct."""
        raise _typing_only("StructBuilder.wire")

    def as_reader(self) -> R:
        """A reader over this struct (a live view)."""
        raise _typing_only("StructBuilder.as_reader")

    def as_builder(self, num_first_segment_words: int | None = None) -> Self:
        """A builder of a copy of this struct in a new message."""
        raise _typing_only("StructBuilder.as_builder")

    def copy(self, num_first_segment_words: int | None = None) -> Self:
        """A copy of this struct as the root of a new message."""
        raise _typing_only("StructBuilder.copy")

    def to_dict(
        self, verbose: bool = False, ordered: bool = False, encode_bytes_as_base64: bool = False
    ) -> dict[str, Any]:
        """The struct as a dict."""
        raise _typing_only("StructBuilder.to_dict")

    def to_segments(self) -> list[bytes]:
        """The message's segments."""
        raise _typing_only("StructBuilder.to_segments")

    def to_bytes(self) -> bytes:
        """The message as one framed byte string."""
        raise _typing_only("StructBuilder.to_bytes")

    def to_bytes_packed(self) -> bytes:
        """The message framed and packed."""
        raise _typing_only("StructBuilder.to_bytes_packed")

    def clear_write_flag(self) -> None:
        """Accepted for pycapnp compatibility."""
        raise _typing_only("StructBuilder.clear_write_flag")

    def total_size_words(self) -> int:
        """Words this struct and everything it points to take up."""
        raise _typing_only("StructBuilder.total_size_words")

    def _has(self, name: str) -> bool:
        raise _typing_only("StructBuilder._has")


class Promise(Protocol[T]):
    """A call in flight whose results read as ``T``: what a method of a declared client returns.

    Async drivers' promises are awaited, the blocking driver's have ``wait()``. Pipelined fields
    of the results are properties of the declared subclass (``Foo._Promise``).
    """

    def __await__(self) -> Generator[Any, Any, T]: ...

    def wait(self, timeout: float | None = None) -> T:
        """Block until the results are in (blocking drivers)."""
        ...

    @property
    def done(self) -> bool:
        """Whether the call has settled."""
        ...

    def cancel(self) -> None:
        """Cancel the call."""
        ...

    def release(self) -> None:
        """Release the results now."""
        ...

    def cast_as(self, interface_type: type[C]) -> C:
        """A pipelined client for the capability this (AnyPointer) promise stands for."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
