"""The Cap'n Proto wire layer: framing, packing, pointers, and untyped readers and builders.

Everything here works on plain ``bytes``/``memoryview`` segments and knows nothing of schemas:
the schema layer drives the readers and builders with field offsets and pointer indexes.
"""

from __future__ import annotations

from capnrpc_core.wire.builder import ListBuilder, MessageBuilder, PointerBuilder, StructBuilder
from capnrpc_core.wire.framing import FrameDecoder, decode_frame, encode_frame
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.packing import pack, unpack
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import AnyPointerReader, ListReader, MessageReader, StructReader

__all__ = [
    "DEFAULT_LIMITS",
    "AnyPointerReader",
    "ElementSize",
    "FrameDecoder",
    "ListBuilder",
    "ListReader",
    "MessageBuilder",
    "MessageReader",
    "PointerBuilder",
    "ReadLimits",
    "StructBuilder",
    "StructReader",
    "decode_frame",
    "encode_frame",
    "pack",
    "unpack",
]
