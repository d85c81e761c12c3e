"""The asyncio runtime of one vat: promises you await, server methods run as tasks, the pump.

See docs/drivers-asyncio.md. Everything protocol-shaped happens in ``capnrpc_core``; this module
only waits, wakes and schedules.

Note [delivery order]
~~~~~~~~~~~~~~~~~~~~~
Cap'n Proto promises E-order: calls to one object start in the order they were made. asyncio
runs ``call_soon`` callbacks first in, first out, and a new task takes its first step in such a
callback. Deliveries are queued and started by one callback, :meth:`AsyncioVat._dispatch`: a
plain method runs right there, to completion; an ``async def`` method becomes a task, and the
rest of the queue waits for a ``_dispatch`` scheduled *after* that task's first step. So every
method has begun (up to its first real suspension) before the next one starts, as with the trio
driver and the C++ reference, without a dispatcher task to wake per call.

Deliveries that arrive with received data start at the end of the callback that received them
(:meth:`AsyncioVat._received`), not one loop iteration later: the queue is the same, and a
``_dispatch`` already scheduled (for a local call made earlier) keeps its place, so the order
holds.

Note [writes]
~~~~~~~~~~~~~
Every loop iteration costs a ``select()`` and a round of callbacks, so a round trip should take
as few as it can. Output goes to the transport, which sends at once when its buffer is empty:

- at the end of the callback that received data, with the answers that plain methods gave to
  the calls in it (they ran right there, Note [delivery order]): one write per chunk received;
- the first message a task queues for a connection (usually a call), at once, with whatever
  was held back for that connection (a Finish, say): a peer in another process starts on it
  while the task makes the rest of its calls (a pipelined chain ``a().b().c()`` then answers
  ``a`` while ``b`` and ``c`` are on their way: 3.2 -> 3.9 thousand chains a second with the
  server in another process, for one more write per burst);
- when a task that made calls is about to wait for one (``await promise``): the rest of its
  burst leaves in one write;
- at the end of an ``async def`` method's task, with its answer;
- otherwise (a task that calls and then waits for something else) from a callback scheduled
  when the output was queued, so nothing waits past the next iteration.

Received data that woke a waiting caller (a Return) is the exception: what it queued (the
Finish) waits for the woken task, which runs next, and leaves with that task's next call in
one write, or from the scheduled callback in the same iteration. A sequential call thus takes
three iterations (the caller's step, the server's read, the caller's read) instead of six.
Whichever of these applies, once ``WRITE_SLICE`` messages are queued for a connection they are
written at once (Note [write slices] in capnrpc_core.driver).

Note [cancel before start]
~~~~~~~~~~~~~~~~~~~~~~~~~~
``Task.cancel()`` on a task that has not taken its first step throws into a coroutine that never
ran, so no ``try`` in it can answer the call. A delivery's task therefore registers itself (in
``_running``) on its first step, and only registered tasks are cancelled; a task canceled before
that finds ``delivery.canceled`` (or the vat closed) on its first step and answers for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from capnrpc_core.driver import (
    Pump,
    await_delivery,
    await_promise,
    begin_delivery,
    invoke,
    new_core_vat,
    receive,
    refuse_delivery,
    report_frame,
)
from capnrpc_core.rpc import Cap, Connection, Delivery, PendingCall, RpcException, RpcLimits
from capnrpc_core.schema import interfaces
from capnrpc_core.schema.interfaces import Invocation, Server

if TYPE_CHECKING:
    from capnrpc_asyncio._connection import Connection as AsyncioConnection

__all__ = ["AsyncioVat", "Promise", "open_vat"]

wire_log = logging.getLogger("capnrpc.wire")

RECEIVE_BUFFER_SIZE = 1 << 18

FrameObserver = Callable[["AsyncioConnection", str, bytes], None]


class Promise(interfaces.Promise):
    """A call in flight: ``await`` it for the results (pipelining: see the base class).

    Cancelling the task that awaits it (``task.cancel()``, ``asyncio.timeout()``) cancels the
    call: the peer gets a Finish. Awaiting a streaming call's promise waits only while the
    capability's stream window is full.
    """

    def __await__(self) -> Generator[Any, None, Any]:
        runtime = cast(AsyncioVat, self._runtime)
        if runtime._unwritten and not self._call.done:
            runtime._write_all()  # the task is about to wait: its calls go now (Note [writes])
        return await_promise(self, runtime, asyncio.CancelledError).__await__()


_NO_LOCK = contextlib.nullcontext()


class AsyncioVat:
    """A vat driven by asyncio: the :class:`~capnrpc_core.schema.interfaces.Runtime` of its clients.

    Made by :func:`open_vat` (or by ``connect``/``serve`` when no vat is passed). ``vat`` is the
    core :class:`~capnrpc_core.rpc.Vat` (or a trace recorder standing in for it).
    """

    def __init__(self, vat: Any, name: str = "vat") -> None:
        self.vat = vat
        self.name = name
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._drain_scheduled = False
        self._pump = Pump(vat, self)
        self._pump.observer = self._observe_frame
        self._waiters: dict[PendingCall, list[asyncio.Future[None]]] = {}
        self._stream_event = asyncio.Event()
        self._deliveries: deque[Delivery] = deque()
        self._dispatching = False  # a _dispatch is running, scheduled or owed
        self._receiving = False  # in _received: deliveries and writes wait for its end
        self._dispatch_owed = False
        self._wakes = 0  # how many calls woke their waiters (Note [writes])
        self._unwritten: list[AsyncioConnection] = []
        self._write_scheduled = False
        # Every transport of the vat reads into this (see _connection._Protocol).
        self._receive_buffer = memoryview(bytearray(RECEIVE_BUFFER_SIZE))
        self._tasks: set[asyncio.Task[Any]] = set()  # reader tasks of stream pairs
        self._method_tasks: set[asyncio.Task[Any]] = set()
        self._running: dict[Delivery, asyncio.Task[Any]] = {}
        self._connections: dict[Connection, AsyncioConnection] = {}
        self.frame_observer: FrameObserver | None = None
        self.closed = False

    # -- the Runtime protocol ------------------------------------------------------------------

    def make_promise(self, call: PendingCall, result_type: Any) -> Promise:
        """A :class:`Promise` for ``call``."""
        return Promise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        """No lock: everything runs on the event loop's thread."""
        return _NO_LOCK

    def flush(self) -> None:
        """Route the vat's events and output now."""
        self._pump.drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        """Release ``ref`` soon on the loop's thread (safe from finalizers and other threads)."""
        if self._pump.release_later(ref) and not self.closed:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to release
                if threading.get_ident() != self._thread:
                    self._loop.call_soon_threadsafe(self._pump.drain)
                elif not self._drain_scheduled:
                    # On the loop's own thread (most finalizers run there) call_soon does
                    # without call_soon_threadsafe's write to wake the selector.
                    self._loop.call_soon(self._scheduled_drain)
                    self._drain_scheduled = True

    def _scheduled_drain(self) -> None:
        self._drain_scheduled = False
        self._pump.drain()

    # -- application helpers -------------------------------------------------------------------

    def local_client(self, server: Server, interface_type: type[Any] | None = None) -> Any:
        """A client for a local :class:`Server` object (calls run in this vat's tasks)."""
        return interfaces.local_client(self, server, interface_type)

    @property
    def connections(self) -> list[AsyncioConnection]:
        """The open connections of this vat."""
        return list(self._connections.values())

    # -- the pump's handler --------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        if self.closed:
            refuse_delivery(self.vat, delivery)
            return
        self._deliveries.append(delivery)
        if not self._dispatching:
            self._dispatching = True
            if self._receiving:
                self._dispatch_owed = True
            else:
                self._loop.call_soon(self._dispatch)

    def delivery_canceled(self, delivery: Delivery) -> None:
        task = self._running.get(delivery)
        if task is not None:
            task.cancel()

    def call_returned(self, call: PendingCall) -> None:
        self._wake_waiters(call)

    def stream_ready(self, call: PendingCall) -> None:
        self._stream_event.set()
        self._stream_event = asyncio.Event()

    def send(self, conn: Connection, data: bytes) -> None:
        ac = self._connections.get(conn)
        if ac is not None:
            ac._queue(data)

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        ac = self._connections.pop(conn, None)
        if ac is not None:
            ac._closed_by_core(exception, by_peer)

    # -- waiting -------------------------------------------------------------------------------

    async def _wait_call(self, call: PendingCall) -> None:
        # One future per waiter: cancelling a task cancels the future it awaits.
        future: asyncio.Future[None] = self._loop.create_future()
        waiters = self._waiters.get(call)
        if waiters is None:
            self._waiters[call] = [future]
        else:
            waiters.append(future)
        try:
            await future
        finally:
            waiters = self._waiters.get(call)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiters[call]

    def _wake_waiters(self, call: PendingCall) -> None:
        waiters = self._waiters.pop(call, None)
        if waiters is not None:
            self._wakes += 1
            for future in waiters:
                if not future.done():
                    future.set_result(None)

    async def _wait_stream_window(self, target: Cap) -> None:
        while self.vat.stream_window_full(target):
            await self._stream_event.wait()

    # -- input and output (Note [writes]) -------------------------------------------------------

    def _received(self, ac: AsyncioConnection, data: bytes) -> None:
        """Feed ``data`` to ``ac``'s core connection; run what it delivered; write the answers."""
        wakes = self._wakes
        self._receiving = True
        try:
            receive(self.vat, ac.core, data, ac._bootstrap)
            self._pump.drain()
            if self._dispatch_owed:
                self._dispatch_owed = False
                try:
                    self._dispatch()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:
                    # What the loop does with it when _dispatch runs from call_soon; raised
                    # from here, the transport would close the connection.
                    self._loop.call_exception_handler(
                        {"message": "a server method raised", "exception": exc}
                    )
        finally:
            self._receiving = False
            if self._unwritten:
                if self._wakes == wakes:
                    self._write_all()
                else:
                    self._schedule_write()

    def _queue_write(self, ac: AsyncioConnection) -> None:
        """``ac`` has new output: it is written by the next loop iteration at the latest."""
        self._unwritten.append(ac)
        if not self._receiving:  # else _received writes or schedules at its end
            self._schedule_write()

    def _schedule_write(self) -> None:
        if not self._write_scheduled:
            self._loop.call_soon(self._write_scheduled_out)
            self._write_scheduled = True

    def _write_scheduled_out(self) -> None:
        self._write_scheduled = False
        self._write_all()

    def _write_all(self) -> None:
        """Write the output of every connection that has some."""
        unwritten = self._unwritten
        if unwritten:
            self._unwritten = []
            for ac in unwritten:
                ac._write_out()

    # -- connections ---------------------------------------------------------------------------

    def _add_connection(self, core: Connection, ac: AsyncioConnection, observe: bool) -> None:
        self._connections[core] = ac
        if observe or self.frame_observer is not None or wire_log.isEnabledFor(logging.DEBUG):
            self._pump.observe(core)

    def _observe_frame(self, core: Connection, direction: str, frame: bytes) -> None:
        report_frame(self, self._connections.get(core), core, direction, frame)

    def _spawn(
        self, coro: Awaitable[Any], name: str | None = None, *, method: bool = False
    ) -> asyncio.Task[Any]:
        """A task owned by the vat (cancelled and awaited when it closes)."""
        task: asyncio.Task[Any] = self._loop.create_task(cast(Any, coro), name=name)
        tasks = self._method_tasks if method else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    # -- running server methods ----------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start queued deliveries in order (Note [delivery order])."""
        deliveries = self._deliveries
        try:
            while deliveries:
                delivery = deliveries.popleft()
                if self.closed:
                    if not delivery.done:
                        refuse_delivery(self.vat, delivery)
                        self.flush()
                    continue
                invocation = begin_delivery(self, delivery)
                if invocation is None:
                    continue
                awaitable = invoke(self, delivery, invocation)
                if awaitable is not None:
                    self._spawn(self._run(delivery, invocation, awaitable), method=True)
                    if deliveries:
                        self._loop.call_soon(self._dispatch)
                        return
        except BaseException:
            if deliveries:
                self._loop.call_soon(self._dispatch)  # the rest still start, in order
            else:
                self._dispatching = False
            raise
        self._dispatching = False

    async def _run(
        self, delivery: Delivery, invocation: Invocation, awaitable: Awaitable[Any]
    ) -> None:
        if delivery.canceled or self.closed:  # Note [cancel before start]
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            if not delivery.done:
                if self.closed:
                    refuse_delivery(self.vat, delivery)
                    self.flush()
                else:
                    interfaces.cancel_delivery(self, delivery)
            return
        task = asyncio.current_task()
        assert task is not None
        self._running[delivery] = task
        try:
            await await_delivery(self, delivery, invocation, awaitable)
        finally:
            del self._running[delivery]
        self._write_all()  # the answer goes at the end of the step that made it

    async def aclose(self) -> None:
        """Close every connection of the vat and stop its tasks."""
        if self.closed:
            return
        self.closed = True
        conns = list(self._connections.values())
        for ac in conns:
            ac._disconnect("the vat was closed")
        try:
            for ac in conns:
                await ac.wait_closed()
        finally:
            current = asyncio.current_task()
            # Methods not started yet answer for themselves (Note [cancel before start]).
            cancel = [*self._running.values(), *self._tasks]
            for task in cancel:
                if task is not current:
                    task.cancel()
            tasks = [t for t in (*self._method_tasks, *self._tasks) if t is not current]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)


@asynccontextmanager
async def open_vat(
    *,
    bootstrap: object | None = None,
    limits: RpcLimits | None = None,
    name: str = "vat",
    trace_path: str | Path | None = None,
) -> AsyncIterator[AsyncioVat]:
    """A vat whose connections (``connect``/``serve`` with ``vat=``) can share capabilities.

    ``bootstrap`` is the capability peers get by default (a :class:`Server` object);
    ``trace_path`` writes the vat's whole history there (``capnrpc_core.rpc.trace`` format).
    """
    with contextlib.ExitStack() as files:
        trace: Callable[[str], None] | None = None
        if trace_path is not None:
            sink = files.enter_context(Path(trace_path).open("w", encoding="utf-8"))

            def trace(line: str) -> None:
                sink.write(line + "\n")

        core = new_core_vat(bootstrap, limits=limits, name=name, trace=trace)
        runtime = AsyncioVat(core, name)
        try:
            yield runtime
        finally:
            await runtime.aclose()
