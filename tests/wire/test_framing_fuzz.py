"""Fuzzing the framing and packing decoders: only segments or DecodeError, quickly, cheaply."""

from __future__ import annotations

import struct
import tracemalloc
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.framing import FrameDecoder, decode_frame, encode_frame, frame_size
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.packing import pack, unpack
from tests.wire.test_framing import sample_messages

pytestmark = pytest.mark.timeout(60)

SMALL = ReadLimits(max_segments=16, max_frame_bytes=4096, traversal_limit_words=400)
LIMITS = st.sampled_from([SMALL, ReadLimits()])


def check_segments(segments: list[memoryview], limits: ReadLimits) -> None:
    """What a successful decode promises: few enough whole-word segments, within the limits."""
    assert 1 <= len(segments) < limits.max_segments
    assert all(isinstance(view, memoryview) and len(view) % 8 == 0 for view in segments)
    assert sum(len(view) for view in segments) <= 8 * limits.traversal_limit_words


def decode_or_error(data: bytes, limits: ReadLimits) -> list[memoryview] | None:
    try:
        segments = decode_frame(data, limits)
    except DecodeError:
        return None
    check_segments(segments, limits)
    # The padding word after an even segment count is ignored on read (as in C++), so compare
    # with it zeroed.
    table_end = 4 + 4 * len(segments)
    padded_end = (table_end + 7) & ~7
    expected = data[:table_end] + bytes(padded_end - table_end) + data[padded_end:]
    assert encode_frame(segments) == expected
    return segments


def stream_or_error(chunks: list[bytes], limits: ReadLimits) -> list[list[bytes]] | None:
    decoder = FrameDecoder(limits)
    messages: list[list[bytes]] = []
    try:
        for chunk in chunks:
            for segments in decoder.feed(chunk):
                check_segments(segments, limits)
                messages.append([bytes(view) for view in segments])
            assert decoder.buffered <= limits.max_frame_bytes
        decoder.close()
    except DecodeError:
        return None
    return messages


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(min(cut, len(data)) for cut in cuts), len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


@st.composite
def mutated_frame(draw: st.DrawFn) -> bytes:
    """A real frame with some bytes overwritten, often in the segment table, or cut short."""
    frame = bytearray(draw(st.sampled_from([frame for frame, _, _ in sample_messages()])))
    table_end = 8 * (struct.unpack_from("<I", frame)[0] // 2 + 1)
    for _ in range(draw(st.integers(1, 4))):
        limit = table_end if draw(st.booleans()) else len(frame)
        position = draw(st.integers(0, limit - 1))
        frame[position] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]) | st.integers(0, 255))
    if draw(st.booleans()):
        frame = frame[: draw(st.integers(0, len(frame)))]
    if draw(st.booleans()):
        frame += draw(st.binary(max_size=24))
    return bytes(frame)


_U32 = st.sampled_from([0, 1, 2, 3, 255, 511, 512, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF]) | st.integers(
    0, 0xFFFF_FFFF
)


@st.composite
def hostile_header(draw: st.DrawFn) -> bytes:
    """A segment table with extreme counts and sizes, followed by a little body."""
    words = draw(st.lists(_U32, min_size=1, max_size=10))
    return struct.pack(f"<{len(words)}I", *words) + draw(st.binary(max_size=64))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200) | hostile_header(), limits=LIMITS)
def test_random_bytes_to_decode_frame(data: bytes, limits: ReadLimits) -> None:
    segments = decode_or_error(data, limits)
    try:
        size = frame_size(data, limits)
    except DecodeError:
        assert segments is None
        return
    # frame_size and decode_frame agree on where (and whether) the frame ends.
    assert (segments is not None) == (size == len(data))


@settings(max_examples=300, deadline=None)
@given(frame=mutated_frame(), limits=LIMITS)
def test_mutated_frames_to_decode_frame(frame: bytes, limits: ReadLimits) -> None:
    decode_or_error(frame, limits)


@settings(max_examples=200, deadline=None)
@given(
    frames=st.lists(mutated_frame() | hostile_header(), min_size=1, max_size=3),
    cuts=st.lists(st.integers(0, 5000), max_size=8),
    limits=LIMITS,
)
def test_mutated_streams_to_frame_decoder(
    frames: list[bytes], cuts: list[int], limits: ReadLimits
) -> None:
    stream = b"".join(frames)
    whole = stream_or_error([stream], limits)
    # Chunking never changes the outcome: the same messages, or an error either way.
    assert stream_or_error(split(stream, cuts), limits) == whole


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_to_unpack(data: bytes) -> None:
    try:
        result = unpack(data, max_bytes=1 << 20)
    except DecodeError:
        return
    assert len(result) % 8 == 0
    # Whatever decodes re-packs canonically and decodes to the same bytes.
    assert unpack(pack(result)) == result


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_packed_to_unpack(data: st.DataObject) -> None:
    packed = bytearray(data.draw(st.sampled_from([p for _, _, p in sample_messages()])))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(packed) - 1))
        packed[position] = data.draw(st.sampled_from([0, 0xFF]) | st.integers(0, 255))
    try:
        result = unpack(bytes(packed))
    except DecodeError:
        return
    assert len(result) % 8 == 0
    decode_or_error(result, ReadLimits())


def test_four_gigabyte_claims_fail_fast_without_allocating() -> None:
    roomy = ReadLimits(max_frame_bytes=1 << 40, traversal_limit_words=1 << 40)
    headers = [
        struct.pack("<II", 0, 0xFFFF_FFFF),  # one segment of 32 GiB
        struct.pack("<IIII", 1, 0xFFFF_FFFF, 0xFFFF_FFFF, 0),  # two of them
        struct.pack("<II", 0xFFFF_FFFF, 0xFFFF_FFFF),  # 2**32 segments
        struct.pack("<II", 0x7FFF_FFFF, 1),
    ]
    tracemalloc.start()
    try:
        for header in headers:
            with pytest.raises(DecodeError):
                decode_frame(header + bytes(8))
            with pytest.raises(DecodeError):
                FrameDecoder().feed(header)
        # With limits that allow it, the decoder waits for the body instead of reserving it.
        decoder = FrameDecoder(roomy)
        assert decoder.feed(headers[0]) == []
        assert decoder.buffered == 8
        assert frame_size(headers[0], roomy) == 8 + 8 * 0xFFFF_FFFF
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_packed_bomb_is_bounded_by_max_bytes() -> None:
    bomb = b"\x00\xff" * 100_000  # would unpack to 200 MB
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError, match="max_bytes"):
            unpack(bomb, max_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
