"""``unimplemented``: what the vat echoes, and what it does when its own messages come back.

Messages of levels 3 and 4, obsolete ones and union members from a newer schema are echoed
back whole inside ``Message.unimplemented``, byte for byte (C++ does the same, probed for
``join``). An echo of a Resolve we sent means the peer never took the capability in it, so its
export is released; an echo of anything else we sent is fatal, since level 1 needs it.
"""

from __future__ import annotations

import struct

import pytest

from capnrpc_core.rpc import ServerReleased
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
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
    Unimplemented,
    Unknown,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import FrameDecoder, encode_frame
from capnrpc_core.wire.reader import MessageReader, StructReader
from tests.rpc.harness import ECHO, HOLD, IFACE, TestServer, params
from tests.rpc.test_violations import BOOT, Wire, assert_aborted, hosted, payload, promise

U16 = struct.Struct("<H")
U32 = struct.Struct("<I")

# Message union ordinals rpc.capnp gives messages this core does not implement.
OBSOLETE_SAVE, OBSOLETE_DELETE, PROVIDE, ACCEPT, JOIN, THIRD_PARTY_ANSWER = 7, 9, 10, 11, 12, 14
DISEMBARGO = 13


def unknown_message(which: int, *, small_segments: bool = False) -> bytes:
    """A plausible message of kind ``which``: a body with data, a nested target and a text.

    With ``small_segments`` the message is spread over several segments (far pointers), so
    the echo has to be a real copy, not a reuse of the received bytes.
    """
    builder = MessageBuilder(
        first_segment_words=3 if small_segments else 64,
        max_segment_words=3 if small_segments else None,
    )
    root = builder.init_root(1, 1)
    root.set_int(U16, 0, which)
    if which == OBSOLETE_SAVE:
        root.set_text(0, "an AnyPointer body: a sturdy ref of long ago")
        return encode_frame(builder.segments())
    body = root.init_struct(0, 1, 3)  # Provide/Accept/Join: questionId, then pointers
    body.set_int(U32, 0, 17)
    body.set_int(U32, 4, 0xDEADBEEF)
    target = body.init_struct(0, 1, 1)
    target.set_int(U32, 0, 3)  # importedCap 3
    body.set_text(1, "recipient / provision / key part")
    body.init_struct(2, 2, 0).set_int(U32, 12, 99)
    return encode_frame(builder.segments())


def disembargo_context(tag: int) -> bytes:
    """A Disembargo whose context is ``accept`` (2) or ``provide`` (3): level 3."""
    builder = MessageBuilder()
    root = builder.init_root(1, 1)
    root.set_int(U16, 0, DISEMBARGO)
    body = root.init_struct(0, 1, 1)
    body.set_int(U32, 0, 5)  # provide: a question id
    body.set_int(U16, 4, tag)
    body.init_struct(0, 1, 1).set_int(U32, 0, 0)
    return encode_frame(builder.segments())


def root_of(data: bytes) -> StructReader:
    (segments,) = FrameDecoder().feed(data)
    return MessageReader(segments).get_root_struct()


def canonical(struct_: StructReader) -> list[bytes]:
    """The struct and everything it points to, copied depth-first into a fresh message."""
    builder = MessageBuilder()
    builder.set_root(struct_)
    return builder.segments()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(unknown_message(OBSOLETE_SAVE), id="obsoleteSave"),
        pytest.param(unknown_message(OBSOLETE_DELETE), id="obsoleteDelete"),
        pytest.param(unknown_message(PROVIDE), id="provide"),
        pytest.param(unknown_message(ACCEPT), id="accept"),
        pytest.param(unknown_message(JOIN), id="join"),
        pytest.param(unknown_message(JOIN, small_segments=True), id="join-multi-segment"),
        pytest.param(unknown_message(THIRD_PARTY_ANSWER), id="thirdPartyAnswer"),
        pytest.param(unknown_message(99), id="ordinal-99"),
        pytest.param(unknown_message(0xFFFF), id="ordinal-65535"),
        pytest.param(disembargo_context(2), id="disembargo-accept"),
        pytest.param(disembargo_context(3), id="disembargo-provide"),
    ],
)
def test_unknown_messages_are_echoed_verbatim(data: bytes) -> None:
    wire = Wire()
    _cap, call = wire.ask()
    original = root_of(data)
    out_bytes_before = wire.send_bytes(data)
    assert len(out_bytes_before) == 1
    (echo,) = out_bytes_before
    assert isinstance(echo, Unimplemented)
    assert isinstance(echo.message, Unknown)
    assert echo.message.which == original.get_int(U16, 0)
    # Byte for byte: the echoed Message struct is the received one, data and pointers alike.
    raw = echo.message.raw
    assert isinstance(raw, StructReader)
    assert canonical(raw) == canonical(original)
    assert wire.conn.open and not call.done and not wire.closed


