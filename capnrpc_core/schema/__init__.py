"""The schema layer: ``.capnp`` files as a plain model and as typed, pycapnp-like Python types.

``load(path)`` parses a schema file (with pycapnp's parser, in a child process) and returns a
module whose struct types offer ``new_message``, ``from_bytes``, attribute access, ``which``,
``init``, ``to_dict`` and ``to_bytes`` as pycapnp's do, over capnrpc's own wire layer.

Names here that repeat the wire layer's (``StructReader``, ``ListBuilder``, ``AnyPointerReader``)
are the *typed* views; the untyped ones are in :mod:`capnrpc_core.wire`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from capnrpc_core.schema.anypointer import AnyPointerBuilder, AnyPointerReader
from capnrpc_core.schema.capabilities import Interface
from capnrpc_core.schema.decode import decode_code_generator_request, decode_framed_node_messages
from capnrpc_core.schema.enums import Enum, Enumerant, UnionMember
from capnrpc_core.schema.errors import (
    FieldTypeError,
    FieldValueError,
    NoSuchFieldError,
    SchemaParseError,
    UnionMemberError,
)
from capnrpc_core.schema.lists import ListBuilder, ListReader
from capnrpc_core.schema.loader import default_import_path, parse_file, schema_set_from_pycapnp
from capnrpc_core.schema.model import SchemaSet
from capnrpc_core.schema.module import SchemaModule, build_module
from capnrpc_core.schema.registry import TypeRegistry
from capnrpc_core.schema.structs import Struct, StructBuilder, StructReader

__all__ = [
    "AnyPointerBuilder",
    "AnyPointerReader",
    "Enum",
    "Enumerant",
    "FieldTypeError",
    "FieldValueError",
    "Interface",
    "ListBuilder",
    "ListReader",
    "NoSuchFieldError",
    "SchemaModule",
    "SchemaParseError",
    "SchemaSet",
    "Struct",
    "StructBuilder",
    "StructReader",
    "TypeRegistry",
    "UnionMember",
    "UnionMemberError",
    "build_module",
    "decode_code_generator_request",
    "decode_framed_node_messages",
    "default_import_path",
    "load",
    "load_node_messages",
    "parse_file",
    "schema_set_from_pycapnp",
]


def load(
    path: str | os.PathLike[str], imports: Sequence[str | os.PathLike[str]] = ()
) -> SchemaModule:
    """Load a ``.capnp`` file as a module, as ``capnp.load`` does (pycapnp needed to parse).

    ``imports`` are searched, before pycapnp's package directory and the system include
    directories, for ``import "/..."`` paths.
    """
    schemas = parse_file(path, imports)
    return build_module(schemas, path=path)


def load_node_messages(frames: Sequence[bytes], file_id: int, name: str = "") -> SchemaModule:
    """A module from framed node messages (no pycapnp): what a generated module calls.

    ``frames`` are :attr:`SchemaSet.node_messages` values covering the file ``file_id`` and
    everything it refers to.
    """
    schemas = decode_framed_node_messages(frames)
    module = build_module(schemas, file_id)
    if name:
        module.__name__ = name
    return module
