"""Two vats in memory: bootstrap, calls, pipelining, capabilities both ways, releases."""

from __future__ import annotations

from capnrpc_core.rpc import ExceptionType, ServerReleased, Vat
from capnrpc_core.rpc.messages import (
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Finish,
    Release,
    Return,
    ReturnKind,
)
from capnrpc_core.rpc.trace import TraceRecorder, replay
from tests.rpc.harness import (
    CALL_BACK,
    ECHO,
    FAIL,
    GET_SELF,
    HOLD,
    IFACE,
    MAKE_NEW,
    RECORD,
    Net,
    TestServer,
    alice_and_bob,
    as_struct,
    assert_clean,
    decode_all,
    params,
    tables_empty,
    value_of,
)


def test_bootstrap_and_echo_then_everything_released() -> None:
    net, alice, _bob, link, _server = alice_and_bob()
    vat = alice.vat

    cap = vat.bootstrap(link.ca)
    call = vat.call(cap, IFACE, ECHO, params(42, text="hi"))
    net.pump()

    assert value_of(call) == 42
    assert as_struct(call.results).get_text(1) == "hi"
    # The call was pipelined on the bootstrap question: it went out before any Return.
    kinds = link.kinds("alice->bob")
    assert kinds[:2] == ["Bootstrap", "Call"]
    first_call = link.messages("alice->bob")[1]
    assert isinstance(first_call, Call)
    assert first_call.target.promised_answer is not None

    vat.release_call(call)
    vat.release(cap)
    assert_clean(net, link)
    # One Release with the aggregated count for the bootstrap import.
    releases = [m for m in link.messages("alice->bob") if isinstance(m, Release)]
    assert releases == [Release(0, 1)]


def test_return_flags_match_the_cxx_reference() -> None:
    net, alice, _bob, link, _ = alice_and_bob()
    cap = alice.vat.bootstrap(link.ca)
    call = alice.vat.call(cap, IFACE, ECHO, params(1))
    net.pump()
    returns = [m for m in link.messages("bob->alice") if isinstance(m, Return)]
    boot_return, call_return = returns
    # Bootstrap: default releaseParamCaps, Finish needed (the cap must be released).
    assert boot_return.release_param_caps is True and not boot_return.no_finish_needed
    # A result without capabilities: no Finish needed, params never released by the caller.
    assert call_return.release_param_caps is False and call_return.no_finish_needed
    finishes = [m for m in link.messages("alice->bob") if isinstance(m, Finish)]
    assert finishes == [
        Finish(0, release_result_caps=False, require_early_cancellation_workaround=False)
    ]
    alice.vat.release_call(call)
    alice.vat.release(cap)


def test_pipelined_call_on_a_returned_capability() -> None:
    net, alice, _bob, link, _server = alice_and_bob()
    vat = alice.vat

    cap = vat.bootstrap(link.ca)
    first = vat.call(cap, IFACE, MAKE_NEW, params())
    child = vat.pipeline(first, [0])
    second = vat.call(child, IFACE, RECORD, params(7))
    # Nothing has been delivered yet; both calls are already on the wire.
    link.move()
    sent = [m for m in link.messages("alice->bob") if isinstance(m, Call)]
    assert len(sent) == 2
    assert sent[1].target.promised_answer is not None
    assert sent[1].target.promised_answer.transform == (0,)
    net.pump()
    assert value_of(second) == 7
    for c in (first, second):
        vat.release_call(c)
    vat.release(child)
    vat.release(cap)
    assert_clean(net, link)


def test_exception_carries_type_and_reason() -> None:
    net, alice, _bob, link, _ = alice_and_bob("bob-server")
    cap = alice.vat.bootstrap(link.ca)
    call = alice.vat.call(cap, IFACE, FAIL, params())
    net.pump()
    assert call.exception is not None
    assert call.exception.type == ExceptionType.FAILED
    assert "bob-server failed on purpose" in call.exception.reason
    alice.vat.release_call(call)
    alice.vat.release(cap)
    assert_clean(net, link)


def test_capabilities_both_ways_and_callback_tail_call() -> None:
    net, alice, _bob, link, _server = alice_and_bob("bob")
    vat = alice.vat
    mine = TestServer("alice-callback")
    my_cap = vat.local_cap(mine)
    mine.self_cap = my_cap

    cap = vat.bootstrap(link.ca)
    # Bob calls back into alice's object and returns that call's results (a tail call).
    call = vat.call(cap, IFACE, CALL_BACK, params(10, vat.add_ref(my_cap)))
    net.pump()
    assert value_of(call) == 11
    # Bob sent the callback with sendResultsTo.yourself, then takeFromOtherQuestion.
    bob_msgs = link.messages("bob->alice")
    tail = [m for m in bob_msgs if isinstance(m, Call)]
    assert len(tail) == 1 and tail[0].send_results_to.name == "YOURSELF"
    kinds = [m.kind for m in bob_msgs if isinstance(m, Return)]
    assert ReturnKind.TAKE_FROM_OTHER_QUESTION in kinds
    alice_returns = [m.kind for m in link.messages("alice->bob") if isinstance(m, Return)]
    assert alice_returns == [ReturnKind.RESULTS_SENT_ELSEWHERE]

    vat.release_call(call)
    vat.release(cap)
    vat.release(my_cap)
    assert_clean(net, link)


