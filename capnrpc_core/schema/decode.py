"""Decode ``schema.capnp`` messages (Node, CodeGeneratorRequest) into the plain model.

This is a small hand-written reader for the parts of ``schema.capnp`` the model needs, driven
by the wire reader. The offsets below are those of the ``schema.capnp`` pycapnp ships; a test
checks every one of them against pycapnp's own view of that schema.

Schema messages are trusted input that the model keeps referring to for as long as it lives
(pointer defaults are readers into them), so they are read with an unbounded traversal budget:
a default read a million times must not exhaust it. See :data:`SCHEMA_LIMITS`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from capnrpc_core.errors import DecodeError
from capnrpc_core.schema.model import (
    EMPTY_BRAND,
    NO_DISCRIMINANT,
    Annotation,
    AnnotationNode,
    AnyKind,
    Brand,
    BrandScope,
    ConstNode,
    Enumerant,
    EnumNode,
    Field,
    FileNode,
    InterfaceNode,
    Kind,
    Method,
    NestedNode,
    Node,
    ParameterRef,
    RequestedFile,
    SchemaSet,
    Slot,
    StructNode,
    Superclass,
    Type,
    Value,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import decode_frame, encode_frame
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import ListReader, MessageReader, StructReader

__all__ = [
    "SCHEMA_LIMITS",
    "decode_code_generator_request",
    "decode_framed_node_messages",
    "decode_node",
    "decode_node_messages",
    "decode_type",
    "decode_value",
]

SCHEMA_LIMITS = ReadLimits(traversal_limit_words=1 << 62, nesting_limit=64)
"""Limits for reading schema messages: see the module docstring."""

U8 = struct.Struct("<B")
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
I8 = struct.Struct("<b")
I16 = struct.Struct("<h")
I32 = struct.Struct("<i")
I64 = struct.Struct("<q")
F32 = struct.Struct("<f")
F64 = struct.Struct("<d")

_COMPOSITE = ElementSize.INLINE_COMPOSITE
_POINTER = ElementSize.POINTER

# Byte offsets (bit offsets for bools) and pointer indexes inside schema.capnp structs. The
# names follow schema.capnp: NODE_STRUCT_FIELDS is Node.struct.fields, and so on.
NODE_ID = 0
NODE_DISPLAY_NAME = 0
NODE_PREFIX_LENGTH = 8
NODE_SCOPE_ID = 16
NODE_NESTED = 1
NODE_ANNOTATIONS = 2
NODE_WHICH = 12
NODE_PARAMETERS = 5
NODE_IS_GENERIC_BIT = 288
NODE_STRUCT_DATA_WORDS = 14
NODE_STRUCT_POINTERS = 24
NODE_STRUCT_PREFERRED = 26
NODE_STRUCT_IS_GROUP_BIT = 224
NODE_STRUCT_DISCRIMINANT_COUNT = 30
NODE_STRUCT_DISCRIMINANT_OFFSET = 32
NODE_STRUCT_FIELDS = 3
NODE_ENUM_ENUMERANTS = 3
NODE_INTERFACE_METHODS = 3
NODE_INTERFACE_SUPERCLASSES = 4
NODE_CONST_TYPE = 3
NODE_CONST_VALUE = 4
NODE_ANNOTATION_TYPE = 3
NODE_ANNOTATION_TARGETS_BIT = 112
ANNOTATION_TARGETS = (
    "file",
    "const",
    "enum",
    "enumerant",
    "struct",
    "field",
    "union",
    "group",
    "interface",
    "method",
    "param",
    "annotation",
)
NODE_FILE, NODE_STRUCT, NODE_ENUM, NODE_INTERFACE, NODE_CONST, NODE_ANNOTATION = range(6)

NESTED_NAME = 0
NESTED_ID = 0
PARAMETER_NAME = 0

FIELD_NAME = 0
FIELD_CODE_ORDER = 0
FIELD_ANNOTATIONS = 1
FIELD_DISCRIMINANT_VALUE = 2  # default 0xffff: stored XORed
FIELD_WHICH = 8
FIELD_SLOT_OFFSET = 4
FIELD_SLOT_TYPE = 2
FIELD_SLOT_DEFAULT = 3
FIELD_SLOT_HAD_EXPLICIT_DEFAULT_BIT = 128
FIELD_GROUP_TYPE_ID = 16
FIELD_ORDINAL_WHICH = 10
FIELD_ORDINAL_EXPLICIT = 12

ENUMERANT_NAME = 0
ENUMERANT_CODE_ORDER = 0
ENUMERANT_ANNOTATIONS = 1

SUPERCLASS_ID = 0
SUPERCLASS_BRAND = 0

METHOD_NAME = 0
METHOD_CODE_ORDER = 0
METHOD_PARAM_STRUCT = 8
METHOD_RESULT_STRUCT = 16
METHOD_ANNOTATIONS = 1
METHOD_PARAM_BRAND = 2
METHOD_RESULT_BRAND = 3
METHOD_IMPLICIT_PARAMETERS = 4

TYPE_WHICH = 0
TYPE_LIST_ELEMENT = 0
TYPE_ID = 8
TYPE_BRAND = 0
TYPE_ANY_WHICH = 8
TYPE_ANY_UNCONSTRAINED_WHICH = 10
TYPE_ANY_PARAMETER_SCOPE = 16
TYPE_ANY_PARAMETER_INDEX = 10

BRAND_SCOPES = 0
SCOPE_ID = 0
SCOPE_WHICH = 8
SCOPE_BIND = 0
BINDING_WHICH = 0
BINDING_TYPE = 0

VALUE_WHICH = 0
VALUE_POINTER = 0
VALUE_BOOL_BIT = 16

ANNOTATION_ID = 0
ANNOTATION_VALUE = 0
ANNOTATION_BRAND = 1

CGR_NODES = 0
CGR_REQUESTED_FILES = 1
REQUESTED_FILE_ID = 0
REQUESTED_FILE_NAME = 0
REQUESTED_FILE_IMPORTS = 1
IMPORT_ID = 0
IMPORT_NAME = 0

# Value union: discriminant -> (byte offset, scalar format, unsigned format) for scalar kinds.
_VALUE_SCALARS: dict[int, tuple[int, struct.Struct, struct.Struct]] = {
    Kind.INT8: (2, I8, U8),
    Kind.INT16: (2, I16, U16),
    Kind.INT32: (4, I32, U32),
    Kind.INT64: (8, I64, U64),
    Kind.UINT8: (2, U8, U8),
    Kind.UINT16: (2, U16, U16),
    Kind.UINT32: (4, U32, U32),
    Kind.UINT64: (8, U64, U64),
    Kind.FLOAT32: (4, F32, U32),
    Kind.FLOAT64: (8, F64, U64),
    Kind.ENUM: (2, U16, U16),
}


def _structs(s: StructReader, index: int) -> Iterable[StructReader]:
    lst = s.get_list(index, _COMPOSITE)
    return (lst.get_struct(i) for i in range(len(lst)))


def decode_brand(s: StructReader) -> Brand:
    """Decode a ``Brand``."""
    scopes: list[BrandScope] = []
    for sc in _structs(s, BRAND_SCOPES):
        scope_id = sc.get_int(U64, SCOPE_ID)
        if sc.get_int(U16, SCOPE_WHICH) == 0:
            bindings: list[Type | None] = []
            for b in _structs(sc, SCOPE_BIND):
                if b.get_int(U16, BINDING_WHICH) == 1:
                    bindings.append(decode_type(b.get_struct(BINDING_TYPE)))
                else:
                    bindings.append(None)
            scopes.append(BrandScope(scope_id, tuple(bindings)))
        else:
            scopes.append(BrandScope(scope_id, None))
    return Brand(tuple(scopes)) if scopes else EMPTY_BRAND


def _brand_at(s: StructReader, index: int) -> Brand:
    if s.is_null(index):
        return EMPTY_BRAND
    return decode_brand(s.get_struct(index))


def decode_type(s: StructReader) -> Type:
    """Decode a ``Type``."""
    which = s.get_int(U16, TYPE_WHICH)
    try:
        kind = Kind(which)
    except ValueError:
        raise DecodeError(f"unknown schema Type kind {which}") from None
    if kind == Kind.LIST:
        return Type(kind, element=decode_type(s.get_struct(TYPE_LIST_ELEMENT)))
    if kind in (Kind.ENUM, Kind.STRUCT, Kind.INTERFACE):
        return Type(kind, type_id=s.get_int(U64, TYPE_ID), brand=_brand_at(s, TYPE_BRAND))
    if kind == Kind.ANY_POINTER:
        any_which = s.get_int(U16, TYPE_ANY_WHICH)
        if any_which == 0:
            return Type(kind, any_kind=AnyKind(s.get_int(U16, TYPE_ANY_UNCONSTRAINED_WHICH) & 3))
        index = s.get_int(U16, TYPE_ANY_PARAMETER_INDEX)
        if any_which == 1:
            scope = s.get_int(U64, TYPE_ANY_PARAMETER_SCOPE)
            return Type(kind, parameter=ParameterRef(scope, index))
        return Type(kind, parameter=ParameterRef(0, index, implicit=True))
    return Type(kind)


def decode_value(s: StructReader) -> Value:
    """Decode a ``Value``."""
    which = s.get_int(U16, VALUE_WHICH)
    try:
        kind = Kind(which)
    except ValueError:
        raise DecodeError(f"unknown schema Value kind {which}") from None
    if kind == Kind.BOOL:
        flag = s.get_bool(VALUE_BOOL_BIT)
        return Value(kind, flag, int(flag))
    scalar = _VALUE_SCALARS.get(kind)
    if scalar is not None:
        off, fmt, ufmt = scalar
        return Value(
            kind,
            s.get_int(fmt, off)
            if kind < Kind.FLOAT32 or kind == Kind.ENUM
            else s.get_float(ufmt, fmt, off),
            s.get_int(ufmt, off),
        )
    if kind in (Kind.VOID, Kind.INTERFACE):
        return Value(kind)
    pointer = None if s.is_null(VALUE_POINTER) else s.get_pointer(VALUE_POINTER)
    return Value(kind, pointer=pointer)


def _value_at(s: StructReader, index: int) -> Value:
    if s.is_null(index):
        return Value(Kind.VOID)
    return decode_value(s.get_struct(index))


def _annotations(s: StructReader, index: int) -> tuple[Annotation, ...]:
    if s.is_null(index):
        return ()
    return tuple(
        Annotation(
            a.get_int(U64, ANNOTATION_ID),
            _value_at(a, ANNOTATION_VALUE),
            _brand_at(a, ANNOTATION_BRAND),
        )
        for a in _structs(s, index)
    )


def decode_field(s: StructReader) -> Field:
    """Decode a ``Field``."""
    disc = s.get_int(U16, FIELD_DISCRIMINANT_VALUE, NO_DISCRIMINANT)
    ordinal = (
        s.get_int(U16, FIELD_ORDINAL_EXPLICIT) if s.get_int(U16, FIELD_ORDINAL_WHICH) == 1 else None
    )
    slot: Slot | None = None
    group_id: int | None = None
    if s.get_int(U16, FIELD_WHICH) == 0:
        slot = Slot(
            offset=s.get_int(U32, FIELD_SLOT_OFFSET),
            type=decode_type(s.get_struct(FIELD_SLOT_TYPE)),
            default=_value_at(s, FIELD_SLOT_DEFAULT),
            had_explicit_default=s.get_bool(FIELD_SLOT_HAD_EXPLICIT_DEFAULT_BIT),
        )
    else:
        group_id = s.get_int(U64, FIELD_GROUP_TYPE_ID)
    return Field(
        name=s.get_text(FIELD_NAME),
        code_order=s.get_int(U16, FIELD_CODE_ORDER),
        discriminant_value=None if disc == NO_DISCRIMINANT else disc,
        ordinal=ordinal,
        slot=slot,
        group_id=group_id,
        annotations=_annotations(s, FIELD_ANNOTATIONS),
    )


def _parameter_names(s: StructReader, index: int) -> tuple[str, ...]:
    if s.is_null(index):
        return ()
    return tuple(p.get_text(PARAMETER_NAME) for p in _structs(s, index))


def decode_method(s: StructReader, ordinal: int) -> Method:
    """Decode a ``Method``; ``ordinal`` is its index in the interface's method list."""
    return Method(
        name=s.get_text(METHOD_NAME),
        ordinal=ordinal,
        code_order=s.get_int(U16, METHOD_CODE_ORDER),
        param_struct_id=s.get_int(U64, METHOD_PARAM_STRUCT),
        result_struct_id=s.get_int(U64, METHOD_RESULT_STRUCT),
        param_brand=_brand_at(s, METHOD_PARAM_BRAND),
        result_brand=_brand_at(s, METHOD_RESULT_BRAND),
        implicit_parameters=_parameter_names(s, METHOD_IMPLICIT_PARAMETERS),
        annotations=_annotations(s, METHOD_ANNOTATIONS),
    )


