"""The hand-written schema.capnp offsets in decode.py agree with pycapnp's schema.capnp."""

from __future__ import annotations

from typing import Any

import pytest

from capnrpc_core.schema import decode
from capnrpc_core.schema.model import AnyKind, Kind
from tests.schema.conftest import PYCAPNP_DIR, pycapnp_load

SIZES = {
    "uint8": 1,
    "int8": 1,
    "uint16": 2,
    "int16": 2,
    "enum": 2,
    "uint32": 4,
    "int32": 4,
    "float32": 4,
    "uint64": 8,
    "int64": 8,
    "float64": 8,
}
POINTERS = {"text", "data", "list", "struct", "anyPointer", "interface"}
WHICH = "<which>"

# constant in decode.py -> (struct path in schema.capnp, field name or WHICH)
CHECKS: list[tuple[str, str, str]] = [
    ("NODE_ID", "Node", "id"),
    ("NODE_DISPLAY_NAME", "Node", "displayName"),
    ("NODE_PREFIX_LENGTH", "Node", "displayNamePrefixLength"),
    ("NODE_SCOPE_ID", "Node", "scopeId"),
    ("NODE_NESTED", "Node", "nestedNodes"),
    ("NODE_ANNOTATIONS", "Node", "annotations"),
    ("NODE_WHICH", "Node", WHICH),
    ("NODE_PARAMETERS", "Node", "parameters"),
    ("NODE_IS_GENERIC_BIT", "Node", "isGeneric"),
    ("NODE_STRUCT_DATA_WORDS", "Node.struct", "dataWordCount"),
    ("NODE_STRUCT_POINTERS", "Node.struct", "pointerCount"),
    ("NODE_STRUCT_PREFERRED", "Node.struct", "preferredListEncoding"),
    ("NODE_STRUCT_IS_GROUP_BIT", "Node.struct", "isGroup"),
    ("NODE_STRUCT_DISCRIMINANT_COUNT", "Node.struct", "discriminantCount"),
    ("NODE_STRUCT_DISCRIMINANT_OFFSET", "Node.struct", "discriminantOffset"),
    ("NODE_STRUCT_FIELDS", "Node.struct", "fields"),
    ("NODE_ENUM_ENUMERANTS", "Node.enum", "enumerants"),
    ("NODE_INTERFACE_METHODS", "Node.interface", "methods"),
    ("NODE_INTERFACE_SUPERCLASSES", "Node.interface", "superclasses"),
    ("NODE_CONST_TYPE", "Node.const", "type"),
    ("NODE_CONST_VALUE", "Node.const", "value"),
    ("NODE_ANNOTATION_TYPE", "Node.annotation", "type"),
    ("NODE_ANNOTATION_TARGETS_BIT", "Node.annotation", "targetsFile"),
    ("NESTED_NAME", "Node.NestedNode", "name"),
    ("NESTED_ID", "Node.NestedNode", "id"),
    ("PARAMETER_NAME", "Node.Parameter", "name"),
    ("FIELD_NAME", "Field", "name"),
    ("FIELD_CODE_ORDER", "Field", "codeOrder"),
    ("FIELD_ANNOTATIONS", "Field", "annotations"),
    ("FIELD_DISCRIMINANT_VALUE", "Field", "discriminantValue"),
    ("FIELD_WHICH", "Field", WHICH),
    ("FIELD_SLOT_OFFSET", "Field.slot", "offset"),
    ("FIELD_SLOT_TYPE", "Field.slot", "type"),
    ("FIELD_SLOT_DEFAULT", "Field.slot", "defaultValue"),
    ("FIELD_SLOT_HAD_EXPLICIT_DEFAULT_BIT", "Field.slot", "hadExplicitDefault"),
    ("FIELD_GROUP_TYPE_ID", "Field.group", "typeId"),
    ("FIELD_ORDINAL_WHICH", "Field.ordinal", WHICH),
    ("FIELD_ORDINAL_EXPLICIT", "Field.ordinal", "explicit"),
    ("ENUMERANT_NAME", "Enumerant", "name"),
    ("ENUMERANT_CODE_ORDER", "Enumerant", "codeOrder"),
    ("ENUMERANT_ANNOTATIONS", "Enumerant", "annotations"),
    ("SUPERCLASS_ID", "Superclass", "id"),
    ("SUPERCLASS_BRAND", "Superclass", "brand"),
    ("METHOD_NAME", "Method", "name"),
    ("METHOD_CODE_ORDER", "Method", "codeOrder"),
    ("METHOD_PARAM_STRUCT", "Method", "paramStructType"),
    ("METHOD_RESULT_STRUCT", "Method", "resultStructType"),
    ("METHOD_ANNOTATIONS", "Method", "annotations"),
    ("METHOD_PARAM_BRAND", "Method", "paramBrand"),
    ("METHOD_RESULT_BRAND", "Method", "resultBrand"),
    ("METHOD_IMPLICIT_PARAMETERS", "Method", "implicitParameters"),
    ("TYPE_WHICH", "Type", WHICH),
    ("TYPE_LIST_ELEMENT", "Type.list", "elementType"),
    ("TYPE_ID", "Type.struct", "typeId"),
    ("TYPE_ID", "Type.enum", "typeId"),
    ("TYPE_ID", "Type.interface", "typeId"),
    ("TYPE_BRAND", "Type.struct", "brand"),
    ("TYPE_BRAND", "Type.enum", "brand"),
    ("TYPE_BRAND", "Type.interface", "brand"),
    ("TYPE_ANY_WHICH", "Type.anyPointer", WHICH),
    ("TYPE_ANY_UNCONSTRAINED_WHICH", "Type.anyPointer.unconstrained", WHICH),
    ("TYPE_ANY_PARAMETER_SCOPE", "Type.anyPointer.parameter", "scopeId"),
    ("TYPE_ANY_PARAMETER_INDEX", "Type.anyPointer.parameter", "parameterIndex"),
    ("TYPE_ANY_PARAMETER_INDEX", "Type.anyPointer.implicitMethodParameter", "parameterIndex"),
    ("BRAND_SCOPES", "Brand", "scopes"),
    ("SCOPE_ID", "Brand.Scope", "scopeId"),
    ("SCOPE_WHICH", "Brand.Scope", WHICH),
    ("SCOPE_BIND", "Brand.Scope", "bind"),
    ("BINDING_WHICH", "Brand.Binding", WHICH),
    ("BINDING_TYPE", "Brand.Binding", "type"),
    ("VALUE_WHICH", "Value", WHICH),
    ("VALUE_POINTER", "Value", "text"),
    ("VALUE_POINTER", "Value", "data"),
    ("VALUE_POINTER", "Value", "list"),
    ("VALUE_POINTER", "Value", "struct"),
    ("VALUE_POINTER", "Value", "anyPointer"),
    ("VALUE_BOOL_BIT", "Value", "bool"),
    ("ANNOTATION_ID", "Annotation", "id"),
    ("ANNOTATION_VALUE", "Annotation", "value"),
    ("ANNOTATION_BRAND", "Annotation", "brand"),
    ("CGR_NODES", "CodeGeneratorRequest", "nodes"),
    ("CGR_REQUESTED_FILES", "CodeGeneratorRequest", "requestedFiles"),
    ("REQUESTED_FILE_ID", "CodeGeneratorRequest.RequestedFile", "id"),
    ("REQUESTED_FILE_NAME", "CodeGeneratorRequest.RequestedFile", "filename"),
    ("REQUESTED_FILE_IMPORTS", "CodeGeneratorRequest.RequestedFile", "imports"),
    ("IMPORT_ID", "CodeGeneratorRequest.RequestedFile.Import", "id"),
    ("IMPORT_NAME", "CodeGeneratorRequest.RequestedFile.Import", "name"),
]


