"""Unit tests for the untyped message reader, over hand-assembled words."""

from __future__ import annotations

import math
import struct

import pytest

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.framing import decode_frame, encode_frame
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import (
    ElementSize,
    capability_pointer,
    decode_pointer,
    far_pointer,
    list_pointer,
    struct_pointer,
)
from capnrpc_core.wire.reader import MessageReader

U8 = struct.Struct("<B")
I8 = struct.Struct("<b")
U16 = struct.Struct("<H")
I16 = struct.Struct("<h")
U32 = struct.Struct("<I")
I32 = struct.Struct("<i")
U64 = struct.Struct("<Q")
I64 = struct.Struct("<q")
F32 = struct.Struct("<f")
F64 = struct.Struct("<d")

E = ElementSize


def seg(*words: int | bytes) -> bytes:
    """Assemble a segment from pointer/data words (ints) and raw byte strings (padded)."""
    out = bytearray()
    for w in words:
        if isinstance(w, bytes):
            out += w + bytes(-len(w) % 8)
        else:
            out += U64.pack(w & 0xFFFFFFFFFFFFFFFF)
    return bytes(out)


def text_words(s: str) -> bytes:
    return s.encode() + b"\0"


def reader(*segments: bytes, caps: tuple[object, ...] = (), **limits: int) -> MessageReader:
    return MessageReader(list(segments), caps, ReadLimits(**limits))


# -- structs and data sections ------------------------------------------------------------------


def test_struct_data_fields_and_defaults() -> None:
    body = bytearray(40)
    for fmt, off, value in [
        (I8, 0, -5),
        (U8, 1, 200),
        (I16, 2, -300),
        (U16, 4, 60000),
        (I32, 8, -70000),
        (U32, 12, 4000000000),
        (I64, 16, -(2**40)),
        (U64, 24, 2**63 + 5),
        (F32, 32, 1.5),
    ]:
        fmt.pack_into(body, off, value)
    msg = reader(seg(struct_pointer(0, 5, 0), bytes(body)))
    root = msg.get_root_struct()
    assert (root.data_size_bytes, root.pointer_count) == (40, 0)
    assert root.get_int(I8, 0) == -5
    assert root.get_int(U8, 1) == 200
    assert root.get_int(I16, 2) == -300
    assert root.get_int(U16, 4) == 60000
    assert root.get_int(I32, 8) == -70000
    assert root.get_int(U32, 12) == 4000000000
    assert root.get_int(I64, 16) == -(2**40)
    assert root.get_int(U64, 24) == 2**63 + 5
    assert root.get_float(U32, F32, 32) == 1.5
    # Defaults are XORed into the stored value.
    assert root.get_int(U8, 1, default=0xFF) == 200 ^ 0xFF
    assert root.get_int(I8, 0, default=-1) == -5 ^ -1
    # Past the data section: the default (schema evolution).
    assert root.get_int(I32, 40) == 0
    assert root.get_int(I32, 40, default=-7) == -7
    assert root.get_int(U64, 36, default=9) == 9  # straddles the end: not in this version
    assert root.get_bool(40 * 8) is False
    assert root.get_bool(40 * 8, default=True) is True
    assert root.get_float(U32, F32, 100) == 0.0
    default_bits = U32.unpack(F32.pack(-3.5))[0]
    assert root.get_float(U32, F32, 100, default_bits) == -3.5


def test_float_default_xor_and_nan() -> None:
    one_bits = U64.unpack(F64.pack(1.0))[0]
    nan_bits = 0x7FF8000000000000
    msg = reader(seg(struct_pointer(0, 2, 0), 0, one_bits ^ U64.unpack(F64.pack(4.0))[0]))
    root = msg.get_root_struct()
    assert root.get_float(U64, F64, 0, one_bits) == 1.0  # stored zero -> the default
    assert math.isnan(root.get_float(U64, F64, 0, nan_bits))
    assert root.get_float(U64, F64, 8, one_bits) == 4.0


