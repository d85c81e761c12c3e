"""Traces replay byte for byte; checked-in traces still replay; mismatches are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from capnrpc_core.rpc.trace import TraceMismatch, TraceRecorder, replay
from tests.rpc.simulation import Simulation

TRACES = Path(__file__).parent / "traces"


def recorded_simulation(seed: int) -> TraceRecorder:
    sim = Simulation(seed, 3, record=True)
    for _ in range(300):
        sim.step(sim.random_op())
    sim.drain()
    recorder = sim.vats[0]
    assert isinstance(recorder, TraceRecorder)
    return recorder


@pytest.mark.parametrize("seed", range(8))
def test_simulated_vat_trace_replays_byte_for_byte(seed: int) -> None:
    trace = recorded_simulation(seed).text()
    assert trace.count("\nsend ") >= 3 and trace.count("\nrecv ") >= 3
    replay(trace)


def test_a_changed_output_byte_is_reported_with_both_texts() -> None:
    trace = recorded_simulation(1).text()
    lines = trace.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("send "))
    head, conn, data = lines[index].split(" ")
    flipped = bytearray.fromhex(data)
    flipped[-1] ^= 1
    lines[index] = f"{head} {conn} {flipped.hex()}"
    with pytest.raises(TraceMismatch, match="output differs"):
        replay("\n".join(lines))


def test_a_missing_event_is_reported() -> None:
    trace = recorded_simulation(2).text()
    lines = trace.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("event CallReturned"))
    lines.insert(index, lines[index])
    with pytest.raises(TraceMismatch):
        replay("\n".join(lines))


@pytest.mark.parametrize("path", sorted(TRACES.glob("*.trace")), ids=lambda p: p.stem)
def test_checked_in_trace_replays(path: Path) -> None:
    replay(path.read_text())
