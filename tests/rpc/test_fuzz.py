"""Fuzzing the protocol core.

(a) Hostile bytes -- random data and mutated valid frames -- fed to a vat: it may abort the
connection, but nothing escapes ``receive_data``.

(b) A random peer that speaks well-formed RPC to a vat that is busy with its own calls. The peer
keeps a model of the protocol state as seen from its side of the wire (questions both ways,
exports both ways, embargos) and checks every message the vat sends against it: ids the vat
uses must be live, Release may only return references it was given, a Return answers an open
question once, and so on. After every step the vat's tables must agree with the model; when the
connection closes, every call that was waiting on it must have failed with ``disconnected``.
Messages the model knows to be valid must never make the vat abort; ones it knows to be
violations always must.
"""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError
from capnrpc_core.rpc import (
    Cap,
    ExceptionType,
    PendingCall,
    RpcException,
    RpcLimits,
)
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import (
    Abort,
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    Finish,
    Message,
    MessageTarget,
    Payload,
    PromisedAnswer,
    Release,
    Resolve,
    Return,
    ReturnKind,
    SendResultsTo,
    Unimplemented,
    Unknown,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import FrameDecoder, encode_frame
from capnrpc_core.wire.reader import MessageReader
from tests.rpc.harness import (
    CALL_BACK,
    ECHO,
    FAIL,
    GET_SELF,
    HOLD,
    IFACE,
    MAKE_NEW,
    RECORD,
    TestServer,
    as_struct,
    decode_all,
    frame,
    params,
    table_sizes,
    tables_empty,
)
from tests.rpc.test_violations import Wire, hosted, payload

# CAPNRPC_FUZZ_EXAMPLES=20000 runs a long bug hunt instead of the quick default.
EXAMPLES = int(os.environ.get("CAPNRPC_FUZZ_EXAMPLES", "300"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def assert_closed_cleanly(fv: Wire, out: list[Message], *, aborted: bool = True) -> None:
    """The vat closed its connection the way Note [violations] says.

    Unless the peer closed it (or the application did, ``aborted=False``), the vat must have
    sent an Abort with a reason.
    """
    assert len(fv.closed) == 1, fv.closed
    closed = fv.closed[0]
    assert closed.exception is not None and closed.exception.reason
    assert closed.exception.type == ExceptionType.DISCONNECTED
    if not closed.by_peer and aborted:
        assert out and isinstance(out[-1], Abort), out
        assert out[-1].exception.reason
    assert tables_empty(fv.conn), table_sizes(fv.conn)


def cap_payload(desc: CapDescriptor) -> Payload:
    """A payload whose content is a capability pointer to ``desc`` (a bootstrap's results)."""
    builder = MessageBuilder()
    builder.root().set_capability(object())
    builder.caps.clear()
    return Payload(builder.root().as_reader(), (desc,))


def unknown_frame(which: int) -> bytes:
    """A message of a kind this core does not implement (join = 12, ...)."""
    builder = MessageBuilder()
    root = builder.init_root(1, 1)
    root.set_int(struct.Struct("<H"), 0, which)
    root.init_struct(0, 1, 1).set_text(0, "level 3")
    return encode_frame(builder.segments())


def _seed_messages() -> list[bytes]:
    imp = MessageTarget(import_id=0)
    pa = MessageTarget(promised_answer=PromisedAnswer(0, (0,)))
    messages: list[Message] = [
        Bootstrap(0),
        Call(1, imp, IFACE, ECHO, payload(3, hosted(5), text="t")),
        Call(2, pa, IFACE, RECORD, payload(4, text="t")),
        Call(3, imp, IFACE, HOLD, payload(5, hosted(5), hosted(6))),
        Return(0, ReturnKind.RESULTS, payload(1, hosted(5))),
        Return(0, ReturnKind.EXCEPTION, exception=RpcException("no", ExceptionType.OVERLOADED)),
        Finish(1, release_result_caps=False),
        Finish(3),
        Release(0, 1),
        Resolve(5, cap=CapDescriptor(CapKind.SENDER_HOSTED, 9)),
        Resolve(5, exception=RpcException("broken")),
        Disembargo(imp, DisembargoKind.SENDER_LOOPBACK, 0),
        Disembargo(pa, DisembargoKind.RECEIVER_LOOPBACK, 0),
        Abort(RpcException("bye")),
        Unimplemented(Bootstrap(0)),
    ]
    return [*(frame(m) for m in messages), unknown_frame(12)]


# -- (a) hostile bytes ------------------------------------------------------------------------

SEEDS = _seed_messages()


def _answered(frames: FrameDecoder, chunk: bytes) -> set[int]:
    """The question ids that Returns among the whole frames ``chunk`` completes answer."""
    answered = set()
    try:
        complete = frames.feed(chunk)
    except DecodeError:
        return answered
    for segments in complete:
        try:
            message = decode_message(MessageReader(segments))
        except DecodeError:
            continue
        if isinstance(message, Return):
            answered.add(message.answer_id)
    return answered


def feed_hostile(chunks: list[bytes]) -> None:
    """Feed ``chunks`` to a vat that has questions of its own in flight."""
    fv = Wire()
    boot = fv.vat.bootstrap(fv.conn)
    call = fv.vat.call(boot, IFACE, HOLD, params(1))
    fv.out()
    question_id = call.question.id  # type: ignore[union-attr]
    # The same stream, framed and decoded on the side: which questions the peer answered.
    frames = FrameDecoder()
    answered = False
    for chunk in chunks:
        answered = answered or question_id in _answered(frames, chunk)
        out = fv.send_bytes(chunk)  # nothing may escape from here
        if not fv.conn.open:
            assert_closed_cleanly(fv, out)
            # Still pending when the connection closed: it fails as disconnected. A Return in
            # the same bytes, before what aborted, may have settled it first.
            assert call.done
            if not answered:
                assert call.exception is not None
                assert call.exception.type == ExceptionType.DISCONNECTED
            assert fv.send_bytes(chunk) == []
            return
        assert not fv.closed
        assert not any(isinstance(m, Abort) for m in out)


@FAST
@given(st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=4))
def test_random_bytes_only_abort(chunks: list[bytes]) -> None:
    feed_hostile(chunks)


@st.composite
def mutated_frames(draw: st.DrawFn) -> list[bytes]:
    frames = draw(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=5))
    out = []
    for data in frames:
        buf = bytearray(data)
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(buf) - 1))
            if draw(st.booleans()):
                buf[at] = draw(st.integers(0, 255))
            else:
                buf[at] ^= 1 << draw(st.integers(0, 7))
        if draw(st.integers(0, 9)) == 0:
            buf = buf[: draw(st.integers(0, len(buf)))]
        out.append(bytes(buf))
    # Split the stream at arbitrary points, as a transport would.
    stream = b"".join(out)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=3)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    return [p for p in pieces if p] or [stream]


