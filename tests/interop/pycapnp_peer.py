"""The reference peer: pycapnp (the C++ implementation) serving tests/schemas/interop.capnp.

Run as ``python pycapnp_peer.py server`` (binds 127.0.0.1 on a free port and prints
``PORT <n>``) or ``python pycapnp_peer.py client HOST PORT SCENARIO`` (connects, runs one
scenario against our server and prints ``OK`` or a traceback). Started by the interop tests in a
subprocess with a timeout; never imported by them.
"""

from __future__ import annotations

import asyncio
import os
import sys

import capnp

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(os.path.dirname(HERE), "schemas", "interop.capnp")
interop = capnp.load(SCHEMA, imports=[os.path.dirname(os.path.dirname(capnp.__file__))])

LIVE_THINGS = 0


class Thing(interop.Thing.Server):
    def __init__(self, value: int) -> None:
        global LIVE_THINGS
        LIVE_THINGS += 1
        self._value = value

    def __del__(self) -> None:
        global LIVE_THINGS
        LIVE_THINGS -= 1

    async def value(self, **kwargs):
        return self._value

    async def next(self, **kwargs):
        return Thing(self._value + 1)


class Peer(interop.Peer.Server):
    def __init__(self) -> None:
        self.held: list = []
        self.bytes_written = 0
        self.fulfiller: asyncio.Future | None = None

    async def echo(self, text, **kwargs):
        return text

    async def getSelf(self, **kwargs):
        return self

    async def fail(self, reason, **kwargs):
        raise ValueError(reason)

    async def callBack(self, callback, value, **kwargs):
        result = await callback.call(value)
        return result.value + 1

    async def later(self, value, **kwargs):
        await asyncio.sleep(0.01)
        return Thing(value)

    async def newThing(self, value, **kwargs):
        return Thing(value)

    async def hold(self, thing, **kwargs):
        self.held.append(thing)

    async def heldCount(self, **kwargs):
        return len(self.held)

    async def dropHeld(self, **kwargs):
        self.held.clear()

    async def write(self, data, **kwargs):
        self.bytes_written += len(data)

    async def written(self, **kwargs):
        return self.bytes_written

    async def liveThings(self, **kwargs):
        import gc

        gc.collect()
        return LIVE_THINGS

    async def promiseThing(self, value, **kwargs):
        return Thing(value)

    async def resolvePromised(self, **kwargs):
        return None


async def serve() -> None:
    async def new_connection(stream):
        await capnp.TwoPartyServer(stream, bootstrap=Peer()).on_disconnect()

    server = await capnp.AsyncIoStream.create_server(new_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    if sys.argv[1] == "server":
        asyncio.run(capnp.run(serve()))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")


if __name__ == "__main__":
    main()
