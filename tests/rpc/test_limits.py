"""The limits of :class:`RpcLimits`, each pushed past its bound, message by message.

- ``max_questions``: further calls wait in order, and go out as questions return.
- ``max_exports``: the message that would export one too many fails ``overloaded``; no leak.
- ``max_incoming_call_bytes``: calls past it are answered ``overloaded`` without running.
- ``read``: traversal, nesting, segment and frame limits on every received message.
"""

from __future__ import annotations

import struct

from capnrpc_core.rpc import ExceptionType, RpcLimits, ServerReleased
from capnrpc_core.rpc.messages import (
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    Finish,
    MessageTarget,
    Payload,
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import encode_frame
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import ElementSize, list_pointer, struct_pointer
from tests.rpc.harness import ECHO, HOLD, IFACE, MAKE_NEW, RECORD, TestServer, as_struct, params
from tests.rpc.test_violations import (
    BOOT,
    Wire,
    assert_aborted,
    hosted,
    on_answer,
    payload,
)

FINISHED = dict(release_result_caps=False, require_early_cancellation_workaround=False)


def bootstrap_results(desc: CapDescriptor) -> Payload:
    """A bootstrap Return's results: the content is the capability itself."""
    builder = MessageBuilder()
    builder.root().set_capability(object())
    builder.caps.clear()
    return Payload(builder.root().as_reader(), (desc,))


def values(messages: list[object]) -> list[int]:
    """The ``value`` of each Call's params, in order."""
    out = []
    for m in messages:
        assert isinstance(m, Call), m
        out.append(as_struct(m.params.content).get_int(struct.Struct("<Q"), 0))
    return out


# -- max_questions --------------------------------------------------------------------------


def test_calls_past_max_questions_wait_in_order_and_go_out_as_questions_return() -> None:
    wire = Wire(limits=RpcLimits(max_questions=2))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    calls = [vat.call(cap, IFACE, HOLD, params(i)) for i in range(5)]
    out = wire.out()
    assert [type(m) for m in out] == [Bootstrap, Call]
    assert values(out[1:]) == [0]
    assert len(wire.conn.waiting_calls) == 4
    # The bootstrap returns: question 0 no longer counts (it stays until the pinned calls
    # that were made on its pipeline have gone out), so one more call goes out.
    out = wire.send(Return(0, ReturnKind.RESULTS, bootstrap_results(hosted(100))))
    assert values(out) == [1]
    assert out[0].target == on_answer(0)  # type: ignore[union-attr]
    # Each Return lets the next waiting call out, in the order they were made.
    sent = []
    for qid in (1, 2, 1, 2):
        out = wire.send(Return(qid, ReturnKind.EXCEPTION, exception=RpcException("x")))
        assert out[0] == Finish(qid, **FINISHED)  # type: ignore[arg-type]
        sent += out[1:]
    # Once the last waiting call is out, nothing pins question 0 any more: it is finished.
    assert [type(m).__name__ for m in sent] == ["Call", "Call", "Call", "Finish"]
    assert values(sent[:3]) == [2, 3, 4]
    assert sent[3] == Finish(0, **FINISHED)  # type: ignore[arg-type]
    assert not wire.conn.waiting_calls
    assert [c.done for c in calls] == [True, True, True, True, False]


def test_a_call_canceled_while_waiting_never_goes_out() -> None:
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    mine = TestServer("mine")
    mine_cap = vat.local_cap(mine)
    first = vat.call(cap, IFACE, HOLD, params(1))
    second = vat.call(cap, IFACE, HOLD, params(2, vat.add_ref(mine_cap)))
    third = vat.call(cap, IFACE, HOLD, params(3))
    vat.release(mine_cap)
    assert [type(m) for m in wire.out()] == [Bootstrap]
    vat.cancel(second)
    wire.run()
    assert second.done and second.exception is not None
    out = wire.send(Return(0, ReturnKind.RESULTS, bootstrap_results(hosted(100))))
    assert values([m for m in out if isinstance(m, Call)]) == [1]
    out = wire.send(Return(1, ReturnKind.EXCEPTION, exception=RpcException("x")))
    assert values([m for m in out if isinstance(m, Call)]) == [3]
    # The canceled call's capability was never exported, and it is released.
    assert not list(wire.conn.exports.items())
    assert [e.server for e in wire.events if isinstance(e, ServerReleased)] == [mine]
    assert not first.exception or first.done
    assert not third.done


def test_a_waiting_call_keeps_its_import_alive() -> None:
    """The application drops the capability while a call to it waits: Release comes after."""
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    wire.out()
    out = wire.send(Return(0, ReturnKind.RESULTS, bootstrap_results(hosted(100))))
    assert out == [Finish(0, **FINISHED)]  # type: ignore[arg-type]
    first = vat.call(cap, IFACE, HOLD, params(1))
    second = vat.call(cap, IFACE, HOLD, params(2))
    vat.release(cap)
    out = wire.out()
    assert values(out) == [1]
    out = wire.send(Return(0, ReturnKind.EXCEPTION, exception=RpcException("x")))
    # The waiting call still goes to import 100; only then is the import released.
    assert out[0] == Finish(0, **FINISHED)  # type: ignore[arg-type]
    assert isinstance(out[1], Call) and out[1].target.import_id == 100
    assert out[2:] == [Release(100, 1)]
    assert first.done and not second.done


def test_a_waiting_pipelined_call_follows_a_return_without_finish() -> None:
    """noFinishNeeded: the peer forgot the answer, so the waiting call must not go to it (its
    id may even be reused by the call itself); it follows the results, which hold no
    capability (that is what noFinishNeeded means), so it fails like a call on null."""
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    wire.out()
    assert wire.send(Return(0, ReturnKind.RESULTS, bootstrap_results(hosted(100)))) == [
        Finish(0, **FINISHED)  # type: ignore[arg-type]
    ]
    first = vat.call(cap, IFACE, ECHO, params(1))
    piped = vat.pipeline(first, [0])
    second = vat.call(piped, IFACE, HOLD, params(2))  # waits for question 0
    assert values(wire.out()) == [1]
    out = wire.send(Return(0, ReturnKind.RESULTS, payload(1), no_finish_needed=True))
    assert out == []
    assert first.done and first.exception is None
    assert second.done and second.exception is not None
    assert "null capability" in second.exception.reason
    assert len(wire.conn.questions) == 0


def test_a_waiting_pipelined_call_keeps_the_answer_until_it_is_out() -> None:
    """Without noFinishNeeded, the answer stays (no Finish) until the pinned call is sent."""
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    vat.call(cap, IFACE, HOLD, params(7))
    wire.out()
    # The only question has returned: it no longer counts, so the call goes out at once,
    # to the answer it was made on; the Finish follows it.
    out = wire.send(Return(0, ReturnKind.RESULTS, bootstrap_results(hosted(100))))
    assert isinstance(out[0], Call) and out[0].question_id == 1
    assert out[0].target == on_answer(0)
    assert out[1:] == [Finish(0, **FINISHED)]  # type: ignore[arg-type]


def test_close_fails_the_calls_still_waiting() -> None:
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    waiting = [vat.call(cap, IFACE, HOLD, params(i)) for i in range(3)]
    wire.out()
    out = wire.send(Release(9, 1))
    assert_aborted(wire, out, "unknown export id 9", *waiting)
    assert not wire.conn.waiting_calls


# -- max_exports ----------------------------------------------------------------------------


def test_a_call_that_would_export_too_many_fails_overloaded() -> None:
    wire = Wire(limits=RpcLimits(max_exports=2))
    vat = wire.vat
    cap = vat.bootstrap(wire.conn)
    wire.out()
    servers = [TestServer(f"s{i}") for i in range(3)]
    caps = [vat.local_cap(s) for s in servers]
    builder = MessageBuilder()
    p = builder.init_root(1, 3)
    for i, c in enumerate(caps):
        p.set_capability(i, vat.add_ref(c))
    call = vat.call(cap, IFACE, ECHO, p)
    for c in caps:
        vat.release(c)
    wire.run()
    assert call.done and call.exception is not None
    assert call.exception.type == ExceptionType.OVERLOADED
    assert "limit 2" in call.exception.reason
    assert wire.out() == []
    assert not list(wire.conn.exports.items())  # the two exported before the third: undone
    released = [e.server for e in wire.events if isinstance(e, ServerReleased)]
    assert sorted(s.name for s in released) == ["s0", "s1", "s2"]  # type: ignore[attr-defined]
    # Two fit; and exporting one of them again is no new export.
    ok = vat.call(cap, IFACE, ECHO, params(1, vat.local_cap(TestServer("a"))))
    b = vat.local_cap(TestServer("b"))
    again = vat.call(cap, IFACE, ECHO, params(2, vat.add_ref(b)))
    repeat = vat.call(cap, IFACE, ECHO, params(3, vat.add_ref(b)))
    out = wire.out()
    assert [m.params.cap_table for m in out] == [  # type: ignore[union-attr]
        (hosted(0),),
        (hosted(1),),
        (hosted(1),),
    ]
    assert not ok.done and not again.done and not repeat.done
    assert wire.conn.exports.get(1).remote_refs == 2  # type: ignore[union-attr]


def test_a_return_that_would_export_too_many_is_an_overloaded_exception() -> None:
    wire = Wire(limits=RpcLimits(max_exports=1))
    wire.serve = False
    wire.boot()  # export 0: the bootstrap object
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload())) == []
    new = TestServer("new")
    wire.vat.return_results(wire.held.pop(), params(0, wire.vat.local_cap(new)))
    wire.run()
    (ret,) = wire.out()
    assert isinstance(ret, Return) and ret.kind == ReturnKind.EXCEPTION
    assert ret.exception is not None and ret.exception.type == ExceptionType.OVERLOADED
    assert [i for i, _ in wire.conn.exports.items()] == [0]
    # The new object lives in the answer's results until the peer finishes the call.
    assert not any(isinstance(e, ServerReleased) for e in wire.events)
    assert wire.send(Finish(1)) == []
    assert [e.server for e in wire.events if isinstance(e, ServerReleased)] == [new]
    # Once the peer lets go of export 0 there is room again.
    assert wire.send(Release(0, 1)) == []
    wire.serve = True
    (ret,) = wire.send(Bootstrap(3))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.RESULTS
    (ret,) = wire.send(Call(4, on_answer(3), IFACE, MAKE_NEW, payload()))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.EXCEPTION  # 0 + 1 new: too many
    assert wire.send(Finish(4), Finish(3, release_result_caps=True)) == []
    assert not list(wire.conn.exports.items())