@FAST
@given(mutated_frames())
def test_mutated_frames_only_abort(chunks: list[bytes]) -> None:
    feed_hostile(chunks)


def test_seeds_are_well_formed_messages() -> None:
    """Mutation starts from real messages, so that it reaches past the decoder."""
    for seed in SEEDS:
        (message,) = decode_all(seed)
        assert frame(message) == seed or isinstance(message, Unknown)


# -- (b) a random well-formed peer ------------------------------------------------------------


@dataclass
class Asked:
    """A question asked by one side, as the other side tracks it."""

    returned: bool = False
    finished: bool = False
    yourself: bool = False
    only_pipeline: bool = False
    bootstrap: bool = False
    # The vat's Finish went out before the Return: the vat will not import its caps.
    canceled: bool = False
    result_exports: list[int] = field(default_factory=list)


class WireModel:
    """The protocol state seen from the peer's end, and the checks on what the vat sends."""

    def __init__(self) -> None:
        self.peer_asked: dict[int, Asked] = {}  # peer's questions = vat's answers
        self.vat_asked: dict[int, Asked] = {}  # vat's questions
        self.peer_exports: dict[int, int] = {}  # peer export id -> refs the vat holds
        self.peer_promises: set[int] = set()  # peer promises not yet resolved
        self.vat_exports: dict[int, int] = {}  # vat export id -> refs the peer holds
        self.vat_promises: set[int] = set()  # vat promise exports not yet resolved
        # senderLoopback ids the peer sent, awaiting the reply, with the import it must target.
        self.loopbacks: dict[int, int | None] = {}
        # Promise exports the vat resolved to one of the peer's own objects (receiverHosted).
        self.reflected: dict[int, int] = {}
        self.next_embargo = 1000
        self.vat_embargoes: set[int] = set()  # senderLoopback ids the vat sent
        self.next_question = 0
        self.next_export = 100  # well apart from the vat's ids, to catch mix-ups

    # -- what the peer sends ------------------------------------------------------------------

    def peer_descriptors(self, descs: tuple[CapDescriptor, ...], counted: bool) -> bool | None:
        """Account for descriptors the peer sends; whether they are valid (None: unsure)."""
        valid: bool | None = True
        if not counted:
            return True  # the vat drops them unread (a Return for a canceled question)
        for d in descs:
            if d.kind == CapKind.THIRD_PARTY_HOSTED:
                return False
            if d.kind in (CapKind.SENDER_HOSTED, CapKind.SENDER_PROMISE):
                self.peer_exports[d.id] = self.peer_exports.get(d.id, 0) + 1
                if d.kind == CapKind.SENDER_PROMISE:
                    self.peer_promises.add(d.id)
                elif d.id in self.peer_promises:
                    valid = None  # senderHosted for an import known as a promise
        return valid

    def peer_sends(self, msg: Message) -> bool | None:
        """Update the model for a message the peer sends; True if valid, False if a violation."""
        if isinstance(msg, (Bootstrap, Call)):
            if msg.question_id in self.peer_asked:
                return False
            asked = Asked()
            if isinstance(msg, Call):
                if msg.target.import_id is not None and msg.target.import_id not in (
                    self.vat_exports
                ):
                    return False
                asked.yourself = msg.send_results_to == SendResultsTo.YOURSELF
                asked.only_pipeline = msg.only_promise_pipeline
                valid = self.peer_descriptors(msg.params.cap_table, True)
                if valid is False:
                    return False
            else:
                valid = True
            self.peer_asked[msg.question_id] = asked
            return valid
        if isinstance(msg, Return):
            q = self.vat_asked.get(msg.answer_id)
            if q is None or q.returned:
                return False
            if not q.canceled:
                if q.yourself and msg.kind != ReturnKind.RESULTS_SENT_ELSEWHERE:
                    return False
                if msg.kind in (ReturnKind.CANCELED, ReturnKind.AWAIT_FROM_THIRD_PARTY):
                    return False
                if msg.kind == ReturnKind.RESULTS_SENT_ELSEWHERE and not q.yourself:
                    return False
                if msg.kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
                    other = self.peer_asked.get(msg.other_question_id)
                    if other is None or not other.yourself or other.returned:
                        return False
            valid = True
            if msg.kind == ReturnKind.RESULTS:
                assert msg.results is not None
                valid = self.peer_descriptors(msg.results.cap_table, not q.canceled)
                if valid is False:
                    return False
            q.returned = True
            no_caps = msg.kind == ReturnKind.EXCEPTION or (
                msg.kind == ReturnKind.RESULTS
                and msg.results is not None
                and not msg.results.cap_table
            )
            if msg.no_finish_needed and not q.yourself and not q.canceled and no_caps:
                q.finished = True
            self._forget_vat_question(msg.answer_id)
            return valid
        if isinstance(msg, Finish):
            a = self.peer_asked.get(msg.question_id)
            if a is None or a.finished:
                return True
            if a.returned and msg.release_result_caps:
                for export_id in a.result_exports:
                    if export_id not in self.vat_exports:
                        return False  # released twice: once by Release, once by Finish
                    self._peer_released(export_id, 1)
            a.finished = True
            if a.returned or a.only_pipeline:
                del self.peer_asked[msg.question_id]
            return True
        if isinstance(msg, Release):
            held = self.vat_exports.get(msg.id, 0)
            if msg.reference_count > held or held == 0:
                return False
            self._peer_released(msg.id, msg.reference_count)
            return True
        if isinstance(msg, Resolve):
            if msg.cap is not None and msg.cap.kind == CapKind.NONE:
                return False
            if msg.promise_id in self.peer_exports and msg.promise_id not in self.peer_promises:
                return None  # a non-promise import (or one resolved before): C++ differs
            valid = self.peer_descriptors((msg.cap,), True) if msg.cap is not None else True
            self.peer_promises.discard(msg.promise_id)
            return valid
        if isinstance(msg, Disembargo):
            if msg.kind == DisembargoKind.RECEIVER_LOOPBACK:
                if msg.embargo_id not in self.vat_embargoes:
                    return False
                self.vat_embargoes.discard(msg.embargo_id)
                return True
            target = msg.target.import_id
            if target is not None and target not in self.vat_exports:
                return False
            back = self.reflected.get(target) if target is not None else None
            self.loopbacks[msg.embargo_id] = back
            # Otherwise whether it points back to the peer depends on the vat's objects.
            return True if back is not None else None
        if isinstance(msg, Unknown):
            return True  # echoed back as unimplemented
        if isinstance(msg, Unimplemented):
            echoed = msg.message
            if not isinstance(echoed, Resolve):
                return False
            cap = echoed.cap
            if (
                cap is not None
                and cap.kind in (CapKind.SENDER_HOSTED, CapKind.SENDER_PROMISE)
                and self.vat_exports.get(cap.id, 0) > 0
            ):
                self._peer_released(cap.id, 1)
            return True
        return None

    def owed_to_finish(self, export_id: int) -> int:
        """References to ``export_id`` that Finish(releaseResultCaps) of returned answers frees."""
        return sum(
            a.result_exports.count(export_id)
            for a in self.peer_asked.values()
            if a.returned and not a.finished
        )

    def _peer_released(self, export_id: int, count: int) -> None:
        left = self.vat_exports[export_id] - count
        if left > 0:
            self.vat_exports[export_id] = left
        else:
            del self.vat_exports[export_id]
            self.vat_promises.discard(export_id)
            self.reflected.pop(export_id, None)

    def _forget_vat_question(self, qid: int) -> None:
        q = self.vat_asked[qid]
        if q.returned and q.finished:
            del self.vat_asked[qid]

    # -- what the vat sends -------------------------------------------------------------------

    def vat_descriptors(self, descs: tuple[CapDescriptor, ...]) -> list[int]:
        exported = []
        for d in descs:
            if d.kind in (CapKind.SENDER_HOSTED, CapKind.SENDER_PROMISE):
                assert d.id < self.next_export, "vat export ids are the vat's own small ids"
                self.vat_exports[d.id] = self.vat_exports.get(d.id, 0) + 1
                if d.kind == CapKind.SENDER_PROMISE:
                    self.vat_promises.add(d.id)
                else:
                    assert d.id not in self.vat_promises, f"export {d.id} changed kind"
                exported.append(d.id)
            elif d.kind == CapKind.RECEIVER_HOSTED:
                assert self.peer_exports.get(d.id, 0) > 0, f"receiverHosted {d.id}: not held"
            elif d.kind == CapKind.RECEIVER_ANSWER:
                assert d.promised_answer is not None
                self.check_vat_pipeline(d.promised_answer.question_id)
            else:
                assert d.kind == CapKind.NONE, d
        return exported

    def check_vat_pipeline(self, qid: int) -> None:
        q = self.vat_asked.get(qid)
        # Returned is fine until the Finish: the peer keeps the answer for pipelining till then.
        assert q is not None and not q.finished, f"vat names question {qid}, which is not open"

    def check_vat_target(self, target: MessageTarget) -> None:
        if target.import_id is not None:
            assert self.peer_exports.get(target.import_id, 0) > 0, target
        else:
            assert target.promised_answer is not None
            self.check_vat_pipeline(target.promised_answer.question_id)

    def vat_sends(self, msg: Message) -> None:
        """Check a message the vat sent and update the model."""
        if isinstance(msg, (Bootstrap, Call)):
            assert msg.question_id not in self.vat_asked, f"question id {msg.question_id} reused"
            q = Asked()
            if isinstance(msg, Call):
                self.check_vat_target(msg.target)
                self.vat_descriptors(msg.params.cap_table)
                q.yourself = msg.send_results_to == SendResultsTo.YOURSELF
                assert not msg.only_promise_pipeline
            else:
                q.bootstrap = True
            self.vat_asked[msg.question_id] = q
        elif isinstance(msg, Return):
            a = self.peer_asked.get(msg.answer_id)
            assert a is not None and not a.returned, f"Return for {msg.answer_id}: not open"
            assert not a.only_pipeline, "onlyPromisePipeline calls get no Return"
            if a.yourself:
                assert msg.kind == ReturnKind.RESULTS_SENT_ELSEWHERE, msg
            elif a.finished:
                assert msg.kind == ReturnKind.CANCELED, msg
            else:
                assert msg.kind in (
                    ReturnKind.RESULTS,
                    ReturnKind.EXCEPTION,
                    ReturnKind.TAKE_FROM_OTHER_QUESTION,
                ), msg
            if msg.kind == ReturnKind.RESULTS:
                assert msg.results is not None
                a.result_exports = self.vat_descriptors(msg.results.cap_table)
                assert not (msg.no_finish_needed and msg.results.cap_table), msg
            elif msg.kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
                other = self.vat_asked.get(msg.other_question_id)
                assert other is not None and other.yourself, msg
            a.returned = True
            if a.finished or msg.no_finish_needed:
                del self.peer_asked[msg.answer_id]
        elif isinstance(msg, Finish):
            q = self.vat_asked.get(msg.question_id)
            assert q is not None and not q.finished, f"Finish for {msg.question_id}: not open"
            assert msg.release_result_caps == (not q.returned), msg
            assert not msg.require_early_cancellation_workaround
            q.finished = True
            q.canceled = not q.returned
            self._forget_vat_question(msg.question_id)
        elif isinstance(msg, Release):
            held = self.peer_exports.get(msg.id, 0)
            assert 0 < msg.reference_count <= held, f"{msg} but the vat holds {held}"
            if held == msg.reference_count:
                del self.peer_exports[msg.id]
                self.peer_promises.discard(msg.id)
            else:
                self.peer_exports[msg.id] = held - msg.reference_count
        elif isinstance(msg, Resolve):
            assert msg.promise_id in self.vat_promises, f"{msg}: not an unresolved promise"
            assert self.vat_exports.get(msg.promise_id, 0) > 0
            self.vat_promises.discard(msg.promise_id)
            if msg.cap is not None:
                assert msg.cap.kind != CapKind.NONE, "Resolve to CapDescriptor.none"
                self.vat_descriptors((msg.cap,))
                if msg.cap.kind == CapKind.RECEIVER_HOSTED:
                    self.reflected[msg.promise_id] = msg.cap.id
        elif isinstance(msg, Disembargo):
            self.check_vat_target(msg.target)
            if msg.kind == DisembargoKind.SENDER_LOOPBACK:
                assert msg.embargo_id not in self.vat_embargoes
                self.vat_embargoes.add(msg.embargo_id)
            else:
                assert msg.kind == DisembargoKind.RECEIVER_LOOPBACK
                assert msg.embargo_id in self.loopbacks, msg
                back = self.loopbacks.pop(msg.embargo_id)
                if back is not None:
                    assert msg.target == MessageTarget(import_id=back), msg
        elif isinstance(msg, Unimplemented):
            assert isinstance(msg.message, Unknown), msg
        else:
            assert isinstance(msg, Abort), msg

    # -- what the vat's tables must look like -------------------------------------------------

    def check_tables(self, fv: Wire) -> None:
        conn = fv.conn
        exports = {i: e.remote_refs for i, e in conn.exports.items()}
        assert exports == self.vat_exports, (exports, self.vat_exports)
        imports = {i: imp.remote_refs for i, imp in conn.imports.items()}
        assert imports == self.peer_exports, (imports, self.peer_exports)
        assert {i for i, _ in conn.questions.items()} == set(self.vat_asked)
        assert set(conn.answers) == set(self.peer_asked), (conn.answers, self.peer_asked)
        # An embargo whose Disembargo still waits behind calls (max_questions) is not sent yet.
        queued = {
            m.embargo_id
            for m, _, _ in conn.waiting_calls
            if isinstance(m, Disembargo) and m.kind == DisembargoKind.SENDER_LOOPBACK
        }
        assert {i for i, _ in conn.embargoes.items()} == self.vat_embargoes | queued


