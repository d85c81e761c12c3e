"""Packed encoding: hand-made vectors, every run edge, and agreement with pycapnp's packer."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.packing import pack, unpack
from tests.wire.test_framing import alltypes, build_message, sample_messages

FF_WORD = b"\xff" * 8


def cpp_pack(frame: bytes) -> bytes:
    """What the C++ packer writes for a frame: the table and each segment are packed apart."""
    segments = decode_frame(frame)
    table_size = len(frame) - sum(len(segment) for segment in segments)
    return pack(frame[:table_size]) + b"".join(pack(segment) for segment in segments)


# -- hand-made vectors ---------------------------------------------------------------------


def test_spec_example() -> None:
    unpacked = bytes.fromhex("0800000003000200 19000000aa010000")
    packed = bytes.fromhex("51080302 3119aa01")
    assert pack(unpacked) == packed
    assert unpack(packed) == unpacked


@pytest.mark.parametrize(
    ("unpacked", "packed"),
    [
        (b"", b""),
        (bytes(8), b"\x00\x00"),
        (bytes(16), b"\x00\x01"),
        (b"\x01" + bytes(7), b"\x01\x01"),
        (bytes(7) + b"\x80", b"\x80\x80"),
        (b"\x00\x02\x00\x04\x00\x06\x00\x08", b"\xaa\x02\x04\x06\x08"),
        (FF_WORD, b"\xff" + FF_WORD + b"\x00"),
        (FF_WORD * 2, b"\xff" + FF_WORD + b"\x01" + FF_WORD),
        # One zero byte keeps a word in the verbatim run; two zero bytes end the run.
        (FF_WORD + b"\x00" + b"\x07" * 7, b"\xff" + FF_WORD + b"\x01\x00" + b"\x07" * 7),
        (FF_WORD + b"\x00\x00" + b"\x07" * 6, b"\xff" + FF_WORD + b"\x00\xfc" + b"\x07" * 6),
        (FF_WORD + bytes(8), b"\xff" + FF_WORD + b"\x00\x00\x00"),
        (bytes(8) + FF_WORD, b"\x00\x00\xff" + FF_WORD + b"\x00"),
    ],
)
def test_vectors(unpacked: bytes, packed: bytes) -> None:
    assert pack(unpacked) == packed
    assert unpack(packed) == unpacked


@pytest.mark.parametrize(
    ("words", "packed"),
    [
        (256, b"\x00\xff"),
        (257, b"\x00\xff\x00\x00"),
        (511, b"\x00\xff\x00\xfe"),
        (512, b"\x00\xff\x00\xff"),
        (513, b"\x00\xff\x00\xff\x00\x00"),
    ],
)
def test_zero_runs_longer_than_255_words(words: int, packed: bytes) -> None:
    assert pack(bytes(8 * words)) == packed
    assert unpack(packed) == bytes(8 * words)


@pytest.mark.parametrize("words", [255, 256, 257, 600])
def test_ff_runs_longer_than_255_words(words: int) -> None:
    data = b"".join(struct.pack("<Q", 0xFFFF_FFFF_FFFF_FF00 | (i % 255 + 1)) for i in range(words))
    packed = pack(data)
    expected = bytearray()
    remaining = data
    while remaining:
        run = min(len(remaining) // 8 - 1, 255)
        expected += b"\xff" + remaining[:8] + bytes((run,)) + remaining[8 : 8 + 8 * run]
        remaining = remaining[8 + 8 * run :]
    assert packed == bytes(expected)
    assert unpack(packed) == data


def test_run_byte_of_ff_word_counts_following_words_only() -> None:
    # 0xff, then a word with one zero (stays verbatim), then zeros (a new zero-run tag).
    data = FF_WORD + b"\x01\x00\x01\x01\x01\x01\x01\x01" + bytes(24)
    assert pack(data) == (b"\xff" + FF_WORD + b"\x01" + data[8:16] + b"\x00\x02")


@pytest.mark.parametrize("length", [1, 7, 9, 12, 15])
def test_pack_rejects_partial_words(length: int) -> None:
    with pytest.raises(LocalUsageError, match=f"cannot pack {length} bytes"):
        pack(bytes(length))


def test_accepts_bytearray_and_memoryview() -> None:
    data = bytes.fromhex("0800000003000200") + FF_WORD + bytes(16)
    packed = pack(data)
    assert pack(bytearray(data)) == packed
    assert pack(memoryview(data)) == packed
    assert pack(memoryview(bytearray(data)).cast("Q")) == packed
    assert unpack(bytearray(packed)) == data
    assert unpack(memoryview(b"junk" + packed)[4:]) == data


def test_non_canonical_input_is_accepted() -> None:
    # Other writers may split runs differently; readers must accept any well-formed encoding.
    assert unpack(b"\x00\x00\x00\x00") == bytes(16)
    assert unpack(b"\xff" + bytes(8) + b"\x01" + bytes(8)) == bytes(16)
    assert unpack(b"\x01\x00") == bytes(8)  # a "non-zero" byte that is zero


# -- malformed input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packed", "message"),
    [
        (b"\x00", "zero tag at offset 0 has no run count byte"),
        (b"\x00\x03\x00", "zero tag at offset 2 has no run count byte"),
        (b"\x03\x01", r"tag 0x03 at offset 0 needs 2 bytes, 1 remain"),
        (b"\xfe\x01\x02", r"tag 0xfe at offset 0 needs 7 bytes, 2 remain"),
        (b"\xff", r"0xff tag at offset 0 needs 9 bytes, 0 remain"),
        (b"\xff" + FF_WORD, r"0xff tag at offset 0 needs 9 bytes, 8 remain"),
        (
            b"\xff" + FF_WORD + b"\x02" + FF_WORD,
            r"announces 2 verbatim words \(16 bytes\), 8 remain",
        ),
    ],
)
def test_malformed_input(packed: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        unpack(packed)


@pytest.mark.parametrize("index", [3, 13, 27])
def test_every_truncation_fails_or_gives_a_prefix(index: int) -> None:
    frame, _, packed = sample_messages()[index]
    failures = 0
    for cut in range(len(packed)):
        try:
            result = unpack(packed[:cut])
        except DecodeError:
            failures += 1
        else:
            assert len(result) < len(frame)
            assert frame.startswith(result)
    assert failures > 0


def test_max_bytes_bounds_expansion() -> None:
    assert unpack(b"\x00\xff", max_bytes=2048) == bytes(2048)
    with pytest.raises(DecodeError, match="expands beyond 2047 bytes"):
        unpack(b"\x00\xff", max_bytes=2047)
    with pytest.raises(DecodeError, match="max_bytes"):
        unpack(b"\x00\xff" * 1000, max_bytes=1 << 16)


# -- pycapnp as the oracle -----------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(sample_messages())))
def test_matches_pycapnp_packed(index: int) -> None:
    frame, segments, packed = sample_messages()[index]
    assert unpack(packed) == frame
    assert cpp_pack(frame) == packed
    if len(segments) == 1:
        # One segment: no run can span the table/segment boundary, so packing whole agrees.
        assert pack(frame) == packed
    assert unpack(pack(frame)) == frame


def test_dense_and_sparse_message_against_pycapnp() -> None:
    message = build_message(100_000, 3)  # a first segment big enough for everything
    message.uint64List = [2**64 - 1] * 700 + [0] * 600 + [2**63 + 1] * 300
    message.dataField = bytes(3000) + b"\xff" * 3000 + bytes(range(256)) * 4
    frame = message.to_bytes()
    message.clear_write_flag()
    packed = message.to_bytes_packed()
    assert len(decode_frame(frame)) == 1
    assert pack(frame) == packed
    assert unpack(packed) == frame


def test_pycapnp_reads_our_packing() -> None:
    message = build_message(1, 6)
    frame = message.to_bytes()
    assert len(decode_frame(frame)) > 1
    reader = alltypes().AllTypes.from_bytes_packed(pack(frame))
    assert reader.textField == "x" * 6
    assert list(reader.uint64List) == [2**64 - 1 - i for i in range(18)]


# -- properties ----------------------------------------------------------------------------

_BYTE = st.sampled_from([0, 0, 0, 0xFF, 0xFF, 1, 0x80]) | st.integers(0, 255)
_WORD = (
    st.just(bytes(8))
    | st.just(FF_WORD)
    | st.lists(_BYTE, min_size=8, max_size=8).map(bytes)
    | st.integers(0, 7).map(lambda i: FF_WORD[: 7 - i] + b"\x00" + FF_WORD[:i])
)


@st.composite
def word_data(draw: st.DrawFn) -> bytes:
    """Words in runs, some long, with many zero and 0xff bytes."""
    runs = draw(st.lists(st.tuples(_WORD, st.integers(1, 300)), max_size=6))
    singles = draw(st.lists(_WORD, max_size=24))
    pieces = [word * count for word, count in runs] + singles
    order = draw(st.permutations(range(len(pieces))))
    return b"".join(pieces[i] for i in order)


@settings(max_examples=250, deadline=None)
@given(data=word_data())
def test_round_trip(data: bytes) -> None:
    packed = pack(data)
    assert unpack(packed) == data
    assert pack(unpack(packed)) == packed
    assert unpack(packed, max_bytes=len(data)) == data


@settings(max_examples=60, deadline=None)
@given(data=word_data())
def test_same_bytes_as_pycapnp_for_random_data(data: bytes) -> None:
    message = alltypes().AllTypes.new_message()
    message.dataField = data
    frame = message.to_bytes()
    message.clear_write_flag()
    assert cpp_pack(frame) == message.to_bytes_packed()
