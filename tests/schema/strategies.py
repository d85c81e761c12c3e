"""Hypothesis strategies: random field dicts for any struct, derived from our schema model.

The dicts are what ``new_message(**d)`` takes in pycapnp and in capnrpc alike, so one draw
builds the same message in both. AnyPointer and capability fields are left out (pycapnp cannot
build the latter outside an RPC system, and neither shows the former in ``to_dict``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from capnrpc_core.schema._convert import INT_RANGES
from capnrpc_core.schema.model import Field, Kind, SchemaSet, StructNode, Type

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


def value_strategy(schemas: SchemaSet, t: Type, depth: int) -> st.SearchStrategy[Any] | None:
    """Values of type ``t`` (None if the type is skipped)."""
    kind = t.kind
    if kind == Kind.VOID:
        return st.none()
    if kind == Kind.BOOL:
        return st.booleans()
    if kind in INT_RANGES:
        lo, hi = INT_RANGES[kind]
        return st.integers(lo, hi)
    if kind == Kind.FLOAT32:
        return st.floats(width=32, allow_nan=False)
    if kind == Kind.FLOAT64:
        return st.floats(allow_nan=False)
    if kind == Kind.TEXT:
        return TEXT
    if kind == Kind.DATA:
        return st.binary(max_size=12)
    if kind == Kind.ENUM:
        names = [e.name for e in schemas.enum(t.type_id).enumerants]
        return st.sampled_from(names)
    if kind == Kind.STRUCT:
        if depth <= 0:
            return None
        return _struct_strategy(schemas, schemas.struct(t.type_id), depth - 1)
    if kind == Kind.LIST:
        assert t.element is not None
        inner = value_strategy(schemas, t.element, depth - 1)
        if inner is None or depth <= 0:
            return None
        return st.lists(inner, max_size=3)
    return None


def _field_strategy(schemas: SchemaSet, field: Field, depth: int) -> st.SearchStrategy[Any] | None:
    if field.group_id is not None:
        return _struct_strategy(schemas, schemas.struct(field.group_id), depth)
    assert field.slot is not None
    return value_strategy(schemas, field.slot.type, depth)


def struct_strategy(
    schemas: SchemaSet, node: StructNode, depth: int = 3
) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of some of ``node``'s fields and one union member (if it has a union)."""
    strategy = _struct_strategy(schemas, node, depth)
    if strategy is None:
        raise ValueError(f"no values of {node.display_name} within depth {depth}")
    return strategy


def _struct_strategy(
    schemas: SchemaSet, node: StructNode, depth: int
) -> st.SearchStrategy[dict[str, Any]] | None:
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in node.non_union_fields:
        strategy = _field_strategy(schemas, field, depth)
        if strategy is not None:
            optional[field.name] = strategy
    members = []
    for field in node.union_fields:
        strategy = _field_strategy(schemas, field, depth)
        if strategy is not None:
            members.append(st.tuples(st.just(field.name), strategy))
    base = st.fixed_dictionaries({}, optional=optional)
    if not node.union_fields:
        return base
    if not members:
        return None

    # A member is always chosen (and a struct with a union but no member in reach is not
    # generated): left unset, a union whose first member is a struct of the same type
    # (rpc.capnp's Message) reads as an endless chain, which pycapnp's to_dict follows until
    # it crashes.
    def with_member(d: dict[str, Any], member: tuple[str, Any]) -> dict[str, Any]:
        d = dict(d)
        d[member[0]] = member[1]
        return d

    return st.builds(with_member, base, st.one_of(members))
