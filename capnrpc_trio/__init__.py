"""capnrpc_trio: the trio driver for capnrpc (see docs/drivers-trio.md).

::

    async with capnrpc_trio.connect("tcp://127.0.0.1:4000") as conn:
        calc = conn.bootstrap(calculator.Calculator)
        value = await calc.evaluate(expression={"literal": 2.0}).value.read()

    addr = await nursery.start(capnrpc_trio.serve, "tcp://127.0.0.1:0", CalculatorImpl())
"""

from capnrpc_trio._connection import Connection, Listener, connect, serve
from capnrpc_trio._runtime import Promise, TrioVat, open_vat

__all__ = ["Connection", "Listener", "Promise", "TrioVat", "connect", "open_vat", "serve"]
