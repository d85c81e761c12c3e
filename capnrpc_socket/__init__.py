"""capnrpc_socket: the driver for programs with no event loop (see docs/drivers-socket.md).

::

    with capnrpc_socket.connect("tcp://127.0.0.1:4000") as conn:
        calc = conn.bootstrap(calculator.Calculator)
        value = calc.evaluate(expression={"literal": 2.0}).value.read().wait(timeout=5)

    with capnrpc_socket.serve("tcp://127.0.0.1:4000", CalculatorImpl()) as server:
        server.serve_forever()
"""

from capnrpc_socket._connection import Connection, Listener, connect, serve
from capnrpc_socket._runtime import Promise, SocketVat, blocking, open_vat, wait_canceled

__all__ = [
    "Connection",
    "Listener",
    "Promise",
    "SocketVat",
    "blocking",
    "connect",
    "open_vat",
    "serve",
    "wait_canceled",
]
