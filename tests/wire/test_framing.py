"""Stream framing: hand-computed tables, limits, and agreement with pycapnp (the C++ reference)."""

from __future__ import annotations

import os
import struct
from functools import cache
from itertools import pairwise
from typing import Any

import capnp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.wire.framing import FrameDecoder, decode_frame, encode_frame, frame_size
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.reader import MessageReader

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "schemas", "alltypes.capnp")


@cache
def alltypes() -> Any:
    """The alltypes schema module, loaded by pycapnp."""
    site_packages = os.path.dirname(os.path.dirname(capnp.__file__))
    return capnp.load(SCHEMA_PATH, imports=[site_packages])


def build_message(first_segment_words: int | None, richness: int) -> Any:
    """A pycapnp AllTypes builder; small first segments force multi-segment messages."""
    message = alltypes().AllTypes.new_message(num_first_segment_words=first_segment_words)
    if richness > 0:
        message.textField = "x" * richness
        message.int32Field = -richness
        message.uint64Field = 2**64 - richness
        message.float64Field = 1.5 * richness
    if richness > 1:
        message.int64List = list(range(richness * 4))
        message.uint64List = [2**64 - 1 - i for i in range(richness * 3)]
    if richness > 2:
        message.textList = ["a" * i for i in range(richness)]
        message.structField = {"num": richness, "name": "inner"}
    if richness > 3:
        message.dataList = [bytes([i]) * (i * 7) for i in range(richness * 2)]
    if richness > 4:
        message.structList = [{"num": i, "name": f"n{i}"} for i in range(richness)]
        message.nestedList = [list(range(i)) for i in range(richness)]
    return message


@cache
def sample_messages() -> tuple[tuple[bytes, tuple[bytes, ...], bytes], ...]:
    """(to_bytes, to_segments, to_bytes_packed) of single- and multi-segment pycapnp messages."""
    samples = []
    for first in (None, 1, 4, 12):
        for richness in range(7):
            message = build_message(first, richness)
            outputs = []
            for write in (message.to_bytes, message.to_segments, message.to_bytes_packed):
                outputs.append(write())
                message.clear_write_flag()
            frame, segments, packed = outputs
            samples.append((frame, tuple(bytes(s) for s in segments), packed))
    return tuple(samples)


def multi_segment_frames() -> list[bytes]:
    return [frame for frame, segments, _ in sample_messages() if len(segments) > 1]


def table(*words: int) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


# -- pycapnp as the oracle -----------------------------------------------------------------


def test_samples_cover_every_table_shape() -> None:
    counts = {len(segments) for _, segments, _ in sample_messages()}
    # 1..5 segments: both paddings of the table, and more than one segment after the first.
    assert {1, 2, 3, 4, 5} <= counts


@pytest.mark.parametrize("index", range(len(sample_messages())))
def test_decode_matches_pycapnp_segments(index: int) -> None:
    frame, segments, _ = sample_messages()[index]
    assert [bytes(view) for view in decode_frame(frame)] == list(segments)


@pytest.mark.parametrize("index", range(len(sample_messages())))
def test_encode_matches_pycapnp_bytes(index: int) -> None:
    frame, segments, _ = sample_messages()[index]
    assert encode_frame(segments) == frame
    assert encode_frame([memoryview(segment) for segment in segments]) == frame
    assert encode_frame([bytearray(segment) for segment in segments]) == frame


def test_pycapnp_reads_what_we_frame() -> None:
    message = build_message(1, 6)
    segments = decode_frame(message.to_bytes())
    assert len(segments) > 1
    with alltypes().AllTypes.from_bytes(encode_frame(segments)) as reader:
        assert reader.textField == "x" * 6
        assert list(reader.int64List) == list(range(24))
        assert [item.name for item in reader.structList] == [f"n{i}" for i in range(6)]
    from_segments = alltypes().AllTypes.from_segments([bytes(s) for s in segments])
    assert from_segments.uint64Field == 2**64 - 6


