"""The typed layer (schema.interfaces) over two in-memory vats, with a tiny in-test runtime.

The runtime here is the smallest thing that satisfies the driver contract: promises are
"awaited" by pumping the network until they settle, and async server methods are driven by
hand (they may only await promises of this runtime).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Generator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from capnrpc_core import LocalUsageError, RpcError
from capnrpc_core.rpc import (
    CallReturned,
    Cap,
    DeliverCall,
    DeliveryCanceled,
    PendingCall,
    Vat,
)
from capnrpc_core.rpc.messages import Call, Finish, Release
from capnrpc_core.schema import interfaces
from capnrpc_core.schema.interfaces import (
    Client,
    Promise,
    Server,
    bootstrap_client,
    local_client,
    method_display_name,
)
from tests.rpc.harness import Link, table_sizes, tables_empty
from tests.services import CallbackImpl, CounterImpl, EchoImpl, SinkImpl, rpctest


class MemPromise(Promise):
    """Awaitable inside MemRuntime's hand-driven coroutines; ``wait()`` from test code."""

    def wait(self) -> Any:
        self._runtime.net.pump_until(lambda: self._call.done)  # type: ignore[attr-defined]
        return self._result()

    def __await__(self) -> Generator[Any, None, Any]:
        while not self._call.done:
            yield self
        return self._result()


class MemRuntime:
    """A driver for one vat of a :class:`MemNet`."""

    def __init__(self, net: MemNet, name: str) -> None:
        self.net = net
        self.vat = Vat(name=name)
        self.later: list[Cap | PendingCall] = []
        self.canceled: list[Any] = []
        self.flushes = 0

    def make_promise(self, call: PendingCall, result_type: Any) -> MemPromise:
        return MemPromise(self, call, result_type)

    def lock(self) -> AbstractContextManager[None]:
        return nullcontext()

    def flush(self) -> None:
        self.flushes += 1

    def release_later(self, ref: Cap | PendingCall) -> None:
        self.later.append(ref)

    def serve(self, server: Server) -> None:
        self.vat.bootstrap_cap = self.vat.local_cap(server, type(server)._streaming_methods())

    def step(self) -> bool:
        progressed = False
        while self.later:
            interfaces.release_now(self.vat, self.later.pop(0))
            progressed = True
        while (event := self.vat.next_event()) is not None:
            progressed = True
            if isinstance(event, DeliverCall):
                self.run(event.delivery)
            elif isinstance(event, DeliveryCanceled):
                self.canceled.append(event.delivery)
            elif isinstance(event, CallReturned):
                pass
        return progressed

    def run(self, delivery: Any) -> None:
        try:
            inv = interfaces.start_delivery(self, delivery)
            value = inv.fn(**inv.kwargs)
        except Exception as exc:
            interfaces.fail_delivery(self, delivery, exc)
            return
        if hasattr(value, "send"):
            self.net.coroutines.append((value, delivery, inv))
        else:
            interfaces.finish_delivery(self, delivery, inv, value)


class MemNet:
    """Vats joined by in-memory links; async server methods are resumed as their awaits settle."""

    def __init__(self) -> None:
        self.runtimes: list[MemRuntime] = []
        self.links: list[Link] = []
        self.coroutines: list[tuple[Any, Any, Any]] = []

    def runtime(self, name: str) -> MemRuntime:
        rt = MemRuntime(self, name)
        self.runtimes.append(rt)
        return rt

    def link(self, a: MemRuntime, b: MemRuntime) -> Link:
        link = Link(a, b)  # type: ignore[arg-type]  # Link only needs .vat
        self.links.append(link)
        return link

    def _resume(self) -> bool:
        progressed = False
        for entry in list(self.coroutines):
            coro, delivery, inv = entry
            runtime = inv.context.runtime
            try:
                awaited = coro.send(None)
            except StopIteration as stop:
                self.coroutines.remove(entry)
                interfaces.finish_delivery(runtime, delivery, inv, stop.value)
                progressed = True
            except Exception as exc:
                self.coroutines.remove(entry)
                interfaces.fail_delivery(runtime, delivery, exc)
                progressed = True
            else:
                progressed |= awaited._call.done
        return progressed

    def pump(self, limit: int = 10_000) -> None:
        for _ in range(limit):
            progressed = False
            for rt in self.runtimes:
                progressed |= rt.step()
            for link in self.links:
                progressed |= link.move()
            progressed |= self._resume()
            if not progressed:
                return
        raise AssertionError("network did not settle")

    def pump_until(self, done: Any) -> None:
        self.pump()
        assert done(), "the call did not settle"


@pytest.fixture
def net() -> MemNet:
    return MemNet()


