"""The protocol core: a deterministic, sans-IO Cap'n Proto RPC (level 1) state machine.

Start with :class:`Vat`; see docs/core.md for the contract between the core and a driver.
"""

from capnrpc_core.rpc.calls import Delivery, PendingCall
from capnrpc_core.rpc.caps import Cap
from capnrpc_core.rpc.connection import Connection
from capnrpc_core.rpc.events import (
    CallReturned,
    ConnectionClosed,
    DeliverCall,
    DeliveryCanceled,
    Event,
    ServerReleased,
    StreamReady,
)
from capnrpc_core.rpc.limits import RpcLimits
from capnrpc_core.rpc.messages import ExceptionType, RpcException
from capnrpc_core.rpc.vat import Vat

__all__ = [
    "CallReturned",
    "Cap",
    "Connection",
    "ConnectionClosed",
    "DeliverCall",
    "Delivery",
    "DeliveryCanceled",
    "Event",
    "ExceptionType",
    "PendingCall",
    "RpcException",
    "RpcLimits",
    "ServerReleased",
    "StreamReady",
    "Vat",
]
