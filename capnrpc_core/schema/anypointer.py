"""``AnyPointer`` values: a pointer whose type the schema leaves open, viewed as the caller says.

Like pycapnp's ``_DynamicObjectReader``/``Builder``: ``as_struct(T)``, ``as_list(element)``,
``as_text()``, ``as_data()``, ``as_interface(I)``; builders add ``set(value)``,
``init_as_struct(T)``, ``init_as_list(element, n)`` and ``set_as_text``/``set_as_data``.

``element`` for lists is a model :class:`~capnrpc_core.schema.model.Type`, a struct or enum type,
or the name of a primitive type (``"int32"``, ``"text"``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capnrpc_core.schema.errors import FieldTypeError
from capnrpc_core.schema.lists import ListBuilder, ListCodec, ListReader
from capnrpc_core.schema.model import Kind, Type
from capnrpc_core.wire.builder import PointerBuilder as WirePointerBuilder
from capnrpc_core.wire.reader import AnyPointerReader as WireAnyPointerReader

if TYPE_CHECKING:
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = ["AnyPointerBuilder", "AnyPointerReader", "element_type"]

_PRIMITIVES = {k.name.lower().replace("_", ""): k for k in Kind if k < Kind.LIST}


def element_type(spec: object) -> Type:
    """A list element type from ``spec`` (see the module docstring)."""
    if isinstance(spec, Type):
        return spec
    if isinstance(spec, str):
        kind = _PRIMITIVES.get(spec.lower().replace("_", ""))
        if kind is None:
            raise FieldTypeError(f"unknown primitive type name {spec!r}")
        return Type(kind)
    node = getattr(spec, "schema", None)
    node = getattr(node, "node", node)
    kind_name = type(node).__name__
    node_id = getattr(node, "id", None)
    if isinstance(node_id, int):
        if kind_name == "StructNode":
            return Type(Kind.STRUCT, type_id=node_id)
        if kind_name == "EnumNode":
            return Type(Kind.ENUM, type_id=node_id)
        if kind_name == "InterfaceNode":
            return Type(Kind.INTERFACE, type_id=node_id)
    raise FieldTypeError(f"cannot use {spec!r} as a list element type")


def _struct_classes(spec: Any) -> Any:
    if hasattr(spec, "Reader") and hasattr(spec, "Builder"):
        return spec
    raise FieldTypeError(f"as_struct() needs a struct type, got {spec!r}")


class AnyPointerReader:
    """An ``AnyPointer`` read from a message."""

    __slots__ = ("_p", "_registry")

    def __init__(self, pointer: WireAnyPointerReader, registry: TypeRegistry) -> None:
        self._p = pointer
        self._registry = registry

    def is_null(self) -> bool:
        """Whether the pointer is null."""
        return self._p.is_null()

    def kind(self) -> str:
        """``"null"``, ``"struct"``, ``"list"``, ``"capability"`` or ``"other"``."""
        return self._p.kind()

    def as_struct(self, struct_type: Any) -> Any:
        """The pointed-to struct as a reader of ``struct_type``."""
        return _struct_classes(struct_type).Reader(self._p.as_struct())

    def as_list(self, element: object) -> ListReader:
        """The pointed-to list, with elements of ``element`` type."""
        codec = self._registry.list_codec(element_type(element))
        return ListReader(self._p.as_list(codec.element_size), codec)

    def as_text(self) -> str:
        """The pointed-to Text."""
        return self._p.as_text()

    def as_data(self) -> bytes:
        """The pointed-to Data."""
        return self._p.as_data()

    def as_capability(self) -> object | None:
        """The capability the pointer refers to (its cap table entry), or None."""
        return self._p.as_capability()

    def as_interface(self, interface_type: Any) -> object | None:
        """The capability, wrapped as ``interface_type`` by the registry's hook."""
        return self._registry.wrap_capability(interface_type, self._p.as_capability())

    @property
    def wire(self) -> WireAnyPointerReader:
        """The untyped wire-level pointer."""
        return self._p

    def __repr__(self) -> str:
        return f"<AnyPointer reader {self._p.kind()}>"


