"""Interface types as the struct layer sees them: a schema and a hook for capability values.

A capability field (one of interface type) holds a reference from the message's cap table. The
struct layer hands such values to :meth:`TypeRegistry.wrap_capability` on read and
:meth:`TypeRegistry.unwrap_capability` on write, which default to passing the object through;
the RPC layer installs hooks there to turn references into typed clients and back. Client
stubs and server bases are built on :class:`Interface` elsewhere (``schema.interfaces``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from capnrpc_core.schema.model import InterfaceNode, Method

if TYPE_CHECKING:
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = ["Interface", "InterfaceSchema", "make_interface_type"]


class InterfaceSchema:
    """pycapnp-style view of an interface node (``I.schema``)."""

    __slots__ = ("method_names", "methods", "node", "superclasses")

    def __init__(self, node: InterfaceNode, registry: TypeRegistry) -> None:
        self.node = node
        self.method_names: tuple[str, ...] = tuple(m.name for m in node.methods)
        self.methods: dict[str, Method] = {m.name: m for m in node.methods}
        self.superclasses: tuple[int, ...] = tuple(s.id for s in node.superclasses)

    @property
    def id(self) -> int:
        """The node id."""
        return self.node.id

    def __repr__(self) -> str:
        return f"<schema for {self.node.display_name}>"


class Interface:
    """Base of interface types (``module.MyInterface``)."""

    schema: ClassVar[InterfaceSchema]
    _registry: ClassVar[TypeRegistry]

    @classmethod
    def methods(cls) -> list[tuple[InterfaceNode, Method]]:
        """Every method callable on the interface: its own, then its superclasses'."""
        return cls._registry.schemas.all_methods(cls.schema.node.id)

    @classmethod
    def param_type(cls, method: str) -> type:
        """The struct type of a method's parameters."""
        return cls._registry.struct_type(cls._method(method).param_struct_id)

    @classmethod
    def result_type(cls, method: str) -> type:
        """The struct type of a method's results."""
        return cls._registry.struct_type(cls._method(method).result_struct_id)

    @classmethod
    def _method(cls, name: str) -> Method:
        for _iface, m in cls.methods():
            if m.name == name:
                return m
        raise KeyError(f"{cls.schema.node.display_name} has no method {name!r}")


def make_interface_type(registry: TypeRegistry, node: InterfaceNode, name: str) -> type[Interface]:
    """The interface type of ``node``."""
    return type(
        name,
        (Interface,),
        {
            "schema": InterfaceSchema(node, registry),
            "_registry": registry,
            "__doc__": f"Interface ``{node.display_name}``.",
            "__module__": node.display_name.rpartition(":")[0],
            "__qualname__": node.display_name.rpartition(":")[2],
        },
    )
