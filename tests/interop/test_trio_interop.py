"""The trio driver against the C++ reference (pycapnp in a subprocess), on the calculator.

Both directions, on examples/calculator/calculator.capnp: our ``capnrpc_trio`` client against a
pycapnp calculator server (tests/interop/pycapnp_calculator.py), and pycapnp clients against our
calculator (``capnrpc_trio.demo.calculator``). Each covers pipelining, capabilities passed both
ways, callbacks, exceptions raised on each side, releases (the exporting side's tables and live
objects back to nothing) and a promise resolved later, after calls were made on it, to a
capability of the caller's own, so that the caller has to embargo (Resolve, Disembargo).

The cyclic garbage collector is off during each test: releases must follow from reference
counts alone, or the tables would empty only whenever a collection happens to run.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

import capnrpc_trio
from capnrpc_core import RpcError
from capnrpc_core.rpc import Cap
from capnrpc_trio.demo.calculator import CalculatorImpl
from capnrpc_trio.demo.calculator_capnp import Calculator
from tests.interop.peers import CALCULATOR_PEER, pycapnp_server
from tests.interop.trio_peers import (
    TIMEOUT,
    CalculatorProbe,
    Wire,
    only,
    run_pycapnp_client,
    settle_tables,
)


@pytest.fixture(autouse=True)
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def lit(value: float) -> dict[str, Any]:
    return {"literal": value}


def prev(value: Any) -> dict[str, Any]:
    return {"previous": value}


def call(function: Any, *params: Any) -> dict[str, Any]:
    return {"call": {"function": function, "params": list(params)}}


class ConstantValue(Calculator.Value.Server):
    def __init__(self, value: float) -> None:
        self.value = value

    def read(self) -> float:
        return self.value


class CounterValue(Calculator.Value.Server):
    """Reads return 1, 2, 3... in the order they run."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> float:
        self.reads += 1
        return float(self.reads)


class Power(Calculator.Function.Server):
    """Our function, called back by the peer."""

    def __init__(self) -> None:
        self.calls = 0

    def call(self, params: Sequence[float]) -> float:
        self.calls += 1
        base, exponent = params
        return float(base**exponent)


class Refusing(Calculator.Function.Server):
    def call(self, params: Sequence[float]) -> float:
        raise ValueError("our function refuses to compute")


# == our client, pycapnp's server =================================================================


@pytest.fixture(scope="module")
def calculator_port() -> Iterator[int]:
    with pycapnp_server(script=CALCULATOR_PEER) as port:
        yield port


@asynccontextmanager
async def our_client(port: int) -> AsyncIterator[tuple[Any, Wire, capnrpc_trio.Connection]]:
    """A ``capnrpc_trio`` connection to the pycapnp calculator: its bootstrap, wire and itself."""
    wire = Wire()
    async with capnrpc_trio.open_vat(name="ours") as vat:
        vat.frame_observer = wire
        async with capnrpc_trio.connect(f"tcp://127.0.0.1:{port}", vat=vat) as conn:
            yield conn.bootstrap(Calculator), wire, conn


async def value_of(value: Any) -> float:
    return float((await value.read()).value)


async def live_objects(calc: Any) -> int:
    with calc.cast_as(CalculatorProbe) as calc_probe, calc_probe.liveObjects() as promise:
        return int((await promise).count)


async def test_our_client_pipelines_calls_to_pycapnp(calculator_port: int) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, wire, _):
            assert await value_of(calc.evaluate(expression=lit(123)).value) == 123
            # Bootstrap, evaluate and read all went out before the first answer came back.
            assert [d for d, _ in wire.lines[:4]] == ["send", "send", "send", "recv"]
            assert wire.sent()[2] == "Call #2 Value.read -> answer #1[0]"

            start = len(wire.lines)
            add = calc.getOperator(op="add").func
            times = calc.getOperator(op="multiply").func
            ten = calc.evaluate(expression=call(add, lit(4), lit(6))).value
            seventy = calc.evaluate(expression=call(times, prev(ten), lit(7))).value
            seventy_one = calc.evaluate(expression=call(add, prev(seventy), lit(1))).value
            assert await value_of(seventy_one) == 71
            # Six calls in one go; the results of earlier ones passed back as answers.
            burst = [line for _, line in wire.lines[start : start + 6]]
            assert all(d == "send" for d, _ in wire.lines[start : start + 6]), burst
            assert "caps=[your answer #" in burst[3] and "caps=[your answer #" in burst[4]

            body = call(add, call(times, {"parameter": 0}, {"parameter": 1}), lit(1))
            f = calc.defFunction(paramCount=2, body=body).func
            assert await value_of(calc.evaluate(expression=call(f, lit(12), lit(34))).value) == 409


