"""Protocol violations, message by message: hand-built frames fed to one vat.

A peer that breaks the protocol gets one ``Abort`` whose reason names the problem; the vat
closes the connection, every call waiting on it fails with ``disconnected``, the tables are
emptied, and nothing escapes ``receive_data``. Where the C++ reference is lenient (an unknown
Finish, a pipelined call on a forgotten answer, an unknown ``receiverHosted`` id), so are we.

:class:`Wire` -- one vat, one connection, and the test playing the peer -- is shared by the
other message-level test files (test_unimplemented, test_limits, test_streaming, test_fuzz).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import pytest

from capnrpc_core.errors import DecodeError
from capnrpc_core.rpc import (
    CallReturned,
    Cap,
    ConnectionClosed,
    DeliverCall,
    Delivery,
    Event,
    ExceptionType,
    PendingCall,
    RpcException,
    RpcLimits,
    Vat,
)
from capnrpc_core.rpc.caps import LocalCap
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
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import encode_frame
from capnrpc_core.wire.limits import ReadLimits
from tests.rpc.harness import (
    CALL_BACK,
    ECHO,
    GET_SELF,
    HOLD,
    IFACE,
    MAKE_NEW,
    TestServer,
    as_struct,
    decode_all,
    frame,
    params,
    table_sizes,
    tables_empty,
)

U16 = struct.Struct("<H")
BOOT = MessageTarget(import_id=0)  # the bootstrap object, once the peer has asked for it


def on_answer(question_id: int, *path: int) -> MessageTarget:
    """A promisedAnswer target."""
    return MessageTarget(promised_answer=PromisedAnswer(question_id, tuple(path)))


def payload(value: int = 0, *descs: CapDescriptor, text: str | None = None) -> Payload:
    """A P struct for the wire; with descriptors, field ``cap`` points at the first one."""
    content = params(value, text=text)
    if descs:
        content.set_capability(0, object())  # index 0 of the cap table sent beside it
        content.message.caps.clear()
    return Payload(content, tuple(descs))


def hosted(export_id: int) -> CapDescriptor:
    return CapDescriptor(CapKind.SENDER_HOSTED, export_id)


def promise(export_id: int) -> CapDescriptor:
    return CapDescriptor(CapKind.SENDER_PROMISE, export_id)


class Wire:
    """One vat with a test server as bootstrap object and one connection; the test is the peer.

    ``send`` feeds whole messages, ``send_bytes`` raw bytes; both run the deliveries the vat
    asks for (the test server answers at once, except ``hold``) and return the messages the
    vat sent in reply, decoded. A server that cannot read hostile params answers with an
    exception, as a real one would.
    """

    def __init__(
        self,
        *,
        server: bool = True,
        limits: RpcLimits | None = None,
        streaming_methods: Iterable[tuple[int, int]] = (),
    ) -> None:
        self.server = TestServer("bob") if server else None
        bootstrap: object | None = None
        if self.server is not None:
            bootstrap = LocalCap(self.server, frozenset(streaming_methods))
        self.vat = Vat(bootstrap, limits=limits, name="vat")
        if self.server is not None:
            self.server.self_cap = self.vat.bootstrap_cap
        self.conn = self.vat.new_connection("wire")
        self.closed: list[ConnectionClosed] = []
        self.returned: list[PendingCall] = []
        self.events: list[Event] = []  # everything else (DeliveryCanceled, StreamReady, ...)
        self.serve = True  # run deliveries on the test server; False leaves them in ``held``
        self.held: list[Delivery] = []

    def send(self, *messages: Message) -> list[Message]:
        return self.send_bytes(b"".join(frame(m) for m in messages))

    def send_bytes(self, data: bytes) -> list[Message]:
        self.vat.receive_data(self.conn, data)
        self.run()
        return self.out()

    def out(self) -> list[Message]:
        """What the vat has sent since the last look, decoded."""
        return decode_all(self.vat.data_to_send(self.conn))

    def run(self) -> None:
        while (event := self.vat.next_event()) is not None:
            if isinstance(event, DeliverCall):
                if self.serve:
                    self._deliver(event.delivery)
                else:
                    self.held.append(event.delivery)
            elif isinstance(event, CallReturned):
                self.returned.append(event.call)
            elif isinstance(event, ConnectionClosed):
                self.closed.append(event)
            else:
                self.events.append(event)

    def _deliver(self, delivery: Delivery) -> None:
        server = delivery.server
        assert isinstance(server, TestServer)
        try:
            if delivery.method_id == CALL_BACK:
                cap = as_struct(delivery.params).get_capability(0)
                if not isinstance(cap, Cap):
                    raise DecodeError("call_back needs a capability in its params")
            server.handle(self, delivery)  # type: ignore[arg-type]
        except DecodeError as exc:
            if not delivery.done:
                self.vat.return_exception(delivery, RpcException(f"bad params: {exc}"))

    def ask(self) -> tuple[Cap, PendingCall]:
        """The vat bootstraps the peer (question 0) and calls ``hold`` on it (question 1)."""
        cap = self.vat.bootstrap(self.conn)
        call = self.vat.call(cap, IFACE, HOLD, params(1))
        self.run()
        out = self.out()
        assert [type(m) for m in out] == [Bootstrap, Call], out
        return cap, call

    def boot(self) -> None:
        """The peer asks for the bootstrap object with question 0 (export 0) and finishes."""
        out = self.send(Bootstrap(0))
        assert [type(m) for m in out] == [Return], out
        ret = out[0]
        assert isinstance(ret, Return) and ret.results is not None
        assert ret.results.cap_table == (hosted(0),)
        assert self.send(Finish(0, release_result_caps=False)) == []


def assert_aborted(
    wire: Wire,
    out: list[Message],
    reason: str,
    *waiting: PendingCall | Cap,
    before: list[Message] | None = None,
) -> None:
    """The vat aborted with one Abort naming ``reason``, and cleaned up after itself.

    ``waiting`` are calls that were in flight on the connection, and remote capabilities of it:
    the calls failed with ``disconnected``, and so does any new call on the capabilities.
    ``before`` are the messages expected ahead of the Abort (none unless given).
    """
    assert out[:-1] == (before or []), out
    assert out and isinstance(out[-1], Abort), out
    sent = out[-1].exception
    assert reason in sent.reason, sent.reason
    assert sent.type == ExceptionType.FAILED
    assert not wire.conn.open
    assert len(wire.closed) == 1
    closed = wire.closed[0]
    assert not closed.by_peer
    assert closed.exception is not None
    assert closed.exception.type == ExceptionType.DISCONNECTED
    assert reason in closed.exception.reason
    for call in waiting:
        if isinstance(call, Cap):
            call = wire.vat.call(call, IFACE, ECHO, params(1))
        assert call.done, call
        assert call.exception is not None
        assert call.exception.type == ExceptionType.DISCONNECTED, call.exception
        assert reason in call.exception.reason, call.exception.reason
    assert tables_empty(wire.conn), table_sizes(wire.conn)
    # A closed connection ignores whatever else arrives and sends nothing more.
    assert wire.send(Bootstrap(99), Release(0, 1)) == []
    assert wire.send_bytes(b"\xff" * 16) == []
    assert len(wire.closed) == 1


# -- Return ---------------------------------------------------------------------------------


def test_return_for_unknown_question() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Return(7, ReturnKind.RESULTS, payload(1)))
    assert_aborted(wire, out, "Return for unknown question id 7", call, cap)


def test_second_return_after_the_question_is_gone() -> None:
    """The first Return frees the question (Finish goes out); a second one names nothing."""
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Return(1, ReturnKind.RESULTS, payload(5), release_param_caps=False))
    assert out == [
        Finish(1, release_result_caps=False, require_early_cancellation_workaround=False)
    ]
    assert call.done and call.exception is None
    out = wire.send(Return(1, ReturnKind.RESULTS, payload(5)))
    assert_aborted(wire, out, "Return for unknown question id 1", cap)


def test_duplicate_return_for_a_tail_call_question() -> None:
    """A tail-call question stays open after its Return until Finish: a second Return aborts."""
    wire = Wire()
    wire.boot()
    # The peer calls call_back with one of its own objects; the server tail-calls that object,
    # which goes back to the peer with sendResultsTo.yourself (question 0 on our side).
    out = wire.send(Call(1, BOOT, IFACE, CALL_BACK, payload(10, hosted(100))))
    tail, redirect, release = out
    assert isinstance(tail, Call) and tail.send_results_to == SendResultsTo.YOURSELF
    assert tail.target == MessageTarget(import_id=100)
    assert redirect == Return(
        1,
        ReturnKind.TAKE_FROM_OTHER_QUESTION,
        other_question_id=tail.question_id,
        release_param_caps=False,
    )
    # The server dropped the params, the only reference to import 100 (the Call is on its way).
    assert release == Release(100, 1)
    out = wire.send(
        Return(tail.question_id, ReturnKind.RESULTS_SENT_ELSEWHERE, release_param_caps=False)
    )
    assert out == []
    out = wire.send(Return(tail.question_id, ReturnKind.RESULTS_SENT_ELSEWHERE))
    assert_aborted(wire, out, f"duplicate Return for question id {tail.question_id}")


def test_return_canceled_that_we_did_not_ask_for() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Return(1, ReturnKind.CANCELED))
    assert_aborted(wire, out, "claims the call was canceled", call, cap)


def test_return_canceled_after_we_canceled_is_accepted() -> None:
    wire = Wire()
    _cap, call = wire.ask()
    wire.vat.cancel(call)
    assert wire.out() == [
        Finish(1, release_result_caps=True, require_early_cancellation_workaround=False)
    ]
    # Any kind of Return is fine now; its capabilities are not imported (the peer drops them).
    assert wire.send(Return(1, ReturnKind.CANCELED, release_param_caps=False)) == []
    assert wire.conn.open and 1 not in wire.conn.questions
    assert not wire.conn.imports


def test_results_sent_elsewhere_without_send_results_to_yourself() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Return(1, ReturnKind.RESULTS_SENT_ELSEWHERE))
    assert_aborted(wire, out, "did not ask for sendResultsTo.yourself", call, cap)


def test_results_for_a_tail_call_question() -> None:
    """A question sent with sendResultsTo.yourself must come back as resultsSentElsewhere."""
    wire = Wire()
    wire.boot()
    out = wire.send(Call(1, BOOT, IFACE, CALL_BACK, payload(10, hosted(100))))
    tail = out[0]
    assert isinstance(tail, Call)
    out = wire.send(Return(tail.question_id, ReturnKind.RESULTS, payload(3)))
    assert_aborted(wire, out, "must be resultsSentElsewhere")


@pytest.mark.parametrize("other", [5, 1])
def test_take_from_other_question_naming_a_bad_answer(other: int) -> None:
    """Unknown answer 5, or answer 1, which is a plain call (not sendResultsTo.yourself)."""
    wire = Wire()
    wire.serve = False
    cap, call = wire.ask()
    wire.boot()
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload(1))) == []
    out = wire.send(Return(1, ReturnKind.TAKE_FROM_OTHER_QUESTION, other_question_id=other))
    assert_aborted(wire, out, f"names answer {other}", call, cap)
    # The delivery the vat was running for the peer's call was canceled.
    (delivery,) = wire.held
    assert delivery.canceled
    wire.vat.return_results(delivery, params(1))  # a late answer is dropped quietly
    assert wire.out() == []


def test_await_from_third_party_is_not_supported() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Return(1, ReturnKind.AWAIT_FROM_THIRD_PARTY))
    assert_aborted(wire, out, "AWAIT_FROM_THIRD_PARTY", call, cap)


# -- Call and Bootstrap ---------------------------------------------------------------------


@pytest.mark.parametrize("second", ["call", "bootstrap"])
@pytest.mark.parametrize("first", ["call", "bootstrap"])
def test_duplicate_question_id(first: str, second: str) -> None:
    wire = Wire()
    wire.serve = False
    cap, call = wire.ask()
    wire.boot()

    def ask(kind: str) -> Message:
        return Bootstrap(3) if kind == "bootstrap" else Call(3, BOOT, IFACE, HOLD, payload(1))

    out = wire.send(ask(first))
    assert [type(m) for m in out] == ([Return] if first == "bootstrap" else [])
    out = wire.send(ask(second))
    assert_aborted(wire, out, "question id 3 is already in use", call, cap)
    for delivery in wire.held:
        assert delivery.canceled


def test_question_id_may_be_reused_once_the_answer_is_gone() -> None:
    wire = Wire()
    wire.boot()
    for _ in range(2):
        out = wire.send(Call(1, BOOT, IFACE, ECHO, payload(4)))
        (ret,) = out
        assert isinstance(ret, Return) and ret.no_finish_needed
    out = wire.send(Bootstrap(0))  # Finished earlier by boot()
    assert [type(m) for m in out] == [Return]
    assert wire.conn.open


def test_call_to_unknown_export() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Call(0, MessageTarget(import_id=5), IFACE, ECHO, payload(1, hosted(9))))
    assert_aborted(wire, out, "unknown export id 5", call, cap)


def test_call_with_send_results_to_third_party() -> None:
    wire = Wire()
    wire.boot()
    out = wire.send(
        Call(1, BOOT, IFACE, ECHO, payload(1), send_results_to=SendResultsTo.THIRD_PARTY)
    )
    assert_aborted(wire, out, "sendResultsTo.thirdParty")


def test_third_party_hosted_descriptor() -> None:
    wire = Wire()
    wire.boot()
    third = CapDescriptor(CapKind.THIRD_PARTY_HOSTED, vine_id=4)
    out = wire.send(Call(1, BOOT, IFACE, ECHO, payload(1, hosted(100), third)))
    # The first descriptor was imported before the second was refused, and is given back.
    assert_aborted(wire, out, "THIRD_PARTY_HOSTED", before=[Release(100, 1)])


def test_unknown_cap_descriptor_kind() -> None:
    wire = Wire()
    wire.boot()
    data = bytearray(frame(Call(1, BOOT, IFACE, ECHO, payload(1, hosted(100)))))
    # Find the descriptor (kind 1, attachedFd 0xff, id 100) and make its kind 9.
    at = data.index(struct.pack("<HBBI", 1, 0, 0, 100))  # attachedFd 0xff is stored XOR 0xff
    data[at : at + 2] = U16.pack(9)
    out = wire.send_bytes(bytes(data))
    assert_aborted(wire, out, "CapDescriptor has unknown member 9")


# -- Finish, Release ------------------------------------------------------------------------


def test_finish_for_an_unknown_answer_is_ignored() -> None:
    """As in C++: it covers the race with noFinishNeeded, so it is no violation."""
    wire = Wire()
    wire.boot()
    assert wire.send(Finish(42), Finish(0), Finish(0, release_result_caps=False)) == []
    out = wire.send(Call(1, BOOT, IFACE, ECHO, payload(2)))
    (ret,) = out
    assert isinstance(ret, Return) and ret.no_finish_needed
    assert wire.send(Finish(1)) == []  # after noFinishNeeded: ignored
    assert wire.conn.open and not wire.closed


def test_release_of_unknown_export() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Release(3, 1))
    assert_aborted(wire, out, "Release for unknown export id 3", call, cap)


def test_release_of_more_references_than_held() -> None:
    wire = Wire()
    cap, call = wire.ask()
    wire.boot()
    out = wire.send(Release(0, 2))
    assert_aborted(wire, out, "holds only 1", call, cap)
    # The vat dropped its export: the bootstrap object lives on only in the vat itself.
    assert wire.vat.bootstrap_cap is not None and wire.vat.bootstrap_cap.refs == 1


def test_release_after_everything_was_released() -> None:
    wire = Wire()
    wire.boot()
    assert wire.send(Release(0, 1)) == []
    out = wire.send(Release(0, 1))
    assert_aborted(wire, out, "Release for unknown export id 0")


def test_finish_releasing_result_caps_the_peer_already_released() -> None:
    """Release gave back the reference a Return carried; Finish(releaseResultCaps) again."""
    wire = Wire()
    out = wire.send(Bootstrap(0))
    assert isinstance(out[0], Return)
    assert wire.send(Release(0, 1)) == []
    out = wire.send(Finish(0, release_result_caps=True))
    assert_aborted(wire, out, "no longer holds")


# -- Resolve --------------------------------------------------------------------------------


def test_resolve_of_a_non_promise_import() -> None:
    wire = Wire()
    wire.serve = False
    cap, call = wire.ask()
    wire.boot()
    # Import 100 (not a promise) stays alive in the held call's params.
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload(1, hosted(100)))) == []
    out = wire.send(Resolve(100, cap=hosted(101)))
    assert_aborted(
        wire, out, "Resolve for import 100, not a promise", call, cap, before=[Release(101, 1)]
    )


def test_resolve_to_cap_descriptor_none() -> None:
    wire = Wire()
    wire.serve = False
    cap, call = wire.ask()
    wire.boot()
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload(1, promise(100)))) == []
    out = wire.send(Resolve(100, cap=CapDescriptor(CapKind.NONE)))
    assert_aborted(wire, out, "null descriptor", call, cap)


def test_resolve_of_an_unknown_promise_releases_the_capability() -> None:
    """C++ (probed): the resolution is imported and dropped at once."""
    wire = Wire()
    assert wire.send(Resolve(7, cap=hosted(8))) == [Release(8, 1)]
    assert wire.send(Resolve(7, exception=RpcException("gone"))) == []
    assert wire.conn.open and tables_empty(wire.conn)


def test_resolve_of_a_promise_only_a_pinned_raw_import_still_refers_to() -> None:
    """The promise wrapper died but its raw import is pinned in returned results (tribble).

    The peer resolving its promise then is legitimate; the vat drops the resolution.
    """
    wire = Wire()
    wire.boot()
    out = wire.send(Call(1, BOOT, IFACE, ECHO, payload(1, promise(100))))
    (ret,) = out
    assert isinstance(ret, Return) and ret.results is not None
    # Echoed back to the peer as its own promise.
    assert ret.results.cap_table == (CapDescriptor(CapKind.RECEIVER_HOSTED, 100),)
    assert 100 not in wire.conn.promise_imports and 100 in wire.conn.imports
    assert wire.send(Resolve(100, exception=RpcException("later"))) == []
    assert wire.conn.open
    out = wire.send(Finish(1, release_result_caps=False))
    assert out == [Release(100, 1)]
    assert tables_empty(wire.conn) or list(wire.conn.exports.items())  # bootstrap export left


# -- Disembargo -----------------------------------------------------------------------------


def test_receiver_loopback_with_unknown_embargo() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Disembargo(on_answer(0), DisembargoKind.RECEIVER_LOOPBACK, 4))
    assert_aborted(wire, out, "unknown embargo id 4", call, cap)


def test_sender_loopback_on_an_object_that_does_not_point_back() -> None:
    """The bootstrap export is a local object: there is nothing to reflect (C++ probe)."""
    wire = Wire()
    cap, call = wire.ask()
    wire.boot()
    out = wire.send(Disembargo(BOOT, DisembargoKind.SENDER_LOOPBACK, 0))
    assert_aborted(wire, out, "does not point back", call, cap)


def test_sender_loopback_on_an_unknown_export() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Disembargo(MessageTarget(import_id=3), DisembargoKind.SENDER_LOOPBACK, 0))
    assert_aborted(wire, out, "unknown export id 3", call, cap)


def test_sender_loopback_on_an_answer_without_results() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Disembargo(on_answer(6), DisembargoKind.SENDER_LOOPBACK, 0))
    assert_aborted(wire, out, "answer 6", call, cap)


# -- unimplemented echoes of what must be implemented ----------------------------------------


@pytest.mark.parametrize("index", [0, 1])
def test_unimplemented_echo_of_our_bootstrap_or_call(index: int) -> None:
    """As in C++: every message but Resolve is mandatory; a peer that echoes it is broken."""
    wire = Wire()
    cap = wire.vat.bootstrap(wire.conn)
    call = wire.vat.call(cap, IFACE, HOLD, params(1))
    sent = wire.out()
    out = wire.send(Unimplemented(sent[index]))
    name = type(sent[index]).__name__
    assert_aborted(wire, out, f"could not handle our {name}", call)


def test_unimplemented_echo_of_an_echo_does_not_recurse() -> None:
    """An echo whose inner message is another echo (a null pointer reads as one) is decoded
    no deeper than one level: a chain of them used to recurse until RecursionError."""
    wire = Wire()
    _cap, call = wire.ask()
    builder = MessageBuilder()
    builder.init_root(1, 1)  # which = unimplemented, pointer null: reads as another echo
    data = encode_frame(builder.segments())
    assert wire.send_bytes(data * 3) == []
    assert wire.conn.open and not call.done


# -- bad bytes ------------------------------------------------------------------------------


def test_garbage_segment_table() -> None:
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send_bytes(b"\xff" * 16)
    assert_aborted(wire, out, "malformed frame", call, cap)


def test_garbage_inside_a_frame() -> None:
    """A well-framed message whose root pointer points far outside the segment."""
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send_bytes(encode_frame([struct.pack("<Q", 0x0001_0001_7FFF_FFF0)]))
    assert_aborted(wire, out, "out of bounds", call, cap)


def test_frame_over_the_traversal_limit_is_refused_from_its_header() -> None:
    """C++ 'Message is too large': refused before the body is even buffered."""
    wire = Wire()
    cap, call = wire.ask()
    words = 8 * 1024 * 1024 + 1
    out = wire.send_bytes(struct.pack("<II", 0, words))
    assert_aborted(wire, out, "traversal limit", call, cap)


def test_frame_over_max_frame_bytes() -> None:
    wire = Wire(limits=RpcLimits(read=ReadLimits(max_frame_bytes=256)))
    cap, call = wire.ask()
    out = wire.send(Call(0, BOOT, IFACE, ECHO, payload(1, text="x" * 400)))
    assert_aborted(wire, out, "max_frame_bytes", call, cap)


def test_eof_in_the_middle_of_a_frame() -> None:
    """The peer went away: no Abort can be sent; everything fails as disconnected."""
    wire = Wire()
    _cap, call = wire.ask()
    data = frame(Bootstrap(0))
    assert wire.send_bytes(data[:10]) == []
    assert wire.send_bytes(b"") == []
    assert not wire.conn.open
    (closed,) = wire.closed
    assert closed.by_peer and closed.exception is not None
    assert closed.exception.type == ExceptionType.DISCONNECTED
    assert "mid-message" in closed.exception.reason
    assert call.exception is not None and call.exception.type == ExceptionType.DISCONNECTED


def test_abort_from_the_peer() -> None:
    wire = Wire()
    _cap, call = wire.ask()
    out = wire.send(Abort(RpcException("shutting down", ExceptionType.OVERLOADED)))
    assert out == []
    (closed,) = wire.closed
    assert closed.by_peer and closed.exception is not None
    assert "shutting down" in closed.exception.reason
    assert call.exception is not None and call.exception.type == ExceptionType.DISCONNECTED
    assert "shutting down" in call.exception.reason
    assert tables_empty(wire.conn)


# -- lenient cases --------------------------------------------------------------------------


def test_pipelined_call_on_unknown_or_finished_answers_gets_an_error_return() -> None:
    wire = Wire()
    wire.boot()  # answer 0 returned and finished
    reason = "Pipeline call on a request that returned no capabilities or was already closed."
    # Answer 1 returns a plain struct with noFinishNeeded: forgotten at once.
    (ret,) = wire.send(Call(1, BOOT, IFACE, ECHO, payload(1)))
    assert isinstance(ret, Return) and ret.no_finish_needed
    for qid, target in [(2, on_answer(0)), (3, on_answer(9, 0)), (4, on_answer(1, 0))]:
        out = wire.send(Call(qid, target, IFACE, ECHO, payload(1)))
        assert out == [
            Return(
                qid,
                ReturnKind.EXCEPTION,
                exception=RpcException(reason, ExceptionType.FAILED),
                release_param_caps=False,
            )
        ]
    assert wire.conn.open


def test_pipelined_call_before_and_after_finish() -> None:
    """Pipelining works while the answer lives; after its Finish the same target errs."""
    wire = Wire()
    wire.boot()
    out = wire.send(Call(1, BOOT, IFACE, MAKE_NEW, payload()))
    (ret,) = out
    assert isinstance(ret, Return) and ret.results is not None
    assert ret.results.cap_table == (hosted(1),)
    (ret2,) = wire.send(Call(2, on_answer(1, 0), IFACE, GET_SELF, payload()))
    assert isinstance(ret2, Return) and ret2.kind == ReturnKind.RESULTS
    assert wire.send(Finish(1, release_result_caps=True)) == []
    (ret3,) = wire.send(Call(3, on_answer(1, 0), IFACE, GET_SELF, payload()))
    assert isinstance(ret3, Return) and ret3.kind == ReturnKind.EXCEPTION
    assert ret3.exception is not None and "already closed" in ret3.exception.reason


def test_receiver_hosted_with_unknown_id_becomes_a_broken_capability() -> None:
    wire = Wire()
    wire.boot()
    bogus = CapDescriptor(CapKind.RECEIVER_HOSTED, 77)
    # call_back calls the capability it is given: here a broken one.
    out = wire.send(Call(1, BOOT, IFACE, CALL_BACK, payload(1, bogus)))
    (ret,) = out
    assert isinstance(ret, Return) and ret.kind == ReturnKind.EXCEPTION
    assert ret.exception is not None and "invalid 'receiverHosted' export id 77" in (
        ret.exception.reason
    )
    assert wire.conn.open


def test_receiver_answer_naming_an_unknown_answer_becomes_a_broken_capability() -> None:
    wire = Wire()
    wire.boot()
    bogus = CapDescriptor(CapKind.RECEIVER_ANSWER, promised_answer=PromisedAnswer(55, (0,)))
    (ret,) = wire.send(Call(1, BOOT, IFACE, CALL_BACK, payload(1, bogus)))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.EXCEPTION
    assert ret.exception is not None and "already closed" in ret.exception.reason
    assert wire.conn.open


def test_no_finish_needed_with_capabilities_is_finished_anyway() -> None:
    """rpc.capnp: noFinishNeeded implies a result without capabilities. A peer that sets it
    with capabilities still gets a Finish (which it may ignore), so Disembargos and pipelined
    calls that name the answer stay valid until then."""
    wire = Wire()
    wire.ask()
    out = wire.send(Return(1, ReturnKind.RESULTS, payload(1, hosted(100)), no_finish_needed=True))
    assert out == [
        Finish(1, release_result_caps=False, require_early_cancellation_workaround=False)
    ]
    out = wire.send(Return(0, ReturnKind.RESULTS, payload(1), no_finish_needed=True))
    assert out == []  # no capabilities: no Finish
    assert wire.conn.open and len(wire.conn.questions) == 0


def test_no_finish_needed_on_take_from_other_question_is_finished_anyway() -> None:
    """The results taken from another question may hold capabilities, and a promise pipelined
    on the question may still send a Disembargo naming it: the peer must keep the answer."""
    wire = Wire()
    _cap, call = wire.ask()
    wire.boot()
    # The peer has the vat run echo for it and keep the results (sendResultsTo.yourself)...
    assert (
        wire.send(Call(5, BOOT, IFACE, ECHO, payload(9), send_results_to=SendResultsTo.YOURSELF))
        == []
    )
    # ...then answers the vat's question 1 with them.
    out = wire.send(
        Return(1, ReturnKind.TAKE_FROM_OTHER_QUESTION, other_question_id=5, no_finish_needed=True)
    )
    assert out == [
        Return(5, ReturnKind.RESULTS_SENT_ELSEWHERE, release_param_caps=False),
        Finish(1, release_result_caps=False, require_early_cancellation_workaround=False),
    ]
    assert call.done and call.exception is None
    assert as_struct(call.results).get_int(struct.Struct("<Q"), 0) == 9
