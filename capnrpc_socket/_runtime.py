"""The threaded runtime of one vat: blocking promises, workers for server methods, the pump.

See docs/drivers-socket.md. Everything protocol-shaped happens in ``capnrpc_core``; this module
only locks, waits, wakes and runs methods on threads.

Note [threads]
~~~~~~~~~~~~~~
One re-entrant lock per vat (:meth:`SocketVat.lock`) guards every access to the core. Three
kinds of threads take it:

- one IO thread per connection owns that connection's socket: it feeds what it reads to the
  core and writes what the core queued for it. It never runs application code and never waits
  for a call, so no application thread can stall the protocol;
- worker threads run server methods (:class:`_Workers`);
- application threads make calls and wait for them.

Whichever thread gives the vat a command then drains the pump itself: events are routed, output
is queued on its connection and that connection's IO thread is woken through a socket pair.
Waiting is a condition variable on the vat lock, notified after every drain that someone waits
for, so a wait never polls. A wait on the main thread wakes twice a second as well, so that
Ctrl-C is seen even where lock waits are not interruptible; a KeyboardInterrupt (like a
timeout) cancels the call waited for.

Note [method order]
~~~~~~~~~~~~~~~~~~~
Cap'n Proto promises E-order: calls to one object start in the order they were made. With a
pool of threads that takes more than a queue, so deliveries to one object wait behind each
other: the next starts when the running method returns or first waits (for a promise, in
:func:`wait_canceled` or in :func:`blocking`), the points where an async driver would let the
next call start too. Calls to different objects run in parallel, ``workers`` at a time.

A method that waits gives its worker slot back for as long as it waits (and keeps running
outside the count afterwards), so a call it waits for can always be run, even by a pool of one:
a server method that calls back its caller, whose callback calls the server again, completes.
"""

from __future__ import annotations

import contextlib
import logging
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
    describe_frame,
    invoke,
    new_core_vat,
    refuse_delivery,
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

# How often a wait on the main thread wakes up to let signal handlers (Ctrl-C) run.
_SIGNAL_SLICE = 0.5
# An idle worker thread ends after this long without work.
_IDLE_SECONDS = 30.0
DEFAULT_WORKERS = 4

_local = threading.local()

# Application code runs on many threads here, and schema types are made on first use.
set_type_lock(threading.RLock())


def _io_thread() -> bool:
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
        runtime = cast(SocketVat, self._runtime)
        call = self._call
        if self._stream is not None:
            target = self._stream[0]
            vat = runtime.vat
            if not runtime._wait(lambda: not vat.stream_window_full(target), timeout):
                raise TimeoutError(f"the stream window stayed full for {timeout} s")
            self._stream_ready_check()
            return self._result() if call.done else None
        if not (call.done or self._canceled):
            try:
                settled = runtime._wait(lambda: call.done, timeout)
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
    """A delivery being run by a worker thread."""

    __slots__ = ("delivery", "detached", "key", "runtime")

    def __init__(self, runtime: SocketVat, delivery: Delivery) -> None:
        self.runtime = runtime
        self.delivery = delivery
        self.key = id(delivery.server)
        self.detached = False