def decode_node(s: StructReader) -> Node:
    """Decode a ``Node``."""
    common = {
        "id": s.get_int(U64, NODE_ID),
        "display_name": s.get_text(NODE_DISPLAY_NAME),
        "display_name_prefix_length": s.get_int(U32, NODE_PREFIX_LENGTH),
        "scope_id": s.get_int(U64, NODE_SCOPE_ID),
        "nested_nodes": tuple(
            NestedNode(n.get_text(NESTED_NAME), n.get_int(U64, NESTED_ID))
            for n in _structs(s, NODE_NESTED)
        ),
        "parameters": _parameter_names(s, NODE_PARAMETERS),
        "is_generic": s.get_bool(NODE_IS_GENERIC_BIT),
        "annotations": _annotations(s, NODE_ANNOTATIONS),
    }
    which = s.get_int(U16, NODE_WHICH)
    if which == NODE_FILE:
        return FileNode(**common)  # type: ignore[arg-type]
    if which == NODE_STRUCT:
        return StructNode(
            **common,  # type: ignore[arg-type]
            data_word_count=s.get_int(U16, NODE_STRUCT_DATA_WORDS),
            pointer_count=s.get_int(U16, NODE_STRUCT_POINTERS),
            preferred_list_encoding=s.get_int(U16, NODE_STRUCT_PREFERRED),
            is_group=s.get_bool(NODE_STRUCT_IS_GROUP_BIT),
            discriminant_count=s.get_int(U16, NODE_STRUCT_DISCRIMINANT_COUNT),
            discriminant_offset=s.get_int(U32, NODE_STRUCT_DISCRIMINANT_OFFSET),
            fields=tuple(decode_field(f) for f in _structs(s, NODE_STRUCT_FIELDS)),
        )
    if which == NODE_ENUM:
        return EnumNode(
            **common,  # type: ignore[arg-type]
            enumerants=tuple(
                Enumerant(
                    e.get_text(ENUMERANT_NAME),
                    e.get_int(U16, ENUMERANT_CODE_ORDER),
                    _annotations(e, ENUMERANT_ANNOTATIONS),
                )
                for e in _structs(s, NODE_ENUM_ENUMERANTS)
            ),
        )
    if which == NODE_INTERFACE:
        return InterfaceNode(
            **common,  # type: ignore[arg-type]
            methods=tuple(
                decode_method(m, i) for i, m in enumerate(_structs(s, NODE_INTERFACE_METHODS))
            ),
            superclasses=tuple(
                Superclass(c.get_int(U64, SUPERCLASS_ID), _brand_at(c, SUPERCLASS_BRAND))
                for c in _structs(s, NODE_INTERFACE_SUPERCLASSES)
            ),
        )
    if which == NODE_CONST:
        return ConstNode(
            **common,  # type: ignore[arg-type]
            type=decode_type(s.get_struct(NODE_CONST_TYPE)),
            value=_value_at(s, NODE_CONST_VALUE),
        )
    if which == NODE_ANNOTATION:
        return AnnotationNode(
            **common,  # type: ignore[arg-type]
            type=decode_type(s.get_struct(NODE_ANNOTATION_TYPE)),
            targets=frozenset(
                name
                for i, name in enumerate(ANNOTATION_TARGETS)
                if s.get_bool(NODE_ANNOTATION_TARGETS_BIT + i)
            ),
        )
    raise DecodeError(f"unknown schema Node kind {which} (node {common['id']:#x})")