def test_a_resolve_that_would_export_too_many_carries_the_exception() -> None:
    wire = Wire(limits=RpcLimits(max_exports=2))
    wire.serve = False
    wire.boot()
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload())) == []
    (delivery,) = wire.held
    vat = wire.vat
    promise = vat.new_promise()
    vat.return_results(delivery, params(0, vat.add_ref(promise)))
    (ret,) = wire.out()
    assert isinstance(ret, Return) and ret.results is not None
    assert ret.results.cap_table == (CapDescriptor(CapKind.SENDER_PROMISE, 1),)
    vat.resolve(promise, vat.local_cap(TestServer("late")))
    (resolve,) = wire.out()
    assert isinstance(resolve, Resolve) and resolve.exception is not None
    assert resolve.exception.type == ExceptionType.OVERLOADED
    assert len(wire.conn.exports) == 2


# -- max_incoming_call_bytes ----------------------------------------------------------------


def test_calls_past_max_incoming_call_bytes_are_answered_overloaded_without_running() -> None:
    hold = Call(1, BOOT, IFACE, HOLD, payload(1))
    size = len(hold_frame := _frame(hold)) - 8  # the segment table is not counted
    assert size > 0 and hold_frame
    wire = Wire(limits=RpcLimits(max_incoming_call_bytes=2 * size))
    wire.serve = False
    wire.boot()
    for qid in (1, 2):
        assert wire.send(Call(qid, BOOT, IFACE, HOLD, payload(qid))) == []
    assert wire.conn.incoming_call_bytes == 2 * size
    (ret,) = wire.send(Call(3, BOOT, IFACE, HOLD, payload(3)))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.EXCEPTION
    assert ret.exception is not None and ret.exception.type == ExceptionType.OVERLOADED
    assert len(wire.held) == 2  # the third never ran
    # Answering one makes room for exactly one more.
    wire.vat.return_results(wire.held[0], params(1))
    wire.run()
    (ret,) = wire.out()
    assert ret.kind == ReturnKind.RESULTS  # type: ignore[union-attr]
    assert wire.conn.incoming_call_bytes == size
    assert wire.send(Call(4, BOOT, IFACE, HOLD, payload(4))) == []
    assert len(wire.held) == 3
    # A canceled call gives its bytes back too; then everything is accounted for.
    (ret,) = wire.send(Finish(2))
    assert ret.kind == ReturnKind.CANCELED  # type: ignore[union-attr]
    wire.vat.return_results(wire.held[2], params(4))
    wire.run()
    wire.out()
    assert wire.conn.incoming_call_bytes == 0
    assert wire.conn.open