def test_echo_on_the_wire_is_an_unimplemented_message_wrapping_the_original() -> None:
    """Read the vat's output with the plain reader: Message.unimplemented -> the original."""
    wire = Wire()
    data = unknown_message(JOIN)
    wire.vat.receive_data(wire.conn, data)
    sent = wire.vat.data_to_send(wire.conn)
    outer = root_of(sent)
    assert outer.get_int(U16, 0) == 0  # unimplemented
    inner = outer.get_struct(0)
    assert canonical(inner) == canonical(root_of(data))
    assert inner.get_struct(0).get_int(U32, 4) == 0xDEADBEEF
    assert inner.get_struct(0).get_text(1) == "recipient / provision / key part"


def test_unknown_messages_leave_the_connection_working() -> None:
    wire = Wire()
    wire.boot()
    for which in (PROVIDE, ACCEPT, JOIN):
        (echo,) = wire.send_bytes(unknown_message(which))
        assert isinstance(echo, Unimplemented)
    (ret,) = wire.send(Call(1, BOOT, IFACE, ECHO, payload(8)))
    assert isinstance(ret, Return) and ret.kind == ReturnKind.RESULTS


def held_promise_export(wire: Wire) -> tuple[object, object]:
    """The peer's held call is answered with a local promise: export 1 (senderPromise)."""
    wire.serve = False
    wire.boot()
    assert wire.send(Call(1, BOOT, IFACE, HOLD, payload(1))) == []
    (delivery,) = wire.held
    vat = wire.vat
    p = vat.new_promise()
    vat.return_results(delivery, params(0, vat.add_ref(p)))
    (ret,) = wire.out()
    assert isinstance(ret, Return) and ret.results is not None
    assert ret.results.cap_table == (promise(1),)
    assert wire.send(Finish(1, release_result_caps=False)) == []
    return vat, p


def test_echoed_resolve_releases_the_export_it_carried() -> None:
    wire = Wire()
    vat, p = held_promise_export(wire)
    x_server = TestServer("x")
    x = vat.local_cap(x_server)
    vat.resolve(p, x)  # type: ignore[arg-type]
    vat.release(x)  # type: ignore[arg-type]
    vat.release(p)  # type: ignore[arg-type]
    (resolve,) = wire.out()
    assert resolve == Resolve(1, cap=hosted(2))
    assert 2 in wire.conn.exports
    # The peer does not implement Resolve: it never took the reference to export 2.
    assert wire.send(Unimplemented(resolve)) == []
    assert 2 not in wire.conn.exports
    assert wire.conn.open
    # Export 1 (the promise, pinned to x for Disembargo reflection) is the last holder of x.
    assert not any(isinstance(e, ServerReleased) for e in wire.events)
    assert wire.send(Release(1, 1)) == []
    assert [e.server for e in wire.events if isinstance(e, ServerReleased)] == [x_server]
    # As C++ (probed): the export is gone, so releasing it now is a violation.
    out = wire.send(Release(2, 1))
    assert_aborted(wire, out, "Release for unknown export id 2")


def test_echoed_resolve_takes_back_only_its_own_reference() -> None:
    """Export 0 (the bootstrap object) is also held by the peer from its Bootstrap."""
    wire = Wire()
    vat, p = held_promise_export(wire)
    assert vat.bootstrap_cap is not None
    vat.resolve(p, vat.bootstrap_cap)  # type: ignore[arg-type]
    (resolve,) = wire.out()
    assert resolve == Resolve(1, cap=hosted(0))
    assert wire.conn.exports.get(0).remote_refs == 2  # type: ignore[union-attr]
    assert wire.send(Unimplemented(resolve)) == []
    assert wire.conn.exports.get(0).remote_refs == 1  # type: ignore[union-attr]
    assert wire.send(Release(0, 1), Release(1, 1)) == []
    assert not list(wire.conn.exports.items()) and wire.conn.open


@pytest.mark.parametrize(
    "resolve",
    [
        Resolve(1, exception=RpcException("broken")),
        Resolve(1, cap=CapDescriptor(CapKind.RECEIVER_HOSTED, 100)),
        Resolve(1, cap=hosted(5)),  # an export that does not exist (any more)
    ],
    ids=["exception", "receiverHosted", "unknown-export"],
)
def test_echoed_resolve_without_an_export_of_ours_changes_nothing(resolve: Resolve) -> None:
    wire = Wire()
    wire.boot()
    assert wire.send(Unimplemented(resolve)) == []
    assert wire.conn.open
    assert wire.conn.exports.get(0).remote_refs == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "echoed",
    [
        Return(0, ReturnKind.RESULTS, payload(1)),
        Finish(0),
        Release(0, 1),
        Disembargo(MessageTarget(import_id=0), DisembargoKind.SENDER_LOOPBACK, 0),
        Abort(RpcException("bye")),
        Bootstrap(0),
    ],
    ids=lambda m: type(m).__name__,
)
def test_echo_of_a_level_1_message_aborts(echoed: Message) -> None:
    """C++: 'Peer did not implement required RPC message type.' for all but Resolve."""
    wire = Wire()
    cap, call = wire.ask()
    out = wire.send(Unimplemented(echoed))
    assert_aborted(wire, out, f"could not handle our {type(echoed).__name__}", call, cap)
