"""What every driver does that needs no IO: addresses, bootstrap objects, the pump, wire text.

A driver (trio, asyncio, blocking sockets) owns sockets, tasks and waiting. Everything else it
would otherwise write again lives here, so the drivers stay small and behave alike:

- :func:`parse_address` / :func:`tcp_address`: ``"tcp://host:port"`` and ``"unix:/path"``;
- :func:`bootstrap_cap`: a Server, client or capability offered as a bootstrap, as a core ref;
- :func:`receive`: feed a connection with its own bootstrap capability in force;
- :func:`new_core_vat`, :func:`check_serve_bootstrap`, :func:`connection_bootstrap`,
  :func:`check_vat_options`, :func:`peer_address`: what ``open_vat``, ``connect`` and ``serve``
  of every driver check and decide;
- :func:`begin_delivery`, :func:`invoke`, :func:`await_delivery`, :func:`refuse_delivery`: how
  a delivery runs, whatever schedules it;
- :func:`await_promise`: what ``await promise`` does in an async driver, given its waits;
- :class:`Pump`: after every vat command, hand deferred releases to the vat, route every event
  to the driver, and collect each connection's output (Note [pump order]);
- :func:`describe_frame`: one compact line per RPC message, for logs and the demo, and
  :func:`report_frame`: a frame to a vat's ``frame_observer`` and the wire log;
- :func:`settle_allocator`: big messages without page faults on every call (Note [allocator]);
- :data:`WRITE_SLICE`: how many messages of a burst a driver holds back (Note [write slices]).

Note [pump order]
~~~~~~~~~~~~~~~~~
Events come out in the order the core made them, so a driver sees ``CallReturned`` for a call
before the ``ConnectionClosed`` that failed later ones. Output is collected after the events of
one pass and before ``connection_closed`` is reported, so that the last bytes the core queued on
a closing connection (an ``Abort``) reach the transport before the driver closes it. A closed
connection is then dropped from ``vat.connections``: the core keeps it there for inspection, a
long-running server must not.

Note [allocator]
~~~~~~~~~~~~~~~~
glibc's malloc serves blocks over ``M_MMAP_THRESHOLD`` (128 KiB at start) with fresh ``mmap``
pages, and gives memory at the top of its heap back to the system once more than
``M_TRIM_THRESHOLD`` (also 128 KiB) is free there. A big message goes through several buffers
of its size per round trip (the builder, the frame, the bytes read, the Data read out of them);
each is either mapped afresh or, freed together with the others, trims the heap, and the next
round trip faults its pages in again. Measured on a 256 KiB echo: about 700 minor page faults
and 2.0 ms per round trip, against 390 µs without them; on a 1 MiB echo 7.1 against 1.0 ms.
glibc raises both thresholds by itself the first time a mapped block is freed (the mmap
threshold to the block's size, the trim threshold to twice that), as happens in any program
that once used a big buffer. The first vat of any driver (:func:`new_core_vat`) frees one 4 MiB
block (calloc'd, so hardly any of its pages are touched) to get there at once: messages up to
about 1 MiB then reuse the heap's pages, and the heap keeps up to 8 MiB free at its top. Other
allocators ignore it, and so does glibc when ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` is set (that turns the adjustment off).

Note [write slices]
~~~~~~~~~~~~~~~~~~~
Every driver holds a burst of output back (calls made one after another before the caller
waits, the answers to a chunk of calls received) so that it leaves in one system call. A long
burst, though, would leave only once it is complete, and a peer in another process would sit
idle while it is made, then make its answers while this side sits idle. So once
:data:`WRITE_SLICE` messages are held back for a connection they are written at once, and the
rest of the burst follows in further slices: the peer starts on the first calls while the later
ones are being made, and its answers come back while the last are still on their way. On the
bench (``bench/rpc.py``, 100 calls in flight, server in another process) slices of 16 took the
trio driver from 23,500 to 34,000 calls/s; slices of 4 or 8 were no faster there and cost more
system calls in one process, slices of 32 gave back a quarter of the gain. Bursts of fewer
messages (a pipelined chain, a call with its Finish) still leave in one write.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from capnrpc_core.errors import DecodeError, LocalUsageError, RpcError
from capnrpc_core.rpc import codec
from capnrpc_core.rpc.calls import Delivery, PendingCall
from capnrpc_core.rpc.caps import Cap, LocalCap
from capnrpc_core.rpc.connection import Connection
from capnrpc_core.rpc.events import (
    CallReturned,
    ConnectionClosed,
    DeliverCall,
    DeliveryCanceled,
    ServerReleased,
    StreamReady,
)
from capnrpc_core.rpc.limits import RpcLimits
from capnrpc_core.rpc.messages import (
    Abort,
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    ExceptionType,
    Finish,
    Message,
    MessageTarget,
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
    SendResultsTo,
    Unimplemented,
    Unknown,
)
from capnrpc_core.rpc.vat import Vat
from capnrpc_core.schema.interfaces import (
    Client,
    Invocation,
    Promise,
    Runtime,
    Server,
    bootstrap_client,
    cancel_delivery,
    fail_delivery,
    finish_delivery,
    method_display_name,
    release_now,
    start_delivery,
)
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.reader import MessageReader

__all__ = [
    "WRITE_SLICE",
    "Address",
    "BootstrapSpec",
    "EventHandler",
    "PromiseWaits",
    "Pump",
    "await_delivery",
    "await_promise",
    "begin_delivery",
    "bootstrap_cap",
    "check_serve_bootstrap",
    "check_vat_options",
    "connection_bootstrap",
    "core_vat",
    "describe_frame",
    "describe_message",
    "invoke",
    "new_core_vat",
    "parse_address",
    "peer_address",
    "receive",
    "refuse_delivery",
    "tcp_address",
]


#: Messages a driver holds back for one connection before it writes them (Note [write slices]).
WRITE_SLICE = 16


# == addresses ====================================================================================


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address: ``kind`` is ``"tcp"`` (``host``, ``port``) or ``"unix"`` (``path``)."""

    kind: str
    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        return tcp_address(self.host, self.port)