def _frame(message: object) -> bytes:
    from tests.rpc.harness import frame

    return frame(message)  # type: ignore[arg-type]


# -- read limits on received frames ---------------------------------------------------------


def amplified_return(answer_id: int, descriptors: int, ops: int) -> bytes:
    """A Return whose cap table has ``descriptors`` receiverAnswer entries that all point at
    one PromisedAnswer with ``ops`` transform ops: small on the wire, big to read."""
    n, m = descriptors, ops
    words = [0] * (9 + 2 * n + 3 + m)
    words[0] = struct_pointer(0, 1, 1)  # root -> Message
    words[1] = 3  # Message.which = return
    words[2] = struct_pointer(0, 2, 1)  # -> Return
    words[3] = answer_id  # answerId; releaseParamCaps default; which = results
    words[5] = struct_pointer(0, 0, 2)  # -> Payload
    words[7] = list_pointer(0, ElementSize.INLINE_COMPOSITE, 2 * n)  # -> cap table
    words[8] = struct_pointer(n, 1, 1)  # tag: n elements of 1 data word, 1 pointer
    promised = 9 + 2 * n
    for i in range(n):
        words[9 + 2 * i] = 4  # CapDescriptor.which = receiverAnswer (attachedFd: none)
        at = 10 + 2 * i
        words[at] = struct_pointer(promised - at - 1, 1, 1)
    words[promised] = 0  # questionId 0
    words[promised + 1] = list_pointer(0, ElementSize.INLINE_COMPOSITE, m)
    words[promised + 2] = struct_pointer(m, 1, 0)
    for i in range(m):
        words[promised + 3 + i] = 1  # getPointerField 0
    return encode_frame([struct.pack(f"<{len(words)}Q", *words)])


