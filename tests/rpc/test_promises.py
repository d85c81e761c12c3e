"""Promises exported and imported, Resolve, embargos and E-order."""

from __future__ import annotations

from capnrpc_core.rpc.caps import PromiseCap
from capnrpc_core.rpc.messages import (
    CapKind,
    Disembargo,
    DisembargoKind,
    ExceptionType,
    Resolve,
    Return,
    RpcException,
)
from tests.rpc.harness import (
    ECHO,
    HOLD,
    IFACE,
    RECORD,
    Net,
    TestServer,
    as_struct,
    assert_clean,
    params,
    value_of,
)


def test_exported_promise_resolving_back_to_the_caller_is_embargoed() -> None:
    net = Net()
    alice_server = TestServer("alice")
    alice = net.node("alice", alice_server)
    bob = net.node("bob")
    link = net.link(bob, alice)
    x_server = TestServer("x")
    x = bob.vat.local_cap(x_server)

    cap = bob.vat.bootstrap(link.ca)
    hold = bob.vat.call(cap, IFACE, HOLD, params(0, bob.vat.add_ref(x)))
    net.pump()
    (delivery,) = alice_server.held
    x_at_alice = as_struct(delivery.params).get_capability(0)
    x_at_alice = alice.vat.add_ref(x_at_alice)  # type: ignore[arg-type]

    # Alice answers with a promise; bob calls through it while it is unresolved.
    promise = alice.vat.new_promise()
    alice.vat.return_results(delivery, params(0, alice.vat.add_ref(promise)))
    net.pump()
    via_promise = as_struct(hold.results).get_capability(0)
    assert isinstance(via_promise, PromiseCap)
    first = bob.vat.call(via_promise, IFACE, RECORD, params(1))
    net.pump()
    assert not first.done  # waiting in alice's promise

    # Alice resolves the promise to bob's own object: bob must embargo.
    link.held = True
    alice.vat.resolve(promise, x_at_alice)
    link.held = False
    link.move()  # bob receives Call(1) (reflected) and the Resolve: it embargoes
    second = bob.vat.call(via_promise, IFACE, RECORD, params(2))
    assert not second.done
    link.move()  # the Disembargo goes out
    resolves = [m for m in link.messages("alice->bob") if isinstance(m, Resolve)]
    assert resolves and resolves[0].cap is not None
    assert resolves[0].cap.kind == CapKind.RECEIVER_HOSTED
    sent = [m for m in link.messages("bob->alice") if isinstance(m, Disembargo)]
    assert len(sent) == 1 and sent[0].kind == DisembargoKind.SENDER_LOOPBACK
    net.pump()
    back = [m for m in link.messages("alice->bob") if isinstance(m, Disembargo)]
    assert len(back) == 1 and back[0].kind == DisembargoKind.RECEIVER_LOOPBACK
    assert x_server.seen == [1, 2]
    assert value_of(first) == 1 and value_of(second) == 2

    for c in (hold, first, second):
        bob.vat.release_call(c)
    bob.vat.release(cap)
    bob.vat.release(x)
    alice.vat.release(promise)
    alice.vat.release(x_at_alice)
    assert_clean(net, link)


def test_pipelined_promise_resolving_to_local_object_embargoes_until_loopback() -> None:
    net = Net()
    alice_server = TestServer("alice")
    alice = net.node("alice", alice_server)
    bob = net.node("bob")
    link = net.link(bob, alice)
    x_server = TestServer("x")
    x = bob.vat.local_cap(x_server)
    cap = bob.vat.bootstrap(link.ca)
    # Alice echoes bob's capability back; bob pipelines on it before the Return.
    call = bob.vat.call(cap, IFACE, ECHO, params(0, bob.vat.add_ref(x)))
    piped = bob.vat.pipeline(call, [0])
    early = [bob.vat.call(piped, IFACE, RECORD, params(i)) for i in range(3)]
    link.move()  # calls out
    net.nodes[0].process_events()  # alice answers; queued pipelined calls go back to bob
    link.held = True
    link.move()
    link.held = False
    link.move()  # bob: reflected calls, Return (-> embargo + Disembargo)
    late = [bob.vat.call(piped, IFACE, RECORD, params(i)) for i in range(3, 6)]
    assert all(not c.done for c in late)
    net.pump()
    assert x_server.seen == list(range(6))
    assert [value_of(c) for c in early + late] == list(range(6))
    kinds = [m.kind for m in link.messages("bob->alice") if isinstance(m, Disembargo)]
    assert kinds == [DisembargoKind.SENDER_LOOPBACK]
    for c in [call, *early, *late]:
        bob.vat.release_call(c)
    for c in (piped, cap, x):
        bob.vat.release(c)
    assert_clean(net, link)


