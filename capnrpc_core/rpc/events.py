"""What the core asks its driver to do, or tells it happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from capnrpc_core.rpc.messages import RpcException

if TYPE_CHECKING:
    from capnrpc_core.rpc.calls import Delivery, PendingCall
    from capnrpc_core.rpc.connection import Connection

__all__ = [
    "CallReturned",
    "ConnectionClosed",
    "DeliverCall",
    "DeliveryCanceled",
    "Event",
    "ServerReleased",
    "StreamReady",
]


@dataclass(frozen=True, slots=True, eq=False)
class DeliverCall:
    """Run ``delivery`` (a method call on a local object), then answer it through the vat."""

    delivery: Delivery


@dataclass(frozen=True, slots=True, eq=False)
class DeliveryCanceled:
    """The caller no longer wants ``delivery``'s results; the driver may stop running it."""

    delivery: Delivery


@dataclass(frozen=True, slots=True, eq=False)
class CallReturned:
    """A call the application made has settled: ``call.results`` or ``call.exception``."""

    call: PendingCall


@dataclass(frozen=True, slots=True, eq=False)
class StreamReady:
    """A streaming call made earlier has been acknowledged; the window may have room again."""

    call: PendingCall


@dataclass(frozen=True, slots=True, eq=False)
class ServerReleased:
    """No reference to local object ``server`` remains anywhere."""

    server: object


@dataclass(frozen=True, slots=True, eq=False)
class ConnectionClosed:
    """``connection`` is closed; ``exception`` says why (None for an orderly local close)."""

    connection: Connection
    exception: RpcException | None
    by_peer: bool


Event: TypeAlias = (
    DeliverCall | DeliveryCanceled | CallReturned | StreamReady | ServerReleased | ConnectionClosed
)