class _Worker:
    """One worker thread's mailbox: the job it was given, and a condition to wake it."""

    __slots__ = ("job", "wake")

    def __init__(self, lock: threading.RLock) -> None:
        self.job: Delivery | None = None
        self.wake = threading.Condition(lock)


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
        self._changed = threading.Condition(self._lock)
        self._waiting = 0
        self._pump = Pump(vat, self)
        self._pump.observer = self._observe_frame
        self._connections: dict[Connection, SocketConnection] = {}
        # Read without the lock by finalizers (release_later): replaced, never mutated.
        self._io: tuple[SocketConnection, ...] = ()
        self._on_close = on_close
        # Workers (Note [method order]).
        self._running = 0
        self._ready: deque[Delivery] = deque()
        self._busy: dict[int, deque[Delivery]] = {}
        self._idle: list[_Worker] = []
        self._jobs: set[_Job] = set()

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
        """Route the vat's events and output now (IO threads are woken for their output)."""
        with self._lock:
            self._drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        """Release ``ref`` soon on an IO thread (safe from finalizers; takes no lock)."""
        # Wake an IO thread even if the queue was not empty: its drain may be past the check.
        self._pump.release_later(ref)
        if not self.closed:
            for conn in self._io:
                if conn._wake():
                    return
            # No IO thread: the next command's drain releases it.

    # -- application helpers -------------------------------------------------------------------

    def local_client(self, server: Server, interface_type: type[Any] | None = None) -> Any:
        """A client for a local :class:`Server` object (calls run on this vat's workers)."""
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
            self._drain()
            self._changed.notify_all()
            for worker in self._idle:
                worker.wake.notify()
        for conn in conns:
            conn._join()
        self._join_jobs()
        if self._on_close is not None:
            self._on_close()

    def _join_jobs(self) -> None:
        me = _current_job()
        on_main = threading.current_thread() is threading.main_thread()
        with self._lock:
            self._waiting += 1
            try:
                while any(job is not me for job in self._jobs):
                    self._changed.wait(_SIGNAL_SLICE if on_main else None)
            finally:
                self._waiting -= 1

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
        self._dispatch()

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
            self._io = tuple(self._connections.values())
            sc._closed_by_core(exception, by_peer)

    # -- draining and waiting ------------------------------------------------------------------

    def _drain(self) -> None:
        """Run the pump (lock held) and wake the threads waiting for anything."""
        self._pump.drain()
        if self._waiting:
            self._changed.notify_all()

    def _wait(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Block until ``ready()`` or the vat closes (True), or ``timeout`` passes (False)."""
        if _io_thread():
            raise LocalUsageError(
                "cannot wait on a capnrpc IO thread (in a frame observer?): it would deadlock"
            )
        with self._lock:
            if ready():
                return True
        _detach_current_job()
        deadline = None if timeout is None else time.monotonic() + timeout
        on_main = threading.current_thread() is threading.main_thread()
        with self._lock:
            self._waiting += 1
            # Others may wait for this thread to be waiting (wait_until on the vat's state).
            self._changed.notify_all()
            try:
                while not ready():
                    if self.closed:
                        return True
                    wait: float | None = None
                    if deadline is not None:
                        wait = deadline - time.monotonic()
                        if wait <= 0:
                            return False
                    if on_main:
                        wait = _SIGNAL_SLICE if wait is None else min(wait, _SIGNAL_SLICE)
                    self._changed.wait(wait)
            finally:
                self._waiting -= 1
        return True

    # -- workers (Note [method order]); everything below runs with the lock held ---------------

    def _dispatch(self) -> None:
        """Give ready deliveries to idle workers or new threads, ``workers`` at a time."""
        while self._ready and self._running < self.workers:
            delivery = self._ready.popleft()
            self._running += 1
            if self._idle:
                worker = self._idle.pop()
                worker.job = delivery
                worker.wake.notify()
            else:
                worker = _Worker(self._lock)
                worker.job = delivery
                thread = threading.Thread(
                    target=self._work, args=(worker,), name=f"capnrpc worker {self.name}"
                )
                thread.daemon = True
                thread.start()

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
            self._dispatch()

    def _work(self, worker: _Worker) -> None:
        lock = self._lock
        with lock:
            while True:
                delivery = worker.job
                if delivery is None:
                    if self.closed:
                        return
                    self._idle.append(worker)
                    worker.wake.wait(_IDLE_SECONDS)
                    if worker.job is None and worker in self._idle:
                        self._idle.remove(worker)
                        return  # idle for long enough, or the vat closed
                    continue
                worker.job = None
                job = _Job(self, delivery)
                self._jobs.add(job)
                lock.release()
                try:
                    self._run(job)
                finally:
                    lock.acquire()
                self._jobs.discard(job)
                if self._waiting:
                    self._changed.notify_all()
                if not job.detached:
                    self._running -= 1
                    self._object_done(job.key)
                if self._ready and self._running < self.workers:
                    worker.job = self._ready.popleft()
                    self._running += 1
                self._dispatch()

    def _run(self, job: _Job) -> None:
        """Run one delivery on this (worker) thread, without the lock."""
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
            # asyncio's do), or SystemExit and the like, which a worker thread must survive.
            if not (delivery.canceled or self.closed):
                log.exception("server method %r raised %s", delivery, type(exc).__name__)
            interfaces.fail_delivery(self, delivery, exc)
        finally:
            _local.job = None

    # -- connections ---------------------------------------------------------------------------

    def _add_connection(self, sc: SocketConnection, observe: bool = False) -> None:
        """Register ``sc`` (lock held)."""
        self._connections[sc.core] = sc
        self._io = tuple(self._connections.values())
        if observe or self.frame_observer is not None or wire_log.isEnabledFor(logging.DEBUG):
            self._pump.observe(sc.core)
        if self._waiting:
            self._changed.notify_all()

    def _observe_frame(self, core: Connection, direction: str, frame: bytes) -> None:
        sc = self._connections.get(core)
        observer = self.frame_observer
        if observer is not None and sc is not None:
            try:
                observer(sc, direction, frame)
            except Exception:
                # Not the protocol's business: the vat must not break because a watcher did.
                log.exception("frame observer %r failed; it is removed", observer)
                self.frame_observer = None
        if wire_log.isEnabledFor(logging.DEBUG):
            arrow = "->" if direction == "send" else "<-"
            wire_log.debug("%s %s %s", core.name, arrow, describe_frame(frame))


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

    Also gives the worker slot back, like a wait for a promise does (Note [method order]). The
    method keeps running concurrently with later calls afterwards, so it must be thread-safe.
    Outside a server method this does nothing.
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
