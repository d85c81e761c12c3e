"""The threaded runtime of one vat: blocking promises, methods on threads, waiting and waking.

See docs/drivers-socket.md. Everything protocol-shaped happens in ``capnrpc_core``; this module
only locks, waits, wakes and runs methods on threads. The notes below say why it is built the
way it is: every hand-off between threads costs a wake-up and a switch of the interpreter lock,
which is most of what a call costs here, so the common paths are arranged to need few.

Note [threads]
~~~~~~~~~~~~~~
One re-entrant lock per vat (:meth:`SocketVat.lock`) guards every access to the core; whichever
thread gives the vat a command drains the pump itself. The threads of a vat:

- each connection has an IO thread that owns its socket (``Connection._owner``): it reads,
  feeds the core, writes, and runs the methods called on it (Note [inline methods]);
- pool threads (``workers`` of them at a time) run the methods nobody runs inline, and become
  a connection's IO thread when that one is stuck in a method;
- a flusher writes what application threads queued and did not write themselves, carries out
  finalizers' releases, and gives reading back to IO threads (Note [writing], [leading]);
- a watchdog looks after methods run inline (Note [inline methods]);
- application threads make calls and wait; a waiting thread reads its connection itself
  (Note [leading]).

A waiting thread sleeps on a lock of its own (or, leading, in ``poll``); whoever drains the vat
checks the conditions of the waiting threads and wakes those whose wait is over, so a wait
never polls. A wait on the main thread wakes twice a second as well, so that Ctrl-C is seen
even where lock waits are not interruptible; a KeyboardInterrupt (like a timeout) cancels the
call waited for.

Note [method order]
~~~~~~~~~~~~~~~~~~~
Cap'n Proto promises E-order: calls to one object start in the order they were made. With
several threads that takes more than a queue, so deliveries to one object wait behind each
other: the next starts when the running method returns or first waits (for a promise, in
:func:`wait_canceled` or in :func:`blocking`), the points where an async driver would let the
next call start too. Calls to different objects may run at the same time, ``workers`` at most.

A method that waits gives its worker slot back for as long as it waits (and keeps running
outside the count afterwards), so a call it waits for can always be run, even by a pool of one:
a server method that calls back its caller, whose callback calls the server again, completes.

Note [inline methods]
~~~~~~~~~~~~~~~~~~~~~
A connection's IO thread runs the calls it reads itself, one after the other, after feeding
the input (a worker slot each): a call then costs no hand-over to a pool thread and back. Two
things would go wrong if that were all, and both hand the connection over to another thread
(an idle pool thread, or a new one) while the method goes on where it is:

- a method that waits (a promise, :func:`wait_canceled`, :func:`blocking`) hands over at once:
  the answer it waits for may have to be read from this very connection;
- a method that runs for :data:`INLINE_LIMIT` seconds without waiting (it computes, or blocks
  in something the driver cannot see) is handed over by the watchdog, which looks every
  INLINE_LIMIT seconds while methods run inline and sleeps otherwise.

So other calls on the connection wait behind a slow method for INLINE_LIMIT to twice that at
most (and as long as the method holds the interpreter lock), and a method that blocks for good
cannot stop the connection; the thread finishes the method and joins the pool. Deliveries made
ready by anything else (a local call, a method returning) go to the pool.

Note [writing]
~~~~~~~~~~~~~~
The IO thread writes the first answer of a burst at once (unless it knows of more methods to
run first) and the rest before it selects again, in one send. Output queued by any other
thread is written by that thread in two parts. The first message queued on a connection after
any wait ended goes at once, with whatever was held back for that connection (a Finish that
the answers left behind, say), if the connection is not being read by its IO thread (a waiting
thread leads, or reading is parked, Note [leading]): a peer in another process then starts on
the first call of a pipelined chain ``a().b().c()`` while the thread makes the rest (on the
bench, chains with the server in another process went from 2,900 to 3,500 a second), and its
answer waits to be read until the thread waits, so ``b()`` and ``c()`` still go to ``a()``'s
question. Were the IO thread reading, it could take the answer, and the interpreter lock with
it, before ``b()`` is made, which would then go to the answer's capability a round trip later.
The rest of the burst goes when the thread blocks -- waits, or a pool thread runs out of work
-- in one send, or else within :data:`FLUSH_DELAY` seconds, when the vat's flusher writes it, so
that a burst of calls does not cost a send (and a wake-up of the peer) each.
Output that input read by a waiting thread made the vat queue (a Finish, a forwarded call) is
written at once while the wait goes on, and held for the thread's next message once the wait
is over. TLS output always goes through the IO thread: an SSL object must not read on one
thread while another writes. Finalizers' releases wait for the next drain, or the flusher. On
plain sockets, whichever thread queues the ``WRITE_SLICE``-th unwritten message of a
connection writes them all at once (Note [write slices] in capnrpc_core.driver).

Note [leading]
~~~~~~~~~~~~~~
A thread waiting for a call that went out on connection C reads C itself while it waits,
instead of sleeping until C's IO thread has read the answer and woken it: one hand-off fewer
per call. Reading is one thread's at a time (``Connection._reader``); the leader turns the IO
thread's interest in reading off and polls the socket and a socket pair of its own, on which
other threads wake it. Input it reads is fed as the IO thread would feed it, except that
methods called by it go to the pool: a waiting thread never runs a method on its stack. When
its wait is over the leader stops reading. If the peer can call us (we export something or
offer a bootstrap) or other threads wait, the IO thread reads again at once; if not, reading
stays off until the next leader or the flusher's next round (a thread making call after call
leads each time, at no cost). Only plain sockets whose selector can change while another
thread selects (epoll, kqueue) are led; the others are read by their IO threads.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from capnrpc_core import LocalUsageError, RpcError
from capnrpc_core.driver import (
    Pump,
    await_delivery,
    begin_delivery,
    invoke,
    new_core_vat,
    refuse_delivery,
    report_frame,
)
from capnrpc_core.rpc import Cap, Connection, Delivery, PendingCall, RpcException, RpcLimits
from capnrpc_core.schema import interfaces
from capnrpc_core.schema.interfaces import Server
from capnrpc_core.schema.registry import set_type_lock

if TYPE_CHECKING:
    from capnrpc_socket._connection import Connection as SocketConnection

__all__ = ["Promise", "SocketVat", "blocking", "open_vat", "wait_canceled"]

log = logging.getLogger("capnrpc")
wire_log = logging.getLogger("capnrpc.wire")

FrameObserver = Callable[["SocketConnection", str, bytes], None]

DEFAULT_WORKERS = 4
# Output queued by threads other than the IO thread, finalizers' releases, and connections a
# waiting thread stopped reading wait at most about this long for the flusher (Note [writing]).
FLUSH_DELAY = 0.005
# A method run inline this long has its connection handed over (Note [inline methods]); an
# IO thread runs at most INLINE_BATCH methods before it looks at its socket again.
INLINE_LIMIT = 0.005
INLINE_BATCH = 64
# How often a wait on the main thread wakes up to let signal handlers (Ctrl-C) run.
_SIGNAL_SLICE = 0.5

# An idle pool thread ends after this long without work.
_IDLE_SECONDS = 30.0


def _next_wait(deadline: float | None, on_main: bool) -> float | None:
    """Seconds to sleep next (-1: no limit), or None once ``deadline`` has passed.

    On the main thread a sleep is at most ``_SIGNAL_SLICE``, so that Ctrl-C is seen.
    """
    wait = -1.0
    if deadline is not None:
        wait = deadline - time.monotonic()
        if wait <= 0:
            return None
    if on_main:
        wait = _SIGNAL_SLICE if wait < 0 else min(wait, _SIGNAL_SLICE)
    return wait


_local = threading.local()
_MAIN_IDENT = threading.main_thread().ident

# Application code runs on many threads here, and schema types are made on first use.
set_type_lock(threading.RLock())


def _io_thread() -> bool:
    """Whether this thread is feeding input to a vat now (and so must not wait)."""
    return getattr(_local, "io", False)


def _current_job() -> _Job | None:
    job: _Job | None = getattr(_local, "job", None)
    return job


class Promise(interfaces.Promise):
    """A call in flight: :meth:`wait` blocks for the results (pipelining: see the base class).

    A wait that times out (``TimeoutError``) or is interrupted (Ctrl-C) cancels the call: the
    peer gets a Finish. Waiting on a streaming call's promise blocks only while the
    capability's stream window is full. Inside an ``async def`` server method, ``await
    promise`` is the same as ``promise.wait()``.
    """

    def wait(self, timeout: float | None = None) -> Any:
        """The results; raises :class:`RpcError` if the call failed, TimeoutError on timeout."""
        runtime: SocketVat = self._runtime  # type: ignore[assignment]
        call = self._call
        if self._stream is not None:
            target = self._stream[0]
            vat = runtime.vat
            if not runtime._wait(lambda: not vat.stream_window_full(target), timeout, call):
                raise TimeoutError(f"the stream window stayed full for {timeout} s")
            self._stream_ready_check()
            return self._result() if call.done else None
        if not (call.done or self._canceled):
            try:
                settled = runtime._wait(lambda: call.done, timeout, call)
            except BaseException:
                # Ctrl-C (or any exception raised by a signal handler) abandons the call.
                self.cancel()
                raise
            if not settled:
                self.cancel()
                raise TimeoutError(f"no answer within {timeout} s; the call was canceled")
            if not call.done:
                raise RpcError("disconnected", "the vat was closed")
        return self._result()

    def __await__(self) -> Generator[Any, None, Any]:
        # Blocks instead of suspending: a worker runs an async method's coroutine to the end.
        return self.wait()
        yield  # pragma: no cover  (makes this a generator function)


class _Job:
    """A delivery being run by a pool thread, or inline by a connection's IO thread."""

    __slots__ = ("delivery", "detached", "inline", "key", "runtime")

    def __init__(
        self, runtime: SocketVat, delivery: Delivery, inline: SocketConnection | None = None
    ) -> None:
        self.runtime = runtime
        self.delivery = delivery
        self.key = id(delivery.server)
        self.detached = False
        # The connection whose IO thread runs this job (Note [inline methods]).
        self.inline = inline


