"""Oracle tests: messages built by capnrpc and by pycapnp agree (bytes, to_dict), both ways."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capnrpc_core.schema import SchemaModule
from tests.schema.strategies import struct_strategy

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def norm(value: Any) -> Any:
    """``value`` with NaNs replaced by a marker, so that equal dicts compare equal."""
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def _roundtrip(ours_type: Any, theirs_type: Any, fields: dict[str, Any]) -> None:
    ours = ours_type.new_message(**fields)
    theirs = theirs_type.new_message(**fields)
    theirs_bytes = theirs.to_bytes()
    theirs.clear_write_flag()  # pycapnp warns about writing a message twice
    theirs_packed = theirs.to_bytes_packed()
    # A pycapnp builder's to_dict initialises null struct union members; its reader's does not.
    expected = norm(theirs.as_reader().to_dict())
    # Same values, built in the same order: the same bytes, as from the C++ builder.
    assert ours.to_bytes() == theirs_bytes
    assert ours.to_bytes_packed() == theirs_packed
    assert norm(ours.to_dict()) == expected
    # Each side reads the other's bytes to the same values.
    assert norm(ours_type.from_bytes(theirs_bytes).to_dict()) == expected
    with theirs_type.from_bytes(ours.to_bytes()) as back:
        assert norm(back.to_dict()) == expected
    assert norm(ours_type.from_bytes_packed(theirs_packed).to_dict()) == expected
    assert norm(theirs_type.from_bytes_packed(ours.to_bytes_packed()).to_dict()) == expected


STRUCTS = ["AllTypes", "Inner", "Defaults", "WithCaps"]


@pytest.mark.parametrize("name", STRUCTS)
def test_alltypes_roundtrip(ours: SchemaModule, theirs: Any, name: str) -> None:
    node = ours.schemas.struct(getattr(ours, name).schema.id)

    @SETTINGS
    @given(struct_strategy(ours.schemas, node))
    def check(fields: dict[str, Any]) -> None:
        _roundtrip(getattr(ours, name), getattr(theirs, name), fields)

    check()


RPC_STRUCTS = [
    "Message",
    "Bootstrap",
    "Call",
    "Return",
    "Finish",
    "Resolve",
    "Release",
    "Disembargo",
    "Provide",
    "Accept",
    "Join",
    "MessageTarget",
    "Payload",
    "CapDescriptor",
    "PromisedAnswer",
    "ThirdPartyCapDescriptor",
    "Exception",
]


@pytest.mark.parametrize("name", RPC_STRUCTS)
def test_rpc_roundtrip(rpc_ours: SchemaModule, rpc_theirs: Any, name: str) -> None:
    node = rpc_ours.schemas.struct(getattr(rpc_ours, name).schema.id)

    @SETTINGS
    @given(struct_strategy(rpc_ours.schemas, node))
    def check(fields: dict[str, Any]) -> None:
        _roundtrip(getattr(rpc_ours, name), getattr(rpc_theirs, name), fields)

    check()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_schema_capnp_nodes_roundtrip(data: st.DataObject) -> None:
    """schema.capnp itself: random Nodes (with unions inside groups) agree too."""
    ours, theirs = _schema_capnp()
    node = ours.schemas.struct(ours.Node.schema.id)
    fields = data.draw(struct_strategy(ours.schemas, node, depth=2))
    _roundtrip(ours.Node, theirs.Node, fields)


_CACHE: dict[str, Any] = {}


def _schema_capnp() -> tuple[Any, Any]:
    if not _CACHE:
        import capnrpc_core.schema as schema
        from tests.schema.conftest import PYCAPNP_DIR, pycapnp_load

        _CACHE["ours"] = schema.load(PYCAPNP_DIR / "schema.capnp")
        _CACHE["theirs"] = pycapnp_load(PYCAPNP_DIR / "schema.capnp")
    return _CACHE["ours"], _CACHE["theirs"]
