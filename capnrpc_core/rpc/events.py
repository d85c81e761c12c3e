"""What the core asks its driver to do, or tells it happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypeVar, dataclass_transform

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

_T = TypeVar("_T")


# Events are values, as messages are (Note [message values] in messages.py): mypy sees them
# frozen, while at run time they are plain slotted dataclasses, which are made in half the time.
@dataclass_transform(frozen_default=True, eq_default=False)
def _event(cls: type[_T]) -> type[_T]:
    return dataclass(slots=True, eq=False)(cls)


@_event
class DeliverCall:
    """Run ``delivery`` (a method call on a local object), then answer it through the vat."""

    delivery: Delivery


@_event
class DeliveryCanceled:
    """The caller no longer wants ``delivery``'s results; the driver may stop running it."""

    delivery: Delivery


@_event
class CallReturned:
    """A call the application made has settled: ``call.results`` or ``call.exception``."""

    call: PendingCall


@_event
class StreamReady:
    """A streaming call made earlier has been acknowledged; the window may have room again."""

    call: PendingCall


@_event
class ServerReleased:
    """No reference to local object ``server`` remains anywhere."""

    server: object


@_event
class ConnectionClosed:
    """``connection`` is closed; ``exception`` says why (None for an orderly local close)."""

    connection: Connection
    exception: RpcException | None
    by_peer: bool


Event: TypeAlias = (
    DeliverCall | DeliveryCanceled | CallReturned | StreamReady | ServerReleased | ConnectionClosed
)