def parse_address(text: str) -> Address:
    """Parse ``"tcp://host:port"`` (IPv6 hosts in brackets) or ``"unix:/path"``."""
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise LocalUsageError(f"unix address without a path: {text!r}")
        return Address("unix", path=path)
    if text.startswith("tcp://"):
        rest = text[len("tcp://") :].rstrip("/")
        if rest.startswith("["):
            host, sep, port = rest[1:].partition("]:")
        else:
            host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise LocalUsageError(f"tcp address needs host:port, got {text!r}")
        return Address("tcp", host=host, port=int(port))
    raise LocalUsageError(f"unknown address {text!r}: use 'tcp://host:port' or 'unix:/path'")


def tcp_address(host: str, port: int) -> str:
    """``tcp://host:port``, with an IPv6 host in brackets."""
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def peer_address(name: object) -> str:
    """A socket's ``getpeername()`` as an address string (``tcp://h:p`` or ``unix:/path``)."""
    if isinstance(name, tuple) and len(name) >= 2:
        return tcp_address(str(name[0]), int(name[1]))
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    if isinstance(name, str):
        # An AF_UNIX client socket is usually unnamed (an empty string).
        return f"unix:{name or '(unnamed)'}"
    return "unknown"


# == bootstrap objects ============================================================================


def core_vat(vat: Any) -> Vat:
    """The :class:`Vat` itself, also when ``vat`` is a trace recorder standing in for one."""
    inner = getattr(vat, "vat", None)
    return inner if isinstance(inner, Vat) else vat


def bootstrap_cap(vat: Any, obj: object) -> Cap:
    """A new reference for ``obj`` offered as a bootstrap capability.

    ``obj`` is a :class:`Server` (served by ``vat``), a client of ``vat`` or a core capability.
    """
    if isinstance(obj, Server):
        cap: Cap = vat.local_cap(obj, type(obj)._streaming_methods())
        return cap
    if isinstance(obj, Client):
        # The underscore names: a schema method may be called ``cap`` or ``runtime``.
        if obj._runtime.vat is not vat:
            raise LocalUsageError(
                "a client used as a bootstrap capability must belong to the same vat"
            )
        client_ref: Cap = vat.add_ref(obj._live())
        return client_ref
    if isinstance(obj, Cap):
        ref: Cap = vat.add_ref(obj)
        return ref
    raise LocalUsageError(
        f"a bootstrap capability must be a Server object, a client or a factory, not {obj!r}"
    )


def set_vat_bootstrap(vat: Any, obj: object) -> None:
    """Make ``obj`` the vat-wide bootstrap capability (replacing any earlier one)."""
    core = core_vat(vat)
    old = core.bootstrap_cap
    core.bootstrap_cap = bootstrap_cap(vat, obj)
    if old is not None:
        vat.release(old)