async def test_our_client_passes_capabilities_both_ways(calculator_port: int) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, wire, conn):
            mine = conn.vat.local_client(ConstantValue(5), Calculator.Value)
            theirs = calc.evaluate(expression=lit(2)).value
            add = calc.getOperator(op="add").func
            total = calc.evaluate(expression=call(add, prev(mine), prev(theirs))).value
            assert await value_of(total) == 7
            # pycapnp read our Value, over the connection.
            assert wire.received("Value.read -> import")
            again = calc.evaluate(expression=call(add, prev(total), prev(mine))).value
            assert await value_of(again) == 12
            # Our capability went out under the same export id both times; theirs came back as
            # what they are to them (their exports and answers).
            first, second = (line for line in wire.sent("Calculator.evaluate") if "caps=" in line)
            assert re.findall(r"(?<!your )export \d+", first) == ["export 0"]
            assert re.findall(r"(?<!your )export \d+", second) == ["export 0"]
            assert "your answer #" in first and "your export " in second


async def test_pycapnp_calls_back_our_function(calculator_port: int) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, _, _):
            power = Power()
            assert await value_of(calc.evaluate(expression=call(power, lit(2), lit(10))).value) == (
                1024
            )
            # The server keeps our function inside one of its own and calls it from there.
            square = calc.defFunction(paramCount=1, body=call(power, {"parameter": 0}, lit(2)))
            nine_squared = calc.evaluate(expression=call(square.func, lit(9))).value
            assert await value_of(nine_squared) == 81
            assert power.calls == 2


async def test_exceptions_either_side_reach_the_other_readable(calculator_port: int) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, _, _):
            divide = calc.getOperator(op="divide").func
            with pytest.raises(RpcError) as raised:
                await value_of(calc.evaluate(expression=call(divide, lit(1), lit(0))).value)
            assert raised.value.type == "failed"
            assert "ZeroDivisionError: float division by zero" in raised.value.reason

            f = calc.defFunction(paramCount=2, body=lit(0)).func
            with pytest.raises(RpcError, match="expected 2 arguments, got 1"):
                await value_of(calc.evaluate(expression=call(f, lit(1))).value)

            # Raised here, received by pycapnp (which fails its evaluate with it), and back.
            with pytest.raises(RpcError) as raised:
                await value_of(calc.evaluate(expression=call(Refusing(), lit(1))).value)
            assert "ValueError: our function refuses to compute" in raised.value.reason

            assert await value_of(calc.evaluate(expression=lit(1)).value) == 1


async def test_releases_empty_pycapnp_objects_and_our_tables(calculator_port: int) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, wire, conn):
            power = Power()
            add = calc.getOperator(op="add").func
            values = [calc.evaluate(expression=lit(i)).value for i in range(4)]
            f = calc.defFunction(paramCount=1, body=call(power, {"parameter": 0}, lit(3))).func
            with calc.evaluate(expression=call(add, call(f, lit(2)), prev(values[3]))) as total:
                assert await value_of(total.value) == 11
            assert [await value_of(v) for v in values] == [0, 1, 2, 3]
            assert await live_objects(calc) == 6  # add, f and four values (total is released)
            assert len(conn.core.exports) == 1  # power, kept in f's body

            for client in (add, f, *values):
                client.release()
            await settle_tables(wire, conn.core, {"imports": 1, "questions": 0})
            # Our Releases went out before this call: pycapnp has freed its objects, and with
            # f its reference to our function.
            assert await live_objects(calc) == 0
            await settle_tables(wire, conn.core, only(imports=1))
            assert wire.received("Release import 0")


