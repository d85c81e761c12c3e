"""The plain schema model: Cap'n Proto schema nodes as small frozen values.

A schema is a set of nodes keyed by 64-bit id, exactly as ``schema.capnp`` describes them; the
model keeps what the runtime and the code generator need and nothing from pycapnp. Nodes refer
to each other only by id, so a :class:`SchemaSet` is the unit that gets built (from pycapnp's
parser, a ``capnp compile -o-`` request or node messages embedded in a generated module) and
looked up.

Defaults of pointer type (Text, Data, lists, structs, AnyPointer) stay what they are on the wire:
an :class:`~capnrpc_core.wire.reader.AnyPointerReader` into the node message they came from, so
they can be copied into a message or read as a default without a second encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from capnrpc_core.wire.reader import AnyPointerReader

__all__ = [
    "STREAM_RESULT_ID",
    "AnnotationNode",
    "AnyKind",
    "Brand",
    "BrandScope",
    "ConstNode",
    "EnumNode",
    "Enumerant",
    "Field",
    "FileNode",
    "InterfaceNode",
    "Kind",
    "Method",
    "NestedNode",
    "Node",
    "ParameterRef",
    "RequestedFile",
    "SchemaSet",
    "Slot",
    "StructNode",
    "Superclass",
    "Type",
    "Value",
]

STREAM_RESULT_ID = 0x995F9A3377C0B16E
"""Id of ``stream.capnp``'s ``StreamResult``: a method returning it is a streaming method."""

NO_DISCRIMINANT = 0xFFFF


class Kind(IntEnum):
    """What a type is; the values are ``schema.capnp``'s ``Type`` union discriminants."""

    VOID = 0
    BOOL = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    UINT8 = 6
    UINT16 = 7
    UINT32 = 8
    UINT64 = 9
    FLOAT32 = 10
    FLOAT64 = 11
    TEXT = 12
    DATA = 13
    LIST = 14
    ENUM = 15
    STRUCT = 16
    INTERFACE = 17
    ANY_POINTER = 18

    @property
    def is_pointer(self) -> bool:
        """Whether values of this kind live in the pointer section."""
        return self >= Kind.TEXT and self != Kind.ENUM


class AnyKind(IntEnum):
    """What an unconstrained ``AnyPointer`` may hold (AnyStruct, AnyList, Capability)."""

    ANY = 0
    STRUCT = 1
    LIST = 2
    CAPABILITY = 3


@dataclass(frozen=True, slots=True)
class ParameterRef:
    """An ``AnyPointer`` that stands for a generic parameter.

    ``scope_id`` is the generic node declaring it; for an implicit method parameter it is the
    interface id and ``implicit`` is set.
    """

    scope_id: int
    index: int
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class BrandScope:
    """Bindings for one generic scope: ``bindings`` None means inherit from the enclosing scope.

    A binding of None is an unbound parameter (reads as ``AnyPointer``).
    """

    scope_id: int
    bindings: tuple[Type | None, ...] | None


@dataclass(frozen=True, slots=True)
class Brand:
    """How the generic parameters of a type (and its enclosing scopes) are bound."""

    scopes: tuple[BrandScope, ...] = ()

    def binding(self, scope_id: int, index: int) -> Type | None:
        """The type bound to parameter ``index`` of ``scope_id``, or None if unbound/inherited."""
        for scope in self.scopes:
            if scope.scope_id == scope_id and scope.bindings is not None:
                if index < len(scope.bindings):
                    return scope.bindings[index]
                return None
        return None


EMPTY_BRAND = Brand()


@dataclass(frozen=True, slots=True)
class Type:
    """A field, constant or list element type.

    ``element`` is set for lists, ``type_id`` and ``brand`` for enums, structs and interfaces,
    ``any_kind`` and ``parameter`` for ``AnyPointer``.
    """

    kind: Kind
    element: Type | None = None
    type_id: int = 0
    brand: Brand = EMPTY_BRAND
    any_kind: AnyKind = AnyKind.ANY
    parameter: ParameterRef | None = None

    def __repr__(self) -> str:
        if self.kind == Kind.LIST:
            return f"List({self.element!r})"
        if self.kind in (Kind.ENUM, Kind.STRUCT, Kind.INTERFACE):
            return f"{self.kind.name.lower()}:{self.type_id:#x}"
        if self.kind == Kind.ANY_POINTER and self.parameter is not None:
            return f"param:{self.parameter.scope_id:#x}[{self.parameter.index}]"
        return self.kind.name.lower()