# -- hand-computed tables ------------------------------------------------------------------


def test_encode_one_segment() -> None:
    segment = bytes(range(16))
    assert encode_frame([segment]) == table(0, 2) + segment


def test_encode_two_segments_pads_the_table() -> None:
    a, b = b"A" * 8, b"B" * 24
    assert encode_frame([a, b]) == table(1, 1, 3, 0) + a + b


def test_encode_three_segments_needs_no_padding() -> None:
    a, b, c = b"A" * 8, b"", b"C" * 16
    assert encode_frame([a, b, c]) == table(2, 1, 0, 2) + a + c


def test_encode_rejects_no_segments() -> None:
    with pytest.raises(LocalUsageError, match="no segments"):
        encode_frame([])


@pytest.mark.parametrize("length", [1, 7, 9, 15])
def test_encode_rejects_partial_words(length: int) -> None:
    with pytest.raises(LocalUsageError, match=f"segment 1 is {length} bytes"):
        encode_frame([bytes(8), bytes(length)])


def test_encode_counts_bytes_of_wide_memoryviews() -> None:
    words = memoryview(bytearray(24)).cast("Q")
    assert encode_frame([words]) == table(0, 3) + bytes(24)


def test_decode_empty_segments() -> None:
    frame = table(2, 0, 1, 0) + b"12345678"
    assert [bytes(v) for v in decode_frame(frame)] == [b"", b"12345678", b""]
    assert [bytes(v) for v in decode_frame(table(0, 0))] == [b""]


def test_decode_returns_readonly_zero_copy_views() -> None:
    frame = encode_frame([b"A" * 8, b"B" * 16])
    segments = decode_frame(frame)
    for view in segments:
        assert view.readonly
        assert view.obj is frame


def test_decode_from_offset_memoryview() -> None:
    frame = encode_frame([b"A" * 8, b"B" * 16, b"C" * 8])
    padded = b"xyz" + frame + b"tail"
    view = memoryview(padded)[3 : 3 + len(frame)]
    assert [bytes(v) for v in decode_frame(view)] == [b"A" * 8, b"B" * 16, b"C" * 8]


@pytest.mark.parametrize("index", [0, 8, 14])
def test_decode_rejects_every_truncation(index: int) -> None:
    frame = sample_messages()[index][0]
    for cut in range(len(frame)):
        with pytest.raises(DecodeError, match="truncated"):
            decode_frame(frame[:cut])


def test_decode_rejects_trailing_bytes() -> None:
    frame = encode_frame([bytes(8)])
    with pytest.raises(DecodeError, match="8 trailing bytes after a frame of 16 bytes"):
        decode_frame(frame + bytes(8))
    with pytest.raises(DecodeError, match="trailing"):
        decode_frame(frame + frame)


def test_frame_size_reports_need_once_table_is_complete() -> None:
    frame = encode_frame([b"A" * 8, b"B" * 16, b"C" * 8, b"D" * 8])  # 24-byte table
    for cut in range(24):
        assert frame_size(frame[:cut]) is None
    for cut in range(24, len(frame) + 1):
        assert frame_size(frame[:cut]) == len(frame)
    assert frame_size(frame + b"more") == len(frame)
    assert frame_size(table(0, 5)) == 48


# -- limits --------------------------------------------------------------------------------


def frame_with_segments(count: int) -> bytes:
    return encode_frame([b""] * (count - 1) + [bytes(8)])


def test_default_segment_limit_matches_cpp() -> None:
    assert DEFAULT_LIMITS.max_segments == 512
    assert len(decode_frame(frame_with_segments(511))) == 511
    with pytest.raises(DecodeError, match=r"frame has 512 segments; at most 511"):
        decode_frame(frame_with_segments(512))


def test_segment_limit_is_configurable() -> None:
    limits = ReadLimits(max_segments=3)
    assert len(decode_frame(frame_with_segments(2), limits)) == 2
    with pytest.raises(DecodeError, match=r"frame has 3 segments; at most 2 .*max_segments=3"):
        decode_frame(frame_with_segments(3), limits)
    with pytest.raises(DecodeError, match="max_segments"):
        FrameDecoder(limits).feed(frame_with_segments(3)[:8])


