"""One suite for every driver: each scenario runs for every (client driver, server driver) pair.

The client runs in the test's thread, the server in a thread of its own (see drivers.py).
Nothing sleeps: a scenario waits for promises, for ``threading.Event`` objects set by the
server's objects, or for a condition on the server's state re-checked after every frame.
"""

from __future__ import annotations

import gc
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import capnrpc_socket._runtime
from capnrpc_core import RpcError
from capnrpc_core.driver import WRITE_SLICE
from capnrpc_core.rpc import RpcLimits
from capnrpc_core.rpc.messages import Call, Finish, Message, Release, Return
from tests.conformance.conftest import Pair
from tests.conformance.drivers import ClientKit, LoopServer
from tests.conformance.services import ConfEcho, OrderedEcho, rpctest
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CallbackImpl, CounterImpl

pytestmark = pytest.mark.timeout(60)

ECHO_ID = rpctest.Echo.schema.node.id
SINK_ID = rpctest.Sink.schema.node.id
HOLD, NEW_COUNTER = 2, 4  # Echo method ordinals
PROMPTLY = 5.0  # seconds: a failure that takes longer than this is not prompt


def received_calls(server: LoopServer, interface_id: int, method_id: int) -> list[Call]:
    return [
        m
        for d, m in server.messages()
        if d == "recv"
        and isinstance(m, Call)
        and (m.interface_id, m.method_id) == (interface_id, method_id)
    ]


def server_tables_empty(server: LoopServer) -> bool:
    """Evaluated on the server's thread: one connection, open, with empty tables."""
    conns = list(server.listener.connections)
    return len(conns) == 1 and all(c.core.open and tables_empty(c.core) for c in conns)


def no_answers(server: LoopServer) -> bool:
    """Evaluated on the server's thread: no question of the client is remembered."""
    return not any(c.core.answers for c in server.listener.connections)


def bootstrap_echo(server: LoopServer) -> ConfEcho:
    echo = server.bootstrap
    assert isinstance(echo, ConfEcho)
    return echo


async def wait_event(kit: ClientKit, event: Any, what: str) -> None:
    if not await kit.blocking(event.wait, PROMPTLY):
        raise AssertionError(f"timed out waiting for {what}")


# == bootstrap and calls ==========================================================================


def test_bootstrap(pair: Pair) -> None:
    server = pair.serve()

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert isinstance(echo, rpctest.Echo)
            assert (await kit.wait(echo.ping(1))).value == 2
            again = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(again.echo(text="again"))).text == "again"
            counter = conn.bootstrap(rpctest.Counter)
            with pytest.raises(RpcError) as info:
                await kit.wait(counter.next())
            assert info.value.type == "unimplemented"
            assert "Counter.next" in info.value.reason

    pair.run(scenario)
    assert server.address.startswith("tcp://127.0.0.1:")
    assert not server.address.endswith(":0")


def test_bootstrap_factory_per_connection(pair: Pair) -> None:
    peers: list[str] = []
    made: list[ConfEcho] = []

    def factory(peer: str) -> ConfEcho:
        peers.append(peer)
        made.append(pair.echo())
        return made[-1]

    server = pair.serve(factory)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as first, kit.connect(server.address) as second:
            for conn, start in ((first, 10), (second, 20)):
                echo = conn.bootstrap(rpctest.Echo)
                assert (await kit.wait(echo.newCounter(start).counter.next())).value == start + 1

    pair.run(scenario)
    assert len(peers) == 2 and peers[0] != peers[1]
    assert all(p.startswith("tcp://127.0.0.1:") for p in peers)
    assert [[c.value for c in echo.counters] for echo in made] == [[11], [21]]


def test_calls(pair: Pair) -> None:
    server = pair.serve()
    big = "ü" * 150_000  # 300 kB of text: many reads and writes on both transports

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(echo.echo(text="hello"))).text == "hello"
            results = await kit.wait(echo.multi(a=6, b=7))
            assert (results.sum, results.product) == (13, 42)
            assert (await kit.wait(echo.multi(2, 5))).product == 10
            assert (await kit.wait(echo.echo(text=big))).text == big
            promise = echo.ping(41)
            first = await kit.wait(promise)
            assert (await kit.wait(promise)) is first and first.value == 42

    pair.run(scenario)


def test_calls_start_in_the_order_they_were_made(pair: Pair) -> None:
    ordered = OrderedEcho(pair.flavor)
    server = pair.serve(ordered)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promises = [echo.ping(i) if i % 3 else echo.echo(text=str(i)) for i in range(1, 61)]
            for promise in promises:
                await kit.wait(promise)

    pair.run(scenario)
    assert ordered.started == [i if i % 3 else -i for i in range(1, 61)]


