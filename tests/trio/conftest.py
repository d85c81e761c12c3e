"""Helpers for the trio driver tests: a served echo object, a client connected to it, frame logs.

Every test runs under ``trio.fail_after`` (see :func:`deadline`); waiting for the network to
go quiet uses :func:`settle`, which polls a condition between ``wait_all_tasks_blocked`` rounds
instead of sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
import trio.testing

import capnrpc_trio
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import Message
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.reader import MessageReader
from tests.services import EchoImpl, SinkImpl, rpctest

TIMEOUT = 10


class TrioEcho(EchoImpl):
    """EchoImpl whose ``hold`` waits (on trio) until it is canceled."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = trio.Event()
        self.hold_cancelled = trio.Event()

    async def hold(self) -> None:
        self.holding.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            self.hold_cancelled.set()
            raise


class GatedSink(SinkImpl):
    """A sink whose writes wait until ``gate`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = trio.Event()
        self.started = 0

    async def write(self, data: bytes) -> None:  # type: ignore[override]
        self.started += 1
        await self.gate.wait()
        super().write(data)


@dataclass
class FrameLog:
    """Every frame of the observed connections, decoded, in the order the vat saw them."""

    entries: list[tuple[str, Message]] = field(default_factory=list)

    def __call__(self, conn: Any, direction: str, frame: bytes) -> None:
        self.entries.append((direction, decode_message(MessageReader(decode_frame(frame)))))

    def kinds(self) -> list[str]:
        return [f"{d} {type(m).__name__}" for d, m in self.entries]

    def sent(self, kind: type) -> list[Any]:
        return [m for d, m in self.entries if d == "send" and isinstance(m, kind)]


async def settle(condition: Callable[[], bool], what: str = "condition") -> None:
    """Wait (without sleeping) until ``condition()`` holds; the test's deadline bounds it."""
    while not condition():
        await trio.testing.wait_all_tasks_blocked()


@dataclass
class Pair:
    listener: capnrpc_trio.Listener
    conn: capnrpc_trio.Connection
    server: Any
    log: FrameLog

    @property
    def server_conn(self) -> capnrpc_trio.Connection:
        (conn,) = self.listener.connections
        return conn


@asynccontextmanager
async def open_pair(
    server: Any = None, address: str = "tcp://127.0.0.1:0", **vat_options: Any
) -> AsyncIterator[Pair]:
    """A listener serving ``server`` (a TrioEcho by default) and a client connected to it."""
    server = TrioEcho() if server is None else server
    log = FrameLog()
    async with (
        capnrpc_trio.serve(address, server) as listener,
        capnrpc_trio.open_vat(**vat_options) as vat,
    ):
        vat.frame_observer = log
        async with capnrpc_trio.connect(listener.address, vat=vat) as conn:
            await settle(lambda: len(listener.connections) == 1)
            yield Pair(listener, conn, server, log)


def deadline() -> AbstractContextManager[trio.CancelScope]:
    """The per-test timeout."""
    return trio.fail_after(TIMEOUT)


__all__ = [
    "TIMEOUT",
    "FrameLog",
    "GatedSink",
    "Pair",
    "TrioEcho",
    "deadline",
    "open_pair",
    "rpctest",
    "settle",
]