class _Worker:
    """A pool thread's mailbox: a job or a connection to serve, and a lock released to wake it."""

    __slots__ = ("io", "job", "thread", "wake")

    def __init__(self, job: Delivery | None, io: SocketConnection | None) -> None:
        self.job = job
        # A connection whose IO thread this thread becomes (Note [inline methods]).
        self.io = io
        self.thread: threading.Thread | None = None
        # Held while the thread sleeps; released (once) to wake it.
        self.wake = threading.Lock()
        self.wake.acquire()


class _Waiter:
    """A thread blocked in :meth:`SocketVat._block`: its condition and how to wake it."""

    __slots__ = ("error", "leading", "ready", "thread", "wake", "woken")

    def __init__(self, ready: Callable[[], bool], leading: socket.socket | None) -> None:
        self.ready = ready
        self.thread = threading.get_ident()
        # What ready() raised when a drain checked it: the waiter raises it on its own thread.
        self.error: Exception | None = None
        # Set (vat lock held) when the wait is over.
        self.woken = False
        # A leader (Note [leading]) is woken by a byte on its thread's socket, others by this
        # lock (created and held).
        self.leading = leading
        self.wake: threading.Lock | None = None
        if leading is None:
            self.wake = threading.Lock()
            self.wake.acquire()

    def holds(self) -> bool:
        """Whether the wait is over (also if the condition raised: the waiter re-raises)."""
        try:
            return self.ready()
        except Exception as exc:
            self.error = exc
            return True

    def wake_up(self) -> None:
        """End the wait (vat lock held; the waiter was taken off the list)."""
        self.woken = True
        if self.wake is not None:
            self.wake.release()
        elif self.leading is not None and self.thread != threading.get_ident():
            with contextlib.suppress(OSError):  # full of wake-ups already
                self.leading.send(b"\0")

    def follow(self) -> None:
        """Wait as a follower from now on (vat lock held): the connection led is gone."""
        self.leading = None
        self.wake = threading.Lock()
        self.wake.acquire()


