"""Limits of one vat's RPC connections (see Note [limits] in connection.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits

__all__ = ["RpcLimits"]


@dataclass(frozen=True, slots=True)
class RpcLimits:
    """Configurable bounds; every one is enforced by the core and covered by tests.

    - ``max_questions``: questions in flight per connection; further calls wait in order.
    - ``max_exports``: capabilities exported per connection; past it, the message that would
      export one more fails with an ``overloaded`` exception instead.
    - ``max_incoming_call_bytes``: total size of calls received and not yet returned on one
      connection; past it, new calls are answered with an ``overloaded`` exception.
    - ``stream_window_bytes``: bytes of streaming calls in flight per capability before the
      sender is told to wait.
    - ``read``: wire limits for every received message.
    """

    max_questions: int = 1 << 16
    max_exports: int = 1 << 16
    max_incoming_call_bytes: int = 1 << 24
    stream_window_bytes: int = 1 << 16
    read: ReadLimits = field(default=DEFAULT_LIMITS)