def test_a_long_burst_of_calls_leaves_in_slices(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Else the socket driver's flusher writes held-back calls within milliseconds anyway.
    monkeypatch.setattr(capnrpc_socket._runtime, "FLUSH_DELAY", 3600.0)
    server = pair.serve()
    burst = 3 * WRITE_SLICE

    def calls_received() -> int:
        return sum(1 for d, m in server.messages() if d == "recv" and isinstance(m, Call))

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(echo.ping(0))).value == 1
            promises = [echo.ping(i) for i in range(1, burst + 1)]
            # This thread blocks outside the driver, which cannot write the burst as it waits:
            # what reaches the server now was written while the calls were being made (two
            # slices at least; a Finish of ping(0) may have taken a place in the first).
            with ThreadPoolExecutor(1) as watcher:  # a trio server refuses trio's thread
                watcher.submit(
                    server.wait_until,
                    lambda: calls_received() >= 1 + 2 * WRITE_SLICE,
                    "two slices",
                ).result()
            assert [(await kit.wait(p)).value for p in promises] == list(range(2, burst + 2))

    pair.run(scenario)


# == pipelining and capabilities ==================================================================


def test_pipelining(pair: Pair) -> None:
    server = pair.serve()

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(echo.newCounter(start=41).counter.next())).value == 42
            promise = echo.info(point={"x": 9, "y": -1}, label="here")
            counted = promise.info.counter.next()
            pinged = promise.info.labels.echo.ping(5)
            assert (await kit.wait(counted)).value == 10
            assert (await kit.wait(pinged)).value == 6
            point = await kit.wait(promise.info.point)
            assert (point.x, point.y) == (9, -1)
            assert (await kit.wait(promise)).info.labels.label == "here"

    pair.run(scenario)
    (new_counter,) = received_calls(server, ECHO_ID, NEW_COUNTER)
    counter_id = rpctest.Counter.schema.node.id
    nexts = received_calls(server, counter_id, 0)
    # The first next() went to the promised answer of newCounter, not to an import.
    pa = nexts[0].target.promised_answer
    assert pa is not None
    assert (pa.question_id, pa.transform) == (new_counter.question_id, (0,))


def test_capabilities_both_ways(pair: Pair) -> None:
    server = pair.serve()

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            mine = CounterImpl(100)
            await kit.wait(echo.keep(cap=mine))
            back = (await kit.wait(echo.kept())).cap
            assert (await kit.wait(back.next())).value == 101
            assert mine.value == 101  # it ran here, on the client's own object
            theirs = (await kit.wait(echo.newCounter(0))).counter
            assert isinstance(theirs, rpctest.Counter)
            assert (await kit.wait(theirs.next())).value == 1
            me = (await kit.wait(echo.getSelf())).self
            assert (await kit.wait(me.ping(1))).value == 2
            # One of theirs, passed back to them, arrives as their own object.
            await kit.wait(echo.keep(cap=theirs))
            assert (await kit.wait((await kit.wait(echo.kept())).cap.next())).value == 2
            for client in (back, theirs, me):
                client.release()

    pair.run(scenario)
    assert bootstrap_echo(server).counters[0].value == 2


def test_callbacks(pair: Pair) -> None:
    server = pair.serve()

    class AsyncCallback(rpctest.Callback.Server):  # type: ignore[misc]
        async def call(self, value: int) -> int:
            return value * 3

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            callback = CallbackImpl()
            assert (await kit.wait(echo.callBack(callback=callback, value=3))).result == 1012
            assert callback.seen == [3, 6]
            assert (await kit.wait(echo.callBack(callback=AsyncCallback(), value=2))).result == 1018

    pair.run(scenario)


def test_exceptions(pair: Pair) -> None:
    server = pair.serve()

    class Failing(rpctest.Callback.Server):  # type: ignore[misc]
        async def call(self, value: int) -> int:
            raise KeyError(value)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.fail(message="bad input", kind="value"))
            assert (info.value.type, info.value.reason) == ("failed", "ValueError: bad input")
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.fail(message="later", kind="rpc"))
            assert (info.value.type, info.value.reason) == ("overloaded", "later")
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.fail(message="nope", kind="unimplemented"))
            assert info.value.type == "unimplemented"
            # The client's exception travels to the server and back, reason intact.
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.callBack(callback=Failing(), value=7))
            assert info.value.type == "failed" and "KeyError: 7" in info.value.reason
            assert (await kit.wait(echo.ping(0))).value == 1

    pair.run(scenario)


