"""The error hierarchy: who was at fault decides the class.

- :class:`DecodeError` -- bytes that are not a valid Cap'n Proto message (or exceed a limit).
- :class:`RemoteProtocolError` -- the peer broke the RPC protocol; the connection is aborted.
- :class:`LocalUsageError` -- the caller misused the API; raised at the call site.
- :class:`RpcError` -- an RPC call failed (remote exception, disconnect, ...); users catch this.
"""

from __future__ import annotations

__all__ = ["CapnrpcError", "DecodeError", "LocalUsageError", "RemoteProtocolError"]


class CapnrpcError(Exception):
    """Base class of every error this library raises on purpose."""


class DecodeError(CapnrpcError, ValueError):
    """Input bytes are not a well-formed Cap'n Proto message, or they exceed a read limit."""


class RemoteProtocolError(CapnrpcError):
    """The peer violated the RPC protocol; the connection is aborted with this reason."""


class LocalUsageError(CapnrpcError):
    """The local caller misused the API (wrong type, released reference, closed connection)."""
