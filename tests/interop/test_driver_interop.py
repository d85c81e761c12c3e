"""Every driver against the C++ reference (pycapnp in a subprocess), on the calculator.

Each scenario runs on every driver of the conformance suite (tests/conformance/drivers.py:
trio, asyncio, uvloop where it is installed, blocking sockets), both ways: our client of the
pycapnp calculator server, and the pycapnp calculator client of our server (both in
tests/interop/pycapnp_calculator.py). They cover pipelining, capabilities passed both ways,
callbacks, exceptions raised on each side, releases (the exporting side's tables and live
objects back to nothing) and a promise resolved, after calls were made on it, to a capability
of the caller's own, so that the caller has to embargo (Resolve, Disembargo). Our side of the
wire is checked frame by frame where the scenario is about it (what was pipelined, which ids a
capability went out under, who sent the Resolve and the Disembargos).

Waiting never sleeps. On the client side a call to the peer is the barrier: what we sent before
it reached the peer first, and what the peer sent before answering it reached us first. On the
server side :meth:`LoopServer.wait_until` checks its condition again after every frame.

The cyclic garbage collector is off during each test: releases must follow from reference
counts alone, or the tables would empty only whenever a collection happens to run.
"""

from __future__ import annotations

import gc
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from capnrpc_core import RpcError
from capnrpc_trio.demo.calculator_capnp import Calculator
from tests.conformance.drivers import ADAPTERS, CLIENT_TIMEOUT, Adapter, ClientKit, LoopServer
from tests.interop.calculators import (
    CalculatorProbe,
    ConstantValue,
    CounterValue,
    LazyCalculator,
    Power,
    Refusing,
    ServerLog,
    call,
    lit,
    only,
    prev,
)
from tests.interop.peers import CALCULATOR_PEER, WireLog, pycapnp_server
from tests.rpc.harness import table_sizes

T = TypeVar("T")

# Seconds the pycapnp client may take for a whole scenario.
PEER_TIMEOUT = 20.0
# Round trips a client waits for the tables to settle before it fails.
BARRIERS = 20

pytestmark = pytest.mark.timeout(60)

drivers = pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.name for a in ADAPTERS])


@pytest.fixture(autouse=True)
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# == our client, pycapnp's server =================================================================


@pytest.fixture(scope="module")
def calculator_port() -> Iterator[int]:
    with pycapnp_server(script=CALCULATOR_PEER) as port:
        yield port


class Client:
    """One scenario's side: the driver's kit, the peer's calculator, our wire and connection."""

    def __init__(self, kit: ClientKit, calc: Any, wire: WireLog, conn: Any) -> None:
        self.kit = kit
        self.calc = calc
        self.wire = wire
        self.conn = conn

    async def value_of(self, value: Any) -> float:
        return float((await self.kit.wait(value.read())).value)

    async def live_objects(self) -> int:
        """How many objects the peer made for us are alive (a round trip)."""
        with self.calc.cast_as(CalculatorProbe) as probe, probe.liveObjects() as promise:
            return int((await self.kit.wait(promise)).count)

    def tables(self) -> dict[str, int]:
        with self.conn.vat.lock():
            return table_sizes(self.conn.core)

    async def settle(self, expected: dict[str, int]) -> None:
        """Make round trips to the peer until our tables have the sizes in ``expected``."""
        for _ in range(BARRIERS):
            if self.tables() == expected:
                return
            await self.live_objects()
        pytest.fail(f"tables {self.tables()}, expected {expected}; wire: {self.wire.lines[-20:]}")


def run_client(adapter: Adapter, port: int, scenario: Callable[[Client], Awaitable[T]]) -> T:
    """Run ``scenario`` on ``adapter``'s driver, connected to the pycapnp calculator."""

    async def main(kit: ClientKit) -> T:
        wire = WireLog()
        async with kit.connect(f"tcp://127.0.0.1:{port}", frame_observer=wire) as conn:
            return await scenario(Client(kit, conn.bootstrap(Calculator), wire, conn))

    result: T = adapter.run_client(main, CLIENT_TIMEOUT)
    return result


