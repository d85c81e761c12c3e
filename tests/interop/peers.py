"""Start the pycapnp reference peer in a subprocess, with a timeout, and a tiny blocking driver
for our core so the protocol can be checked against the C++ reference without any of our own
drivers in the way."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from capnrpc_core import load
from capnrpc_core.driver import describe_frame
from capnrpc_core.rpc import CallReturned, Cap, DeliverCall, Delivery, PendingCall, Vat

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent / "schemas" / "interop.capnp"
interop = load(SCHEMA)
PEER = HERE / "pycapnp_peer.py"
CALCULATOR_PEER = HERE / "pycapnp_calculator.py"


class WireLog:
    """A vat's frame observer: every frame as ``(direction, one-line text)``, from any thread."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, conn: object, direction: str, frame: bytes) -> None:
        self.lines.append((direction, describe_frame(frame)))

    def sent(self, text: str = "") -> list[str]:
        """The lines sent that contain ``text``."""
        return [line for d, line in list(self.lines) if d == "send" and text in line]

    def received(self, text: str = "") -> list[str]:
        """The lines received that contain ``text``."""
        return [line for d, line in list(self.lines) if d == "recv" and text in line]


@contextlib.contextmanager
def pycapnp_server(timeout: float = 20.0, script: Path = PEER) -> Iterator[int]:
    """Run a pycapnp peer script (``script server``); yield its port; kill it afterwards."""
    # stderr goes to a file: a pipe nobody reads would fill up with the peer's tracebacks (it
    # prints one for every exception its server methods raise) and stall it.
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, str(script), "server"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                raise TimeoutError("the pycapnp peer did not start")
            line = proc.stdout.readline()
            if not line.startswith("PORT "):
                proc.kill()
                proc.wait(timeout=10)
                errors.seek(0)
                raise RuntimeError(f"pycapnp peer said {line!r}: {errors.read()}")
            yield int(line.split()[1])
        finally:
            proc.kill()
            proc.wait(timeout=10)


class CorePeer:
    """Our core on a blocking TCP socket, driven step by step by a test."""

    def __init__(
        self, port: int, servers: dict[object, Callable[[CorePeer, Delivery], None]] | None = None
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.vat = Vat(name="ours")
        self.conn = self.vat.new_connection("ours->pycapnp")
        self.handlers = servers or {}
        self.closed = False

    def close(self) -> None:
        self.sock.close()

    def flush(self) -> None:
        data = self.vat.data_to_send(self.conn)
        if data:
            self.sock.sendall(data)

    def events(self) -> None:
        while (event := self.vat.next_event()) is not None:
            if isinstance(event, DeliverCall):
                handler = self.handlers[event.delivery.server]
                handler(self, event.delivery)
            elif isinstance(event, CallReturned):
                pass

    def run_until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.events()
            self.flush()
            if done():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the peer did not answer in time")
            ready, _, _ = select.select([self.sock], [], [], min(left, 0.5))
            if ready:
                data = self.sock.recv(1 << 16)
                self.vat.receive_data(self.conn, data)
                if not data:
                    self.closed = True

    def call(self, cap: Cap, iface: Any, method: str, **params: Any) -> PendingCall:
        m = dict((mm.name, (node, mm)) for node, mm in iface.methods())[method]
        node, meth = m
        builder = iface.param_type(method).new_message(**params)
        return self.vat.call(cap, node.id, meth.ordinal, builder.wire, streaming=meth.is_streaming)

    def wait(self, call: PendingCall, timeout: float = 10.0) -> PendingCall:
        self.run_until(lambda: call.done, timeout)
        return call


def results(call: PendingCall, iface: Any, method: str) -> Any:
    """The typed results of a settled call."""
    assert call.exception is None, call.exception
    content = call.results
    wire = content.as_struct() if hasattr(content, "as_struct") else content
    return iface.result_type(method).Reader(wire)
