"""Typed structs: the pycapnp-compatible surface over the wire readers and builders.

Every struct node gets a type ``T`` (a subclass of :class:`Struct`, never instantiated) with two
classes: ``T.Reader`` (a view of a struct in a received message) and ``T.Builder`` (a struct
being written). Field access is a property per field whose getter and setter are closures made
once per type, with the field's offsets, ``struct.Struct`` and default bound in, so an access
is one call into the wire layer.

pycapnp semantics kept on purpose:

- reading a union member that is not set raises (:class:`UnionMemberError`); ``which`` names
  the member that is set (``msg.which == "foo"`` and ``msg.which() == "foo"`` both work);
- a builder getter of a null struct field creates the struct; one of a null pointer field with
  an explicit default copies the default into the message first, as C++ does;
- ``to_dict()`` lists the union member that is set, then every non-union field except null
  pointers (``verbose=True`` includes those too);
- Text is ``str``, Data ``bytes``, Void ``None``; enums read as :class:`Enumerant`.

Also accepted, beyond pycapnp: ``None`` for any pointer field clears it.
"""

from __future__ import annotations

import base64
import keyword
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from capnrpc_core.schema import _convert
from capnrpc_core.schema.enums import Enumerant, UnionMember
from capnrpc_core.schema.errors import (
    FieldTypeError,
    NoSuchFieldError,
)
from capnrpc_core.schema.lists import ListBuilder, ListReader
from capnrpc_core.schema.model import Field, Kind, StructNode
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.framing import decode_frame, encode_frame, frame_size
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.packing import pack, unpack
from capnrpc_core.wire.reader import MessageReader
from capnrpc_core.wire.reader import StructReader as WireStructReader

if TYPE_CHECKING:
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = [
    "Struct",
    "StructBuilder",
    "StructReader",
    "StructSchema",
    "build_struct_fields",
    "make_struct_type",
]

U16 = _convert.U16
U8 = struct.Struct("<B")
U64 = struct.Struct("<Q")

RESERVED = frozenset(
    {
        "which",
        "to_dict",
        "as_builder",
        "as_reader",
        "init",
        "to_bytes",
        "to_bytes_packed",
        "to_segments",
        "schema",
        "copy",
        "clear_write_flag",
        "total_size_words",
        "wire",
    }
)


def attribute_name(field_name: str) -> str:
    """The Python attribute of a field: its name, with ``_`` appended if that is taken."""
    if keyword.iskeyword(field_name) or field_name in RESERVED or field_name.startswith("_"):
        return field_name + "_"
    return field_name


class StructSchema:
    """pycapnp-style view of a struct node (``T.schema``)."""

    __slots__ = ("fieldnames", "fields", "node", "non_union_fields", "union_fields")

    def __init__(self, node: StructNode) -> None:
        self.node = node
        self.fieldnames: tuple[str, ...] = tuple(f.name for f in node.fields)
        self.union_fields: tuple[str, ...] = tuple(f.name for f in node.union_fields)
        self.non_union_fields: tuple[str, ...] = tuple(f.name for f in node.non_union_fields)
        self.fields: dict[str, Field] = {f.name: f for f in node.fields}

    @property
    def id(self) -> int:
        """The node id."""
        return self.node.id

    def __repr__(self) -> str:
        return f"<schema for {self.node.display_name}>"


# -- the bases ---------------------------------------------------------------------------------


class _Layout:
    """Per-type tables the shared methods consult (built by :func:`build_struct_fields`)."""

    __slots__ = (
        "builder_getters",
        "clear",
        "dict_plan",
        "disc_offset",
        "has_index",
        "inits",
        "members",
        "node",
        "reader_getters",
        "setters",
        "union_plan",
    )

    def __init__(self, node: StructNode) -> None:
        self.node = node
        self.disc_offset = node.discriminant_offset * 2 if node.discriminant_count else -1
        self.members: dict[int, UnionMember] = {}
        self.reader_getters: dict[str, Callable[[Any], Any]] = {}
        self.builder_getters: dict[str, Callable[[Any], Any]] = {}
        self.setters: dict[str, Callable[[Any, Any], None]] = {}
        self.inits: dict[str, Callable[[Any, int | None], Any]] = {}
        self.has_index: dict[str, int] = {}
        # to_dict: non-union fields as (name, reader getter, pointer index or -1)
        self.dict_plan: list[tuple[str, Callable[[Any], Any], int]] = []
        # to_dict: union members as (name, reader getter, pointer index, struct id or 0)
        self.union_plan: dict[int, tuple[str, Callable[[Any], Any], int, int]] = {}
        self.clear: list[Callable[[WireStructBuilder], None]] = []