def streaming_aware(vat: Any) -> None:
    """Give a bootstrap object passed to ``Vat(bootstrap=...)`` its streaming methods."""
    cap = core_vat(vat).bootstrap_cap
    if isinstance(cap, LocalCap) and isinstance(cap.server, Server):
        cap.streaming_methods = type(cap.server)._streaming_methods()


def receive(vat: Any, conn: Connection, data: bytes, bootstrap: Cap | None = None) -> None:
    """``vat.receive_data(conn, data)``, answering Bootstrap with ``bootstrap`` if given.

    A served listener whose bootstrap is a factory (or a shared vat) has one bootstrap
    capability per connection: the core's :meth:`Vat.set_bootstrap` holds it for the connection.
    """
    if bootstrap is not None and conn.bootstrap_cap is not bootstrap and conn.open:
        vat.set_bootstrap(conn, bootstrap)
    vat.receive_data(conn, data)


BootstrapSpec = Server | Client | Callable[[str], Any] | None
"""What ``serve()`` offers: a Server object, a client, a factory of either per peer, or None."""


_ALLOCATOR_BLOCK = 4 << 20
_allocator_settled = False


def settle_allocator() -> None:
    """Free one large block once per process (Note [allocator])."""
    global _allocator_settled
    if not _allocator_settled:
        _allocator_settled = True
        block = bytes(_ALLOCATOR_BLOCK)  # calloc'd: only its first and last pages are touched
        del block


def new_core_vat(
    bootstrap: object | None,
    *,
    limits: RpcLimits | None,
    name: str,
    trace: Callable[[str], None] | None = None,
) -> Any:
    """The core vat of a driver's ``open_vat``: a :class:`Vat`, or a trace recorder for one.

    ``trace`` receives every trace line (header first) when given (``capnrpc_core.rpc.trace``).
    """
    if bootstrap is not None and not isinstance(bootstrap, Server | Cap):
        raise LocalUsageError(f"open_vat(bootstrap=...) takes a Server object, not {bootstrap!r}")
    settle_allocator()
    core: Any
    if trace is not None:
        from capnrpc_core.rpc.trace import TraceRecorder

        core = TraceRecorder(bootstrap, limits=limits, name=name, sink=trace)
        for line in core.lines:  # the header, written before the sink was attached
            trace(line)
    else:
        core = Vat(bootstrap, limits=limits, name=name)
    streaming_aware(core)
    return core


def check_vat_options(vat: object | None, limits: object | None, trace_path: object) -> None:
    """``connect``/``serve`` with ``vat=``: limits and traces belong to that vat instead."""
    if vat is not None and (limits is not None or trace_path is not None):
        raise LocalUsageError("limits and trace_path belong to the vat: pass them to open_vat")


def check_serve_bootstrap(bootstrap: object, vat: object | None) -> None:
    """Raise :class:`LocalUsageError` unless ``serve()`` can offer ``bootstrap``."""
    if isinstance(bootstrap, Client) and vat is None:
        raise LocalUsageError(
            "a client served as the bootstrap capability must belong to the serving vat: "
            "pass vat= (the vat the client came from)"
        )
    if not isinstance(bootstrap, Server | Client | None) and not callable(bootstrap):
        raise LocalUsageError(
            f"serve() takes a Server object, a client or a factory, not {bootstrap!r}"
        )


def connection_bootstrap(vat: Any, bootstrap: BootstrapSpec, peer: str, shared: bool) -> Cap | None:
    """The bootstrap capability of one accepted connection, or None for the vat-wide one.

    A vat of the listener's own already has ``bootstrap`` as its vat-wide capability; a
    ``shared`` vat (passed with ``vat=``) keeps its own, so each connection gets a reference.
    A factory is called with the peer's address (its exceptions propagate: close the peer).
    """
    if isinstance(bootstrap, Server | Client):
        return bootstrap_cap(vat, bootstrap) if shared else None
    if bootstrap is None:
        return None
    return bootstrap_cap(vat, bootstrap(peer))


class DriverConnection:
    """What every driver's ``Connection`` object shares (its driver name in ``repr``).

    A driver's subclass sets ``runtime`` (its vat), ``core`` (the core connection), ``role``
    and ``peer_address``, and adds the driver's own closing and waiting.
    """

    driver_name = "capnrpc"
    runtime: Any
    core: Connection
    role: str
    peer_address: str

    def __repr__(self) -> str:
        state = "open" if self.core.open else "closed"
        return f"<{self.driver_name}.Connection {self.role} {self.peer_address} {state}>"

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (calls on it fail with ``disconnected``)."""
        return not self.core.open

    def bootstrap(self, interface_type: type[Any] | None = None) -> Any:
        """A client (of ``interface_type``) for the peer's bootstrap capability, usable at once."""
        return bootstrap_client(self.runtime, self.core, interface_type)


