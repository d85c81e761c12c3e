"""Streaming calls (``-> stream``): sender-side flow control and the receiver's queue.

Sender: ``vat.call(..., streaming=True)`` sends at once (ordering) and counts the params'
bytes against the target's window (``RpcLimits.stream_window_bytes``);
``stream_window_full`` says when to wait, and a ``StreamReady`` event follows each Return.
Receiver: while a streaming call runs on an object, every later call to that object waits, in
order; a streaming call that fails breaks the object for every later call (as C++ does), and
the sender then fails later streaming calls to it at once.
"""

from __future__ import annotations

from capnrpc_core.rpc import (
    ExceptionType,
    RpcException,
    RpcLimits,
    StreamReady,
)
from capnrpc_core.rpc.messages import Call, Finish, Return, ReturnKind
from capnrpc_core.wire.builder import StructBuilder
from tests.rpc.harness import ECHO, HOLD, IFACE, RECORD, params
from tests.rpc.test_violations import BOOT, Wire, assert_aborted, payload

WRITE = 7  # a streaming method of the remote object (any id works on the sender side)


def chunk(i: int) -> StructBuilder:
    """Params of a known size: a P struct (3 words) and 100 bytes of text (13 words)."""
    return params(i, text="x" * 100)


CHUNK = 16 * 8  # bytes a chunk counts against the window


def stream_return(answer_id: int) -> Return:
    """What C++ answers a stream call with: null results, no caps, noFinishNeeded."""
    return Return(
        answer_id, ReturnKind.RESULTS, payload(), release_param_caps=False, no_finish_needed=True
    )


def remote(window: int) -> tuple[Wire, object]:
    wire = Wire(server=False, limits=RpcLimits(stream_window_bytes=window))
    cap = wire.vat.bootstrap(wire.conn)
    wire.out()
    return wire, cap


def test_chunk_size_is_what_the_window_counts() -> None:
    assert chunk(0).as_reader().total_size_words() * 8 == CHUNK


def test_window_fills_and_stream_ready_arrives_as_returns_come_back() -> None:
    wire, cap = remote(window=4 * CHUNK)
    vat = wire.vat
    calls = []
    for i in range(5):
        calls.append(vat.call(cap, IFACE, WRITE, chunk(i), streaming=True))  # type: ignore[arg-type]
        assert vat.stream_window_full(cap) == (i >= 3), i  # type: ignore[arg-type]
    # Every call goes out at once, in order: the window only tells the application to wait.
    sent = wire.out()
    assert [type(m) for m in sent] == [Call] * 5
    assert [m.question_id for m in sent] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert not wire.events
    # Each Return shrinks what is in flight and brings a StreamReady for that call.
    assert wire.send(stream_return(1), stream_return(2)) == []
    ready = [e.call for e in wire.events if isinstance(e, StreamReady)]
    assert ready == calls[:2]
    assert wire.returned == calls[:2]
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]
    # Streaming Returns need no Finish (C++ sets noFinishNeeded on them); ours neither.
    assert wire.send(*(stream_return(q) for q in (3, 4, 5))) == []
    assert [e.call for e in wire.events if isinstance(e, StreamReady)] == calls
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]
    assert [i for i, _ in wire.conn.questions.items()] == [0]  # only the bootstrap is left


def test_one_oversized_call_fills_the_window_and_empties_it_on_return() -> None:
    wire, cap = remote(window=CHUNK // 2)
    vat = wire.vat
    call = vat.call(cap, IFACE, WRITE, chunk(0), streaming=True)  # type: ignore[arg-type]
    wire.out()
    assert vat.stream_window_full(cap)  # type: ignore[arg-type]
    assert wire.send(stream_return(1)) == []
    assert [e.call for e in wire.events if isinstance(e, StreamReady)] == [call]
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]


def test_window_is_per_capability_and_ordinary_calls_do_not_count() -> None:
    wire, cap = remote(window=2 * CHUNK)
    vat = wire.vat
    other = vat.pipeline(vat.call(cap, IFACE, ECHO, params(0)), [0])
    for i in range(2):
        vat.call(cap, IFACE, WRITE, chunk(i), streaming=True)  # type: ignore[arg-type]
    vat.call(cap, IFACE, ECHO, chunk(9))  # type: ignore[arg-type]
    wire.out()
    assert vat.stream_window_full(cap)  # type: ignore[arg-type]
    assert not vat.stream_window_full(other)
    vat.call(other, IFACE, WRITE, chunk(5), streaming=True)
    assert not vat.stream_window_full(other)


