"""The error hierarchy: who was at fault decides the class.

- :class:`DecodeError` -- bytes that are not a valid Cap'n Proto message (or exceed a limit).
- :class:`RemoteProtocolError` -- the peer broke the RPC protocol; the connection is aborted.
- :class:`LocalUsageError` -- the caller misused the API; raised at the call site.
- :class:`RpcError` -- an RPC call failed (remote exception, disconnect, ...); users catch this.
"""

from __future__ import annotations

__all__ = ["CapnrpcError", "DecodeError", "LocalUsageError", "RemoteProtocolError", "RpcError"]


class CapnrpcError(Exception):
    """Base class of every error this library raises on purpose."""


class DecodeError(CapnrpcError, ValueError):
    """Input bytes are not a well-formed Cap'n Proto message, or they exceed a read limit."""


class RemoteProtocolError(CapnrpcError):
    """The peer violated the RPC protocol; the connection is aborted with this reason."""


class LocalUsageError(CapnrpcError):
    """The local caller misused the API (wrong type, released reference, closed connection)."""


class RpcError(CapnrpcError):
    """An RPC call failed: the remote side raised, the connection broke, or it was canceled.

    ``type`` is one of ``"failed"``, ``"overloaded"``, ``"disconnected"``, ``"unimplemented"``
    (rpc.capnp ``Exception.Type``), ``reason`` the human-readable text (for a remote exception,
    the peer's own words), ``remote_trace`` the peer's trace when it sent one.
    """

    def __init__(self, type: str, reason: str, remote_trace: str = "") -> None:
        super().__init__(f"{type}: {reason}")
        self.type = type
        self.reason = reason
        self.remote_trace = remote_trace

    @classmethod
    def from_exception(cls, exc: object) -> RpcError:
        """Build from the core's ``RpcException`` value."""
        type_ = getattr(exc, "type", None)
        name = getattr(type_, "name", "FAILED").lower()
        return cls(name, str(getattr(exc, "reason", exc)), str(getattr(exc, "trace", "")))