def test_traversal_limit_counts_data_read_again_and_again() -> None:
    data = amplified_return(1, descriptors=8, ops=40)
    words = len(data) // 8 - 1
    assert words < 100
    # With room to read it, it is an ordinary Return (eight broken pipelined capabilities).
    wire = Wire(limits=RpcLimits(read=ReadLimits(traversal_limit_words=1000)))
    cap, call = wire.ask()
    assert wire.send_bytes(data) == [Finish(1, **FINISHED)]  # type: ignore[arg-type]
    assert call.done and call.exception is None
    # Small enough to pass the framing check, too much to read eight times over.
    wire = Wire(limits=RpcLimits(read=ReadLimits(traversal_limit_words=200)))
    cap, call = wire.ask()
    out = wire.send_bytes(data)
    assert_aborted(wire, out, "traversal limit", call, cap)


def test_nesting_limit_applies_to_received_messages() -> None:
    limits = RpcLimits(read=ReadLimits(nesting_limit=5))
    wire = Wire(limits=limits)
    wire.boot()
    (ret,) = wire.send(Call(1, BOOT, IFACE, ECHO, payload(1)))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.RESULTS
    # Message -> Call -> target -> promisedAnswer -> transform -> op: one level too deep.
    out = wire.send(Call(2, on_answer(0, 0), IFACE, ECHO, payload(1)))
    assert_aborted(wire, out, "nesting limit")


def test_segment_count_limit() -> None:
    wire = Wire()
    cap, call = wire.ask()
    count = 512
    table = struct.pack(f"<{count + 1}I", count - 1, *([1] * count))
    out = wire.send_bytes(table)
    assert_aborted(wire, out, "segments", call, cap)