async def test_promise_resolved_later_to_our_own_value_is_embargoed(
    calculator_port: int,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with our_client(calculator_port) as (calc, wire, conn):
            counter = CounterValue()
            # A bare `previous` makes the peer answer with a promise for our own Value, resolved
            # when its next request arrives.
            later = calc.evaluate(expression=prev(counter)).value
            first = [later.read() for _ in range(3)]
            with calc.getOperator(op="add") as trigger:
                await trigger  # answered after the peer resolved the promise
            rest = [later.read() for _ in range(2)]
            results = [(await r).value for r in first + rest]
            assert results == [1.0, 2.0, 3.0, 4.0, 5.0]  # E-order across the embargo
            assert counter.reads == 5

            (resolve,) = wire.received("Resolve promise")
            assert resolve.endswith("-> your export 0")
            assert wire.sent("Disembargo sender_loopback")
            assert wire.received("Disembargo receiver_loopback")
            # The three early reads went to the promise; the two later ones, made after the
            # Resolve, waited here for the Disembargo and ran locally.
            assert len(wire.sent("Value.read")) == 3

            del first, rest, later
            await settle_tables(wire, conn.core, only(imports=1))
            assert await live_objects(calc) == 0


# == pycapnp's clients, our server ================================================================


class LazyCalculator(CalculatorImpl):
    """Our calculator, with the peer's lazy ``previous`` (see tests/interop/pycapnp_calculator.py).

    ``evaluate`` of a bare ``previous`` answers with a local promise, resolved to that very
    Value when the next request arrives (before that request is answered).
    """

    def __init__(self, vat: capnrpc_trio.TrioVat) -> None:
        self.vat = vat
        self.lazy: list[tuple[Cap, Any]] = []

    def _request(self) -> None:
        core = self.vat.vat
        lazy, self.lazy = self.lazy, []
        for promise, value in lazy:
            with value:
                core.resolve(promise, value.cap)
            core.release(promise)
        self.vat.flush()

    async def evaluate(self, expression: Any) -> Any:
        self._request()
        if expression.which() == "previous":
            core = self.vat.vat
            promise = core.new_promise()
            self.lazy.append((promise, expression.previous))
            return Calculator.Value(self.vat, core.add_ref(promise))
        return await super().evaluate(expression)

    def defFunction(self, paramCount: int, body: Any) -> Any:
        self._request()
        return super().defFunction(paramCount, body)

    def getOperator(self, op: Any) -> Any:
        self._request()
        return super().getOperator(op)


@asynccontextmanager
async def our_server() -> AsyncIterator[tuple[capnrpc_trio.Listener, Wire]]:
    wire = Wire()
    async with capnrpc_trio.open_vat(name="ours") as vat:
        vat.frame_observer = wire
        async with capnrpc_trio.serve("tcp://127.0.0.1:0", LazyCalculator(vat), vat=vat) as lst:
            yield lst, wire


async def pycapnp_client(scenario: str) -> Wire:
    """Run a scenario of the pycapnp client; check our tables are empty but for the bootstrap."""
    async with our_server() as (listener, wire):

        async def released(conn: capnrpc_trio.Connection) -> None:
            await settle_tables(wire, conn.core, only(exports=1))

        await run_pycapnp_client(listener, scenario, released)
        return wire


@pytest.mark.parametrize("scenario", ["pipelining", "capabilities", "callback", "releases"])
async def test_pycapnp_client(scenario: str) -> None:
    with trio.fail_after(TIMEOUT):
        wire = await pycapnp_client(scenario)
    assert wire.received("Bootstrap")
    if scenario == "pipelining":
        assert wire.received("Value.read -> answer #")
    if scenario in ("capabilities", "callback"):
        assert wire.sent("-> import")  # we called the client's own objects


class ServerLog(logging.Handler):
    """What ``capnrpc.server`` logged, as text only.

    A LogRecord keeps its traceback, whose frames keep the failed method's params, which keep
    their capabilities: pytest's own log capture would hold those until the test ends, and the
    tables would not empty. So the records are not passed on.
    """

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.texts.append(f"{record.getMessage()} | {exc}")

    def __enter__(self) -> ServerLog:
        logger = logging.getLogger("capnrpc.server")
        logger.addHandler(self)
        logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("capnrpc.server")
        logger.removeHandler(self)
        logger.propagate = True


async def test_pycapnp_client_gets_and_sends_readable_exceptions() -> None:
    with ServerLog() as log, trio.fail_after(TIMEOUT):
        await pycapnp_client("exceptions")
    # The client's checks cover our exceptions; its own reached us readable too.
    assert any("the client's function refuses to compute" in text for text in log.texts), log.texts


async def test_pycapnp_client_embargoes_our_promise_resolved_to_its_value() -> None:
    with trio.fail_after(TIMEOUT):
        wire = await pycapnp_client("promise")
    # Our promise went out, its calls came back to the client's own Value, and the client's
    # Disembargo was reflected after them.
    assert wire.sent("caps=[promise ")
    (resolve,) = wire.sent("Resolve promise")
    assert "-> your export" in resolve
    assert wire.received("Disembargo sender_loopback")
    assert wire.sent("Disembargo receiver_loopback")
    assert len(wire.sent("Value.read")) == 3
