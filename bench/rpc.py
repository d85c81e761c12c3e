"""RPC speed over loopback TCP: capnrpc's drivers against pycapnp (the C++ implementation).

Each driver serves bench/rpcbench.capnp's ``Bench`` and calls it, in two layouts:

- ``one process``: client and server in the same process (and, for the event-loop drivers and
  pycapnp, the same thread and loop), so a figure is the cost of both sides together;
- ``two processes``: the server in a process of its own, as when a program calls a service.
  Each side then runs on its own and every message wakes the other process.

Each ratio compares a driver with pycapnp in the same layout. Workloads:

- ``sequential``: one ``ping`` at a time (latency bound);
- ``in flight``: 100 ``ping`` calls sent back to back, then awaited (throughput);
- ``chain of 3``: ``next().bench.next().bench.ping()``, pipelined: one round trip per chain;
- ``64 KiB echo``: ``echo`` of 64 KiB of Data, one at a time.

Every driver runs in a subprocess of its own (``--worker NAME``) for a fixed time per workload;
the drivers take turns, ``--rounds`` times, and each keeps its best rate, so a burst of load
from elsewhere on the machine does not decide a ratio. The tables give each driver's rate and
ours/pycapnp (higher is better for ours); the last line is ``min_ratio_vs_pycapnp <float>``, the
worst ratio of any row of any layout measured.

Add a driver: write a ``serve_<name>`` async context manager serving a Bench and yielding its
address, and a ``connect_<name>(address)`` one yielding a :class:`BenchClient`, and add a
:class:`Driver` row to ``DRIVERS``.

Before the tables it prints what the machine is like (:func:`machine_facts`), because the
ratios depend on it. pycapnp makes several system calls per message where our drivers make
about one per round trip, and on two cores our blocking-socket driver hands every message from
one thread to another: so a machine where system calls are dear favours us, and one where a
wake-up of the other core is dear (an idle virtual CPU, say) costs the socket driver dearly in
one process. The two costs printed there are a ``send`` plus ``recv`` of one byte, and a lock
handed back and forth between two threads (once each way) on one core and across two, each
the best of a few tries.

Run: ``python bench/rpc.py [--seconds S] [--rounds R] [--only DRIVER] [--layout one|two]``
(about two minutes by default, for five drivers -- trio, asyncio, asyncio on uvloop when it is
installed, blocking sockets, pycapnp -- in both layouts; ``--only`` picks drivers, and pycapnp
always runs as the baseline; ``--layout`` picks one layout).
``python bench/rpc.py --profile capnrpc_trio`` profiles one driver's sequential and in-flight
calls in one process (cProfile: own time by area, then the top functions).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = ROOT / "bench" / "rpcbench.capnp"
DATA = bytes(range(256)) * 256  # 64 KiB
IN_FLIGHT = 100
BASELINE = "pycapnp"


class BenchClient(Protocol):
    """One driver's client for a Bench served by the same driver."""

    async def ping(self, value: int) -> int:
        """One call: ``ping(value)``, returning the answer."""
        ...

    async def in_flight(self, value: int, count: int) -> int:
        """``count`` pings sent back to back, then awaited in order; the last answer."""
        ...

    async def chain(self, value: int) -> int:
        """``next().bench.next().bench.ping(value)`` pipelined; the answer."""
        ...

    async def echo(self, data: bytes) -> int:
        """``echo(data)``; the length of the answer."""
        ...


@dataclass(frozen=True)
class Workload:
    """A step timed again and again; ``per_step`` units of ``unit`` each time."""

    name: str
    unit: str
    per_step: float
    step: Callable[[BenchClient, int], Awaitable[None]]


async def _sequential(client: BenchClient, i: int) -> None:
    assert await client.ping(i) == i + 1


async def _in_flight(client: BenchClient, i: int) -> None:
    assert await client.in_flight(i, IN_FLIGHT) == i + IN_FLIGHT


async def _chain(client: BenchClient, i: int) -> None:
    assert await client.chain(i) == i + 1


async def _echo(client: BenchClient, i: int) -> None:
    assert await client.echo(DATA) == len(DATA)


