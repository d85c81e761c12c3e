"""The adapters' own helpers (the scenarios are in test_conformance.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conformance.drivers import ADAPTERS, run_without_loop


def test_run_without_loop_runs_a_coroutine_that_never_suspends() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    async def scenario() -> int:
        return await add(2, 3) * 2

    assert run_without_loop(scenario()) == 10


def test_run_without_loop_refuses_a_coroutine_that_suspends() -> None:
    async def scenario() -> None:
        await asyncio.sleep(0)

    with pytest.raises(AssertionError, match="suspended"):
        run_without_loop(scenario())


def test_every_driver_is_in_the_suite() -> None:
    names = [a.name for a in ADAPTERS]
    assert names[:2] == ["trio", "asyncio"]
    assert len(set(names)) == len(names)
