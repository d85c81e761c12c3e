"""Seeded multi-vat simulation (see simulation.py). More seeds: CAPNRPC_SIM_SEEDS=N."""

from __future__ import annotations

import os

import pytest

from tests.rpc.simulation import run

SEEDS = int(os.environ.get("CAPNRPC_SIM_SEEDS", "40"))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_simulation_seed(seed: int) -> None:
    sim = run(seed, steps=250, vats=3 + seed % 2)
    # The run did real work: calls were made and settled.
    assert sim.all_calls
    assert all(c.done for c in sim.all_calls)