# == running deliveries ===========================================================================


def refuse_delivery(vat: Any, delivery: Delivery) -> None:
    """Answer a delivery that arrived after the driver stopped running methods."""
    vat.return_exception(delivery, RpcException("the vat was closed", ExceptionType.DISCONNECTED))


def begin_delivery(runtime: Runtime, delivery: Delivery) -> Invocation | None:
    """The method call of ``delivery``, or None if it is answered already (or now, failing)."""
    if delivery.done:
        return None
    if delivery.canceled:
        cancel_delivery(runtime, delivery)
        return None
    try:
        return start_delivery(runtime, delivery)
    except Exception as exc:
        fail_delivery(runtime, delivery, exc)
        return None


def invoke(runtime: Runtime, delivery: Delivery, invocation: Invocation) -> Awaitable[Any] | None:
    """Call the method: None if it is answered already, else an awaitable to run in a task.

    A plain result is answered at once. An awaitable (an ``async def`` method's coroutine, not
    started yet) is for the driver to run in a task of its own with :func:`await_delivery`.
    """
    try:
        value = invocation.fn(**invocation.kwargs)
    except Exception as exc:
        fail_delivery(runtime, delivery, exc)
        return None
    except BaseException as exc:
        # Not the method's answer (an interrupt, a cancellation that escaped it), but the
        # caller must not wait forever: answer it as failed, then let it propagate.
        fail_delivery(runtime, delivery, exc)
        raise
    if value.__class__ not in _NEVER_AWAITABLE and inspect.isawaitable(value):
        return value
    finish_delivery(runtime, delivery, invocation, value)
    return None


# What methods commonly return, which ``inspect.isawaitable`` would take a while to refuse.
_NEVER_AWAITABLE = frozenset({type(None), int, float, bool, str, bytes, tuple, dict})


async def await_delivery(
    runtime: Runtime, delivery: Delivery, invocation: Invocation, awaitable: Awaitable[Any]
) -> None:
    """Await a method's awaitable and answer with its outcome (any event loop).

    A cancellation (any BaseException) answers the call as canceled and propagates.
    """
    try:
        value = await awaitable
    except Exception as exc:
        fail_delivery(runtime, delivery, exc)
    except BaseException:
        cancel_delivery(runtime, delivery)
        raise
    else:
        finish_delivery(runtime, delivery, invocation, value)


# == awaiting promises ============================================================================


class PromiseWaits(Protocol):
    """How an async driver waits for calls (see :func:`await_promise`)."""

    async def _wait_call(self, call: PendingCall) -> None:
        """Return when ``call`` settled or :meth:`_wake_waiters` was called for it."""
        ...

    def _wake_waiters(self, call: PendingCall) -> None:
        """Wake every task in :meth:`_wait_call` for ``call``."""
        ...

    async def _wait_stream_window(self, target: Cap) -> None:
        """Return when the stream window of ``target`` has room."""
        ...


async def await_promise(
    promise: Promise, waits: PromiseWaits, canceled: type[BaseException]
) -> Any:
    """The results of ``promise`` (what ``await promise`` does); see the drivers' docs.

    ``canceled`` is the driver's cancellation exception: a wait cancelled by it cancels the call
    (the peer gets a Finish) and tells the other waiters. A streaming call's promise waits only
    while its capability's stream window is full.
    """
    call = promise.call
    stream = promise._stream
    if stream is not None:
        await waits._wait_stream_window(stream[0])
        promise._stream_ready_check()
        return promise._result() if call.done else None
    if not (call.done or promise._canceled):
        try:
            await waits._wait_call(call)
        except canceled:
            promise.cancel()
            waits._wake_waiters(call)
            raise
        if not call.done:
            raise RpcError("failed", "the call was canceled")
    return promise._result()


# == the pump =====================================================================================


class EventHandler(Protocol):
    """What a driver does with the core's events and output (see :class:`Pump`)."""

    def deliver(self, delivery: Delivery) -> None:
        """Run ``delivery`` (in order with earlier ones; see the driver docs)."""
        ...

    def delivery_canceled(self, delivery: Delivery) -> None:
        """Stop the running method of ``delivery`` if possible."""
        ...

    def call_returned(self, call: PendingCall) -> None:
        """Wake whoever waits for ``call``."""
        ...

    def stream_ready(self, call: PendingCall) -> None:
        """Wake whoever waits for a stream window."""
        ...

    def send(self, conn: Connection, data: bytes) -> None:
        """Queue ``data`` for ``conn``'s transport (never blocks)."""
        ...

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        """``conn`` is closed; its last output was already passed to :meth:`send`."""
        ...


