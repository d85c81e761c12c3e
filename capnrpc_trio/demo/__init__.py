"""``capnrpc demo``: a calculator server and client in one process, showing the wire.

The server listens on a free loopback port; the client connects and runs a short session in
which every step is sent in one go, pipelined on results that have not arrived yet. Each
message the client sends or receives is printed on one line, and each step ends with how many
round trips pipelining saved: a call sent before the answer it depends on would otherwise have
had to wait one round trip for it.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import trio
import trio.testing

import capnrpc_trio
from capnrpc_core.driver import describe_message
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import Bootstrap, Call, CapKind, Message, Return
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.reader import MessageReader
from capnrpc_trio.demo.calculator import CalculatorImpl
from capnrpc_trio.demo.calculator_capnp import Calculator

__all__ = ["WireWatcher", "main", "run"]


@dataclass
class WireWatcher:
    """Prints the client's messages and works out how deep each step's call chains went."""

    out: TextIO
    show_wire: bool = True
    depth: dict[int, int] = field(default_factory=dict)  # question id -> dependent-call depth
    pending: set[int] = field(default_factory=set)  # questions not answered yet
    step_depth: int = 0
    sent: int = 0
    received: int = 0

    def __call__(self, conn: Any, direction: str, frame: bytes) -> None:
        msg = decode_message(MessageReader(decode_frame(frame)))
        if direction == "send":
            self.sent += 1
            self._sending(msg)
        else:
            self.received += 1
            if isinstance(msg, Return):
                self.pending.discard(msg.answer_id)
        if self.show_wire:
            arrow = "client ->" if direction == "send" else "client <-"
            self.out.write(f"    {arrow} {describe_message(msg)}\n")

    def _sending(self, msg: Message) -> None:
        if isinstance(msg, Bootstrap):
            self._asked(msg.question_id, [])
        elif isinstance(msg, Call):
            waits_for = []
            if msg.target.promised_answer is not None:
                waits_for.append(msg.target.promised_answer.question_id)
            for desc in msg.params.cap_table:
                if desc.kind == CapKind.RECEIVER_ANSWER and desc.promised_answer is not None:
                    waits_for.append(desc.promised_answer.question_id)
            self._asked(msg.question_id, waits_for)

    def _asked(self, question: int, waits_for: list[int]) -> None:
        deps = [self.depth.get(q, 1) for q in waits_for if q in self.pending]
        depth = 1 + max(deps, default=0)
        self.depth[question] = depth
        self.pending.add(question)
        self.step_depth = max(self.step_depth, depth)

    def start_step(self) -> None:
        self.step_depth = 0
        self.sent = self.received = 0


class PowerFunction(Calculator.Function.Server):
    """A function the client defines; the server calls it back."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def call(self, params: Sequence[float]) -> float:
        base, exponent = params
        self.out.write(
            f"    (the server called back the client's function: {base} ** {exponent})\n"
        )
        return float(base**exponent)


def literal(value: float) -> dict[str, Any]:
    """An expression for a number."""
    return {"literal": value}


def call(function: Any, *params: Any) -> dict[str, Any]:
    """An expression applying ``function`` to argument expressions."""
    return {"call": {"function": function, "params": list(params)}}


Step = tuple[str, str, Callable[[Any], Awaitable[float]]]


def session(out: TextIO) -> list[Step]:
    """The steps the client runs: (title, what it computes, coroutine function)."""

    async def read_literal(calc: Any) -> float:
        return float((await calc.evaluate(expression=literal(123)).value.read()).value)

    async def add(calc: Any) -> float:
        plus = calc.getOperator(op="add").func
        promise = calc.evaluate(expression=call(plus, literal(123), literal(45)))
        return float((await promise.value.read()).value)

    async def chained(calc: Any) -> float:
        plus = calc.getOperator(op="add").func
        times = calc.getOperator(op="multiply").func
        ten = calc.evaluate(expression=call(plus, literal(4), literal(6))).value
        seventy = calc.evaluate(expression=call(times, {"previous": ten}, literal(7))).value
        return float((await seventy.read()).value)

    async def defined(calc: Any) -> float:
        plus = calc.getOperator(op="add").func
        times = calc.getOperator(op="multiply").func
        body = call(plus, call(times, {"parameter": 0}, {"parameter": 1}), literal(1))
        f = calc.defFunction(paramCount=2, body=body).func
        promise = calc.evaluate(expression=call(f, literal(12), literal(34)))
        return float((await promise.value.read()).value)

    async def callback(calc: Any) -> float:
        expression = call(PowerFunction(out), literal(2), literal(10))
        return float((await calc.evaluate(expression=expression).value.read()).value)

    return [
        ("evaluate a literal and read the result", "123", read_literal),
        ("ask for an operator and use it at once", "123 + 45", add),
        ("feed one result into the next expression", "(4 + 6) * 7", chained),
        (
            "define a function on the server, then call it",
            "f(x, y) = x * y + 1; f(12, 34)",
            defined,
        ),
        (
            "pass the server a function of the client's own",
            "pow(2, 10), computed by the client",
            callback,
        ),
    ]


async def run(out: TextIO = sys.stdout, show_wire: bool = True) -> int:
    """Serve the calculator on loopback, run the client session against it; the exit status."""
    watcher = WireWatcher(out, show_wire)
    saved_total = 0
    async with capnrpc_trio.serve("tcp://127.0.0.1:0", CalculatorImpl()) as listener:
        out.write(f"capnrpc demo: calculator server listening on {listener.address}\n")
        if show_wire:
            out.write(
                "Each indented line is one message as the client sees it (-> sent, <- received;"
                "\n#n is a question id, reused once the question is done).\n"
            )
        async with capnrpc_trio.open_vat(name="client") as vat:
            vat.frame_observer = watcher
            async with capnrpc_trio.connect(listener.address, vat=vat) as conn:
                calc: Any = None
                for number, (title, what, step) in enumerate(session(out), 1):
                    out.write(f"\n{number}. {title}: {what}\n")
                    watcher.start_step()
                    if calc is None:
                        # Usable at once: the first step's calls go out right behind it.
                        calc = conn.bootstrap(Calculator)
                    value = await step(calc)
                    # Let the last Finish and Release messages of the step show up here.
                    await trio.testing.wait_all_tasks_blocked()
                    saved = max(watcher.step_depth - 1, 0)
                    saved_total += saved
                    out.write(
                        f"  = {value:g}   ({watcher.sent} messages sent, {watcher.received} "
                        f"received; {saved} round trip{'s' if saved != 1 else ''} saved by "
                        "pipelining)\n"
                    )
                calc.release()
    out.write(
        f"\nPipelining saved {saved_total} round trips in all: every step took one round trip "
        "of waiting,\nwhere waiting for each answer before sending the next call would have "
        f"taken {saved_total + len(session(out))}.\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``capnrpc demo``."""
    quiet = bool(argv) and "--quiet" in list(argv or ())
    return trio.run(run, sys.stdout, not quiet)