def test_bools() -> None:
    msg = reader(seg(struct_pointer(0, 1, 0), 0b1000_0101 | (1 << 63)))
    root = msg.get_root_struct()
    assert [root.get_bool(i) for i in range(8)] == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
        True,
    ]
    assert root.get_bool(63) is True
    assert root.get_bool(1, default=True) is True  # stored 0 XOR default True
    assert root.get_bool(0, default=True) is False


def test_null_root_is_empty_struct() -> None:
    root = reader(seg(0)).get_root_struct()
    assert (root.data_size_bytes, root.pointer_count) == (0, 0)
    assert root.get_int(I64, 0, 42) == 42
    assert root.get_text(3, "x") == "x"
    assert reader(seg(0)).root().kind() == "null"


def test_empty_struct_pointer_encoding() -> None:
    # C++ encodes a zero-sized struct with offset -1 so that it is not the null word.
    msg = reader(seg(struct_pointer(-1, 0, 0)))
    assert msg.root().kind() == "struct"
    assert msg.root().is_null() is False
    root = msg.get_root_struct()
    assert (root.data_size_bytes, root.pointer_count) == (0, 0)


def test_no_root_pointer() -> None:
    with pytest.raises(DecodeError, match="no root pointer"):
        MessageReader([]).root()
    with pytest.raises(DecodeError, match="no root pointer"):
        MessageReader([b""]).get_root_struct()
    with pytest.raises(DecodeError, match="whole number of words"):
        MessageReader([b"\0" * 9])


def test_memoryview_segments_are_accepted() -> None:
    raw = seg(struct_pointer(0, 1, 0), 1234)
    view = memoryview(bytearray(raw)).cast("Q")
    assert MessageReader([view]).get_root_struct().get_int(U64, 0) == 1234
    assert MessageReader([bytearray(raw)]).get_root_struct().get_int(U64, 0) == 1234


def test_reads_the_memoryviews_that_framing_returns() -> None:
    seg0 = seg(far_pointer(1, 0))  # the root lives in segment 1, behind a landing pad
    seg1 = seg(
        struct_pointer(0, 0, 2),
        list_pointer(1, E.BYTE, 7),
        list_pointer(1, E.BYTE, 2),
        text_words("héllo"),
        b"ab",
    )
    segments = decode_frame(encode_frame([seg0, seg1]), ReadLimits())
    assert all(isinstance(s, memoryview) for s in segments)
    root = MessageReader(segments).get_root_struct()
    assert (root.get_text(0), root.get_data(1)) == ("héllo", b"ab")


def test_pointers_past_the_section_read_as_null() -> None:
    msg = reader(seg(struct_pointer(0, 0, 1), 0))
    root = msg.get_root_struct()
    assert root.is_null(0) and root.is_null(5)
    assert root.get_text(5) == ""
    assert root.get_data(5, b"d") == b"d"
    assert root.get_capability(5) is None
    assert root.get_pointer(5).kind() == "null"
    assert len(root.get_list(5, E.FOUR_BYTES)) == 0
    assert root.get_struct(5).pointer_count == 0
    default = root.get_struct(0)
    assert root.get_struct(5, default) is default


def test_nested_struct() -> None:
    # root: 0 data, 2 pointers -> child struct (1 data word, 0 ptrs) at word 3.
    msg = reader(seg(struct_pointer(0, 0, 2), struct_pointer(1, 1, 0), 0, 0xDEADBEEF))
    root = msg.get_root_struct()
    child = root.get_struct(0)
    assert child.get_int(U32, 0) == 0xDEADBEEF
    assert root.get_pointer(0).kind() == "struct"
    assert root.get_pointer(0).as_struct().get_int(U32, 0) == 0xDEADBEEF


