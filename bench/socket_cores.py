"""What the blocking-socket driver's threads cost when client and server share one process.

Sequential ``ping`` calls through capnrpc_socket, client and server in one process (the
``one process`` layout of bench/rpc.py), run twice, each in a fresh subprocess:

- ``spread``: as the system places the threads (on an idle machine with two or more cores,
  Linux wakes the server's connection thread on another core than the caller's);
- ``one core``: the whole process pinned to the first core it may use
  (``os.sched_setaffinity``), so every hand-off stays on one core.

For each it prints the wall time and the CPU time (user + system, ``resource.getrusage``) per
call. Each call hands over between two threads twice (the caller's and the connection's IO
thread) whichever way the threads are placed; the difference between the two runs is what
that costs when it crosses cores, in waiting and in work. The last line is
``spread_over_one_core <float>``, the ratio of the wall times (above 1: spreading costs).
Linux only (it needs ``sched_setaffinity``); on one core there is nothing to compare.

Run: python bench/socket_cores.py [CALLS]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(calls: int, pin: bool) -> dict[str, float]:
    """Run ``calls`` sequential pings in this process; wall and CPU microseconds per call."""
    if pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import rpc  # bench/rpc.py: the Bench server

    import capnrpc_socket

    schema = rpc._ours_schema()
    with (
        capnrpc_socket.serve("tcp://127.0.0.1:0", rpc._ours_server(schema)) as server,
        capnrpc_socket.connect(server.address) as conn,
    ):
        bench = conn.bootstrap(schema.Bench)
        for i in range(min(calls, 2000)):
            bench.ping(value=i).wait()
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for i in range(calls):
            bench.ping(value=i).wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_us": wall / calls * 1e6, "cpu_us": cpu / calls * 1e6}


def run(calls: int, pin: bool) -> dict[str, float]:
    """:func:`measure` in a fresh subprocess (affinity and heap of its own)."""
    command = [sys.executable, __file__, "--worker", str(calls)]
    if pin:
        command.append("--pin")
    proc = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    result: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(measure(int(sys.argv[2]), pin="--pin" in sys.argv)))
        return
    if not hasattr(os, "sched_setaffinity"):
        sys.exit("needs os.sched_setaffinity (Linux)")
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("this process may use one core only: nothing to compare")
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    spread = run(calls, pin=False)
    pinned = run(calls, pin=True)
    for name, result in (("spread", spread), ("one core", pinned)):
        print(
            f"{name + ':':<10} {result['wall_us']:6.1f} us a call, "
            f"{result['cpu_us']:6.1f} us of CPU a call"
        )
    print(f"spread_over_one_core {spread['wall_us'] / pinned['wall_us']:.3f}")


if __name__ == "__main__":
    main()
