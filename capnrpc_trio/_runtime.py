"""The trio runtime of one vat: promises you await, server methods, and when output is written.

See docs/drivers-trio.md. Everything protocol-shaped happens in ``capnrpc_core``; this module
only waits, wakes and schedules.

Note [delivery order]
~~~~~~~~~~~~~~~~~~~~~
Cap'n Proto promises E-order: calls to one object start in the order they were made. Every
delivery goes through one queue per vat, taken in order by whoever holds it. A connection's
reader, after feeding the core what it received, runs the plain (non-``async``) methods in the
queue itself, to completion, one after the other: no task is woken for them. The first
``async def`` method (or plain method that returned an awaitable) hands the queue to the
dispatcher task, which keeps it until it is empty: it starts that method's task with
``nursery.start`` (the task signals "started" once the method's body has run up to its first
real suspension) and only then takes the next delivery, so every method has begun, in order, as
it would on the C++ reference. Deliveries that come from an application task (calls on a local
client) go to the dispatcher too: a method never runs nested inside other code.

Note [output batching]
~~~~~~~~~~~~~~~~~~~~~~
The vat's output for a connection is written straight to the socket from the task that made it
(the writer task only waits when the socket is full). To send a burst of calls in one write,
not one system call each, output is held back ("corked") while a reader processes its input and
after the first direct write of a task's turn; it is written when the task parks in this
driver (awaiting a promise, a reader waiting for input) or, failing that, by the service task,
which is woken for it. A long burst leaves in slices of ``WRITE_SLICE`` messages, as they are
made (Note [write slices] in capnrpc_core.driver).

Input that answered a waiting caller is the exception: what it made (the Finish for results
that hold capabilities) is not written when the reader parks, but held for the task it woke,
whose next message takes it along in the same write (a pipelined chain then costs the peer one
read fewer). That task, when it resumes, wakes the service task, which runs only after the
task's turn is over and writes whatever is still held, so the Finish never waits for a call
that is not coming.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import trio

from capnrpc_core import RpcError
from capnrpc_core.driver import (
    WRITE_SLICE,
    Pump,
    await_delivery,
    begin_delivery,
    invoke,
    new_core_vat,
    receive,
    refuse_delivery,
    report_frame,
)
from capnrpc_core.rpc import (
    Cap,
    Connection,
    Delivery,
    PendingCall,
    RpcException,
    RpcLimits,
    Vat,
)
from capnrpc_core.schema import interfaces
from capnrpc_core.schema.interfaces import Invocation, Server

if TYPE_CHECKING:
    from capnrpc_trio._connection import Connection as TrioConnection

__all__ = ["Promise", "TrioVat", "open_vat"]

wire_log = logging.getLogger("capnrpc.wire")

FrameObserver = Callable[["TrioConnection", str, bytes], None]

# A delivery whose method was looked up (and, for a plain method, already called) by a reader,
# left for the dispatcher to run in a task: (delivery, invocation, awaitable or None).
_Prepared = tuple[Delivery, Invocation, "Awaitable[Any] | None"]

_current_task = trio.lowlevel.current_task
_reschedule = trio.lowlevel.reschedule
_wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_ABORT_SUCCEEDED = trio.lowlevel.Abort.SUCCEEDED
_NO_LOCK: AbstractContextManager[None] = contextlib.nullcontext()


class Sleeper:
    """One task that sleeps until woken: a cheaper :class:`trio.Event` for a loop that re-arms.

    A :meth:`wake` while the task runs is remembered: its next :meth:`sleep` returns at once.
    """

    __slots__ = ("_task", "_woken", "scheduled")

    def __init__(self) -> None:
        self._task: trio.lowlevel.Task | None = None
        self._woken = False
        # Woken, and not running yet: it will see whatever was done before it runs.
        self.scheduled = False

    def wake(self) -> None:
        """Wake the sleeping task (or make its next sleep return at once)."""
        task = self._task
        if task is None:
            if not self.scheduled:
                self._woken = True
            return
        # Cleared first: a finalizer run by reschedule() itself must not reschedule it again.
        self._task = None
        self.scheduled = True
        _reschedule(task)

    async def sleep(self) -> None:
        """Sleep until :meth:`wake` (a checkpoint)."""
        if self._woken:
            self._woken = False
            await trio.lowlevel.checkpoint()
            return
        self._task = _current_task()

        def abort(_: Any) -> trio.lowlevel.Abort:
            self._task = None
            return _ABORT_SUCCEEDED

        try:
            await _wait_task_rescheduled(abort)
        finally:
            self.scheduled = False


class Promise(interfaces.Promise):
    """A call in flight: ``await`` it for the results (pipelining: see the base class).

    Leaving a cancel scope while awaiting cancels the call (the peer gets a Finish). Awaiting
    a streaming call's promise waits only while the capability's stream window is full.
    Awaiting a promise that has already settled does not let other tasks run first (it still
    raises ``trio.Cancelled`` in a cancelled scope).
    """

    def __await__(self) -> Generator[Any, None, Any]:
        return self._wait().__await__()

    async def _wait(self) -> Any:
        runtime = cast(TrioVat, self._runtime)
        call = self._call
        if self._stream is not None:
            await runtime._wait_stream_window(self._stream[0])
            self._stream_ready_check()
            return self._result() if call.done else None
        if call.done or self._canceled:
            await _checkpoint_if_cancelled()
        else:
            try:
                await runtime._wait_call(call)
            except trio.Cancelled:
                self.cancel()
                runtime._wake_waiters(call)
                raise
            if not call.done:
                raise RpcError("failed", "the call was canceled")
        return self._result()


class TrioVat:
    """A vat driven by trio: the :class:`~capnrpc_core.schema.interfaces.Runtime` of its clients.

    Made by :func:`open_vat` (or by ``connect``/``serve`` when no vat is passed). ``vat`` is the
    core :class:`~capnrpc_core.rpc.Vat` (or a trace recorder standing in for it).
    """

    def __init__(self, vat: Vat, nursery: trio.Nursery, name: str = "vat") -> None:
        self.vat = vat
        self.name = name
        self._nursery = nursery
        self._pump = Pump(vat, self)
        self._pump.observer = self._observe_frame
        self._token = trio.lowlevel.current_trio_token()
        self._thread = threading.get_ident()
        self._waiters: dict[PendingCall, list[trio.lowlevel.Task]] = {}
        self._stream_event = trio.Event()
        self._deliveries: deque[Delivery | _Prepared] = deque()
        # The dispatcher holds the delivery queue until it is empty (Note [delivery order]).
        self._dispatching = False
        self._dispatcher = Sleeper()
        self._scopes: dict[Delivery, trio.CancelScope] = {}
        self._connections: dict[Connection, TrioConnection] = {}
        self._service = Sleeper()
        # Output batching (Note [output batching]): connections with output not written yet,
        # whether a task is holding output back, whether this turn wrote directly already.
        self._dirty: list[TrioConnection] = []
        self._corked = 0
        self._burst = False
        # A flush asked for while corked: the corked task drains before it lets go.
        self._drain_wanted = False
        # Callers woken by answers so far, and whether a reader held its output back for the
        # task it woke (Note [output batching]).
        self._wakes = 0
        self._held = False
        self.frame_observer: FrameObserver | None = None
        self.closed = False

    # -- the Runtime protocol ------------------------------------------------------------------

    def make_promise(self, call: PendingCall, result_type: Any) -> Promise:
        """A :class:`Promise` for ``call``."""
        return Promise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        """No lock: everything runs on the trio thread."""
        return _NO_LOCK

    def flush(self) -> None:
        """Route the vat's events and output now (or, in a reader's turn, when it is over)."""
        if self._corked:
            # The reader or service task drains once its methods have run (_process).
            self._drain_wanted = True
            return
        self._pump.drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        """Release ``ref`` soon on the trio thread (safe from finalizers and other threads)."""
        if self._pump.release_later(ref) and not self.closed:
            self._wake_service_from_anywhere()

    # -- application helpers -------------------------------------------------------------------

    def local_client(self, server: Server, interface_type: type[Any] | None = None) -> Any:
        """A client for a local :class:`Server` object (calls run in this vat's tasks)."""
        return interfaces.local_client(self, server, interface_type)

    @property
    def connections(self) -> list[TrioConnection]:
        """The open connections of this vat."""
        return list(self._connections.values())

    # -- the pump's handler --------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> None:
        if self._nursery.cancel_scope.cancel_called:
            # The dispatcher is gone (the vat was closed): nothing will ever run this call.
            refuse_delivery(self.vat, delivery)
            return
        self._deliveries.append(delivery)
        # A reader or the service task runs the queue when its drain is over (it is corked).
        if not self._corked and not self._dispatching:
            self._dispatching = True
            self._dispatcher.wake()

    def delivery_canceled(self, delivery: Delivery) -> None:
        scope = self._scopes.get(delivery)
        if scope is not None:
            scope.cancel()

    def call_returned(self, call: PendingCall) -> None:
        self._wake_waiters(call)

    def stream_ready(self, call: PendingCall) -> None:
        self._stream_event.set()
        self._stream_event = trio.Event()

    def send(self, conn: Connection, data: bytes) -> None:
        tc = self._connections.get(conn)
        if tc is None:
            return
        pending = tc._pending
        pending.append(data)
        if not tc._dirty:
            tc._dirty = True
            self._dirty.append(tc)
        if len(pending) >= WRITE_SLICE:
            # A long burst leaves in slices (Note [write slices] in capnrpc_core.driver).
            tc._write_pending()
            return
        if self._corked:
            return
        if self._burst:
            # More output in the same turn: batch it (Note [output batching]).
            self._service.wake()
        else:
            self._burst = True
            self._flush_output()

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        tc = self._connections.pop(conn, None)
        if tc is not None:
            tc._closed_by_core(exception, by_peer)

    # -- output --------------------------------------------------------------------------------

    def _flush_output(self) -> None:
        """Write every connection's held-back output."""
        self._held = False
        dirty = self._dirty
        if dirty:
            self._dirty = []
            for tc in dirty:
                tc._write_pending()

    def _parking(self) -> None:
        """This task is about to wait: nothing may stay held back (Note [output batching])."""
        if self._dirty:
            self._flush_output()
        self._burst = False

    def _received(self, tc: TrioConnection, data: bytes) -> None:
        """Feed what ``tc`` received, run the plain methods it called, write the answers."""
        wakes = self._wakes
        self._corked += 1
        try:
            receive(self.vat, tc.core, data, tc._bootstrap)
            self._process()
        finally:
            self._corked -= 1
        if self._wakes != wakes and self._dirty:
            # An answer woke a caller: what the input made (a Finish) waits for that task's
            # next message, or for the service task it wakes (Note [output batching]).
            self._held = True
            self._burst = False
            return
        self._parking()

    def _process(self) -> None:
        """Drain the vat and run plain methods until neither has work left (corked)."""
        pump = self._pump
        pump.drain()
        while True:
            self._run_deliveries()
            if not self._drain_wanted:
                return
            self._drain_wanted = False
            pump.drain()

    # -- deliveries ----------------------------------------------------------------------------

    def _run_deliveries(self) -> None:
        """Run queued plain methods here, until an async one needs the dispatcher."""
        deliveries = self._deliveries
        while deliveries and not self._dispatching:
            item = deliveries.popleft()
            if not isinstance(item, Delivery):  # prepared by a reader, then given back
                deliveries.appendleft(item)
                self._dispatching = True
                self._dispatcher.wake()
                return
            invocation = begin_delivery(self, item)
            if invocation is None:
                continue
            awaitable = None
            if not invocation.is_async:
                awaitable = invoke(self, item, invocation)
                if awaitable is None:
                    continue
            # An async method: its task must start before later deliveries run.
            deliveries.appendleft((item, invocation, awaitable))
            self._dispatching = True
            self._dispatcher.wake()
            return

    # -- waiting -------------------------------------------------------------------------------

    async def _wait_call(self, call: PendingCall) -> None:
        self._parking()
        if call.done:
            await _checkpoint_if_cancelled()
            return
        task = _current_task()
        waiters = self._waiters.get(call)
        if waiters is None:
            self._waiters[call] = [task]
        else:
            waiters.append(task)

        def abort(_: Any) -> trio.lowlevel.Abort:
            waiting = self._waiters.get(call)
            if waiting is not None and task in waiting:
                waiting.remove(task)
                if not waiting:
                    del self._waiters[call]
            return _ABORT_SUCCEEDED

        await _wait_task_rescheduled(abort)
        if self._held:
            # Woken by a reader that held its output back for us: it goes with our next
            # message, or else from the service task, which runs after this turn.
            self._held = False
            self._service.wake()

    def _wake_waiters(self, call: PendingCall) -> None:
        tasks = self._waiters.pop(call, None)
        if tasks is not None:
            self._wakes += 1
            for task in tasks:
                _reschedule(task)

    async def _wait_stream_window(self, target: Cap) -> None:
        if not self.vat.stream_window_full(target):
            await _checkpoint_if_cancelled()
            return
        while self.vat.stream_window_full(target):
            self._parking()
            await self._stream_event.wait()

    def _wake_service_from_anywhere(self) -> None:
        """Wake the service task from a finalizer, which may run on any thread at any point."""
        service = self._service
        if service.scheduled:
            return  # it drains the releases when it runs, after this one was queued
        if threading.get_ident() == self._thread:
            try:
                task = _current_task()
                here = trio.lowlevel.current_trio_token() is self._token
            except RuntimeError:  # between tasks (trio's own code), or after the run
                here = False
            # Another task of this run may wake the service directly: the service itself might
            # be between deciding to sleep and sleeping, and is woken the thread-safe way.
            if here and task is not self._service_task:
                service.wake()
                return
        with contextlib.suppress(trio.RunFinishedError, RuntimeError):
            self._token.run_sync_soon(service.wake)

    # -- connections ---------------------------------------------------------------------------

    def _add_connection(self, core: Connection, tc: TrioConnection, observe: bool) -> None:
        self._connections[core] = tc
        if observe or self.frame_observer is not None or wire_log.isEnabledFor(logging.DEBUG):
            self._pump.observe(core)

    def _observe_frame(self, core: Connection, direction: str, frame: bytes) -> None:
        report_frame(self, self._connections.get(core), core, direction, frame)

    # -- background tasks ----------------------------------------------------------------------

    _service_task: trio.lowlevel.Task | None = None

    async def _run_service(self) -> None:
        """Carry out releases that finalizers queued, and write output nobody else wrote."""
        self._service_task = _current_task()
        while True:
            self._corked += 1
            try:
                self._process()
            finally:
                self._corked -= 1
            self._parking()
            await self._service.sleep()

    async def _run_dispatcher(self) -> None:
        """Start deliveries one after another (Note [delivery order])."""
        deliveries = self._deliveries
        while True:
            if not deliveries:
                self._dispatching = False
                self._parking()
                await self._dispatcher.sleep()
                continue
            self._dispatching = True
            # No local may keep a delivery: its params hold capabilities while they exist.
            await self._start(deliveries.popleft())

    async def _start(self, item: Delivery | _Prepared) -> None:
        if not isinstance(item, Delivery):
            await self._nursery.start(self._run_async, *item)
            return
        delivery = item
        invocation = begin_delivery(self, delivery)
        if invocation is None:
            return
        if invocation.is_async:
            await self._nursery.start(self._run_async, delivery, invocation, None)
            return
        awaitable = invoke(self, delivery, invocation)
        if awaitable is not None:  # a plain method that returned an awaitable
            await self._nursery.start(self._run_async, delivery, invocation, awaitable)

    async def _run_async(
        self,
        delivery: Delivery,
        invocation: Invocation,
        awaitable: Awaitable[Any] | None,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        with trio.CancelScope() as scope:
            self._scopes[delivery] = scope
            try:
                if awaitable is None:
                    awaitable = invoke(self, delivery, invocation)
                # The dispatcher goes on once this task suspends (Note [delivery order]).
                task_status.started()
                if awaitable is not None:
                    await await_delivery(self, delivery, invocation, awaitable)
            finally:
                self._scopes.pop(delivery, None)

    async def aclose(self) -> None:
        """Close every connection of the vat and stop its tasks."""
        if self.closed:
            return
        self.closed = True
        conns = list(self._connections.values())
        for tc in conns:
            tc._disconnect("the vat was closed")
        try:
            for tc in conns:
                await tc.wait_closed()
        finally:
            self._nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_vat(
    *,
    bootstrap: object | None = None,
    limits: RpcLimits | None = None,
    name: str = "vat",
    trace_path: str | Path | None = None,
) -> AsyncIterator[TrioVat]:
    """A vat whose connections (``connect``/``serve`` with ``vat=``) can share capabilities.

    ``bootstrap`` is the capability peers get by default (a :class:`Server` object);
    ``trace_path`` writes the vat's whole history there (``capnrpc_core.rpc.trace`` format).
    """
    trace_file: TextIO | None = None
    write_line: Callable[[str], None] | None = None
    if trace_path is not None:
        trace_file = Path(trace_path).open("w", encoding="utf-8")  # noqa: SIM115
        sink = trace_file

        def write_line(line: str) -> None:
            sink.write(line + "\n")

    try:
        core = new_core_vat(bootstrap, limits=limits, name=name, trace=write_line)
    except BaseException:
        if trace_file is not None:
            trace_file.close()
        raise
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            runtime = TrioVat(core, nursery, name)
            nursery.start_soon(runtime._run_service)
            nursery.start_soon(runtime._run_dispatcher)
            try:
                yield runtime
            except BaseException as exc:
                # Raised again below, outside the nursery: the caller gets its own exception,
                # not an ExceptionGroup around it.
                body_error = exc
            finally:
                await runtime.aclose()
    finally:
        if trace_file is not None:
            trace_file.close()
    if body_error is not None:
        raise body_error
