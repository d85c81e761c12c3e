"""Timeouts, Ctrl-C, disconnects, releases, streaming flow control, unix sockets, logs, TLS."""

from __future__ import annotations

import gc
import logging
import os
import re
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import capnrpc_socket
from capnrpc_core import LocalUsageError, RpcError
from capnrpc_core.rpc import RpcLimits
from capnrpc_core.rpc.messages import Call, Finish, Release
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CounterImpl
from tests.socket.conftest import TIMEOUT, GatedSink, Pair, SocketEcho, open_pair, rpctest

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]


def test_a_timed_out_wait_sends_finish_and_the_method_sees_it() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.hold()
        assert p.server.holding.wait(TIMEOUT)
        with pytest.raises(TimeoutError):
            promise.wait(timeout=0.05)
        assert p.server.hold_cancelled.wait(TIMEOUT)
        hold_call = next(c for c in p.log.sent(Call) if c.method_id == 2)
        after = [m for d, m in p.log.entries[p.log.entries.index(("send", hold_call)) :]]
        finishes = [(f.question_id, f.release_result_caps) for f in after if isinstance(f, Finish)]
        assert (hold_call.question_id, True) in finishes
        server = p.server_conn.core
        p.server_until(lambda: not server.answers)
        assert echo.ping(1).wait(TIMEOUT).value == 2  # the connection is fine
        with pytest.raises(RpcError, match="canceled"):
            promise.wait(TIMEOUT)