class Struct:
    """Base of struct types (``module.MyStruct``); the type is never instantiated."""

    schema: ClassVar[StructSchema]
    Reader: ClassVar[type[StructReader]]
    Builder: ClassVar[type[StructBuilder]]
    _registry: ClassVar[TypeRegistry]

    def __new__(cls, *args: object, **kwargs: object) -> Struct:
        raise TypeError(
            f"{cls.__name__} is a struct type: use {cls.__name__}.new_message(...) "
            f"or {cls.__name__}.from_bytes(...)"
        )

    @classmethod
    def new_message(cls, num_first_segment_words: int | None = None, **fields: Any) -> Any:
        """A new message with this struct as its root, fields set from ``fields``."""
        node = cls.schema.node
        if node.is_group:
            raise FieldTypeError(f"{node.display_name} is a group; it cannot be a message root")
        msg = MessageBuilder(num_first_segment_words or 1024)
        builder = cls.Builder(msg.init_root(node.data_word_count, node.pointer_count), True)
        if fields:
            builder._assign_dict(fields)
        return builder

    @classmethod
    def from_segments(
        cls,
        segments: list[bytes] | list[memoryview] | tuple[bytes, ...],
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        caps: tuple[object, ...] | list[object] = (),
    ) -> Any:
        """A reader of a message given as its segments (and, for RPC, its cap table)."""
        limits = _limits(traversal_limit_in_words, nesting_limit)
        return cls.Reader(MessageReader(segments, caps, limits).get_root_struct())

    @classmethod
    def from_bytes(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
        builder: bool = False,
    ) -> Any:
        """A reader (or with ``builder=True`` a builder copy) of one framed message.

        The reader is also a context manager, so pycapnp's ``with T.from_bytes(b) as r:`` works
        as well as ``r = T.from_bytes(b)``. Bytes after the first message are ignored, as in
        pycapnp.
        """
        limits = _limits(traversal_limit_in_words, nesting_limit)
        size = frame_size(buf, limits)
        if size is not None and size < len(buf):
            buf = memoryview(buf)[:size]
        reader = cls.Reader(MessageReader(decode_frame(buf, limits), (), limits).get_root_struct())
        return reader.as_builder() if builder else reader

    @classmethod
    def from_bytes_packed(
        cls,
        buf: bytes | bytearray | memoryview,
        traversal_limit_in_words: int | None = None,
        nesting_limit: int | None = None,
    ) -> Any:
        """A reader of one packed, framed message."""
        limits = _limits(traversal_limit_in_words, nesting_limit)
        data = unpack(buf, max_bytes=limits.max_frame_bytes)
        return cls.from_bytes(data, traversal_limit_in_words, nesting_limit)


def _limits(traversal_limit_in_words: int | None, nesting_limit: int | None) -> ReadLimits:
    if traversal_limit_in_words is None and nesting_limit is None:
        return DEFAULT_LIMITS
    return ReadLimits(
        traversal_limit_words=(
            DEFAULT_LIMITS.traversal_limit_words
            if traversal_limit_in_words is None
            else traversal_limit_in_words
        ),
        nesting_limit=DEFAULT_LIMITS.nesting_limit if nesting_limit is None else nesting_limit,
    )


_NO_IDS: frozenset[int] = frozenset()


def _py(value: Any, verbose: bool, ordered: bool, b64: bool) -> Any:
    """A field value as to_dict shows it."""
    cls = value.__class__
    if value is None or cls is int or cls is float or cls is str or cls is bool:
        return value
    if isinstance(value, Enumerant):
        return str(value)
    if isinstance(value, StructReader | StructBuilder):
        return value.to_dict(verbose, ordered, b64)
    if isinstance(value, ListReader | ListBuilder):
        return [_py(v, verbose, ordered, b64) for v in value]
    if cls is bytes and b64:
        return base64.b64encode(value).decode("ascii")
    return value


