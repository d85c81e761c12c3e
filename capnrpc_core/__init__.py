"""capnrpc_core: the deterministic, sans-IO heart of capnrpc.

Layers (see docs/architecture.md): ``wire`` (the Cap'n Proto encoding), ``schema`` (typed
structs and interfaces from ``.capnp`` files) and ``rpc`` (the protocol state machine).
"""

from capnrpc_core.errors import (
    CapnrpcError,
    DecodeError,
    LocalUsageError,
    RemoteProtocolError,
    RpcError,
)
from capnrpc_core.schema import load

__all__ = [
    "CapnrpcError",
    "DecodeError",
    "LocalUsageError",
    "RemoteProtocolError",
    "RpcError",
    "load",
]
