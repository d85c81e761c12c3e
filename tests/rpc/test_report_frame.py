"""driver.report_frame: what every driver does with a frame of an observed connection."""

from __future__ import annotations

import logging

import pytest

from capnrpc_core.driver import report_frame
from capnrpc_core.rpc import Vat
from capnrpc_core.rpc.messages import Bootstrap
from tests.rpc.harness import frame


class Runtime:
    """Stands in for a driver's vat: only ``frame_observer`` is read."""

    def __init__(self, observer: object) -> None:
        self.frame_observer = observer


def test_the_observer_sees_the_frame_and_the_wire_log_a_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = Vat(name="v").new_connection("v->peer")
    seen: list[tuple[object, str, bytes]] = []
    runtime = Runtime(lambda conn, direction, data: seen.append((conn, direction, data)))
    data = frame(Bootstrap(3))
    with caplog.at_level(logging.DEBUG, logger="capnrpc.wire"):
        report_frame(runtime, "driver conn", core, "send", data)
    assert seen == [("driver conn", "send", data)]
    assert [r.getMessage() for r in caplog.records] == ["v->peer -> Bootstrap #3"]


def test_an_observer_that_raises_is_logged_and_removed(caplog: pytest.LogCaptureFixture) -> None:
    core = Vat(name="v").new_connection("v->peer")

    def broken(conn: object, direction: str, data: bytes) -> None:
        raise ValueError("watcher bug")

    runtime = Runtime(broken)
    with caplog.at_level(logging.INFO, logger="capnrpc"):
        report_frame(runtime, "driver conn", core, "recv", frame(Bootstrap(0)))
    assert runtime.frame_observer is None
    assert any("failed; it is removed" in r.getMessage() for r in caplog.records)
    # No driver connection (already gone): the observer is not called at all.
    calls: list[object] = []
    runtime.frame_observer = lambda *args: calls.append(args)
    report_frame(runtime, None, core, "recv", frame(Bootstrap(0)))
    assert calls == []