class AnyPointerBuilder:
    """An ``AnyPointer`` slot in a message being built."""

    __slots__ = ("_p", "_registry")

    def __init__(self, pointer: WirePointerBuilder, registry: TypeRegistry) -> None:
        self._p = pointer
        self._registry = registry

    def is_null(self) -> bool:
        """Whether the slot is null."""
        return self._p.is_null()

    def kind(self) -> str:
        """What the slot holds, as :meth:`AnyPointerReader.kind`."""
        return self._p.as_reader().kind()

    def clear(self) -> None:
        """Make the slot null."""
        self._p.clear()

    def as_struct(self, struct_type: Any) -> Any:
        """The struct in the slot as a builder of ``struct_type`` (created if null)."""
        cls = _struct_classes(struct_type)
        node = cls.schema.node
        return cls.Builder(self._p.get_struct(node.data_word_count, node.pointer_count))

    def init_as_struct(self, struct_type: Any) -> Any:
        """Put a new struct of ``struct_type`` in the slot and return its builder."""
        cls = _struct_classes(struct_type)
        node = cls.schema.node
        return cls.Builder(self._p.init_struct(node.data_word_count, node.pointer_count))

    def as_list(self, element: object) -> ListBuilder:
        """The list in the slot, with elements of ``element`` type."""
        codec = self._codec(element)
        if self._p.is_null():
            return ListBuilder(codec.empty_builder(self._p.message), codec)
        return ListBuilder(self._p.get_list(), codec)

    def init_as_list(self, element: object, size: int) -> ListBuilder:
        """Put a new list of ``size`` elements of ``element`` type in the slot."""
        codec = self._codec(element)
        return ListBuilder(codec.init_in_pointer(self._p, size), codec)

    def _codec(self, element: object) -> ListCodec:
        return self._registry.list_codec(element_type(element))

    def as_text(self) -> str:
        """The Text in the slot."""
        return self._p.as_reader().as_text()

    def as_data(self) -> bytes:
        """The Data in the slot."""
        return self._p.as_reader().as_data()

    def as_capability(self) -> object | None:
        """The capability in the slot, or None."""
        return self._p.as_reader().as_capability()

    def as_interface(self, interface_type: Any) -> object | None:
        """The capability, wrapped as ``interface_type`` by the registry's hook."""
        return self._registry.wrap_capability(interface_type, self.as_capability())

    def set_as_text(self, value: str) -> None:
        """Store Text in the slot."""
        self._p.set_text(value)

    def set_as_data(self, value: bytes) -> None:
        """Store Data in the slot."""
        self._p.set_data(value)

    def set_as_capability(self, cap: object | None) -> None:
        """Store a capability (a typed client is unwrapped by the registry's hook)."""
        self._p.set_capability(None if cap is None else self._registry.unwrap_capability(None, cap))

    def set(self, value: object, where: str = "an AnyPointer") -> None:
        """Store a copy of ``value``: struct/list/AnyPointer reader or builder, str, bytes, None."""
        from capnrpc_core.schema.structs import StructBuilder, StructReader

        if value is None:
            self._p.clear()
        elif isinstance(value, StructReader | StructBuilder | ListReader | ListBuilder):
            self._p.set_from(value._wire())
        elif isinstance(value, AnyPointerReader):
            self._p.set_from(value._p)
        elif isinstance(value, AnyPointerBuilder):
            self._p.set_from(value._p.as_reader())
        elif isinstance(value, str):
            self._p.set_text(value)
        elif isinstance(value, bytes | bytearray | memoryview):
            self._p.set_data(bytes(value))
        else:
            raise FieldTypeError(
                f"{where} takes a struct or list (reader or builder), str, bytes or None; "
                f"got {type(value).__name__}"
            )

    def as_reader(self) -> AnyPointerReader:
        """A reader over the slot (a live view)."""
        return AnyPointerReader(self._p.as_reader(), self._registry)

    @property
    def wire(self) -> WirePointerBuilder:
        """The untyped wire-level slot."""
        return self._p

    def __repr__(self) -> str:
        return f"<AnyPointer builder {self.kind()}>"