class SocketVat:
    """A vat driven by threads: the :class:`~capnrpc_core.schema.interfaces.Runtime` of its clients.

    Made by :func:`open_vat` (or by ``connect``/``serve`` when no vat is passed). ``vat`` is the
    core :class:`~capnrpc_core.rpc.Vat` (or a trace recorder standing in for it). Every method
    may be called from any thread.
    """

    def __init__(
        self,
        vat: Any,
        *,
        name: str = "vat",
        workers: int = DEFAULT_WORKERS,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if workers < 1:
            raise LocalUsageError(f"workers must be at least 1, not {workers}")
        self.vat = vat
        self.name = name
        self.workers = workers
        self.frame_observer: FrameObserver | None = None
        self.closed = False
        self._lock = threading.RLock()
        self._on_close = on_close
        self._pump = Pump(vat, self)
        self._pump.observer = self._observe_frame
        self._connections: dict[Connection, SocketConnection] = {}
        # Threads blocked in _block (Note [threads]).
        self._waiters: list[_Waiter] = []
        # Methods (Note [method order]): running (inline or not, not detached), ready to run,
        # waiting behind a running call to their object, and the pool's idle threads.
        self._running = 0
        self._ready: deque[Delivery] = deque()
        self._busy: dict[int, deque[Delivery]] = {}
        self._idle: list[_Worker] = []
        self._jobs: set[_Job] = set()
        # The flusher (Note [writing]): armed while it will look again within FLUSH_DELAY;
        # its work: connections with output from other threads, and connections not read.
        self._flusher: threading.Thread | None = None
        self._flusher_armed = False
        self._flusher_wake = threading.Lock()
        self._flusher_wake.acquire()
        # Set by close: the flusher stops at once, not after the rest of its FLUSH_DELAY.
        self._flusher_stop = threading.Event()
        self._unflushed: set[SocketConnection] = set()
        # Counts the waits that ended: the first message a thread queues on a connection after
        # one goes at once (Note [writing]).
        self._waits_ended = 0
        self._parked: set[SocketConnection] = set()
        # The watchdog (Note [inline methods]) and the connections running a method inline.
        self._watchdog: threading.Thread | None = None
        self._watchdog_idle = True
        self._watchdog_wake = threading.Event()
        self._inline: set[SocketConnection] = set()
        self._inline_runs = 0

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._connections)} connections"
        return f"<capnrpc_socket.SocketVat {self.name} {state}>"

    # -- the Runtime protocol ------------------------------------------------------------------

    def make_promise(self, call: PendingCall, result_type: Any) -> Promise:
        """A :class:`Promise` for ``call``."""
        return Promise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        """The vat's re-entrant lock, held around every vat access."""
        return cast(AbstractContextManager[None], self._lock)

    def flush(self) -> None:
        """Route the vat's events and output now (written as Note [writing] says)."""
        with self._lock:
            self._drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        """Release ``ref`` soon (safe from finalizers; takes no lock).

        The next drain of the vat carries it out, whichever thread drains, or else the flusher
        within :data:`FLUSH_DELAY` seconds.
        """
        self._pump.release_later(ref)
        self._flush_soon()

    # -- application helpers -------------------------------------------------------------------

    def local_client(self, server: Server, interface_type: type[Any] | None = None) -> Any:
        """A client for a local :class:`Server` object (calls run on this vat's pool)."""
        return interfaces.local_client(self, server, interface_type)

    @property
    def connections(self) -> list[SocketConnection]:
        """The open connections of this vat."""
        with self._lock:
            return list(self._connections.values())

    def wait_until(self, condition: Callable[[], bool], timeout: float | None = None) -> bool:
        """Block until ``condition()`` holds; False if ``timeout`` passed first.

        ``condition`` is checked with the vat lock held, again after everything the vat does
        (a message received, a call made, a method answered), so it may look at core state.
        """
        held = False

        def check() -> bool:
            nonlocal held
            held = condition()
            return held

        self._wait(check, timeout)
        return held

    def close(self) -> None:
        """Close every connection, fail the calls waiting to run, and wait for the threads.

        Methods still running are answered ``disconnected`` at once; their waits for promises
        and :func:`wait_canceled` return, and ``close`` waits until they have returned.
        """
        with self._lock:
            if self.closed:
                return
            self.closed = True
            conns = list(self._connections.values())
            for conn in conns:
                conn._disconnect_locked("the vat was closed")
            queued = list(self._ready)
            self._ready.clear()
            for waiting in self._busy.values():
                queued.extend(waiting)
                waiting.clear()
            # Methods still running keep their threads, but nobody waits for them any more.
            queued.extend(job.delivery for job in self._jobs)
            for delivery in queued:
                if not delivery.done:
                    refuse_delivery(self.vat, delivery)
            # An IO thread stuck in a method could not finish closing its connection.
            for conn in list(self._inline):
                self._hand_over(conn)
            self._drain()
            self._wake_waiters()
            idle, self._idle = self._idle, []
            for worker in idle:
                worker.wake.release()
            helpers = (self._watchdog, self._flusher)
            self._watchdog_wake.set()
            self._flusher_stop.set()
            with contextlib.suppress(RuntimeError):  # released already
                self._flusher_wake.release()
        for conn in conns:
            conn._join()
        me = _current_job()
        self._block(lambda: all(job is me for job in self._jobs), None)
        for thread in helpers:
            if thread is not None and thread is not threading.current_thread():
                thread.join()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> SocketVat:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the pump's handler (called with the lock held) ----------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        if self.closed:
            refuse_delivery(self.vat, delivery)
            return
        key = id(delivery.server)
        waiting = self._busy.get(key)
        if waiting is not None:
            waiting.append(delivery)
            return
        self._busy[key] = deque()
        self._ready.append(delivery)
        if getattr(_local, "serving", None) is None:
            self._dispatch()
        # else: the IO thread draining runs it next (Note [inline methods]).

    def delivery_canceled(self, delivery: Delivery) -> None:
        pass  # threads cannot be interrupted: wait_canceled() wakes after this drain

    def call_returned(self, call: PendingCall) -> None:
        pass  # waiters are woken after the drain

    def stream_ready(self, call: PendingCall) -> None:
        pass

    def send(self, conn: Connection, data: bytes) -> None:
        sc = self._connections.get(conn)
        if sc is not None:
            sc._queue(data)

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        sc = self._connections.pop(conn, None)
        if sc is not None:
            sc._closed_by_core(exception, by_peer)

    # -- draining and waiting (Note [threads], Note [leading]) ----------------------------------

    @property
    def _waiting(self) -> int:
        """How many threads wait on this vat (for tests' ``wait_until`` conditions)."""
        return len(self._waiters)

    def _drain(self) -> None:
        """Run the pump (lock held) and wake the threads whose wait is over."""
        self._pump.drain()
        if self._waiters:
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        """Wake every waiting thread whose condition holds now (lock held)."""
        waiters = self._waiters
        for waiter in [w for w in waiters if w.holds()]:
            waiters.remove(waiter)
            waiter.wake_up()

    def _wait(
        self, ready: Callable[[], bool], timeout: float | None, call: PendingCall | None = None
    ) -> bool:
        """Block until ``ready()`` or the vat closes (True), or ``timeout`` passes (False).

        While it waits for ``call``, this thread reads the connection the answer comes from
        itself if it can (Note [leading]). What this thread queued is written first.
        """
        if getattr(_local, "io", False):
            raise LocalUsageError(
                "cannot wait on a capnrpc IO thread (in a frame observer?): it would deadlock"
            )
        with self._lock:
            if ready():
                if self._unflushed:
                    self._flush_io()
                return True
        job = getattr(_local, "job", None)
        if job is not None and not job.detached:
            self._detach(job)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return self._block(lambda: self.closed or ready(), deadline, call)
        finally:
            self._waits_ended += 1

    def _block(
        self, ready: Callable[[], bool], deadline: float | None, call: PendingCall | None = None
    ) -> bool:
        """Sleep until a drain finds ``ready()`` true (True) or ``deadline`` passes (False)."""
        lock = self._lock
        lead: SocketConnection | None = None
        with lock:
            if ready():
                waiter = None
            else:
                question = call.question if call is not None else None
                if question is not None:
                    lead = self._connections.get(question.connection)
                    if lead is not None and not lead._lead():
                        lead = None
                state = _lead_state() if lead is not None else None
                waiter = _Waiter(ready, state.wake_w if state is not None else None)
                self._waiters.append(waiter)
                if len(self._waiters) > 1:
                    # Others may wait for this thread to be waiting (wait_until on the vat).
                    self._wake_waiters()
        if self._unflushed:
            self._flush_io()  # last, just before sleeping (Note [writing])
        if waiter is None:
            return True
        on_main = threading.get_ident() == _MAIN_IDENT
        woken = False
        try:
            if lead is not None:
                led = None
                try:
                    assert state is not None
                    led = self._lead(waiter, lead, state, deadline, on_main)
                finally:
                    # Others wait (they may need what comes next on it): the IO thread reads.
                    lead._stop_leading(any(w is not waiter for w in self._waiters))
                if led is not None:
                    woken = led
                else:
                    # The connection ended under it: wait for the call to fail as others do.
                    with lock:
                        if not waiter.woken:
                            waiter.follow()
                    woken = waiter.woken or _sleep(waiter.wake, deadline, on_main)
            else:
                woken = _sleep(waiter.wake, deadline, on_main)
        finally:
            if not woken:
                with lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                    else:
                        woken = True  # woken just as the wait ended
        if waiter.error is not None:
            raise waiter.error
        return woken

    def _lead(
        self,
        waiter: _Waiter,
        conn: SocketConnection,
        state: _LeadState,
        deadline: float | None,
        on_main: bool,
    ) -> bool | None:
        """Read ``conn`` on this thread until the wait is over (True) or ``deadline`` (False).

        None if the connection ends first. Note [leading].
        """
        poller = state.poller(conn._sock.fileno())
        wake_fd = state.wake_fd
        while not waiter.woken:
            wait = _next_wait(deadline, on_main)
            if wait is None:
                return False
            for fd, _ in poller.poll(None if wait < 0 else wait * 1000):
                if fd == wake_fd:
                    state.clear()
                    continue
                _local.io = True
                try:
                    alive = conn._receive()
                finally:
                    _local.io = False
                if self._unflushed and not waiter.woken:
                    # What the input made the vat say (a forwarded call, say) goes now. Once
                    # the wait is over it waits instead for this thread's next message (a
                    # Finish then rides with the next call), or else the flusher.
                    self._flush_io()
                if not alive:
                    return True if waiter.woken else None
        return True

    # -- writing (Note [writing]) --------------------------------------------------------------

    def _flush_io(self) -> None:
        """Write the output other threads than the IO threads queued (takes no vat lock)."""
        unflushed = self._unflushed
        while unflushed:
            try:
                conn = unflushed.pop()
            except KeyError:
                return  # taken by another thread meanwhile
            if conn._out:
                conn._flush()

    def _flush_soon(self) -> None:
        """Have the flusher look at the vat within FLUSH_DELAY (any thread; takes no lock)."""
        if self._flusher_armed or self._flusher is None:
            return  # armed already, or no connection yet: the next drain sees to it
        self._flusher_armed = True
        with contextlib.suppress(RuntimeError):  # armed by two threads at once
            self._flusher_wake.release()

    def _flush_later(self) -> None:
        """The flusher thread: writes, releases and reading that nobody else saw to."""
        wake = self._flusher_wake
        stop = self._flusher_stop
        while not self.closed:
            if stop.wait(FLUSH_DELAY):
                return
            # Disarmed first: whatever is queued from now on arms it again.
            self._flusher_armed = False
            self._flush_io()
            if self._pump._releases:
                with self._lock:
                    self._drain()
            parked = self._parked
            while parked:
                parked.pop()._unpark()
            wake.acquire()

    # -- the pool (Note [method order]); everything below runs with the lock held --------------

    def _dispatch(self) -> None:
        """Give ready deliveries to idle pool threads or new ones, ``workers`` at a time."""
        while self._ready and self._running < self.workers:
            delivery = self._ready.popleft()
            self._running += 1
            self._give(delivery, None)

    def _give(self, delivery: Delivery | None, conn: SocketConnection | None) -> threading.Thread:
        """Give a job, or a connection to serve, to an idle pool thread or a new one."""
        if self._idle:
            worker = self._idle.pop()
            worker.job = delivery
            worker.io = conn
            worker.wake.release()
        else:
            worker = _Worker(delivery, conn)
            worker.thread = threading.Thread(
                target=self._work, args=(worker,), name=f"capnrpc worker {self.name}"
            )
            worker.thread.daemon = True
            worker.thread.start()
        assert worker.thread is not None
        return worker.thread

    def _object_done(self, key: int) -> None:
        """The object ``key`` may start its next call."""
        waiting = self._busy.get(key)
        if waiting:
            self._ready.append(waiting.popleft())
        else:
            self._busy.pop(key, None)

    def _detach(self, job: _Job) -> None:
        """``job``'s method waits: its object may start the next call, its slot is free."""
        with self._lock:
            if job.detached:
                return
            job.detached = True
            self._running -= 1
            self._object_done(job.key)
            conn = job.inline
            if conn is not None and conn._inline_job is job:
                self._hand_over(conn)
            self._dispatch()

    def _work(self, worker: _Worker) -> None:
        """A pool thread: run jobs, and serve connections handed over, until idle for long."""
        lock = self._lock
        with lock:
            while True:
                conn = worker.io
                if conn is not None:
                    worker.io = None
                    lock.release()
                    try:
                        conn._serve()
                    finally:
                        lock.acquire()
                    continue
                delivery = worker.job
                if delivery is None:
                    if self.closed:
                        return
                    self._idle.append(worker)
                    lock.release()
                    try:
                        if self._unflushed:
                            self._flush_io()
                        woken = worker.wake.acquire(timeout=_IDLE_SECONDS)
                    finally:
                        lock.acquire()
                    if not woken:
                        if worker in self._idle:
                            self._idle.remove(worker)
                            return  # idle for long enough
                        # Given work (or told to stop) just as the wait timed out.
                        worker.wake.acquire(blocking=False)
                    continue
                worker.job = None
                job = _Job(self, delivery)
                self._jobs.add(job)
                lock.release()
                try:
                    self._run(job)
                finally:
                    lock.acquire()
                self._job_done(job)
                # An idle thread must not keep the method's server object, params and results
                # alive until its next job: they go with their last other reference.
                del job, delivery
                if self._ready and self._running < self.workers:
                    worker.job = self._ready.popleft()
                    self._running += 1
                self._dispatch()

    def _job_done(self, job: _Job) -> None:
        """``job``'s method returned."""
        self._jobs.discard(job)
        if self._waiters:
            self._wake_waiters()
        if not job.detached:
            self._running -= 1
            self._object_done(job.key)

    def _run(self, job: _Job) -> None:
        """Run one delivery on this thread, without the lock."""
        delivery = job.delivery
        _local.job = job
        try:
            invocation = begin_delivery(self, delivery)
            if invocation is None:
                return
            awaitable = invoke(self, delivery, invocation)
            if awaitable is not None:
                _run_coroutine(await_delivery(self, delivery, invocation, awaitable))
        except BaseException as exc:
            # Not an Exception: a method stopping because it was canceled (as trio's and
            # asyncio's do), or SystemExit and the like, which a pool thread must survive.
            if not (delivery.canceled or self.closed):
                log.exception("server method %r raised %s", delivery, type(exc).__name__)
            interfaces.fail_delivery(self, delivery, exc)
        finally:
            _local.job = None

    # -- inline methods (Note [inline methods]) ------------------------------------------------

    def _run_inline(self, conn: SocketConnection) -> None:
        """Run ready deliveries on ``conn``'s IO thread (this one) while it stays that."""
        lock = self._lock
        me = conn._owner
        with lock:
            for _ in range(INLINE_BATCH):
                if not (self._ready and self._running < self.workers) or self.closed:
                    return
                delivery = self._ready.popleft()
                self._running += 1
                job = _Job(self, delivery, conn)
                self._jobs.add(job)
                conn._inline_job = job
                conn._inline_seq += 1
                self._inline_runs += 1
                self._inline.add(conn)
                if self._watchdog_idle:
                    self._wake_watchdog()
                lock.release()
                _local.io = False
                _local.serving = None
                try:
                    self._run(job)
                finally:
                    _local.io = True
                    _local.serving = conn
                    lock.acquire()
                if conn._inline_job is job:
                    conn._inline_job = None
                    self._inline.discard(conn)
                self._job_done(job)
                if conn._owner is not me:
                    # Handed over while it ran: what is left is for the pool.
                    self._dispatch()
                    return

    def _more_inline_work(self) -> bool:
        """Whether the IO thread running a method has more to run after it (lock held).

        Then the answers it writes wait until it has run them, and go out together.
        """
        if self._ready:
            return True
        job = getattr(_local, "job", None)
        return job is not None and bool(self._busy.get(job.key))

    def _hand_over(self, conn: SocketConnection) -> None:
        """``conn``'s IO thread is in a method: another thread serves the socket from now."""
        conn._inline_job = None
        self._inline.discard(conn)
        conn._owner = None
        if not conn._finished:
            conn._owner = self._give(None, conn)

    def _wake_watchdog(self) -> None:
        self._watchdog_idle = False
        if self._watchdog is None:
            thread = threading.Thread(target=self._watch, name=f"capnrpc watchdog {self.name}")
            thread.daemon = True
            self._watchdog = thread
            thread.start()
        else:
            self._watchdog_wake.set()

    def _watch(self) -> None:
        """The watchdog: hand a connection over when its IO thread runs one method for long."""
        lock = self._lock
        wake = self._watchdog_wake
        seen: dict[SocketConnection, int] = {}
        quiet = 0
        runs = -1
        while not self.closed:
            wake.wait(None if self._watchdog_idle else INLINE_LIMIT)
            wake.clear()
            with lock:
                if self.closed:
                    return
                running: dict[SocketConnection, int] = {}
                for conn in list(self._inline):
                    if seen.get(conn) == conn._inline_seq:
                        log.debug("a method holds the IO thread of %s: handed over", conn.core.name)
                        self._hand_over(conn)
                    else:
                        running[conn] = conn._inline_seq
                seen = running
                # Asleep for good only after two rounds in which no method ran inline at all.
                quiet = 0 if running or runs != self._inline_runs else quiet + 1
                runs = self._inline_runs
                if quiet >= 2:
                    self._watchdog_idle = True

    # -- connections ---------------------------------------------------------------------------

    def _add_connection(self, sc: SocketConnection, observe: bool = False) -> None:
        """Register ``sc`` (lock held)."""
        self._connections[sc.core] = sc
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_later, name=f"capnrpc flusher {self.name}"
            )
            self._flusher.daemon = True
            self._flusher.start()
        if observe or self.frame_observer is not None or wire_log.isEnabledFor(logging.DEBUG):
            self._pump.observe(sc.core)
        if self._waiters:
            self._wake_waiters()

    def _observe_frame(self, core: Connection, direction: str, frame: bytes) -> None:
        report_frame(self, self._connections.get(core), core, direction, frame)