def test_promise_rejected_fails_queued_and_later_calls_without_embargo() -> None:
    net = Net()
    alice_server = TestServer("alice")
    alice = net.node("alice", alice_server)
    bob = net.node("bob")
    link = net.link(bob, alice)
    cap = bob.vat.bootstrap(link.ca)
    hold = bob.vat.call(cap, IFACE, HOLD, params())
    net.pump()
    promise = alice.vat.new_promise()
    alice.vat.return_results(alice_server.held[0], params(0, alice.vat.add_ref(promise)))
    net.pump()
    remote = as_struct(hold.results).get_capability(0)
    first = bob.vat.call(remote, IFACE, ECHO, params(1))  # type: ignore[arg-type]
    net.pump()
    alice.vat.reject(promise, RpcException("no such thing", ExceptionType.FAILED))
    net.pump()
    assert first.exception is not None and "no such thing" in first.exception.reason
    later = bob.vat.call(remote, IFACE, ECHO, params(2))  # type: ignore[arg-type]
    assert later.exception is not None and "no such thing" in later.exception.reason
    assert not [m for m in link.log if isinstance(m[1], Disembargo)]
    resolves = [m for m in link.messages("alice->bob") if isinstance(m, Resolve)]
    assert resolves[0].exception is not None
    for c in (hold, first, later):
        bob.vat.release_call(c)
    bob.vat.release(cap)
    alice.vat.release(promise)
    assert_clean(net, link)


def test_local_promise_queues_calls_in_order_then_flushes() -> None:
    net = Net()
    alice = net.node("alice")
    vat = alice.vat
    promise = vat.new_promise()
    server = TestServer("local")
    target = vat.local_cap(server)
    calls = [vat.call(promise, IFACE, RECORD, params(i)) for i in range(4)]
    net.pump()
    assert server.seen == []
    vat.resolve(promise, target)
    calls.append(vat.call(promise, IFACE, RECORD, params(4)))
    net.pump()
    assert server.seen == [0, 1, 2, 3, 4]
    assert [value_of(c) for c in calls] == [0, 1, 2, 3, 4]


def test_promise_resolved_to_itself_breaks_instead_of_looping() -> None:
    net = Net()
    alice = net.node("alice")
    vat = alice.vat
    a = vat.new_promise()
    b = vat.new_promise()
    vat.resolve(a, b)
    vat.resolve(b, a)
    call = vat.call(a, IFACE, ECHO, params())
    net.pump()
    assert call.exception is not None and "cycle" in call.exception.reason


def test_returned_exception_breaks_pipelined_caps() -> None:
    net = Net()
    alice = net.node("alice", TestServer("a"))
    bob = net.node("bob")
    link = net.link(bob, alice)
    cap = bob.vat.bootstrap(link.ca)
    call = bob.vat.call(cap, IFACE, 2, params())  # FAIL
    piped = bob.vat.pipeline(call, [0])
    piped_call = bob.vat.call(piped, IFACE, ECHO, params())
    net.pump()
    assert piped_call.exception is not None
    assert "failed on purpose" in piped_call.exception.reason
    returns = [m for m in link.messages("alice->bob") if isinstance(m, Return)]
    assert len(returns) == 3
    for c in (call, piped_call):
        bob.vat.release_call(c)
    bob.vat.release(piped)
    bob.vat.release(cap)
    assert_clean(net, link)


def test_call_that_waits_on_its_own_result_fails_instead_of_hanging() -> None:
    net = Net()
    server = TestServer("s")
    alice = net.node("alice")
    vat = alice.vat
    target = vat.local_cap(server)
    held = vat.call(target, IFACE, HOLD, params())
    net.pump()
    # A call on the held call's result; the held call then answers with that call's result.
    waiting = vat.call(vat.pipeline(held, [0]), IFACE, ECHO, params())
    loop = vat.pipeline(waiting, [0])
    vat.return_results(server.held[0], params(0, loop))
    net.pump()
    assert waiting.done and waiting.exception is not None
    assert "deadlock" in waiting.exception.reason
