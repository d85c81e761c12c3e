"""Cancellation, disconnects, releases, streaming flow control, unix sockets, logs and traces."""

from __future__ import annotations

import gc
import logging
import ssl
import weakref
from pathlib import Path

import pytest
import trio

import capnrpc_trio
from capnrpc_core import RpcError
from capnrpc_core.rpc import RpcLimits
from capnrpc_core.rpc.messages import Call, Finish, Release
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CounterImpl
from tests.trio.conftest import GatedSink, TrioEcho, deadline, open_pair, rpctest, settle


async def test_leaving_a_cancel_scope_sends_finish_and_cancels_the_method() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            with trio.CancelScope() as scope:
                promise = echo.hold()
                await p.server.holding.wait()
                question = promise.call.question
                assert question is not None
                scope.cancel()
                await promise
            assert scope.cancelled_caught
            await p.server.hold_cancelled.wait()
            finishes = p.log.sent(Finish)
            assert [(f.question_id, f.release_result_caps) for f in finishes][-1] == (
                question.id,
                True,
            )
            server = p.server_conn.core
            await settle(lambda: not server.answers)
            assert (await echo.ping(1)).value == 2  # the connection is fine


async def test_move_on_after_sends_finish() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            with trio.move_on_after(0.01) as scope:
                await echo.hold()
            assert scope.cancelled_caught
            hold_call = next(c for c in p.log.sent(Call) if c.method_id == 2)
            assert any(f.question_id == hold_call.question_id for f in p.log.sent(Finish))
            server = p.server_conn.core
            # Whether or not the method had started, the answer is settled and forgotten.
            await settle(lambda: not server.answers)
            if p.server.holding.is_set():
                await p.server.hold_cancelled.wait()


async def test_peer_dropping_the_socket_fails_pending_calls_promptly() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            failures: list[RpcError] = []

            async def waiting() -> None:
                with pytest.raises(RpcError) as info:
                    await echo.hold()
                failures.append(info.value)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiting)
                await p.server.holding.wait()
                # Drop the server's socket without any RPC goodbye.
                await trio.aclose_forcefully(p.server_conn._stream)
            assert failures[0].type == "disconnected"
            assert p.conn.closed
            assert p.conn.close_reason is not None
            assert p.conn.close_reason.type == "disconnected"
            with pytest.raises(RpcError) as info:
                await echo.ping(1)
            assert info.value.type == "disconnected"


async def test_server_closing_fails_pending_calls() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            async with trio.open_nursery() as nursery:

                async def close_when_holding() -> None:
                    await p.server.holding.wait()
                    await p.listener.aclose()

                nursery.start_soon(close_when_holding)
                with pytest.raises(RpcError) as info:
                    await echo.hold()
            assert info.value.type == "disconnected"
            await p.server.hold_cancelled.wait()


async def test_releases_leave_the_server_tables_empty() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            counter = (await echo.newCounter(1)).counter
            await counter.next()
            pipelined = echo.info(point={"x": 1, "y": 2}, label="l").info.counter
            await pipelined.next()
            with echo.getSelf() as promise:
                me = (await promise).self
                with me:
                    await me.ping(1)
            counter.release()
            pipelined.release()
            echo.release()
            gc.collect()
            server = p.server_conn.core
            client = p.conn.core
            await settle(lambda: tables_empty(server) and tables_empty(client))
            assert tables_empty(server), table_sizes(server)
            assert len(p.log.sent(Release)) >= 4


async def test_finalizers_release_dropped_clients() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            for start in range(3):
                counter = (await echo.newCounter(start)).counter
                await counter.next()
            del counter
            echo = None
            gc.collect()
            server = p.server_conn.core
            await settle(lambda: tables_empty(server))
            assert tables_empty(server), table_sizes(server)


async def test_streaming_waits_only_while_the_window_is_full() -> None:
    sink = GatedSink()

    class SinkEcho(TrioEcho):
        def sink(self) -> GatedSink:
            return sink

    chunk = b"x" * 300
    with deadline():
        async with open_pair(SinkEcho(), limits=RpcLimits(stream_window_bytes=1000)) as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            stream = (await echo.sink()).sink
            completed = 0
            window_was_full = False

            async def writer() -> None:
                nonlocal completed
                for _ in range(10):
                    await stream.write(data=chunk)
                    completed += 1

            async with trio.open_nursery() as nursery:
                nursery.start_soon(writer)
                await settle(lambda: sink.started == 1 and completed > 0)
                await trio.testing.wait_all_tasks_blocked()
                window_was_full = p.conn.vat.vat.stream_window_full(stream.cap)
                blocked_at = completed
                sent_while_blocked = len([c for c in p.log.sent(Call) if c.method_id == 0])
                sink.gate.set()
            assert window_was_full
            # The writer went ahead without waiting for acks until the window filled up.
            assert 1 < blocked_at < 10
            assert sent_while_blocked == blocked_at + 1
            done = await stream.done()
            assert (done.total, done.writes) == (3000, 10)