FrameObserver = Callable[[Connection, str, bytes], None]


class Pump:
    """Moves everything out of a vat after each command (Note [pump order]).

    ``observer(conn, direction, frame)`` sees every frame of observed connections (``"send"`` or
    ``"recv"``), for wire logs and the demo.
    """

    def __init__(self, vat: Any, handler: EventHandler) -> None:
        self.vat = vat
        self.handler = handler
        self.observer: FrameObserver | None = None
        self._releases: deque[Cap | PendingCall] = deque()
        self._observed: list[Connection] = []
        self._running = False
        self._again = False
        # The vat's own state, read here to skip calls that would find nothing (a trace
        # recorder's events and output are its vat's, taken through the recorder).
        self._core: Vat = core_vat(vat)
        self._events = self._core._events

    def observe(self, conn: Connection) -> None:
        """Report ``conn``'s frames to :attr:`observer` from now on."""
        if conn.trace is None:
            conn.trace = []
        self._observed.append(conn)

    def release_later(self, ref: Cap | PendingCall) -> bool:
        """Queue a release (any thread). True if the queue was empty: schedule a :meth:`drain`."""
        first = not self._releases
        self._releases.append(ref)
        return first

    def drain(self) -> None:
        """Releases, events, output, closed connections; until nothing is left. Reentrant."""
        if self._running:
            self._again = True
            return
        self._running = True
        vat = self.vat
        core = self._core
        handler = self.handler
        releases = self._releases
        events = self._events
        try:
            while True:
                self._again = False
                while releases:
                    release_now(vat, releases.popleft())
                closed: list[ConnectionClosed] | None = None
                had_events = bool(events)
                while events:
                    event = vat.next_event()
                    if isinstance(event, DeliverCall):
                        handler.deliver(event.delivery)
                    elif isinstance(event, CallReturned):
                        handler.call_returned(event.call)
                    elif isinstance(event, StreamReady):
                        handler.stream_ready(event.call)
                    elif isinstance(event, DeliveryCanceled):
                        handler.delivery_canceled(event.delivery)
                    elif isinstance(event, ConnectionClosed):
                        if closed is None:
                            closed = []
                        closed.append(event)
                    elif isinstance(event, ServerReleased):
                        pass  # the object is garbage once Python drops it too
                # Drop the last event now: a ServerReleased holds the server object, whose
                # clients' finalizers queue the releases this pass must still send.
                event = None
                if self._observed:
                    self._report_frames()
                if core._with_output:
                    for conn, data in vat.output_ready():
                        handler.send(conn, data)
                if closed is not None:
                    self._closed(closed)
                    closed = None  # (as the last event above)
                # A handler may have told the vat something without draining it (refused a
                # delivery, released a capability): go round again if that left anything to
                # take; not after every pass with events, which mostly made an empty pass.
                if not (
                    self._again
                    or releases
                    or (had_events and (self._observed or events or core._with_output))
                ):
                    break
        finally:
            self._running = False

    def _closed(self, closed: list[ConnectionClosed]) -> None:
        """Drop closed connections and tell the handler, after their last output was sent."""
        vat = self.vat
        for event in closed:
            conn = event.connection
            if conn in vat.connections:
                vat.connections.remove(conn)
            if conn in self._observed:
                self._report_frames()
                self._observed.remove(conn)
            self.handler.connection_closed(conn, event.exception, event.by_peer)

    def _report_frames(self) -> None:
        observer = self.observer
        for conn in self._observed:
            trace = conn.trace
            if not trace:
                continue
            entries = list(trace)
            trace.clear()
            if observer is not None:
                for direction, frame in entries:
                    observer(conn, direction, frame)


# == messages as text =============================================================================


def report_frame(
    runtime: Any, conn: object | None, core: Connection, direction: str, frame: bytes
) -> None:
    """Show a frame of an observed connection to ``runtime.frame_observer`` and the wire log.

    ``conn`` is the driver's connection object for ``core`` (what the observer is given). An
    observer that raises is logged and removed: the vat must not break because a watcher did.
    """
    # Imported here: logging loads threading, which importing the core must not.
    import logging

    observer = runtime.frame_observer
    if observer is not None and conn is not None:
        try:
            observer(conn, direction, frame)
        except Exception:
            logging.getLogger("capnrpc").exception(
                "frame observer %r failed; it is removed", observer
            )
            runtime.frame_observer = None
    wire_log = logging.getLogger("capnrpc.wire")
    if wire_log.isEnabledFor(logging.DEBUG):
        arrow = "->" if direction == "send" else "<-"
        wire_log.debug("%s %s %s", core.name, arrow, describe_frame(frame))