WORKLOADS = [
    Workload("sequential", "calls/s", 1, _sequential),
    Workload(f"{IN_FLIGHT} in flight", "calls/s", IN_FLIGHT, _in_flight),
    Workload("chain of 3", "chains/s", 1, _chain),
    Workload("64 KiB echo", "MB/s", len(DATA) / 1e6, _echo),
]


async def measure(client: BenchClient, seconds: float) -> dict[str, float]:
    """Each workload's rate: steps run for ``seconds`` after a short warm-up."""
    rates: dict[str, float] = {}
    for workload in WORKLOADS:
        for phase, budget in (("warm-up", min(0.2, seconds / 5)), ("timed", seconds)):
            steps = 0
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < budget:
                await workload.step(client, steps)
                steps += 1
            if phase == "timed":
                rates[workload.name] = steps * workload.per_step / elapsed
    return rates


class StubClient:
    """The client side, for capnrpc's typed clients and pycapnp's alike (they are called alike)."""

    def __init__(self, bench: Any) -> None:
        self.bench = bench

    async def ping(self, value: int) -> int:
        return int((await self.bench.ping(value=value)).value)

    async def in_flight(self, value: int, count: int) -> int:
        promises = [self.bench.ping(value=value + i) for i in range(count)]
        last = 0
        for promise in promises:
            last = (await promise).value
        return int(last)

    async def chain(self, value: int) -> int:
        return int((await self.bench.next().bench.next().bench.ping(value=value)).value)

    async def echo(self, data: bytes) -> int:
        return len((await self.bench.echo(data=data)).data)


# == capnrpc_trio =================================================================================


@functools.cache
def _ours_schema() -> Any:
    from capnrpc_core import load

    return load(SCHEMA)


def _ours_server(rpcbench: Any) -> Any:
    class BenchImpl(rpcbench.Bench.Server):  # type: ignore[misc]
        def ping(self, value: int) -> int:
            return value + 1

        def next(self) -> Any:
            return self

        def echo(self, data: bytes) -> bytes:
            return data

    return BenchImpl()


@asynccontextmanager
async def serve_trio() -> AsyncIterator[str]:
    """A Bench served by capnrpc_trio on loopback TCP; its address."""
    import capnrpc_trio

    async with capnrpc_trio.serve("tcp://127.0.0.1:0", _ours_server(_ours_schema())) as listener:
        yield listener.address


@asynccontextmanager
async def connect_trio(address: str) -> AsyncIterator[BenchClient]:
    """A capnrpc_trio client of the Bench at ``address``."""
    import capnrpc_trio

    async with capnrpc_trio.connect(address) as conn:
        yield StubClient(conn.bootstrap(_ours_schema().Bench))


def run_trio(main: Callable[[], Awaitable[Any]]) -> Any:
    import trio

    return trio.run(main)


# == capnrpc_asyncio (and uvloop) =================================================================


@asynccontextmanager
async def serve_asyncio() -> AsyncIterator[str]:
    """A Bench served by capnrpc_asyncio on loopback TCP; its address."""
    import capnrpc_asyncio

    server = _ours_server(_ours_schema())
    async with capnrpc_asyncio.serve("tcp://127.0.0.1:0", server) as listener:
        yield listener.address


@asynccontextmanager
async def connect_asyncio(address: str) -> AsyncIterator[BenchClient]:
    """A capnrpc_asyncio client of the Bench at ``address``."""
    import capnrpc_asyncio

    async with capnrpc_asyncio.connect(address) as conn:
        yield StubClient(conn.bootstrap(_ours_schema().Bench))


def run_asyncio(main: Callable[[], Awaitable[Any]]) -> Any:
    import asyncio

    return asyncio.run(main())  # type: ignore[arg-type]


def run_uvloop(main: Callable[[], Awaitable[Any]]) -> Any:
    import uvloop

    return uvloop.run(main())  # type: ignore[arg-type]


# == capnrpc_socket ===============================================================================


class BlockingStubClient:
    """The blocking driver's client behind the async interface the workloads use."""

    def __init__(self, bench: Any) -> None:
        self.bench = bench

    async def ping(self, value: int) -> int:
        return int(self.bench.ping(value=value).wait().value)

    async def in_flight(self, value: int, count: int) -> int:
        promises = [self.bench.ping(value=value + i) for i in range(count)]
        last = 0
        for promise in promises:
            last = promise.wait().value
        return int(last)

    async def chain(self, value: int) -> int:
        return int(self.bench.next().bench.next().bench.ping(value=value).wait().value)

    async def echo(self, data: bytes) -> int:
        return len(self.bench.echo(data=data).wait().data)