@dataclass(frozen=True, slots=True, eq=False)
class Value:
    """A default or constant value.

    Scalars (bool, numbers, enum ordinals) are in ``scalar``, with ``bits`` their wire bit pattern
    (unsigned) -- the XOR mask a reader applies. Text, Data, lists, structs and AnyPointer keep
    their encoded form in ``pointer`` (None when the pointer is null); interface values have none.
    """

    kind: Kind
    scalar: bool | int | float | None = None
    bits: int = 0
    pointer: AnyPointerReader | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Annotation:
    """An annotation applied to a node, field, enumerant or method."""

    id: int
    value: Value
    brand: Brand = EMPTY_BRAND


@dataclass(frozen=True, slots=True, eq=False)
class Slot:
    """A field stored in the struct itself.

    ``offset`` is in units of the field's own size (bits for Bool, pointer index for pointers).
    """

    offset: int
    type: Type
    default: Value
    had_explicit_default: bool


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """A struct field: a slot or a group (``group_id``).

    ``discriminant_value`` is None unless the field is a member of its struct's union;
    ``ordinal`` is the explicit ``@N`` (None for groups).
    """

    name: str
    code_order: int
    discriminant_value: int | None
    ordinal: int | None
    slot: Slot | None
    group_id: int | None
    annotations: tuple[Annotation, ...] = ()

    @property
    def is_group(self) -> bool:
        """Whether this field is a group (or a named union)."""
        return self.group_id is not None


@dataclass(frozen=True, slots=True)
class NestedNode:
    """A name declared inside a node's scope."""

    name: str
    id: int


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """Fields every node has."""

    id: int
    display_name: str
    display_name_prefix_length: int
    scope_id: int
    nested_nodes: tuple[NestedNode, ...]
    parameters: tuple[str, ...]
    is_generic: bool
    annotations: tuple[Annotation, ...]

    @property
    def short_name(self) -> str:
        """The node's own name, without its scope (``Foo`` for ``file.capnp:Outer.Foo``)."""
        return self.display_name[self.display_name_prefix_length :]


@dataclass(frozen=True, slots=True, eq=False)
class FileNode(Node):
    """A ``.capnp`` file."""


@dataclass(frozen=True, slots=True, eq=False)
class StructNode(Node):
    """A struct, or a group inside one (``is_group``)."""

    data_word_count: int
    pointer_count: int
    preferred_list_encoding: int
    is_group: bool
    discriminant_count: int
    discriminant_offset: int
    fields: tuple[Field, ...]

    @property
    def union_fields(self) -> tuple[Field, ...]:
        """Members of this struct's (unnamed) union, in declaration order."""
        return tuple(f for f in self.fields if f.discriminant_value is not None)

    @property
    def non_union_fields(self) -> tuple[Field, ...]:
        """Fields outside the union, in declaration order."""
        return tuple(f for f in self.fields if f.discriminant_value is None)

    def field(self, name: str) -> Field:
        """The field called ``name`` (KeyError if there is none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.display_name} has no field {name!r}")


@dataclass(frozen=True, slots=True, eq=False)
class Enumerant:
    """One enum value; its ordinal is its position in :attr:`EnumNode.enumerants`."""

    name: str
    code_order: int
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class EnumNode(Node):
    """An enum."""

    enumerants: tuple[Enumerant, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Method:
    """An interface method; ``ordinal`` is its method id on the wire."""

    name: str
    ordinal: int
    code_order: int
    param_struct_id: int
    result_struct_id: int
    param_brand: Brand
    result_brand: Brand
    implicit_parameters: tuple[str, ...] = ()
    annotations: tuple[Annotation, ...] = ()

    @property
    def is_streaming(self) -> bool:
        """Whether the method is declared ``-> stream``."""
        return self.result_struct_id == STREAM_RESULT_ID


@dataclass(frozen=True, slots=True)
class Superclass:
    """An interface this one extends."""

    id: int
    brand: Brand = EMPTY_BRAND


@dataclass(frozen=True, slots=True, eq=False)
class InterfaceNode(Node):
    """An interface."""

    methods: tuple[Method, ...]
    superclasses: tuple[Superclass, ...]

    def method(self, name: str) -> Method:
        """The method called ``name`` (KeyError if there is none; superclasses not searched)."""
        for m in self.methods:
            if m.name == name:
                return m
        raise KeyError(f"{self.display_name} has no method {name!r}")


@dataclass(frozen=True, slots=True, eq=False)
class ConstNode(Node):
    """A constant."""

    type: Type
    value: Value


@dataclass(frozen=True, slots=True, eq=False)
class AnnotationNode(Node):
    """An annotation declaration; ``targets`` are schema.capnp's names (``"struct"``, ...)."""

    type: Type
    targets: frozenset[str]


