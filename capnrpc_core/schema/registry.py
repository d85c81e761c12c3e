"""The runtime types of one schema set: struct, enum and interface types and list codecs, by id.

Types are made on first use and cached, so a schema with hundreds of nodes costs only what is
touched. Types from one registry refer to each other directly; a struct's reader accepts any
reader of the same node id as a value, whichever registry made it.

A struct type is published in the cache only once its fields are built, so a lookup without a
lock never sees a half-made type. Making types holds :func:`set_type_lock`'s lock, a no-op
unless a driver that runs application code on several threads installs a re-entrant lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from capnrpc_core.schema._convert import KIND_NAMES
from capnrpc_core.schema.capabilities import Interface
from capnrpc_core.schema.enums import Enum, make_enum_type
from capnrpc_core.schema.interfaces import make_client_type, wrap_capability
from capnrpc_core.schema.lists import ListCodec, make_list_codec
from capnrpc_core.schema.model import Kind, SchemaSet, Type
from capnrpc_core.schema.structs import Struct, build_struct_fields, make_struct_type

__all__ = ["TypeRegistry", "set_type_lock"]

_type_lock: AbstractContextManager[Any] = contextlib.nullcontext()


def set_type_lock(lock: AbstractContextManager[Any]) -> None:
    """Hold ``lock`` (re-entrant, e.g. ``threading.RLock()``) while types are made."""
    global _type_lock
    _type_lock = lock


CapabilityHook = Callable[[Any, object], object]


class TypeRegistry:
    """Runtime types for the nodes of ``schemas``.

    ``capability_wrapper(interface_type, cap)`` turns a cap-table entry read from a capability
    field into what the application sees; ``capability_unwrapper(interface_type, value)`` does
    the reverse on write. Both default to the identity (the RPC layer sets them).
    """

    def __init__(
        self,
        schemas: SchemaSet,
        capability_wrapper: CapabilityHook | None = None,
        capability_unwrapper: CapabilityHook | None = None,
    ) -> None:
        self.schemas = schemas
        # Received capabilities become typed clients (schema.interfaces); other values pass.
        self.capability_wrapper = capability_wrapper or wrap_capability
        self.capability_unwrapper = capability_unwrapper
        self._structs: dict[int, type[Struct]] = {}
        self._enums: dict[int, type[Enum]] = {}
        self._interfaces: dict[int, type[Interface]] = {}
        self._codecs: dict[Type, ListCodec] = {}
        self._pending: list[type[Struct]] = []
        self._building: dict[int, type[Struct]] = {}

    def struct_type(self, node_id: int) -> type[Struct]:
        """The struct type (or group type) of node ``node_id``."""
        cls = self._structs.get(node_id)
        if cls is not None:
            return cls
        with _type_lock:
            cls = self._structs.get(node_id) or self._building.get(node_id)
            if cls is not None:
                return cls
            node = self.schemas.struct(node_id)
            cls = make_struct_type(self, node, _class_name(node.short_name, node.is_group))
            self._building[node_id] = cls
            # Fields are filled in once the outermost request is done, so that types referring
            # to each other see each other's (empty) classes instead of recursing without end.
            self._pending.append(cls)
            if len(self._pending) == 1:
                try:
                    while self._pending:
                        build_struct_fields(self, self._pending[0])
                        self._pending.pop(0)
                except BaseException:
                    self._pending.clear()
                    self._building.clear()
                    raise
                self._structs.update(self._building)
                self._building.clear()
            return cls

    def enum_type(self, node_id: int) -> type[Enum]:
        """The enum type of node ``node_id``."""
        cls = self._enums.get(node_id)
        if cls is None:
            cls = make_enum_type(self.schemas.enum(node_id))
            self._enums[node_id] = cls
        return cls

    def interface_type(self, node_id: int) -> type[Interface]:
        """The interface type of node ``node_id``."""
        cls = self._interfaces.get(node_id)
        if cls is None:
            with _type_lock:
                cls = self._interfaces.get(node_id)
                if cls is None:
                    node = self.schemas.interface(node_id)
                    cls = make_client_type(self, node, node.short_name)
                    self._interfaces[node_id] = cls
        return cls

    def list_codec(self, element: Type) -> ListCodec:
        """The codec for lists of ``element``."""
        codec = self._codecs.get(element)
        if codec is None:
            codec = make_list_codec(self, element)
            self._codecs[element] = codec
        return codec

    def wrap_capability(self, interface_type: Any, cap: object) -> object:
        """What a capability field reads as (see the class docstring)."""
        if cap is None or self.capability_wrapper is None:
            return cap
        return self.capability_wrapper(interface_type, cap)

    def unwrap_capability(self, interface_type: Any, value: object) -> object:
        """What is stored in the cap table for ``value`` written to a capability field."""
        if self.capability_unwrapper is None:
            return value
        return self.capability_unwrapper(interface_type, value)

    def type_name(self, t: Type) -> str:
        """``t`` as schema source spells it (``List(Int32)``, ``Person``)."""
        if t.kind == Kind.LIST:
            assert t.element is not None
            return f"List({self.type_name(t.element)})"
        if t.kind in (Kind.STRUCT, Kind.ENUM, Kind.INTERFACE):
            node = self.schemas.get(t.type_id)
            return node.short_name if node is not None else f"{t.type_id:#x}"
        return KIND_NAMES[t.kind]


def _class_name(short_name: str, is_group: bool) -> str:
    # pycapnp exposes groups capitalised (``AllTypes.Group1`` for ``group1``).
    return short_name[:1].upper() + short_name[1:] if is_group else short_name
