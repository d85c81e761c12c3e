"""The trio driver end to end over loopback TCP: calls, pipelining, capabilities, exceptions."""

from __future__ import annotations

import logging

import pytest
import trio

import capnrpc_trio
from capnrpc_core import RpcError
from capnrpc_core.rpc.messages import Bootstrap, Call, Return
from tests.rpc.harness import table_sizes, tables_empty
from tests.services import CallbackImpl, CounterImpl
from tests.trio.conftest import TrioEcho, deadline, open_pair, rpctest, settle


async def test_bootstrap_and_calls() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            assert isinstance(echo, rpctest.Echo)
            assert (await echo.echo(text="hello")).text == "hello"
            assert (await echo.ping(1)).value == 2
            results = await echo.multi(a=6, b=7)
            assert (results.sum, results.product) == (13, 42)
            assert p.listener.address.startswith("tcp://127.0.0.1:")
            assert not p.listener.address.endswith(":0")


async def test_serve_under_nursery_start_returns_the_bound_address() -> None:
    with deadline():
        async with trio.open_nursery() as nursery:
            address = await nursery.start(capnrpc_trio.serve, "tcp://127.0.0.1:0", TrioEcho())
            assert isinstance(address, str) and address.startswith("tcp://127.0.0.1:")
            async with capnrpc_trio.connect(address) as conn:
                echo = conn.bootstrap(rpctest.Echo)
                assert (await echo.echo(text="x")).text == "x"
            nursery.cancel_scope.cancel()


async def test_pipelined_calls_go_out_before_the_first_return() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            value = await echo.newCounter(start=41).counter.next()
            assert value.value == 42
            kinds = p.log.kinds()
            first_return = kinds.index("recv Return")
            assert kinds[:first_return] == ["send Bootstrap", "send Call", "send Call"]
            bootstrap, new_counter, nxt = (m for _, m in p.log.entries[:3])
            assert isinstance(bootstrap, Bootstrap) and isinstance(nxt, Call)
            assert isinstance(new_counter, Call)
            assert new_counter.target.promised_answer is not None  # on the bootstrap answer
            pa = nxt.target.promised_answer
            assert pa is not None and (pa.question_id, pa.transform) == (
                new_counter.question_id,
                (0,),
            )


async def test_struct_and_group_pipelining() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.info(point={"x": 9, "y": -1}, label="here")
            counted, pinged = promise.info.counter.next(), promise.info.labels.echo.ping(5)
            assert (await counted).value == 10
            assert (await pinged).value == 6
            point = await promise.info.point
            assert (point.x, point.y) == (9, -1)
            info = (await promise).info
            assert info.labels.label == "here"
            returns = [m for d, m in p.log.entries if d == "recv" and isinstance(m, Return)]
            # Both pipelined calls went out before the info call's answer came back.
            info_call = p.log.sent(Call)[0]
            first_info_return = next(r for r in returns if r.answer_id == info_call.question_id)
            order = [m for _, m in p.log.entries]
            assert order.index(first_info_return) > order.index(p.log.sent(Call)[2])


async def test_capabilities_both_ways_and_callbacks() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            callback = CallbackImpl()
            result = await echo.callBack(callback=callback, value=3)
            assert result.result == 1012
            assert callback.seen == [3, 6]
            # A capability of ours travels to the server and comes back as the same object.
            mine = p.conn.vat.local_client(CounterImpl(100), rpctest.Counter)
            await echo.keep(cap=mine)
            back = (await echo.kept()).cap
            assert (await back.next()).value == 101
            assert (await mine.next()).value == 102
            # One of theirs, returned as a typed client.
            counter = (await echo.newCounter(0)).counter
            assert isinstance(counter, rpctest.Counter)
            assert (await counter.next()).value == 1
            for client in (mine, back, counter):
                client.release()


async def test_exceptions_both_ways(caplog: pytest.LogCaptureFixture) -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            with (
                caplog.at_level(logging.WARNING, logger="capnrpc.server"),
                pytest.raises(RpcError) as info,
            ):
                await echo.fail(message="bad input", kind="value")
            assert (info.value.type, info.value.reason) == ("failed", "ValueError: bad input")
            assert any("Echo.fail" in r.getMessage() for r in caplog.records)
            with pytest.raises(RpcError) as info:
                await echo.fail(message="later", kind="rpc")
            assert info.value.type == "overloaded"

            class Failing(rpctest.Callback.Server):  # type: ignore[misc]
                async def call(self, value: int) -> int:
                    raise KeyError(value)

            with pytest.raises(RpcError) as info:
                await echo.callBack(callback=Failing(), value=7)
            # The client's exception travelled to the server and back, reason intact.
            assert info.value.type == "failed"
            assert "KeyError: 7" in info.value.reason
            # The connection is still fine.
            assert (await echo.ping(0)).value == 1


