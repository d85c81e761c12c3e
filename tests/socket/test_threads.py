"""Which thread does what: methods run on the IO thread, waiting threads reading, writing late.

The driver hands work between threads as little as it can (docs/drivers-socket.md, "Design"):
an IO thread runs the calls it reads itself, a thread waiting for an answer reads it itself,
and output of other threads goes out when they block. These tests check the promises that
must survive that: a method that blocks does not stop its connection, a waiting thread never
runs a method, followers are woken, nothing queued is forgotten, and an idle client still sees
its peer go away.
"""

from __future__ import annotations

import ssl
import threading
import weakref
from typing import Any

import pytest

import capnrpc_socket
from capnrpc_core.driver import describe_frame
from capnrpc_core.rpc.messages import Call, Return
from tests.services import CallbackImpl, CounterImpl
from tests.socket.conftest import TIMEOUT, SocketEcho, open_pair, rpctest

pytestmark = pytest.mark.timeout(30)


class ThreadLog:
    """A frame observer noting which thread saw each frame received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, threading.Thread]] = []

    def __call__(self, conn: object, direction: str, frame: bytes) -> None:
        if direction == "recv":
            self.received.append((describe_frame(frame), threading.current_thread()))


def test_a_method_that_blocks_unannounced_does_not_stop_its_connection() -> None:
    """The watchdog hands the connection to another thread (Note [inline methods])."""
    gate = threading.Event()

    class Stuck(rpctest.Counter.Server):  # type: ignore[misc]
        def next(self) -> int:
            # Blocks without blocking(): the driver cannot see it.
            return 1 if gate.wait(TIMEOUT) else 0

    class Server(SocketEcho):
        def newCounter(self, start: int) -> Any:
            return Stuck()

        def ping(self, value: int) -> int:
            gate.set()
            return value + 1

    with open_pair(Server()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        counter = echo.newCounter(0).wait(TIMEOUT).counter
        stuck = counter.next()
        # Read and run only if the connection does not wait for next() to return.
        assert echo.ping(1).wait(TIMEOUT).value == 2
        assert stuck.wait(TIMEOUT).value == 1


class CallingBack(SocketEcho):
    """callBack as a plain method that waits for its caller's callback once."""

    def callBack(self, callback: Any, value: int) -> int:  # type: ignore[override]
        with callback:
            return int(callback.call(value).wait(TIMEOUT).value) + 1


def test_a_method_that_waits_on_the_io_thread_lets_the_connection_go_on() -> None:
    """A method run on the IO thread that waits for its caller hands the socket over."""
    with open_pair(CallingBack(), server_workers=1, workers=1) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        for value in range(20):
            assert echo.callBack(callback=CallbackImpl(), value=value).wait(TIMEOUT).result == (
                2 * value + 1
            )