def describe_frame(frame: bytes) -> str:
    """One framed RPC message as one short line (``Call #1 Calculator.evaluate -> #0.[0]``)."""
    try:
        return describe_message(codec.decode_message(MessageReader(decode_frame(frame))))
    except DecodeError as exc:
        return f"<malformed: {exc}>"


def describe_message(msg: Message) -> str:
    """A decoded RPC message as one short line (see :func:`describe_frame`)."""
    if isinstance(msg, Call):
        name = method_display_name(msg.interface_id, msg.method_id) or (
            f"{msg.interface_id:#x}.{msg.method_id}"
        )
        extra = " (results to yourself)" if msg.send_results_to == SendResultsTo.YOURSELF else ""
        caps = _caps(msg.params.cap_table)
        return f"Call #{msg.question_id} {name} -> {_target(msg.target)}{caps}{extra}"
    if isinstance(msg, Return):
        return f"Return #{msg.answer_id} {_return_body(msg)}"
    if isinstance(msg, Finish):
        flag = " (release result caps)" if msg.release_result_caps else ""
        return f"Finish #{msg.question_id}{flag}"
    if isinstance(msg, Bootstrap):
        return f"Bootstrap #{msg.question_id}"
    if isinstance(msg, Release):
        return f"Release import {msg.id} x{msg.reference_count}"
    if isinstance(msg, Resolve):
        if msg.cap is not None:
            return f"Resolve promise {msg.promise_id} -> {_cap(msg.cap)}"
        return f"Resolve promise {msg.promise_id} -> {_exception(msg.exception)}"
    if isinstance(msg, Disembargo):
        return f"Disembargo {msg.kind.name.lower()} #{msg.embargo_id} -> {_target(msg.target)}"
    if isinstance(msg, Abort):
        return f"Abort {_exception(msg.exception)}"
    if isinstance(msg, Unimplemented):
        return f"Unimplemented ({describe_message(msg.message)})"
    assert isinstance(msg, Unknown)
    return f"Unknown message (union member {msg.which})"


def _return_body(msg: Return) -> str:
    kind = msg.kind
    if kind == ReturnKind.RESULTS:
        caps = _caps(msg.results.cap_table) if msg.results is not None else ""
        flag = " (no finish needed)" if msg.no_finish_needed else ""
        return f"results{caps}{flag}"
    if kind == ReturnKind.EXCEPTION:
        return _exception(msg.exception)
    if kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
        return f"take from #{msg.other_question_id}"
    return {
        ReturnKind.CANCELED: "canceled",
        ReturnKind.RESULTS_SENT_ELSEWHERE: "results sent elsewhere",
    }.get(kind, kind.name.lower())


def _exception(exc: RpcException | None) -> str:
    if exc is None:
        return "exception"
    reason = exc.reason if len(exc.reason) <= 80 else exc.reason[:77] + "..."
    return f"exception {exc.type.name.lower()}: {reason!r}"


def _target(target: MessageTarget) -> str:
    if target.import_id is not None:
        return f"import {target.import_id}"
    pa = target.promised_answer
    assert pa is not None
    path = "".join(f"[{i}]" for i in pa.transform)
    return f"answer #{pa.question_id}{path}"


def _caps(descs: tuple[CapDescriptor, ...]) -> str:
    if not descs:
        return ""
    return " caps=[" + ", ".join(_cap(d) for d in descs) + "]"


def _cap(desc: CapDescriptor) -> str:
    kind = desc.kind
    if kind == CapKind.SENDER_HOSTED:
        return f"export {desc.id}"
    if kind == CapKind.SENDER_PROMISE:
        return f"promise {desc.id}"
    if kind == CapKind.RECEIVER_HOSTED:
        return f"your export {desc.id}"
    if kind == CapKind.RECEIVER_ANSWER:
        assert desc.promised_answer is not None
        pa = desc.promised_answer
        return f"your answer #{pa.question_id}" + "".join(f"[{i}]" for i in pa.transform)
    if kind == CapKind.NONE:
        return "null"
    return kind.name.lower()