def setup(net: MemNet) -> tuple[MemRuntime, MemRuntime, Link, EchoImpl, Any]:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    impl = EchoImpl()
    bob.serve(impl)
    link = net.link(alice, bob)
    echo = bootstrap_client(alice, link.ca, rpctest.Echo)
    return alice, bob, link, impl, echo


def assert_clean(net: MemNet, link: Link) -> None:
    gc.collect()
    net.pump()
    assert tables_empty(link.ca), table_sizes(link.ca)
    assert tables_empty(link.cb), table_sizes(link.cb)


def test_interface_types_are_clients_with_a_server_base() -> None:
    assert issubclass(rpctest.Echo, Client)
    assert issubclass(rpctest.Echo, rpctest.Base)
    assert issubclass(rpctest.Echo.Server, rpctest.Base.Server)
    assert issubclass(rpctest.Echo.Server, Server)
    table = EchoImpl._method_table()
    assert (rpctest.Base.schema.id, 0) in table and (rpctest.Echo.schema.id, 10) in table
    assert SinkImpl._streaming_methods() == {(rpctest.Sink.schema.id, 0)}
    assert method_display_name(rpctest.Echo.schema.id, 6) == "Echo.info"
    assert "streaming" in (rpctest.Sink.write.__doc__ or "")