@pytest.fixture(scope="module")
def schema_capnp() -> Any:
    return pycapnp_load(PYCAPNP_DIR / "schema.capnp")


def resolve(module: Any, path: str) -> Any:
    """The pycapnp struct schema at ``path`` (groups by field name, nested types by name)."""
    parts = path.split(".")
    current = getattr(module, parts[0])
    sch = current.schema
    for part in parts[1:]:
        if part in sch.fieldnames and sch.fields[part].proto.which() == "group":
            sch = sch.fields[part].schema
            current = None
        else:
            current = getattr(current, part)
            sch = current.schema
    return sch


def expected_offset(sch: Any, field: str) -> int:
    """The byte offset, bit offset (bools) or pointer index of ``field``."""
    node = sch.node.struct
    if field == WHICH:
        assert node.discriminantCount > 0
        return node.discriminantOffset * 2
    proto = sch.fields[field].proto
    assert proto.which() == "slot", f"{field} is not a slot"
    kind = proto.slot.type.which()
    offset = proto.slot.offset
    if kind == "bool":
        return offset
    if kind in POINTERS:
        return offset
    return offset * SIZES[kind]


@pytest.mark.parametrize(("constant", "path", "field"), CHECKS)
def test_offset(schema_capnp: Any, constant: str, path: str, field: str) -> None:
    assert getattr(decode, constant) == expected_offset(resolve(schema_capnp, path), field)


def test_annotation_targets_are_consecutive_bits(schema_capnp: Any) -> None:
    sch = resolve(schema_capnp, "Node.annotation")
    for i, name in enumerate(decode.ANNOTATION_TARGETS):
        field = "targets" + name[0].upper() + name[1:]
        assert expected_offset(sch, field) == decode.NODE_ANNOTATION_TARGETS_BIT + i


def test_value_scalar_offsets(schema_capnp: Any) -> None:
    sch = resolve(schema_capnp, "Value")
    for kind, (offset, fmt, ufmt) in decode._VALUE_SCALARS.items():
        name = kind.name.lower()
        assert offset == expected_offset(sch, name), kind
        assert fmt.size == ufmt.size == SIZES[name]


def test_union_discriminants(schema_capnp: Any) -> None:
    def discriminants(path: str) -> dict[str, int]:
        sch = resolve(schema_capnp, path)
        return {
            f.name: f.discriminantValue
            for f in sch.node.struct.fields
            if f.discriminantValue != 0xFFFF
        }

    node = discriminants("Node")
    assert [node[n] for n in ("file", "struct", "enum", "interface", "const", "annotation")] == [
        decode.NODE_FILE,
        decode.NODE_STRUCT,
        decode.NODE_ENUM,
        decode.NODE_INTERFACE,
        decode.NODE_CONST,
        decode.NODE_ANNOTATION,
    ]
    for path in ("Type", "Value"):
        for name, value in discriminants(path).items():
            assert Kind[_snake(name).upper()] == value, (path, name)
    unconstrained = discriminants("Type.anyPointer.unconstrained")
    assert {AnyKind[_snake(n).upper()].value: v for n, v in unconstrained.items()} == {
        v: v for v in unconstrained.values()
    }
    assert discriminants("Field") == {"slot": 0, "group": 1}
    assert discriminants("Field.ordinal") == {"implicit": 0, "explicit": 1}
    assert discriminants("Brand.Scope") == {"bind": 0, "inherit": 1}
    assert discriminants("Brand.Binding") == {"unbound": 0, "type": 1}
    assert discriminants("Type.anyPointer") == {
        "unconstrained": 0,
        "parameter": 1,
        "implicitMethodParameter": 2,
    }


def _snake(name: str) -> str:
    if name == "anyKind":
        return "any"
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