def test_segment_count_field_near_wraparound_is_refused() -> None:
    # 0xffffffff + 1 segments would wrap to zero in 32-bit arithmetic.
    with pytest.raises(DecodeError, match="4294967296 segments"):
        frame_size(table(0xFFFF_FFFF, 1))


def test_frame_byte_limit_is_exact_and_configurable() -> None:
    limits = ReadLimits(max_frame_bytes=64)
    at_limit = encode_frame([bytes(56)])
    assert len(at_limit) == 64
    assert [bytes(v) for v in decode_frame(at_limit, limits)] == [bytes(56)]
    with pytest.raises(DecodeError, match=r"frame is 72 bytes, above max_frame_bytes=64"):
        decode_frame(encode_frame([bytes(64)]), limits)
    with pytest.raises(DecodeError, match=r"72 bytes, above max_frame_bytes=64"):
        decode_frame(encode_frame([bytes(8), bytes(48)]), limits)


@pytest.mark.parametrize(
    ("limits", "words", "error"),
    [
        (ReadLimits(max_frame_bytes=64), 7, "frame is 72 bytes, above max_frame_bytes=64"),
        (ReadLimits(traversal_limit_words=7), 7, "8 words of segments, above the traversal"),
        (ReadLimits(max_segments=2), 7, None),
        (ReadLimits(max_segments=1), 0, "frame has 1 segments; at most 0 are accepted"),
    ],
)
def test_one_segment_frames_in_one_feed_meet_every_limit(
    limits: ReadLimits, words: int, error: str | None
) -> None:
    # One-segment frames back to back are taken without _probe; each limit still holds exactly.
    decoder = FrameDecoder(limits)
    at_limit = [bytes(8 * words), bytes(8)]
    data = b"".join(encode_frame([s]) for s in at_limit)
    if error is None:
        assert [[bytes(v) for v in m] for m in decoder.feed(data)] == [[s] for s in at_limit]
        return
    if words:
        assert len(decoder.feed(data)) == 2
    with pytest.raises(DecodeError, match=error):
        decoder.feed(encode_frame([bytes(8)]) + encode_frame([bytes(8 * words + 8)]))


def test_frame_byte_limit_counts_the_table() -> None:
    limits = ReadLimits(max_frame_bytes=32)
    # Five segments (a 24-byte table) and one word fill 32 bytes; a sixth segment grows the
    # table to 32 bytes on its own.
    assert len(decode_frame(frame_with_segments(5), limits)) == 5
    with pytest.raises(DecodeError, match="frame is 40 bytes, above max_frame_bytes=32"):
        decode_frame(frame_with_segments(6), limits)


def test_traversal_limit_bounds_total_words() -> None:
    limits = ReadLimits(traversal_limit_words=10)
    assert len(decode_frame(encode_frame([bytes(40), bytes(40)]), limits)) == 2
    with pytest.raises(
        DecodeError, match=r"11 words of segments, above the traversal limit of 10 words"
    ):
        decode_frame(encode_frame([bytes(40), bytes(48)]), limits)


