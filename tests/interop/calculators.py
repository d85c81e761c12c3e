"""Our side of the calculator interop scenarios (tests/interop/test_driver_interop.py), for
every driver: the server objects we pass to pycapnp, the calculator we serve to pycapnp's
clients, the probe interface that counts the peer's live objects, and a record of what our
server logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from capnrpc_core import load
from capnrpc_core.rpc import Cap
from capnrpc_core.schema.interfaces import Runtime
from capnrpc_trio.demo.calculator import CalculatorImpl
from capnrpc_trio.demo.calculator_capnp import Calculator
from tests.interop.peers import HERE

# The pycapnp calculator's bootstrap: the calculator plus ``liveObjects``.
CalculatorProbe = load(HERE.parent / "schemas" / "calculator_probe.capnp").CalculatorProbe


def only(**sizes: int) -> dict[str, int]:
    """Every table empty but those named (``only(imports=1)``)."""
    empty = dict.fromkeys(
        ("questions", "answers", "exports", "imports", "promise_imports", "embargoes"), 0
    )
    return {**empty, **sizes}


def lit(value: float) -> dict[str, Any]:
    return {"literal": value}


def prev(value: Any) -> dict[str, Any]:
    return {"previous": value}


def call(function: Any, *params: Any) -> dict[str, Any]:
    return {"call": {"function": function, "params": list(params)}}


class ConstantValue(Calculator.Value.Server):
    def __init__(self, value: float) -> None:
        self.value = value

    def read(self) -> float:
        return self.value


class CounterValue(Calculator.Value.Server):
    """Reads return 1, 2, 3... in the order they run."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> float:
        self.reads += 1
        return float(self.reads)


class Power(Calculator.Function.Server):
    """Our function, called back by the peer."""

    def __init__(self) -> None:
        self.calls = 0

    def call(self, params: Sequence[float]) -> float:
        self.calls += 1
        base, exponent = params
        return float(base**exponent)


class Refusing(Calculator.Function.Server):
    def call(self, params: Sequence[float]) -> float:
        raise ValueError("our function refuses to compute")


class LazyCalculator(CalculatorImpl):
    """Our calculator, with the peer's lazy ``previous`` (see tests/interop/pycapnp_calculator.py).

    ``evaluate`` of a bare ``previous`` answers with a local promise, resolved to that very
    Value when the next request arrives (before that request is answered). ``runtime`` is the
    vat serving it (any driver's); set it before the first call.
    """

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime
        self.lazy: list[tuple[Cap, Any]] = []

    def _vat(self) -> Runtime:
        assert self.runtime is not None, "LazyCalculator.runtime was never set"
        return self.runtime

    def _request(self) -> None:
        runtime = self._vat()
        lazy, self.lazy = self.lazy, []
        # The lock: a blocking-socket vat runs methods on several threads.
        with runtime.lock():
            core = runtime.vat
            for promise, value in lazy:
                with value:
                    core.resolve(promise, value.cap)
                core.release(promise)
        runtime.flush()

    async def evaluate(self, expression: Any) -> Any:
        self._request()
        if expression.which() == "previous":
            runtime = self._vat()
            with runtime.lock():
                promise = runtime.vat.new_promise()
                self.lazy.append((promise, expression.previous))
                return Calculator.Value(runtime, runtime.vat.add_ref(promise))
        return await super().evaluate(expression)

    def defFunction(self, paramCount: int, body: Any) -> Any:
        self._request()
        return super().defFunction(paramCount, body)

    def getOperator(self, op: Any) -> Any:
        self._request()
        return super().getOperator(op)


class ServerLog(logging.Handler):
    """What ``capnrpc.server`` logged, as text only.

    A LogRecord keeps its traceback, whose frames keep the failed method's params, which keep
    their capabilities: pytest's own log capture would hold those until the test ends, and the
    tables would not empty. So the records are not passed on.
    """

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.texts.append(f"{record.getMessage()} | {exc}")

    def __enter__(self) -> ServerLog:
        logger = logging.getLogger("capnrpc.server")
        logger.addHandler(self)
        logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("capnrpc.server")
        logger.removeHandler(self)
        logger.propagate = True
