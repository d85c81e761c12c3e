"""The calculator client: ``python client.py [ADDRESS]`` (see docs/tutorial.md).

Connects to a running ``server.py`` (default ``tcp://127.0.0.1:4000``) and computes a few
things, sending each computation in one go: calls are made on results that have not arrived
yet (promise pipelining), so each line below costs one network round trip.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import trio
from calculator_capnp import Calculator

import capnrpc_trio


def literal(value: float) -> dict[str, Any]:
    return {"literal": value}


def call(function: Any, *params: Any) -> dict[str, Any]:
    return {"call": {"function": function, "params": list(params)}}


class Power(Calculator.Function.Server):
    """A function that runs here, in the client; the server calls it back."""

    def call(self, params: Sequence[float]) -> float:
        base, exponent = params
        return float(base**exponent)


async def main(address: str) -> None:
    async with capnrpc_trio.connect(address) as conn:
        calc = conn.bootstrap(Calculator)

        # evaluate() returns a promise; .value is the Value capability in its results, usable
        # before they arrive, so read() goes out right behind evaluate().
        result = await calc.evaluate(expression=literal(123)).value.read()
        print("123 =", result.value)

        add = calc.getOperator(op="add").func  # a capability we have not received yet
        times = calc.getOperator(op="multiply").func
        result = await calc.evaluate(expression=call(add, literal(123), literal(45))).value.read()
        print("123 + 45 =", result.value)

        # Feed one result into the next expression without ever reading it.
        ten = calc.evaluate(expression=call(add, literal(4), literal(6))).value
        seventy = calc.evaluate(expression=call(times, {"previous": ten}, literal(7))).value
        print("(4 + 6) * 7 =", (await seventy.read()).value)

        # f(x, y) = x * y + 1, defined on the server.
        body = call(add, call(times, {"parameter": 0}, {"parameter": 1}), literal(1))
        f = calc.defFunction(paramCount=2, body=body).func
        result = await calc.evaluate(expression=call(f, literal(12), literal(34))).value.read()
        print("f(12, 34) =", result.value)

        # A function of our own, called back by the server.
        result = await calc.evaluate(expression=call(Power(), literal(2), literal(10))).value.read()
        print("2 ** 10 =", result.value)


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:4000")
