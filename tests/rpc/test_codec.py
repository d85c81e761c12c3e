"""The codec: every message round-trips, and the fast encoders equal the generic one."""

from __future__ import annotations

import pytest

from capnrpc_core.rpc.codec import _encode_into, decode_message, encode_segments
from capnrpc_core.rpc.messages import (
    Call,
    CapDescriptor,
    CapKind,
    Finish,
    Message,
    MessageTarget,
    Payload,
    PromisedAnswer,
    Release,
    Return,
    ReturnKind,
    SendResultsTo,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.reader import MessageReader
from tests.rpc.harness import params


def generic_segments(message: Message) -> list[bytes]:
    builder = MessageBuilder(first_segment_words=64, keep_cap_indexes=True)
    _encode_into(builder.init_root(1, 1), message)
    return builder.segments()


CASES: list[Message] = [
    Finish(0),
    Finish(7, release_result_caps=False, require_early_cancellation_workaround=False),
    Finish(2**32 - 1, release_result_caps=True, require_early_cancellation_workaround=False),
    Release(3, 9),
    Call(1, MessageTarget(import_id=4), 0xFEDCBA9876543210, 65535, Payload(params(5).as_reader())),
    Call(
        2,
        MessageTarget(promised_answer=PromisedAnswer(9, (0, 3, 1))),
        1,
        2,
        Payload(
            params(6, text="x").as_reader(),
            (CapDescriptor(CapKind.SENDER_HOSTED, 1), CapDescriptor(CapKind.NONE)),
        ),
        send_results_to=SendResultsTo.YOURSELF,
        no_promise_pipelining=True,
        only_promise_pipeline=True,
        allow_third_party_tail_call=True,
    ),
    Call(3, MessageTarget(promised_answer=PromisedAnswer(0)), 5, 6, Payload(None)),
    Return(4, ReturnKind.RESULTS, results=Payload(params(1).as_reader())),
    Return(
        5,
        ReturnKind.RESULTS,
        results=Payload(None, (CapDescriptor(CapKind.RECEIVER_HOSTED, 2),)),
        release_param_caps=False,
        no_finish_needed=True,
    ),
]


@pytest.mark.parametrize("message", CASES, ids=lambda m: type(m).__name__)
def test_fast_encoders_equal_the_generic_encoder(message: Message) -> None:
    assert encode_segments(message) == generic_segments(message)


@pytest.mark.parametrize("message", CASES, ids=lambda m: type(m).__name__)
def test_messages_round_trip(message: Message) -> None:
    decoded = decode_message(MessageReader(encode_segments(message)))
    if isinstance(message, (Call, Return)):
        # Payload content is a pointer into the message: compare everything else.
        assert type(decoded) is type(message)
        assert (
            repr(decoded).split("params=")[0].split("results=")[0]
            == (repr(message).split("params=")[0].split("results=")[0])
        )
        payload = message.params if isinstance(message, Call) else message.results
        got = decoded.params if isinstance(decoded, Call) else decoded.results  # type: ignore[union-attr]
        assert payload is not None and got is not None
        assert got.cap_table == payload.cap_table
    else:
        assert decoded == message