@drivers
def test_our_client_pipelines_calls_to_pycapnp(adapter: Adapter, calculator_port: int) -> None:
    async def scenario(c: Client) -> None:
        calc, wire = c.calc, c.wire
        assert await c.value_of(calc.evaluate(expression=lit(123)).value) == 123
        # Bootstrap, evaluate and read all went out before the first answer came back.
        assert [d for d, _ in wire.lines[:4]] == ["send", "send", "send", "recv"]
        assert wire.sent()[2] == "Call #2 Value.read -> answer #1[0]"

        start = len(wire.lines)
        add = calc.getOperator(op="add").func
        times = calc.getOperator(op="multiply").func
        ten = calc.evaluate(expression=call(add, lit(4), lit(6))).value
        seventy = calc.evaluate(expression=call(times, prev(ten), lit(7))).value
        seventy_one = calc.evaluate(expression=call(add, prev(seventy), lit(1))).value
        assert await c.value_of(seventy_one) == 71
        # Six calls in one go; the results of earlier ones passed back as answers.
        burst = wire.lines[start : start + 6]
        assert [d for d, _ in burst] == ["send"] * 6, burst
        assert "caps=[your answer #" in burst[3][1] and "caps=[your answer #" in burst[4][1]

        body = call(add, call(times, {"parameter": 0}, {"parameter": 1}), lit(1))
        f = calc.defFunction(paramCount=2, body=body).func
        assert await c.value_of(calc.evaluate(expression=call(f, lit(12), lit(34))).value) == 409

    run_client(adapter, calculator_port, scenario)


@drivers
def test_our_client_passes_capabilities_both_ways(adapter: Adapter, calculator_port: int) -> None:
    async def scenario(c: Client) -> None:
        calc, wire = c.calc, c.wire
        mine = c.conn.vat.local_client(ConstantValue(5), Calculator.Value)
        theirs = calc.evaluate(expression=lit(2)).value
        add = calc.getOperator(op="add").func
        total = calc.evaluate(expression=call(add, prev(mine), prev(theirs))).value
        assert await c.value_of(total) == 7
        # pycapnp read our Value, over the connection.
        assert wire.received("Value.read -> import")
        again = calc.evaluate(expression=call(add, prev(total), prev(mine))).value
        assert await c.value_of(again) == 12
        # Our capability went out under the same export id both times; theirs came back as
        # what they are to them (their exports and answers).
        first, second = (line for line in wire.sent("Calculator.evaluate") if "caps=" in line)
        assert re.findall(r"(?<!your )export \d+", first) == ["export 0"]
        assert re.findall(r"(?<!your )export \d+", second) == ["export 0"]
        assert "your answer #" in first and "your export " in second

    run_client(adapter, calculator_port, scenario)


@drivers
def test_pycapnp_calls_back_our_function(adapter: Adapter, calculator_port: int) -> None:
    async def scenario(c: Client) -> int:
        calc = c.calc
        power = Power()
        assert await c.value_of(calc.evaluate(expression=call(power, lit(2), lit(10))).value) == (
            1024
        )
        # The server keeps our function inside one of its own and calls it from there.
        square = calc.defFunction(paramCount=1, body=call(power, {"parameter": 0}, lit(2)))
        nine_squared = calc.evaluate(expression=call(square.func, lit(9))).value
        assert await c.value_of(nine_squared) == 81
        return power.calls

    assert run_client(adapter, calculator_port, scenario) == 2


@drivers
def test_exceptions_either_side_reach_the_other_readable(
    adapter: Adapter, calculator_port: int
) -> None:
    async def scenario(c: Client) -> None:
        calc = c.calc
        divide = calc.getOperator(op="divide").func
        with pytest.raises(RpcError) as raised:
            await c.value_of(calc.evaluate(expression=call(divide, lit(1), lit(0))).value)
        assert raised.value.type == "failed"
        assert "ZeroDivisionError: float division by zero" in raised.value.reason

        f = calc.defFunction(paramCount=2, body=lit(0)).func
        with pytest.raises(RpcError, match="expected 2 arguments, got 1"):
            await c.value_of(calc.evaluate(expression=call(f, lit(1))).value)

        # Raised here, received by pycapnp (which fails its evaluate with it), and back.
        with pytest.raises(RpcError) as raised:
            await c.value_of(calc.evaluate(expression=call(Refusing(), lit(1))).value)
        assert "ValueError: our function refuses to compute" in raised.value.reason

        assert await c.value_of(calc.evaluate(expression=lit(1)).value) == 1

    with ServerLog():  # our Refusing's traceback, kept out of pytest's log capture
        run_client(adapter, calculator_port, scenario)


@drivers
def test_releases_empty_pycapnp_objects_and_our_tables(
    adapter: Adapter, calculator_port: int
) -> None:
    async def scenario(c: Client) -> None:
        calc, conn = c.calc, c.conn
        power = Power()
        add = calc.getOperator(op="add").func
        values = [calc.evaluate(expression=lit(i)).value for i in range(4)]
        f = calc.defFunction(paramCount=1, body=call(power, {"parameter": 0}, lit(3))).func
        with calc.evaluate(expression=call(add, call(f, lit(2)), prev(values[3]))) as total:
            assert await c.value_of(total.value) == 11
        assert [await c.value_of(v) for v in values] == [0, 1, 2, 3]
        assert await c.live_objects() == 6  # add, f and four values (total is released)
        with conn.vat.lock():
            assert len(conn.core.exports) == 1  # power, kept in f's body

        for client in (add, f, *values):
            client.release()
        # Our Releases went out before this call: pycapnp has freed its objects, and with f
        # its reference to our function.
        assert await c.live_objects() == 0
        await c.settle(only(imports=1))
        assert c.wire.received("Release import 0")

    run_client(adapter, calculator_port, scenario)