def test_struct_pointer_out_of_bounds() -> None:
    with pytest.raises(DecodeError, match="struct pointer out of bounds"):
        reader(seg(struct_pointer(0, 2, 0), 0)).get_root_struct()
    with pytest.raises(DecodeError, match="struct pointer out of bounds"):
        reader(seg(struct_pointer(-5, 1, 0), 0)).get_root_struct()


def test_wrong_pointer_kinds() -> None:
    msg = reader(seg(struct_pointer(0, 0, 2), list_pointer(1, E.BYTE, 3), struct_pointer(-1, 0, 0)))
    root = msg.get_root_struct()
    with pytest.raises(DecodeError, match="expected a struct pointer, found a list pointer"):
        root.get_struct(0)
    with pytest.raises(DecodeError, match="expected a list pointer, found a struct pointer"):
        root.get_list(1, E.BYTE)
    with pytest.raises(DecodeError, match="expected text, found a struct pointer"):
        root.get_text(1)
    with pytest.raises(DecodeError, match="expected a capability pointer"):
        root.get_capability(0)


# -- lists -------------------------------------------------------------------------------------


def test_every_element_size() -> None:
    words: list[int | bytes] = [
        struct_pointer(0, 0, 8),
        list_pointer(7, E.VOID, 5),
        list_pointer(6, E.BIT, 10),
        list_pointer(6, E.BYTE, 3),
        list_pointer(6, E.TWO_BYTES, 3),
        list_pointer(6, E.FOUR_BYTES, 3),
        list_pointer(7, E.EIGHT_BYTES, 2),
        list_pointer(8, E.POINTER, 2),
        list_pointer(10, E.INLINE_COMPOSITE, 4),
        0b10_0000_0101,  # the bits
        struct.pack("<bbb", 1, -2, 3),
        struct.pack("<hhh", 1000, -2000, 3000),
        struct.pack("<iii", 10**6, -(10**6), 7),
        struct.pack("<qd", -(10**15), 2.5),
        list_pointer(1, E.BYTE, 3),  # pointer list element 0: text "ab"
        0,  # element 1: null
        text_words("ab"),
        (2 << 2) | (1 << 32) | (1 << 48),  # tag: 2 elements of (1 data word, 1 pointer)
        11,
        0,
        22,
        list_pointer(0, E.BYTE, 3),
        text_words("cd"),
    ]
    msg = reader(seg(*words))
    root = msg.get_root_struct()

    voids = root.get_list(0, E.VOID)
    assert len(voids) == 5 and voids.element_size == E.VOID

    bits = root.get_list(1, E.BIT)
    assert [bits.get_bool(i) for i in range(10)] == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]

    assert [root.get_list(2, E.BYTE).get_int(I8, i) for i in range(3)] == [1, -2, 3]
    assert [root.get_list(3, E.TWO_BYTES).get_int(I16, i) for i in range(3)] == [
        1000,
        -2000,
        3000,
    ]
    assert [root.get_list(4, E.FOUR_BYTES).get_int(I32, i) for i in range(3)] == [
        10**6,
        -(10**6),
        7,
    ]
    eights = root.get_list(5, E.EIGHT_BYTES)
    assert eights.get_int(I64, 0) == -(10**15)
    assert eights.get_float(U64, F64, 1) == 2.5

    ptrs = root.get_list(6, E.POINTER)
    assert len(ptrs) == 2
    assert ptrs.get_text(0) == "ab"
    assert ptrs.get_text(1) == ""
    assert ptrs.get_pointer(1).is_null()

    structs = root.get_list(7, E.INLINE_COMPOSITE)
    assert len(structs) == 2 and structs.element_size == E.INLINE_COMPOSITE
    assert structs.get_struct(0).get_int(U64, 0) == 11
    assert structs.get_struct(0).get_text(0) == ""
    assert structs.get_struct(1).get_int(U64, 0) == 22
    assert structs.get_struct(1).get_text(0) == "cd"