def test_capability_passed_back_is_recognised_as_local() -> None:
    net, alice, _bob, link, _ = alice_and_bob()
    vat = alice.vat
    mine = TestServer("mine")
    my_cap = vat.local_cap(mine)
    cap = vat.bootstrap(link.ca)
    call = vat.call(cap, IFACE, ECHO, params(5, vat.add_ref(my_cap)))
    net.pump()
    returned = as_struct(call.results).get_capability(0)
    # Bob echoed our own capability: it comes back as receiverHosted and is our local object.
    assert returned is my_cap
    ret = [m for m in link.messages("bob->alice") if isinstance(m, Return)][-1]
    assert ret.results is not None
    assert [d.kind for d in ret.results.cap_table] == [CapKind.RECEIVER_HOSTED]
    vat.release_call(call)
    vat.release(cap)
    vat.release(my_cap)
    assert_clean(net, link)


def test_e_order_of_calls_through_a_pipelined_promise() -> None:
    net, alice, _bob, link, _ = alice_and_bob()
    vat = alice.vat
    cap = vat.bootstrap(link.ca)
    first = vat.call(cap, IFACE, MAKE_NEW, params())
    child = vat.pipeline(first, [0])
    calls = [vat.call(child, IFACE, RECORD, params(i)) for i in range(5)]
    net.pump()
    calls += [vat.call(child, IFACE, RECORD, params(i)) for i in range(5, 10)]
    net.pump()
    assert [value_of(c) for c in calls] == list(range(10))
    for c in [first, *calls]:
        vat.release_call(c)
    vat.release(child)
    vat.release(cap)
    assert_clean(net, link)


def test_cancel_before_return_sends_finish_and_peer_answers_canceled() -> None:
    net, alice, bob, link, server = alice_and_bob()
    vat = alice.vat
    cap = vat.bootstrap(link.ca)
    call = vat.call(cap, IFACE, HOLD, params())
    net.pump()
    assert len(server.held) == 1
    vat.cancel(call)
    net.pump()
    finish = [m for m in link.messages("alice->bob") if isinstance(m, Finish)][-1]
    assert finish.release_result_caps is True
    ret = [m for m in link.messages("bob->alice") if isinstance(m, Return)][-1]
    assert ret.kind == ReturnKind.CANCELED
    assert server.held[0].canceled
    # The late answer from the server is dropped without error.
    bob.vat.return_results(server.held[0], params(1))
    vat.release(cap)
    assert_clean(net, link)


def test_disconnect_fails_pending_calls_with_disconnected() -> None:
    net, alice, bob, link, _server = alice_and_bob()
    vat = alice.vat
    cap = vat.bootstrap(link.ca)
    call = vat.call(cap, IFACE, HOLD, params())
    net.pump()
    bob.vat.disconnect(link.cb, "going away")
    vat.receive_data(link.ca, b"")
    net.pump()
    assert call.done and call.exception is not None
    assert call.exception.type == ExceptionType.DISCONNECTED
    # Later calls on the broken capability fail at once.
    later = vat.call(cap, IFACE, ECHO, params(1))
    assert later.done and later.exception is not None
    assert later.exception.type == ExceptionType.DISCONNECTED
    assert tables_empty(link.ca) and tables_empty(link.cb)


def test_bootstrap_without_bootstrap_object_fails() -> None:
    net = Net()
    alice = net.node("alice")
    bob = net.node("bob")
    link = net.link(alice, bob)
    cap = alice.vat.bootstrap(link.ca)
    call = alice.vat.call(cap, IFACE, ECHO, params())
    net.pump()
    assert call.exception is not None and "no bootstrap" in call.exception.reason
    assert isinstance(link.messages("alice->bob")[0], Bootstrap)
    alice.vat.release_call(call)
    alice.vat.release(cap)
    assert_clean(net, link)