class _LeadState:
    """A thread's means to lead (Note [leading]): its wake-up socket pair and a poll object."""

    __slots__ = ("_fd", "_poller", "wake_fd", "wake_r", "wake_w")

    def __init__(self) -> None:
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.wake_fd = self.wake_r.fileno()
        self._fd = -1
        self._poller = select.poll()

    def poller(self, sock_fd: int) -> select.poll:
        """A poll object for ``sock_fd`` and the wake-up socket (kept for the next wait)."""
        if sock_fd != self._fd:
            self._poller = select.poll()
            self._poller.register(sock_fd, select.POLLIN)
            self._poller.register(self.wake_fd, select.POLLIN)
            self._fd = sock_fd
        return self._poller

    def clear(self) -> None:
        """Take the wake-up bytes."""
        with contextlib.suppress(BlockingIOError):
            while self.wake_r.recv(4096):
                pass

    def __del__(self) -> None:
        # When the thread ends (its locals go).
        self.wake_r.close()
        self.wake_w.close()


def _lead_state() -> _LeadState:
    state: _LeadState | None = getattr(_local, "lead", None)
    if state is None:
        state = _local.lead = _LeadState()
    return state


def _sleep(wake: threading.Lock | None, deadline: float | None, on_main: bool) -> bool:
    """Acquire ``wake`` (True), or give up at ``deadline`` (False).

    On the main thread the sleep is cut into slices, so that signal handlers (Ctrl-C) run
    even where lock waits are not interruptible.
    """
    assert wake is not None
    while True:
        wait = _next_wait(deadline, on_main)
        if wait is None:
            return False
        if wake.acquire(timeout=wait):
            return True
        if not on_main:
            return False