T = TypeVar("T")
TIGHT = RpcLimits(max_questions=2, max_exports=3, max_incoming_call_bytes=1500)
METHODS = [ECHO, GET_SELF, FAIL, HOLD, CALL_BACK, RECORD, MAKE_NEW]
UNKNOWN_KINDS = [7, 9, 10, 11, 12, 14, 99]


class Chooser:
    """The random choices of one run, from a seed, and a log of what was done with them.

    Hypothesis draws the seed and the number of steps; the steps themselves come from a plain
    PRNG, which is a hundred times cheaper per choice than drawing each one from Hypothesis and
    lets a run have hundreds of examples in a few seconds. A failure prints the seed and the
    log of the run, which replays it exactly.
    """

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.log: list[str] = []

    def int(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def bool(self) -> bool:
        return self._random.random() < 0.5

    def rare(self, n: int) -> bool:
        """True about once in ``n`` times."""
        return self._random.random() * n < 1

    def choice(self, options: Iterable[T]) -> T:
        return self._random.choice(list(options))


class RandomPeer:
    """A peer sending random well-formed messages to a vat that makes calls of its own.

    Every input is one step (:meth:`step`) after which the vat's output is checked against
    the :class:`WireModel`, the vat's tables against the model, and a close against
    Note [violations]. Most messages are valid; about one in a hundred is a violation, so that
    runs get deep before they end, and every kind of violation still comes up.
    """

    def __init__(self, r: Chooser, *, tight: bool, streaming: bool = False) -> None:
        self.r = r
        # With ``streaming``, ``hold`` is a streaming method: later calls queue behind it.
        self.fv = Wire(
            limits=TIGHT if tight else None,
            streaming_methods=[(IFACE, HOLD)] if streaming else (),
        )
        self.model = WireModel()
        self.vat = self.fv.vat
        # References the application holds: remote capabilities, and its own objects.
        self.remote: list[Cap] = []
        self.mine: list[Cap] = []
        self.promises: list[Cap] = []  # those of ``mine`` that are unsettled promises
        self.calls: list[PendingCall] = []

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        return self.fv.conn.open

    def waiting_on_conn(self) -> list[PendingCall]:
        """The vat's calls that wait for an answer over the connection."""
        conn = self.fv.conn
        # A question answered with takeFromOtherQuestion waits for a local call instead.
        asked = [
            c
            for c in self.calls
            if not c.done and c.question is not None and not c.question.returned
        ]
        queued = [
            c.pending
            for c, _, _ in conn.waiting_calls
            if not isinstance(c, Disembargo) and not c.pending.done
        ]
        return asked + queued

    def step(
        self,
        action: Callable[[], object] | None,
        msg: Message | None = None,
        raw: bytes | None = None,
        *,
        closing: bool = False,
    ) -> None:
        """Run one input; check the vat's output, its tables and what a close did."""
        if not self.open:
            return
        waiting = self.waiting_on_conn()
        expected: bool | None = None
        if msg is not None:
            self.r.log.append(f"peer: {msg}")
            expected = self.model.peer_sends(msg)
            out = self.fv.send_bytes(raw if raw is not None else frame(msg))
        else:
            assert action is not None
            action()
            self.fv.run()
            out = self.fv.out()
        for sent in out:
            self.r.log.append(f"  vat: {sent}")
            self.model.vat_sends(sent)
        aborted = any(isinstance(m, Abort) for m in out)
        if msg is not None and not isinstance(msg, Abort):
            if expected is True:
                assert not aborted, "the vat aborted on a valid message"
            elif expected is False:
                assert aborted, "the vat let a violation pass"
        if not self.open:
            assert_closed_cleanly(self.fv, out, aborted=not closing)
            for call in waiting:
                assert call.done and call.exception is not None, call
                assert call.exception.type == ExceptionType.DISCONNECTED, call.exception
            assert self.fv.send_bytes(frame(Bootstrap(0))) == []
        else:
            assert not aborted and not self.fv.closed
            self.model.check_tables(self.fv)

    def peer(self, msg: Message) -> None:
        self.step(None, msg)

    def local(self, what: str, action: Callable[[], object]) -> None:
        if self.open:
            self.r.log.append(f"vat: {what}")
            self.step(action)

    def pick(self, known: Iterable[int], *, wild: int = 100) -> int:
        """One of the ``known`` ids, or once in ``wild`` times (or if none) any small id."""
        ids = sorted(known)
        if ids and not self.r.rare(wild):
            return self.r.choice(ids)
        return self.r.int(0, 5)

    def new_question(self) -> int:
        if self.r.rare(100):
            return self.pick(self.model.peer_asked)  # sometimes a duplicate
        self.model.next_question += 1
        return self.model.next_question - 1

    def target(self) -> MessageTarget:
        r, model = self.r, self.model
        if (model.vat_exports and r.bool()) or (not model.peer_asked and r.rare(100)):
            return MessageTarget(import_id=self.pick(model.vat_exports))
        # An unknown or finished answer is fine here: the call fails, nothing aborts.
        qid = self.pick(model.peer_asked, wild=5)
        path = tuple(r.int(0, 1) for _ in range(r.int(0, 2)))
        return MessageTarget(promised_answer=PromisedAnswer(qid, path))

    def descriptor(self) -> CapDescriptor:
        r, model = self.r, self.model
        kind = r.int(0, 9)
        if kind <= 4:
            model.next_export += 1
            k = CapKind.SENDER_HOSTED if kind <= 2 else CapKind.SENDER_PROMISE
            return CapDescriptor(k, model.next_export)
        if kind == 5:
            hosted = set(model.peer_exports) - model.peer_promises
            if hosted:
                return CapDescriptor(CapKind.SENDER_HOSTED, self.pick(hosted))
        elif kind == 6:
            return CapDescriptor(CapKind.RECEIVER_HOSTED, self.pick(model.vat_exports))
        elif kind == 7:
            pa = PromisedAnswer(self.pick(model.peer_asked), (0,))
            return CapDescriptor(CapKind.RECEIVER_ANSWER, promised_answer=pa)
        elif kind == 8 and r.rare(100):
            return CapDescriptor(CapKind.THIRD_PARTY_HOSTED, 0, vine_id=1)
        return CapDescriptor(CapKind.NONE)

    def payload(self) -> Payload:
        descs = [self.descriptor() for _ in range(self.r.int(0, 2))]
        return payload(self.r.int(0, 9), *descs)

    def exception(self) -> RpcException:
        return RpcException(
            self.r.choice(["boom", "remote exception: x"]), self.r.choice(ExceptionType)
        )

    # -- the peer's messages ------------------------------------------------------------------

    def peer_bootstrap(self) -> None:
        if not self.model.vat_exports or self.r.rare(5):
            self.peer(Bootstrap(self.new_question()))

    def peer_call(self) -> None:
        r = self.r
        qid = self.new_question()
        target = self.target()
        self.peer(
            Call(
                qid,
                target,
                IFACE,
                r.choice(METHODS),
                self.payload(),
                send_results_to=SendResultsTo.YOURSELF if r.rare(5) else SendResultsTo.CALLER,
                no_promise_pipelining=r.rare(10),
                only_promise_pipeline=r.rare(10),
            )
        )

    def peer_return(self) -> None:
        r, model = self.r, self.model
        open_ = {i for i, q in model.vat_asked.items() if not q.returned}
        if not open_ and not r.rare(100):
            return
        qid = self.pick(open_)
        q = model.vat_asked.get(qid)
        if q is not None and q.yourself and not r.rare(10):
            kind = ReturnKind.RESULTS_SENT_ELSEWHERE
        elif r.rare(40):
            kind = r.choice(ReturnKind)
        else:
            kind = ReturnKind.RESULTS if r.int(0, 2) else ReturnKind.EXCEPTION
        yourself = {i for i, a in model.peer_asked.items() if a.yourself and not a.returned}
        results = None
        if kind == ReturnKind.RESULTS:
            if q is not None and q.bootstrap and not r.rare(10):
                results = cap_payload(self.descriptor())  # the content is the capability
            else:
                results = self.payload()
        self.peer(
            Return(
                qid,
                kind,
                results=results,
                exception=self.exception() if kind == ReturnKind.EXCEPTION else None,
                other_question_id=self.pick(yourself),
                release_param_caps=r.bool(),
                no_finish_needed=r.rare(4),
            )
        )

    def peer_finish(self) -> None:
        if self.model.peer_asked or self.r.rare(10):
            qid = self.pick(self.model.peer_asked)
            self.peer(Finish(qid, self.r.bool(), self.r.bool()))

    def peer_release(self) -> None:
        r, exports = self.r, self.model.vat_exports
        if not exports and not r.rare(100):
            return
        export_id = self.pick(exports)
        # References owed to a returned answer are given back by its Finish, not by Release.
        held = exports.get(export_id, 1) - self.model.owed_to_finish(export_id)
        if held <= 0 and not r.rare(20):
            return
        count = r.int(1, max(held, 1) + 1) if r.rare(20) or held <= 0 else held
        self.peer(Release(export_id, count))

    def peer_resolve(self) -> None:
        r, model = self.r, self.model
        if not model.peer_promises and not r.rare(20):
            return
        promise_id = self.pick(model.peer_promises)
        how = r.int(0, 3)
        if how == 0:
            self.peer(Resolve(promise_id, exception=self.exception()))
        elif how == 1 and model.vat_exports:
            # Back to one of the vat's own objects: the vat must embargo if it made calls.
            back = CapDescriptor(CapKind.RECEIVER_HOSTED, self.pick(model.vat_exports))
            self.peer(Resolve(promise_id, cap=back))
        else:
            desc = self.descriptor()
            if desc.kind == CapKind.NONE and not r.rare(100):
                desc = CapDescriptor(CapKind.RECEIVER_HOSTED, 0)
            self.peer(Resolve(promise_id, cap=desc))

    def peer_disembargo(self) -> None:
        r, embargoes = self.r, self.model.vat_embargoes
        if embargoes or r.rare(100):
            eid = self.pick(embargoes)
            self.peer(Disembargo(self.target(), DisembargoKind.RECEIVER_LOOPBACK, eid))
        elif self.model.reflected and r.bool():
            # A promise the vat resolved back to us: we embargo it, the vat must reflect.
            export_id = r.choice(self.model.reflected)
            self.model.next_embargo += 1
            eid = self.model.next_embargo
            target = MessageTarget(import_id=export_id)
            self.peer(Disembargo(target, DisembargoKind.SENDER_LOOPBACK, eid))
        elif r.rare(100):
            # Valid only if the target is a promise the vat resolved back to the peer.
            eid = r.int(0, 5)
            self.peer(Disembargo(self.target(), DisembargoKind.SENDER_LOOPBACK, eid))

    def peer_odd(self) -> None:
        """Unknown kinds (echoed), echoes of the vat's Resolves, and rarely an Abort."""
        r, model = self.r, self.model
        if r.rare(100):
            self.peer(Abort(self.exception()))
        elif r.rare(100):
            self.peer(Unimplemented(Finish(self.pick(model.vat_asked))))
        elif r.bool() and model.vat_exports:
            export_id = self.pick(model.vat_exports)
            echoed = Resolve(export_id, cap=CapDescriptor(CapKind.SENDER_HOSTED, export_id))
            self.peer(Unimplemented(echoed))
        else:
            which = r.choice(UNKNOWN_KINDS)
            self.step(None, Unknown(which), unknown_frame(which))

    # -- the vat's own activity ---------------------------------------------------------------

    def held(self, *pools: list[Cap]) -> Cap | None:
        """A capability from the first of ``pools`` that has one (mostly), else from any."""
        full = [p for p in pools if p]
        if not full:
            return None
        pool = full[-1] if len(full) > 1 and self.r.rare(4) else full[0]
        return self.r.choice(pool)

    def new_object(self, name: str) -> Cap:
        """A new local object (one reference, the caller's)."""
        server = TestServer(name)
        cap = self.vat.local_cap(server)
        server.self_cap = cap
        return cap

    def vat_bootstrap(self) -> None:
        if not self.remote or self.r.rare(5):
            self.local("bootstrap", lambda: self.remote.append(self.vat.bootstrap(self.fv.conn)))

    def vat_call(self) -> None:
        """A call on a remote capability (mostly), often passing one of the vat's own."""
        target = self.held(self.remote, self.mine)
        if target is None:
            return
        arg = self.held(self.promises, self.mine, self.remote) if self.r.bool() else None
        method = self.r.choice([ECHO, HOLD, GET_SELF, MAKE_NEW, CALL_BACK])

        def act() -> None:
            p = params(1, self.vat.add_ref(arg) if arg is not None else None)
            self.calls.append(self.vat.call(target, IFACE, method, p))

        self.local(f"call {method} on {target.describe()} with {arg and arg.describe()}", act)

    def vat_pipeline(self) -> None:
        if self.calls:
            call = self.r.choice(self.calls)
            if not call.released:
                cap = lambda: self.remote.append(self.vat.pipeline(call, [0]))  # noqa: E731
                self.local(f"pipeline on {call}", cap)

    def vat_cancel_or_release(self) -> None:
        if self.calls:
            call = self.r.choice(self.calls)
            if self.r.bool():
                self.local(f"cancel {call}", lambda: self.vat.cancel(call))
            else:
                self.local(f"release {call}", lambda: self.vat.release_call(call))

    def vat_take_result_cap(self) -> None:
        if not self.calls:
            return
        call = self.r.choice(self.calls)
        if call.done and call.exception is None and not call.released:
            try:
                cap = as_struct(call.results).get_capability(0)
            except DecodeError:
                return
            if isinstance(cap, Cap):
                self.remote.append(self.vat.add_ref(cap))

    def vat_release_cap(self) -> None:
        pool = self.remote if self.remote and (not self.mine or self.r.bool()) else self.mine
        if pool:
            cap = pool.pop(self.r.int(0, len(pool) - 1))
            if cap in self.promises:
                self.promises.remove(cap)
            self.local(f"release {cap.describe()}", lambda: self.vat.release(cap))

    def vat_answer_held(self) -> None:
        server = self.fv.server
        assert server is not None
        if not server.held:
            return
        delivery = server.held.pop(0)
        if delivery.done:
            return
        how = self.r.int(0, 3)
        cap = self.held(self.promises, self.mine, self.remote)
        vat = self.vat

        def act() -> None:
            if how == 0:
                vat.return_exception(delivery, RpcException("held call failed"))
            elif how == 1 or cap is None:
                vat.return_results(delivery, params(2))
            else:
                vat.return_results(delivery, params(2, vat.add_ref(cap)))

        self.local(f"answer {delivery} ({how})", act)

    def vat_new_local(self) -> None:
        """A new local promise, or a new local object."""
        if len(self.mine) >= 4:
            return
        promise = self.r.bool()

        def act() -> None:
            if promise:
                cap = self.vat.new_promise()
                self.promises.append(cap)
            else:
                cap = self.new_object("mine")
            self.mine.append(cap)

        self.local("new promise" if promise else "new object", act)

    def vat_settle_promise(self) -> None:
        if not self.promises:
            return
        promise = self.promises.pop(self.r.int(0, len(self.promises) - 1))
        how = self.r.int(0, 4)
        target = self.held(self.remote, self.mine)
        vat = self.vat

        def act() -> None:
            if how == 0:
                vat.reject(promise, RpcException("promise broken"))
            elif how == 1:
                vat.resolve(promise, vat.null)
            elif how == 2 or target is None or target is promise:
                local = self.new_object("late")
                vat.resolve(promise, local)
                vat.release(local)
            else:
                vat.resolve(promise, target)

        self.local(f"settle a promise ({how})", act)

    def vat_disconnect(self) -> None:
        if not self.r.rare(40):
            return  # most runs should get deep before they end (the end closes them anyway)
        if self.r.bool():
            self.r.log.append("peer: end of stream")
            self.step(lambda: self.vat.receive_data(self.fv.conn, b""), closing=True)
        else:
            self.r.log.append("vat: disconnect")
            self.step(lambda: self.vat.disconnect(self.fv.conn, "done"), closing=True)

    # -- a whole run --------------------------------------------------------------------------

    ACTIONS: ClassVar[list[tuple[int, str]]] = [
        (3, "peer_bootstrap"),
        (12, "peer_call"),
        (10, "peer_return"),
        (6, "peer_finish"),
        (5, "peer_release"),
        (5, "peer_resolve"),
        (3, "peer_disembargo"),
        (3, "peer_odd"),
        (3, "vat_bootstrap"),
        (12, "vat_call"),
        (4, "vat_pipeline"),
        (3, "vat_cancel_or_release"),
        (4, "vat_take_result_cap"),
        (4, "vat_release_cap"),
        (4, "vat_answer_held"),
        (5, "vat_new_local"),
        (6, "vat_settle_promise"),
        (3, "vat_disconnect"),
    ]

    def run(self, steps: int) -> None:
        names = [name for _, name in self.ACTIONS]
        weights = [weight for weight, _ in self.ACTIONS]
        for _ in range(steps):
            if not self.open:
                break
            (name,) = self.r._random.choices(names, weights)
            getattr(self, name)()
        if self.open:
            # The peer goes away: everything still waiting fails, every table empties.
            waiting = self.waiting_on_conn()
            self.fv.send_bytes(b"")
            for call in waiting:
                assert call.exception is not None
                assert call.exception.type == ExceptionType.DISCONNECTED
            assert tables_empty(self.fv.conn), table_sizes(self.fv.conn)


PEER_RUNS = settings(
    max_examples=3 * EXAMPLES,  # a run of up to 60 steps costs about a millisecond
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@PEER_RUNS
@given(
    seed=st.integers(0, 2**64 - 1),
    steps=st.integers(1, 60),
    tight=st.booleans(),
    streaming=st.booleans(),
)
def test_random_peer(seed: int, steps: int, tight: bool, streaming: bool) -> None:
    r = Chooser(seed)
    try:
        RandomPeer(r, tight=tight, streaming=streaming).run(steps)
    except BaseException:
        note("\n".join(r.log))
        raise
