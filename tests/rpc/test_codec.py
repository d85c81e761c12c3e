"""The codec: every message round-trips, and the fast encoders equal the generic one."""

from __future__ import annotations

import gc
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError
from capnrpc_core.rpc import Vat, codec
from capnrpc_core.rpc.codec import _encode_into, decode_message, encode_message, encode_segments
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
from capnrpc_core.wire.builder import MessageBuilder, StructBuilder
from capnrpc_core.wire.framing import decode_frame, encode_frame
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.reader import AnyPointerReader, MessageReader
from tests.rpc.harness import params

U64 = struct.Struct("<Q")


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


# -- the fast paths (Note [fast decoding], Note [verbatim payloads]) -----------------------------


def _builder_params(value: int, text: str | None = None, caps: int = 0) -> StructBuilder:
    """A root struct built field by field, as the typed layer builds params and results."""
    s = MessageBuilder(first_segment_words=8).init_root(1, 2)
    s.set_int(U64, 0, value)
    if text is not None:
        s.set_text(1, text)
    return s


VERBATIM_CASES: list[Message] = [
    Call(1, MessageTarget(import_id=4), 0xFEDCBA9876543210, 65535, Payload(_builder_params(5))),
    Call(
        2,
        MessageTarget(import_id=0),
        1,
        2,
        Payload(
            _builder_params(6, text="hello"),
            (
                CapDescriptor(CapKind.SENDER_HOSTED, 1),
                CapDescriptor(CapKind.NONE),
                CapDescriptor(CapKind.SENDER_PROMISE, 7),
                CapDescriptor(CapKind.RECEIVER_HOSTED, 2**32 - 1),
            ),
        ),
        send_results_to=SendResultsTo.YOURSELF,
        no_promise_pipelining=True,
    ),
    Call(3, MessageTarget(import_id=9), 5, 6, Payload(None, (CapDescriptor(CapKind.NONE),))),
    Call(
        7,
        MessageTarget(promised_answer=PromisedAnswer(3, (0,))),
        1,
        2,
        Payload(_builder_params(8), (CapDescriptor(CapKind.SENDER_HOSTED, 1),)),
    ),
    Call(
        8,
        MessageTarget(promised_answer=PromisedAnswer(2**32 - 1, (1, 0, 65535))),
        1,
        2,
        Payload(_builder_params(9, text="deep")),
    ),
    Call(9, MessageTarget(promised_answer=PromisedAnswer(4)), 1, 2, Payload(None)),
    Return(4, ReturnKind.RESULTS, results=Payload(_builder_params(1, text="x").as_reader())),
    Return(5, ReturnKind.RESULTS, results=Payload(None), no_finish_needed=True),
    Return(
        6,
        ReturnKind.RESULTS,
        results=Payload(_builder_params(2), (CapDescriptor(CapKind.SENDER_HOSTED, 3),)),
        release_param_caps=False,
    ),
    Call(
        10,
        MessageTarget(promised_answer=PromisedAnswer(2**32 - 1, (65535,))),
        1,
        2,
        Payload(_builder_params(3, text="p")),
        only_promise_pipeline=True,
    ),
    Finish(0),
    Finish(7, release_result_caps=False, require_early_cancellation_workaround=False),
    Finish(2**32 - 1, release_result_caps=False, require_early_cancellation_workaround=True),
    Finish(3, release_result_caps=True, require_early_cancellation_workaround=False),
]


@pytest.mark.parametrize("message", VERBATIM_CASES, ids=lambda m: type(m).__name__)
def test_verbatim_frames_equal_the_generic_encoder(message: Message) -> None:
    frame = encode_message(message)
    assert frame == encode_frame(generic_segments(message))
    # The fast path was taken: the payload went through no builder.
    if isinstance(message, Call):
        assert codec._frame_call(message)
    elif isinstance(message, Finish):
        assert codec._frame_finish(message) == frame
    else:
        assert codec._frame_return(message)  # type: ignore[arg-type]