def _detach_current_job() -> None:
    job = _current_job()
    if job is not None and not job.detached:
        job.runtime._detach(job)


def _run_coroutine(coro: Coroutine[Any, Any, None]) -> None:
    """Run an ``async def`` method's coroutine to its end on this thread.

    Awaiting a capnrpc_socket promise blocks rather than suspends; anything that really
    suspends (an asyncio or trio primitive) has no loop to resume it here.
    """
    try:
        yielded = coro.send(None)
    except StopIteration:
        return
    error = LocalUsageError(
        "an async method run by capnrpc_socket may only await capnrpc_socket promises; "
        f"it awaited something that suspends ({yielded!r})"
    )
    try:
        coro.throw(error)
    except StopIteration:
        return
    coro.close()


def wait_canceled(timeout: float | None = None) -> bool:
    """In a server method: block until the caller cancels the call (or it is answered anyway).

    Returns False if ``timeout`` passed first. Like any wait, it lets the object's next call
    start (Note [method order]).
    """
    job = _current_job()
    if job is None:
        raise LocalUsageError("wait_canceled() is for server methods run by capnrpc_socket")
    delivery = job.delivery
    return job.runtime._wait(lambda: delivery.canceled or delivery.done, timeout)


@contextlib.contextmanager
def blocking() -> Iterator[None]:
    """In a server method: about to block on something else; let the object's next call start.

    Also gives the worker slot back, like a wait for a promise does (Note [method order]), and
    the connection's socket to another thread if the method runs on its IO thread (Note
    [inline methods]). The method keeps running concurrently with later calls afterwards, so
    it must be thread-safe. Outside a server method this does nothing.
    """
    _detach_current_job()
    yield


def open_vat(
    *,
    bootstrap: object | None = None,
    limits: RpcLimits | None = None,
    name: str = "vat",
    workers: int = DEFAULT_WORKERS,
    trace_path: str | Path | None = None,
) -> SocketVat:
    """A vat whose connections (``connect``/``serve`` with ``vat=``) can share capabilities.

    Use it as a context manager or call ``close()``. ``bootstrap`` is the capability peers get
    by default (a :class:`Server` object); ``workers`` bounds the server methods running at
    once; ``trace_path`` writes the vat's whole history there (``capnrpc_core.rpc.trace``).
    """
    if trace_path is None:
        return SocketVat(
            new_core_vat(bootstrap, limits=limits, name=name), name=name, workers=workers
        )
    trace_file = Path(trace_path).open("w", encoding="utf-8")  # noqa: SIM115
    try:

        def write_line(line: str) -> None:
            trace_file.write(line + "\n")

        core = new_core_vat(bootstrap, limits=limits, name=name, trace=write_line)
        return SocketVat(core, name=name, workers=workers, on_close=trace_file.close)
    except BaseException:
        trace_file.close()
        raise
