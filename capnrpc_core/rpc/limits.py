"""Limits of one vat's RPC connections (see Note [limits] in connection.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits

__all__ = ["RpcLimits"]


@dataclass(frozen=True, slots=True)
class RpcLimits:
    """Configurable bounds; every one is enforced by the core and covered by tests.

    - ``max_questions``: questions awaiting their Return per connection. Further calls wait,
      in order, and go out as Returns arrive; a waiting call keeps the import or answer it
      targets alive (no Release or Finish before it is sent), and one canceled while waiting
      never goes out. Bootstrap requests count but are never held back.
    - ``max_exports``: distinct export ids per connection (sending an exported capability
      again does not count). The Call that would export one more fails locally with an
      ``overloaded`` exception and is not sent; a Return becomes an ``overloaded`` exception
      Return, a Resolve resolves to that exception; references already taken are given back.
    - ``max_incoming_call_bytes``: frame bytes of calls received on one connection and not yet
      answered (Return sent, or canceled). A call that would go past it is answered with an
      ``overloaded`` exception without running. (C++'s ``setFlowLimit`` stops reading instead.)
    - ``stream_window_bytes``: params bytes of streaming calls in flight per capability;
      ``Vat.stream_window_full`` is true from there until Returns bring it below. Calls are
      sent at once regardless; waiting is up to the application.
    - ``read``: wire limits for every received message. A frame over the segment, size or
      traversal limit, or an RPC message whose decoding overruns traversal or nesting, aborts
      the connection; an overrun while the application reads a payload is a
      :class:`~capnrpc_core.errors.DecodeError` raised to it.
    """

    max_questions: int = 1 << 16
    max_exports: int = 1 << 16
    max_incoming_call_bytes: int = 1 << 24
    stream_window_bytes: int = 1 << 16
    read: ReadLimits = field(default=DEFAULT_LIMITS)
