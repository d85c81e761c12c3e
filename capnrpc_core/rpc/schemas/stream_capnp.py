"""Cap'n Proto schema ``stream.capnp`` for capnrpc: generated, do not edit.

Regenerate with ``capnrpc compile``. At import, the schema nodes embedded below are
decoded without pycapnp; the declarations under ``TYPE_CHECKING`` describe the module's
types to type checkers.
"""

from __future__ import annotations

from base64 import b64decode as _b64decode
from typing import TYPE_CHECKING

from capnrpc_core.schema import load_node_messages as _load_node_messages

if TYPE_CHECKING:
    import collections.abc as _abc
    import typing as _t

    from capnrpc_core.schema import typed as _typed

    class StreamResult(_typed.Struct["StreamResult.Reader", "StreamResult.Builder"]):
        _Value: _t.TypeAlias = "Reader | Builder | _abc.Mapping[str, _t.Any]"

        class Reader(_typed.StructReader["StreamResult.Builder"]):
            pass

        class Builder(_typed.StructBuilder["StreamResult.Reader"]):
            pass

        @classmethod
        def new_message(
            cls, num_first_segment_words: int | None = None
        ) -> StreamResult.Builder: ...


__all__ = [
    "StreamResult",
]

_FILE_ID = 0x86C366A91393F3F8
_NODES = (
    (  # stream.capnp
        "AAAAABQAAAAAAAAAAgADAPjzkxOpZsOGBwAAAAAAAAAJAAAAagAAAA0AAAAXAAAAHQAAAB8AAABz",
        "dHJlYW0uY2FwbnAAAAAABAAAAAEAAQBuscB3M5pfmQEAAABqAAAAU3RyZWFtUmVzdWx0AAAAAAQA",
        "AAABAAIALF+Av575xrkEAAAAAQABAPz///8AAAAADAAAAAAAAAABAAAAMgAAAGNhcG5wAAAA",
    ),
    (  # stream.capnp:StreamResult
        "AAAAAAwAAAAAAAAABAACAG6xwHczml+ZDQAAAAEAAAD485MTqWbDhgAABwAAAAAABQAAANIAAAAR",
        "AAAABwAAAHN0cmVhbS5jYXBucDpTdHJlYW1SZXN1bHQAAAAAAAAAAAAAAAAAAAA=",
    ),
)

_frames = [_b64decode("".join(parts)) for parts in _NODES]
_module = _load_node_messages(_frames, _FILE_ID, __name__)
schema = _module.schema
schemas = _module.schemas
registry = _module.registry
if not TYPE_CHECKING:
    StreamResult = _module.StreamResult
