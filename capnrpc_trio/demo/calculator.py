"""The calculator service of ``capnrpc demo`` (examples/calculator has the same, standalone).

The schema is examples/calculator/calculator.capnp; ``calculator_capnp`` beside this file is
the module ``capnrpc compile`` made from it, so the demo needs no schema parser at run time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from capnrpc_trio.demo.calculator_capnp import Calculator

__all__ = [
    "OPERATORS",
    "CalculatorImpl",
    "FunctionImpl",
    "OperatorImpl",
    "ValueImpl",
    "evaluate",
]

OPERATORS: dict[str, Callable[[float, float], float]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
}


async def evaluate(expression: Any, params: Sequence[float] = ()) -> float:
    """The value of an ``Expression`` (``params``: the arguments of a function body)."""
    which = expression.which()
    if which == "literal":
        return float(expression.literal)
    if which == "previous":
        with expression.previous as value:
            return float((await value.read()).value)
    if which == "parameter":
        return float(params[expression.parameter])
    call = expression.call
    args = [await evaluate(p, params) for p in call.params]
    with call.function as function:
        return float((await function.call(params=args)).value)


class ValueImpl(Calculator.Value.Server):
    """A computed number: read it, or pass the capability into another expression."""

    def __init__(self, value: float) -> None:
        self.value = value

    def read(self) -> float:
        return self.value


class FunctionImpl(Calculator.Function.Server):
    """A function the client defined: its body, evaluated with the call's arguments."""

    def __init__(self, param_count: int, body: Any) -> None:
        self.param_count = param_count
        # A copy: the params of defFunction are gone once it returns.
        self.body = body.as_builder()

    async def call(self, params: Sequence[float]) -> float:
        if len(params) != self.param_count:
            raise ValueError(f"expected {self.param_count} arguments, got {len(params)}")
        return await evaluate(self.body, list(params))


class OperatorImpl(Calculator.Function.Server):
    """A built-in binary operator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.apply = OPERATORS[name]

    def call(self, params: Sequence[float]) -> float:
        if len(params) != 2:
            raise ValueError(f"{self.name} takes 2 arguments, got {len(params)}")
        return self.apply(params[0], params[1])


class CalculatorImpl(Calculator.Server):
    """The bootstrap object."""

    async def evaluate(self, expression: Any) -> ValueImpl:
        return ValueImpl(await evaluate(expression))

    def defFunction(self, paramCount: int, body: Any) -> FunctionImpl:
        return FunctionImpl(paramCount, body)

    def getOperator(self, op: Any) -> OperatorImpl:
        return OperatorImpl(str(op))
