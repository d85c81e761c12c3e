"""The asyncio driver over Protocols vs over streams, with batched or direct writes.

Client and server run in one event loop over loopback TCP, so every number is both sides'
cost. ``sequential``: one call at a time (latency); ``burst``: 500 calls sent back to back,
then awaited (throughput). Variants:

- ``protocol``: ``connect(address)`` / ``serve(address)``, the driver's asyncio.Protocol path;
- ``streams``: ``asyncio.open_connection`` / ``asyncio.start_server`` pairs handed to
  ``connect((reader, writer))``: a reader task per connection, ``StreamWriter.write``;
- ``direct``: the protocol path writing each chunk of output at once instead of once per loop
  iteration.

Run: python bench/asyncio_transports.py [rounds] (uvloop too, when installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import capnrpc_asyncio
from capnrpc_asyncio._connection import Connection
from tests.services import EchoImpl, rpctest

SEQUENTIAL = 1000
BURST = 500


@asynccontextmanager
async def protocol_pair() -> AsyncIterator[Any]:
    async with (
        capnrpc_asyncio.serve("tcp://127.0.0.1:0", EchoImpl()) as listener,
        capnrpc_asyncio.connect(listener.address) as conn,
    ):
        yield conn.bootstrap(rpctest.Echo)


@asynccontextmanager
async def streams_pair() -> AsyncIterator[Any]:
    served: list[asyncio.Task[None]] = []
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with capnrpc_asyncio.connect((reader, writer), bootstrap=EchoImpl()):
            await stop.wait()

    def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(asyncio.create_task(handle(reader, writer)))

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with capnrpc_asyncio.connect((reader, writer)) as conn:
            yield conn.bootstrap(rpctest.Echo)
    finally:
        stop.set()
        await asyncio.gather(*served)
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def direct_writes() -> Any:
    queue = Connection._queue
    Connection._queue = lambda self, data: self._transport.write(data)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Connection._queue = queue  # type: ignore[method-assign]


async def measure(make: Callable[[], Any]) -> tuple[float, float]:
    async with make() as echo:
        await echo.ping(0)
        start = time.perf_counter()
        for i in range(SEQUENTIAL):
            await echo.ping(i)
        seq = (time.perf_counter() - start) / SEQUENTIAL * 1e6
        start = time.perf_counter()
        promises = [echo.ping(i) for i in range(BURST)]
        for p in promises:
            await p
        burst = (time.perf_counter() - start) / BURST * 1e6
    return seq, burst


async def run_all(rounds: int) -> dict[str, tuple[float, float]]:
    results: dict[str, list[tuple[float, float]]] = {"protocol": [], "streams": [], "direct": []}
    for _ in range(rounds):
        results["protocol"].append(await measure(protocol_pair))
        results["streams"].append(await measure(streams_pair))
        with direct_writes():
            results["direct"].append(await measure(protocol_pair))
    return {k: (min(s for s, _ in v), min(b for _, b in v)) for k, v in results.items()}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    loops: list[tuple[str, Callable[[Any], Any]]] = [("asyncio", asyncio.run)]
    try:
        import uvloop

        loops.append(("uvloop", uvloop.run))
    except ImportError:
        pass
    print(f"{'loop':8} {'variant':9} {'sequential us/call':>19} {'burst us/call':>14}")
    for loop_name, run in loops:
        for variant, (seq, burst) in run(run_all(rounds)).items():
            print(f"{loop_name:8} {variant:9} {seq:19.1f} {burst:14.1f}")


if __name__ == "__main__":
    main()
