"""Core-only round trip cost: two vats in memory, no sockets, no event loop.

Each round trip is one call with a small payload from one vat to the other's local object:
encode Call, decode it, deliver, answer, encode Return, decode it, settle, and release, on
both sides. Half the calls go each way. The payloads are built once, outside the timing (the
core copies them into each message), so what is timed is the core's work. The last line is
``core_round_trip_us <float>``.

Run: python bench/core.py [N]
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capnrpc_core.rpc import CallReturned, DeliverCall, Vat
from capnrpc_core.wire.builder import MessageBuilder

U64 = struct.Struct("<Q")
IFACE = 0x1234


class Echo:
    """Answers every call with its params' first word plus one."""


def make_params(value: int) -> object:
    builder = MessageBuilder(first_segment_words=8)
    s = builder.init_root(1, 1)
    s.set_int(U64, 0, value)
    s.set_text(0, "ping")
    return s


PARAMS = None  # built once in run()
RESULTS = None


def pump(a: Vat, b: Vat, ca: object, cb: object) -> int:
    """Move bytes and answer deliveries until both vats are quiet; return calls settled."""
    settled = 0
    busy = True
    while busy:
        busy = False
        for vat, conn, other, other_conn in ((a, ca, b, cb), (b, cb, a, ca)):
            data = vat.data_to_send(conn)  # type: ignore[arg-type]
            if data:
                other.receive_data(other_conn, data)  # type: ignore[arg-type]
                busy = True
            while (event := vat.next_event()) is not None:
                busy = True
                if isinstance(event, DeliverCall):
                    vat.return_results(event.delivery, RESULTS)
                elif isinstance(event, CallReturned):
                    settled += 1
                    vat.release_call(event.call)
    return settled


def run(n: int) -> float:
    global PARAMS, RESULTS
    PARAMS = make_params(1)
    results = MessageBuilder(first_segment_words=4).init_root(1, 0)
    results.set_int(U64, 0, 2)
    RESULTS = results
    a = Vat(Echo(), name="a")
    b = Vat(Echo(), name="b")
    ca = a.new_connection()
    cb = b.new_connection()
    cap_ab = a.bootstrap(ca)
    cap_ba = b.bootstrap(cb)
    pump(a, b, ca, cb)
    start = time.perf_counter()
    done = 0
    for i in range(n):
        caller, cap = (a, cap_ab) if i % 2 == 0 else (b, cap_ba)
        caller.call(cap, IFACE, 0, PARAMS)
        done += pump(a, b, ca, cb)
    elapsed = time.perf_counter() - start
    assert done == n, (done, n)
    return elapsed / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    run(min(n, 2000))  # warm up
    best = min(run(n) for _ in range(3))
    print(f"calls: {n} (half each way), best of 3 runs")
    print(f"core_round_trip_us {best:.2f}")


if __name__ == "__main__":
    main()
