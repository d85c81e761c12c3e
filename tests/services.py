"""The ``rpctest.capnp`` schema and its servers, shared by the typed-layer and driver tests.

Methods that must wait (``Echo.hold``) are left to each driver's tests; everything else here is
driver-neutral: sync methods, and async methods that only await promises of the same runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import capnrpc_core
from capnrpc_core import RpcError

SCHEMAS = Path(__file__).resolve().parent / "schemas"
rpctest: Any = capnrpc_core.load(SCHEMAS / "rpctest.capnp")


class CounterImpl(rpctest.Counter.Server):  # type: ignore[misc]
    """Counts up from ``start``."""

    def __init__(self, start: int = 0) -> None:
        self.value = start

    def next(self) -> int:
        self.value += 1
        return self.value


class SinkImpl(rpctest.Sink.Server):  # type: ignore[misc]
    """Collects streamed data; fails a write whose data is ``b"boom"``."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        if data == b"boom":
            raise ValueError("cannot write boom")
        self.chunks.append(data)

    def done(self) -> tuple[int, int]:
        return sum(len(c) for c in self.chunks), len(self.chunks)


class EchoImpl(rpctest.Echo.Server):  # type: ignore[misc]
    """The test service (see rpctest.capnp)."""

    def __init__(self) -> None:
        self.held: Any = None
        self.sinks: list[SinkImpl] = []
        self.counters: list[CounterImpl] = []

    def ping(self, value: int) -> int:
        return value + 1

    def echo(self, text: str, _context: Any) -> None:
        _context.results.text = text

    def fail(self, message: str, kind: str) -> None:
        if kind == "rpc":
            raise RpcError("overloaded", message)
        if kind == "unimplemented":
            raise RpcError("unimplemented", message)
        raise ValueError(message)

    def getSelf(self) -> Any:
        return self

    def newCounter(self, start: int) -> CounterImpl:
        counter = CounterImpl(start)
        self.counters.append(counter)
        return counter

    async def callBack(self, callback: Any, value: int) -> int:
        with callback:
            first = await callback.call(value)
            second = await callback.call(value=first.value)
        return int(second.value) + 1000

    def info(self, point: Any, label: str, _context: Any) -> None:
        info = _context.results.init("info")
        info.point = point
        counter = CounterImpl(point.x)
        self.counters.append(counter)
        info.counter = counter
        info.labels.label = label
        info.labels.echo = self
        info.any.set_as_capability(CounterImpl(100))

    def sink(self) -> SinkImpl:
        sink = SinkImpl()
        self.sinks.append(sink)
        return sink

    def multi(self, a: int, b: int) -> tuple[int, int]:
        return a + b, a * b

    def keep(self, cap: Any) -> None:
        if self.held is not None:
            self.held.release()
        self.held = cap

    def kept(self) -> Any:
        return self.held.cast_as(rpctest.Counter) if self.held is not None else None


class CallbackImpl(rpctest.Callback.Server):  # type: ignore[misc]
    """Doubles what it is given, and remembers it."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def call(self, value: int) -> int:
        self.seen.append(value)
        return value * 2
