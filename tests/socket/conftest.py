"""Helpers for the socket driver tests: a served echo object, a client connected to it, frame logs.

Every test has a pytest-timeout deadline and every wait a timeout of its own. Waiting for the
network to go quiet uses ``vat.wait_until(condition)``, which is woken by the vat itself after
everything it does, never by sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import capnrpc_socket
from tests.services import EchoImpl, SinkImpl, rpctest
from tests.trio.conftest import FrameLog

TIMEOUT = 10.0


class SocketEcho(EchoImpl):
    """EchoImpl whose ``hold`` blocks until the caller cancels the call."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.hold_cancelled = threading.Event()

    def hold(self) -> None:
        self.holding.set()
        if capnrpc_socket.wait_canceled(timeout=TIMEOUT):
            self.hold_cancelled.set()


class GatedSink(SinkImpl):
    """A sink whose writes block until ``gate`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.first = threading.Event()
        self.started = 0

    def write(self, data: bytes) -> None:
        self.started += 1
        self.first.set()
        assert self.gate.wait(TIMEOUT)
        super().write(data)


@dataclass
class Pair:
    listener: capnrpc_socket.Listener
    conn: capnrpc_socket.Connection
    server: Any
    log: FrameLog

    @property
    def server_conn(self) -> capnrpc_socket.Connection:
        (conn,) = self.listener.connections
        return conn

    def server_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition`` holds in the server's vat (asserting it did in time)."""
        assert self.listener.vat.wait_until(condition, TIMEOUT), "timed out"

    def client_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition`` holds in the client's vat (asserting it did in time)."""
        assert self.conn.vat.wait_until(condition, TIMEOUT), "timed out"


@contextmanager
def open_pair(
    server: Any = None,
    address: str = "tcp://127.0.0.1:0",
    *,
    server_workers: int | None = None,
    **vat_options: Any,
) -> Iterator[Pair]:
    """A listener serving ``server`` (a SocketEcho by default) and a client connected to it."""
    server = SocketEcho() if server is None else server
    log = FrameLog()
    with (
        capnrpc_socket.serve(address, server, workers=server_workers) as listener,
        capnrpc_socket.open_vat(**vat_options) as vat,
    ):
        vat.frame_observer = log
        with capnrpc_socket.connect(listener.address, vat=vat) as conn:
            assert listener.vat.wait_until(lambda: len(listener.connections) == 1, TIMEOUT)
            yield Pair(listener, conn, server, log)


__all__ = [
    "TIMEOUT",
    "FrameLog",
    "GatedSink",
    "Pair",
    "SocketEcho",
    "open_pair",
    "rpctest",
]