def test_list_index_errors_are_index_errors() -> None:
    msg = reader(seg(list_pointer(0, E.FOUR_BYTES, 2), struct.pack("<ii", 5, 6)))
    lst = msg.root().as_list(E.FOUR_BYTES)
    assert lst.get_int(I32, -1) == 6
    with pytest.raises(IndexError):
        lst.get_int(I32, 2)
    with pytest.raises(IndexError):
        lst.get_int(I32, -3)
    with pytest.raises(IndexError):
        lst.get_struct(2)


def test_struct_list_read_from_primitive_and_pointer_lists() -> None:
    # Schema evolution: List(UInt32) upgraded to List(struct { first @0 :UInt32; ... }).
    msg = reader(
        seg(
            struct_pointer(0, 0, 2),
            list_pointer(1, E.FOUR_BYTES, 3),
            list_pointer(2, E.POINTER, 1),
            struct.pack("<iii", 7, 8, 9),
            list_pointer(0, E.BYTE, 2),
            text_words("x"),
        )
    )
    root = msg.get_root_struct()
    as_structs = root.get_list(0, E.INLINE_COMPOSITE)
    assert [as_structs.get_struct(i).get_int(I32, 0) for i in range(3)] == [7, 8, 9]
    assert as_structs.get_struct(0).get_int(I32, 4, default=-1) == -1  # beyond the element
    assert as_structs.get_struct(0).data_size_bytes == 4
    ptr_structs = root.get_list(1, E.INLINE_COMPOSITE)
    assert ptr_structs.get_struct(0).get_text(0) == "x"
    assert ptr_structs.get_struct(0).data_size_bytes == 0


def test_primitive_and_pointer_lists_read_from_a_struct_list() -> None:
    # List(struct {a @0 :Int32; t @1 :Text}) read as List(Int32) and as List(Text).
    tag = (2 << 2) | (1 << 32) | (1 << 48)
    msg = reader(
        seg(
            struct_pointer(0, 0, 1),
            list_pointer(0, E.INLINE_COMPOSITE, 4),
            tag,
            struct.pack("<ii", -1, 99),
            list_pointer(2, E.BYTE, 4),
            struct.pack("<ii", 42, 0),
            list_pointer(1, E.BYTE, 4),
            text_words("abc"),
            text_words("def"),
        )
    )
    root = msg.get_root_struct()
    ints = root.get_list(0, E.FOUR_BYTES)
    assert [ints.get_int(I32, i) for i in range(2)] == [-1, 42]
    texts = root.get_list(0, E.POINTER)
    assert [texts.get_text(i) for i in range(2)] == ["abc", "def"]
    assert len(root.get_list(0, E.VOID)) == 2
    with pytest.raises(DecodeError, match="struct list where a bit list"):
        root.get_list(0, E.BIT)


def test_incompatible_list_upgrades_are_rejected() -> None:
    data_only = (1 << 2) | (1 << 32)  # tag: 1 element, 1 data word, no pointers
    ptr_only = (1 << 2) | (1 << 48)
    msg = reader(
        seg(
            struct_pointer(0, 0, 5),
            list_pointer(4, E.BIT, 3),
            list_pointer(4, E.BYTE, 3),
            list_pointer(4, E.INLINE_COMPOSITE, 1),
            list_pointer(5, E.INLINE_COMPOSITE, 1),
            list_pointer(6, E.FOUR_BYTES, 1),
            0,
            0,
            data_only,
            0,
            ptr_only,
            0,
            0,
        )
    )
    root = msg.get_root_struct()
    with pytest.raises(DecodeError, match="bit list where a struct list"):
        root.get_list(0, E.INLINE_COMPOSITE)
    with pytest.raises(DecodeError, match="bit list where a byte list"):
        root.get_list(0, E.BYTE)
    with pytest.raises(DecodeError, match="found a byte list where a pointer list"):
        root.get_list(1, E.POINTER)
    with pytest.raises(DecodeError, match="found a byte list where a 4-byte list"):
        root.get_list(1, E.FOUR_BYTES)
    with pytest.raises(DecodeError, match="without pointers"):
        root.get_list(2, E.POINTER)
    with pytest.raises(DecodeError, match="without data"):
        root.get_list(3, E.EIGHT_BYTES)
    with pytest.raises(DecodeError, match="found a 4-byte list where a 8-byte list"):
        root.get_list(4, E.EIGHT_BYTES)
    # A bigger element read as a smaller one is fine (bit 0 of each byte for bools).
    assert root.get_list(1, E.BIT).get_bool(0) is False
    assert len(root.get_list(2, E.BYTE)) == 1