def decode_node_messages(
    messages: Iterable[Sequence[bytes | memoryview] | bytes | memoryview],
) -> SchemaSet:
    """A schema set from node messages, each a list of segments or one single-segment buffer."""
    schemas = SchemaSet()
    for msg in messages:
        segments: list[bytes | memoryview] = (
            [msg] if isinstance(msg, bytes | memoryview) else list(msg)
        )
        node = decode_node(MessageReader(segments, limits=SCHEMA_LIMITS).get_root_struct())
        schemas.add(node)
        schemas.node_messages.setdefault(node.id, encode_frame(segments))
    return schemas


def decode_framed_node_messages(frames: Iterable[bytes]) -> SchemaSet:
    """A schema set from framed node messages (:attr:`SchemaSet.node_messages` values)."""
    return decode_node_messages(decode_frame(frame, SCHEMA_LIMITS) for frame in frames)


def decode_code_generator_request(segments: Sequence[bytes | memoryview]) -> SchemaSet:
    """A schema set from a ``CodeGeneratorRequest`` (what ``capnp compile -o-`` writes).

    The requested files are in :attr:`SchemaSet.requested_files`.
    """
    root = MessageReader(segments, limits=SCHEMA_LIMITS).get_root_struct()
    schemas = SchemaSet()
    nodes: ListReader = root.get_list(CGR_NODES, _COMPOSITE)
    for i in range(len(nodes)):
        struct_reader = nodes.get_struct(i)
        node = decode_node(struct_reader)
        schemas.add(node)
        # Each node also gets a message of its own, for generated modules to embed.
        copy = MessageBuilder(max(struct_reader.total_size_words() + 1, 16))
        copy.set_root(struct_reader)
        schemas.node_messages.setdefault(node.id, encode_frame(copy.segments()))
    for rf in _structs(root, CGR_REQUESTED_FILES):
        schemas.requested_files.append(
            RequestedFile(
                rf.get_int(U64, REQUESTED_FILE_ID),
                rf.get_text(REQUESTED_FILE_NAME),
                tuple(
                    (imp.get_int(U64, IMPORT_ID), imp.get_text(IMPORT_NAME))
                    for imp in _structs(rf, REQUESTED_FILE_IMPORTS)
                ),
            )
        )
    return schemas