def test_call_with_keywords_positional_and_a_struct(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    assert echo.echo(text="hi").wait().text == "hi"
    assert echo.echo("pos").wait().text == "pos"
    params = rpctest.Echo.param_type("echo").new_message(text="built")
    assert echo.echo(params).wait().text == "built"
    assert echo.ping(41).wait().value == 42  # inherited from Base
    assert echo._send("multi", 3, b=4).wait().to_dict() == {"sum": 7, "product": 12}
    with pytest.raises(TypeError, match="positional"):
        echo.multi(1, 2, 3)
    with pytest.raises(TypeError, match="multiple values"):
        echo.multi(1, a=2)
    echo.release()
    assert_clean(net, link)


def test_pipelined_calls_go_out_before_the_first_return(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    promise = echo.newCounter(start=5)
    counter = promise.counter
    assert isinstance(counter, rpctest.Counter)
    first = counter.next()
    second = counter.next()
    net.pump()
    kinds = link.kinds("alice->bob")
    assert kinds[:4] == ["Bootstrap", "Call", "Call", "Call"]
    calls = [m for m in link.messages("alice->bob") if isinstance(m, Call)]
    assert calls[1].target.promised_answer is not None
    assert calls[1].target.promised_answer.transform == (0,)
    assert (first.wait().value, second.wait().value) == (6, 7)
    # The results' own capability is a client too, and the same object as the pipelined one.
    same = promise.wait().counter
    assert same.next().wait().value == 8
    for c in (counter, same, echo):
        c.release()
    del promise, first, second
    assert_clean(net, link)


def test_struct_group_and_anypointer_pipelining(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    p = echo.info(point={"x": 3, "y": 4}, label="L")
    counter = p.info.counter
    again = p.info.labels.echo
    pinged = again.ping(1)
    counted = counter.next()
    anycap = p.info.any.cast_as(rpctest.Counter)
    from_any = anycap.next()
    with pytest.raises(AttributeError, match="int32 field"):
        _ = p.info.point.x
    with pytest.raises(AttributeError, match="no field"):
        _ = p.info.nope
    with pytest.raises(AttributeError, match="text field"):
        _ = p.info.labels.label
    net.pump()
    assert counted.wait().value == 4
    assert pinged.wait().value == 2
    assert from_any.wait().value == 101
    point = p.info.point.wait()
    assert (point.x, point.y) == (3, 4)
    assert p.info.labels.wait().label == "L"
    info = p.wait().info
    assert info.labels.label == "L"
    assert isinstance(info.counter, rpctest.Counter)
    assert info.any.as_interface(rpctest.Counter).next().wait().value == 102
    for c in (counter, again, anycap, echo):
        c.release()
    del p, info, pinged, counted, from_any, point
    assert_clean(net, link)


def test_capabilities_both_ways_and_a_callback(net: MemNet) -> None:
    _alice, _bob, link, impl, echo = setup(net)
    callback = CallbackImpl()
    result = echo.callBack(callback=callback, value=5).wait()
    assert result.result == 1020
    assert callback.seen == [5, 10]
    # A client passed back to its own vat arrives as the same capability (no proxy).
    counter = echo.newCounter(1).counter
    echo.keep(counter).wait()
    kept = echo.kept().wait().cap
    assert kept.next().wait().value == 2
    assert counter.next().wait().value == 3
    assert impl.held is not None
    for c in (kept, counter):
        c.release()
    impl.held.release()
    echo.release()
    assert_clean(net, link)


def test_returning_a_server_gives_a_typed_client(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    me = echo.getSelf().wait().self
    assert isinstance(me, rpctest.Echo)
    assert me.echo(text="again").wait().text == "again"
    me.release()
    echo.release()
    assert_clean(net, link)


def test_server_exceptions_become_rpc_errors_and_are_logged(
    net: MemNet, caplog: pytest.LogCaptureFixture
) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    with (
        caplog.at_level(logging.WARNING, logger="capnrpc.server"),
        pytest.raises(RpcError) as info,
    ):
        echo.fail(message="boom", kind="value").wait()
    assert info.value.type == "failed"
    assert info.value.reason == "ValueError: boom"
    assert any("Echo.fail" in r.message and r.exc_info for r in caplog.records)
    with pytest.raises(RpcError) as info:
        echo.fail(message="busy", kind="rpc").wait()
    assert (info.value.type, info.value.reason) == ("overloaded", "busy")
    echo.release()
    assert_clean(net, link)


def test_unimplemented_methods_and_servers(net: MemNet) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")

    class Partial(rpctest.Echo.Server):  # type: ignore[misc]
        def echo(self, text: str) -> str:
            return text.upper()

    bob.serve(Partial())
    link = net.link(alice, bob)
    echo = bootstrap_client(alice, link.ca, rpctest.Echo)
    assert echo.echo(text="x").wait().text == "X"
    with pytest.raises(RpcError) as info:
        echo.ping(1).wait()
    assert info.value.type == "unimplemented"
    assert "Base.ping" in info.value.reason and "Partial" in info.value.reason
    # The same capability seen as another interface: the server does not have that method.
    counter = echo.cast_as(rpctest.Counter)
    with pytest.raises(RpcError) as info:
        counter.next().wait()
    assert info.value.type == "unimplemented" and "Counter.next" in info.value.reason
    counter.release()
    echo.release()
    assert_clean(net, link)


def test_result_conventions(net: MemNet) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    results = rpctest.Echo.result_type("multi")

    class Returns(rpctest.Echo.Server):  # type: ignore[misc]
        mode = "tuple"

        def multi(self, a: int, b: int, _context: Any) -> Any:
            mode = self.mode
            if mode == "tuple":
                return (a, b)
            if mode == "dict":
                return {"product": a * b}
            if mode == "struct":
                return results.new_message(sum=-1, product=-2).as_reader()
            if mode == "context":
                _context.results.sum = 99
                return None
            if mode == "too many":
                return (1, 2, 3)
            return "nonsense"

        def ping(self, value: int) -> Any:
            return value  # a single-field result takes a bare value

        def echo(self, text: str) -> Any:
            return ("tuple-of-one",)  # ... and a one-field tuple is that value, not fields

    impl = Returns()
    bob.serve(impl)
    link = net.link(alice, bob)
    echo = bootstrap_client(alice, link.ca, rpctest.Echo)
    expected = {
        "tuple": {"sum": 2, "product": 3},
        "dict": {"sum": 0, "product": 6},
        "struct": {"sum": -1, "product": -2},
        "context": {"sum": 99, "product": 0},
    }
    for mode, want in expected.items():
        impl.mode = mode
        assert echo.multi(2, 3).wait().to_dict() == want, mode
    for mode in ("too many", "nonsense"):
        impl.mode = mode
        with pytest.raises(RpcError, match="FieldTypeError"):
            echo.multi(2, 3).wait()
    assert echo.ping(7).wait().value == 7
    with pytest.raises(RpcError):
        echo.echo("x").wait()
    echo.release()
    assert_clean(net, link)


def test_methods_get_only_the_arguments_they_accept(net: MemNet) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    seen: list[Any] = []

    class Picky(rpctest.Echo.Server):  # type: ignore[misc]
        def multi(self, b: int) -> tuple[int, int]:
            seen.append(b)
            return b, b

        def ping(self, **kwargs: Any) -> int:
            seen.append(sorted(kwargs))
            return int(kwargs["_context"].params.value)

    bob.serve(Picky())
    link = net.link(alice, bob)
    echo = bootstrap_client(alice, link.ca, rpctest.Echo)
    assert echo.multi(a=1, b=2).wait().sum == 2
    assert echo.ping(5).wait().value == 5
    assert seen == [2, ["_context", "value"]]
    echo.release()
    assert_clean(net, link)


def test_released_clients_and_results(net: MemNet) -> None:
    alice, _bob, link, _impl, echo = setup(net)
    counter = echo.newCounter(0).counter
    counter.release()
    counter.release()  # idempotent
    with pytest.raises(LocalUsageError, match="released client"):
        counter.next()
    with pytest.raises(LocalUsageError, match="released client"):
        echo.keep(counter)
    # Nothing was taken for the failed call: the tables still empty out.
    promise = echo.newCounter(0)
    results = promise.wait()
    promise.release()
    with pytest.raises(LocalUsageError, match="already released"):
        promise.wait()
    with pytest.raises(LocalUsageError, match="canceled or released"):
        _ = promise.counter
    # A view read earlier holds its own references: it stays usable.
    with results.counter as counter:
        assert counter.next().wait().value == 1
    del results
    echo.release()
    assert_clean(net, link)
    assert not alice.later


def test_finalizers_only_enqueue(net: MemNet) -> None:
    alice, _bob, link, _impl, echo = setup(net)
    counter = echo.newCounter(0).counter
    cap = counter.cap
    promise = echo.ping(1)
    call = promise.call
    del counter, promise
    gc.collect()
    # The newCounter promise (a temporary), then the counter's reference, then the ping call.
    assert [type(x).__name__ for x in alice.later] == ["PendingCall", "PromiseCap", "PendingCall"]
    assert alice.later[1] is cap and alice.later[2] is call
    assert cap.refs > 0  # not released by the finalizer itself
    echo.release()
    assert_clean(net, link)


class _NeverDone:
    """What a forever-waiting coroutine yields to MemNet: a call that never settles."""

    class _call:
        done = False


def test_cancel_sends_finish_and_cancels_the_delivery(net: MemNet) -> None:
    alice = net.runtime("alice")
    bob = net.runtime("bob")
    held: list[bool] = []

    class Forever:
        def __await__(self) -> Generator[Any, None, None]:
            while True:
                yield _NeverDone

    class Holder(rpctest.Echo.Server):  # type: ignore[misc]
        async def hold(self) -> None:
            held.append(True)
            await Forever()

    bob.serve(Holder())
    link = net.link(alice, bob)
    echo = bootstrap_client(alice, link.ca, rpctest.Echo)
    promise = echo.hold()
    net.pump()
    assert held == [True] and not promise.done
    question = promise.call.question
    assert question is not None
    promise.cancel()
    net.pump()
    finishes = [m for m in link.messages("alice->bob") if isinstance(m, Finish)]
    # The canceled Return came back: the call forgot its question.
    assert promise.call.question is None
    # The bootstrap question's Finish, then the cancellation (before any Return).
    assert [(f.question_id, f.release_result_caps) for f in finishes][-1] == (question.id, True)
    assert len(bob.canceled) == 1
    with pytest.raises(RpcError, match="canceled"):
        promise._result()
    # The driver stops the method and answers the delivery; then everything is gone.
    net.coroutines.clear()
    interfaces.cancel_delivery(bob, bob.canceled[0])
    echo.release()
    del promise
    assert_clean(net, link)


def test_streaming_calls_and_their_failure(net: MemNet) -> None:
    _alice, _bob, link, impl, echo = setup(net)
    sink = echo.sink().sink
    promises = [sink.write(data=bytes([i]) * 10) for i in range(5)]
    assert all(p._stream is not None for p in promises)
    done = sink.done()
    net.pump()
    assert done.wait().to_dict() == {"total": 50, "writes": 5}
    assert [p._result() for p in promises] == [None] * 5
    bad = sink.write(data=b"boom")
    after = sink.write(data=b"x")
    net.pump()
    with pytest.raises(RpcError, match="cannot write boom"):
        after._stream_ready_check()
    with pytest.raises(RpcError, match="cannot write boom"):
        sink.done().wait()  # the object is broken for good, as in C++
    assert bad.call.exception is not None
    assert impl.sinks[0].chunks[-1] == bytes([4]) * 10
    sink.release()
    echo.release()
    del promises, done, bad, after
    assert_clean(net, link)


def test_local_clients_need_no_connection(net: MemNet) -> None:
    rt = net.runtime("solo")
    counter = local_client(rt, CounterImpl(10))
    assert isinstance(counter, rpctest.Counter)
    assert counter.next().wait().value == 11
    via_new_client = rpctest.Counter._new_client(CounterImpl(0), rt)
    assert via_new_client.next().wait().value == 1
    with pytest.raises(LocalUsageError):
        local_client(rt, object())  # type: ignore[arg-type]
    counter.release()
    via_new_client.release()
    net.pump()


def test_clients_of_another_vat_are_refused(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    other = net.runtime("other")
    foreign = local_client(other, CounterImpl())
    with pytest.raises(LocalUsageError, match="another vat"):
        echo.keep(foreign)
    foreign.release()
    echo.release()
    assert_clean(net, link)


def test_release_messages_are_sent_for_imports(net: MemNet) -> None:
    _alice, _bob, link, _impl, echo = setup(net)
    with echo.newCounter(0).wait().counter as counter:
        counter.next().wait()
    echo.release()
    gc.collect()
    net.pump()
    releases = [m for m in link.messages("alice->bob") if isinstance(m, Release)]
    assert len(releases) == 2  # the bootstrap capability and the counter
    assert_clean(net, link)
