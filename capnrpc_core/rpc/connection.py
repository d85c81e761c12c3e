"""One RPC connection: its four tables, its embargos, and one handler per inbound message.

Note [question lifetime]
~~~~~~~~~~~~~~~~~~~~~~~~
A question id stays allocated until we have both received its ``Return`` and sent its
``Finish`` (or the peer said ``noFinishNeeded``). Finish goes out as soon as the caller no
longer needs the answer -- when it returns, or when the call is canceled -- and no raw
:class:`PipelineCap` still refers to it, because a pipelined promise may still have to send a
``Disembargo`` naming ``promisedAnswer(question)``; the peer must not have forgotten the answer
by then. We import the result capabilities when the Return arrives, so Finish carries
``releaseResultCaps = false`` then, and ``true`` when we cancel before the Return (we will never
import them), exactly as the C++ reference does.

Note [answer lifetime]
~~~~~~~~~~~~~~~~~~~~~~
An answer lives until we have sent its ``Return`` and received its ``Finish``. A Finish that
arrives first cancels the call: the running delivery is told (``DeliveryCanceled``), a call we
forwarded elsewhere is finished there, and we send ``Return.canceled`` at once. The results of
a returned answer stay alive until Finish, because the peer may still pipeline on them.

Note [limits]
~~~~~~~~~~~~~
Every limit is enforced where the resource is taken: questions in ``send_call`` (the call
waits in order until a question returns; only questions awaiting a Return count, since a
waiting call may keep a returned one from being finished), exports in ``describe`` (the message
that would export one too many fails with ``overloaded``), incoming call bytes in
``handle_call`` (the call is answered ``overloaded`` without running), and the wire limits in
the frame decoder and reader. A waiting call holds a reference to the raw import or pipeline it
targets, so the import is not released and the question not finished before the call is out.

Note [violations]
~~~~~~~~~~~~~~~~~
A peer that breaks the protocol (unknown ids, duplicate question ids, releasing more than it
holds, malformed messages) makes a handler raise :class:`ProtocolViolation`. ``receive_frame``
is the one place that turns it, or a :class:`DecodeError`, into an ``Abort`` sent to the peer
and a local close in which every pending call fails with a ``disconnected`` error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from capnrpc_core.errors import DecodeError, RemoteProtocolError
from capnrpc_core.rpc import codec
from capnrpc_core.rpc.calls import Answer, Export, OutgoingCall, PendingCall, Question
from capnrpc_core.rpc.caps import BrokenCap, Cap, ImportCap, PipelineCap, PromiseCap
from capnrpc_core.rpc.ids import IdTable
from capnrpc_core.rpc.messages import (
    Abort,
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    ExceptionType,
    Finish,
    Message,
    MessageTarget,
    Payload,
    PromisedAnswer,
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
    SendResultsTo,
    Unimplemented,
    Unknown,
)
from capnrpc_core.wire.framing import FrameDecoder, encode_frame
from capnrpc_core.wire.reader import MessageReader

if TYPE_CHECKING:
    from capnrpc_core.rpc.vat import Vat

__all__ = ["Connection", "ProtocolViolation"]


class ProtocolViolation(RemoteProtocolError):
    """Raised inside a handler when the peer broke the protocol; becomes an Abort."""


# Enum members the hot paths compare with: reading one off its class costs as much as a call.
_RESULTS = ReturnKind.RESULTS
_EXCEPTION = ReturnKind.EXCEPTION
_CALLER = SendResultsTo.CALLER
_YOURSELF = SendResultsTo.YOURSELF
_SENDER_HOSTED = CapKind.SENDER_HOSTED
_SENDER_PROMISE = CapKind.SENDER_PROMISE
# The cap-table entries that hold an export (released with the answer).
_EXPORTED = frozenset({_SENDER_HOSTED, _SENDER_PROMISE})


class ExportLimitReached(Exception):
    """Internal: describing a capability would exceed ``max_exports``."""


class Connection:
    """The state of one connection to one peer vat. Created by :meth:`Vat.new_connection`."""

    def __init__(self, vat: Vat, id_: int, name: str) -> None:
        self.vat = vat
        self.id = id_
        self.name = name
        self.open = True
        self.close_reason: RpcException | None = None
        self.questions: IdTable[Question] = IdTable()
        self.answers: dict[int, Answer] = {}
        self.exports: IdTable[Export] = IdTable()
        self.exports_by_cap: dict[Cap, int] = {}
        self.imports: dict[int, ImportCap] = {}
        self.promise_imports: dict[int, PromiseCap] = {}
        self.embargoes: IdTable[PromiseCap] = IdTable()
        # Calls waiting for a question to return (Note [limits]), each with a reference to the
        # raw import or pipeline it goes through, so that neither is released or finished first.
        # A Disembargo sent meanwhile waits in the same line, behind the calls it must follow.
        self.waiting_calls: list[tuple[OutgoingCall | Disembargo, MessageTarget, Cap | None]] = []
        self.incoming_call_bytes = 0
        # What a Bootstrap on this connection gets, instead of the vat's (Vat.set_bootstrap).
        self.bootstrap_cap: Cap | None = None
        self.decoder = FrameDecoder(vat.limits.read)
        self.outgoing: list[bytes] = []
        self.trace: list[tuple[str, bytes]] | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.name} {'open' if self.open else 'closed'}>"

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the transport; ``b""`` means end of stream."""
        if not self.open:
            return
        if not data:
            try:
                self.decoder.close()
            except DecodeError as exc:
                self.vat.close_connection(
                    self, _disconnected(f"connection closed mid-message: {exc}"), by_peer=True
                )
                return
            self.vat.close_connection(
                self, _disconnected("connection closed by peer"), by_peer=True
            )
            return
        try:
            frames = self.decoder.feed(data)
        except DecodeError as exc:
            self.abort(f"malformed frame: {exc}")
            return
        for segments in frames:
            if not self.open:
                return
            self._receive_frame(segments, True)

    def receive_frame(self, segments: list[memoryview] | list[bytes]) -> None:
        """Handle one whole message (a list of segments)."""
        self._receive_frame(segments, False)

    def _receive_frame(self, segments: list[memoryview] | list[bytes], decoded: bool) -> None:
        # ``decoded``: the segments are the decoder's, already checked to be views of whole words.
        if not self.open:
            return
        if self.trace is not None:
            self.trace.append(("recv", encode_frame(segments)))
        try:
            limits = self.vat.limits.read
            if decoded:
                reader = MessageReader._from_decoder(segments, limits)  # type: ignore[arg-type]
            else:
                reader = MessageReader(segments, limits=limits)
            message = codec.decode_fast(reader)
            if message is None:
                message = codec.decode_message(reader)
            kind = type(message)
            if kind is Call:
                # Only a Call's size counts (against max_incoming_call_bytes).
                size = len(segments[0]) if len(segments) == 1 else sum(len(s) for s in segments)
                self.handle_call(message, size)  # type: ignore[arg-type]
            elif kind is Return:
                self.handle_return(message)  # type: ignore[arg-type]
            else:
                self.handle(message)
        except (ProtocolViolation, DecodeError) as exc:
            self.abort(str(exc))
        vat = self.vat
        if vat._queue:
            vat.run_queue()

    def handle(self, message: Message, size: int = 0) -> None:
        """Dispatch one decoded message to its handler."""
        if isinstance(message, Call):
            self.handle_call(message, size)
        elif isinstance(message, Return):
            self.handle_return(message)
        elif isinstance(message, Finish):
            self.handle_finish(message)
        elif isinstance(message, Release):
            self.handle_release(message)
        elif isinstance(message, Resolve):
            self.handle_resolve(message)
        elif isinstance(message, Disembargo):
            self.handle_disembargo(message)
        elif isinstance(message, Bootstrap):
            self.handle_bootstrap(message)
        elif isinstance(message, Abort):
            self.handle_abort(message)
        elif isinstance(message, Unimplemented):
            self.handle_unimplemented(message)
        else:
            self.handle_unknown(message)

    # -- output -----------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Encode ``message`` and queue it for the transport."""
        if not self.open:
            return
        frame = codec.encode_message(message)
        if not self.outgoing:
            self.vat._with_output[self] = None
        self.outgoing.append(frame)
        if self.trace is not None:
            self.trace.append(("send", frame))

    def data_to_send(self) -> bytes:
        """Take every queued outgoing byte."""
        if not self.outgoing:
            return b""
        self.vat._with_output.pop(self, None)
        return self.take_output()

    def take_output(self) -> bytes:
        """Join and clear the queued frames (the vat's bookkeeping is the caller's)."""
        data = b"".join(self.outgoing)
        self.outgoing.clear()
        return data

    def abort(self, reason: str) -> None:
        """We break off the connection because of ``reason`` (a protocol violation)."""
        if not self.open:
            return
        self.send(Abort(RpcException(reason, ExceptionType.FAILED)))
        self.vat.close_connection(
            self, _disconnected(f"connection aborted: {reason}"), by_peer=False
        )

    # -- handlers ---------------------------------------------------------------------------

    def handle_bootstrap(self, msg: Bootstrap) -> None:
        """The peer asks for our bootstrap capability."""
        answer = self._new_answer(msg.question_id, 0, 0)
        answer.is_bootstrap = True
        vat = self.vat
        bootstrap = self.bootstrap_cap if self.bootstrap_cap is not None else vat.bootstrap_cap
        if bootstrap is None:
            vat.settle(
                answer.pending,
                exception=RpcException(
                    "this vat has no bootstrap capability", ExceptionType.FAILED
                ),
            )
            return
        content, caps = vat.cap_content(vat.add_ref(bootstrap))
        vat.settle(answer.pending, results=content, caps=caps)

    def handle_call(self, msg: Call, size: int) -> None:
        """The peer calls one of our capabilities."""
        answer = self._new_answer(msg.question_id, msg.interface_id, msg.method_id)
        target = self._target_cap(msg.target)
        caps = self._import_payload(msg.params) if msg.params.cap_table else []
        vat = self.vat
        answer.no_pipelining = msg.no_promise_pipelining
        answer.no_return = msg.only_promise_pipeline
        if msg.send_results_to == _YOURSELF:
            answer.send_results_to_yourself = True
        elif msg.send_results_to != _CALLER:
            # Level 3; C++ aborts on it too ("Unsupported `Call.sendResultsTo`.").
            vat.release_all(caps)
            vat.release(target)
            raise ProtocolViolation(
                f"Call {msg.question_id}: sendResultsTo.thirdParty is not supported (level 3)"
            )
        if self.incoming_call_bytes + size > vat.limits.max_incoming_call_bytes:
            vat.release_all(caps)
            vat.release(target)
            vat.settle(
                answer.pending,
                exception=RpcException(
                    f"too many bytes of calls in flight on this connection "
                    f"(limit {vat.limits.max_incoming_call_bytes})",
                    ExceptionType.OVERLOADED,
                ),
            )
            return
        answer.call_bytes = size
        self.incoming_call_bytes += size
        call = OutgoingCall(
            answer.pending, msg.interface_id, msg.method_id, msg.params.content, caps, size=size
        )
        vat.dispatch(target, call)
        vat.release(target)

    def handle_return(self, msg: Return) -> None:
        """The peer answers one of our questions."""
        question = self.questions.get(msg.answer_id)
        if question is None:
            raise ProtocolViolation(f"Return for unknown question id {msg.answer_id}")
        if question.returned:
            raise ProtocolViolation(f"duplicate Return for question id {msg.answer_id}")
        question.returned = True
        vat = self.vat
        if question.finish_sent:
            # We canceled with releaseResultCaps = true: the peer releases the caps itself.
            self.forget_question(question)
            self.flush_waiting_calls()
            return
        pending = question.pending
        kind = msg.kind
        if pending.tail_redirected:
            if kind != ReturnKind.RESULTS_SENT_ELSEWHERE:
                raise ProtocolViolation(
                    f"Return for tail call {msg.answer_id} must be resultsSentElsewhere, "
                    f"not {kind.name}"
                )
            # The peer keeps the results until our Finish (Note [tail calls] in vat.py).
            question.results_elsewhere = True
            self.flush_waiting_calls()
            return
        if kind == _RESULTS:
            assert msg.results is not None
            caps = self._import_payload(msg.results) if msg.results.cap_table else []
            vat.settle(pending, results=msg.results.content, caps=caps)
        elif kind == ReturnKind.EXCEPTION:
            assert msg.exception is not None
            vat.settle(pending, exception=msg.exception)
        elif kind == ReturnKind.CANCELED:
            raise ProtocolViolation(
                f"Return for question {msg.answer_id} claims the call was canceled, "
                "but we never canceled it"
            )
        elif kind == ReturnKind.RESULTS_SENT_ELSEWHERE:
            raise ProtocolViolation(
                f"Return.resultsSentElsewhere for question {msg.answer_id}, which did not "
                "ask for sendResultsTo.yourself"
            )
        elif kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
            other = self.answers.get(msg.other_question_id)
            if other is None or not other.send_results_to_yourself or other.return_sent:
                raise ProtocolViolation(
                    f"Return.takeFromOtherQuestion names answer {msg.other_question_id}, which "
                    "is not a pending call with sendResultsTo.yourself"
                )
            vat.forward_outcome(other.pending, pending)
            self.send_return(other)
        else:
            raise ProtocolViolation(
                f"unsupported Return kind {kind.name} (level 3) for question {msg.answer_id}"
            )
        question.wants_finish = True
        # rpc.capnp: noFinishNeeded "implies that the results do not contain any capabilities".
        # If they may (a cap table, or results taken from another question), the peer must keep
        # the answer for the Disembargos and pipelined calls that may still name it, so we
        # finish it as usual (a Finish it may silently ignore).
        if msg.no_finish_needed and (
            kind == _EXCEPTION
            or (kind == _RESULTS and msg.results is not None and not msg.results.cap_table)
        ):
            question.finish_sent = True
        self.maybe_finish(question)
        # A returned question no longer counts against max_questions, even before its Finish.
        if self.waiting_calls:
            self.flush_waiting_calls()

    def handle_finish(self, msg: Finish) -> None:
        """The peer is done with (or cancels) one of our answers."""
        answer = self.answers.get(msg.question_id)
        if answer is None or answer.finish_received:
            # Ignored, as C++ does: a peer that does not know Return.noFinishNeeded still sends
            # Finish for an answer we have already forgotten.
            return
        answer.finish_received = True
        vat = self.vat
        if answer.return_sent:
            del self.answers[answer.id]
            if msg.release_result_caps:
                for export_id in answer.result_exports:
                    if export_id not in self.exports:
                        # The peer already released these references with Release (C++ aborts).
                        raise ProtocolViolation(
                            f"Finish {answer.id} releases result export id {export_id}, "
                            "which the peer no longer holds"
                        )
                    self.release_export(export_id, 1)
            vat.release_results(answer.pending)
            return
        # Early cancellation: see Note [answer lifetime].
        vat.cancel_pending(answer.pending)
        self.send_return(answer)

    def handle_release(self, msg: Release) -> None:
        """The peer drops references to one of our exports."""
        export = self.exports.get(msg.id)
        if export is None:
            raise ProtocolViolation(f"Release for unknown export id {msg.id}")
        if msg.reference_count > export.remote_refs:
            raise ProtocolViolation(
                f"Release of {msg.reference_count} references to export {msg.id}, "
                f"which the peer holds only {export.remote_refs} of"
            )
        self.release_export(msg.id, msg.reference_count)

    def handle_resolve(self, msg: Resolve) -> None:
        """A promise the peer exported to us has settled."""
        vat = self.vat
        if msg.cap is not None:
            if msg.cap.kind == CapKind.NONE:
                raise ProtocolViolation(f"Resolve of promise {msg.promise_id} to a null descriptor")
            target: Cap = self.import_cap(msg.cap)
        else:
            assert msg.exception is not None
            target = vat.add_ref(BrokenCap(msg.exception))
        promise = self.promise_imports.get(msg.promise_id)
        if promise is None:
            imp = self.imports.get(msg.promise_id)
            if imp is not None and not imp.is_promise:
                vat.release(target)
                raise ProtocolViolation(f"Resolve for import {msg.promise_id}, not a promise")
            # We released the promise (or all but its raw import, Note [tribble]) while the
            # Resolve was on its way: drop the resolution, as C++ does.
            vat.release(target)
            return
        del self.promise_imports[msg.promise_id]
        vat.resolve_promise(promise, target)

    def handle_disembargo(self, msg: Disembargo) -> None:
        """Reflect a sender-loopback embargo, or lift one of ours (Note [embargos] in vat.py)."""
        if msg.kind == DisembargoKind.SENDER_LOOPBACK:
            cap = self._disembargo_target(msg.target)
            reflected = self._loopback_target(cap)
            if reflected is None:
                raise ProtocolViolation(
                    "Disembargo senderLoopback names a capability that does not point back to "
                    "the sender over this connection"
                )
            embargo_id = msg.embargo_id
            self.vat.later(
                lambda: self.send_disembargo(
                    Disembargo(reflected, DisembargoKind.RECEIVER_LOOPBACK, embargo_id)
                )
            )
        elif msg.kind == DisembargoKind.RECEIVER_LOOPBACK:
            promise = self.embargoes.get(msg.embargo_id)
            if promise is None:
                raise ProtocolViolation(
                    f"Disembargo receiverLoopback for unknown embargo id {msg.embargo_id}"
                )
            self.embargoes.remove(msg.embargo_id)
            self.vat.lift_embargo(promise)
        else:
            self.send(Unimplemented(msg))

    def handle_abort(self, msg: Abort) -> None:
        """The peer is closing the connection."""
        self.vat.close_connection(
            self,
            _disconnected(f"peer aborted the connection: {msg.exception.reason}"),
            by_peer=True,
        )

    def handle_unimplemented(self, msg: Unimplemented) -> None:
        """The peer did not understand something we sent."""
        echoed = msg.message
        if isinstance(echoed, Resolve):
            # The peer will never use the capability the Resolve carried: drop that export.
            cap = echoed.cap
            if cap is not None and cap.kind in (CapKind.SENDER_HOSTED, CapKind.SENDER_PROMISE):
                export = self.exports.get(cap.id)
                if export is not None and export.remote_refs > 0:
                    self.release_export(cap.id, 1)
            return
        if isinstance(echoed, Unknown):
            # An optional (level 3/4) message we passed along: the peer is free to lack it.
            return
        raise ProtocolViolation(
            f"peer could not handle our {type(echoed).__name__} message, which it must support"
        )

    def handle_unknown(self, msg: Message) -> None:
        """Echo what we do not implement, as the protocol asks."""
        self.send(Unimplemented(msg))

    # -- tables -----------------------------------------------------------------------------

    def _new_answer(self, answer_id: int, interface_id: int, method_id: int) -> Answer:
        if answer_id in self.answers:
            raise ProtocolViolation(f"question id {answer_id} is already in use")
        pending = self.vat.new_pending(interface_id, method_id)
        answer = Answer(self, answer_id, pending)
        pending.answer = answer
        self.answers[answer_id] = answer
        return answer

    def _target_cap(self, target: MessageTarget) -> Cap:
        """The capability a Call or Disembargo names, with a reference for the caller."""
        vat = self.vat
        if target.import_id is not None:
            export = self.exports.get(target.import_id)
            if export is None:
                raise ProtocolViolation(f"message targets unknown export id {target.import_id}")
            return vat.add_ref(export.cap)
        pa = target.promised_answer
        assert pa is not None
        return self._answer_pipeline(pa)

    def _answer_pipeline(self, pa: PromisedAnswer) -> Cap:
        """The capability a promisedAnswer names (a new reference)."""
        vat = self.vat
        answer = self.answers.get(pa.question_id)
        if answer is None or answer.finish_received:
            # Not an abort: with noFinishNeeded we may have forgotten an answer the peer is
            # still pipelining on (C++ answers such calls with this same error).
            return vat.add_ref(
                BrokenCap(
                    RpcException(
                        "Pipeline call on a request that returned no capabilities or was "
                        "already closed."
                    )
                )
            )
        if answer.no_pipelining:
            return vat.add_ref(
                BrokenCap(
                    RpcException(
                        "caller specified noPromisePipelining hint, but then tried to pipeline"
                    )
                )
            )
        return vat.pipeline_cap(answer.pending, pa.transform)

    def _reflect(self, cap: Cap) -> Cap:
        """Wrap a capability the peer named that points back to the peer (Note [tribble])."""
        end = self.vat._remote_end(cap)
        if end is not None and end[0] is self:
            return self.vat.reflector(cap)  # the wrapper takes over our reference
        return cap

    def _disembargo_target(self, target: MessageTarget) -> Cap:
        """The capability a senderLoopback Disembargo names, as recorded (not a new ref)."""
        if target.import_id is not None:
            export = self.exports.get(target.import_id)
            if export is None:
                raise ProtocolViolation(f"Disembargo targets unknown export id {target.import_id}")
            return export.cap
        pa = target.promised_answer
        assert pa is not None
        answer = self.answers.get(pa.question_id)
        if answer is None or not answer.pending.done or answer.pending.exception is not None:
            raise ProtocolViolation(
                f"Disembargo targets answer {pa.question_id}, which has no results"
            )
        cap = self.vat.cap_at(answer.pending, pa.transform)
        self.vat.release(cap)
        return cap

    def _loopback_target(self, cap: Cap) -> MessageTarget | None:
        """Where a reflected Disembargo goes: ``cap``'s target on this connection, if any."""
        while isinstance(cap, PromiseCap) and cap.resolved is not None:
            cap = cap.resolved
        if isinstance(cap, ImportCap) and cap.connection is self:
            return cap.target
        if (
            isinstance(cap, PipelineCap)
            and cap.question.connection is self
            and not cap.question.returned
        ):
            return cap.target
        return None

    def release_export(self, export_id: int, count: int) -> None:
        """Drop ``count`` of the peer's references to an export."""
        export = self.exports.get(export_id)
        if export is None:
            return
        export.remote_refs -= count
        if export.remote_refs <= 0:
            self.exports.remove(export_id)
            if self.exports_by_cap.get(export.cap) == export_id:
                del self.exports_by_cap[export.cap]
            self.vat.release(export.cap)

    def import_cap(self, desc: CapDescriptor) -> Cap:
        """Turn a received descriptor into a capability reference (owned by the caller)."""
        vat = self.vat
        kind = desc.kind
        if kind == CapKind.SENDER_HOSTED or kind == CapKind.SENDER_PROMISE:
            imp = self.imports.get(desc.id)
            if imp is None:
                imp = ImportCap(self, desc.id)
                self.imports[desc.id] = imp
            imp.remote_refs += 1
            if kind == CapKind.SENDER_PROMISE:
                imp.is_promise = True
                promise = self.promise_imports.get(desc.id)
                if promise is None:
                    promise = PromiseCap(vat.add_ref(imp))
                    self.promise_imports[desc.id] = promise
                    return vat.add_ref(promise)
                return vat.add_ref(promise)
            if desc.id in self.promise_imports:
                raise ProtocolViolation(
                    f"senderHosted names import {desc.id}, which was sent as a promise"
                )
            return vat.add_ref(imp)
        if kind == CapKind.RECEIVER_HOSTED:
            export = self.exports.get(desc.id)
            if export is None:
                # C++ makes this a broken capability rather than an abort; so do we.
                return vat.add_ref(
                    BrokenCap(RpcException(f"invalid 'receiverHosted' export id {desc.id}"))
                )
            return self._reflect(vat.add_ref(export.cap))
        if kind == CapKind.RECEIVER_ANSWER:
            pa = desc.promised_answer
            assert pa is not None
            return self._reflect(self._answer_pipeline(pa))
        if kind == CapKind.NONE:
            return vat.add_ref(vat.null)
        raise ProtocolViolation(f"unsupported capability descriptor {kind.name} (level 3)")

    def _import_payload(self, payload: Payload) -> list[Cap]:
        if not payload.cap_table:
            return []  # the content's message keeps its empty table
        caps: list[Cap] = []
        try:
            for desc in payload.cap_table:
                caps.append(self.import_cap(desc))
        except ProtocolViolation:
            self.vat.release_all(caps)
            raise
        content = payload.content
        if content is not None:
            content.message.caps = caps  # type: ignore[attr-defined]
        return caps

    def describe(self, cap: Cap) -> CapDescriptor:
        """Describe ``cap`` to the peer, exporting it if needed (Note [cap kinds] in caps.py)."""
        vat = self.vat
        cap = vat.innermost(cap, self)
        if isinstance(cap, BrokenCap) and cap.is_null:
            return CapDescriptor(CapKind.NONE)
        if isinstance(cap, ImportCap) and cap.connection is self and cap.broken is None:
            return CapDescriptor(CapKind.RECEIVER_HOSTED, cap.import_id)
        if (
            isinstance(cap, PipelineCap)
            and cap.question.connection is self
            and (not cap.question.returned or cap.question.results_elsewhere)
        ):
            return CapDescriptor(
                CapKind.RECEIVER_ANSWER,
                promised_answer=PromisedAnswer(cap.question.id, cap.path),
            )
        export_id = self.exports_by_cap.get(cap)
        if export_id is not None:
            export = self.exports.get(export_id)
            assert export is not None
            export.remote_refs += 1
            kind = _SENDER_PROMISE if export.is_promise else _SENDER_HOSTED
            return CapDescriptor(kind, export_id)
        if len(self.exports) >= vat.limits.max_exports:
            raise ExportLimitReached
        is_promise = isinstance(cap, PromiseCap) and (cap.resolved is None or cap.embargoed)
        export = Export(vat.add_ref(cap), is_promise)
        export.remote_refs = 1
        export_id = self.exports.add(export)
        self.exports_by_cap[cap] = export_id
        if is_promise:
            vat.watch_export(self, export_id, cap)
            return CapDescriptor(_SENDER_PROMISE, export_id)
        return CapDescriptor(_SENDER_HOSTED, export_id)

    def describe_all(
        self, caps: Sequence[Cap | None]
    ) -> tuple[tuple[CapDescriptor, ...], list[int]]:
        """Descriptors for a payload's caps and the export ids they hold (for Finish)."""
        if not caps:
            return (), []
        descs: list[CapDescriptor] = []
        exports: list[int] = []
        try:
            for cap in caps:
                if cap is None:  # a dropped entry of the builder's cap table
                    descs.append(CapDescriptor(CapKind.NONE))
                    continue
                desc = self.describe(cap)
                descs.append(desc)
                if desc.kind in _EXPORTED:
                    exports.append(desc.id)
        except ExportLimitReached:
            for export_id in exports:
                self.release_export(export_id, 1)
            raise
        return tuple(descs), exports

    # -- sending ----------------------------------------------------------------------------

    def send_call(self, call: OutgoingCall, target: MessageTarget) -> None:
        """Ask a question: send ``call`` to ``target`` on this connection."""
        if self.waiting_calls or self._questions_full():
            self.waiting_calls.append((call, target, self._pin(target)))
            return
        self._ask(call, target)

    def _questions_full(self) -> bool:
        """Whether max_questions questions await their Return (Note [limits])."""
        limit = self.vat.limits.max_questions
        if self.questions.size() < limit:
            return False
        # Returned questions kept for a Finish (pinned pipelines) do not count; counting them
        # could deadlock a call waiting to go out through one of them.
        return sum(1 for _, q in self.questions.items() if not q.returned) >= limit

    def _pin(self, target: MessageTarget) -> Cap | None:
        """A new reference to the raw import or pipeline ``target`` names, if we hold one."""
        cap: Cap | None
        if target.import_id is not None:
            cap = self.imports.get(target.import_id)
        else:
            pa = target.promised_answer
            assert pa is not None
            question = self.questions.get(pa.question_id)
            cap = question.pipeline_caps.get(pa.transform) if question is not None else None
        return self.vat.add_ref(cap) if cap is not None else None

    def _ask(self, call: OutgoingCall, target: MessageTarget) -> None:
        vat = self.vat
        pending = call.pending
        if pending.done:
            # Canceled while it waited for a question id: it never goes out.
            vat.release_all(call.caps)
            return
        try:
            descs = self.describe_all(call.caps)[0] if call.caps else ()
        except ExportLimitReached:
            vat.release_all(call.caps)
            vat.settle(pending, exception=_export_limit(vat.limits.max_exports))
            return
        question = Question(self, pending)
        question.id = self.questions.add(question)
        pending.question = question
        send_to = _YOURSELF if pending.tail_redirected else _CALLER
        # Positional: a dataclass takes keywords markedly slower.
        self.send(
            Call(
                question.id,
                target,
                call.interface_id,
                call.method_id,
                Payload(call.content, descs),
                send_to,
            )
        )
        if call.caps:
            vat.release_all(call.caps)
        if pending.pipeline:
            vat.attach_pipeline(pending, question)

    def send_bootstrap(self, pending: PendingCall) -> None:
        """Ask the peer for its bootstrap capability."""
        question = Question(self, pending)
        question.id = self.questions.add(question)
        pending.question = question
        self.send(Bootstrap(question.id))
        self.vat.attach_pipeline(pending, question)

    def send_disembargo(self, msg: Disembargo) -> None:
        """Send ``msg``, behind any calls still waiting for a question (E-order)."""
        if self.waiting_calls:
            self.waiting_calls.append((msg, msg.target, self._pin(msg.target)))
        else:
            self.send(msg)

    def flush_waiting_calls(self) -> None:
        """Send calls that waited for a free question id, in order."""
        while (
            self.open
            and self.waiting_calls
            and (isinstance(self.waiting_calls[0][0], Disembargo) or not self._questions_full())
        ):
            call, target, pinned = self.waiting_calls.pop(0)
            if isinstance(call, Disembargo):
                self.send(call)
            elif (
                isinstance(pinned, PipelineCap)
                and pinned.question.finish_sent
                and not pinned.question.results_elsewhere
            ):
                # The answer came back with noFinishNeeded while the call waited: the peer has
                # forgotten it, so the call goes where the results point instead.
                self.vat.dispatch(pinned, call)
            else:
                self._ask(call, target)  # not send_call: that would queue it behind the rest
            if pinned is not None:
                self.vat.release(pinned)

    def maybe_finish(self, question: Question) -> None:
        """Send Finish once the question is no longer needed (Note [question lifetime])."""
        if not question.wants_finish:
            return
        if not question.finish_sent:
            if question.pipeline_caps:
                return
            question.finish_sent = True
            # Positional (releaseResultCaps, requireEarlyCancellationWorkaround): a dataclass
            # takes keywords markedly slower.
            self.send(Finish(question.id, not question.returned, False))
        if question.returned and self.questions.get(question.id) is question:
            self.forget_question(question)
            if self.waiting_calls:
                self.flush_waiting_calls()

    def forget_question(self, question: Question) -> None:
        """Free ``question``'s id; its call no longer refers to it.

        Dropping the call's link (the question keeps its own, which a pinned pipeline may still
        follow) leaves no reference cycle behind, so a finished call and its results are freed
        as soon as the application drops them, without waiting for the cyclic collector.
        """
        self.questions.remove(question.id)
        pending = question.pending
        if pending.question is question:
            pending.question = None

    def send_return(self, answer: Answer) -> None:
        """Answer the peer's question from ``answer.pending``'s outcome."""
        if answer.return_sent:
            return
        answer.return_sent = True
        self.incoming_call_bytes -= answer.call_bytes
        answer.call_bytes = 0
        vat = self.vat
        pending = answer.pending
        if answer.no_return:
            # onlyPromisePipeline: the caller wants no Return; the answer lives until Finish.
            if answer.finish_received:
                self.answers.pop(answer.id, None)
                vat.release_results(pending)
            return
        msg: Return
        if answer.send_results_to_yourself:
            msg = Return(answer.id, ReturnKind.RESULTS_SENT_ELSEWHERE, release_param_caps=False)
        elif pending.canceled:
            msg = Return(answer.id, ReturnKind.CANCELED, release_param_caps=False)
        elif pending.exception is not None:
            msg = Return(
                answer.id,
                ReturnKind.EXCEPTION,
                exception=pending.exception,
                release_param_caps=False,
            )
        elif pending.take_from_question is not None:
            msg = Return(
                answer.id,
                ReturnKind.TAKE_FROM_OTHER_QUESTION,
                other_question_id=pending.take_from_question,
                release_param_caps=False,
            )
        else:
            try:
                caps = pending.result_caps
                descs, exports = self.describe_all(caps) if caps else ((), [])
            except ExportLimitReached:
                descs, exports = (), []
                msg = Return(
                    answer.id,
                    ReturnKind.EXCEPTION,
                    exception=_export_limit(vat.limits.max_exports),
                    release_param_caps=False,
                )
            else:
                answer.result_exports = exports
                is_bootstrap = answer.pending.interface_id == 0 and answer.is_bootstrap
                # Positional: a dataclass takes keywords markedly slower.
                msg = Return(
                    answer.id,
                    _RESULTS,
                    Payload(pending.results, descs),
                    None,  # exception
                    0,  # other_question_id
                    # C++ leaves the default (true) on a bootstrap Return; match it on the wire.
                    is_bootstrap,  # release_param_caps
                    not descs and not is_bootstrap,  # no_finish_needed
                )

        self.send(msg)
        if msg.no_finish_needed or answer.finish_received:
            self.answers.pop(answer.id, None)
            vat.release_results(pending)

    def send_resolve(self, export_id: int, promise: Cap) -> None:
        """Tell the peer how an exported promise settled."""
        export = self.exports.get(export_id)
        if export is None or export.cap is not promise or not self.open:
            return
        vat = self.vat
        target = vat.innermost(promise, self)
        if (
            isinstance(target, PromiseCap)
            and (target.resolved is None or target.embargoed)
            and target not in self.exports_by_cap
        ):
            # Resolved to another local promise nobody has seen: keep the same export id for
            # it and wait (as C++ does), rather than announcing a second promise.
            if self.exports_by_cap.get(promise) == export_id:
                del self.exports_by_cap[promise]
            self.exports_by_cap[target] = export_id
            export.cap = vat.add_ref(target)
            vat.watch_export(self, export_id, target)
            vat.release(promise)
            return
        if isinstance(target, BrokenCap):
            # A null resolution too: ``Resolve.cap`` must not be ``none`` (peers abort on it).
            self.send(Resolve(export_id, exception=target.exception))
        else:
            try:
                desc = self.describe(target)
            except ExportLimitReached:
                exception = _export_limit(vat.limits.max_exports)
                self.send(Resolve(export_id, exception=exception))
                # What the peer now sees; recording it also stops a second Resolve (a promise
                # exported, released and exported again has a waiter from each time).
                target = BrokenCap(exception)
            else:
                self.send(Resolve(export_id, cap=desc))
        # Keep the raw resolution for Disembargo reflection (Note [tribble] in vat.py).
        if self.exports_by_cap.get(promise) == export_id:
            del self.exports_by_cap[promise]
        export.cap = vat.add_ref(target)
        vat.release(promise)

    def send_release(self, imp: ImportCap) -> None:
        """We hold no more references to an import: give back what the peer counted."""
        if self.imports.get(imp.import_id) is imp:
            del self.imports[imp.import_id]
            if self.open and imp.remote_refs > 0:
                self.send(Release(imp.import_id, imp.remote_refs))
            imp.remote_refs = 0


def _disconnected(reason: str) -> RpcException:
    return RpcException(reason, ExceptionType.DISCONNECTED)


def _export_limit(limit: int) -> RpcException:
    return RpcException(
        f"too many capabilities exported on this connection (limit {limit})",
        ExceptionType.OVERLOADED,
    )
