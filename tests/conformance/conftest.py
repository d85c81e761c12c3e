"""Fixtures of the conformance suite: every test runs once per (client driver, server driver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from capnrpc_core.rpc import RpcLimits
from tests.conformance.drivers import ADAPTERS, CLIENT_TIMEOUT, Adapter, LoopServer, Scenario
from tests.conformance.services import ConfEcho


class Pair:
    """A client driver and a server driver; servers started here stop when the test ends."""

    def __init__(self, client: Adapter, server: Adapter) -> None:
        self.client = client
        self.server = server
        self._servers: list[LoopServer] = []

    @property
    def flavor(self) -> Any:
        """The server driver's waiting primitives (for server objects)."""
        return self.server.flavor

    def echo(self, **options: Any) -> ConfEcho:
        """A fresh :class:`ConfEcho` for the server driver."""
        return ConfEcho(self.server.flavor, **options)

    def serve(
        self,
        bootstrap: object = None,
        *,
        address: str = "tcp://127.0.0.1:0",
        limits: RpcLimits | None = None,
    ) -> LoopServer:
        """Start serving ``bootstrap`` (a new ConfEcho by default) on the server driver."""
        if bootstrap is None:
            bootstrap = self.echo()
        server = self.server.start_server(address, bootstrap, limits=limits)
        self._servers.append(server)
        return server

    def run(self, scenario: Scenario) -> Any:
        """Run ``scenario(kit)`` on the client driver."""
        return self.client.run_client(scenario, CLIENT_TIMEOUT)

    def stop(self) -> None:
        for server in self._servers:
            server.stop()


PAIRS = [(client, server) for client in ADAPTERS for server in ADAPTERS]


@pytest.fixture(params=PAIRS, ids=[f"{c.name}-to-{s.name}" for c, s in PAIRS])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    client, server = request.param
    p = Pair(client, server)
    try:
        yield p
    finally:
        p.stop()