def test_struct_list_tag_checks() -> None:
    with pytest.raises(DecodeError, match="tag is a list pointer"):
        bad_tag = seg(list_pointer(0, E.INLINE_COMPOSITE, 1), list_pointer(0, E.BYTE, 1), 0)
        reader(bad_tag).root().as_list(E.INLINE_COMPOSITE)
    overrun = (3 << 2) | (1 << 32)  # 3 one-word elements in a 2-word list
    with pytest.raises(DecodeError, match="overrun"):
        reader(seg(list_pointer(0, E.INLINE_COMPOSITE, 2), overrun, 0, 0)).root().as_list()
    with pytest.raises(DecodeError, match="out of bounds"):
        reader(seg(list_pointer(0, E.INLINE_COMPOSITE, 5), overrun, 0, 0)).root().as_list()


def test_list_out_of_bounds() -> None:
    with pytest.raises(DecodeError, match="list pointer out of bounds"):
        reader(seg(list_pointer(0, E.EIGHT_BYTES, 2), 0)).root().as_list(E.EIGHT_BYTES)
    with pytest.raises(DecodeError, match="list pointer out of bounds"):
        reader(seg(list_pointer(-2, E.BYTE, 1), 0)).root().as_list(E.BYTE)
    # 65 bits need two words.
    with pytest.raises(DecodeError, match="list pointer out of bounds"):
        reader(seg(list_pointer(0, E.BIT, 65), 0)).root().as_list(E.BIT)
    assert len(reader(seg(list_pointer(0, E.BIT, 64), 0)).root().as_list(E.BIT)) == 64


def test_list_defaults() -> None:
    root = reader(seg(struct_pointer(0, 0, 1), 0)).get_root_struct()
    empty = root.get_list(0, E.TWO_BYTES)
    assert len(empty) == 0 and empty.element_size == E.TWO_BYTES
    other = reader(seg(list_pointer(0, E.BYTE, 1), b"\x05")).root().as_list(E.BYTE)
    assert root.get_list(0, E.BYTE, other) is other


def test_nested_lists() -> None:
    msg = reader(
        seg(
            list_pointer(0, E.POINTER, 2),
            list_pointer(1, E.FOUR_BYTES, 2),
            0,
            struct.pack("<ii", 3, 4),
        )
    )
    outer = msg.root().as_list(E.POINTER)
    inner = outer.get_list(0, E.FOUR_BYTES)
    assert [inner.get_int(I32, i) for i in range(2)] == [3, 4]
    assert len(outer.get_list(1, E.FOUR_BYTES)) == 0


# -- text and data -----------------------------------------------------------------------------


def test_text_and_data() -> None:
    msg = reader(
        seg(
            struct_pointer(0, 0, 4),
            list_pointer(3, E.BYTE, 7),
            list_pointer(3, E.BYTE, 3),
            list_pointer(3, E.BYTE, 0),
            list_pointer(2, E.BYTE, 1),
            text_words("héllo"),
            b"\x00\xffz",
            b"\x00",
        )
    )
    root = msg.get_root_struct()
    assert root.get_text(0) == "héllo"
    assert root.get_data(1) == b"\x00\xffz"
    assert root.get_data(2) == b""
    assert root.get_text(3) == ""
    assert root.get_data(0) == "héllo".encode() + b"\0"
    with pytest.raises(DecodeError, match="not NUL-terminated"):
        root.get_text(2)  # zero bytes: no room for the NUL
    with pytest.raises(DecodeError, match="not NUL-terminated"):
        root.get_text(1)
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        MessageReader([seg(list_pointer(0, E.BYTE, 3), b"\xff\xfe\x00")]).root().as_text()


