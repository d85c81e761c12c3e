"""The driver's Pump (capnrpc_core.driver): what one drain takes out of a vat.

Two core vats joined by hand, each with a Pump whose handler only records what it is given, so
each test sees exactly which drain made which output.
"""

from __future__ import annotations

from capnrpc_core.driver import Pump
from capnrpc_core.rpc import Cap, Connection, Delivery, PendingCall, RpcException, Vat
from capnrpc_core.rpc.messages import Release
from tests.rpc.harness import IFACE, as_struct, decode_all, params


class Recorder:
    """A Pump's EventHandler that keeps everything it is handed."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.returned: list[PendingCall] = []
        self.sent: list[bytes] = []

    def deliver(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    def delivery_canceled(self, delivery: Delivery) -> None:
        pass

    def call_returned(self, call: PendingCall) -> None:
        self.returned.append(call)

    def stream_ready(self, call: PendingCall) -> None:
        pass

    def send(self, conn: Connection, data: bytes) -> None:
        self.sent.append(data)

    def connection_closed(
        self, conn: Connection, exception: RpcException | None, by_peer: bool
    ) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.sent)
        self.sent.clear()
        return data


class Side:
    """A vat, its connection to the other side and its pump."""

    def __init__(self, name: str, bootstrap: object | None = None) -> None:
        self.vat = Vat(bootstrap, name=name)
        self.conn = self.vat.new_connection()
        self.handler = Recorder()
        self.pump = Pump(self.vat, self.handler)

    def receive(self, data: bytes) -> None:
        """Feed ``data`` and drain once, as a driver's reader does."""
        self.vat.receive_data(self.conn, data)
        self.pump.drain()


class Holder:
    """A local object that gives a capability back when it is garbage, as a client does."""

    def __init__(self, pump: Pump, cap: Cap) -> None:
        self.pump = pump
        self.cap = cap

    def __del__(self) -> None:
        self.pump.release_later(self.cap)


def connect() -> tuple[Side, Side, Cap]:
    """Alice and Bob, and Alice's reference to Bob's bootstrap object."""
    alice = Side("alice")
    bob = Side("bob", bootstrap=object())
    boot = alice.vat.bootstrap(alice.conn)
    alice.pump.drain()
    bob.receive(alice.handler.take())  # Bootstrap
    alice.receive(bob.handler.take())  # Return
    bob.receive(alice.handler.take())  # Finish
    assert not alice.handler.sent and not bob.handler.sent
    return alice, bob, boot


def test_releases_queued_when_the_last_event_is_dropped_leave_in_the_same_drain() -> None:
    alice, bob, boot = connect()
    # Bob gets a capability to a Holder of Alice's that holds her reference to his bootstrap.
    call = alice.vat.call(boot, IFACE, 0, params(cap=alice.vat.local_cap(Holder(alice.pump, boot))))
    alice.pump.drain()
    bob.receive(alice.handler.take())
    delivery = bob.handler.deliveries.pop()
    holder = as_struct(delivery.params).get_capability(0)
    assert isinstance(holder, Cap)
    bob.vat.add_ref(holder)
    bob.vat.return_results(delivery)
    del delivery
    bob.pump.drain()
    alice.receive(bob.handler.take())
    assert alice.handler.returned == [call]
    alice.vat.release_call(call)
    alice.pump.drain()
    assert not alice.handler.sent
    # Bob's Release ends the Holder (a ServerReleased event, the drain's last); its finalizer
    # queues the release of Bob's bootstrap, which must go out in the drain that took the event.
    bob.vat.release(holder)
    bob.pump.drain()
    alice.receive(bob.handler.take())
    assert decode_all(alice.handler.take()) == [Release(0, 1)]


def test_what_a_handler_starts_without_draining_is_taken_by_the_same_drain() -> None:
    alice, _bob, boot = connect()
    alice.vat.release(boot)
    local = alice.vat.local_cap(object())
    started: list[PendingCall] = []

    class Closing(Recorder):
        def connection_closed(
            self, conn: Connection, exception: RpcException | None, by_peer: bool
        ) -> None:
            # As a driver's closing code may: a vat command, and no drain of its own.
            started.append(alice.vat.call(local, IFACE, 0, params(1)))

    alice.handler = Closing()
    alice.pump.handler = alice.handler
    alice.receive(b"")
    assert [d.pending for d in alice.handler.deliveries] == started != []