@dataclass(frozen=True, slots=True)
class RequestedFile:
    """A file a schema set was loaded for, with the names it imports (``(id, name)`` pairs)."""

    id: int
    filename: str
    imports: tuple[tuple[int, str], ...] = ()


N = TypeVar("N", bound=Node)


@dataclass(eq=False)
class SchemaSet(Mapping[int, Node]):
    """Nodes by id: what one or more loaded schema files declare and depend on."""

    nodes: dict[int, Node] = field(default_factory=dict)
    requested_files: list[RequestedFile] = field(default_factory=list)
    node_messages: dict[int, bytes] = field(default_factory=dict)
    """Each node as a framed ``schema.capnp`` Node message (what a generated module embeds)."""

    def __getitem__(self, node_id: int) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"no schema node with id {node_id:#x}") from None

    def __iter__(self) -> Iterator[int]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def add(self, node: Node) -> None:
        """Add ``node``; a node already present under its id is kept (ids are unique)."""
        self.nodes.setdefault(node.id, node)

    def update(self, nodes: Iterable[Node]) -> None:
        """Add several nodes."""
        for node in nodes:
            self.add(node)

    def _typed(self, node_id: int, cls: type[N]) -> N:
        node = self[node_id]
        if not isinstance(node, cls):
            raise TypeError(
                f"schema node {node.display_name} ({node_id:#x}) is a "
                f"{type(node).__name__}, not a {cls.__name__}"
            )
        return node

    def struct(self, node_id: int) -> StructNode:
        """The struct node ``node_id``."""
        return self._typed(node_id, StructNode)

    def enum(self, node_id: int) -> EnumNode:
        """The enum node ``node_id``."""
        return self._typed(node_id, EnumNode)

    def interface(self, node_id: int) -> InterfaceNode:
        """The interface node ``node_id``."""
        return self._typed(node_id, InterfaceNode)

    def const(self, node_id: int) -> ConstNode:
        """The const node ``node_id``."""
        return self._typed(node_id, ConstNode)

    def file(self, node_id: int) -> FileNode:
        """The file node ``node_id``."""
        return self._typed(node_id, FileNode)

    def find(self, display_name: str) -> Node:
        """The node whose display name is ``display_name`` (``"file.capnp:Outer.Inner"``)."""
        for node in self.nodes.values():
            if node.display_name == display_name:
                return node
        raise KeyError(f"no schema node named {display_name!r}")

    def all_methods(self, interface_id: int) -> list[tuple[InterfaceNode, Method]]:
        """Methods of an interface and, after them, of its superclasses (each interface once)."""
        out: list[tuple[InterfaceNode, Method]] = []
        seen: set[int] = set()
        stack = [interface_id]
        while stack:
            iid = stack.pop(0)
            if iid in seen:
                continue
            seen.add(iid)
            iface = self.interface(iid)
            out.extend((iface, m) for m in iface.methods)
            stack.extend(s.id for s in iface.superclasses)
        return out
