"""Typed round trip cost: the core plus the typed layer, two vats in memory, no sockets or loop.

One vat serves bench/rpcbench.capnp's ``Bench`` (a ``Bench.Server`` whose ``ping`` answers
``value + 1``); the other calls ``bench.ping(value=i)`` through a typed client and reads
``.value`` of the results. A tiny in-memory driver stands in for a real one: each vat has a
:class:`~capnrpc_core.driver.Pump`, deliveries run with ``begin_delivery``/``invoke`` as the
drivers run them, and a promise's ``wait()`` moves bytes between the vats until the call
settles. What is timed is everything both sides do but IO and waiting: building params,
the core's work, the delivery, the method, the results, reading them, releasing them. The
last line is ``typed_round_trip_us <float>``.

Run: python bench/typed.py [N]
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections import deque
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capnrpc_core import load
from capnrpc_core.driver import Pump, begin_delivery, invoke, new_core_vat
from capnrpc_core.rpc import Cap, Connection, Delivery, PendingCall, RpcException
from capnrpc_core.schema import interfaces
from capnrpc_core.schema.interfaces import bootstrap_client

SCHEMA = Path(__file__).resolve().parent / "rpcbench.capnp"


class MemPromise(interfaces.Promise):
    """``wait()`` moves bytes between the vats until the call settles."""

    def wait(self) -> Any:
        runtime = cast(MemVat, self._runtime)
        call = self._call
        while not call.done:
            if not runtime.net.step():
                raise RuntimeError("the network went quiet before the call settled")
        return self._result()


class MemVat:
    """One vat of a :class:`MemNet`: the Runtime protocol and the Pump's EventHandler."""

    def __init__(self, net: MemNet, name: str, bootstrap: object | None = None) -> None:
        self.net = net
        self.vat = new_core_vat(bootstrap, limits=None, name=name)
        self._lock = threading.RLock()  # as the blocking-socket driver holds one
        self._pump = Pump(self.vat, self)
        self.ready: deque[Delivery] = deque()
        self.outbox: list[bytes] = []
        self.peer: MemVat | None = None
        self.conn: Connection = self.vat.new_connection()

    # -- the Runtime protocol --------------------------------------------------------------------

    def make_promise(self, call: PendingCall, result_type: Any) -> MemPromise:
        return MemPromise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        return cast(AbstractContextManager[None], self._lock)

    def flush(self) -> None:
        with self._lock:
            self._pump.drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        self._pump.release_later(ref)

    # -- the Pump's EventHandler -----------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        self.ready.append(delivery)

    def delivery_canceled(self, delivery: Delivery) -> None:
        pass

    def call_returned(self, call: PendingCall) -> None:
        pass

    def stream_ready(self, call: PendingCall) -> None:
        pass

    def send(self, conn: Connection, data: bytes) -> None:
        self.outbox.append(data)

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        pass

    # -- driving ---------------------------------------------------------------------------------

    def step(self) -> bool:
        """Run ready deliveries, then hand queued output to the peer; whether anything moved."""
        moved = False
        ready = self.ready
        while ready:
            moved = True
            delivery = ready.popleft()
            invocation = begin_delivery(self, delivery)
            if invocation is not None and invoke(self, delivery, invocation) is not None:
                raise RuntimeError("the bench serves plain methods only")
        if self._pump._releases:
            self.flush()
        if self.outbox:
            moved = True
            peer = self.peer
            assert peer is not None
            data = b"".join(self.outbox)
            self.outbox.clear()
            with peer._lock:
                peer.vat.receive_data(peer.conn, data)
                peer._pump.drain()
        return moved


class MemNet:
    """Two vats joined in memory."""

    def __init__(self, server: object) -> None:
        self.client = MemVat(self, "client")
        self.server = MemVat(self, "server", bootstrap=server)
        self.client.peer = self.server
        self.server.peer = self.client

    def step(self) -> bool:
        a = self.client.step()
        b = self.server.step()
        return a or b

    def settle(self) -> None:
        while self.step():
            pass


def make_server(rpcbench: Any) -> Any:
    class BenchImpl(rpcbench.Bench.Server):  # type: ignore[misc]
        def ping(self, value: int) -> int:
            return value + 1

        def next(self) -> Any:
            return self

        def echo(self, data: bytes) -> bytes:
            return data

    return BenchImpl()


def run(n: int) -> float:
    rpcbench = load(SCHEMA)
    net = MemNet(make_server(rpcbench))
    bench = bootstrap_client(net.client, net.client.conn, rpcbench.Bench)
    net.settle()
    start = time.perf_counter()
    for i in range(n):
        promise = bench.ping(value=i)
        assert promise.wait().value == i + 1
    elapsed = time.perf_counter() - start
    net.settle()
    bench.release()
    net.settle()
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    run(min(n, 2000))  # warm up
    gc.collect()
    best = min(run(n) for _ in range(3))
    print(f"calls: {n}, best of 3 runs")
    print(f"typed_round_trip_us {best:.2f}")


if __name__ == "__main__":
    main()
