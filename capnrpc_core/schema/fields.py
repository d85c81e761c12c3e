"""Per-field accessors: the closures behind each typed struct property.

:func:`make_field_accessors` runs once per field of a struct type and binds the field's offset,
format, default and union discriminant into small closures; reading or writing a field is then
one call into the wire layer (plus a discriminant check for union members).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from capnrpc_core.schema import _convert
from capnrpc_core.schema.anypointer import AnyPointerBuilder, AnyPointerReader
from capnrpc_core.schema.errors import FieldTypeError, UnionMemberError
from capnrpc_core.schema.lists import ListBuilder, ListReader, element_size
from capnrpc_core.schema.model import Field, Kind, Slot, StructNode
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.reader import ListReader as WireListReader
from capnrpc_core.wire.reader import StructReader as WireStructReader

if TYPE_CHECKING:
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = ["Accessors", "make_field_accessors"]

U16 = _convert.U16
Getter = Callable[[Any], Any]
Setter = Callable[[Any, Any], None]
Init = Callable[[Any, "int | None"], Any]
Clear = Callable[[WireStructBuilder], None]


class Accessors:
    """What a struct type needs for one field."""

    __slots__ = ("builder_get", "builder_set", "clear", "doc", "init", "pointer", "reader_get")

    def __init__(
        self,
        reader_get: Getter,
        builder_get: Getter,
        builder_set: Setter,
        clear: Clear,
        init: Init | None = None,
        pointer: int = -1,
        doc: str = "",
    ) -> None:
        self.reader_get = reader_get
        self.builder_get = builder_get
        self.builder_set = builder_set
        self.clear = clear
        self.init = init
        self.pointer = pointer
        self.doc = doc


def _nothing(s: WireStructBuilder) -> None:
    return None


def make_field_accessors(registry: TypeRegistry, node: StructNode, field: Field) -> Accessors:
    """Accessors for ``field`` of ``node``, union discriminant handling included."""
    where = f"field {field.name!r} of {node.display_name}"
    if field.group_id is not None:
        acc = _group(registry, field, where)
    else:
        assert field.slot is not None
        acc = _slot(registry, field.slot, where)
    if field.discriminant_value is not None:
        acc = _in_union(acc, node, field, where)
    return acc


def _in_union(acc: Accessors, node: StructNode, field: Field, where: str) -> Accessors:
    doff = node.discriminant_offset * 2
    dv = field.discriminant_value
    assert dv is not None
    rget, bget, bset, init = acc.reader_get, acc.builder_get, acc.builder_set, acc.init
    members = {f.discriminant_value: f.name for f in node.fields}

    def inactive(s: Any) -> UnionMemberError:
        current = s.get_int(U16, doff)
        return UnionMemberError(
            f"{where} is not the union member that is set "
            f"(that is {members.get(current, f'unknown #{current}')!r})"
        )

    def reader_get(self: Any) -> Any:
        if self._s.get_int(U16, doff) != dv:
            raise inactive(self._s)
        return rget(self)

    def builder_get(self: Any) -> Any:
        if self._s.get_int(U16, doff) != dv:
            raise inactive(self._s)
        return bget(self)

    union_init: Init | None = None
    if init is not None:
        init_fn = init

        def union_init(self: Any, size: int | None) -> Any:
            self._s.set_int(U16, doff, dv)
            return init_fn(self, size)

    if field.group_id is not None or (
        field.slot is not None and field.slot.type.kind == Kind.STRUCT
    ):
        # A dict merges into the member if it is the one set, else into a fresh one (pycapnp).
        def builder_set(self: Any, value: Any) -> None:
            s = self._s
            if isinstance(value, Mapping) and s.get_int(U16, doff) != dv:
                s.set_int(U16, doff, dv)
                init_fn(self, None)._assign_dict(value)
                return
            s.set_int(U16, doff, dv)
            bset(self, value)

    else:

        def builder_set(self: Any, value: Any) -> None:
            self._s.set_int(U16, doff, dv)
            bset(self, value)

    return Accessors(
        reader_get, builder_get, builder_set, acc.clear, union_init, acc.pointer, acc.doc
    )


def _group(registry: TypeRegistry, field: Field, where: str) -> Accessors:
    assert field.group_id is not None
    group_type = registry.struct_type(field.group_id)
    reader_cls = group_type.Reader
    builder_cls = group_type.Builder
    group_layout = reader_cls._layout

    def clear(s: WireStructBuilder) -> None:
        if group_layout.disc_offset >= 0:
            s.set_int(U16, group_layout.disc_offset, 0)
        for c in group_layout.clear:
            c(s)

    def reader_get(self: Any) -> Any:
        return reader_cls(self._s)

    def builder_get(self: Any) -> Any:
        return builder_cls(self._s)

    def builder_set(self: Any, value: Any) -> None:
        if not isinstance(value, Mapping):
            clear(self._s)  # a whole group replaces the old one; a dict only updates it
        builder_cls(self._s)._assign(value, where)

    def init(self: Any, size: int | None) -> Any:
        if size is not None:
            raise FieldTypeError(f"{where} is a group: init() takes no size")
        clear(self._s)
        return builder_cls(self._s)

    return Accessors(reader_get, builder_get, builder_set, clear, init, doc=f"Group {where}.")


def _slot(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    kind = slot.type.kind
    if kind == Kind.VOID:
        return _void(where)
    if kind == Kind.BOOL:
        return _bool(slot, where)
    if kind in _convert.INT_FORMATS:
        return _int(slot, where)
    if kind in _convert.FLOAT_FORMATS:
        return _float(slot, where)
    if kind == Kind.ENUM:
        return _enum(registry, slot, where)
    if kind == Kind.TEXT:
        return _text(slot, where)
    if kind == Kind.DATA:
        return _data(slot, where)
    if kind == Kind.STRUCT:
        return _struct(registry, slot, where)
    if kind == Kind.LIST:
        return _list(registry, slot, where)
    if kind == Kind.INTERFACE:
        return _interface(registry, slot, where)
    return _any_pointer(registry, slot, where)


def _void(where: str) -> Accessors:
    def get(self: Any) -> None:
        return None

    def set_(self: Any, value: Any) -> None:
        if value is not None:
            raise FieldTypeError(f"{where} is Void: it takes None, got {type(value).__name__}")

    return Accessors(get, get, set_, _nothing, doc=f"Void {where}.")


def _bool(slot: Slot, where: str) -> Accessors:
    bit = slot.offset
    default = bool(slot.default.scalar)

    def get(self: Any) -> Any:
        return self._s.get_bool(bit, default)

    def set_(self: Any, value: Any) -> None:
        if value is not True and value is not False:
            value = _convert.to_bool(value, where)
        self._s.set_bool(bit, value, default)

    def clear(s: WireStructBuilder) -> None:
        s.set_bool(bit, False)

    return Accessors(get, get, set_, clear, doc=f"Bool {where}.")


def _int(slot: Slot, where: str) -> Accessors:
    kind = slot.type.kind
    fmt = _convert.INT_FORMATS[kind]
    lo, hi = _convert.INT_RANGES[kind]
    off = slot.offset * fmt.size
    default = int(slot.default.scalar or 0)

    def get(self: Any) -> Any:
        return self._s.get_int(fmt, off, default)

    def set_(self: Any, value: Any) -> None:
        if value.__class__ is not int or not lo <= value <= hi:
            value = _convert.to_int(value, kind, where)
        self._s.set_int(fmt, off, value, default)

    def clear(s: WireStructBuilder) -> None:
        s.set_int(fmt, off, 0)

    return Accessors(get, get, set_, clear, doc=f"{kind.name} {where}.")


def _float(slot: Slot, where: str) -> Accessors:
    kind = slot.type.kind
    ifmt, ffmt = _convert.FLOAT_FORMATS[kind]
    off = slot.offset * ffmt.size
    bits = slot.default.bits
    fast = float if kind == Kind.FLOAT64 else None

    def get(self: Any) -> Any:
        return self._s.get_float(ifmt, ffmt, off, bits)

    def set_(self: Any, value: Any) -> None:
        if value.__class__ is not fast:
            value = _convert.to_float(value, kind, where)
        self._s.set_float(ifmt, ffmt, off, value, bits)

    def clear(s: WireStructBuilder) -> None:
        s.set_int(ifmt, off, 0)

    return Accessors(get, get, set_, clear, doc=f"{kind.name} {where}.")


def _enum(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    enum_type = registry.enum_type(slot.type.type_id)
    from_raw = enum_type._from_raw
    to_raw = enum_type._to_raw
    off = slot.offset * 2
    default = int(slot.default.scalar or 0)

    def get(self: Any) -> Any:
        return from_raw(self._s.get_int(U16, off, default))

    def set_(self: Any, value: Any) -> None:
        self._s.set_int(U16, off, to_raw(value, where), default)

    def clear(s: WireStructBuilder) -> None:
        s.set_int(U16, off, 0)

    return Accessors(get, get, set_, clear, doc=f"Enum {where}.")


def _pointer_clear(index: int) -> Clear:
    def clear(s: WireStructBuilder) -> None:
        s.clear_pointer(index)

    return clear


def _text(slot: Slot, where: str) -> Accessors:
    index = slot.offset
    ptr = slot.default.pointer
    default = ptr.as_text() if ptr is not None else ""

    def rget(self: Any) -> Any:
        return self._s.get_text(index, default)

    def bget(self: Any) -> Any:
        s = self._s
        if s.is_null(index):
            if default:
                s.set_text(index, default)
            return default
        return s.get_text(index)

    def set_(self: Any, value: Any) -> None:
        if value is not None and value.__class__ is not str:
            value = _convert.to_text(value, where)
        self._s.set_text(index, value)

    def init(self: Any, size: int | None) -> str:
        if size is None:
            raise FieldTypeError(f"init() of {where} (Text) needs a size")
        value = "\0" * size
        self._s.set_text(index, value)
        return value

    return Accessors(rget, bget, set_, _pointer_clear(index), init, index, f"Text {where}.")


def _data(slot: Slot, where: str) -> Accessors:
    index = slot.offset
    ptr = slot.default.pointer
    default = ptr.as_data() if ptr is not None else b""

    def rget(self: Any) -> Any:
        return self._s.get_data(index, default)

    def bget(self: Any) -> Any:
        s = self._s
        if s.is_null(index):
            if default:
                s.set_data(index, default)
            return default
        return s.get_data(index)

    def set_(self: Any, value: Any) -> None:
        if value is not None and value.__class__ is not bytes:
            value = _convert.to_data(value, where)
        self._s.set_data(index, value)

    def init(self: Any, size: int | None) -> bytes:
        if size is None:
            raise FieldTypeError(f"init() of {where} (Data) needs a size")
        value = bytes(size)
        self._s.set_data(index, value)
        return value

    return Accessors(rget, bget, set_, _pointer_clear(index), init, index, f"Data {where}.")


def _struct(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    index = slot.offset
    struct_type = registry.struct_type(slot.type.type_id)
    reader_cls = struct_type.Reader
    builder_cls = struct_type.Builder
    node = struct_type.schema.node
    dw, pc = node.data_word_count, node.pointer_count
    ptr = slot.default.pointer
    default: WireStructReader | None = ptr.as_struct() if ptr is not None else None

    def rget(self: Any) -> Any:
        return reader_cls(self._s.get_struct(index, default))

    def bget(self: Any) -> Any:
        s = self._s
        if default is not None and s.is_null(index):
            s.set_pointer(index, default)
        return builder_cls(s.get_struct(index, dw, pc))

    def set_(self: Any, value: Any) -> None:
        s = self._s
        if value is None:
            s.clear_pointer(index)
        elif isinstance(value, Mapping):
            bget(self)._assign_dict(value)  # updates the struct, as pycapnp does
        else:
            from capnrpc_core.schema.structs import StructBuilder, StructReader

            if not isinstance(value, StructReader | StructBuilder):
                raise FieldTypeError(
                    f"{where} takes a dict or a {node.display_name} reader or builder, "
                    f"got {type(value).__name__}"
                )
            if value._layout.node.id != node.id:
                raise FieldTypeError(
                    f"{where} takes a {node.display_name}, got a {value._layout.node.display_name}"
                )
            s.set_pointer(index, value._wire())

    def init(self: Any, size: int | None) -> Any:
        if size is not None:
            raise FieldTypeError(f"{where} is a struct: init() takes no size")
        return builder_cls(self._s.init_struct(index, dw, pc))

    return Accessors(
        rget, bget, set_, _pointer_clear(index), init, index, f"{node.display_name} {where}."
    )


def _list(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    index = slot.offset
    element = slot.type.element
    assert element is not None
    codec = registry.list_codec(element)
    es = element_size(element)
    ptr = slot.default.pointer
    default: WireListReader | None = ptr.as_list(es) if ptr is not None else None

    def rget(self: Any) -> ListReader:
        return ListReader(self._s.get_list(index, es, default), codec)

    def bget(self: Any) -> ListBuilder:
        s = self._s
        if s.is_null(index):
            if default is None:
                return ListBuilder(codec.empty_builder(s.message), codec)
            s.set_pointer(index, default)
        return ListBuilder(s.get_list(index), codec)

    def set_(self: Any, value: Any) -> None:
        s = self._s
        if value is None:
            s.clear_pointer(index)
        elif isinstance(value, ListReader | ListBuilder):
            if value.codec.element != element:
                raise FieldTypeError(f"{where} takes a {codec.name}, got a {value.codec.name}")
            s.set_pointer(index, value._wire())
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
            codec.fill(codec.init_in_struct(s, index, len(value)), value, where)
        else:
            raise FieldTypeError(f"{where} takes a list, got {type(value).__name__}")

    def init(self: Any, size: int | None) -> ListBuilder:
        if size is None:
            raise FieldTypeError(f"init() of {where} ({codec.name}) needs a size")
        return ListBuilder(codec.init_in_struct(self._s, index, size), codec)

    return Accessors(rget, bget, set_, _pointer_clear(index), init, index, f"{codec.name} {where}.")


def _interface(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    index = slot.offset
    iface = registry.interface_type(slot.type.type_id)
    wrap = registry.wrap_capability
    unwrap = registry.unwrap_capability

    def rget(self: Any) -> Any:
        return wrap(iface, self._s.get_capability(index))

    def bget(self: Any) -> Any:
        return wrap(iface, self._s.get_capability(index))

    def set_(self: Any, value: Any) -> None:
        self._s.set_capability(index, None if value is None else unwrap(iface, value))

    return Accessors(rget, bget, set_, _pointer_clear(index), None, index, f"Capability {where}.")


def _any_pointer(registry: TypeRegistry, slot: Slot, where: str) -> Accessors:
    index = slot.offset
    default = slot.default.pointer

    def rget(self: Any) -> AnyPointerReader:
        s = self._s
        if default is not None and s.is_null(index):
            return AnyPointerReader(default, registry)
        return AnyPointerReader(s.get_pointer(index), registry)

    def bget(self: Any) -> AnyPointerBuilder:
        s = self._s
        if default is not None and s.is_null(index):
            s.set_pointer(index, default)
        return AnyPointerBuilder(s.get_pointer(index), registry)

    def set_(self: Any, value: Any) -> None:
        AnyPointerBuilder(self._s.get_pointer(index), registry).set(value, where)

    def init(self: Any, size: int | None) -> AnyPointerBuilder:
        if size is not None:
            raise FieldTypeError(f"{where} is an AnyPointer: init() takes no size")
        s = self._s
        s.clear_pointer(index)
        return AnyPointerBuilder(s.get_pointer(index), registry)

    return Accessors(rget, bget, set_, _pointer_clear(index), init, index, f"AnyPointer {where}.")