def test_oversized_frame_is_refused_from_the_header_alone() -> None:
    limits = ReadLimits(max_frame_bytes=1 << 20)
    decoder = FrameDecoder(limits)
    header = table(0, (1 << 20) // 8)  # 1 MiB body + 8-byte table
    with pytest.raises(DecodeError, match=f"{(1 << 20) + 8} bytes, above max_frame_bytes"):
        decoder.feed(header)
    assert decoder.buffered == 0


def test_oversized_segment_is_refused_before_the_rest_of_the_table() -> None:
    # Three segments (16-byte table); the first size alone is over the limit after 8 bytes.
    decoder = FrameDecoder(ReadLimits(max_frame_bytes=1024))
    assert decoder.feed(table(2)) == []
    with pytest.raises(DecodeError, match="at least 8208 bytes"):
        decoder.feed(table(1024))


def test_default_traversal_limit_refuses_huge_claims_quickly() -> None:
    with pytest.raises(DecodeError, match="traversal limit of 8388608 words"):
        frame_size(table(0, 8 * 1024 * 1024 + 1))
    roomy = ReadLimits(max_frame_bytes=1 << 30)
    assert frame_size(table(0, 8 * 1024 * 1024), roomy) == 8 + 64 * 1024 * 1024


# -- FrameDecoder --------------------------------------------------------------------------


def feed_all(decoder: FrameDecoder, chunks: list[bytes]) -> list[list[bytes]]:
    messages: list[list[bytes]] = []
    for chunk in chunks:
        messages.extend([bytes(v) for v in segments] for segments in decoder.feed(chunk))
    return messages


def expected_messages(frames: list[bytes]) -> list[list[bytes]]:
    return [[bytes(v) for v in decode_frame(frame)] for frame in frames]


def test_whole_frame_per_feed_is_zero_copy() -> None:
    frame = multi_segment_frames()[0]
    decoder = FrameDecoder()
    [segments] = decoder.feed(frame)
    assert all(view.obj is frame and view.readonly for view in segments)
    assert decoder.buffered == 0


def test_several_frames_in_one_feed() -> None:
    frames = [frame for frame, _, _ in sample_messages()]
    decoder = FrameDecoder()
    assert feed_all(decoder, [b"".join(frames)]) == expected_messages(frames)
    assert decoder.buffered == 0
    decoder.close()


@pytest.mark.parametrize("index", range(len(multi_segment_frames())))
def test_every_two_chunk_split_of_a_multi_segment_frame(index: int) -> None:
    frame = multi_segment_frames()[index]
    expected = expected_messages([frame])
    for cut in range(len(frame) + 1):
        decoder = FrameDecoder()
        first = decoder.feed(frame[:cut])
        if cut < len(frame):
            assert first == []
            assert decoder.buffered == cut
        rest = decoder.feed(frame[cut:])
        got = [[bytes(v) for v in segments] for segments in first + rest]
        assert got == expected, cut
        assert decoder.buffered == 0
        decoder.close()


def test_every_two_chunk_split_of_back_to_back_frames() -> None:
    frames = [*multi_segment_frames()[:3], encode_frame([bytes(8)]), encode_frame([b"", b""])]
    stream = b"".join(frames)
    expected = expected_messages(frames)
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder()
        assert feed_all(decoder, [stream[:cut], stream[cut:]]) == expected, cut
        decoder.close()


def test_byte_by_byte() -> None:
    frames = multi_segment_frames()[:4] + [frame for frame, _, _ in sample_messages()[:2]]
    stream = b"".join(frames)
    decoder = FrameDecoder()
    messages: list[list[bytes]] = []
    boundaries = set()
    total = 0
    for frame in frames:
        total += len(frame)
        boundaries.add(total)
    for offset in range(len(stream)):
        completed = decoder.feed(stream[offset : offset + 1])
        # A frame completes exactly when its last byte arrives, and never earlier.
        assert bool(completed) == (offset + 1 in boundaries)
        messages.extend([bytes(v) for v in segments] for segments in completed)
    assert messages == expected_messages(frames)
    decoder.close()


def test_buffered_counts_a_partial_frame() -> None:
    frame = encode_frame([bytes(16), bytes(8)])  # 16-byte table + 24 bytes
    decoder = FrameDecoder()
    assert decoder.feed(frame + frame[:5]) != []
    assert decoder.buffered == 5
    assert decoder.feed(frame[5:20]) == []
    assert decoder.buffered == 20
    assert len(decoder.feed(frame[20:])) == 1
    assert decoder.buffered == 0


def test_messages_survive_later_feeds_and_reused_buffers() -> None:
    frame = encode_frame([b"A" * 8, b"B" * 16])
    buffer = bytearray(frame)
    decoder = FrameDecoder()
    [first] = decoder.feed(buffer)
    buffer[:] = bytes(len(buffer))  # a driver reusing its receive buffer
    buffer[:8] = frame[:8]
    decoder.feed(memoryview(buffer)[:8])
    partial = bytearray(frame[8:])
    [second] = decoder.feed(partial)
    partial[:] = b"\xee" * len(partial)
    for segments in (first, second):
        assert [bytes(v) for v in segments] == [b"A" * 8, b"B" * 16]


def test_empty_feed_is_a_no_op() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    decoder.feed(b"\x00\x00")
    assert decoder.feed(b"") == []
    assert decoder.buffered == 2


def test_close_inside_a_frame_is_an_error() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame([bytes(8)])[:12])
    with pytest.raises(DecodeError, match="stream ended inside a frame: 12 bytes buffered"):
        decoder.close()


