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
which is woken for it.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import trio

from capnrpc_core import RpcError
from capnrpc_core.driver import (
    Pump,
    await_delivery,
    begin_delivery,
    describe_frame,
    invoke,
    new_core_vat,
    refuse_delivery,
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

log = logging.getLogger("capnrpc")
wire_log = logging.getLogger("capnrpc.wire")

FrameObserver = Callable[["TrioConnection", str, bytes], None]


class Promise(interfaces.Promise):
    """A call in flight: ``await`` it for the results (pipelining: see the base class).

    Leaving a cancel scope while awaiting cancels the call (the peer gets a Finish). Awaiting
    a streaming call's promise waits only while the capability's stream window is full.
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
            await trio.lowlevel.checkpoint()
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
        self._waiters: dict[PendingCall, trio.Event] = {}
        self._stream_event = trio.Event()
        self._deliveries: deque[Delivery] = deque()
        self._delivery_ready = trio.Event()
        self._scopes: dict[Delivery, trio.CancelScope] = {}
        self._connections: dict[Connection, TrioConnection] = {}
        self._wakeup = trio.Event()
        self.frame_observer: FrameObserver | None = None
        self.closed = False

    # -- the Runtime protocol ------------------------------------------------------------------

    def make_promise(self, call: PendingCall, result_type: Any) -> Promise:
        """A :class:`Promise` for ``call``."""
        return Promise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        """No lock: everything runs on the trio thread."""
        return contextlib.nullcontext()

    def flush(self) -> None:
        """Route the vat's events and output now."""
        self._pump.drain()

    def release_later(self, ref: Cap | PendingCall) -> None:
        """Release ``ref`` soon on the trio thread (safe from finalizers and other threads)."""
        if self._pump.release_later(ref) and not self.closed:
            with contextlib.suppress(trio.RunFinishedError, RuntimeError):
                self._token.run_sync_soon(self._wakeup.set)

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
        self._delivery_ready.set()

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
        if tc is not None:
            tc._queue(data)

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        tc = self._connections.pop(conn, None)
        if tc is not None:
            tc._closed_by_core(exception, by_peer)

    # -- waiting -------------------------------------------------------------------------------

    async def _wait_call(self, call: PendingCall) -> None:
        event = self._waiters.get(call)
        if event is None:
            event = self._waiters[call] = trio.Event()
        await event.wait()

    def _wake_waiters(self, call: PendingCall) -> None:
        event = self._waiters.pop(call, None)
        if event is not None:
            event.set()

    async def _wait_stream_window(self, target: Cap) -> None:
        if not self.vat.stream_window_full(target):
            await trio.lowlevel.checkpoint()
            return
        while self.vat.stream_window_full(target):
            await self._stream_event.wait()

    # -- connections ---------------------------------------------------------------------------

    def _add_connection(self, core: Connection, tc: TrioConnection, observe: bool) -> None:
        self._connections[core] = tc
        if observe or self.frame_observer is not None or wire_log.isEnabledFor(logging.DEBUG):
            self._pump.observe(core)

    def _observe_frame(self, core: Connection, direction: str, frame: bytes) -> None:
        tc = self._connections.get(core)
        observer = self.frame_observer
        if observer is not None and tc is not None:
            try:
                observer(tc, direction, frame)
            except Exception:
                # Not the protocol's business: the vat must not break because a watcher did.
                log.exception("frame observer %r failed; it is removed", observer)
                self.frame_observer = None
        if wire_log.isEnabledFor(logging.DEBUG):
            arrow = "->" if direction == "send" else "<-"
            wire_log.debug("%s %s %s", core.name, arrow, describe_frame(frame))

    # -- background tasks ----------------------------------------------------------------------

    async def _service(self) -> None:
        """Drain releases that finalizers queued (they cannot touch the vat themselves)."""
        while True:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            self._pump.drain()

    async def _dispatcher(self) -> None:
        """Start deliveries one after another (Note [delivery order])."""
        deliveries = self._deliveries
        while True:
            while not deliveries:
                await self._delivery_ready.wait()
                self._delivery_ready = trio.Event()
            await self._start(deliveries.popleft())

    async def _start(self, delivery: Delivery) -> None:
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
            nursery.start_soon(runtime._service)
            nursery.start_soon(runtime._dispatcher)
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