def test_a_failed_stream_call_still_frees_its_window_share() -> None:
    wire, cap = remote(window=CHUNK)
    vat = wire.vat
    call = vat.call(cap, IFACE, WRITE, chunk(0), streaming=True)  # type: ignore[arg-type]
    wire.out()
    assert vat.stream_window_full(cap)  # type: ignore[arg-type]
    failure = RpcException("disk full", ExceptionType.FAILED)
    out = wire.send(Return(1, ReturnKind.EXCEPTION, exception=failure))
    assert out == [
        Finish(1, release_result_caps=False, require_early_cancellation_workaround=False)
    ]
    assert call.exception == failure
    assert [e.call for e in wire.events if isinstance(e, StreamReady)] == [call]
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]


def test_after_a_failed_stream_call_later_ones_fail_at_once_with_its_exception() -> None:
    wire, cap = remote(window=CHUNK)
    vat = wire.vat
    first = vat.call(cap, IFACE, WRITE, chunk(0), streaming=True)  # type: ignore[arg-type]
    second = vat.call(cap, IFACE, WRITE, chunk(1), streaming=True)  # type: ignore[arg-type]
    assert [type(m) for m in wire.out()] == [Call, Call]
    assert vat.stream_failure(cap) is None  # type: ignore[arg-type]
    failure = RpcException("disk full", ExceptionType.FAILED)
    wire.send(Return(1, ReturnKind.EXCEPTION, exception=failure))
    assert first.exception == failure
    assert vat.stream_failure(cap) == failure  # type: ignore[arg-type]
    # Already sent: it settles with whatever the peer answers.
    wire.send(stream_return(2))
    assert second.done and second.exception is None
    # Not sent any more, and nothing waits for a window that will never open.
    third = vat.call(cap, IFACE, WRITE, chunk(2), streaming=True)  # type: ignore[arg-type]
    assert third.done and third.exception == failure
    assert wire.out() == []
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]
    # An ordinary call still goes out.
    vat.call(cap, IFACE, ECHO, params(3))  # type: ignore[arg-type]
    assert [type(m) for m in wire.out()] == [Call]


def test_a_canceled_stream_call_does_not_fail_the_stream() -> None:
    wire, cap = remote(window=CHUNK * 4)
    vat = wire.vat
    call = vat.call(cap, IFACE, WRITE, chunk(0), streaming=True)  # type: ignore[arg-type]
    wire.out()
    vat.cancel(call)
    assert call.done and vat.stream_failure(cap) is None  # type: ignore[arg-type]
    vat.call(cap, IFACE, WRITE, chunk(1), streaming=True)  # type: ignore[arg-type]
    assert [type(m) for m in wire.out()] == [Finish, Call]


def test_disconnect_empties_the_window() -> None:
    wire, cap = remote(window=CHUNK)
    vat = wire.vat
    calls = [vat.call(cap, IFACE, WRITE, chunk(i), streaming=True) for i in range(3)]  # type: ignore[arg-type]
    assert vat.stream_window_full(cap)  # type: ignore[arg-type]
    wire.out()
    out = wire.send_bytes(b"\xff" * 8)
    assert_aborted(wire, out, "malformed frame", *calls)
    assert [e.call for e in wire.events if isinstance(e, StreamReady)] == calls
    assert not vat.stream_window_full(cap)  # type: ignore[arg-type]


# -- the receiving object -------------------------------------------------------------------


def streaming_server() -> Wire:
    """A vat whose bootstrap object declares ``record`` a streaming method; deliveries held."""
    wire = Wire(streaming_methods=[(IFACE, RECORD)])
    wire.serve = False
    wire.boot()
    return wire


