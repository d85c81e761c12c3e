"""The conformance suite's servers: ``tests/services.py`` plus waiting, for every driver.

Methods that wait use the serving driver's :class:`~tests.conformance.drivers.ServerFlavor`;
what the test thread watches (``holding``, ``hold_cancelled``) are ``threading.Event`` objects.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.conformance.drivers import Gate, ServerFlavor
from tests.services import EchoImpl, SinkImpl, rpctest


class GatedSink(SinkImpl):
    """A sink whose writes wait until :attr:`gate` is opened (from any thread)."""

    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate
        self.started = 0
        self.first_started = threading.Event()

    async def write(self, data: bytes) -> None:  # type: ignore[override]
        self.started += 1
        self.first_started.set()
        await self.gate.wait()
        super().write(data)


class ConfEcho(EchoImpl):
    """EchoImpl whose ``hold`` waits until canceled, with gated sinks on request."""

    def __init__(self, flavor: ServerFlavor, *, gated_sinks: bool = False) -> None:
        super().__init__()
        self.flavor = flavor
        self.gated_sinks = gated_sinks
        self.holding = threading.Event()
        self.hold_cancelled = threading.Event()

    async def hold(self) -> None:
        self.holding.set()
        try:
            await self.flavor.wait_forever()
        except BaseException:
            self.hold_cancelled.set()
            raise

    def sink(self) -> SinkImpl:
        # Made here, on the server's loop: a gate belongs to the loop that awaits it.
        sink = GatedSink(self.flavor.gate()) if self.gated_sinks else SinkImpl()
        self.sinks.append(sink)
        return sink


class OrderedEcho(ConfEcho):
    """Records the order in which ``ping`` (async, yields) and ``echo`` (plain) calls start."""

    def __init__(self, flavor: ServerFlavor) -> None:
        super().__init__(flavor)
        self.started: list[int] = []

    async def ping(self, value: int) -> int:  # type: ignore[override]
        self.started.append(value)
        await self.flavor.checkpoint()
        return value

    def echo(self, text: str, _context: Any) -> None:
        self.started.append(-int(text))
        _context.results.text = text


__all__ = ["ConfEcho", "GatedSink", "OrderedEcho", "rpctest"]
