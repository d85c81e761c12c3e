"""What only the asyncio driver has: its address forms, asyncio cancellation, uvloop, TLS, logs.

The behaviour every driver shares (calls, pipelining, disconnects, streaming, releases) is in
tests/conformance. Each test here runs on the default event loop and on uvloop (when
installed), under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import capnrpc_asyncio
from capnrpc_core import LocalUsageError, RpcError
from capnrpc_core.rpc import RpcLimits
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import Bootstrap, Call, Finish, Message, Release, Return
from capnrpc_core.wire.framing import FrameDecoder, decode_frame
from capnrpc_core.wire.reader import MessageReader
from tests.rpc.harness import table_sizes
from tests.services import CounterImpl, EchoImpl, rpctest

TIMEOUT = 10

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


def _runners() -> list[Any]:
    runners: list[Any] = [pytest.param(asyncio.run, id="asyncio")]
    try:
        import uvloop
    except ImportError:
        pass
    else:
        runners.append(pytest.param(uvloop.run, id="uvloop"))
    return runners


@pytest.fixture(params=_runners())
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]:
    """Run an async test body on one event loop, under the per-test timeout."""
    runner: Runner = request.param

    def run_body(body: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        async def main() -> Any:
            async with asyncio.timeout(TIMEOUT):
                return await body()

        return runner(main())

    return run_body


class AsyncioEcho(EchoImpl):
    """EchoImpl whose ``hold`` waits (on asyncio) until it is canceled."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = asyncio.Event()
        self.hold_cancelled = asyncio.Event()

    async def hold(self) -> None:
        self.holding.set()
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            self.hold_cancelled.set()
            raise


@dataclass
class FrameLog:
    entries: list[tuple[str, Message]]

    def __call__(self, conn: Any, direction: str, frame: bytes) -> None:
        self.entries.append((direction, decode_message(MessageReader(decode_frame(frame)))))

    def sent(self, kind: type) -> list[Any]:
        return [m for d, m in self.entries if d == "send" and isinstance(m, kind)]


@dataclass
class Pair:
    listener: capnrpc_asyncio.Listener
    conn: capnrpc_asyncio.Connection
    server: AsyncioEcho
    log: FrameLog

    @property
    def server_conn(self) -> capnrpc_asyncio.Connection:
        (conn,) = self.listener.connections
        return conn


@asynccontextmanager
async def open_pair(**vat_options: Any) -> AsyncIterator[Pair]:
    server = AsyncioEcho()
    log = FrameLog([])
    async with (
        capnrpc_asyncio.serve("tcp://127.0.0.1:0", server) as listener,
        capnrpc_asyncio.open_vat(**vat_options) as vat,
    ):
        vat.frame_observer = log
        async with capnrpc_asyncio.connect(listener.address, vat=vat) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            await echo.ping(0)  # the server has accepted the connection
            echo.release()
            yield Pair(listener, conn, server, log)


# == addresses ====================================================================================