# == cancellation and disconnects =================================================================


def _holds(server: LoopServer) -> list[tuple[Call, list[tuple[str, Message]]]]:
    """Each hold Call received, with the messages after it (ids can be reused before it)."""
    messages = server.messages()
    return [
        (m, messages[i + 1 :])
        for i, (d, m) in enumerate(messages)
        if d == "recv" and isinstance(m, Call) and (m.interface_id, m.method_id) == (ECHO_ID, HOLD)
    ]


def _hold_finished(server: LoopServer) -> bool:
    holds = _holds(server)
    return bool(holds) and all(
        any(
            d == "recv" and isinstance(m, Finish) and m.question_id == h.question_id
            for d, m in after
        )
        for h, after in holds
    )


def test_cancel_sends_finish_and_cancels_the_method(pair: Pair) -> None:
    server = pair.serve()
    held = bootstrap_echo(server)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await wait_event(kit, held.holding, "the method to start")
            promise.cancel()
            await wait_event(kit, held.hold_cancelled, "the method to be cancelled")
            await kit.blocking(server.wait_until, lambda: _hold_finished(server), "Finish")
            await kit.blocking(server.wait_until, lambda: no_answers(server), "answers forgotten")
            with pytest.raises(RpcError, match="canceled"):
                await kit.wait(promise)
            assert (await kit.wait(echo.ping(1))).value == 2  # the connection is fine

    pair.run(scenario)


def test_timeout_sends_finish_and_cancels_the_method(pair: Pair) -> None:
    server = pair.serve()
    held = bootstrap_echo(server)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await wait_event(kit, held.holding, "the method to start")
            with pytest.raises(TimeoutError):
                await kit.wait(promise, timeout=0.01)  # hold never returns
            await wait_event(kit, held.hold_cancelled, "the method to be cancelled")
            await kit.blocking(server.wait_until, lambda: _hold_finished(server), "Finish")
            assert (await kit.wait(echo.ping(1))).value == 2

    pair.run(scenario)
    ((hold, after),) = _holds(server)
    returns = []
    for direction, message in after:
        if direction == "recv" and isinstance(message, Call):
            if message.question_id == hold.question_id:
                break  # the question id was freed and reused (by the ping)
        elif direction == "send" and isinstance(message, Return):
            returns.append(message)
    # The server answered the canceled call (as canceled) exactly once, or not at all.
    assert len([r for r in returns if r.answer_id == hold.question_id]) <= 1


def test_server_dropping_the_socket_fails_pending_calls_promptly(pair: Pair) -> None:
    server = pair.serve()
    held = bootstrap_echo(server)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await wait_event(kit, held.holding, "the method to start")
            await kit.blocking(server.drop_connections)
            with pytest.raises(RpcError) as info:
                await kit.wait(promise, timeout=PROMPTLY)
            assert info.value.type == "disconnected"
            assert conn.closed
            assert conn.close_reason is not None and conn.close_reason.type == "disconnected"
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.ping(1), timeout=PROMPTLY)
            assert info.value.type == "disconnected"
            # The server cancelled the method of the connection it lost.
            await wait_event(kit, held.hold_cancelled, "the method to be cancelled")

    pair.run(scenario)


def test_client_leaving_cancels_the_servers_methods(pair: Pair) -> None:
    server = pair.serve()
    held = bootstrap_echo(server)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await wait_event(kit, held.holding, "the method to start")
        with pytest.raises(RpcError) as info:
            await kit.wait(promise, timeout=PROMPTLY)
        assert info.value.type == "disconnected"
        await wait_event(kit, held.hold_cancelled, "the method to be cancelled")

    pair.run(scenario)


def test_server_closing_fails_pending_calls(pair: Pair) -> None:
    server = pair.serve()
    held = bootstrap_echo(server)

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await wait_event(kit, held.holding, "the method to start")
            await kit.blocking(server.stop)
            with pytest.raises(RpcError) as info:
                await kit.wait(promise, timeout=PROMPTLY)
            assert info.value.type == "disconnected"
            assert held.hold_cancelled.is_set()

    pair.run(scenario)


# == limits and streaming =========================================================================


def test_server_side_limit_answers_overloaded(pair: Pair) -> None:
    server = pair.serve(limits=RpcLimits(max_incoming_call_bytes=2000))

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            with pytest.raises(RpcError) as info:
                await kit.wait(echo.echo(text="x" * 5000))
            assert info.value.type == "overloaded"
            assert "too many bytes" in info.value.reason
            assert (await kit.wait(echo.echo(text="small"))).text == "small"

    pair.run(scenario)