def test_get_self_returns_same_export() -> None:
    net, alice, _bob, link, _ = alice_and_bob()
    vat = alice.vat
    cap = vat.bootstrap(link.ca)
    calls = [vat.call(cap, IFACE, GET_SELF, params()) for _ in range(3)]
    net.pump()
    caps = {id(as_struct(c.results).get_capability(0)) for c in calls}
    assert len(caps) == 1
    for c in calls:
        vat.release_call(c)
    vat.release(cap)
    net.pump()
    # Export 0 was sent four times (bootstrap + three results): one Release of 4.
    releases = [m for m in link.messages("alice->bob") if isinstance(m, Release)]
    assert releases == [Release(0, 4)]
    assert tables_empty(link.ca) and tables_empty(link.cb)


def test_per_connection_bootstrap_overrides_the_vats() -> None:
    net, alice, bob, link, _ = alice_and_bob()
    special = TestServer("special")
    special_cap = bob.vat.local_cap(special)
    bob.vat.set_bootstrap(link.cb, special_cap)
    bob.vat.release(special_cap)  # the connection keeps its own reference
    cap = alice.vat.bootstrap(link.ca)
    call = alice.vat.call(cap, IFACE, RECORD, params(7))
    net.pump()
    assert value_of(call) == 7 and special.seen == [7]
    alice.vat.release_call(call)
    alice.vat.release(cap)
    net.pump()
    bob.vat.disconnect(link.cb)
    net.pump()
    # Closing the connection dropped its reference: the object is released.
    assert any(getattr(e, "server", None) is special for e in bob.events)


def test_output_ready_takes_only_the_connections_with_output_in_order() -> None:
    hub = Vat(TestServer("hub"), name="hub")
    quiet, first, second = (hub.new_connection(name) for name in ("quiet", "first", "second"))
    assert hub.output_ready() == []
    # Bootstraps queue one message each: "second" queues before "first".
    second_cap = hub.bootstrap(second)
    first_cap = hub.bootstrap(first)
    ready = hub.output_ready()
    assert [conn for conn, _ in ready] == [second, first]
    assert [decode_all(data) for _, data in ready] == [[Bootstrap(0)], [Bootstrap(0)]]
    assert hub.output_ready() == []
    assert hub.data_to_send(quiet) == b""
    # data_to_send still works, and what it took is not handed out again.
    hub.call(first_cap, IFACE, ECHO, params(1))
    hub.call(second_cap, IFACE, ECHO, params(2))
    assert [type(m) for m in decode_all(hub.data_to_send(first))] == [Call]
    ((conn, data),) = hub.output_ready()
    assert conn is second and [type(m) for m in decode_all(data)] == [Call]
    assert not hub._with_output


def test_output_ready_through_a_trace_recorder_replays() -> None:
    recorder = TraceRecorder(name="rec")
    conn = recorder.new_connection("c")
    recorder.bootstrap(conn)
    ((got_conn, data),) = recorder.output_ready()
    assert got_conn is conn and decode_all(data) == [Bootstrap(0)]
    replayed = replay(recorder.text())
    assert not replayed.output_ready()


def test_a_finished_call_forgets_its_question() -> None:
    # No PendingCall <-> Question cycle outlives the question: reference counting alone frees
    # a finished call and its results once the application drops them.
    net, alice, _bob, link, _ = alice_and_bob()
    cap = alice.vat.bootstrap(link.ca)
    call = alice.vat.call(cap, IFACE, ECHO, params(1))
    question = call.question
    assert question is not None and not question.returned
    net.pump()
    assert value_of(call) == 1
    assert call.question is None and question.pending is call
    assert question.id not in link.ca.questions
    alice.vat.release_call(call)
    alice.vat.release(cap)
    assert_clean(net, link)


def test_one_local_object_is_one_capability_with_one_export_id() -> None:
    net, alice, _bob, link, _ = alice_and_bob()
    callback = TestServer("callback")
    first = alice.vat.local_cap(callback)
    second = alice.vat.local_cap(callback)
    assert first is second and first.refs == 2
    cap = alice.vat.bootstrap(link.ca)
    calls = [alice.vat.call(cap, IFACE, ECHO, params(i, alice.vat.add_ref(first))) for i in (1, 2)]
    net.pump()
    sent = [m for m in link.messages("alice->bob") if isinstance(m, Call)]
    assert [m.params.cap_table for m in sent] == [(CapDescriptor(CapKind.SENDER_HOSTED, 0),)] * 2
    for call in calls:
        alice.vat.release_call(call)
    alice.vat.release(first)
    assert not any(isinstance(e, ServerReleased) for e in alice.vat.events())
    alice.vat.release(second)
    assert [e.server for e in alice.vat.events() if isinstance(e, ServerReleased)] == [callback]
    # Once released, the object gets a fresh capability.
    third = alice.vat.local_cap(callback)
    assert third is not first and third.refs == 1
    alice.vat.release(third)
    alice.vat.release(cap)
    assert_clean(net, link)