class StructReader:
    """Base of ``T.Reader``: a struct in a message being read."""

    __slots__ = ("_s",)
    _struct: ClassVar[type[Struct]]
    _layout: ClassVar[_Layout]

    def __init__(self, s: WireStructReader) -> None:
        self._s = s

    @property
    def schema(self) -> StructSchema:
        """The struct's schema."""
        return self._struct.schema

    @property
    def wire(self) -> WireStructReader:
        """The untyped wire-level struct."""
        return self._s

    def _wire(self) -> WireStructReader:
        return self._s

    @property
    def which(self) -> UnionMember:
        """The union member that is set (see :class:`UnionMember`)."""
        layout = self._layout
        if layout.disc_offset < 0:
            _no_union(layout.node)
        raw: int = self._s.get_int(U16, layout.disc_offset)
        return layout.members.get(raw) or UnionMember("", raw)

    def _which_str(self) -> str:
        return str(self.which)

    def _get(self, name: str) -> Any:
        getter = self._layout.reader_getters.get(name)
        if getter is None:
            _no_field(self._layout.node, name)
        return getter(self)

    def _has(self, name: str) -> bool:
        return _has(self, self._layout, name, self._s.is_null)

    def to_dict(
        self, verbose: bool = False, ordered: bool = False, encode_bytes_as_base64: bool = False
    ) -> dict[str, Any]:
        """The struct as a dict, like pycapnp's ``to_dict`` (see the module docstring)."""
        out: dict[str, Any] = self._to_dict(verbose, ordered, encode_bytes_as_base64, _NO_IDS)
        return out

    def _to_dict(self, verbose: bool, ordered: bool, b64: bool, seen: frozenset[int]) -> Any:
        layout = self._layout
        out: dict[str, Any] = OrderedDict() if ordered else {}
        s = self._s
        if layout.disc_offset >= 0:
            member = layout.union_plan.get(s.get_int(U16, layout.disc_offset))
            if member is not None:
                name, getter, ptr, struct_id = member
                if struct_id and s.is_null(ptr):
                    # A null struct member reads as its default, whose union may again be a
                    # null member of the same type (rpc.capnp's Message): stop at the repeat.
                    if struct_id in seen:
                        out[name] = {}
                    else:
                        out[name] = getter(self)._to_dict(verbose, ordered, b64, seen | {struct_id})
                else:
                    out[name] = _py(getter(self), verbose, ordered, b64)
        for name, getter, ptr in layout.dict_plan:
            if ptr < 0 or verbose or not s.is_null(ptr):
                out[name] = _py(getter(self), verbose, ordered, b64)
        return out

    def as_builder(self, num_first_segment_words: int | None = None) -> Any:
        """A builder of a copy of this struct, as the root of a new message."""
        node = self._layout.node
        msg = MessageBuilder(num_first_segment_words or 1024)
        msg.set_root(self._s)
        root = msg.get_root_struct(node.data_word_count, node.pointer_count)
        return self._struct.Builder(root, True)

    def to_bytes(self) -> bytes:
        """This struct copied as the root of a new framed message."""
        builder: StructBuilder = self.as_builder()
        return builder.to_bytes()

    def total_size_words(self) -> int:
        """Words this struct and everything it points to take up."""
        return self._s.total_size_words()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __getattr__(self, name: str) -> NoReturn:
        _no_field(self._layout.node, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._layout.reader_getters))

    def __repr__(self) -> str:
        from capnrpc_core.schema.text import struct_to_text

        return f"<{self._layout.node.display_name} reader {struct_to_text(self)}>"

    def __str__(self) -> str:
        from capnrpc_core.schema.text import struct_to_text

        return struct_to_text(self)


