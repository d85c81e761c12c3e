"""The text form of RPC messages agrees with the reference printer (pycapnp's)."""

from __future__ import annotations

import os
import re

import capnp
import pytest

from capnrpc_core.rpc.codec import encode_message
from capnrpc_core.rpc.messages import (
    Abort,
    Bootstrap,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    ExceptionType,
    Finish,
    MessageTarget,
    PromisedAnswer,
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
)
from capnrpc_core.rpc.text import frame_text
from tests.rpc.simulation import Simulation

_PKG = os.path.dirname(capnp.__file__)
RPC = capnp.load(os.path.join(_PKG, "rpc.capnp"), imports=[os.path.dirname(_PKG)])


def normalise(text: str) -> str:
    """Fold the reference's pretty-printed layout into the one-line form."""
    text = re.sub(r"\s+", " ", text)
    for opening in "([":
        text = text.replace(opening + " ", opening)
    for closing in ")]":
        text = text.replace(" " + closing, closing)
    return text.strip()


def reference_text(frame: bytes) -> str:
    with RPC.Message.from_bytes(frame) as message:
        return normalise(str(message))


def traffic(seed: int) -> list[bytes]:
    sim = Simulation(seed, 3)
    frames: list[bytes] = []
    for _ in range(120):
        sim.step(sim.random_op())
        for pipe in sim.pipes:
            frames.extend(pipe.frames)
    return frames


@pytest.mark.parametrize("seed", range(6))
def test_simulated_traffic_prints_like_the_reference(seed: int) -> None:
    frames = traffic(seed)
    assert len(frames) > 20
    for frame in frames:
        assert frame_text(frame) == reference_text(frame)


HAND_BUILT = [
    Bootstrap(7),
    Finish(3, release_result_caps=False, require_early_cancellation_workaround=False),
    Release(9, 4),
    Abort(RpcException("tab\there \"quoted\" 'single' \\ \x01\x7f é", ExceptionType.OVERLOADED)),
    Return(4, ReturnKind.EXCEPTION, exception=RpcException("boom", trace="at line 3")),
    Return(4, ReturnKind.CANCELED),
    Return(4, ReturnKind.RESULTS_SENT_ELSEWHERE),
    Return(4, ReturnKind.TAKE_FROM_OTHER_QUESTION, other_question_id=12),
    Resolve(
        1, cap=CapDescriptor(CapKind.RECEIVER_ANSWER, promised_answer=PromisedAnswer(2, (0, 3)))
    ),
    Resolve(1, exception=RpcException("no")),
    Resolve(1, cap=CapDescriptor(CapKind.NONE)),
    Disembargo(MessageTarget(import_id=2), DisembargoKind.SENDER_LOOPBACK, 5),
    Disembargo(
        MessageTarget(promised_answer=PromisedAnswer(1, ())), DisembargoKind.RECEIVER_LOOPBACK, 0
    ),
]


@pytest.mark.parametrize("message", HAND_BUILT, ids=lambda m: type(m).__name__)
def test_every_message_kind_prints_like_the_reference(message: object) -> None:
    frame = encode_message(message)  # type: ignore[arg-type]
    assert frame_text(frame) == reference_text(frame)


def test_malformed_frame_prints_a_reason_instead_of_raising() -> None:
    assert frame_text(b"\x00\x00\x00\x00\x05\x00\x00\x00").startswith("<malformed:")
