"""Where the trio driver runs methods and when it writes (docs/drivers-trio.md, "Speed").

Plain methods run in the connection's reader task, one after another and never nested; output
held back to be written in one piece still reaches the peer when nobody awaits a promise; a
socket that cannot take everything at once is drained by the writer task; finalizers on any
thread get their releases carried out.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

import pytest
import trio

from capnrpc_core import RpcError
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.wire import FrameDecoder, MessageReader
from capnrpc_trio import _connection
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CounterImpl
from tests.trio.conftest import Pair, TrioEcho, deadline, open_pair, rpctest, settle


def _task_name() -> str:
    return trio.lowlevel.current_task().name


async def test_plain_methods_run_in_the_reader_and_never_nested() -> None:
    order: list[tuple[str, str]] = []

    class Counting(CounterImpl):
        def next(self) -> int:
            order.append(("next", _task_name()))
            return super().next()

    class Nesting(TrioEcho):
        counter: Any = None
        pending: Any = None

        def ping(self, value: int) -> int:
            order.append(("ping", _task_name()))
            # A call on a local object from inside a method runs after this method returns.
            self.pending = self.counter.next()
            order.append(("ping returns", _task_name()))
            return value + 1

    server = Nesting()
    with deadline():
        async with open_pair(server) as p:
            server.counter = p.listener.vat.local_client(Counting(), rpctest.Counter)
            echo = p.conn.bootstrap(rpctest.Echo)
            assert (await echo.ping(1)).value == 2
            await settle(lambda: len(order) == 3)
            assert (await server.pending).value == 1
    assert [what for what, _ in order] == ["ping", "ping returns", "next"]
    assert all(task.startswith("capnrpc reader") for _, task in order), order


async def test_calls_nobody_awaits_still_go_out() -> None:
    seen: list[int] = []

    class Recording(TrioEcho):
        def ping(self, value: int) -> int:
            seen.append(value)
            return value + 1

    with deadline():
        async with open_pair(Recording()) as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            assert (await echo.ping(100)).value == 101  # nothing is on its way back now
            seen.clear()
            # Sent in one turn of this task: all but the first are held back to be written
            # together, and no answer comes back to make the client's reader write them (hold
            # never returns); this task then waits on something that is not a promise.
            held = echo.hold()
            promises = [echo.ping(i) for i in range(5)]
            await settle(lambda: len(seen) == 5)
            assert seen == [0, 1, 2, 3, 4]
            assert [(await promise).value for promise in promises] == [1, 2, 3, 4, 5]
            held.cancel()


def _messages(data: bytes) -> list[str]:
    """The kinds of the messages in one write."""
    return [
        type(decode_message(MessageReader(segments))).__name__
        for segments in FrameDecoder().feed(data)
    ]


def _spy_writes(monkeypatch: pytest.MonkeyPatch, fd: int) -> list[bytes]:
    """What the driver writes to ``fd`` from now on, one entry per ``os.write``."""
    writes: list[bytes] = []
    write = os.write

    def spy(target: int, data: Any) -> int:
        if target == fd:
            writes.append(bytes(data))
        return write(target, data)

    monkeypatch.setattr(_connection.os, "write", spy)
    return writes


async def _echo_writing_nothing_held(
    p: Pair, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[bytes]]:
    """The pair's Echo, once no output is held back, and the client's writes from then on."""
    echo = p.conn.bootstrap(rpctest.Echo)
    # The second call carries the bootstrap's Finish: nothing is held back after it.
    for value in (1, 2):
        assert (await echo.ping(value)).value == value + 1
    assert p.conn._fd is not None
    return echo, _spy_writes(monkeypatch, p.conn._fd)


async def test_the_finish_an_answer_calls_for_goes_with_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with deadline():
        async with open_pair() as p:
            echo, writes = await _echo_writing_nothing_held(p, monkeypatch)
            # Results with a capability: the server keeps the answer until our Finish, which
            # the client's reader holds back for the task it wakes.
            same = (await echo.getSelf()).self
            assert (await echo.ping(3)).value == 4
            assert [_messages(data) for data in writes] == [["Call"], ["Finish", "Call"]]
            same.release()


async def test_a_held_finish_goes_out_when_the_woken_task_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with deadline():
        async with open_pair() as p:
            echo, writes = await _echo_writing_nothing_held(p, monkeypatch)
            # The promise and its results stay referenced: no finalizer wakes the service task
            # for a release, so only the woken task can see that the Finish is written.
            promise = echo.getSelf()
            results = await promise
            # This task makes no call now: the service task writes the Finish alone.
            (server_conn,) = p.listener.connections
            await settle(lambda: not server_conn.core.answers)
            assert [_messages(data) for data in writes] == [["Call"], ["Finish"]]
            results.self.release()
            del promise


async def test_a_full_socket_is_drained_by_the_writer_task(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = 0
    wait_writable = trio.lowlevel.wait_writable

    async def counting_wait_writable(fd: int) -> None:
        nonlocal waits
        waits += 1
        await wait_writable(fd)

    monkeypatch.setattr(trio.lowlevel, "wait_writable", counting_wait_writable)
    text = "".join(chr(ord("a") + i % 26) for i in range(1 << 18))
    with deadline():
        async with open_pair() as p:
            stream = p.conn._stream
            assert isinstance(stream, trio.SocketStream)
            stream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
            echo = p.conn.bootstrap(rpctest.Echo)
            promises = [echo.echo(text=text[i:] + text[:i]) for i in range(8)]
            for i, promise in enumerate(promises):
                assert (await promise).text == text[i:] + text[:i]
    assert waits > 0  # the socket did not take 2 MiB at once: the writer task waited


async def test_big_messages_both_ways() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            for size in (_connection.RECEIVE_SIZE - 100, 200_000, 3_000_000):
                text = "x" * (size - 1) + "!"
                assert (await echo.echo(text=text)).text == text


async def test_a_write_error_fails_the_calls() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            assert (await echo.ping(1)).value == 2
            server_stream = p.server_conn._stream
            assert isinstance(server_stream, trio.SocketStream)
            # Reset the connection (SO_LINGER 0): the client's next write fails at once.
            server_stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server_stream.socket.close()  # no checkpoint: the client's reader has not run
            promise = echo.ping(2)
            with pytest.raises(RpcError) as info:
                await promise
            assert info.value.type == "disconnected"
            assert p.conn._write_error is not None
            assert p.conn.closed


async def test_settled_promise_in_a_cancelled_scope_raises_cancelled() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.ping(1)
            assert (await promise).value == 2
            with trio.CancelScope() as scope:
                scope.cancel()
                await promise
            assert scope.cancelled_caught


async def test_a_finalizer_on_another_thread_releases_on_the_trio_thread() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            counter = (await echo.newCounter(1)).counter
            assert (await counter.next()).value == 2
            holder = [counter]
            del counter
            server = p.server_conn.core
            assert not tables_empty(server)
            echo.release()
            # The last reference goes away in a worker thread: its finalizer runs there.
            await trio.to_thread.run_sync(holder.clear)
            await settle(lambda: tables_empty(server))
            assert tables_empty(server), table_sizes(server)
