"""The bench scripts run end to end: rpc.py, trio_floor.py, socket_cores.py print what they say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "rpc.py"

pytestmark = pytest.mark.timeout(120)


def test_both_layouts_print_a_table_and_the_worst_ratio() -> None:
    command = [sys.executable, str(BENCH), "--seconds", "0.05", "--rounds", "1"]
    command += ["--only", "capnrpc_asyncio"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "-- one process" in lines and "-- two processes" in lines
    # What the machine is like comes first, with the two costs the ratios depend on.
    facts = [line for line in lines if line.startswith("machine: ")]
    assert lines[: len(facts)] == facts and "pycapnp 2." in facts[0]
    costs = re.fullmatch(
        r"machine: send\+recv of 1 byte (\d+\.\d) us; "
        r"lock handed to another thread and back (\d+\.\d) us"
        r"( on one core, \d+\.\d us across two| \(one core\))?",
        facts[1],
    )
    assert costs is not None and float(costs.group(1)) > 0 and float(costs.group(2)) > 0
    ratios = [
        float(line.split()[-1])
        for line in lines
        if line.startswith(("sequential", "100 in flight", "chain of 3", "64 KiB echo"))
    ]
    assert len(ratios) == 8 and all(r > 0 for r in ratios)
    last = re.fullmatch(r"min_ratio_vs_pycapnp (\d+\.\d+)", lines[-1])
    assert last is not None
    assert float(last.group(1)) == pytest.approx(min(ratios), abs=0.0011)


def test_trio_floor_prints_both_round_trips_and_the_share() -> None:
    script = BENCH.with_name("trio_floor.py")
    proc = subprocess.run(
        [sys.executable, str(script), "0.2"], capture_output=True, text=True, timeout=100
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    bare = re.fullmatch(r"bare trio tasks: (\d+\.\d) us a round trip", lines[0])
    ours = re.fullmatch(r"capnrpc_trio: +(\d+\.\d) us a round trip", lines[1])
    share = re.fullmatch(r"trio_share_of_round_trip (\d\.\d{3})", lines[2])
    assert bare is not None and ours is not None and share is not None, proc.stdout
    # Our round trip does everything the bare tasks do and a protocol on top.
    assert 0 < float(bare.group(1)) < float(ours.group(1))
    assert float(share.group(1)) == pytest.approx(
        float(bare.group(1)) / float(ours.group(1)), abs=0.002
    )


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="compares threads spread over two cores with one core: needs two usable cores",
)
def test_socket_cores_prints_both_placements_and_their_ratio() -> None:
    script = BENCH.with_name("socket_cores.py")
    proc = subprocess.run(
        [sys.executable, str(script), "300"], capture_output=True, text=True, timeout=100
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    walls = []
    for line, name in zip(lines, ("spread", "one core"), strict=False):
        found = re.fullmatch(rf"{name}: +(\d+\.\d) us a call, +(\d+\.\d) us of CPU a call", line)
        assert found is not None, proc.stdout
        walls.append(float(found.group(1)))
    last = re.fullmatch(r"spread_over_one_core (\d+\.\d{3})", lines[2])
    assert last is not None and len(walls) == 2 and min(walls) > 0
    assert float(last.group(1)) == pytest.approx(walls[0] / walls[1], rel=0.01)