@asynccontextmanager
async def serve_socket() -> AsyncIterator[str]:
    """A Bench served by capnrpc_socket on loopback TCP (threads, no event loop); its address."""
    import capnrpc_socket

    with capnrpc_socket.serve("tcp://127.0.0.1:0", _ours_server(_ours_schema())) as server:
        yield server.address


@asynccontextmanager
async def connect_socket(address: str) -> AsyncIterator[BenchClient]:
    """A capnrpc_socket client of the Bench at ``address``; its calls block."""
    import capnrpc_socket

    with capnrpc_socket.connect(address) as conn:
        yield BlockingStubClient(conn.bootstrap(_ours_schema().Bench))


# == pycapnp ======================================================================================


@functools.cache
def _pycapnp_schema() -> Any:
    import capnp

    return capnp.load(str(SCHEMA))


@asynccontextmanager
async def serve_pycapnp() -> AsyncIterator[str]:
    """A Bench served by pycapnp on loopback TCP; its address."""
    import capnp

    rpcbench = _pycapnp_schema()

    class BenchImpl(rpcbench.Bench.Server):  # type: ignore[misc,name-defined]
        async def ping(self, value: int, **kwargs: Any) -> int:
            return value + 1

        async def next(self, **kwargs: Any) -> Any:
            return self

        async def echo(self, data: bytes, **kwargs: Any) -> bytes:
            return data

    servers: list[Any] = []

    async def accepted(stream: Any) -> None:
        server = capnp.TwoPartyServer(stream, bootstrap=BenchImpl())
        servers.append(server)
        await server.on_disconnect()

    listener = await capnp.AsyncIoStream.create_server(accepted, "127.0.0.1", 0)
    async with listener:
        yield f"tcp://127.0.0.1:{listener.sockets[0].getsockname()[1]}"


@asynccontextmanager
async def connect_pycapnp(address: str) -> AsyncIterator[BenchClient]:
    """A pycapnp client of the Bench at ``address``."""
    import capnp

    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    stream = await capnp.AsyncIoStream.create_connection(host=host, port=int(port))
    client = capnp.TwoPartyClient(stream)
    yield StubClient(client.bootstrap().cast_as(_pycapnp_schema().Bench))
    client.close()


def run_pycapnp(main: Callable[[], Awaitable[Any]]) -> Any:
    import asyncio

    import capnp

    return asyncio.run(capnp.run(main()))


# == the table ====================================================================================


@dataclass(frozen=True)
class Driver:
    """A row of the table: how to serve a Bench and call it, and the event loop to run it in."""

    serve: Callable[[], AbstractAsyncContextManager[str]]
    connect: Callable[[str], AbstractAsyncContextManager[BenchClient]]
    run: Callable[[Callable[[], Awaitable[Any]]], Any]


def _uvloop_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None


DRIVERS: dict[str, Driver] = {
    "capnrpc_trio": Driver(serve_trio, connect_trio, run_trio),
    "capnrpc_asyncio": Driver(serve_asyncio, connect_asyncio, run_asyncio),
    **(
        {"asyncio+uvloop": Driver(serve_asyncio, connect_asyncio, run_uvloop)}
        if _uvloop_installed()
        else {}
    ),
    "capnrpc_socket": Driver(serve_socket, connect_socket, run_asyncio),
    BASELINE: Driver(serve_pycapnp, connect_pycapnp, run_pycapnp),
}

# Where the server runs. In one process a driver's client and server share the process (and,
# for the event-loop drivers and pycapnp, one thread); in two, the server has a process of its
# own, as it has when a program calls a service, and every message wakes the other process.
LAYOUTS = {"one": "one process", "two": "two processes"}


async def _sleep_forever(driver: Driver) -> None:
    if driver.run is run_trio:
        import trio

        await trio.sleep_forever()
    else:
        import asyncio

        await asyncio.Event().wait()


def serve_forever(name: str) -> None:
    """Serve a Bench with one driver, print its address, and serve until killed."""
    driver = DRIVERS[name]

    async def main() -> None:
        async with driver.serve() as address:
            print(address, flush=True)
            await _sleep_forever(driver)

    driver.run(main)


