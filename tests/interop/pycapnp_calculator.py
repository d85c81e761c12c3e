# mypy: disable-error-code="misc,name-defined"
"""The reference peer for the calculator (examples/calculator/calculator.capnp), in pycapnp.

``python pycapnp_calculator.py server`` serves a calculator on 127.0.0.1 (a free port, printed as
``PORT <n>``). Its bootstrap object is a ``CalculatorProbe`` (tests/schemas/
calculator_probe.capnp): the calculator plus ``liveObjects``, how many of the values and
functions it made for this connection are still alive. An ``evaluate`` whose expression is a bare
``previous`` answers at once with a *promise* for that very Value, resolved only when the next
request arrives (which is answered after the resolution): calls made on it meanwhile queue here,
and the resolution points back into the caller's own vat, so the caller must embargo.

``python pycapnp_calculator.py client HOST PORT SCENARIO`` runs one of ``SCENARIOS`` against our
server, checking every answer, then drops every capability but the bootstrap and prints
``RELEASED``; it stays connected until the server closes the connection (so the test can look at
the server's tables) and exits 0. A failed check exits with a traceback.

Started by tests/interop/test_driver_interop.py in a subprocess with a timeout; never imported.
"""

from __future__ import annotations

import asyncio
import gc
import operator
import os
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import capnp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
IMPORTS = [os.path.dirname(os.path.dirname(capnp.__file__))]
SCHEMAS = os.path.join(ROOT, "examples", "calculator"), os.path.join(ROOT, "tests", "schemas")
calculator = capnp.load(os.path.join(SCHEMAS[0], "calculator.capnp"), imports=IMPORTS)
probe = capnp.load(os.path.join(SCHEMAS[1], "calculator_probe.capnp"), imports=IMPORTS)
Calculator = calculator.Calculator

OPERATORS: dict[str, Callable[[float, float], float]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
}


def count_live(objects: weakref.WeakSet[Any]) -> int:
    """How many of ``objects`` are alive once garbage is collected."""
    gc.collect()
    return len(objects)


# == server =======================================================================================


async def evaluate(expression: Any, params: list[float] | None = None) -> float:
    which = expression.which()
    if which == "literal":
        return float(expression.literal)
    if which == "previous":
        return float((await expression.previous.read()).value)
    if which == "parameter":
        assert params is not None, "a parameter outside a function body"
        return float(params[expression.parameter])
    call = expression.call
    args = [await evaluate(p, params) for p in call.params]
    return float((await call.function.call(params=args)).value)


class ValueImpl(Calculator.Value.Server):
    def __init__(self, value: float) -> None:
        self.value = value

    async def read(self, **kwargs: Any) -> float:
        return self.value


class FunctionImpl(Calculator.Function.Server):
    def __init__(self, param_count: int, body: Any) -> None:
        self.param_count = param_count
        self.body = body.as_builder()

    async def call(self, params: Any, **kwargs: Any) -> float:
        if len(params) != self.param_count:
            raise ValueError(f"expected {self.param_count} arguments, got {len(params)}")
        return await evaluate(self.body, list(params))


class OperatorImpl(Calculator.Function.Server):
    def __init__(self, op: str) -> None:
        self.apply = OPERATORS[op]

    async def call(self, params: Any, **kwargs: Any) -> float:
        a, b = params
        return self.apply(a, b)


class Later(Calculator.Server):
    """Answers ``evaluate(previous=v)`` with ``v`` itself once ``gate`` opens."""

    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate

    async def evaluate(self, expression: Any, **kwargs: Any) -> Any:
        await self.gate.wait()
        return expression.previous


