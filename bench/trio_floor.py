"""How much of a capnrpc_trio round trip is trio itself: our sequential call against bare tasks.

Both run in one process, on one loopback TCP connection each, in the same ``trio.run``:

- ``bare``: the least a trio driver with our shape can do per call. Three tasks pass 64 bytes
  around, as capnrpc_trio's tasks pass a call and its answer: the caller writes (``os.write``)
  and parks; the server's reader wakes (``wait_readable``), reads (``os.read``) and writes it
  back; the client's reader wakes, reads and reschedules the caller. No protocol at all.
- ``capnrpc_trio``: ``await bench.ping(value=i)`` on bench/rpcbench.capnp's ``Bench``, served
  by capnrpc_trio in the same process.

It prints both times per round trip and the share of ours that the bare tasks take; the last
line is ``trio_share_of_round_trip <float>``. The rest of our time is the core's and the typed
layer's Python (``bench/typed.py`` times it without any driver) and the driver's bookkeeping.

Run: python bench/trio_floor.py [SECONDS]
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rpc  # bench/rpc.py: the Bench server and client

_ABORT = trio.lowlevel.Abort.SUCCEEDED


def _best_us(step: Callable[[], Awaitable[None]]) -> Callable[[float], Awaitable[float]]:
    """Time ``step`` in rounds for about ``seconds``; the best round's microseconds per step."""

    async def run(seconds: float) -> float:
        best = float("inf")
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            for _ in range(500):
                await step()
            best = min(best, (time.perf_counter() - start) / 500 * 1e6)
        return best

    return run


def _connected_pair() -> tuple[socket.socket, socket.socket]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    for sock in (client, server):
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, server


async def bare(seconds: float) -> float:
    """Microseconds per round trip of three bare tasks (see the module's docstring)."""
    client, server = _connected_pair()
    caller: Any = None

    async def server_reader() -> None:
        while data := await _read(server):
            os.write(server.fileno(), data)

    async def client_reader() -> None:
        while await _read(client):
            trio.lowlevel.reschedule(caller)

    async def round_trip() -> None:
        os.write(client.fileno(), b"x" * 64)
        await trio.lowlevel.wait_task_rescheduled(lambda _: _ABORT)

    with client, server:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server_reader)
            nursery.start_soon(client_reader)
            caller = trio.lowlevel.current_task()
            result = await _best_us(round_trip)(seconds)
            nursery.cancel_scope.cancel()
    return result


async def _read(sock: socket.socket) -> bytes:
    await trio.lowlevel.wait_readable(sock)
    return os.read(sock.fileno(), 1 << 16)


async def ours(seconds: float) -> float:
    """Microseconds per sequential ``ping`` through capnrpc_trio, client and server here."""
    async with rpc.serve_trio() as address, rpc.connect_trio(address) as client:
        counter = iter(range(1 << 62))

        async def round_trip() -> None:
            await client.ping(next(counter))

        return await _best_us(round_trip)(seconds)


async def main(seconds: float) -> None:
    await bare(seconds / 4)  # warm up
    bare_us = await bare(seconds)
    ours_us = await ours(seconds)
    print(f"bare trio tasks: {bare_us:.1f} us a round trip")
    print(f"capnrpc_trio:    {ours_us:.1f} us a round trip")
    print(f"trio_share_of_round_trip {bare_us / ours_us:.3f}")


if __name__ == "__main__":
    trio.run(main, float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