def test_ctrl_c_stops_a_wait_promptly(tmp_path: Path) -> None:
    """SIGINT to a process blocked in ``wait()`` on a call that never returns."""
    script = tmp_path / "client.py"
    script.write_text(
        "import sys, threading\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import capnrpc_socket\n"
        "from tests.services import rpctest\n"
        "def announce(vat):\n"
        "    # Once the main thread waits too (this thread is the other waiter).\n"
        "    assert vat.wait_until(lambda: vat._waiting >= 2, 10)\n"
        "    print('waiting', flush=True)\n"
        "with capnrpc_socket.connect(sys.argv[1]) as conn:\n"
        "    echo = conn.bootstrap(rpctest.Echo)\n"
        "    promise = echo.hold()\n"
        "    threading.Thread(target=announce, args=(conn.vat,), daemon=True).start()\n"
        "    promise.wait()\n"
    )
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        server = listener_server(listener)
        proc = subprocess.Popen(
            [sys.executable, str(script), listener.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                assert sel.select(TIMEOUT), "the client did not start"
            assert proc.stdout.readline().strip() == "waiting"
            assert server.holding.wait(TIMEOUT)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode != 0
        assert "KeyboardInterrupt" in stderr
        assert "in _wait" in stderr  # it was waiting when interrupted
        # The call was canceled (Finish) or the connection closed: the method was told.
        assert server.hold_cancelled.wait(TIMEOUT)


def listener_server(listener: capnrpc_socket.Listener) -> SocketEcho:
    """The bootstrap object of a listener serving a SocketEcho."""
    server = listener.vat.vat.bootstrap_cap.server
    assert isinstance(server, SocketEcho)
    return server


def test_peer_dropping_the_socket_fails_pending_calls_promptly() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.hold()
        assert p.server.holding.wait(TIMEOUT)
        # Drop the server's end without any RPC goodbye.
        p.server_conn._sock.shutdown(socket.SHUT_RDWR)
        with pytest.raises(RpcError) as info:
            promise.wait(TIMEOUT)
        assert info.value.type == "disconnected"
        assert p.conn.wait_closed(TIMEOUT)
        assert p.conn.closed
        assert p.conn.close_reason is not None
        assert p.conn.close_reason.type == "disconnected"
        with pytest.raises(RpcError) as info:
            echo.ping(1).wait(TIMEOUT)
        assert info.value.type == "disconnected"
        # The server's method was told too.
        assert p.server.hold_cancelled.wait(TIMEOUT)


def test_server_shutdown_fails_pending_calls() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.hold()
        assert p.server.holding.wait(TIMEOUT)
        stopper = threading.Thread(target=p.listener.shutdown)
        stopper.start()
        with pytest.raises(RpcError) as info:
            promise.wait(TIMEOUT)
        assert info.value.type == "disconnected"
        stopper.join(TIMEOUT)
        assert not stopper.is_alive()
        assert p.listener.closed
        assert p.server.hold_cancelled.wait(TIMEOUT)


def test_serve_forever_returns_after_shutdown() -> None:
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        stopper = threading.Timer(0, listener.shutdown)
        stopper.start()
        listener.serve_forever()
        stopper.join(TIMEOUT)
        assert listener.closed


def test_client_closing_cancels_the_running_method() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.hold()
        assert p.server.holding.wait(TIMEOUT)
        p.conn.close()
        with pytest.raises(RpcError) as info:
            promise.wait(TIMEOUT)
        assert info.value.type == "disconnected"
        assert p.server.hold_cancelled.wait(TIMEOUT)
        p.server_until(lambda: not p.listener.connections)


def test_releases_leave_the_server_tables_empty() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        counter = echo.newCounter(1).wait(TIMEOUT).counter
        counter.next().wait(TIMEOUT)
        pipelined = echo.info(point={"x": 1, "y": 2}, label="l").info.counter
        pipelined.next().wait(TIMEOUT)
        with echo.getSelf() as promise:
            me = promise.wait(TIMEOUT).self
            with me:
                me.ping(1).wait(TIMEOUT)
        counter.release()
        pipelined.release()
        echo.release()
        gc.collect()
        server = p.server_conn.core
        client = p.conn.core
        p.server_until(lambda: tables_empty(server))
        p.client_until(lambda: tables_empty(client))
        assert tables_empty(server), table_sizes(server)
        assert len(p.log.sent(Release)) >= 4


def test_finalizers_release_dropped_clients() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        for start in range(3):
            counter = echo.newCounter(start).wait(TIMEOUT).counter
            counter.next().wait(TIMEOUT)
        del counter
        echo = None
        gc.collect()
        server = p.server_conn.core
        p.server_until(lambda: tables_empty(server))


def test_streaming_waits_only_while_the_window_is_full() -> None:
    sink = GatedSink()

    class SinkEcho(SocketEcho):
        def sink(self) -> GatedSink:
            return sink

    chunk = b"x" * 300
    with open_pair(SinkEcho(), limits=RpcLimits(stream_window_bytes=1000)) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        stream = echo.sink().wait(TIMEOUT).sink
        completed = 0

        def writer() -> None:
            nonlocal completed
            for _ in range(10):
                stream.write(data=chunk).wait(TIMEOUT)
                completed += 1

        thread = threading.Thread(target=writer)
        thread.start()
        vat = p.conn.vat
        # The server holds the first write, so nothing is acknowledged: the writer goes ahead
        # until the window is full, and the call that filled it is the last one it sent.
        p.client_until(lambda: vat.vat.stream_window_full(stream.cap))
        blocked_at = completed
        assert 1 < blocked_at < 10
        p.client_until(lambda: len(writes_sent(p)) == blocked_at + 1)
        assert sink.first.wait(TIMEOUT)
        assert sink.started == 1
        assert completed == blocked_at
        sink.gate.set()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert completed == 10
        done = stream.done().wait(TIMEOUT)
        assert (done.total, done.writes) == (3000, 10)


def writes_sent(p: Pair) -> list[Call]:
    """The ``Sink.write`` calls the client sent."""
    return [c for c in p.log.sent(Call) if c.method_id == 0]


def test_a_failed_streaming_call_fails_later_ones() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        stream = echo.sink().wait(TIMEOUT).sink
        stream.write(data=b"fine").wait(TIMEOUT)
        stream.write(data=b"boom").wait(TIMEOUT)  # the failure is not known yet
        with pytest.raises(RpcError, match="cannot write boom"):
            stream.done().wait(TIMEOUT)
        with pytest.raises(RpcError, match="cannot write boom"):
            stream.write(data=b"more").wait(TIMEOUT)


def test_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "rpc.sock"
    with capnrpc_socket.serve(f"unix:{path}", SocketEcho()) as listener:
        assert listener.address == f"unix:{path}"
        with capnrpc_socket.connect(listener.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            assert echo.echo(text="over unix").wait(TIMEOUT).text == "over unix"
            assert echo.newCounter(1).counter.next().wait(TIMEOUT).value == 2
            (server_conn,) = listener.connections
            assert server_conn.peer_address.startswith("unix:")
        assert path.exists()
    assert not path.exists()


def test_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="capnrpc")
    caplog.set_level(logging.DEBUG, logger="capnrpc.wire")
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        with capnrpc_socket.connect(listener.address) as conn:
            echo = conn.bootstrap(rpctest.Echo)
            echo.ping(1).wait(TIMEOUT)
        assert listener.vat.wait_until(lambda: not listener.connections, TIMEOUT)
    info = [r.getMessage() for r in caplog.records if r.name == "capnrpc"]
    assert any(m.startswith("connected to tcp://127.0.0.1:") for m in info)
    assert any(m.startswith("accepted tcp://127.0.0.1:") for m in info)
    assert sum("closed" in m for m in info) == 2
    wire = [r.getMessage() for r in caplog.records if r.name == "capnrpc.wire"]
    assert any(m.endswith("-> Bootstrap #0") and m.startswith("client") for m in wire)
    # ping goes to the bootstrap answer, or to the import if the answer came back first.
    assert any(re.search(r"<- Call #\d Base\.ping -> (answer #0|import 0)$", m) for m in wire)
    assert all("\n" not in m for m in wire)


def test_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "client.trace"
    with (
        capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener,
        capnrpc_socket.connect(listener.address, trace_path=trace) as conn,
    ):
        echo = conn.bootstrap(rpctest.Echo)
        echo.ping(1).wait(TIMEOUT)
    lines = trace.read_text().splitlines()
    assert lines[0] == "capnrpc-trace 1"
    assert any(line.startswith("send c0 ") for line in lines)
    assert any(line.startswith("recv c0 ") for line in lines)
    assert any(line.startswith("# (bootstrap = (questionId = 0))") for line in lines)


def test_tls(tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_contexts
    with (
        capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho(), ssl_context=server_ctx) as listener,
        capnrpc_socket.connect(listener.address, ssl_context=client_ctx, timeout=TIMEOUT) as conn,
    ):
        echo = conn.bootstrap(rpctest.Echo)
        assert echo.echo(text="secret").wait(TIMEOUT).text == "secret"
        # Big enough to need several TLS records each way.
        big = "x" * 300_000
        assert echo.echo(text=big).wait(TIMEOUT).text == big


def test_large_messages_both_ways() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        big = os.urandom(1 << 20).hex()
        promises = [echo.echo(text=big) for _ in range(4)]
        assert all(promise.wait(TIMEOUT).text == big for promise in promises)


def test_local_calls_after_the_vat_closed_fail() -> None:
    with capnrpc_socket.open_vat() as vat:
        counter = vat.local_client(CounterImpl(), rpctest.Counter)
        assert counter.next().wait(TIMEOUT).value == 1
    with pytest.raises(RpcError, match="vat was closed") as info:
        counter.next().wait(TIMEOUT)
    assert info.value.type == "disconnected"


def test_closing_the_vat_wakes_waiters_on_a_running_local_call() -> None:
    with capnrpc_socket.open_vat() as vat:
        server = SocketEcho()
        echo = vat.local_client(server, rpctest.Echo)
        promise = echo.hold()
        assert server.holding.wait(TIMEOUT)
        closer = threading.Thread(target=vat.close)
        closer.start()
        with pytest.raises(RpcError, match="vat was closed"):
            promise.wait(TIMEOUT)
        closer.join(TIMEOUT)
        assert not closer.is_alive()
        # close() returned only after the method did.
        assert server.hold_cancelled.is_set()


def test_waiting_on_an_io_thread_is_refused() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        errors: list[BaseException] = []
        pending = echo.hold()

        def observer(conn: object, direction: str, frame: bytes) -> None:
            if direction != "recv":  # frames received are reported on the IO thread
                return
            p.conn.vat.frame_observer = None
            try:
                pending.wait(TIMEOUT)
            except LocalUsageError as exc:
                errors.append(exc)

        p.conn.vat.frame_observer = observer
        assert echo.ping(1).wait(TIMEOUT).value == 2
        assert errors and "IO thread" in str(errors[0])
        pending.cancel()


def test_workers_are_checked() -> None:
    with pytest.raises(LocalUsageError, match="workers"):
        capnrpc_socket.open_vat(workers=0)
    with capnrpc_socket.open_vat() as vat, pytest.raises(LocalUsageError, match="open_vat"):
        capnrpc_socket.connect("tcp://127.0.0.1:1", vat=vat, workers=2)


def test_a_closed_vat_takes_no_new_connections() -> None:
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        vat = capnrpc_socket.open_vat()
        vat.close()
        with pytest.raises(LocalUsageError, match="closed vat"):
            capnrpc_socket.connect(listener.address, vat=vat)
