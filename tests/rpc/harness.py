"""An in-memory network of vats for protocol tests, and a small test service.

The test interface (id :data:`IFACE`) takes and returns one struct shaped like::

    struct P { value @0 :UInt64; cap @1 :TestIface; text @2 :Text; }

Methods: 0 ``echo`` (returns its params), 1 ``get_self`` (returns ``cap = self``), 2 ``fail``
(raises), 3 ``hold`` (answered later by the test), 4 ``call_back`` (calls method 0 on the cap in
its params and returns that call's results as a tail call), 5 ``record`` (appends ``value`` to
``server.seen`` and returns it), 6 ``make_new`` (returns a new TestServer in ``cap``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from capnrpc_core.rpc import (
    CallReturned,
    Cap,
    Connection,
    DeliverCall,
    Delivery,
    Event,
    PendingCall,
    RpcException,
    Vat,
)
from capnrpc_core.rpc.codec import decode_message, encode_message
from capnrpc_core.rpc.messages import Message
from capnrpc_core.rpc.trace import TraceRecorder
from capnrpc_core.wire.builder import MessageBuilder, StructBuilder
from capnrpc_core.wire.framing import FrameDecoder
from capnrpc_core.wire.reader import AnyPointerReader, MessageReader, StructReader

IFACE = 0xA1B2C3D4E5F60708
U64 = struct.Struct("<Q")

ECHO, GET_SELF, FAIL, HOLD, CALL_BACK, RECORD, MAKE_NEW = range(7)


def params(value: int = 0, cap: Cap | None = None, text: str | None = None) -> StructBuilder:
    """A P struct in a new message (``cap``'s reference moves into the message)."""
    builder = MessageBuilder()
    s = builder.init_root(1, 2)
    s.set_int(U64, 0, value)
    if cap is not None:
        s.set_capability(0, cap)
    if text is not None:
        s.set_text(1, text)
    return s


def as_struct(content: object) -> StructReader:
    """Read results or params as the P struct."""
    if isinstance(content, StructReader):
        return content
    assert isinstance(content, AnyPointerReader)
    return content.as_struct()


def value_of(call: PendingCall) -> int:
    """The ``value`` of a returned call."""
    assert call.done and call.exception is None, call.exception
    return as_struct(call.results).get_int(U64, 0)


class TestServer:
    """A local object for the test interface."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str = "server") -> None:
        self.name = name
        self.seen: list[int] = []
        self.held: list[Delivery] = []
        self.self_cap: Cap | None = None

    def handle(self, node: Node, delivery: Delivery) -> None:
        vat = node.vat
        method = delivery.method_id
        p = as_struct(delivery.params) if delivery.params is not None else None
        if method == ECHO:
            assert p is not None
            out = params(p.get_int(U64, 0))
            cap = p.get_capability(0)
            if isinstance(cap, Cap):
                out.set_capability(0, vat.add_ref(cap))
            text = p.get_text(1)
            if text:
                out.set_text(1, text)
            vat.return_results(delivery, out)
        elif method == GET_SELF:
            assert self.self_cap is not None
            vat.return_results(delivery, params(0, vat.add_ref(self.self_cap)))
        elif method == FAIL:
            vat.return_exception(delivery, RpcException(f"{self.name} failed on purpose"))
        elif method == HOLD:
            self.held.append(delivery)
        elif method == CALL_BACK:
            assert p is not None
            cap = p.get_capability(0)
            assert isinstance(cap, Cap)
            vat.tail_call(delivery, cap, IFACE, ECHO, params(p.get_int(U64, 0) + 1))
        elif method == RECORD:
            assert p is not None
            value = p.get_int(U64, 0)
            self.seen.append(value)
            vat.return_results(delivery, params(value))
        elif method == MAKE_NEW:
            child = TestServer(f"{self.name}.child")
            cap = vat.local_cap(child)
            child.self_cap = cap
            vat.return_results(delivery, params(0, vat.add_ref(cap)))
        else:
            vat.return_exception(delivery, RpcException("unknown method"))


class Node:
    """A vat plus the events it produced that no handler consumed."""

    def __init__(self, name: str, server: TestServer | None = None, record: bool = False) -> None:
        self.server = server
        # A recorded node writes a trace (capnrpc_core.rpc.trace) of everything it does.
        self.vat: Vat = (
            TraceRecorder(server, name=name)  # type: ignore[assignment]
            if record
            else Vat(server, name=name)
        )
        if server is not None:
            assert self.vat.bootstrap_cap is not None
            server.self_cap = self.vat.bootstrap_cap
        self.events: list[Event] = []
        self.returned: list[PendingCall] = []

    def process_events(self) -> bool:
        progressed = False
        while (event := self.vat.next_event()) is not None:
            progressed = True
            if isinstance(event, DeliverCall):
                server = event.delivery.server
                assert isinstance(server, TestServer)
                server.handle(self, event.delivery)
            elif isinstance(event, CallReturned):
                self.returned.append(event.call)
            else:
                self.events.append(event)
        return progressed


class Link:
    """Two connections joined in memory, recording every message each way."""

    def __init__(self, a: Node, b: Node) -> None:
        self.a, self.b = a, b
        self.ca = a.vat.new_connection(f"{a.vat.name}->{b.vat.name}")
        self.cb = b.vat.new_connection(f"{b.vat.name}->{a.vat.name}")
        self.log: list[tuple[str, Message]] = []
        self.held = False  # while True, bytes stay queued (to interleave deliveries)
        self.pending_ab: list[bytes] = []
        self.pending_ba: list[bytes] = []

    def move(self) -> bool:
        progressed = False
        data = self.a.vat.data_to_send(self.ca)
        if data:
            self.pending_ab.append(data)
        data = self.b.vat.data_to_send(self.cb)
        if data:
            self.pending_ba.append(data)
        if self.held:
            return False
        while self.pending_ab:
            chunk = self.pending_ab.pop(0)
            self._log(f"{self.a.vat.name}->{self.b.vat.name}", chunk)
            self.b.vat.receive_data(self.cb, chunk)
            progressed = True
        while self.pending_ba:
            chunk = self.pending_ba.pop(0)
            self._log(f"{self.b.vat.name}->{self.a.vat.name}", chunk)
            self.a.vat.receive_data(self.ca, chunk)
            progressed = True
        return progressed

    def _log(self, direction: str, chunk: bytes) -> None:
        for segments in FrameDecoder().feed(chunk):
            self.log.append((direction, decode_message(MessageReader(segments))))

    def messages(self, direction: str | None = None) -> list[Message]:
        return [m for d, m in self.log if direction is None or d == direction]

    def kinds(self, direction: str | None = None) -> list[str]:
        return [type(m).__name__ for m in self.messages(direction)]


class Net:
    """Several nodes and the links between them; ``pump`` runs until nothing moves."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.links: list[Link] = []

    def node(self, name: str, server: TestServer | None = None, record: bool = False) -> Node:
        node = Node(name, server, record)
        self.nodes.append(node)
        return node

    def link(self, a: Node, b: Node) -> Link:
        link = Link(a, b)
        self.links.append(link)
        return link

    def pump(self, limit: int = 10_000) -> None:
        for _ in range(limit):
            progressed = False
            for node in self.nodes:
                progressed |= node.process_events()
            for link in self.links:
                progressed |= link.move()
            if not progressed:
                return
        raise AssertionError("network did not settle")


def tables_empty(conn: Connection) -> bool:
    """Whether every table of ``conn`` is empty."""
    return not (
        len(conn.questions)
        or conn.answers
        or len(conn.exports)
        or conn.imports
        or conn.promise_imports
        or len(conn.embargoes)
    )


def table_sizes(conn: Connection) -> dict[str, int]:
    """The size of each table, for assertion messages."""
    return {
        "questions": len(conn.questions),
        "answers": len(conn.answers),
        "exports": len(conn.exports),
        "imports": len(conn.imports),
        "promise_imports": len(conn.promise_imports),
        "embargoes": len(conn.embargoes),
    }


def frame(message: Message) -> bytes:
    """Encode one message as a frame (for feeding a connection by hand)."""
    return encode_message(message)


def decode_all(data: bytes) -> list[Message]:
    """Decode every frame in ``data``."""
    return [decode_message(MessageReader(s)) for s in FrameDecoder().feed(data)]


def release_all(vat: Vat, caps: Iterable[Cap]) -> None:
    for cap in caps:
        vat.release(cap)


def alice_and_bob(server_name: str = "server") -> tuple[Net, Node, Node, Link, TestServer]:
    """Two vats in memory: ``alice`` (no bootstrap) and ``bob`` serving a TestServer."""
    net = Net()
    server = TestServer(server_name)
    alice = net.node("alice")
    bob = net.node("bob", server)
    return net, alice, bob, net.link(alice, bob), server


def assert_clean(net: Net, link: Link) -> None:
    """Let everything settle, then check both ends of ``link`` hold nothing."""
    net.pump()
    assert tables_empty(link.ca), table_sizes(link.ca)
    assert tables_empty(link.cb), table_sizes(link.cb)