def test_text_requires_byte_list() -> None:
    msg = reader(seg(list_pointer(0, E.TWO_BYTES, 2), b"a\0\0\0"))
    with pytest.raises(DecodeError, match="expected text, found a 2-byte list"):
        msg.root().as_text()
    with pytest.raises(DecodeError, match="expected data, found a 2-byte list"):
        msg.root().as_data()


def test_text_out_of_bounds() -> None:
    with pytest.raises(DecodeError, match="text pointer out of bounds"):
        reader(seg(list_pointer(0, E.BYTE, 9), b"abcdefg")).root().as_text()


# -- far pointers ------------------------------------------------------------------------------


def test_single_far_pointer() -> None:
    seg0 = seg(far_pointer(1, 1))
    seg1 = seg(0, struct_pointer(0, 1, 1), 77, list_pointer(0, E.BYTE, 3), text_words("hi"))
    msg = reader(seg0, seg1)
    assert msg.root().kind() == "struct"
    root = msg.get_root_struct()
    assert root.get_int(U64, 0) == 77
    assert root.get_text(0) == "hi"
    assert msg.size_in_words() == 6


def test_far_pointer_from_inner_object_to_text_in_other_segment() -> None:
    seg0 = seg(struct_pointer(0, 0, 1), far_pointer(1, 0))
    seg1 = seg(list_pointer(0, E.BYTE, 4), text_words("far"))
    root = reader(seg0, seg1).get_root_struct()
    assert root.get_text(0) == "far"
    assert root.get_pointer(0).kind() == "list"


def test_double_far_pointer() -> None:
    # Root in segment 0 -> double-far -> pad (far + tag) in segment 1 -> struct in segment 2.
    seg0 = seg(far_pointer(1, 0, double_far=True))
    seg1 = seg(far_pointer(2, 1), struct_pointer(0, 1, 1))
    seg2 = seg(0, 1234, list_pointer(0, E.BYTE, 2), text_words("x"))
    msg = reader(seg0, seg1, seg2)
    assert msg.root().kind() == "struct"
    root = msg.get_root_struct()
    assert root.get_int(U64, 0) == 1234
    assert root.get_text(0) == "x"