class StructBuilder:
    """Base of ``T.Builder``: a struct in a message being built."""

    __slots__ = ("_root", "_s")
    _struct: ClassVar[type[Struct]]
    _layout: ClassVar[_Layout]

    def __init__(self, s: WireStructBuilder, root: bool = False) -> None:
        _set_s(self, s)
        _set_root(self, root)

    @property
    def schema(self) -> StructSchema:
        """The struct's schema."""
        return self._struct.schema

    @property
    def wire(self) -> WireStructBuilder:
        """The untyped wire-level struct."""
        return self._s

    def _wire(self) -> WireStructReader:
        return self._s.as_reader()

    def __setattr__(self, name: str, value: Any) -> None:
        setter = self._layout.setters.get(name)
        if setter is None:
            _no_field(self._layout.node, name)
        setter(self, value)

    def _set(self, name: str, value: Any) -> None:
        self.__setattr__(name, value)

    def _get(self, name: str) -> Any:
        getter = self._layout.builder_getters.get(name)
        if getter is None:
            _no_field(self._layout.node, name)
        return getter(self)

    def _has(self, name: str) -> bool:
        return _has(self, self._layout, name, self._s.is_null)

    @property
    def which(self) -> UnionMember:
        """The union member that is set (see :class:`UnionMember`)."""
        layout = self._layout
        if layout.disc_offset < 0:
            _no_union(layout.node)
        raw: int = self._s.get_int(U16, layout.disc_offset)
        return layout.members.get(raw) or UnionMember("", raw)

    def _which_str(self) -> str:
        return str(self.which)

    def init(self, name: str, size: int | None = None) -> Any:
        """Initialise a struct, list, group or AnyPointer field (lists need ``size``).

        For a union member this also makes it the member that is set.
        """
        init = self._layout.inits.get(str(name))
        if init is None:
            if str(name) not in self._layout.setters:
                _no_field(self._layout.node, str(name))
            raise FieldTypeError(
                f"init() is for struct, list, group, Text, Data and AnyPointer fields; "
                f"field {name!r} of {self._layout.node.display_name} is none of these"
            )
        return init(self, size)

    def _assign_dict(self, values: Mapping[str, Any]) -> None:
        setters = self._layout.setters
        for name, value in values.items():
            if name == "which":
                continue
            setter = setters.get(name)
            if setter is None:
                _no_field(self._layout.node, name)
            setter(self, value)

    def _assign(self, value: Any, where: str) -> None:
        """Set this whole struct (or group) from a dict or a reader/builder of the same type."""
        if isinstance(value, Mapping):
            self._assign_dict(value)
            return
        if isinstance(value, StructReader | StructBuilder):
            if value._layout.node.id != self._layout.node.id:
                raise FieldTypeError(
                    f"{where} takes a {self._layout.node.display_name}, "
                    f"got a {value._layout.node.display_name}"
                )
            if self._layout.node.is_group:
                if isinstance(value, StructBuilder):
                    value = value.as_reader()
                for name, getter in value._layout.reader_getters.items():
                    if name in value._layout.has_index and not value._has(name):
                        continue
                    if _union_member_inactive(value, name):
                        continue
                    self._layout.setters[name](self, getter(value))
            else:
                _copy_struct_into(self._s, value._wire())
            return
        raise FieldTypeError(
            f"{where} takes a dict or a {self._layout.node.display_name} reader or builder, "
            f"got {type(value).__name__}"
        )

    def to_dict(
        self, verbose: bool = False, ordered: bool = False, encode_bytes_as_base64: bool = False
    ) -> dict[str, Any]:
        """The struct as a dict (see :meth:`StructReader.to_dict`)."""
        reader: StructReader = self.as_reader()
        return reader.to_dict(verbose, ordered, encode_bytes_as_base64)

    def as_reader(self) -> Any:
        """A reader over this struct (a live view of the message, not a copy)."""
        return self._struct.Reader(self._s.as_reader())

    def as_builder(self, num_first_segment_words: int | None = None) -> Any:
        """A builder of a copy of this struct in a new message."""
        return self.as_reader().as_builder(num_first_segment_words)

    def copy(self, num_first_segment_words: int | None = None) -> Any:
        """A copy of this struct as the root of a new message."""
        return self.as_builder(num_first_segment_words)

    def _message(self) -> MessageBuilder:
        if self._root:
            return self._s.message
        copy: StructBuilder = self.as_builder()
        return copy._s.message

    def to_segments(self) -> list[bytes]:
        """The message's segments (a non-root struct is copied into a message of its own)."""
        return self._message().segments()

    def to_bytes(self) -> bytes:
        """The message as one framed byte string (segment table + segments)."""
        return encode_frame(self._message().segments())

    def to_bytes_packed(self) -> bytes:
        """The message framed and packed."""
        return pack(self.to_bytes())

    def clear_write_flag(self) -> None:
        """Accepted for pycapnp compatibility; there is no write flag here."""

    def total_size_words(self) -> int:
        """Words this struct and everything it points to take up."""
        return self._s.as_reader().total_size_words()

    def __getattr__(self, name: str) -> NoReturn:
        _no_field(self._layout.node, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._layout.builder_getters))

    def __repr__(self) -> str:
        from capnrpc_core.schema.text import struct_to_text

        return f"<{self._layout.node.display_name} builder {struct_to_text(self.as_reader())}>"

    def __str__(self) -> str:
        from capnrpc_core.schema.text import struct_to_text

        return struct_to_text(self.as_reader())


# The slots' own setters: ``__setattr__`` is for fields, and ``object.__setattr__`` is slower.
_set_s: Callable[[StructBuilder, WireStructBuilder], None] = StructBuilder.__dict__["_s"].__set__
_set_root: Callable[[StructBuilder, bool], None] = StructBuilder.__dict__["_root"].__set__


def _no_field(node: StructNode, name: str) -> NoReturn:
    raise NoSuchFieldError(f"{node.display_name} has no field {name!r}")


