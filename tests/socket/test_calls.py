"""The socket driver end to end over loopback TCP: calls, pipelining, capabilities, exceptions."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import pytest

import capnrpc_socket
from capnrpc_core import RpcError
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import Call, Return
from capnrpc_core.wire.framing import FrameDecoder
from capnrpc_core.wire.reader import MessageReader
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CallbackImpl, CounterImpl
from tests.socket.conftest import TIMEOUT, Pair, SocketEcho, open_pair, rpctest

pytestmark = pytest.mark.timeout(30)


def test_bootstrap_and_calls() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        assert isinstance(echo, rpctest.Echo)
        assert echo.echo(text="hello").wait(TIMEOUT).text == "hello"
        assert echo.ping(1).wait(TIMEOUT).value == 2
        results = echo.multi(a=6, b=7).wait(TIMEOUT)
        assert (results.sum, results.product) == (13, 42)
        assert p.listener.address.startswith("tcp://127.0.0.1:")
        assert not p.listener.address.endswith(":0")


class Gated(SocketEcho):
    """Holds the answers of ``newCounter`` and ``info`` back until ``gate`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def newCounter(self, start: int) -> CounterImpl:
        assert self.gate.wait(TIMEOUT)
        return super().newCounter(start)

    def info(self, point: Any, label: str, _context: Any) -> None:
        assert self.gate.wait(TIMEOUT)
        super().info(point, label, _context)


def answer_to(p: Pair, call: Call) -> Return:
    """The Return the client received for ``call`` (question ids are reused after a Finish)."""
    after = p.log.entries[[m for _, m in p.log.entries].index(call) :]
    return next(m for d, m in after if isinstance(m, Return) and m.answer_id == call.question_id)


def test_pipelined_calls_go_out_before_the_first_return() -> None:
    with open_pair(Gated()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.newCounter(start=41).counter.next()
        p.server.gate.set()  # both calls are made: now newCounter may answer
        assert promise.wait(TIMEOUT).value == 42
        new_counter, nxt = p.log.sent(Call)[:2]
        pa = nxt.target.promised_answer
        assert pa is not None and (pa.question_id, pa.transform) == (new_counter.question_id, (0,))
        order = [m for _, m in p.log.entries]
        assert order.index(nxt) < order.index(answer_to(p, new_counter))


def test_struct_and_group_pipelining() -> None:
    with open_pair(Gated()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.info(point={"x": 9, "y": -1}, label="here")
        counted, pinged = promise.info.counter.next(), promise.info.labels.echo.ping(5)
        p.server.gate.set()
        assert counted.wait(TIMEOUT).value == 10
        assert pinged.wait(TIMEOUT).value == 6
        point = promise.info.point.wait(TIMEOUT)
        assert (point.x, point.y) == (9, -1)
        info = promise.wait(TIMEOUT).info
        assert info.labels.label == "here"
        (info_call, counter_call, ping_call) = p.log.sent(Call)[:3]
        for call in (counter_call, ping_call):
            pa = call.target.promised_answer
            assert pa is not None and pa.question_id == info_call.question_id


def test_capabilities_both_ways_and_callbacks() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        callback = CallbackImpl()
        # EchoImpl.callBack is ``async def``: awaiting a promise blocks its worker thread.
        assert echo.callBack(callback=callback, value=3).wait(TIMEOUT).result == 1012
        assert callback.seen == [3, 6]
        # A capability of ours travels to the server and comes back as the same object.
        mine = p.conn.vat.local_client(CounterImpl(100), rpctest.Counter)
        echo.keep(cap=mine).wait(TIMEOUT)
        back = echo.kept().wait(TIMEOUT).cap
        assert back.next().wait(TIMEOUT).value == 101
        assert mine.next().wait(TIMEOUT).value == 102
        counter = echo.newCounter(0).wait(TIMEOUT).counter
        assert isinstance(counter, rpctest.Counter)
        assert counter.next().wait(TIMEOUT).value == 1
        for client in (mine, back, counter):
            client.release()


class SyncCallBack(SocketEcho):
    """callBack as a plain method: waits for the callback with ``.wait()``."""

    def callBack(self, callback: Any, value: int) -> int:  # type: ignore[override]
        with callback:
            first = callback.call(value).wait(TIMEOUT).value
            return int(callback.call(first).wait(TIMEOUT).value) + 1000


@pytest.mark.parametrize("server", [SocketEcho, SyncCallBack])
def test_a_callback_that_calls_the_server_again_with_one_worker_each(server: type) -> None:
    """Neither the pool nor the object is held by a method that waits (Note [method order])."""
    with open_pair(server(), server_workers=1, workers=1) as p:
        echo = p.conn.bootstrap(rpctest.Echo)

        class Reentrant(rpctest.Callback.Server):  # type: ignore[misc]
            def call(self, value: int) -> int:
                # Runs on the client's only worker while the server's only worker waits for it;
                # the server's object is busy with callBack, which waits too.
                return int(echo.ping(int(value)).wait(TIMEOUT).value)

        assert echo.callBack(callback=Reentrant(), value=3).wait(TIMEOUT).result == 1005


def test_methods_of_different_objects_run_in_parallel() -> None:
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    class Meeting(rpctest.Counter.Server):  # type: ignore[misc]
        def next(self) -> int:
            return barrier.wait()

    class Server(SocketEcho):
        def newCounter(self, start: int) -> Any:
            return Meeting()

    with open_pair(Server(), server_workers=2) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        a, b = echo.newCounter(0).counter, echo.newCounter(0).counter
        # Each call returns only once both are running.
        promises = [a.next(), b.next()]
        assert {promise.wait(TIMEOUT).value for promise in promises} == {0, 1}


def test_calls_to_one_object_do_not_overlap_and_start_in_order() -> None:
    started: list[int] = []
    running = 0
    overlapped = False

    class Ordered(SocketEcho):
        def ping(self, value: int) -> int:
            nonlocal running, overlapped
            running += 1
            overlapped = overlapped or running > 1
            started.append(value)
            running -= 1
            return value

        def echo(self, text: str, _context: Any) -> str:  # type: ignore[override]
            started.append(-int(text))
            return text

    with open_pair(Ordered(), server_workers=4) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promises = [echo.ping(i) if i % 3 else echo.echo(text=str(i)) for i in range(1, 61)]
        for promise in promises:
            promise.wait(TIMEOUT)
    assert started == [i if i % 3 else -i for i in range(1, 61)]
    assert not overlapped


def test_many_threads_share_one_client() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        errors: list[BaseException] = []

        def worker(base: int) -> None:
            try:
                for i in range(50):
                    assert echo.ping(base + i).wait(TIMEOUT).value == base + i + 1
                    counter = echo.newCounter(base).counter
                    assert counter.next().wait(TIMEOUT).value == base + 1
                    counter.release()
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(1000 * n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)


def test_exceptions_both_ways(caplog: pytest.LogCaptureFixture) -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        with (
            caplog.at_level(logging.WARNING, logger="capnrpc.server"),
            pytest.raises(RpcError) as info,
        ):
            echo.fail(message="bad input", kind="value").wait(TIMEOUT)
        assert (info.value.type, info.value.reason) == ("failed", "ValueError: bad input")
        assert any("Echo.fail" in r.getMessage() for r in caplog.records)
        with pytest.raises(RpcError) as info:
            echo.fail(message="later", kind="rpc").wait(TIMEOUT)
        assert info.value.type == "overloaded"

        class Failing(rpctest.Callback.Server):  # type: ignore[misc]
            def call(self, value: int) -> int:
                raise KeyError(value)

        with pytest.raises(RpcError) as info:
            echo.callBack(callback=Failing(), value=7).wait(TIMEOUT)
        assert info.value.type == "failed"
        assert "KeyError: 7" in info.value.reason
        assert echo.ping(0).wait(TIMEOUT).value == 1


def test_an_async_method_that_really_suspends_fails_clearly() -> None:
    import asyncio

    class Suspending(SocketEcho):
        async def ping(self, value: int) -> int:  # type: ignore[override]
            await asyncio.sleep(0)
            return value

    with open_pair(Suspending()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        with pytest.raises(RpcError, match="may only await capnrpc_socket promises"):
            echo.ping(1).wait(TIMEOUT)
        assert echo.echo(text="still fine").wait(TIMEOUT).text == "still fine"


def test_unimplemented_method() -> None:
    with open_pair() as p:
        counter = p.conn.bootstrap(rpctest.Counter)
        with pytest.raises(RpcError) as info:
            counter.next().wait(TIMEOUT)
        assert info.value.type == "unimplemented"
        assert "Counter.next" in info.value.reason


def test_bootstrap_factory_is_called_per_connection() -> None:
    peers: list[str] = []

    def factory(peer: str) -> SocketEcho:
        peers.append(peer)
        return SocketEcho()

    with capnrpc_socket.serve("tcp://127.0.0.1:0", factory) as listener:
        for _ in range(2):
            with capnrpc_socket.connect(listener.address) as conn:
                echo = conn.bootstrap(rpctest.Echo)
                assert echo.ping(1).wait(TIMEOUT).value == 2
    assert len(peers) == 2 and all(p.startswith("tcp://127.0.0.1:") for p in peers)
    assert peers[0] != peers[1]


def test_client_side_bootstrap_over_a_socket_pair() -> None:
    left, right = socket.socketpair()
    with (
        capnrpc_socket.connect(left, bootstrap=SocketEcho()) as server_side,
        capnrpc_socket.connect(right) as client_side,
    ):
        echo = client_side.bootstrap(rpctest.Echo)
        assert echo.echo(text="pair").wait(TIMEOUT).text == "pair"
        # Either side may offer a bootstrap capability; here only one does.
        with pytest.raises(RpcError, match="no bootstrap"):
            server_side.bootstrap(rpctest.Echo).ping(1).wait(TIMEOUT)


def test_capabilities_proxied_through_a_shared_vat() -> None:
    """Alice -> Bob -> Carol: Bob hands Alice a counter that lives at Carol."""
    carol = SocketEcho()
    with (
        capnrpc_socket.serve("tcp://127.0.0.1:0", carol) as carol_listener,
        capnrpc_socket.open_vat(name="bob") as bob,
        capnrpc_socket.connect(carol_listener.address, vat=bob) as to_carol,
    ):
        from_carol = to_carol.bootstrap(rpctest.Echo)
        with capnrpc_socket.serve("tcp://127.0.0.1:0", from_carol, vat=bob) as bob_listener:
            with capnrpc_socket.connect(bob_listener.address) as alice:
                echo = alice.bootstrap(rpctest.Echo)
                counter = echo.newCounter(start=7).wait(TIMEOUT).counter
                assert counter.next().wait(TIMEOUT).value == 8
                assert carol.counters[0].value == 8
                counter.release()
                echo.release()
            assert bob.wait_until(lambda: not bob_listener.connections, TIMEOUT)
        from_carol.release()
        (carol_conn,) = carol_listener.connections
        # Everything Alice held through Bob is released at Carol too.
        carol_vat = carol_listener.vat
        assert carol_vat.wait_until(lambda: tables_empty(carol_conn.core), TIMEOUT), table_sizes(
            carol_conn.core
        )


def test_waiting_twice_gives_the_same_results() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.multi(2, 5)
        first = promise.wait(TIMEOUT)
        assert promise.wait(TIMEOUT) is first
        assert first.product == 10


def test_several_threads_wait_for_one_promise() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.hold()
        assert p.server.holding.wait(TIMEOUT)
        results: list[str] = []

        def waiter() -> None:
            try:
                promise.wait(TIMEOUT)
            except RpcError as exc:
                results.append(exc.type)

        threads = [threading.Thread(target=waiter) for _ in range(4)]
        for t in threads:
            t.start()
        # Four waiters, plus this thread once its own wait has begun.
        p.client_until(lambda: p.conn.vat._waiting >= 5)
        promise.cancel()
        for t in threads:
            t.join(TIMEOUT)
        assert results == ["failed"] * 4


def test_connection_refused_is_an_os_error() -> None:
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        address = listener.address
    with pytest.raises(OSError):
        capnrpc_socket.connect(address, timeout=TIMEOUT)


def test_blocking_lets_the_next_call_to_the_object_start() -> None:
    class Waiter(SocketEcho):
        def __init__(self) -> None:
            super().__init__()
            self.pinged = threading.Event()

        def hold(self) -> None:
            # Without blocking() the ping below would queue behind this method (E-order).
            with capnrpc_socket.blocking():
                assert self.pinged.wait(TIMEOUT)

        def ping(self, value: int) -> int:
            self.pinged.set()
            return value + 1

    with open_pair(Waiter(), server_workers=1) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        held = echo.hold()
        assert echo.ping(1).wait(TIMEOUT).value == 2
        held.wait(TIMEOUT)


def test_the_demo_calculator_runs_unchanged_with_one_worker_each() -> None:
    """Its methods are ``async def`` and await promises; a client-side function calls back."""
    from capnrpc_trio.demo.calculator import CalculatorImpl
    from capnrpc_trio.demo.calculator_capnp import Calculator

    class Square(Calculator.Function.Server):
        def call(self, params: list[float]) -> float:
            return params[0] * params[0]

    with (
        capnrpc_socket.serve("tcp://127.0.0.1:0", CalculatorImpl(), workers=1) as server,
        capnrpc_socket.connect(server.address, workers=1) as conn,
    ):
        calc = conn.bootstrap(Calculator)
        assert calc.evaluate(expression={"literal": 2.0}).value.read().wait(TIMEOUT).value == 2
        add = calc.getOperator(op="add").func
        square = {"call": {"function": Square(), "params": [{"literal": 4}]}}
        expression = {"call": {"function": add, "params": [{"literal": 3}, square]}}
        assert calc.evaluate(expression=expression).value.read().wait(TIMEOUT).value == 19


def test_types_made_by_many_threads_at_once_are_complete() -> None:
    """Schema types are made on first use; a thread must never see one half made."""
    import sys

    from capnrpc_core.schema.registry import TypeRegistry

    schemas = rpctest.Echo._registry.schemas
    infos = rpctest.Echo._method_infos()
    result_ids = [info.method.result_struct_id for info in infos]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(50):
            registry = TypeRegistry(schemas)
            barrier = threading.Barrier(8, timeout=TIMEOUT)
            errors: list[BaseException] = []

            def make(
                registry: TypeRegistry, barrier: threading.Barrier, errors: list[BaseException]
            ) -> None:
                try:
                    barrier.wait()
                    for node_id in result_ids:
                        results = registry.struct_type(node_id).new_message()
                        for field in results.schema.node.fields:
                            getattr(results, field.name)
                except BaseException as exc:  # reported below, in the test's thread
                    errors.append(exc)

            args = (registry, barrier, errors)
            threads = [threading.Thread(target=make, args=args) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
            assert not errors, errors[0]
    finally:
        sys.setswitchinterval(switch)


class WriteSpy:
    """Records the messages each of a connection's writes takes out (Note [writing])."""

    def __init__(self, conn: capnrpc_socket.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: list[list[str]] = []
        self._conn = conn
        self._write = conn._write
        monkeypatch.setattr(conn, "_write", self)

    def __call__(self) -> None:
        with self._conn._wlock:
            data = b"".join(bytes(part) for part in self._conn._out)
        if data:
            frames = FrameDecoder().feed(data)
            self.writes.append([type(decode_message(MessageReader(f))).__name__ for f in frames])
        self._write()


def test_the_first_call_after_a_wait_goes_at_once_and_the_rest_as_the_thread_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Else the vat's flusher would write held-back messages within milliseconds anyway.
    monkeypatch.setattr(capnrpc_socket._runtime, "FLUSH_DELAY", 3600.0)
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        counter = echo.newCounter(start=1).counter
        assert counter.next().wait(TIMEOUT).value == 2
        spy = WriteSpy(p.conn, monkeypatch)
        # A pipelined chain: its first call leaves at once (with anything held back for it),
        # so a server elsewhere starts on it while the rest are made.
        last = echo.newCounter(start=10).counter.next()
        assert len(spy.writes) == 1 and spy.writes[0][-1:] == ["Call"]
        assert spy.writes[0].count("Call") == 1
        assert last.wait(TIMEOUT).value == 11
        # The rest went as this thread began to wait, before any answer could come back.
        assert spy.writes[1] == ["Call"]
        # A lone call after that wait: written at once, before this thread waits.
        written = len(spy.writes)
        promise = counter.next()
        assert len(spy.writes) == written + 1 and spy.writes[-1][-1:] == ["Call"]
        assert promise.wait(TIMEOUT).value == 3
