"""A loaded schema file as a Python module, laid out as pycapnp's ``capnp.load`` lays it out.

``module.Person`` is a struct type, ``module.Person.PhoneNumber`` a nested one,
``module.Person.Employment`` a group type, ``module.Color`` an enum type, ``module.Calculator``
an interface type, ``module.answer`` a constant's value.
"""

from __future__ import annotations

import os
import types
from typing import Any

from capnrpc_core.schema.anypointer import AnyPointerReader
from capnrpc_core.schema.lists import ListReader, element_size
from capnrpc_core.schema.model import (
    ConstNode,
    EnumNode,
    FileNode,
    InterfaceNode,
    Kind,
    Node,
    SchemaSet,
    StructNode,
    Type,
    Value,
)
from capnrpc_core.schema.registry import TypeRegistry
from capnrpc_core.wire.reader import MessageReader
from capnrpc_core.wire.reader import StructReader as WireStructReader

__all__ = ["SchemaModule", "build_module", "constant_value"]


class SchemaModule(types.ModuleType):
    """A schema file's declarations; ``schema`` is its file node, ``registry`` its types."""

    schema: FileNode
    schemas: SchemaSet
    registry: TypeRegistry


def _empty_struct() -> WireStructReader:
    return MessageReader([bytes(8)]).get_root_struct()


def constant_value(registry: TypeRegistry, t: Type, value: Value) -> Any:
    """A constant (or default) ``value`` of type ``t`` as the struct layer would read it."""
    kind = t.kind
    ptr = value.pointer
    if kind == Kind.ENUM:
        return registry.enum_type(t.type_id)._from_raw(int(value.scalar or 0))
    if kind < Kind.TEXT:
        return None if kind == Kind.VOID else value.scalar
    if kind == Kind.TEXT:
        return ptr.as_text() if ptr is not None else ""
    if kind == Kind.DATA:
        return ptr.as_data() if ptr is not None else b""
    if kind == Kind.STRUCT:
        reader_cls = registry.struct_type(t.type_id).Reader
        return reader_cls(ptr.as_struct() if ptr is not None else _empty_struct())
    if kind == Kind.LIST:
        assert t.element is not None
        codec = registry.list_codec(t.element)
        if ptr is None:
            return ListReader(_empty_struct().get_list(0, element_size(t.element)), codec)
        return ListReader(ptr.as_list(element_size(t.element)), codec)
    if kind == Kind.ANY_POINTER and ptr is not None:
        return AnyPointerReader(ptr, registry)
    return None


_SKIP = object()


def _member(registry: TypeRegistry, node: Node) -> Any:
    """The runtime object a nested node becomes, or _SKIP for annotations and files."""
    if isinstance(node, StructNode):
        return registry.struct_type(node.id)
    if isinstance(node, EnumNode):
        return registry.enum_type(node.id)
    if isinstance(node, InterfaceNode):
        return registry.interface_type(node.id)
    if isinstance(node, ConstNode):
        return constant_value(registry, node.type, node.value)
    return _SKIP


def _free_name(owner: Any, name: str, value: Any) -> str:
    """``name``, or ``name_`` if ``owner`` has it for something else (``Reader``, ``schema``)."""
    current = getattr(owner, name, _SKIP)
    return name if current is _SKIP or current is value else name + "_"


def _attach_nested(registry: TypeRegistry, owner: Any, node: Node) -> None:
    schemas = registry.schemas
    for nested in node.nested_nodes:
        child = schemas.get(nested.id)
        if child is None:
            continue
        value = _member(registry, child)
        if value is _SKIP:
            continue
        setattr(owner, _free_name(owner, nested.name, value), value)
        if isinstance(child, StructNode | InterfaceNode):
            _attach_nested(registry, value, child)
    if isinstance(node, StructNode):
        for field in node.fields:
            if field.group_id is not None:
                group = registry.struct_type(field.group_id)
                setattr(owner, _free_name(owner, group.__name__, group), group)
                _attach_nested(registry, group, schemas.struct(field.group_id))


def build_module(
    schemas: SchemaSet,
    file_id: int | None = None,
    registry: TypeRegistry | None = None,
    path: str | os.PathLike[str] | None = None,
) -> SchemaModule:
    """The module of file ``file_id`` (default: the first requested file) of ``schemas``."""
    if file_id is None:
        if not schemas.requested_files:
            raise ValueError("the schema set names no requested file: pass file_id")
        file_id = schemas.requested_files[0].id
    if registry is None:
        registry = TypeRegistry(schemas)
    file_node = schemas.file(file_id)
    module = SchemaModule(file_node.display_name)
    module.schema = file_node
    module.schemas = schemas
    module.registry = registry
    if path is not None:
        module.__file__ = os.fspath(path)
    _attach_nested(registry, module, file_node)
    return module