def test_streaming_calls_run_one_at_a_time_and_later_calls_queue_in_order() -> None:
    wire = streaming_server()
    vat = wire.vat
    # An ordinary call that is already running does not hold back the stream.
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload(0))) == []
    assert wire.send(Call(2, BOOT, IFACE, RECORD, payload(1))) == []
    assert [d.method_id for d in wire.held] == [HOLD, RECORD]
    # While the stream call runs, everything else for the object waits: streaming or not.
    incoming = [
        Call(3, BOOT, IFACE, RECORD, payload(2)),
        Call(4, BOOT, IFACE, ECHO, payload(3)),
        Call(5, BOOT, IFACE, RECORD, payload(4)),
    ]
    assert wire.send(*incoming) == []
    assert len(wire.held) == 2
    order = []
    while len(wire.held) > 1:
        delivery = wire.held.pop(1)
        order.append(delivery.method_id)
        vat.return_results(delivery)  # a stream call's results: nothing
        wire.run()
    assert order == [RECORD, RECORD, ECHO, RECORD]
    returns = wire.out()
    assert [m.answer_id for m in returns] == [2, 3, 4, 5]  # type: ignore[union-attr]
    for ret in returns:
        assert isinstance(ret, Return) and ret.kind == ReturnKind.RESULTS
        assert ret.results is not None and ret.results.content.is_null()  # type: ignore[attr-defined]
        assert ret.results.cap_table == () and ret.no_finish_needed
    # The ordinary call that ran beside the stream is still there to answer.
    assert [d.method_id for d in wire.held] == [HOLD]


def test_a_failing_streaming_call_breaks_the_object() -> None:
    wire = streaming_server()
    vat = wire.vat
    calls = [Call(q, BOOT, IFACE, RECORD if q != 3 else ECHO, payload(q)) for q in (1, 2, 3)]
    assert wire.send(*calls) == []
    (first,) = wire.held
    failure = RpcException("stream broke", ExceptionType.FAILED)
    vat.return_exception(first, failure)
    wire.run()
    out = wire.out()
    # The failing call reports it, and so does every call queued behind it (in order).
    assert sorted(m.answer_id for m in out) == [1, 2, 3]  # type: ignore[union-attr]
    queued = [m.answer_id for m in out if m.answer_id != 1]  # type: ignore[union-attr]
    assert queued == [2, 3]
    assert all(m.kind == ReturnKind.EXCEPTION for m in out)  # type: ignore[union-attr]
    assert all(m.exception == failure for m in out)  # type: ignore[union-attr]
    assert len(wire.held) == 1  # nothing else ran
    # Later calls fail at once, without running.
    (ret,) = wire.send(Call(4, BOOT, IFACE, ECHO, payload(4)))
    assert isinstance(ret, Return) and ret.exception == failure
    assert len(wire.held) == 1
    assert wire.conn.open


def test_a_queued_call_canceled_by_finish_never_runs() -> None:
    wire = streaming_server()
    vat = wire.vat
    assert wire.send(*(Call(q, BOOT, IFACE, RECORD, payload(q)) for q in (1, 2, 3))) == []
    (out,) = wire.send(Finish(2))
    assert isinstance(out, Return) and out.answer_id == 2 and out.kind == ReturnKind.CANCELED
    assert as_value(wire.held[0].params) == 1
    vat.return_results(wire.held[0])
    wire.run()
    assert len(wire.held) == 2
    assert as_value(wire.held[1].params) == 3  # call 2 was skipped
    vat.return_results(wire.held[1])
    wire.run()
    assert [m.answer_id for m in wire.out()] == [1, 3]  # type: ignore[union-attr]


def test_local_streaming_calls_queue_the_same_way() -> None:
    """The queue belongs to the object, whoever calls it: here the vat's own application."""
    wire = streaming_server()
    vat = wire.vat
    target = vat.bootstrap_cap
    assert target is not None
    mine = [vat.call(target, IFACE, RECORD, params(i), streaming=True) for i in range(3)]
    wire.run()
    assert len(wire.held) == 1
    for _ in range(3):
        vat.return_results(wire.held.pop())
        wire.run()
    assert all(c.done and c.exception is None for c in mine)
    assert [e.call for e in wire.events if isinstance(e, StreamReady)] == mine
    assert wire.returned == mine


def as_value(content: object) -> int:
    from tests.rpc.harness import U64, as_struct

    return as_struct(content).get_int(U64, 0)