def test_a_payload_that_is_not_a_whole_root_goes_through_the_builder() -> None:
    outer = MessageBuilder().init_root(0, 1)
    inner = outer.init_struct(0, 1, 1)
    inner.set_int(U64, 0, 42)
    call = Call(1, MessageTarget(import_id=1), 2, 3, Payload(inner))
    assert codec._frame_call(call) is None
    decoded = decode_message(MessageReader(decode_frame(encode_message(call))))
    assert isinstance(decoded, Call)
    content = decoded.params.content
    assert isinstance(content, AnyPointerReader)
    assert content.as_struct().get_int(U64, 0) == 42


def test_overwritten_fields_travel_as_zeros_not_as_old_data() -> None:
    s = MessageBuilder().init_root(0, 1)
    s.set_text(0, "secret password")
    s.set_text(0, "ok")
    frame = encode_message(Call(1, MessageTarget(import_id=1), 2, 3, Payload(s)))
    assert b"secret" not in frame
    decoded = decode_message(MessageReader(decode_frame(frame)))
    assert isinstance(decoded, Call)
    assert decoded.params.content.as_struct().get_text(0) == "ok"  # type: ignore[union-attr]


def _decode_both(frame: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """decode_fast agrees with the generic decoder (value and budget) whenever it answers."""
    try:
        segments = decode_frame(frame)
        fast_reader = MessageReader(segments, limits=limits)
        slow_reader = MessageReader(segments, limits=limits)
    except DecodeError:
        return
    fast = codec.decode_fast(fast_reader)
    if fast is None:
        assert fast_reader.traversal_words_left == limits.traversal_limit_words
        return
    slow = decode_message(slow_reader)
    assert fast_reader.traversal_words_left == slow_reader.traversal_words_left
    assert _comparable(fast) == _comparable(slow)


def _comparable(message: Message) -> object:
    if isinstance(message, Call | Return):
        # Compare the content pointer by where it is (its repr would read through it).
        payload = message.params if isinstance(message, Call) else message.results
        assert payload is not None
        content = payload.content
        assert isinstance(content, AnyPointerReader)
        where = (content._off, content._nest, bytes(content._seg))
        rest = {
            name: getattr(message, name)
            for name in type(message).__slots__
            if name not in ("params", "results")
        }
        return rest, payload.cap_table, where
    return message


ALL_FRAMES = [encode_message(m) for m in CASES + VERBATIM_CASES]


@pytest.mark.parametrize("frame", ALL_FRAMES)
def test_fast_decoding_takes_the_common_messages(frame: bytes) -> None:
    message = decode_message(MessageReader(decode_frame(frame)))
    fast = codec.decode_fast(MessageReader(decode_frame(frame)))
    common = isinstance(message, Finish | Release | Call) or (
        isinstance(message, Return) and message.kind == ReturnKind.RESULTS
    )
    has_answer_caps = any(
        d.kind == CapKind.RECEIVER_ANSWER
        for d in getattr(
            getattr(message, "params", None) or getattr(message, "results", None), "cap_table", ()
        )
    )
    assert (fast is not None) == (common and not has_answer_caps)
    _decode_both(frame)


@pytest.mark.parametrize("frame", ALL_FRAMES)
def test_fast_decoding_leaves_tight_limits_to_the_generic_decoder(frame: bytes) -> None:
    for words in range(0, 40):
        _decode_both(frame, ReadLimits(traversal_limit_words=words))
    for nesting in range(0, 8):
        _decode_both(frame, ReadLimits(nesting_limit=nesting))


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ALL_FRAMES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_fast_decoding_agrees_with_the_generic_decoder_on_mutated_frames(
    frame: bytes, edits: list[tuple[int, int]]
) -> None:
    data = bytearray(frame)
    for position, value in edits:
        position = 8 + position % (len(data) - 8)  # keep the frame table: mutate the message
        data[position] = value
    _decode_both(bytes(data))


# Frames in the canonical layout (Note [canonical layout]): a Call to an import or to a promised
# answer one field deep, and Returns with results, none with capabilities, null content included;
# Finish and Release.
CANONICAL_FRAMES = [
    encode_message(m)
    for m in [
        Finish(7, release_result_caps=False, require_early_cancellation_workaround=False),
        Release(3, 9),
        VERBATIM_CASES[0],
        Call(
            3, MessageTarget(import_id=2**32 - 1), 5, 6, Payload(None), no_promise_pipelining=True
        ),
        VERBATIM_CASES[9],
        Call(11, MessageTarget(promised_answer=PromisedAnswer(0, (0,))), 5, 6, Payload(None)),
        VERBATIM_CASES[6],
        VERBATIM_CASES[7],
    ]
]
# A Return with capabilities: its fixed words are read at once, its cap table step by step.
CANONICAL_HEAD_FRAMES = [encode_message(VERBATIM_CASES[8])]


@pytest.mark.parametrize("frame", CANONICAL_FRAMES)
def test_canonical_frames_are_decoded_from_their_fixed_words(
    frame: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The step-by-step path reads every pointer with _half; the canonical one never does.
    def step_by_step(*args: object) -> None:
        raise AssertionError("decoded step by step")

    monkeypatch.setattr(codec, "_half", step_by_step)
    assert codec.decode_fast(MessageReader(decode_frame(frame))) is not None
    monkeypatch.undo()
    _decode_both(frame)


@pytest.mark.parametrize("frame", CANONICAL_FRAMES + CANONICAL_HEAD_FRAMES)
def test_canonical_decoding_agrees_with_the_generic_decoder_on_every_byte_changed(
    frame: bytes,
) -> None:
    # Every byte of the fixed words (and the content after them), set to a few values: each
    # either leaves the layout canonical, or sends it down the step-by-step path, or to the
    # generic decoder; all agree with the generic decoder, value and budget.
    for position in range(8, min(len(frame), 8 + 120)):
        for value in {0, 1, 2, 3, 4, 7, 8, 0x80, 0xFF, frame[position] ^ 1}:
            data = bytearray(frame)
            data[position] = value
            _decode_both(bytes(data))
            _decode_both(bytes(data), ReadLimits(traversal_limit_words=11))
            _decode_both(bytes(data), ReadLimits(nesting_limit=6))


def test_a_connection_reads_a_decoded_frame_as_from_decoder_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Connection._receive_frame reads a frame from its own decoder without checking its
    # segments again (MessageReader._from_decoder): every slot must come out as from there.
    seen: list[MessageReader] = []
    decode_fast = codec.decode_fast

    def spy(reader: MessageReader) -> Message | None:
        seen.append(reader)
        return decode_fast(reader)

    monkeypatch.setattr(codec, "decode_fast", spy)
    vat = Vat(None, name="a")
    conn = vat.new_connection()
    frame = encode_message(VERBATIM_CASES[0])
    conn.receive_data(frame)
    assert len(seen) == 1
    expected = MessageReader._from_decoder(decode_frame(frame), vat.limits.read)
    budget = expected.traversal_words_left - _CANONICAL_CALL_WORDS
    for name in MessageReader.__slots__:
        got: object = getattr(seen[0], name)
        want: object = budget if name == "_budget" else getattr(expected, name)
        if name == "segments":
            got = [bytes(s) for s in seen[0].segments]
            want = [bytes(s) for s in expected.segments]
        assert got == want, name


_CANONICAL_CALL_WORDS = 12  # what decoding VERBATIM_CASES[0] charges the budget


def test_a_live_reader_does_not_keep_its_builder_alive() -> None:
    # The verbatim fast path finds a builder's used words through its live reader; a reference
    # from the reader back to the builder would be a cycle, delaying the release of the
    # capabilities in its table (the typed layer releases them when they are freed).
    freed: list[bool] = []

    class Held:
        def __del__(self) -> None:
            freed.append(True)

    gc.disable()
    try:
        s = MessageBuilder().init_root(1, 0)
        s.message.caps.append(Held())
        reader = s.as_reader()
        assert codec._root_words(reader) is not None
        del s, reader
        assert freed == [True]
    finally:
        gc.enable()