def test_a_message_within_the_limits_still_works_at_the_edge() -> None:
    """max_frame_bytes is inclusive: a frame of exactly that size is accepted."""
    probe = _frame(Bootstrap(0))
    wire = Wire(limits=RpcLimits(read=ReadLimits(max_frame_bytes=len(probe))))
    out = wire.send_bytes(probe)
    assert [type(m) for m in out] == [Return]
    assert wire.conn.open


def test_a_disembargo_waits_behind_the_calls_it_must_follow() -> None:
    """E-order under max_questions: a promise resolves back to a local object while a call
    through it still waits for a question. The Disembargo must not overtake that call, or the
    embargo would lift (and later calls run locally) before the call is even sent."""
    wire = Wire(limits=RpcLimits(max_questions=1))
    vat = wire.vat
    x_server = TestServer("x")
    x = vat.local_cap(x_server)
    cap = vat.bootstrap(wire.conn)
    wire.out()
    # The peer's bootstrap object is a promise (import 100).
    wire.send(
        Return(0, ReturnKind.RESULTS, bootstrap_results(CapDescriptor(CapKind.SENDER_PROMISE, 100)))
    )
    first = vat.call(cap, IFACE, RECORD, params(1, vat.add_ref(x)))  # exports x as 0
    second = vat.call(cap, IFACE, RECORD, params(2))  # waits for question 0
    assert values(wire.out()) == [1]
    # The promise resolves to x: calls went through it, so the vat embargoes it, but the
    # Disembargo waits behind the second call.
    assert wire.send(Resolve(100, cap=CapDescriptor(CapKind.RECEIVER_HOSTED, 0))) == []
    third = vat.call(cap, IFACE, RECORD, params(3))
    wire.run()
    assert x_server.seen == [] and not third.done
    out = wire.send(Return(0, ReturnKind.RESULTS, payload(1), no_finish_needed=True))
    assert [type(m).__name__ for m in out] == ["Call", "Disembargo", "Release"]
    assert values(out[:1]) == [2]
    disembargo = out[1]
    assert isinstance(disembargo, Disembargo)
    assert disembargo.kind == DisembargoKind.SENDER_LOOPBACK
    assert disembargo.target == MessageTarget(import_id=100)
    # The import stays until the Disembargo is out, so the peer can still reflect it.
    assert out[2] == Release(100, 1)
    # The peer delivers the reflected second call to x, then reflects the Disembargo.
    wire.send(Call(0, MessageTarget(import_id=0), IFACE, RECORD, payload(2)))
    assert x_server.seen == [2]
    loopback = Disembargo(MessageTarget(import_id=0), DisembargoKind.RECEIVER_LOOPBACK, 0)
    wire.send(loopback)
    assert x_server.seen == [2, 3]
    assert first.done and not second.done and third.done


def test_a_promise_exported_twice_over_the_limit_is_resolved_once() -> None:
    """A promise exported, released and exported again waits for its resolution twice; when
    the resolution cannot be exported, the peer must still hear of it only once."""
    wire = Wire(limits=RpcLimits(max_exports=2))
    wire.serve = False
    wire.boot()  # export 0
    vat = wire.vat
    promise = vat.new_promise()
    for qid in (1, 2):
        assert wire.send(Call(qid, BOOT, IFACE, HOLD, payload())) == []
        vat.return_results(wire.held.pop(), params(0, vat.add_ref(promise)))
        (ret,) = wire.out()
        assert isinstance(ret, Return) and ret.results is not None
        assert ret.results.cap_table == (CapDescriptor(CapKind.SENDER_PROMISE, 1),)
        assert wire.send(Finish(qid, release_result_caps=False)) == []
        if qid == 1:
            assert wire.send(Release(1, 1)) == []  # export 1 is gone; the next one reuses it
    vat.resolve(promise, vat.local_cap(TestServer("late")))
    (resolve,) = wire.out()
    assert isinstance(resolve, Resolve) and resolve.promise_id == 1
    assert resolve.exception is not None
    assert resolve.exception.type == ExceptionType.OVERLOADED