class CalculatorImpl(probe.CalculatorProbe.Server):
    def __init__(self) -> None:
        self.made: weakref.WeakSet[Any] = weakref.WeakSet()
        self.lazy: list[tuple[asyncio.Event, Any]] = []

    def _made(self, obj: Any) -> Any:
        self.made.add(obj)
        return obj

    async def _request(self) -> None:
        # Each request resolves the promises of earlier lazy `previous` evaluations, and is
        # answered only after that, so the caller hears of the resolution first.
        lazy, self.lazy = self.lazy, []
        for gate, _ in lazy:
            gate.set()
        for _, answer in lazy:
            await answer

    async def evaluate(self, expression: Any, **kwargs: Any) -> Any:
        await self._request()
        if expression.which() == "previous":
            gate = asyncio.Event()
            # A call on a local object is a promise until it returns: answering with its
            # pipelined capability makes the RPC system export a promise and Resolve it later.
            answer = Calculator._new_client(Later(gate)).evaluate(expression=expression)
            self.lazy.append((gate, answer))
            return answer.value
        return self._made(ValueImpl(await evaluate(expression)))

    async def defFunction(self, paramCount: int, body: Any, **kwargs: Any) -> Any:
        await self._request()
        return self._made(FunctionImpl(paramCount, body))

    async def getOperator(self, op: Any, **kwargs: Any) -> Any:
        await self._request()
        return self._made(OperatorImpl(str(op)))

    async def liveObjects(self, **kwargs: Any) -> int:
        await self._request()
        return count_live(self.made)


