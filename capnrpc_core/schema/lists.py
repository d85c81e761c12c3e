"""Typed lists: a list field's value, read or built, with elements as Python values.

One :class:`ListCodec` is made per element type (by the registry) and shared by every list of
that type; it holds the element accessors, so indexing a list costs one call into the wire layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from capnrpc_core.schema import _convert
from capnrpc_core.schema.errors import FieldTypeError, FieldValueError, NoSuchFieldError
from capnrpc_core.schema.model import Kind, Type
from capnrpc_core.wire.builder import ListBuilder as WireListBuilder
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.builder import PointerBuilder as WirePointerBuilder
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import ListReader as WireListReader

if TYPE_CHECKING:
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = ["ListBuilder", "ListCodec", "ListReader", "make_list_codec"]

ReadFn = Callable[[WireListReader, int], Any]
GetFn = Callable[[WireListBuilder, int], Any]
SetFn = Callable[[WireListBuilder, int, Any], None]

_ELEMENT_SIZES: dict[Kind, ElementSize] = {
    Kind.VOID: ElementSize.VOID,
    Kind.BOOL: ElementSize.BIT,
    Kind.INT8: ElementSize.BYTE,
    Kind.UINT8: ElementSize.BYTE,
    Kind.INT16: ElementSize.TWO_BYTES,
    Kind.UINT16: ElementSize.TWO_BYTES,
    Kind.ENUM: ElementSize.TWO_BYTES,
    Kind.INT32: ElementSize.FOUR_BYTES,
    Kind.UINT32: ElementSize.FOUR_BYTES,
    Kind.FLOAT32: ElementSize.FOUR_BYTES,
    Kind.INT64: ElementSize.EIGHT_BYTES,
    Kind.UINT64: ElementSize.EIGHT_BYTES,
    Kind.FLOAT64: ElementSize.EIGHT_BYTES,
    Kind.TEXT: ElementSize.POINTER,
    Kind.DATA: ElementSize.POINTER,
    Kind.LIST: ElementSize.POINTER,
    Kind.INTERFACE: ElementSize.POINTER,
    Kind.ANY_POINTER: ElementSize.POINTER,
    Kind.STRUCT: ElementSize.INLINE_COMPOSITE,
}


def element_size(t: Type) -> ElementSize:
    """The list encoding of elements of type ``t``."""
    return _ELEMENT_SIZES[t.kind]


class ListCodec:
    """How to read, get and set the elements of lists of one element type."""

    __slots__ = (
        "data_words",
        "element",
        "element_size",
        "get",
        "inner",
        "name",
        "pointer_count",
        "read",
        "set",
    )

    def __init__(
        self,
        element: Type,
        name: str,
        read: ReadFn,
        get: GetFn,
        set: SetFn,
        data_words: int = 0,
        pointer_count: int = 0,
        inner: ListCodec | None = None,
    ) -> None:
        self.element = element
        self.inner = inner
        self.name = name
        self.element_size = element_size(element)
        self.read = read
        self.get = get
        self.set = set
        self.data_words = data_words
        self.pointer_count = pointer_count

    def init_in_struct(self, s: WireStructBuilder, index: int, n: int) -> WireListBuilder:
        """A new list of ``n`` elements at pointer ``index`` of ``s``."""
        if self.element_size == ElementSize.INLINE_COMPOSITE:
            return s.init_struct_list(index, n, self.data_words, self.pointer_count)
        return s.init_list(index, self.element_size, n)

    def init_in_list(self, lb: WireListBuilder, i: int, n: int) -> WireListBuilder:
        """A new list of ``n`` elements as element ``i`` of ``lb``."""
        if self.element_size == ElementSize.INLINE_COMPOSITE:
            return lb.init_struct_list(i, n, self.data_words, self.pointer_count)
        return lb.init_list(i, self.element_size, n)

    def init_in_pointer(self, p: WirePointerBuilder, n: int) -> WireListBuilder:
        """A new list of ``n`` elements in the slot ``p``."""
        if self.element_size == ElementSize.INLINE_COMPOSITE:
            return p.init_struct_list(n, self.data_words, self.pointer_count)
        return p.init_list(self.element_size, n)

    def fill(self, lb: WireListBuilder, values: Sequence[Any], where: str = "") -> None:
        """Set every element of ``lb`` from ``values`` (of the same length).

        An element's error is re-raised naming ``where`` (the field) and the index.
        """
        setter = self.set
        i = 0
        try:
            for i, v in enumerate(values):
                setter(lb, i, v)
        except (FieldTypeError, FieldValueError, NoSuchFieldError) as exc:
            if not where:
                raise
            raise type(exc)(f"{where}, element {i}: {exc}") from None

    def empty_builder(self, message: MessageBuilder) -> WireListBuilder:
        """A zero-length list builder (a null list field seen from a builder)."""
        return WireListBuilder(message, 0, bytearray(), 0, 0, 0, 0, 0, self.element_size)

    def __repr__(self) -> str:
        return f"<ListCodec {self.name}>"


class ListReader(Sequence[Any]):
    """A list read from a message; indexing gives Python values (structs as readers)."""

    __slots__ = ("_codec", "_l", "_read")

    def __init__(self, lst: WireListReader, codec: ListCodec) -> None:
        self._l = lst
        self._codec = codec
        self._read = codec.read

    def __len__(self) -> int:
        return len(self._l)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._read(self._l, j) for j in range(*i.indices(len(self._l)))]
        return self._read(self._l, i)

    def __iter__(self) -> Iterator[Any]:
        lst, read = self._l, self._read
        for i in range(len(lst)):
            yield read(lst, i)

    def to_list(self) -> list[Any]:
        """The elements as a plain list (structs and nested lists stay readers)."""
        return list(self)

    def _wire(self) -> WireListReader:
        return self._l

    @property
    def codec(self) -> ListCodec:
        """The element codec (element type and accessors)."""
        return self._codec

    def __repr__(self) -> str:
        return f"<{self._codec.name} reader {_preview(self)}>"


class ListBuilder(Sequence[Any]):
    """A list being built; elements can be read, assigned, and (nested lists) initialised."""

    __slots__ = ("_codec", "_get", "_l", "_set")

    def __init__(self, lst: WireListBuilder, codec: ListCodec) -> None:
        self._l = lst
        self._codec = codec
        self._get = codec.get
        self._set = codec.set

    def __len__(self) -> int:
        return len(self._l)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._get(self._l, j) for j in range(*i.indices(len(self._l)))]
        return self._get(self._l, i)

    def __setitem__(self, i: int, value: Any) -> None:
        self._set(self._l, i, value)

    def __iter__(self) -> Iterator[Any]:
        lst, get = self._l, self._get
        for i in range(len(lst)):
            yield get(lst, i)

    def init(self, i: int, size: int) -> ListBuilder:
        """Make element ``i`` of a list of lists a new list of ``size`` elements."""
        inner = self._codec.inner
        if inner is None:
            raise FieldTypeError(f"init() is for lists of lists; this is a {self._codec.name}")
        return ListBuilder(inner.init_in_list(self._l, i, size), inner)

    def as_reader(self) -> ListReader:
        """A reader over this list (a live view)."""
        return ListReader(self._l.as_reader(), self._codec)

    def to_list(self) -> list[Any]:
        """The elements as a plain list (structs and nested lists stay builders)."""
        return list(self)

    def _wire(self) -> WireListBuilder:
        return self._l

    @property
    def codec(self) -> ListCodec:
        """The element codec (element type and accessors)."""
        return self._codec

    def __repr__(self) -> str:
        return f"<{self._codec.name} builder {_preview(self)}>"


def _preview(items: Sequence[Any]) -> str:
    shown = [repr(items[i]) for i in range(min(len(items), 8))]
    if len(items) > 8:
        shown.append(f"... ({len(items)} elements)")
    return "[" + ", ".join(shown) + "]"


def make_list_codec(registry: TypeRegistry, element: Type) -> ListCodec:
    """The codec for lists whose elements are of type ``element``."""
    kind = element.kind
    name = f"List({registry.type_name(element)})"
    where = f"element of {name}"

    if kind == Kind.VOID:

        def read(lst: WireListReader, i: int) -> Any:
            if not -len(lst) <= i < len(lst):
                raise IndexError(f"list index {i} out of range for a list of {len(lst)}")
            return None

        def get(lst: WireListBuilder, i: int) -> Any:
            if not -len(lst) <= i < len(lst):
                raise IndexError(f"list index {i} out of range for a list of {len(lst)}")
            return None

        def set_(lst: WireListBuilder, i: int, v: Any) -> None:
            if v is not None:
                raise FieldTypeError(f"{where} takes None (Void), got {type(v).__name__}")
            if not -len(lst) <= i < len(lst):
                raise IndexError(f"list index {i} out of range for a list of {len(lst)}")

        return ListCodec(element, name, read, get, set_)

    if kind == Kind.BOOL:

        def set_bool(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_bool(i, _convert.to_bool(v, where))

        return ListCodec(element, name, WireListReader.get_bool, WireListBuilder.get_bool, set_bool)

    if kind in _convert.INT_FORMATS:
        fmt = _convert.INT_FORMATS[kind]
        lo, hi = _convert.INT_RANGES[kind]

        def read_int(lst: WireListReader, i: int) -> Any:
            return lst.get_int(fmt, i)

        def get_int(lst: WireListBuilder, i: int) -> Any:
            return lst.get_int(fmt, i)

        def set_int(lst: WireListBuilder, i: int, v: Any) -> None:
            if v.__class__ is not int or not lo <= v <= hi:
                v = _convert.to_int(v, kind, where)
            lst.set_int(fmt, i, v)

        return ListCodec(element, name, read_int, get_int, set_int)

    if kind in _convert.FLOAT_FORMATS:
        ifmt, ffmt = _convert.FLOAT_FORMATS[kind]

        def read_float(lst: WireListReader, i: int) -> Any:
            return lst.get_float(ifmt, ffmt, i)

        def get_float(lst: WireListBuilder, i: int) -> Any:
            return lst.get_float(ifmt, ffmt, i)

        def set_float(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_float(ifmt, ffmt, i, _convert.to_float(v, kind, where))

        return ListCodec(element, name, read_float, get_float, set_float)

    if kind == Kind.TEXT:

        def set_text(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_text(i, None if v is None else _convert.to_text(v, where))

        return ListCodec(element, name, WireListReader.get_text, WireListBuilder.get_text, set_text)

    if kind == Kind.DATA:

        def set_data(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_data(i, None if v is None else _convert.to_data(v, where))

        return ListCodec(element, name, WireListReader.get_data, WireListBuilder.get_data, set_data)

    if kind == Kind.ENUM:
        enum_type = registry.enum_type(element.type_id)
        u16 = _convert.U16
        from_raw = enum_type._from_raw
        to_raw = enum_type._to_raw

        def read_enum(lst: WireListReader, i: int) -> Any:
            return from_raw(lst.get_int(u16, i))

        def get_enum(lst: WireListBuilder, i: int) -> Any:
            return from_raw(lst.get_int(u16, i))

        def set_enum(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_int(u16, i, to_raw(v, where))

        return ListCodec(element, name, read_enum, get_enum, set_enum)

    if kind == Kind.STRUCT:
        struct_type = registry.struct_type(element.type_id)
        reader_cls = struct_type.Reader
        builder_cls = struct_type.Builder
        node = struct_type.schema.node

        def read_struct(lst: WireListReader, i: int) -> Any:
            return reader_cls(lst.get_struct(i))

        def get_struct(lst: WireListBuilder, i: int) -> Any:
            return builder_cls(lst.get_struct(i))

        def set_struct(lst: WireListBuilder, i: int, v: Any) -> None:
            builder_cls(lst.get_struct(i))._assign(v, where)

        return ListCodec(
            element,
            name,
            read_struct,
            get_struct,
            set_struct,
            node.data_word_count,
            node.pointer_count,
        )

    if kind == Kind.LIST:
        assert element.element is not None
        inner = registry.list_codec(element.element)
        inner_size = inner.element_size

        def read_list(lst: WireListReader, i: int) -> Any:
            return ListReader(lst.get_list(i, inner_size), inner)

        def get_list(lst: WireListBuilder, i: int) -> Any:
            if lst.get_pointer(i).is_null():
                return ListBuilder(inner.empty_builder(lst.message), inner)
            return ListBuilder(lst.get_list(i), inner)

        def set_list(lst: WireListBuilder, i: int, v: Any) -> None:
            if v is None:
                lst.get_pointer(i).clear()
            elif isinstance(v, ListReader | ListBuilder):
                lst.set_pointer(i, v._l)
            elif isinstance(v, Sequence) and not isinstance(v, str | bytes):
                inner.fill(inner.init_in_list(lst, i, len(v)), v, where)
            else:
                raise FieldTypeError(f"{where} takes a list, got {type(v).__name__}")

        return ListCodec(element, name, read_list, get_list, set_list, inner=inner)

    if kind == Kind.INTERFACE:
        iface = registry.interface_type(element.type_id)
        wrap = registry.wrap_capability
        unwrap = registry.unwrap_capability

        def read_cap(lst: WireListReader, i: int) -> Any:
            return wrap(iface, lst.get_capability(i))

        def get_cap(lst: WireListBuilder, i: int) -> Any:
            return wrap(iface, lst.get_capability(i))

        def set_cap(lst: WireListBuilder, i: int, v: Any) -> None:
            lst.set_capability(i, None if v is None else unwrap(iface, v))

        return ListCodec(element, name, read_cap, get_cap, set_cap)

    if kind == Kind.ANY_POINTER:
        from capnrpc_core.schema.anypointer import AnyPointerBuilder, AnyPointerReader

        def read_any(lst: WireListReader, i: int) -> Any:
            return AnyPointerReader(lst.get_pointer(i), registry)

        def get_any(lst: WireListBuilder, i: int) -> Any:
            return AnyPointerBuilder(lst.get_pointer(i), registry)

        def set_any(lst: WireListBuilder, i: int, v: Any) -> None:
            AnyPointerBuilder(lst.get_pointer(i), registry).set(v)

        return ListCodec(element, name, read_any, get_any, set_any)

    raise FieldTypeError(f"no list codec for element type {element!r}")
