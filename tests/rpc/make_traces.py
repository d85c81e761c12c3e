"""Write the checked-in traces in tests/rpc/traces/ (run: python -m tests.rpc.make_traces).

Each scenario runs two vats in memory with both recorded; test_trace.py replays every file.
Regenerate after an intended change of behaviour, and read the diff: it is the wire-level
description of that change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from capnrpc_core.rpc.trace import TraceRecorder
from tests.rpc.harness import (
    CALL_BACK,
    ECHO,
    FAIL,
    HOLD,
    IFACE,
    MAKE_NEW,
    RECORD,
    Net,
    Node,
    TestServer,
    as_struct,
    frame,
    params,
)

OUT = Path(__file__).parent / "traces"


def _pair(net: Net) -> tuple[Node, Node, object]:
    alice = net.node("alice", record=True)
    bob = net.node("bob", TestServer("bob"), record=True)
    return alice, bob, net.link(alice, bob)


def bootstrap_call_release(net: Net) -> None:
    alice, _, link = _pair(net)
    vat = alice.vat
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    call = vat.call(cap, IFACE, ECHO, params(42, text="hello"))
    net.pump()
    vat.release_call(call)
    vat.release(cap)
    net.pump()


def pipelining(net: Net) -> None:
    alice, _, link = _pair(net)
    vat = alice.vat
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    made = vat.call(cap, IFACE, MAKE_NEW, params())
    child = vat.pipeline(made, [0])
    calls = [vat.call(child, IFACE, RECORD, params(i)) for i in range(3)]
    net.pump()
    for c in [made, *calls]:
        vat.release_call(c)
    vat.release(child)
    vat.release(cap)
    net.pump()


def exception_and_cancel(net: Net) -> None:
    alice, _, link = _pair(net)
    vat = alice.vat
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    failed = vat.call(cap, IFACE, FAIL, params())
    held = vat.call(cap, IFACE, HOLD, params())
    net.pump()
    vat.cancel(held)
    net.pump()
    vat.release_call(failed)
    vat.release(cap)
    net.pump()


def embargo(net: Net) -> None:
    alice, _, link = _pair(net)
    vat = alice.vat
    mine = TestServer("mine")
    x = vat.local_cap(mine)
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    call = vat.call(cap, IFACE, ECHO, params(0, vat.add_ref(x)))
    piped = vat.pipeline(call, [0])
    early = [vat.call(piped, IFACE, RECORD, params(i)) for i in range(2)]
    net.pump()
    late = vat.call(piped, IFACE, RECORD, params(2))
    net.pump()
    for c in [call, *early, late]:
        vat.release_call(c)
    for c in (piped, cap, x):
        vat.release(c)
    net.pump()


def tail_call(net: Net) -> None:
    alice, _, link = _pair(net)
    vat = alice.vat
    mine = TestServer("callback")
    my_cap = vat.local_cap(mine)
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    call = vat.call(cap, IFACE, CALL_BACK, params(10, vat.add_ref(my_cap)))
    net.pump()
    vat.release_call(call)
    vat.release(cap)
    vat.release(my_cap)
    net.pump()


def promise_resolve(net: Net) -> None:
    alice, bob, link = _pair(net)
    server = bob.server
    assert server is not None
    cap = alice.vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    hold = alice.vat.call(cap, IFACE, HOLD, params())
    net.pump()
    promise = bob.vat.new_promise()
    bob.vat.return_results(server.held[0], params(0, bob.vat.add_ref(promise)))
    net.pump()
    remote = as_struct(hold.results).get_capability(0)
    first = alice.vat.call(remote, IFACE, ECHO, params(1))  # type: ignore[arg-type]
    net.pump()
    target = bob.vat.local_cap(TestServer("target"))
    bob.vat.resolve(promise, target)
    net.pump()
    for c in (hold, first):
        alice.vat.release_call(c)
    alice.vat.release(cap)
    bob.vat.release(promise)
    bob.vat.release(target)
    net.pump()


def disconnect(net: Net) -> None:
    alice, bob, link = _pair(net)
    vat = alice.vat
    cap = vat.bootstrap(link.ca)  # type: ignore[attr-defined]
    vat.call(cap, IFACE, HOLD, params())
    net.pump()
    bob.vat.disconnect(link.cb, "going away")  # type: ignore[attr-defined]
    net.pump()
    vat.receive_data(link.ca, b"")  # type: ignore[attr-defined]
    net.pump()


def violation_abort(net: Net) -> None:
    from capnrpc_core.rpc.messages import Release

    _, bob, link = _pair(net)
    bob.vat.receive_data(link.cb, frame(Release(77, 1)))  # type: ignore[attr-defined]
    net.pump()


SCENARIOS: dict[str, Callable[[Net], None]] = {
    f.__name__: f
    for f in (
        bootstrap_call_release,
        pipelining,
        exception_and_cancel,
        embargo,
        tail_call,
        promise_resolve,
        disconnect,
        violation_abort,
    )
}


def record(name: str) -> dict[str, str]:
    net = Net()
    SCENARIOS[name](net)
    out = {}
    for node in net.nodes:
        vat = node.vat
        if isinstance(vat, TraceRecorder):
            out[f"{name}.{vat.vat.name}"] = vat.text()
    return out


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in SCENARIOS:
        for stem, text in record(name).items():
            (OUT / f"{stem}.trace").write_text(text)
            print(f"wrote {stem}.trace ({text.count(chr(10))} lines)")


if __name__ == "__main__":
    main()
