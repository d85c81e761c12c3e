"""The calculator server: ``python server.py [ADDRESS]`` (see docs/tutorial.md).

ADDRESS is ``tcp://HOST:PORT`` (port 0 picks a free one) or ``unix:/PATH``; the default is
``tcp://127.0.0.1:4000``. ``calculator_capnp`` is the module ``capnrpc compile calculator.capnp``
wrote next to this file.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any

import trio
from calculator_capnp import Calculator

import capnrpc_trio

OPERATORS: dict[str, Callable[[float, float], float]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
}


async def evaluate(expression: Any, params: Sequence[float] = ()) -> float:
    """Compute an Expression; ``params`` are the arguments when it is a function's body."""
    which = expression.which()
    if which == "literal":
        return float(expression.literal)
    if which == "previous":
        # A Value capability from an earlier evaluate(): ask it for its number.
        with expression.previous as value:
            return float((await value.read()).value)
    if which == "parameter":
        return float(params[expression.parameter])
    call = expression.call
    args = [await evaluate(p, params) for p in call.params]
    with call.function as function:
        return float((await function.call(params=args)).value)


class ValueImpl(Calculator.Value.Server):
    """A computed number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def read(self) -> float:
        return self.value


class FunctionImpl(Calculator.Function.Server):
    """A function defined by the client with defFunction."""

    def __init__(self, param_count: int, body: Any) -> None:
        self.param_count = param_count
        self.body = body.as_builder()  # keep a copy: params are gone after the call returns

    async def call(self, params: Sequence[float]) -> float:
        if len(params) != self.param_count:
            raise ValueError(f"expected {self.param_count} arguments, got {len(params)}")
        return await evaluate(self.body, list(params))


class OperatorImpl(Calculator.Function.Server):
    """A built-in operator."""

    def __init__(self, name: str) -> None:
        self.apply = OPERATORS[name]

    def call(self, params: Sequence[float]) -> float:
        a, b = params
        return self.apply(a, b)


class CalculatorImpl(Calculator.Server):
    """The object clients get when they bootstrap."""

    async def evaluate(self, expression: Any) -> ValueImpl:
        return ValueImpl(await evaluate(expression))

    def defFunction(self, paramCount: int, body: Any) -> FunctionImpl:
        return FunctionImpl(paramCount, body)

    def getOperator(self, op: Any) -> OperatorImpl:
        return OperatorImpl(str(op))


async def main(address: str) -> None:
    async with capnrpc_trio.serve(address, CalculatorImpl()) as listener:
        print(f"calculator serving on {listener.address}", flush=True)
        await trio.sleep_forever()


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:4000")