def worker(name: str, seconds: float, layout: str) -> dict[str, float]:
    """Measure one driver in this process, with its server here or in a subprocess."""
    driver = DRIVERS[name]
    with contextlib.ExitStack() as stack:
        address = None if layout == "one" else stack.enter_context(_server_process(name))

        async def main() -> dict[str, float]:
            async with contextlib.AsyncExitStack() as served:
                if address is None:
                    here = await served.enter_async_context(driver.serve())
                else:
                    here = address
                async with driver.connect(here) as client:
                    return await measure(client, seconds)

        result: dict[str, float] = driver.run(main)
        return result


@contextlib.contextmanager
def _server_process(name: str) -> Iterator[str]:
    """A Bench served by driver ``name`` in a subprocess (:func:`serve_forever`); its address."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        address = server.stdout.readline().strip()
        if not address:
            raise SystemExit(f"the {name} server did not start")
        yield address
    finally:
        server.kill()
        server.wait()


def run_worker(name: str, seconds: float, layout: str) -> dict[str, float]:
    """Measure one driver in a subprocess of its own."""
    command = [sys.executable, __file__, "--worker", name, "--seconds", str(seconds)]
    command += ["--layout", layout]
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=30 + 2 * seconds * len(WORKLOADS)
    )
    if proc.returncode != 0:
        raise SystemExit(f"the {name} worker failed:\n{proc.stderr}")
    rates: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return rates


def machine_facts() -> list[str]:
    """What the ratios depend on: the processor, the software, and two costs measured now."""
    import os
    import platform
    import socket
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        # A virtual machine's "model name" can be as vague as "Intel(R) Xeon(R) Processor".
        info = dict(line.split(":", 1) for line in cpuinfo.read().split("\n\n")[0].splitlines())
        info = {key.strip(): value.strip() for key, value in info.items()}
        if "model name" in info:
            family, model = info.get("cpu family"), info.get("model")
            cpu = f"{info['model name']} (family {family}, model {model})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        pycapnp = version("pycapnp")
    except PackageNotFoundError:
        pycapnp = "not installed"

    def best_us(step: Callable[[], None], n: int = 2000) -> float:
        return min(_timed(step, n) for _ in range(5)) / n * 1e6

    a, b = socket.socketpair()
    with a, b:

        def syscalls() -> None:
            a.send(b"x")
            b.recv(1)

        syscall_us = best_us(syscalls)

    hand_offs = _hand_off_us(best_us)
    return [
        f"machine: {cpu}; {cores} cores; {platform.python_implementation()} "
        f"{platform.python_version()}; pycapnp {pycapnp}",
        f"machine: send+recv of 1 byte {syscall_us:.1f} us; lock handed to another thread "
        f"and back {hand_offs}",
    ]


def _hand_off_us(best_us: Callable[[Callable[[], None], int], float]) -> str:
    """A lock handed to another thread and back: both on one core, then on two.

    Left to itself the scheduler may put the two threads on one core or on two, and the cost
    differs tenfold on some virtual machines, so each placement is measured on purpose. The
    affinity of this thread is put back afterwards: the workers inherit it.
    """
    import os

    if not hasattr(os, "sched_setaffinity"):
        return f"{_ping_pong(best_us, None, None):.1f} us"
    mine = os.sched_getaffinity(0)
    cpus = sorted(mine)
    try:
        one = _ping_pong(best_us, cpus[0], cpus[0])
        if len(cpus) < 2:
            return f"{one:.1f} us (one core)"
        two = _ping_pong(best_us, cpus[0], cpus[1])
    finally:
        os.sched_setaffinity(0, mine)
    return f"{one:.1f} us on one core, {two:.1f} us across two"


def _ping_pong(
    best_us: Callable[[Callable[[], None], int], float], here: int | None, there_cpu: int | None
) -> float:
    import os
    import threading

    n = 2000
    there, back = threading.Lock(), threading.Lock()
    there.acquire()
    back.acquire()

    def other_side() -> None:
        if there_cpu is not None:
            os.sched_setaffinity(0, {there_cpu})  # 0: this thread, on Linux
        for _ in range(5 * n):
            there.acquire()
            back.release()

    if here is not None:
        os.sched_setaffinity(0, {here})

    def hand_off() -> None:
        there.release()
        back.acquire()

    thread = threading.Thread(target=other_side)
    thread.start()
    cost = best_us(hand_off, n)
    thread.join()
    return cost


def _timed(step: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        step()
    return time.perf_counter() - start


def report(layout: str, results: dict[str, dict[str, float]]) -> float:
    """Print one layout's table; return its worst ratio ours/pycapnp."""
    print(f"-- {LAYOUTS[layout]}")
    ours = [name for name in results if name != BASELINE]
    widths = {name: max(12, len(name) + 2) for name in results}
    ratio_width = {name: max(12, len(name) + len(BASELINE) + 3) for name in ours}
    header = f"{'workload':<14} {'unit':<9}" + "".join(
        f"{name:>{widths[name]}}" for name in results
    )
    header += "".join(f"{name + '/' + BASELINE:>{ratio_width[name]}}" for name in ours)
    print(header)
    worst = float("inf")
    for workload in WORKLOADS:
        row = f"{workload.name:<14} {workload.unit:<9}"
        row += "".join(f"{results[name][workload.name]:>{widths[name]}.1f}" for name in results)
        base = results[BASELINE][workload.name]
        for name in ours:
            ratio = results[name][workload.name] / base
            worst = min(worst, ratio)
            row += f"{ratio:>{ratio_width[name]}.3f}"
        print(row)
    return worst


