"""The vat: local objects, connections, and the rules that move calls between them.

The :class:`Vat` is the sans-IO core's front door. Inputs are bytes from connections and the
application's commands; outputs are bytes to send (``data_to_send``) and events
(``next_event``). Nothing here blocks, sleeps, reads a clock or touches a socket.

Note [dispatch]
~~~~~~~~~~~~~~~
Every call -- made by the application, received from a peer, or forwarded -- becomes an
:class:`OutgoingCall` handed to :meth:`Vat.dispatch`, which walks the target's resolution chain
(Note [cap kinds] in caps.py) and either delivers it to a local object, sends it as a question on
a connection, queues it behind an unresolved local promise or an embargo, or fails it. Whatever
happens, its :class:`PendingCall` settles exactly once (:meth:`Vat.settle`), and settling is what
answers a peer, resolves pipelined promises and tells the application.

Note [embargos]
~~~~~~~~~~~~~~~
Calls made on a remote promise travel to the peer, which forwards them to the promise's target.
When the promise resolves to something that is not reached over that same connection (a local
object, another connection, a capability the peer reflected back to us), a new call taking the
new, shorter path could overtake the calls still travelling the old one. So, if any call went
through the promise, we send ``Disembargo(senderLoopback)`` along the old path and hold new calls
(``PromiseCap.embargoed``) until the peer reflects it back as ``receiverLoopback``: by then every
earlier call has arrived. Null and broken resolutions need no embargo; calls to them fail anyway.

Note [tribble]
~~~~~~~~~~~~~~
When a promise resolves to another remote promise, which itself resolves elsewhere, a single
Disembargo cannot order both hops (the "Tribble 4-way race" of rpc.capnp). As the C++ reference
does, everything we tell a peer about a promise is pinned to the innermost reference at the time
we say it: a Resolve we send records the raw import or pipeline it named in the export (later
Disembargos bounce off exactly that), a Return records the innermost form of each result
capability (later pipelined calls go exactly there), and a capability the peer names with
``receiverHosted``/``receiverAnswer`` that is really a reference back to the peer is wrapped in a
*reflector* promise, so a promise resolving to it counts as reflected and gets an embargo.

Note [tail calls]
~~~~~~~~~~~~~~~~~
A server may answer a call with another call's results (:meth:`Vat.tail_call`). When the new
call goes back over the connection the original call came from, we ask the peer to keep the
results (``sendResultsTo.yourself``) and answer the original with ``takeFromOtherQuestion``, so
the results never cross the wire twice. Otherwise the new call's outcome is simply forwarded.

Note [streaming]
~~~~~~~~~~~~~~~~
A streaming call (``-> stream``) counts its size against a per-capability window on the sender;
the application asks :meth:`Vat.stream_window_full` and waits for ``StreamReady`` events. On the
receiver, while a streaming call runs on an object every later call to that object waits, in
order; a streaming call that fails breaks the object for every later call, as in C++. The
sender mirrors that: once a streaming call to a capability fails, later streaming calls to it
fail at once with the same exception, without being sent (C++'s flow controller does the same).
Calls that are not streaming still go out, so the application can learn more by asking.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.rpc.calls import Delivery, OutgoingCall, PendingCall, Question
from capnrpc_core.rpc.caps import (
    BrokenCap,
    Cap,
    ImportCap,
    LocalCap,
    PipelineCap,
    PromiseCap,
    null_cap,
)
from capnrpc_core.rpc.connection import Connection
from capnrpc_core.rpc.events import (
    CallReturned,
    ConnectionClosed,
    DeliverCall,
    DeliveryCanceled,
    Event,
    ServerReleased,
    StreamReady,
)
from capnrpc_core.rpc.limits import RpcLimits
from capnrpc_core.rpc.messages import (
    Disembargo,
    DisembargoKind,
    ExceptionType,
    MessageTarget,
    RpcException,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.reader import AnyPointerReader, StructReader

__all__ = ["Vat"]


class Vat:
    """A vat: the local end of any number of RPC connections.

    ``bootstrap`` is the object (or capability) peers get from a Bootstrap message, or None.
    """

    def __init__(
        self,
        bootstrap: object | None = None,
        *,
        limits: RpcLimits | None = None,
        name: str = "vat",
    ) -> None:
        self.name = name
        self.limits = limits if limits is not None else RpcLimits()
        self.connections: list[Connection] = []
        self._events: deque[Event] = deque()
        self._queue: deque[Callable[[], None]] = deque()
        self._running_queue = False
        self._next_ids = {"delivery": 0, "connection": 0}
        self._next_pending = 0
        self._stream_in_flight: dict[Cap, int] = {}
        self._stream_failed: dict[Cap, RpcException] = {}
        # The live LocalCap of each local object, by id (its LocalCap keeps it alive).
        self._local_caps: dict[int, LocalCap] = {}
        # Connections with queued output, in the order they queued it (a dict as ordered set).
        self._with_output: dict[Connection, None] = {}
        self.null: Cap = self.add_ref(null_cap())
        self.bootstrap_cap: Cap | None = None
        if bootstrap is not None:
            self.bootstrap_cap = (
                self.add_ref(bootstrap) if isinstance(bootstrap, Cap) else self.local_cap(bootstrap)
            )

    # == application API =====================================================================

    def new_connection(self, name: str | None = None) -> Connection:
        """Create the state for a new connection to one peer."""
        id_ = self._new_id("connection")
        conn = Connection(self, id_, name or f"{self.name}#{id_}")
        self.connections.append(conn)
        return conn

    def set_bootstrap(self, conn: Connection, cap: Cap | None) -> None:
        """Offer ``cap`` to ``conn``'s peer instead of the vat's bootstrap (None: the vat's).

        The caller keeps its reference; the connection takes one of its own until it closes.
        Servers that make one bootstrap object per client use this.
        """
        old = conn.bootstrap_cap
        conn.bootstrap_cap = self.add_ref(cap) if cap is not None else None
        if old is not None:
            self.release(old)
        self.run_queue()

    def receive_data(self, conn: Connection, data: bytes) -> None:
        """Feed bytes received on ``conn``; ``b""`` means the peer closed its end."""
        conn.receive_data(data)
        if self._queue:  # (here and in the commands below: the call costs more than the test)
            self.run_queue()

    def data_to_send(self, conn: Connection) -> bytes:
        """Bytes the driver must write to ``conn``'s transport, in order."""
        # A driver that polls its connections mostly finds nothing: say so without a call.
        if not conn.outgoing:
            return b""
        return conn.data_to_send()

    def output_ready(self) -> list[tuple[Connection, bytes]]:
        """Take the queued output of every connection that has some, in the order it queued.

        The same bytes as :meth:`data_to_send` on each connection, without visiting the quiet
        ones: a server with many connections pays only for the busy.
        """
        busy = self._with_output
        if not busy:
            return []
        self._with_output = {}
        out = []
        for conn in busy:
            if conn.outgoing:
                out.append((conn, conn.take_output()))
        return out

    def next_event(self) -> Event | None:
        """The next event for the driver, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[Event]:
        """Take every pending event."""
        out = list(self._events)
        self._events.clear()
        return out

    def local_cap(self, server: object, streaming_methods: Iterable[tuple[int, int]] = ()) -> Cap:
        """A capability for local object ``server`` (one reference, owned by the caller).

        ``streaming_methods`` lists the (interface id, method id) pairs declared ``-> stream``.
        While a capability for ``server`` is alive, this returns another reference to it, so
        the object is one capability: exported under one id per connection, whoever passes it.
        """
        cap = self._local_caps.get(id(server))
        if cap is None:
            cap = LocalCap(server, frozenset(streaming_methods))
            self._local_caps[id(server)] = cap
        return self.add_ref(cap)

    def new_promise(self) -> Cap:
        """A new local promise capability; settle it with :meth:`resolve` or :meth:`reject`."""
        return self.add_ref(PromiseCap())

    def resolve(self, promise: Cap, target: Cap) -> None:
        """Resolve local promise ``promise`` to ``target`` (the caller keeps its reference)."""
        if not isinstance(promise, PromiseCap) or promise.inner is not None:
            raise LocalUsageError("resolve() takes a promise made by new_promise()")
        if promise.resolved is not None:
            raise LocalUsageError("this promise is already resolved")
        self.resolve_promise(promise, self.add_ref(target))
        self.run_queue()

    def reject(self, promise: Cap, exception: RpcException) -> None:
        """Settle local promise ``promise`` with an exception."""
        if not isinstance(promise, PromiseCap) or promise.inner is not None:
            raise LocalUsageError("reject() takes a promise made by new_promise()")
        if promise.resolved is not None:
            raise LocalUsageError("this promise is already resolved")
        self.resolve_promise(promise, self.add_ref(BrokenCap(exception)))
        self.run_queue()

    def bootstrap(self, conn: Connection) -> Cap:
        """A promise for the peer's bootstrap capability (one reference, owned by the caller)."""
        if not conn.open:
            return self.add_ref(BrokenCap(_closed_exception(conn)))
        pending = self.new_pending(0, 0)
        cap = self.pipeline_cap(pending, ())
        conn.send_bootstrap(pending)
        self.run_queue()
        return cap

    def call(
        self,
        target: Cap,
        interface_id: int,
        method_id: int,
        params: object = None,
        *,
        streaming: bool = False,
    ) -> PendingCall:
        """Call a method on ``target``; a ``CallReturned`` event reports the outcome.

        ``params`` is a wire pointer (a struct builder or reader, or None). The capabilities in
        its message's cap table are taken over by the call. With ``streaming`` the call counts
        against the target's stream window (Note [streaming]).
        """
        if target.refs <= 0:
            self._check_live(target)  # raises
        pending = self.new_pending(interface_id, method_id)
        pending.watched_by_app = True
        content, caps = _split_payload(params)
        size = 0
        if streaming:
            failed = self._stream_failed.get(target)
            if failed is not None:
                self.release_all(caps)
                self.settle(pending, exception=failed)
                self.run_queue()
                return pending
            size = _payload_size(content)
            pending.stream_target = self.add_ref(target)
            pending.stream_bytes = size
            self._stream_in_flight[target] = self._stream_in_flight.get(target, 0) + size
        self.dispatch(
            target, OutgoingCall(pending, interface_id, method_id, content, caps, streaming, size)
        )
        if self._queue:
            self.run_queue()
        return pending

    def stream_window_full(self, target: Cap) -> bool:
        """Whether streaming calls to ``target`` have filled the window (wait for StreamReady).

        Never once a streaming call to it failed: later ones fail at once (Note [streaming]).
        """
        return (
            self._stream_in_flight.get(target, 0) >= self.limits.stream_window_bytes
            and target not in self._stream_failed
        )

    def stream_failure(self, target: Cap) -> RpcException | None:
        """The exception of the first streaming call to ``target`` that failed, if any."""
        return self._stream_failed.get(target)

    def pipeline(self, call: PendingCall, path: Iterable[int]) -> Cap:
        """A capability for the pointer at ``path`` in ``call``'s results, usable at once."""
        if call.released:
            raise LocalUsageError("the call's results were already released")
        cap = self.pipeline_cap(call, tuple(path))
        if self._queue:
            self.run_queue()
        return cap

    def cancel(self, call: PendingCall) -> None:
        """The application no longer wants ``call``'s results (sends Finish when it can)."""
        if call.done:
            self.release_call(call)
            return
        call.watched_by_app = False
        # Pipelined capabilities the application still holds keep the call alive (as in C++).
        if all(p.refs <= 1 for p in call.pipeline.values()):
            self.cancel_pending(call)
        self.run_queue()

    def release_call(self, call: PendingCall) -> None:
        """Release a settled call's results and the capabilities in them."""
        call.watched_by_app = False
        if call.done:
            self.release_results(call)
        if self._queue:
            self.run_queue()

    def add_ref(self, cap: Cap) -> Cap:
        """Take one more reference to ``cap`` and return it."""
        cap.refs += 1
        return cap

    def release(self, cap: Cap) -> None:
        """Drop one reference to ``cap``; the last one releases what it kept alive."""
        if cap.refs <= 0:
            raise LocalUsageError(f"released a capability with no references ({cap.describe()})")
        cap.refs -= 1
        if cap.refs == 0:
            self._dead(cap)

    def release_all(self, caps: Iterable[Cap | None]) -> None:
        """Drop one reference to each capability in ``caps``."""
        for cap in caps:
            if cap is not None:
                self.release(cap)

    def return_results(self, delivery: Delivery, results: object = None) -> None:
        """Answer ``delivery`` with ``results`` (a wire pointer; its caps are taken over)."""
        self._finish_delivery(delivery)
        content, caps = _split_payload(results)
        self.settle(delivery.pending, results=_as_reader(content), caps=caps)
        if self._queue:
            self.run_queue()

    def return_exception(self, delivery: Delivery, exception: RpcException) -> None:
        """Answer ``delivery`` with an exception."""
        self._finish_delivery(delivery, failure=exception)
        self.settle(delivery.pending, exception=exception)
        self.run_queue()

    def tail_call(
        self,
        delivery: Delivery,
        target: Cap,
        interface_id: int,
        method_id: int,
        params: object = None,
    ) -> None:
        """Answer ``delivery`` with the results of a new call (Note [tail calls])."""
        self._check_live(target)
        # The target may be a capability from the params, which finishing the delivery releases.
        self.add_ref(target)
        self._finish_delivery(delivery)
        original = delivery.pending
        content, caps = _split_payload(params)
        new = self.new_pending(interface_id, method_id)
        answer = original.answer
        inner = self._remote_end(target)
        original.redirect = new
        if (
            answer is not None
            and not original.done
            and inner is not None
            and inner[0] is answer.connection
            and not inner[0].waiting_calls
            and len(inner[0].questions) < self.limits.max_questions
        ):
            # The results can stay with the peer (Note [tail calls]).
            new.tail_redirected = True
            self.dispatch(target, OutgoingCall(new, interface_id, method_id, content, caps))
            question = new.question
            assert question is not None
            original.take_from_question = question.id
            self._redirect_pipeline(original, new)
            self.settle(original, results=None, caps=[])
        else:
            self.dispatch(target, OutgoingCall(new, interface_id, method_id, content, caps))
            self.forward_outcome(new, original)
        self.release(target)
        self.run_queue()

    def disconnect(self, conn: Connection, reason: str = "connection closed locally") -> None:
        """Close ``conn`` from our side; pending calls on it fail with ``disconnected``."""
        self.close_connection(conn, RpcException(reason, ExceptionType.DISCONNECTED), by_peer=False)
        self.run_queue()

    # == the local queue =====================================================================

    def later(self, action: Callable[[], None]) -> None:
        """Run ``action`` after the current step (see Note [dispatch])."""
        self._queue.append(action)

    def run_queue(self) -> None:
        """Run queued local work until none is left."""
        if self._running_queue:
            return
        self._running_queue = True
        try:
            while self._queue:
                self._queue.popleft()()
        finally:
            self._running_queue = False

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _new_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    # == calls ===============================================================================

    def new_pending(self, interface_id: int, method_id: int) -> PendingCall:
        """A fresh :class:`PendingCall`."""
        id_ = self._next_pending
        self._next_pending = id_ + 1
        return PendingCall(id_, interface_id, method_id)

    def dispatch(self, target: Cap, call: OutgoingCall) -> None:
        """Send ``call`` on its way to ``target`` (Note [dispatch])."""
        cap = target
        while True:
            if isinstance(cap, PromiseCap):
                if cap.embargoed or (cap.resolved is None and cap.inner is None):
                    if cap.resolved is None and cap in call.pending.pipeline.values():
                        # The call would wait for its own results: fail it rather than hang.
                        self._fail_call(
                            call,
                            RpcException("deadlock: the call's target is its own pipelined result"),
                        )
                        return
                    cap.queued.append(call)
                    self.add_ref(cap)
                    return
                if cap.resolved is not None:
                    cap = cap.resolved
                    continue
                assert cap.inner is not None
                cap.received_call = True
                cap = cap.inner
                continue
            break
        if isinstance(cap, LocalCap):
            self._deliver(cap, call)
        elif isinstance(cap, ImportCap):
            conn = cap.connection
            if cap.broken is not None or not conn.open:
                self._fail_call(call, cap.broken or _closed_exception(conn))
            else:
                conn.send_call(call, cap.target)
        elif isinstance(cap, PipelineCap):
            question = cap.question
            conn = question.connection
            if not conn.open:
                self._fail_call(call, _closed_exception(conn))
            elif question.returned and not question.results_elsewhere:
                # Only reachable through a pinned reference (Note [tribble]); the answer is
                # final, so ask the pending call directly.
                resolved = self.cap_at(question.pending, cap.path)
                self.dispatch(resolved, call)
                self.release(resolved)
            else:
                conn.send_call(call, cap.target)
        else:
            assert isinstance(cap, BrokenCap)
            self._fail_call(call, cap.exception)

    def _fail_call(self, call: OutgoingCall, exception: RpcException) -> None:
        self.release_all(call.caps)
        self.settle(call.pending, exception=exception)

    def _deliver(self, target: LocalCap, call: OutgoingCall) -> None:
        if call.pending.done:
            # Canceled while it waited (behind a streaming call, or a promise): never runs.
            self.release_all(call.caps)
            return
        if target.broken is not None:
            self._fail_call(call, target.broken)
            return
        if target.stream_busy:
            target.stream_queue.append(call)
            return
        streaming = (call.interface_id, call.method_id) in target.streaming_methods
        call.streaming = streaming
        if streaming:
            target.stream_busy = True
        delivery = Delivery(self._new_id("delivery"), target, call)
        self.add_ref(target)
        call.pending.delivery = delivery
        self._emit(DeliverCall(delivery))

    def _finish_delivery(self, delivery: Delivery, failure: RpcException | None = None) -> None:
        if delivery.done:
            raise LocalUsageError(f"{delivery!r} was already answered")
        delivery.done = True
        # Break the delivery <-> call cycle: it would keep the server object (and whatever
        # capabilities it holds) alive until the cyclic GC runs, delaying their Releases.
        delivery.pending.delivery = None
        params_caps = delivery.params_caps
        delivery.params = None
        if params_caps:
            delivery.params_caps = []
            self.release_all(params_caps)
        target = delivery.target
        if delivery.streaming:
            if failure is not None and target.broken is None:
                target.broken = failure
            target.stream_busy = False
            while target.stream_queue and not target.stream_busy:
                self._deliver(target, target.stream_queue.pop(0))
        self.release(target)

    def settle(
        self,
        pending: PendingCall,
        *,
        results: object = None,
        caps: list[Cap] | None = None,
        exception: RpcException | None = None,
    ) -> None:
        """Record a call's outcome once and tell everyone who waits for it."""
        if pending.done:
            self.release_all(caps or [])
            return
        pending.done = True
        if pending.take_from_question is None:
            pending.redirect = None
        pending.results = results
        pending.result_caps = caps if caps is not None else []
        pending.exception = exception
        if pending.stream_target is not None:
            stream_target = pending.stream_target
            pending.stream_target = None
            left = self._stream_in_flight.get(stream_target, 0) - pending.stream_bytes
            if left > 0:
                self._stream_in_flight[stream_target] = left
            else:
                self._stream_in_flight.pop(stream_target, None)
            if exception is not None and not pending.canceled:
                self._stream_failed.setdefault(stream_target, exception)
            self.release(stream_target)
            if pending.watched_by_app:
                self._emit(StreamReady(pending))
        answer = pending.answer
        if (
            answer is not None
            and pending.result_caps
            and exception is None
            and not answer.send_results_to_yourself
        ):
            self._pin_results(pending, answer.connection)
        # The pipelined promises stay: later calls on this call's results must go through the
        # same promises as earlier ones, or they could overtake them (Note [embargos]).
        if pending.pipeline:
            for path, promise in list(pending.pipeline.items()):
                if promise.resolved is None:
                    self.resolve_promise(promise, self.cap_at(pending, path))
        if answer is not None and not answer.send_results_to_yourself:
            answer.connection.send_return(answer)
        forward = pending.forward_to
        if forward is not None:
            pending.forward_to = None
            self._copy_outcome(pending, forward)
        if pending.watched_by_app:
            self._emit(CallReturned(pending))
        elif answer is None:
            self.release_results(pending)

    def forward_outcome(self, source: PendingCall, dest: PendingCall) -> None:
        """Settle ``dest`` the way ``source`` settles (now, or when it does)."""
        dest.redirect = source
        if source.done:
            self._copy_outcome(source, dest)
        else:
            self._redirect_pipeline(dest, source)
            source.forward_to = dest

    def _copy_outcome(self, source: PendingCall, dest: PendingCall) -> None:
        if source.exception is not None:
            self.settle(dest, exception=source.exception)
        else:
            caps = [self.add_ref(c) for c in source.result_caps]
            self.settle(dest, results=source.results, caps=caps)

    def _redirect_pipeline(self, pending: PendingCall, source: PendingCall) -> None:
        """Point ``pending``'s pipelined promises at ``source``'s (calls flow there at once)."""
        for path, promise in list(pending.pipeline.items()):
            if promise.resolved is None:
                self.resolve_promise(promise, self.pipeline_cap(source, path))

    def _pin_results(self, pending: PendingCall, conn: Connection) -> None:
        """Replace result caps by what ``conn``'s peer is told they are (Note [tribble])."""
        caps = pending.result_caps
        for i, cap in enumerate(caps):
            if cap is None:
                continue
            inner = self.innermost(cap, conn)
            if inner is not cap:
                caps[i] = self.add_ref(inner)
                self.release(cap)

    def cancel_pending(self, pending: PendingCall) -> None:
        """Cancel a call that has not settled: stop its delivery or finish its question."""
        if pending.done:
            return
        pending.canceled = True
        delivery = pending.delivery
        if delivery is not None and not delivery.done:
            delivery.canceled = True
            self._emit(DeliveryCanceled(delivery))
        question = pending.question
        if question is not None and not question.returned:
            question.wants_finish = True
            question.connection.maybe_finish(question)
        redirect = pending.redirect
        if redirect is not None and not redirect.watched_by_app and redirect.answer is None:
            self.cancel_pending(redirect)
        self.settle(pending, exception=RpcException("the call was canceled", ExceptionType.FAILED))

    def release_results(self, pending: PendingCall) -> None:
        """Drop the references a settled call holds on its results."""
        if pending.released:
            return
        pending.released = True
        caps = pending.result_caps
        pending.result_caps = []
        pending.results = None
        if caps:
            self.release_all(caps)
        pipeline = pending.pipeline
        if pipeline:
            pending.pipeline = {}
            self.release_all(pipeline.values())
        redirect = pending.redirect
        pending.redirect = None
        if redirect is not None and redirect.tail_redirected:
            # The peer kept these results for us; now nobody can pipeline on them any more.
            question = redirect.question
            self.settle(redirect, exception=RpcException("tail call results were released"))
            if question is not None:
                question.wants_finish = True
                question.connection.maybe_finish(question)

    # == pipelines ===========================================================================

    def pipeline_cap(self, pending: PendingCall, path: tuple[int, ...]) -> Cap:
        """A reference to the capability at ``path`` in ``pending``'s results."""
        promise = pending.pipeline.get(path)
        if promise is not None:
            return self.add_ref(promise)
        if pending.redirect is not None and not pending.released:
            return self.pipeline_cap(pending.redirect, path)
        if pending.done and not (pending.tail_redirected and pending.exception is None):
            return self.cap_at(pending, path)
        inner: Cap | None = None
        question = pending.question
        if question is not None and (not question.returned or question.results_elsewhere):
            inner = self._question_pipeline(question, path)
        promise = PromiseCap(inner)
        promise.refs = 1  # held by pending.pipeline until the results are released
        pending.pipeline[path] = promise
        return self.add_ref(promise)

    def attach_pipeline(self, pending: PendingCall, question: Question) -> None:
        """``pending`` became ``question``: its pipelined promises now go through it."""
        for path, promise in pending.pipeline.items():
            if promise.inner is None and promise.resolved is None:
                promise.inner = self._question_pipeline(question, path)
                queued = promise.queued
                promise.queued = []
                for call in queued:
                    self.dispatch(promise, call)
                    self.release(promise)

    def _question_pipeline(self, question: Question, path: tuple[int, ...]) -> Cap:
        cap = question.pipeline_caps.get(path)
        if cap is None:
            cap = PipelineCap(question, path)
            question.pipeline_caps[path] = cap
        return self.add_ref(cap)

    def cap_at(self, pending: PendingCall, path: tuple[int, ...]) -> Cap:
        """The capability at ``path`` in a settled call's results (a new reference)."""
        if pending.exception is not None:
            return self.add_ref(BrokenCap(pending.exception))
        if pending.released:
            return self.add_ref(
                BrokenCap(
                    RpcException(
                        "Pipeline call on a request that returned no capabilities or was "
                        "already closed."
                    )
                )
            )
        try:
            ptr = pending.results
            for index in path:
                if isinstance(ptr, StructReader):
                    ptr = ptr.get_pointer(index)
                elif isinstance(ptr, AnyPointerReader):
                    # A null pointer reads as an empty struct, whose pointers are null: the
                    # path then ends at a null capability, with no test of each step.
                    ptr = ptr.as_struct().get_pointer(index)
                else:
                    ptr = None
                    break
            if ptr is None:
                return self.add_ref(self.null)
            if not isinstance(ptr, AnyPointerReader):
                raise DecodeError("expected a capability, found a struct")
            cap = ptr.as_capability()  # None for a null pointer
        except DecodeError as exc:
            return self.add_ref(BrokenCap(RpcException(f"pipelined path is invalid: {exc}")))
        if cap is None:
            return self.add_ref(self.null)
        if not isinstance(cap, Cap):
            return self.add_ref(BrokenCap(RpcException("pipelined path holds no capability")))
        return self.add_ref(cap)

    # == promises and embargos ===============================================================

    def resolve_promise(self, promise: PromiseCap, target: Cap) -> None:
        """Settle ``promise`` to ``target`` (whose reference this takes over)."""
        if promise.resolved is not None:
            self.release(target)
            return
        if self._resolves_to(target, promise):
            # A promise that resolves (through others) to itself would send calls in circles.
            self.release(target)
            target = self.add_ref(BrokenCap(RpcException("promise resolved to itself (a cycle)")))
        inner = promise.inner
        if (
            inner is not None
            and promise.received_call
            and not isinstance(self._final(target), BrokenCap)
        ):
            old = self._raw_end(inner)
            new = self._remote_end(target)
            if old is not None and old[0].open:
                if new is not None and new[0] is old[0]:
                    # Same path: calls stay in order without an embargo, but if the new
                    # target is itself a remote promise it inherits our calls (C++'s MERGED).
                    final = self._final(target)
                    if isinstance(final, PromiseCap):
                        final.received_call = True
                else:
                    conn, wire_target = old
                    embargo_id = conn.embargoes.add(promise)
                    conn.send_disembargo(
                        Disembargo(wire_target, DisembargoKind.SENDER_LOOPBACK, embargo_id)
                    )
                    promise.embargoed = True
        promise.resolved = target
        promise.inner = None
        if inner is not None:
            self.release(inner)
        if not promise.embargoed:
            self._flush(promise)
            self._wake_waiters(promise)
        # An embargoed promise tells its waiters (Resolves for its exports) only when the
        # embargo lifts: a peer told earlier would call the new target directly, overtaking the
        # calls still held here (C++ likewise exports the embargo's queue, not the target).

    def _wake_waiters(self, promise: PromiseCap) -> None:
        waiters = promise.waiters
        promise.waiters = []
        for waiter in waiters:
            self.later(waiter)

    def lift_embargo(self, promise: PromiseCap) -> None:
        """The embargo on ``promise`` is over: calls held behind it go on, in order."""
        promise.embargoed = False
        self._flush(promise)
        self._wake_waiters(promise)

    def _flush(self, promise: PromiseCap) -> None:
        queued = promise.queued
        promise.queued = []
        target = promise.resolved
        if target is None:
            # Released while embargoed: nothing can be queued on it (a queued call holds a
            # reference), so there is nothing to flush.
            assert not queued
            return
        for call in queued:
            self.dispatch(target, call)
            self.release(promise)

    def _final(self, cap: Cap) -> Cap:
        """Follow resolved promises as far as they go."""
        while isinstance(cap, PromiseCap) and cap.resolved is not None:
            cap = cap.resolved
        return cap

    def _raw_end(self, cap: Cap) -> tuple[Connection, MessageTarget] | None:
        """The wire target of a raw import or pipeline, even if its question has returned."""
        if isinstance(cap, PipelineCap):
            return cap.question.connection, cap.target
        return self._remote_end(cap)

    def _remote_end(self, cap: Cap) -> tuple[Connection, MessageTarget] | None:
        """The connection and wire target calls to ``cap`` go to directly, if remote."""
        while isinstance(cap, PromiseCap):
            if cap.reflector:
                return None
            if cap.resolved is not None:
                cap = cap.resolved
            elif cap.inner is not None:
                cap = cap.inner
            else:
                return None
        if isinstance(cap, ImportCap) and cap.broken is None:
            return cap.connection, cap.target
        if isinstance(cap, PipelineCap) and (
            not cap.question.returned or cap.question.results_elsewhere
        ):
            return cap.question.connection, cap.target
        return None

    def innermost(self, cap: Cap, conn: Connection) -> Cap:
        """What to tell ``conn``'s peer ``cap`` is (Note [tribble]).

        Resolved promises are followed; an unresolved promise that goes to ``conn`` is replaced
        by the raw import or pipeline it goes through (and counts as having received calls,
        since the peer may now call it directly).
        """
        while isinstance(cap, PromiseCap):
            if cap.embargoed:
                return cap  # still holding calls: it stands for itself until the embargo lifts
            if cap.resolved is not None:
                cap = cap.resolved
                continue
            inner = cap.inner
            if inner is None:
                return cap
            end = self._remote_end(inner)
            if end is None or end[0] is not conn:
                return cap
            cap.received_call = True
            cap = inner
        return cap

    def reflector(self, cap: Cap) -> Cap:
        """Wrap ``cap`` (a reference back to a peer) so resolving to it embargoes."""
        wrapper = PromiseCap()
        wrapper.resolved = cap
        wrapper.reflector = True
        return self.add_ref(wrapper)

    def watch_export(self, conn: Connection, export_id: int, cap: Cap) -> None:
        """Send Resolve on ``conn`` once exported promise ``cap`` settles."""
        if isinstance(cap, PromiseCap):
            cap.waiters.append(lambda: conn.send_resolve(export_id, cap))

    def _resolves_to(self, cap: Cap, promise: PromiseCap) -> bool:
        seen = 0
        while isinstance(cap, PromiseCap) and seen < 10_000:
            if cap is promise:
                return True
            nxt = cap.resolved if cap.resolved is not None else cap.inner
            if nxt is None:
                return False
            cap = nxt
            seen += 1
        return cap is promise

    def cap_content(self, cap: Cap) -> tuple[object, list[Cap]]:
        """A payload whose content is one capability pointer to ``cap`` (reference taken over)."""
        builder = MessageBuilder(first_segment_words=2)
        builder.root().set_capability(cap)
        caps: list[Cap] = builder.caps  # type: ignore[assignment]
        return builder.root().as_reader(), caps

    # == connections =========================================================================

    def close_connection(self, conn: Connection, exception: RpcException, *, by_peer: bool) -> None:
        """Tear down ``conn``: fail what waits on it, drop what it held (Note [violations])."""
        if not conn.open:
            return
        conn.open = False
        conn.close_reason = exception
        if conn.bootstrap_cap is not None:
            bootstrap, conn.bootstrap_cap = conn.bootstrap_cap, None
            self.release(bootstrap)
        for _, question in conn.questions.items():
            question.returned = True
            question.finish_sent = True
            self.settle(question.pending, exception=exception)
        waiting = conn.waiting_calls
        conn.waiting_calls = []
        for call, _, pinned in waiting:
            if isinstance(call, OutgoingCall):
                self._fail_call(call, exception)
            if pinned is not None:
                self.release(pinned)
        for _, promise in list(conn.promise_imports.items()):
            self.resolve_promise(promise, self.add_ref(BrokenCap(exception)))
        conn.promise_imports.clear()
        for imp in list(conn.imports.values()):
            imp.broken = exception
        conn.imports.clear()
        for embargo_id, promise in conn.embargoes.items():
            conn.embargoes.remove(embargo_id)
            self.lift_embargo(promise)
        for answer in list(conn.answers.values()):
            answer.finish_received = True
            if not answer.return_sent:
                self.cancel_pending(answer.pending)
            answer.return_sent = True
            self.release_results(answer.pending)
        conn.answers.clear()
        exports = conn.exports.items()
        conn.exports_by_cap.clear()
        for export_id, export in exports:
            conn.exports.remove(export_id)
            self.release(export.cap)
        for _, question in conn.questions.items():
            conn.forget_question(question)
        self._emit(ConnectionClosed(conn, exception, by_peer))

    # == reference counting ==================================================================

    def _dead(self, cap: Cap) -> None:
        if self._stream_failed:
            self._stream_failed.pop(cap, None)
        if isinstance(cap, ImportCap):
            cap.connection.send_release(cap)
        elif isinstance(cap, PipelineCap):
            question = cap.question
            if question.pipeline_caps.get(cap.path) is cap:
                del question.pipeline_caps[cap.path]
            if question.connection.open:
                question.connection.maybe_finish(question)
        elif isinstance(cap, PromiseCap):
            inner, resolved = cap.inner, cap.resolved
            cap.inner = cap.resolved = None
            cap.waiters = []
            if inner is not None:
                if isinstance(inner, ImportCap):
                    promises = inner.connection.promise_imports
                    if promises.get(inner.import_id) is cap:
                        del promises[inner.import_id]
                self.release(inner)
            if resolved is not None:
                self.release(resolved)
        elif isinstance(cap, LocalCap):
            if self._local_caps.get(id(cap.server)) is cap:
                del self._local_caps[id(cap.server)]
            self._emit(ServerReleased(cap.server))

    def _check_live(self, cap: Cap) -> None:
        if cap.refs <= 0:
            raise LocalUsageError(f"used a released capability ({cap.describe()})")


def _closed_exception(conn: Connection) -> RpcException:
    if conn.close_reason is not None:
        return conn.close_reason
    return RpcException(f"connection {conn.name} is closed", ExceptionType.DISCONNECTED)


def _split_payload(params: object) -> tuple[object, list[Cap]]:
    """A wire pointer and the capability list of its message (taken over by the core)."""
    if params is None:
        return None, []
    message = getattr(params, "message", None)
    caps = getattr(message, "caps", None)
    if caps is None:
        return params, []
    for cap in caps:
        if cap is not None and not isinstance(cap, Cap):
            raise LocalUsageError(f"payload cap table holds {cap!r}, not a capability")
    return params, caps


def _as_reader(content: object) -> object:
    as_reader = getattr(content, "as_reader", None)
    return as_reader() if as_reader is not None else content


def _payload_size(content: object) -> int:
    if content is None:
        return 0
    reader = _as_reader(content)
    size = getattr(reader, "total_size_words", None)
    return int(size()) * 8 if size is not None else 0