def test_a_stream_pair_on_both_sides(run: Any) -> None:
    async def body() -> None:
        served: list[asyncio.Task[None]] = []
        stop = asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            async with capnrpc_asyncio.connect((reader, writer), bootstrap=EchoImpl()):
                await stop.wait()

        server = await asyncio.start_server(
            lambda r, w: served.append(asyncio.create_task(handle(r, w))), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        async with capnrpc_asyncio.connect(await asyncio.open_connection("127.0.0.1", port)) as c:
            echo = c.bootstrap(rpctest.Echo)
            assert (await echo.echo(text="pair")).text == "pair"
            assert (await echo.newCounter(3).counter.next()).value == 4
            big = "y" * 200_000
            assert (await echo.echo(text=big)).text == big
            assert c.peer_address == "stream"
        stop.set()
        await asyncio.gather(*served)
        server.close()
        await server.wait_closed()

    run(body)


def test_connected_sockets_and_a_bootstrap_on_the_connecting_side(run: Any) -> None:
    async def body() -> None:
        left, right = socket.socketpair()
        async with (
            capnrpc_asyncio.connect(left, bootstrap=EchoImpl()) as offering,
            capnrpc_asyncio.connect(right) as asking,
        ):
            echo = asking.bootstrap(rpctest.Echo)
            assert (await echo.echo(text="socketpair")).text == "socketpair"
            # Either side may offer a bootstrap capability; here only one does.
            with pytest.raises(RpcError, match="no bootstrap"):
                await offering.bootstrap(rpctest.Echo).ping(1)

    run(body)


def test_unix_address_and_serve_forever(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "rpc.sock"

    async def body() -> None:
        async with capnrpc_asyncio.serve(f"unix:{path}", EchoImpl()) as listener:
            assert listener.address == f"unix:{path}"
            serving = asyncio.create_task(listener.serve_forever())
            async with capnrpc_asyncio.connect(listener.address) as conn:
                echo = conn.bootstrap(rpctest.Echo)
                assert (await echo.ping(1)).value == 2
                (server_conn,) = listener.connections
                assert server_conn.peer_address.startswith("unix:")
            assert not serving.done()
            await listener.aclose()
            await serving  # returns once the listener is closed
        assert not path.exists()

    run(body)


def test_cancelling_serve_forever_closes_the_listener(run: Any) -> None:
    async def body() -> None:
        async def serve(started: asyncio.Future[str]) -> None:
            async with capnrpc_asyncio.serve("tcp://127.0.0.1:0", EchoImpl()) as listener:
                started.set_result(listener.address)
                await listener.serve_forever()

        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve(started))
        address = await started
        async with capnrpc_asyncio.connect(address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert (await echo.ping(1)).value == 2
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(RpcError) as info:
                await echo.ping(1)
            assert info.value.type == "disconnected"
        with pytest.raises(OSError):
            async with capnrpc_asyncio.connect(address):
                pass

    run(body)


def test_bad_arguments(run: Any) -> None:
    async def body() -> None:
        with pytest.raises(LocalUsageError, match="unknown address"):
            async with capnrpc_asyncio.connect("http://example.com"):
                pass
        with pytest.raises(LocalUsageError, match="Server object, a client or a factory"):
            async with capnrpc_asyncio.serve("tcp://127.0.0.1:0", 42):  # type: ignore[arg-type]
                pass
        async with capnrpc_asyncio.open_vat() as vat:
            with pytest.raises(LocalUsageError, match="belong to the vat"):
                async with capnrpc_asyncio.connect(
                    "tcp://127.0.0.1:1", vat=vat, limits=RpcLimits()
                ):
                    pass

    run(body)


# == asyncio cancellation =========================================================================


def test_cancelling_the_awaiting_task_sends_finish_and_cancels_the_method(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            waiter = asyncio.ensure_future(promise)
            await p.server.holding.wait()
            question = promise.call.question
            assert question is not None
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await p.server.hold_cancelled.wait()
            finishes = [f.question_id for f in p.log.sent(Finish)]
            assert question.id in finishes
            # Another awaiter of the same promise learns that the call was canceled.
            with pytest.raises(RpcError, match="canceled"):
                await promise
            assert (await echo.ping(1)).value == 2

    run(body)


def test_asyncio_timeout_around_a_call(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await echo.hold()
            hold = next(c for c in p.log.sent(Call) if c.method_id == 2)
            assert hold.question_id in [f.question_id for f in p.log.sent(Finish)]
            assert (await echo.ping(1)).value == 2  # the connection is fine
            if p.server.holding.is_set():
                await p.server.hold_cancelled.wait()

    run(body)


def test_several_tasks_await_one_promise(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.multi(3, 4)
            first, second = asyncio.ensure_future(promise), asyncio.ensure_future(promise)
            assert (await second).product == 12
            assert (await first).sum == 7

    run(body)


# == servers ======================================================================================


def test_async_methods_run_as_tasks_concurrently(run: Any) -> None:
    class Slow(EchoImpl):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()
            self.waiting = 0

        async def ping(self, value: int) -> int:  # type: ignore[override]
            self.waiting += 1
            if self.waiting == 3:
                self.gate.set()
            await self.gate.wait()
            return value

    async def body() -> None:
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", Slow()) as listener,
            capnrpc_asyncio.connect(listener.address) as conn,
        ):
            echo = conn.bootstrap(rpctest.Echo)
            # All three must be running at once for any of them to return.
            values = await asyncio.gather(echo.ping(1), echo.ping(2), echo.ping(3))
            assert [v.value for v in values] == [1, 2, 3]

    run(body)


def test_bootstrap_factory_failure_closes_that_connection(
    run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def factory(peer: str) -> EchoImpl:
        raise RuntimeError("no service for " + peer)

    async def body() -> None:
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", factory) as listener,
            capnrpc_asyncio.connect(listener.address) as conn,
        ):
            with pytest.raises(RpcError) as info:
                await conn.bootstrap(rpctest.Echo).ping(1)
            assert info.value.type == "disconnected"

    with caplog.at_level(logging.ERROR, logger="capnrpc"):
        run(body)
    assert any("bootstrap factory failed" in r.getMessage() for r in caplog.records)


def test_capabilities_proxied_through_a_shared_vat(run: Any) -> None:
    """Alice -> Bob -> Carol: Bob hands Alice a counter that lives at Carol."""

    async def body() -> None:
        carol = EchoImpl()
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", carol) as carol_listener,
            capnrpc_asyncio.open_vat(name="bob") as bob,
            capnrpc_asyncio.connect(carol_listener.address, vat=bob) as to_carol,
        ):
            from_carol = to_carol.bootstrap(rpctest.Echo)
            async with (
                capnrpc_asyncio.serve("tcp://127.0.0.1:0", from_carol, vat=bob) as bob_listener,
                capnrpc_asyncio.connect(bob_listener.address) as alice,
            ):
                echo = alice.bootstrap(rpctest.Echo)
                counter = (await echo.newCounter(start=7)).counter
                assert (await counter.next()).value == 8
                assert carol.counters[0].value == 8
                counter.release()
                echo.release()
                await from_carol.ping(0)
            from_carol.release()
            (carol_conn,) = carol_listener.connections
            # Everything Alice held through Bob is released at Carol too: after a round trip
            # behind Bob's releases, Carol exports the bootstrap object alone.
            probe = to_carol.bootstrap(rpctest.Echo)
            await probe.ping(0)
            assert len(carol_conn.core.exports) == 1, table_sizes(carol_conn.core)
            probe.release()

    run(body)


def test_local_calls_after_the_vat_closed_fail(run: Any) -> None:
    async def body() -> None:
        async with capnrpc_asyncio.open_vat() as vat:
            counter = vat.local_client(CounterImpl(), rpctest.Counter)
            assert (await counter.next()).value == 1
            queued = counter.next()  # not started yet when the vat closes
        for promise in (queued, counter.next()):
            with pytest.raises(RpcError, match="vat was closed") as info:
                await promise
            assert info.value.type == "disconnected"

    run(body)


def test_finalizers_release_dropped_clients(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            for start in range(3):
                counter = (await echo.newCounter(start)).counter
                await counter.next()
            del counter
            gc.collect()
            p.conn.vat.flush()  # what the finalizers queued goes out now, before the next call
            await echo.ping(0)
            server = p.server_conn.core
            assert len(server.exports) == 1, table_sizes(server)  # the bootstrap object

    run(body)


def test_a_plain_method_raising_a_base_exception_leaves_the_connection_open(run: Any) -> None:
    class Rude(EchoImpl):
        def ping(self, value: int) -> int:
            if value == 13:
                raise asyncio.CancelledError  # not an Exception, yet the caller gets an answer
            return value + 1

    async def body() -> None:
        errors: list[BaseException] = []
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: errors.append(context["exception"])
        )
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", Rude()) as listener,
            capnrpc_asyncio.connect(listener.address) as conn,
        ):
            echo = conn.bootstrap(rpctest.Echo)
            rude = echo.ping(13)  # read in the same chunk as the next, started in its callback
            assert (await echo.ping(1)).value == 2
            assert [type(e) for e in errors] == [asyncio.CancelledError]
            with pytest.raises(RpcError, match="CancelledError"):
                await rude

    run(body)


# == reads and writes (Note [writes]) =============================================================


class TransportSpy:
    """Stands in for a connection's transport: records what is written, then writes it."""

    def __init__(self, conn: capnrpc_asyncio.Connection) -> None:
        self._transport = conn._transport
        self.writes: list[bytes] = []
        self.written = asyncio.Event()
        self._decoder = FrameDecoder()
        self.messages: list[Message] = []
        conn._transport = self

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        for segments in self._decoder.feed(data):
            self.messages.append(decode_message(MessageReader(segments)))
        self.written.set()
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def sent(self, kind: type) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]


def test_a_burst_of_calls_leaves_its_first_call_at_once_and_the_rest_as_the_caller_waits(
    run: Any,
) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            await asyncio.sleep(0)  # one loop iteration: what open_pair queued is written
            spy = TransportSpy(p.conn)
            # Runs in the next loop iteration, before any callback scheduled by the calls.
            seen: list[int] = []
            asyncio.get_running_loop().call_soon(lambda: seen.append(len(spy.writes)))
            promises = [echo.ping(i) for i in range(10)]
            # The first call went at once, so a peer can start on it; the rest wait.
            assert [len(spy.sent(Call))] == [1] == [len(spy.writes)]
            assert (await promises[0]).value == 1
            assert seen == [2]  # the rest went as the task began to wait, in one write
            assert len(spy.sent(Call)) == 10
            assert [(await promise).value for promise in promises] == list(range(1, 11))

    run(body)


def test_a_finish_held_back_leaves_with_the_next_call(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            assert (await echo.ping(0)).value == 1
            spy = TransportSpy(p.conn)
            # Reading the answer queued a Finish; it waits for this task's next call.
            assert spy.writes == []
            promise = echo.ping(1)
            assert len(spy.writes) == 1
            assert [type(m) for m in spy.messages] == [Finish, Call]
            assert (await promise).value == 2
            assert len(spy.writes) == 1  # waiting wrote nothing more: there was nothing

    run(body)


def test_calls_are_answered_in_the_callback_that_received_them(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            server = p.server_conn
            spy = TransportSpy(server)
            received = server._data_received
            # For each read: the questions in it and Returns written before its callback ended.
            reads: list[tuple[int, int]] = []

            def data_received(data: bytes) -> None:
                returns = len(spy.sent(Return))
                received(data)
                reads.append((_count(data, (Bootstrap, Call)), len(spy.sent(Return)) - returns))

            server._data_received = data_received  # type: ignore[method-assign]
            values = await asyncio.gather(*(echo.ping(i) for i in range(5)))
            assert [v.value for v in values] == [1, 2, 3, 4, 5]
            assert sum(questions for questions, _ in reads) == 6  # the Bootstrap and 5 calls
            assert all(questions == returns for questions, returns in reads), reads

    run(body)


def _count(data: bytes, kind: type | tuple[type, ...]) -> int:
    messages = [decode_message(MessageReader(s)) for s in FrameDecoder().feed(data)]
    return sum(isinstance(m, kind) for m in messages)


def test_a_call_goes_out_though_its_caller_waits_for_something_else(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.hold()
            await p.server.holding.wait()  # never awaits the promise itself
            promise.cancel()
            await p.server.hold_cancelled.wait()

    run(body)


def test_finalizers_on_the_loop_thread_release_without_a_later_call(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            counter = (await echo.newCounter(1)).counter
            await counter.next()
            spy = TransportSpy(p.conn)
            del counter
            gc.collect()
            while not spy.sent(Release):
                spy.written.clear()
                await spy.written.wait()
            await echo.ping(0)  # behind the Release on the wire
            assert len(p.server_conn.core.exports) == 1, table_sizes(p.server_conn.core)

    run(body)


def test_a_client_dropped_on_another_thread_is_released(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            holder = [(await echo.newCounter(1)).counter]
            await echo.ping(0)  # what dropping the newCounter promise queued is released
            spy = TransportSpy(p.conn)
            go = threading.Event()

            def drop() -> None:
                go.wait()
                holder.clear()

            dropper = threading.Thread(target=drop, daemon=True)
            dropper.start()
            # The loop holds the GIL until it sleeps in select() with nothing else to do: the
            # dropper runs then, and the release must wake the loop.
            asyncio.get_running_loop().call_soon(go.set)
            while not spy.sent(Release):
                spy.written.clear()
                await spy.written.wait()
            dropper.join()
            await echo.ping(0)
            assert len(p.server_conn.core.exports) == 1, table_sizes(p.server_conn.core)

    run(body)


# == TLS, logs and traces =========================================================================


def test_tls(run: Any, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_contexts

    async def body() -> None:
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", EchoImpl(), ssl_context=server_ctx) as lst,
            capnrpc_asyncio.connect(lst.address, ssl_context=client_ctx) as conn,
        ):
            echo = conn.bootstrap(rpctest.Echo)
            assert (await echo.echo(text="secret")).text == "secret"
            big = "z" * 100_000
            assert (await echo.echo(text=big)).text == big

    run(body)


def test_logging(run: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capnrpc")
    caplog.set_level(logging.DEBUG, logger="capnrpc.wire")

    async def body() -> None:
        async with capnrpc_asyncio.serve("tcp://127.0.0.1:0", EchoImpl()) as listener:
            async with capnrpc_asyncio.connect(listener.address) as conn:
                await conn.bootstrap(rpctest.Echo).ping(1)
            # The server logs its side's close too: wait for it.
            while listener.connections:
                await next(iter(listener.connections)).wait_closed()

    run(body)
    info = [r.getMessage() for r in caplog.records if r.name == "capnrpc"]
    assert any(m.startswith("connected to tcp://127.0.0.1:") for m in info)
    assert any(m.startswith("accepted tcp://127.0.0.1:") for m in info)
    assert sum("closed" in m for m in info) == 2
    wire = [r.getMessage() for r in caplog.records if r.name == "capnrpc.wire"]
    assert any(m.endswith("-> Bootstrap #0") and m.startswith("client") for m in wire)
    assert any("<- Call #1 Base.ping -> answer #0" in m for m in wire)


def test_trace_file(run: Any, tmp_path: Path) -> None:
    trace = tmp_path / "client.trace"

    async def body() -> None:
        async with (
            capnrpc_asyncio.serve("tcp://127.0.0.1:0", EchoImpl()) as listener,
            capnrpc_asyncio.connect(listener.address, trace_path=trace) as conn,
        ):
            await conn.bootstrap(rpctest.Echo).ping(1)

    run(body)
    lines = trace.read_text().splitlines()
    assert lines[0] == "capnrpc-trace 1"
    assert any(line.startswith("send c0 ") for line in lines)
    assert any(line.startswith("recv c0 ") for line in lines)


def test_an_exception_in_the_body_is_not_wrapped(run: Any) -> None:
    async def body() -> None:
        async with open_pair() as p:
            with pytest.raises(ZeroDivisionError):
                async with capnrpc_asyncio.connect(p.listener.address):
                    raise ZeroDivisionError

    run(body)


def test_a_server_object_goes_with_its_last_client(run: Any) -> None:
    """Nothing in the driver keeps a method's server object once the method has returned."""

    async def body() -> None:
        async with capnrpc_asyncio.open_vat() as vat:
            counter = CounterImpl()
            gone = weakref.ref(counter)
            client = vat.local_client(counter, rpctest.Counter)
            del counter
            assert (await client.next()).value == 1
            client.release()
            assert gone() is None

    run(body)