@drivers
def test_promise_resolved_later_to_our_own_value_is_embargoed(
    adapter: Adapter, calculator_port: int
) -> None:
    async def scenario(c: Client) -> None:
        calc, wire, kit = c.calc, c.wire, c.kit
        counter = CounterValue()
        # A bare `previous` makes the peer answer with a promise for our own Value, resolved
        # when its next request arrives.
        later = calc.evaluate(expression=prev(counter)).value
        first = [later.read() for _ in range(3)]
        with calc.getOperator(op="add") as trigger:
            await kit.wait(trigger)  # answered after the peer resolved the promise
        rest = [later.read() for _ in range(2)]
        results = [(await kit.wait(r)).value for r in first + rest]
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
        await c.settle(only(imports=1))
        assert await c.live_objects() == 0

    run_client(adapter, calculator_port, scenario)


# == pycapnp's client, our server =================================================================


def run_pycapnp_client(adapter: Adapter, scenario: str) -> LoopServer:
    """Serve our calculator on ``adapter``'s driver to the pycapnp client's ``scenario``.

    Once the client has checked its answers and dropped its capabilities (it prints
    ``RELEASED``), our tables must empty but for the bootstrap export; then the server closes
    the connection and the client must exit 0. Returns the (stopped) server, for its frames.
    """
    calculator = LazyCalculator()
    server = adapter.start_server("tcp://127.0.0.1:0", calculator)
    try:
        calculator.runtime = server.listener.vat
        host, port = server.address.removeprefix("tcp://").rsplit(":", 1)
        command = [sys.executable, str(CALCULATOR_PEER), "client", host, port, scenario]
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ) as proc:
            try:
                assert proc.stdout is not None
                output = _read_until(proc.stdout.fileno(), b"RELEASED\n", PEER_TIMEOUT)
                if b"RELEASED\n" not in output:
                    pytest.fail(
                        f"the pycapnp client ({scenario}) did not finish:\n"
                        + output.decode(errors="replace")
                    )

                def released() -> bool:
                    (conn,) = server.listener.connections
                    return table_sizes(conn.core) == only(exports=1)

                server.wait_until(released, "our tables empty but for the bootstrap")
                server.stop()
                output += _read_until(proc.stdout.fileno(), None, PEER_TIMEOUT)
                assert proc.wait(PEER_TIMEOUT) == 0, output.decode(errors="replace")
            finally:
                proc.kill()
    finally:
        server.stop()
    return server


def _read_until(fd: int, marker: bytes | None, timeout: float) -> bytes:
    """What ``fd`` gives until ``marker`` (or, for None, the end), or the timeout passes."""
    output = bytearray()
    deadline = time.monotonic() + timeout
    while marker is None or marker not in output:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        output += chunk
    return bytes(output)


@drivers
@pytest.mark.parametrize("scenario", ["pipelining", "capabilities", "callback", "releases"])
def test_pycapnp_client(adapter: Adapter, scenario: str) -> None:
    server = run_pycapnp_client(adapter, scenario)
    assert server.lines("recv", "Bootstrap")
    if scenario == "pipelining":
        assert server.lines("recv", "Value.read -> answer #")
    if scenario in ("capabilities", "callback"):
        assert server.lines("send", "-> import")  # we called the client's own objects


@drivers
def test_pycapnp_client_gets_and_sends_readable_exceptions(adapter: Adapter) -> None:
    with ServerLog() as log:
        run_pycapnp_client(adapter, "exceptions")
    # The client's checks cover our exceptions; its own reached us readable too.
    assert any("the client's function refuses to compute" in text for text in log.texts), log.texts


@drivers
def test_pycapnp_client_embargoes_our_promise_resolved_to_its_value(adapter: Adapter) -> None:
    server = run_pycapnp_client(adapter, "promise")
    # Our promise went out, its calls came back to the client's own Value, and the client's
    # Disembargo was reflected after them.
    assert server.lines("send", "caps=[promise ")
    (resolve,) = server.lines("send", "Resolve promise")
    assert "-> your export" in resolve
    assert server.lines("recv", "Disembargo sender_loopback")
    assert server.lines("send", "Disembargo receiver_loopback")
    assert len(server.lines("send", "Value.read")) == 3