async def test_a_failed_streaming_call_fails_later_ones() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            stream = (await echo.sink()).sink
            await stream.write(data=b"fine")
            await stream.write(data=b"boom")  # the failure is not known yet
            with pytest.raises(RpcError, match="cannot write boom"):
                await stream.done()
            with pytest.raises(RpcError, match="cannot write boom"):
                await stream.write(data=b"more")


async def test_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "rpc.sock"
    with deadline():
        async with capnrpc_trio.serve(f"unix:{path}", TrioEcho()) as listener:
            assert listener.address == f"unix:{path}"
            async with capnrpc_trio.connect(listener.address) as conn:
                echo = conn.bootstrap(rpctest.Echo)
                assert (await echo.echo(text="over unix")).text == "over unix"
                assert (await echo.newCounter(1).counter.next()).value == 2
            assert path.exists()
        assert not path.exists()


async def test_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capnrpc")
    caplog.set_level(logging.DEBUG, logger="capnrpc.wire")
    with deadline():
        async with capnrpc_trio.serve("tcp://127.0.0.1:0", TrioEcho()) as listener:
            async with capnrpc_trio.connect(listener.address) as conn:
                echo = conn.bootstrap(rpctest.Echo)
                await echo.ping(1)
            await settle(lambda: not listener.connections)
    info = [r.getMessage() for r in caplog.records if r.name == "capnrpc"]
    assert any(m.startswith("connected to tcp://127.0.0.1:") for m in info)
    assert any(m.startswith("accepted tcp://127.0.0.1:") for m in info)
    assert sum("closed" in m for m in info) == 2
    wire = [r.getMessage() for r in caplog.records if r.name == "capnrpc.wire"]
    assert any(m.endswith("-> Bootstrap #0") and m.startswith("client") for m in wire)
    assert any("<- Call #1 Base.ping -> answer #0" in m for m in wire)
    assert all("\n" not in m for m in wire)


async def test_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "client.trace"
    with deadline():
        async with (
            capnrpc_trio.serve("tcp://127.0.0.1:0", TrioEcho()) as listener,
            capnrpc_trio.connect(listener.address, trace_path=trace) as conn,
        ):
            echo = conn.bootstrap(rpctest.Echo)
            await echo.ping(1)
    lines = trace.read_text().splitlines()
    assert lines[0] == "capnrpc-trace 1"
    assert any(line.startswith("send c0 ") for line in lines)
    assert any(line.startswith("recv c0 ") for line in lines)
    assert any(line.startswith("# (bootstrap = (questionId = 0))") for line in lines)


async def test_tls(tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_contexts
    with deadline():
        async with (
            capnrpc_trio.serve("tcp://127.0.0.1:0", TrioEcho(), ssl_context=server_ctx) as listener,
            capnrpc_trio.connect(listener.address, ssl_context=client_ctx) as conn,
        ):
            echo = conn.bootstrap(rpctest.Echo)
            assert (await echo.echo(text="secret")).text == "secret"


async def test_local_calls_after_the_vat_closed_fail() -> None:
    with deadline():
        async with capnrpc_trio.open_vat() as vat:
            counter = vat.local_client(CounterImpl(), rpctest.Counter)
            assert (await counter.next()).value == 1
        with pytest.raises(RpcError, match="vat was closed") as info:
            await counter.next()
        assert info.value.type == "disconnected"


async def test_a_server_object_goes_with_its_last_client() -> None:
    """Nothing in the driver keeps a method's server object once the method has returned."""
    with deadline():
        async with capnrpc_trio.open_vat() as vat:
            counter = CounterImpl()
            gone = weakref.ref(counter)
            client = vat.local_client(counter, rpctest.Counter)
            del counter
            assert (await client.next()).value == 1
            client.release()
            assert gone() is None