def test_feed_after_close_is_a_usage_error() -> None:
    decoder = FrameDecoder()
    decoder.close()
    with pytest.raises(LocalUsageError):
        decoder.feed(b"")


def test_decoder_stays_failed_after_a_decode_error() -> None:
    decoder = FrameDecoder(ReadLimits(max_segments=2))
    with pytest.raises(DecodeError):
        decoder.feed(table(5, 1))
    with pytest.raises(DecodeError, match="already failed"):
        decoder.feed(encode_frame([bytes(8)]))


@pytest.mark.timeout(20)
def test_many_small_chunks_are_linear() -> None:
    # 4 MiB in 64-byte chunks: re-joining the growing buffer per feed would copy ~130 GB.
    body = bytes(range(256)) * (4 * 1024 * 4)
    frame = encode_frame([body[: 1 << 20], body[1 << 20 :]])
    decoder = FrameDecoder()
    messages = []
    for offset in range(0, len(frame), 64):
        messages.extend(decoder.feed(frame[offset : offset + 64]))
    assert len(messages) == 1
    assert b"".join(messages[0]) == body


@st.composite
def chunked(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), picks=st.lists(st.integers(0, 27), min_size=1, max_size=5))
def test_random_chunkings(data: st.DataObject, picks: list[int]) -> None:
    frames = [sample_messages()[i][0] for i in picks]
    stream = b"".join(frames)
    chunks = data.draw(chunked(stream))
    decoder = FrameDecoder()
    assert feed_all(decoder, chunks) == expected_messages(frames)
    assert decoder.buffered == 0
    decoder.close()


@settings(max_examples=100, deadline=None)
@given(
    segments=st.lists(
        st.binary(max_size=48).map(lambda b: b[: len(b) // 8 * 8]), min_size=1, max_size=9
    )
)
def test_round_trip_random_segments(segments: list[bytes]) -> None:
    frame = encode_frame(segments)
    assert frame_size(frame) == len(frame)
    assert [bytes(v) for v in decode_frame(frame)] == segments


@settings(max_examples=50, deadline=None)
@given(data=st.data(), picks=st.lists(st.integers(0, 27), min_size=1, max_size=5))
def test_decoded_segments_are_what_a_reader_takes_unchecked(
    data: st.DataObject, picks: list[int]
) -> None:
    # Connection hands the decoder's segments to MessageReader._from_decoder, which skips the
    # constructor's checks: every segment must be a one-dimensional byte view of whole words.
    stream = b"".join(sample_messages()[i][0] for i in picks)
    decoder = FrameDecoder()
    for chunk in data.draw(chunked(stream)):
        for segments in decoder.feed(chunk):
            assert type(segments) is list
            for segment in segments:
                assert isinstance(segment, memoryview)
                assert (segment.format, segment.ndim, segment.itemsize) == ("B", 1, 1)
                assert len(segment) % 8 == 0
            checked = MessageReader(segments)
            assert MessageReader._from_decoder(segments, DEFAULT_LIMITS).segments == (
                checked.segments
            )