async def serve() -> None:
    async def new_connection(stream: Any) -> None:
        await capnp.TwoPartyServer(stream, bootstrap=CalculatorImpl()).on_disconnect()

    server = await capnp.AsyncIoStream.create_server(new_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


# == client =======================================================================================

MINE: weakref.WeakSet[Any] = weakref.WeakSet()  # the client's own server objects still alive


def lit(value: float) -> dict[str, Any]:
    return {"literal": value}


def call(function: Any, *params: Any) -> dict[str, Any]:
    return {"call": {"function": function, "params": list(params)}}


class CounterValue(Calculator.Value.Server):
    """A Value of the client's: reads return 1, 2, 3... in the order they run."""

    def __init__(self) -> None:
        MINE.add(self)
        self.reads = 0

    async def read(self, **kwargs: Any) -> float:
        self.reads += 1
        return float(self.reads)


class ConstantValue(Calculator.Value.Server):
    def __init__(self, value: float) -> None:
        MINE.add(self)
        self.value = value

    async def read(self, **kwargs: Any) -> float:
        return self.value


class Power(Calculator.Function.Server):
    """A function of the client's, called back by the server."""

    def __init__(self) -> None:
        MINE.add(self)
        self.calls = 0

    async def call(self, params: Any, **kwargs: Any) -> float:
        self.calls += 1
        base, exponent = params
        return float(base**exponent)


class Refusing(Calculator.Function.Server):
    def __init__(self) -> None:
        MINE.add(self)

    async def call(self, params: Any, **kwargs: Any) -> float:
        raise ValueError("the client's function refuses to compute")


async def read(value: Any) -> float:
    return float((await value.read()).value)


async def expect_failure(promise: Awaitable[Any], *texts: str) -> None:
    try:
        await promise
    except capnp.KjException as exc:
        for text in texts:
            assert text in exc.description, (text, exc.description)
    else:
        raise AssertionError(f"expected a failure mentioning {texts}")


async def pipelining(calc: Any) -> None:
    # evaluate() and read() go out back to back; so do getOperator() and the calls using it.
    assert await read(calc.evaluate(expression=lit(123)).value) == 123
    add = calc.getOperator(op="add").func
    times = calc.getOperator(op="multiply").func
    assert await read(calc.evaluate(expression=call(add, lit(123), lit(45))).value) == 168
    # Chains: one result feeds the next expression without ever being read here.
    ten = calc.evaluate(expression=call(add, lit(4), lit(6))).value
    seventy = calc.evaluate(expression=call(times, {"previous": ten}, lit(7))).value
    seventy_one = calc.evaluate(expression=call(add, {"previous": seventy}, lit(1))).value
    assert await read(seventy_one) == 71
    body = call(add, call(times, {"parameter": 0}, {"parameter": 1}), lit(1))
    f = calc.defFunction(paramCount=2, body=body).func
    assert await read(calc.evaluate(expression=call(f, lit(12), lit(34))).value) == 409


async def capabilities(calc: Any) -> None:
    # Ours to the server (read back by it), the server's back to it, both in one expression.
    mine = Calculator.Value._new_client(ConstantValue(5))
    theirs = calc.evaluate(expression=lit(2)).value
    add = calc.getOperator(op="add").func
    total = calc.evaluate(expression=call(add, {"previous": mine}, {"previous": theirs})).value
    assert await read(total) == 7
    again = calc.evaluate(expression=call(add, {"previous": total}, {"previous": mine})).value
    assert await read(again) == 12


async def callback(calc: Any) -> None:
    power = Power()
    fn = Calculator.Function._new_client(power)
    assert await read(calc.evaluate(expression=call(fn, lit(2), lit(10))).value) == 1024
    # The server keeps our function inside a function of its own and calls it from there.
    square = calc.defFunction(paramCount=1, body=call(fn, {"parameter": 0}, lit(2))).func
    assert await read(calc.evaluate(expression=call(square, lit(9))).value) == 81
    assert power.calls == 2


async def exceptions(calc: Any) -> None:
    divide = calc.getOperator(op="divide").func
    await expect_failure(
        read(calc.evaluate(expression=call(divide, lit(1), lit(0))).value),
        "ZeroDivisionError: float division by zero",
    )
    f = calc.defFunction(paramCount=2, body=lit(0)).func
    await expect_failure(
        read(calc.evaluate(expression=call(f, lit(1))).value), "expected 2 arguments, got 1"
    )
    refusing = Calculator.Function._new_client(Refusing())
    await expect_failure(
        read(calc.evaluate(expression=call(refusing, lit(1))).value),
        "the client's function refuses to compute",
    )
    # The connection is still fine.
    assert await read(calc.evaluate(expression=lit(1)).value) == 1


async def releases(calc: Any) -> None:
    async def work() -> None:
        power = Calculator.Function._new_client(Power())
        add = calc.getOperator(op="add").func
        values = [calc.evaluate(expression=lit(i)).value for i in range(4)]
        # The server's function holds our function (in its body) until it is released itself.
        f = calc.defFunction(paramCount=1, body=call(power, {"parameter": 0}, lit(3))).func
        total = calc.evaluate(expression=call(add, call(f, lit(2)), {"previous": values[3]}))
        assert await read(total.value) == 11
        assert [await read(v) for v in values] == [0, 1, 2, 3]

    await work()
    # Our releases went out before the next call: once it is answered, the server has dropped
    # its objects, and with the function it kept, its reference to ours. A threaded server may
    # still hold the function for a moment on the thread that ran it (its frame outlives the
    # answer it wrote), and then release ours just after answering: so call until it has,
    # for a few seconds at most.
    deadline = time.monotonic() + 5
    while True:
        assert await read(calc.evaluate(expression=lit(0)).value) == 0
        if not count_live(MINE):
            break
        assert time.monotonic() < deadline, list(MINE)


async def promise(calc: Any) -> None:
    counter = CounterValue()
    mine = Calculator.Value._new_client(counter)
    later = calc.evaluate(expression={"previous": mine}).value  # the server's promise
    first = [later.read() for _ in range(3)]
    # This request makes the server resolve the promise to our own Value; it is answered after
    # the Resolve, so the calls below are made while we wait for the Disembargo to come back.
    await calc.getOperator(op="add")
    rest = [later.read() for _ in range(2)]
    results = [float((await r).value) for r in first + rest]
    assert results == [1.0, 2.0, 3.0, 4.0, 5.0], results
    assert counter.reads == 5


SCENARIOS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "pipelining": pipelining,
    "capabilities": capabilities,
    "callback": callback,
    "exceptions": exceptions,
    "releases": releases,
    "promise": promise,
}


async def client(host: str, port: int, scenario: str) -> None:
    stream = await capnp.AsyncIoStream.create_connection(host=host, port=port)
    connection = capnp.TwoPartyClient(stream)
    calc = connection.bootstrap().cast_as(Calculator)
    await SCENARIOS[scenario](calc)
    gc.collect()
    print("RELEASED", flush=True)
    await connection.on_disconnect()


def main() -> None:
    if sys.argv[1] == "server":
        asyncio.run(capnp.run(serve()))
    elif sys.argv[1] == "client":
        host, port, scenario = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        asyncio.run(capnp.run(client(host, port, scenario)))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")


if __name__ == "__main__":
    main()