def test_a_method_that_waits_on_the_io_thread_of_a_tls_connection(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """Nobody else can read a TLS connection: a method's wait hands the IO thread's job over
    at once (not a while later, when the watchdog would)."""
    server_ctx, client_ctx = tls_contexts
    handed_over_by: list[str] = []
    with (
        capnrpc_socket.serve(
            "tcp://127.0.0.1:0", CallingBack(), ssl_context=server_ctx, workers=1
        ) as listener,
        capnrpc_socket.connect(
            listener.address, ssl_context=client_ctx, timeout=TIMEOUT, workers=1
        ) as conn,
    ):
        server_vat = listener.vat
        hand_over = server_vat._hand_over

        def noting_hand_over(server_conn: Any) -> None:
            handed_over_by.append(threading.current_thread().name)
            hand_over(server_conn)

        server_vat._hand_over = noting_hand_over  # type: ignore[method-assign]
        echo = conn.bootstrap(rpctest.Echo)
        for value in range(5):
            assert echo.callBack(callback=CallbackImpl(), value=value).wait(TIMEOUT).result == (
                2 * value + 1
            )
    assert len(handed_over_by) >= 5
    assert not any("watchdog" in name for name in handed_over_by)


def test_a_waiting_thread_reads_its_answer_itself() -> None:
    log = ThreadLog()
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        assert echo.ping(0).wait(TIMEOUT).value == 1
        p.conn.vat.frame_observer = log
        for value in range(20):
            assert echo.ping(value).wait(TIMEOUT).value == value + 1
    me = threading.current_thread()
    returns = [thread for text, thread in log.received if text.startswith("Return")]
    assert len(returns) == 20
    # Each time the IO thread did not read it, the waiting thread did (it could not lead only
    # if another thread was reading the connection just then).
    assert me in returns


def test_a_waiting_thread_never_runs_a_method() -> None:
    log = ThreadLog()
    ran_on: list[threading.Thread] = []

    class Recording(CallbackImpl):
        def call(self, value: int) -> int:
            ran_on.append(threading.current_thread())
            return super().call(value)

    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        assert echo.ping(0).wait(TIMEOUT).value == 1
        p.conn.vat.frame_observer = log
        for value in range(10):
            assert echo.callBack(callback=Recording(), value=value).wait(TIMEOUT).result == (
                4 * value + 1000
            )
    me = threading.current_thread()
    calls_read = [thread for text, thread in log.received if text.startswith("Call")]
    assert len(calls_read) == len(ran_on) == 20
    assert me in calls_read  # the callbacks were read by this thread while it waited...
    assert me not in ran_on  # ...and run by others


def test_a_follower_is_woken_by_the_thread_that_reads() -> None:
    """While one thread waits (and reads the connection), others' answers reach them."""
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        assert echo.ping(0).wait(TIMEOUT).value == 1
        held = echo.hold()
        errors: list[BaseException] = []

        def holder() -> None:
            try:
                held.wait(TIMEOUT)
            except BaseException as exc:  # the cancel below ends it; reported in the test
                errors.append(exc)

        thread = threading.Thread(target=holder, name="holder")
        thread.start()
        p.client_until(lambda: p.conn.vat._waiting >= 1)
        assert p.server.holding.wait(TIMEOUT)
        for value in range(5):
            assert echo.ping(value).wait(TIMEOUT).value == value + 1
        held.cancel()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert errors and "canceled" in str(errors[0])


def test_a_call_nobody_waits_for_still_goes_out() -> None:
    pinged = threading.Event()

    class Server(SocketEcho):
        def ping(self, value: int) -> int:
            pinged.set()
            return value + 1

    with open_pair(Server()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promise = echo.ping(7)  # never waited for: the vat's flusher writes it
        assert pinged.wait(TIMEOUT)
        p.client_until(lambda: promise.done)
        assert promise.wait(TIMEOUT).value == 8


def test_many_calls_in_flight_are_answered() -> None:
    with open_pair() as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        promises = [echo.ping(value) for value in range(300)]
        for value, promise in reversed(list(enumerate(promises))):
            assert promise.wait(TIMEOUT).value == value + 1
        calls = [c for c in p.log.sent(Call) if c.method_id == 0]
        returns = [r for d, r in p.log.entries if d == "recv" and isinstance(r, Return)]
        assert len(calls) == 300
        assert len(returns) >= 300


def test_an_idle_client_still_sees_its_peer_go_away() -> None:
    """A waiting thread that stopped reading gives reading back (Note [leading])."""
    with capnrpc_socket.serve("tcp://127.0.0.1:0", SocketEcho()) as listener:
        conn = capnrpc_socket.connect(listener.address)
        with conn:
            echo = conn.bootstrap(rpctest.Echo)
            for value in range(3):
                assert echo.ping(value).wait(TIMEOUT).value == value + 1
            # Nobody waits on the client now; only its IO thread can notice the end.
            listener.shutdown()
            assert conn.wait_closed(TIMEOUT)
            assert conn.close_reason is not None


def test_an_idle_pool_thread_keeps_nothing_of_the_method_it_ran() -> None:
    """Once a method has returned, its server object goes with the last reference to it."""
    ran_on: list[str] = []

    class Counting(CounterImpl):
        def next(self) -> int:
            ran_on.append(threading.current_thread().name)
            return super().next()

    with capnrpc_socket.open_vat() as vat:
        counter = Counting()
        gone = weakref.ref(counter)
        # A call on a local client runs on a pool thread, which then waits for more work.
        client = vat.local_client(counter, rpctest.Counter)
        del counter
        assert client.next().wait(TIMEOUT).value == 1
        assert ran_on and ran_on[0].startswith("capnrpc worker")
        client.release()
        # Checked again once the pool thread has filed the job as done (it may not have yet).
        assert vat.wait_until(lambda: gone() is None, TIMEOUT)


def test_an_io_thread_keeps_nothing_of_the_methods_it_ran_inline() -> None:
    made: list[weakref.ref[CounterImpl]] = []

    class Server(SocketEcho):
        def newCounter(self, start: int) -> Any:
            counter = CounterImpl(start)
            made.append(weakref.ref(counter))
            return counter

    with open_pair(Server()) as p:
        echo = p.conn.bootstrap(rpctest.Echo)
        counter = echo.newCounter(5).wait(TIMEOUT).counter
        assert counter.next().wait(TIMEOUT).value == 6  # run by the server's IO thread
        counter.release()
        # The Release went out before this call; its answer means the server has seen both.
        assert echo.ping(1).wait(TIMEOUT).value == 2
        assert [ref() for ref in made] == [None]