def _no_union(node: StructNode) -> NoReturn:
    raise FieldTypeError(f"{node.display_name} has no union: which is meaningless")


def _has(obj: Any, layout: _Layout, name: str, is_null: Callable[[int], bool]) -> bool:
    if name not in layout.reader_getters:
        _no_field(layout.node, name)
    if _union_member_inactive(obj, name):
        return False
    ptr = layout.has_index.get(name, -1)
    return ptr < 0 or not is_null(ptr)


def _union_member_inactive(obj: Any, name: str) -> bool:
    layout = obj._layout
    field = layout.node.field(name)
    if field.discriminant_value is None:
        return False
    return bool(obj._s.get_int(U16, layout.disc_offset) != field.discriminant_value)


def _copy_struct_into(dst: WireStructBuilder, src: WireStructReader) -> None:
    """Copy ``src``'s data and pointers into the struct ``dst`` (in place, e.g. a list element)."""
    dsize = min(dst.data_size_bytes, src.data_size_bytes)
    words, rest = divmod(dsize, 8)
    for w in range(words):
        dst.set_int(U64, w * 8, src.get_int(U64, w * 8))
    for b in range(words * 8, words * 8 + rest):
        dst.set_int(U8, b, src.get_int(U8, b))
    for i in range(min(dst.pointer_count, src.pointer_count)):
        dst.set_pointer(i, src.get_pointer(i))


# -- type construction -------------------------------------------------------------------------


def make_struct_type(registry: TypeRegistry, node: StructNode, name: str) -> type[Struct]:
    """An empty struct type for ``node`` (fields are added by :func:`build_struct_fields`).

    Made in two steps so that types referring to each other (or to themselves) can be built.
    """
    layout = _Layout(node)
    module, _, qualname = node.display_name.rpartition(":")
    ns: dict[str, Any] = {
        "__slots__": (),
        "__module__": module,
        "__qualname__": qualname or name,
        "schema": StructSchema(node),
        "_registry": registry,
        "__doc__": f"Struct ``{node.display_name}``.",
    }
    struct_type: type[Struct] = type(name, (Struct,), ns)
    reader = type(
        "Reader",
        (StructReader,),
        {
            "__slots__": (),
            "_struct": struct_type,
            "_layout": layout,
            "__module__": module,
            "__qualname__": f"{qualname or name}.Reader",
            "__doc__": f"A ``{node.display_name}`` being read.",
        },
    )
    builder = type(
        "Builder",
        (StructBuilder,),
        {
            "__slots__": (),
            "_struct": struct_type,
            "_layout": layout,
            "__module__": module,
            "__qualname__": f"{qualname or name}.Builder",
            "__doc__": f"A ``{node.display_name}`` being built.",
        },
    )
    struct_type.Reader = reader
    struct_type.Builder = builder
    return struct_type


def build_struct_fields(registry: TypeRegistry, struct_type: type[Struct]) -> None:
    """Add the field properties and the layout tables to a type from :func:`make_struct_type`."""
    from capnrpc_core.schema.fields import make_field_accessors

    reader = struct_type.Reader
    builder = struct_type.Builder
    layout = reader._layout
    node = layout.node
    for field in node.fields:
        acc = make_field_accessors(registry, node, field)
        attr = attribute_name(field.name)
        names = {attr, field.name} if keyword.iskeyword(field.name) else {attr}
        for n in names:
            setattr(reader, n, property(acc.reader_get, doc=acc.doc))
            setattr(builder, n, property(acc.builder_get, doc=acc.doc))
            layout.setters[n] = acc.builder_set
            if acc.init is not None:
                layout.inits[n] = acc.init
        layout.reader_getters[field.name] = acc.reader_get
        layout.builder_getters[field.name] = acc.builder_get
        layout.setters[field.name] = acc.builder_set
        if acc.init is not None:
            layout.inits[field.name] = acc.init
        if acc.pointer >= 0:
            layout.has_index[field.name] = acc.pointer
        layout.clear.append(acc.clear)
        if field.discriminant_value is not None:
            layout.members[field.discriminant_value] = UnionMember(
                field.name, field.discriminant_value
            )
            slot_type = field.slot.type if field.slot is not None else None
            struct_id = slot_type.type_id if slot_type and slot_type.kind == Kind.STRUCT else 0
            layout.union_plan[field.discriminant_value] = (
                field.name,
                acc.reader_get,
                acc.pointer,
                struct_id,
            )
        else:
            layout.dict_plan.append((field.name, acc.reader_get, acc.pointer))