def test_double_far_to_list_and_text() -> None:
    seg0 = seg(struct_pointer(0, 0, 2), far_pointer(1, 0, True), far_pointer(1, 2, True))
    seg1 = seg(
        far_pointer(2, 0),
        list_pointer(0, E.FOUR_BYTES, 2),
        far_pointer(2, 1),
        list_pointer(0, E.BYTE, 3),
    )
    seg2 = seg(struct.pack("<ii", 5, -6), text_words("ok"))
    root = reader(seg0, seg1, seg2).get_root_struct()
    lst = root.get_list(0, E.FOUR_BYTES)
    assert [lst.get_int(I32, i) for i in range(2)] == [5, -6]
    assert root.get_text(1) == "ok"


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ((seg(far_pointer(3, 0)),), "far pointer to unknown segment 3"),
        ((seg(far_pointer(1, 1)), seg(0)), "landing pad out of bounds"),
        ((seg(far_pointer(1, 0, True)), seg(far_pointer(0, 0))), "landing pad out of bounds"),
        ((seg(far_pointer(1, 0)), seg(far_pointer(0, 0))), "landing pad is itself a far"),
        (
            (seg(far_pointer(1, 0, True)), seg(struct_pointer(0, 0, 0), struct_pointer(0, 0, 0))),
            "does not start with a far pointer",
        ),
        (
            (seg(far_pointer(1, 0, True)), seg(far_pointer(9, 0), struct_pointer(0, 0, 0))),
            "unknown segment 9",
        ),
        (
            (seg(far_pointer(1, 0, True)), seg(far_pointer(0, 0), far_pointer(0, 0))),
            "tag is a far pointer",
        ),
        (
            (seg(far_pointer(1, 0, True)), seg(far_pointer(0, 5), struct_pointer(0, 1, 0))),
            "struct pointer out of bounds",
        ),
    ],
)
def test_bad_far_pointers(segments: tuple[bytes, ...], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        MessageReader(list(segments)).get_root_struct()


def test_far_pointer_to_capability_is_rejected() -> None:
    msg = MessageReader([seg(far_pointer(1, 0)), seg(capability_pointer(0))], caps=["c"])
    with pytest.raises(DecodeError, match="expected a capability pointer, found a far"):
        msg.root().as_capability()


# -- capabilities ------------------------------------------------------------------------------


def test_capabilities() -> None:
    caps = ("cap-a", "cap-b")
    msg = reader(
        seg(
            struct_pointer(0, 0, 4),
            capability_pointer(1),
            0,
            capability_pointer(7),
            list_pointer(0, E.POINTER, 2),
            capability_pointer(0),
            0,
        ),
        caps=caps,
    )
    root = msg.get_root_struct()
    assert root.get_capability(0) == "cap-b"
    assert root.get_capability(1) is None
    assert root.get_pointer(0).kind() == "capability"
    assert root.get_pointer(0).as_capability() == "cap-b"
    with pytest.raises(DecodeError, match="capability index 7 out of range"):
        root.get_capability(2)
    lst = root.get_list(3, E.POINTER)
    assert lst.get_capability(0) == "cap-a"
    assert lst.get_capability(1) is None
    with pytest.raises(DecodeError, match="expected a struct pointer, found a capability"):
        root.get_struct(0)


def test_unknown_other_pointer() -> None:
    msg = reader(seg(0b111 | (5 << 32)))
    assert msg.root().kind() == "other"
    with pytest.raises(DecodeError, match="unknown 'other' pointer"):
        msg.root().as_capability()
    with pytest.raises(DecodeError, match="unknown 'other' pointer"):
        msg.root().as_struct()


# -- size accounting ---------------------------------------------------------------------------


def test_total_size_words() -> None:
    msg = reader(
        seg(
            struct_pointer(0, 1, 2),
            7,
            list_pointer(1, E.POINTER, 1),
            struct_pointer(3, 0, 1),
            list_pointer(0, E.BYTE, 9),  # text "12345678" (2 words)
            b"12345678\0",
            capability_pointer(0),
        ),
        caps=("c",),
    )
    root = msg.get_root_struct()
    before = msg.traversal_words_left
    # root 3 + pointer list 1 + text 2 + inner struct 1 (its pointer is a capability)
    assert root.total_size_words() == 7
    assert msg.traversal_words_left == before  # the walk does not spend the budget
    assert root.get_list(0, E.POINTER).total_size_words() == 3
    assert msg.root().total_size_words() == 7


def test_decode_pointer_describes_words() -> None:
    assert decode_pointer(0) == ("null", {})
    assert decode_pointer(struct_pointer(-1, 2, 3)) == (
        "struct",
        {"offset": -1, "data_words": 2, "pointer_count": 3},
    )
    assert decode_pointer(list_pointer(5, E.BYTE, 9)) == (
        "list",
        {"offset": 5, "element_size": 2, "count": 9},
    )
    assert decode_pointer(far_pointer(3, 4, True)) == (
        "far",
        {"double_far": 1, "pad_offset": 4, "segment_id": 3},
    )
    assert decode_pointer(capability_pointer(6)) == ("capability", {"index": 6})
