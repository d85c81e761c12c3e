"""capnrpc_asyncio: the asyncio driver for capnrpc (see docs/drivers-asyncio.md).

::

    async with capnrpc_asyncio.connect("tcp://127.0.0.1:4000") as conn:
        calc = conn.bootstrap(calculator.Calculator)
        value = await calc.evaluate(expression={"literal": 2.0}).value.read()

    async with capnrpc_asyncio.serve("tcp://127.0.0.1:0", CalculatorImpl()) as listener:
        print(listener.address)
        await listener.serve_forever()

Runs on any asyncio event loop, uvloop included.
"""

from capnrpc_asyncio._connection import Address, Connection, Listener, connect, serve
from capnrpc_asyncio._runtime import AsyncioVat, Promise, open_vat

__all__ = [
    "Address",
    "AsyncioVat",
    "Connection",
    "Listener",
    "Promise",
    "connect",
    "open_vat",
    "serve",
]