def test_streaming_with_flow_control(pair: Pair) -> None:
    server = pair.serve(pair.echo(gated_sinks=True))
    chunk = b"x" * 300

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address, limits=RpcLimits(stream_window_bytes=1000)) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            stream = (await kit.wait(echo.sink())).sink
            vat = stream.runtime.vat
            sent = 0
            while True:
                last = stream.write(data=chunk)
                sent += 1
                if vat.stream_window_full(stream.cap):
                    break  # awaiting ``last`` would wait until a write is answered
                # Returns at once while the window has room, although no write is answered.
                await kit.wait(last)
            assert 1 < sent < 10
            await kit.blocking(
                server.wait_until,
                lambda: len(received_calls(server, SINK_ID, 0)) == sent,
                "the writes to arrive",
            )
            (sink,) = bootstrap_echo(server).sinks
            await wait_event(kit, sink.first_started, "the first write to start")
            assert sink.started == 1  # the others wait behind it: one streaming call at a time
            sink.gate.open()
            await kit.wait(last)
            for _ in range(10 - sent):
                await kit.wait(stream.write(data=chunk))  # waits while the window is full
            done = await kit.wait(stream.done())
            assert (done.total, done.writes) == (3000, 10)

    pair.run(scenario)


def test_a_failed_streaming_call_fails_later_ones(pair: Pair) -> None:
    server = pair.serve()

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            stream = (await kit.wait(echo.sink())).sink
            await kit.wait(stream.write(data=b"fine"))
            boom = stream.write(data=b"boom")
            try:
                await kit.wait(boom)  # returns at once, unless the failure is known already
            except RpcError as exc:
                assert "cannot write boom" in exc.reason
            with pytest.raises(RpcError, match="cannot write boom"):
                await kit.wait(stream.done())
            with pytest.raises(RpcError, match="cannot write boom"):
                await kit.wait(stream.write(data=b"more"))

    pair.run(scenario)


# == releases =====================================================================================


def test_releases_leave_the_tables_empty(pair: Pair) -> None:
    server = pair.serve()

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            counter = (await kit.wait(echo.newCounter(1))).counter
            await kit.wait(counter.next())
            pipelined = echo.info(point={"x": 1, "y": 2}, label="l").info.counter
            await kit.wait(pipelined.next())
            with echo.getSelf() as promise:
                me = (await kit.wait(promise)).self
                with me:
                    await kit.wait(me.ping(1))
            await kit.wait(echo.keep(cap=CounterImpl()))
            await kit.wait(echo.keep(cap=None))  # the server releases ours
            for start in range(3):  # dropped, left to finalizers
                dropped = (await kit.wait(echo.newCounter(start))).counter
                await kit.wait(dropped.next())
            del dropped
            counter.release()
            pipelined.release()
            echo.release()
            gc.collect()
            await kit.blocking(
                server.wait_until, lambda: server_tables_empty(server), "empty tables"
            )
            assert tables_empty(conn.core), table_sizes(conn.core)

    pair.run(scenario)
    released = [m for d, m in server.messages() if d == "recv" and isinstance(m, Release)]
    assert len(released) >= 6
    assert any(d == "send" and isinstance(m, Release) for d, m in server.messages())


# == transports ===================================================================================


def test_unix_socket(pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "rpc.sock"
    server = pair.serve(address=f"unix:{path}")
    assert server.address == f"unix:{path}"

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(echo.echo(text="over unix"))).text == "over unix"
            assert (await kit.wait(echo.newCounter(1).counter.next())).value == 2
            assert (await kit.wait(echo.callBack(callback=CallbackImpl(), value=1))).result == 1004

    pair.run(scenario)
    assert path.exists()
    server.stop()
    assert not path.exists()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_ipv6_loopback(pair: Pair) -> None:
    server = pair.serve(address="tcp://[::1]:0")
    # Port 0 asked for a free port; the address says which, in the same bracketed form.
    host, port = server.address.removeprefix("tcp://").rsplit(":", 1)
    assert host == "[::1]" and int(port) > 0

    async def scenario(kit: ClientKit) -> None:
        async with kit.connect(server.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await kit.wait(echo.echo(text="over IPv6"))).text == "over IPv6"
            assert (await kit.wait(echo.callBack(callback=CallbackImpl(), value=1))).result == 1004

    pair.run(scenario)