def profile(name: str, seconds: float) -> None:
    """Profile one driver on the small-call workloads: own time by area, then by function."""
    import cProfile
    import pstats

    global WORKLOADS
    WORKLOADS = WORKLOADS[:2]
    profiler = cProfile.Profile()
    profiler.enable()
    rates = worker(name, seconds, "one")
    profiler.disable()
    print({k: round(v, 1) for k, v in rates.items()}, "(under the profiler)")
    stats = pstats.Stats(profiler)
    areas: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own, _, _) in raw.items():
        area = _area(filename, function)
        areas[area] = areas.get(area, 0.0) + own
    total = sum(areas.values())
    for area, own in sorted(areas.items(), key=lambda item: -item[1]):
        if own >= total / 100:
            print(f"{own / total:7.1%}  {area}")
    stats.sort_stats("tottime").print_stats(25)


def _area(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/capnrpc_core/", "/capnrpc_trio/", "/capnrpc_asyncio/", "/capnrpc_socket/"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    if "/trio/" in path:
        return "trio: scheduler, sockets, events"
    if filename == "~":
        if "socket" in function or "poll" in function:
            return "system calls: send, recv, epoll"
        return "built-in functions (isinstance, struct, ...)"
    return "other Python: stdlib, attrs, outcome"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per workload")
    parser.add_argument("--rounds", type=int, default=2, help="turns per driver (best counts)")
    parser.add_argument(
        "--layout",
        action="append",
        choices=sorted(LAYOUTS),
        help="where the server runs: 'one' process with the client or 'two' (repeatable; "
        "default both)",
    )
    parser.add_argument("--worker", choices=sorted(DRIVERS), help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=sorted(DRIVERS), help=argparse.SUPPRESS)
    parser.add_argument("--profile", choices=sorted(DRIVERS), help="profile one driver")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(DRIVERS),
        help="measure only this driver (repeatable); pycapnp always runs as the baseline",
    )
    args = parser.parse_args()
    layouts = args.layout or list(LAYOUTS)
    if args.serve:
        serve_forever(args.serve)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.seconds, layouts[0])))
        return
    if args.profile:
        profile(args.profile, args.seconds)
        return
    for line in machine_facts():
        print(line, flush=True)
    names = [name for name in DRIVERS if not args.only or name in args.only or name == BASELINE]
    results = {(layout, name): dict[str, float]() for layout in layouts for name in names}
    for _ in range(args.rounds):
        for layout, name in results:
            for workload, rate in run_worker(name, args.seconds, layout).items():
                best = results[layout, name].get(workload, 0.0)
                results[layout, name][workload] = max(rate, best)
    worst = min(
        report(layout, {name: results[layout, name] for name in names}) for layout in layouts
    )
    print(f"min_ratio_vs_pycapnp {worst:.3f}")


if __name__ == "__main__":
    main()
