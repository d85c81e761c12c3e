"""The trio driver against pycapnp: a wire watcher, table checks and the pycapnp client runner.

Waiting never sleeps: :meth:`Wire.until` re-checks its condition whenever a frame is sent or
received on a watched connection (every change of the tables the tests look at comes with one),
and the test's deadline bounds it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import pytest
import trio

import capnrpc_trio
from capnrpc_core import load
from capnrpc_core.driver import describe_frame, parse_address
from capnrpc_core.rpc import Connection as CoreConnection
from tests.interop.peers import CALCULATOR_PEER, HERE
from tests.rpc.harness import table_sizes

TIMEOUT = 20
probe = load(HERE.parent / "schemas" / "calculator_probe.capnp")
CalculatorProbe = probe.CalculatorProbe


@dataclass
class Wire:
    """A vat's frame observer: every frame as ``(direction, one-line text)``, and waiting."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    _changed: trio.Event = field(default_factory=trio.Event)

    def __call__(self, conn: object, direction: str, frame: bytes) -> None:
        self.lines.append((direction, describe_frame(frame)))
        self._changed.set()
        self._changed = trio.Event()

    def sent(self, text: str = "") -> list[str]:
        """The lines sent that contain ``text``."""
        return [line for d, line in self.lines if d == "send" and text in line]

    def received(self, text: str = "") -> list[str]:
        """The lines received that contain ``text``."""
        return [line for d, line in self.lines if d == "recv" and text in line]

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds (checked again after every frame)."""
        while not condition():
            await self._changed.wait()


def only(**sizes: int) -> dict[str, int]:
    """Every table empty but those named (``only(imports=1)``)."""
    empty = dict.fromkeys(
        ("questions", "answers", "exports", "imports", "promise_imports", "embargoes"), 0
    )
    return {**empty, **sizes}


async def settle_tables(wire: Wire, conn: CoreConnection, expected: Mapping[str, int]) -> None:
    """Wait until the tables named in ``expected`` have those sizes (fail saying what they were)."""

    def settled() -> bool:
        sizes = table_sizes(conn)
        return all(sizes[name] == size for name, size in expected.items())

    try:
        with trio.fail_after(TIMEOUT / 2):
            await wire.until(settled)
    except trio.TooSlowError:
        pytest.fail(f"tables {table_sizes(conn)}, expected {expected}; wire: {wire.lines[-20:]}")


async def _kill(process: trio.Process) -> None:
    process.kill()


async def run_pycapnp_client(
    listener: capnrpc_trio.Listener,
    scenario: str,
    released: Callable[[capnrpc_trio.Connection], Awaitable[None]],
) -> str:
    """Run the pycapnp calculator client's ``scenario`` against ``listener``; return its output.

    Once the client has checked its answers and dropped its capabilities (it prints
    ``RELEASED``), ``released(server_connection)`` runs; then the connection is closed and the
    client must exit 0. The client is killed if the test's deadline passes.
    """
    address = parse_address(listener.address)
    command = [
        sys.executable,
        str(CALCULATOR_PEER),
        "client",
        address.host,
        str(address.port),
        scenario,
    ]
    output = bytearray()
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            partial(
                trio.run_process,
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
                deliver_cancel=_kill,
            )
        )
        assert process.stdout is not None
        while b"RELEASED\n" not in output:
            chunk = await process.stdout.receive_some()
            if not chunk:
                await process.wait()
                pytest.fail(
                    f"the pycapnp client ({scenario}) exited with {process.returncode}:\n"
                    + output.decode(errors="replace")
                )
            output += chunk
        (conn,) = listener.connections
        await released(conn)
        await conn.aclose()
        while chunk := await process.stdout.receive_some():
            output += chunk
        await process.wait()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    return text


__all__ = [
    "TIMEOUT",
    "CalculatorProbe",
    "Wire",
    "only",
    "run_pycapnp_client",
    "settle_tables",
]
