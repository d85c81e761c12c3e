"""Our protocol core against the C++ reference (pycapnp in a subprocess)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from capnrpc_core.rpc import Cap, Delivery, ExceptionType, PendingCall
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import encode_frame
from tests.interop.peers import CorePeer, interop, pycapnp_server, results

Peer = interop.Peer
Thing = interop.Thing
Callback = interop.Callback


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with pycapnp_server() as p:
        yield p


@pytest.fixture
def peer(port: int) -> Iterator[CorePeer]:
    ours = CorePeer(port)
    yield ours
    ours.close()


def boot(peer: CorePeer) -> Cap:
    return peer.vat.bootstrap(peer.conn)


def test_bootstrap_and_echo(peer: CorePeer) -> None:
    cap = boot(peer)
    call = peer.wait(peer.call(cap, Peer, "echo", text="hello C++"))
    assert results(call, Peer, "echo").text == "hello C++"


def test_pipelined_call_on_returned_capability(peer: CorePeer) -> None:
    cap = boot(peer)
    first = peer.call(cap, Peer, "getSelf")
    again = peer.vat.pipeline(first, [0])
    second = peer.call(again, Peer, "echo", text="piped")
    peer.wait(second)
    assert results(second, Peer, "echo").text == "piped"


def test_remote_exception_has_type_and_reason(peer: CorePeer) -> None:
    cap = boot(peer)
    call = peer.wait(peer.call(cap, Peer, "fail", reason="no way"))
    assert call.exception is not None
    assert call.exception.type == ExceptionType.FAILED
    assert "no way" in call.exception.reason


def test_callback_from_cxx_to_our_capability(peer: CorePeer) -> None:
    class Doubler:
        pass

    doubler = Doubler()

    def answer(p: CorePeer, d: Delivery) -> None:
        params = Callback.param_type("call").Reader(d.params.as_struct())  # type: ignore[attr-defined]
        out = Callback.result_type("call").new_message(value=params.value * 2)
        p.vat.return_results(d, out.wire)

    peer.handlers[doubler] = answer
    cap = boot(peer)
    mine = peer.vat.local_cap(doubler)
    call = peer.wait(peer.call(cap, Peer, "callBack", callback=mine, value=21))
    assert results(call, Peer, "callBack").value == 43


def test_released_things_are_freed_on_the_cxx_side(peer: CorePeer) -> None:
    cap = boot(peer)
    calls = [peer.call(cap, Peer, "newThing", value=i) for i in range(3)]
    for c in calls:
        peer.wait(c)
    things = [peer.vat.pipeline(c, [0]) for c in calls]
    values = [peer.wait(peer.call(t, Thing, "value")) for t in things]
    assert [results(v, Thing, "value").value for v in values] == [0, 1, 2]
    live = peer.wait(peer.call(cap, Peer, "liveThings"))
    assert results(live, Peer, "liveThings").count == 3
    for t in things:
        peer.vat.release(t)
    for c in calls + values + [live]:
        peer.vat.release_call(c)
    peer.flush()
    live = peer.wait(peer.call(cap, Peer, "liveThings"))
    assert results(live, Peer, "liveThings").count == 0


def test_streaming_writes_arrive(peer: CorePeer) -> None:
    cap = boot(peer)
    calls: list[PendingCall] = [peer.call(cap, Peer, "write", data=bytes(1000)) for _ in range(10)]
    for c in calls:
        peer.wait(c)
        assert c.exception is None
    total = peer.wait(peer.call(cap, Peer, "written"))
    assert results(total, Peer, "written").bytes == 10_000


def test_cxx_echoes_an_unimplemented_level4_message_and_the_connection_survives(
    peer: CorePeer,
) -> None:
    cap = boot(peer)
    peer.wait(peer.call(cap, Peer, "echo", text="warm"))
    # A 'join' message (level 4, union member 12): C++ echoes it as unimplemented.
    builder = MessageBuilder()
    root = builder.init_root(1, 1)
    root.set_int(struct.Struct("<H"), 0, 12)
    root.init_struct(0, 1, 2)
    peer.sock.sendall(encode_frame(builder.segments()))
    call = peer.wait(peer.call(cap, Peer, "echo", text="still here"))
    assert results(call, Peer, "echo").text == "still here"
    assert peer.conn.open