async def test_unimplemented_method() -> None:
    with deadline():
        async with open_pair() as p:
            counter = p.conn.bootstrap(rpctest.Counter)
            with pytest.raises(RpcError) as info:
                await counter.next()
            assert info.value.type == "unimplemented"
            assert "Counter.next" in info.value.reason


async def test_bootstrap_factory_is_called_per_connection() -> None:
    peers: list[str] = []

    def factory(peer: str) -> TrioEcho:
        peers.append(peer)
        return TrioEcho()

    with deadline():
        async with capnrpc_trio.serve("tcp://127.0.0.1:0", factory) as listener:
            for _ in range(2):
                async with capnrpc_trio.connect(listener.address) as conn:
                    echo = conn.bootstrap(rpctest.Echo)
                    assert (await echo.ping(1)).value == 2
        assert len(peers) == 2 and all(p.startswith("tcp://127.0.0.1:") for p in peers)
        assert peers[0] != peers[1]


async def test_client_side_bootstrap_and_in_memory_streams() -> None:
    left, right = trio.testing.memory_stream_pair()
    with deadline():
        async with (
            capnrpc_trio.connect(left, bootstrap=TrioEcho()) as server_side,
            capnrpc_trio.connect(right) as client_side,
        ):
            echo = client_side.bootstrap(rpctest.Echo)
            assert (await echo.echo(text="memory")).text == "memory"
            # Either side may offer a bootstrap capability; here only one does.
            with pytest.raises(RpcError, match="no bootstrap"):
                await server_side.bootstrap(rpctest.Echo).ping(1)


async def test_capabilities_proxied_through_a_shared_vat() -> None:
    """Alice -> Bob -> Carol: Bob hands Alice a counter that lives at Carol."""
    carol = TrioEcho()
    with deadline():
        async with (
            capnrpc_trio.serve("tcp://127.0.0.1:0", carol) as carol_listener,
            capnrpc_trio.open_vat(name="bob") as bob,
            capnrpc_trio.connect(carol_listener.address, vat=bob) as to_carol,
        ):
            from_carol = to_carol.bootstrap(rpctest.Echo)
            async with capnrpc_trio.serve("tcp://127.0.0.1:0", from_carol, vat=bob) as bob_listener:
                async with capnrpc_trio.connect(bob_listener.address) as alice:
                    echo = alice.bootstrap(rpctest.Echo)
                    counter = (await echo.newCounter(start=7)).counter
                    assert (await counter.next()).value == 8
                    assert carol.counters[0].value == 8
                    counter.release()
                    echo.release()
                await settle(lambda: not bob_listener.connections)
            from_carol.release()
            carol_conn = next(iter(carol_listener.connections))
            # Everything Alice held through Bob is released at Carol too.
            await settle(lambda: tables_empty(carol_conn.core))
            assert tables_empty(carol_conn.core), table_sizes(carol_conn.core)


async def test_an_exception_in_the_body_is_not_wrapped() -> None:
    with deadline():
        async with open_pair() as p:
            with pytest.raises(ZeroDivisionError):
                async with capnrpc_trio.connect(p.listener.address):
                    raise ZeroDivisionError


async def test_calls_start_in_the_order_they_were_made() -> None:
    """E-order: trio does not run new tasks in spawn order; deliveries must still start in order."""
    started: list[int] = []

    class Ordered(TrioEcho):
        async def ping(self, value: int) -> int:  # type: ignore[override]
            started.append(value)
            await trio.sleep(0)
            return value

        def echo(self, text: str, _context: object) -> str:  # type: ignore[override]
            started.append(-int(text))
            return text

    with deadline():
        async with open_pair(Ordered()) as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promises = [echo.ping(i) if i % 3 else echo.echo(text=str(i)) for i in range(1, 61)]
            for promise in promises:
                await promise
    assert started == [i if i % 3 else -i for i in range(1, 61)]


async def test_awaiting_twice_gives_the_same_results() -> None:
    with deadline():
        async with open_pair() as p:
            echo = p.conn.bootstrap(rpctest.Echo)
            promise = echo.multi(2, 5)
            first = await promise
            assert (await promise) is first
            assert first.product == 10


async def test_connection_refused_is_an_os_error() -> None:
    with deadline():
        async with capnrpc_trio.serve("tcp://127.0.0.1:0", TrioEcho()) as listener:
            address = listener.address
        with pytest.raises(OSError):
            async with capnrpc_trio.connect(address):
                pass
