"""Unit tests for the untyped message builder (layout, far pointers, caps, deep copy)."""

from __future__ import annotations

import struct

import pytest

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import (
    ElementSize,
    capability_pointer,
    decode_pointer,
    far_pointer,
    list_pointer,
    struct_pointer,
)
from capnrpc_core.wire.reader import AnyPointerReader, MessageReader

E = ElementSize
U8 = struct.Struct("<B")
I8 = struct.Struct("<b")
I16 = struct.Struct("<h")
U16 = struct.Struct("<H")
I32 = struct.Struct("<i")
U32 = struct.Struct("<I")
I64 = struct.Struct("<q")
U64 = struct.Struct("<Q")
F32 = struct.Struct("<f")
F64 = struct.Struct("<d")


def words(segment: bytes) -> list[int]:
    return [U64.unpack_from(segment, i)[0] for i in range(0, len(segment), 8)]


def kinds(segments: list[bytes]) -> list[str]:
    return [decode_pointer(w)[0] for s in segments for w in words(s)]


def dump(ptr: AnyPointerReader) -> object:
    """Everything reachable from ``ptr`` as nested tuples (data sections as raw bytes)."""
    kind = ptr.kind()
    if kind == "null":
        return None
    if kind == "capability":
        return ("cap", ptr.as_capability())
    if kind == "struct":
        s = ptr.as_struct()
        data = bytes(s._seg[s._data : s._data + s.data_size_bytes])
        return ("struct", data, tuple(dump(s.get_pointer(i)) for i in range(s.pointer_count)))
    lst = ptr.as_list()
    size = lst.element_size
    n = len(lst)
    if size == E.INLINE_COMPOSITE:
        items = []
        for i in range(n):
            s = lst.get_struct(i)
            data = bytes(s._seg[s._data : s._data + s.data_size_bytes])
            items.append((data, tuple(dump(s.get_pointer(j)) for j in range(s.pointer_count))))
        return ("structs", tuple(items))
    if size == E.POINTER:
        return ("pointers", tuple(dump(lst.get_pointer(i)) for i in range(n)))
    if size == E.BIT:
        return ("bits", tuple(lst.get_bool(i) for i in range(n)))
    if size == E.VOID:
        return ("void", n)
    width = {E.BYTE: 1, E.TWO_BYTES: 2, E.FOUR_BYTES: 4, E.EIGHT_BYTES: 8}[size]
    return ("data", width, bytes(lst._seg[lst._start : lst._start + n * width]))


def sample(builder: MessageBuilder) -> None:
    """Fill ``builder`` with one of everything, depth first (the order a deep copy uses)."""
    root = builder.init_root(2, 8)
    root.set_int(I32, 0, -12345)
    root.set_bool(40, True)
    root.set_float(U64, F64, 8, 6.25)
    root.set_text(0, "hello, world")
    root.set_data(1, b"\x00\x01\x02")
    inner = root.init_struct(2, 1, 2)
    inner.set_int(U64, 0, 99)
    inner.set_text(0, "inner")
    inner.set_capability(1, "cap-inner")
    ints = root.init_list(3, E.FOUR_BYTES, 3)
    for i, v in enumerate((7, -8, 9)):
        ints.set_int(I32, i, v)
    bits = root.init_list(4, E.BIT, 70)
    for i in range(0, 70, 3):
        bits.set_bool(i, True)
    structs = root.init_struct_list(5, 3, 1, 1)
    for i in range(3):
        structs.get_struct(i).set_int(U16, 0, i * 100)
        structs.get_struct(i).set_text(0, "s" * i)
    texts = root.init_list(6, E.POINTER, 3)
    texts.set_text(0, "a")
    nested = texts.init_list(1, E.TWO_BYTES, 2)
    nested.set_int(I16, 1, -2)
    texts.set_data(2, b"zz")
    root.set_capability(7, "cap-root")


# -- layout --------------------------------------------------------------------------------------


def test_empty_message_is_one_null_root() -> None:
    b = MessageBuilder()
    assert b.segments() == [bytes(8)]
    assert b.root().is_null()
    assert MessageReader(b.segments()).root().kind() == "null"


def test_struct_layout() -> None:
    b = MessageBuilder()
    root = b.init_root(1, 1)
    root.set_int(U32, 4, 0xAABBCCDD)
    root.set_text(0, "hi")
    seg = b.segments()[0]
    assert words(seg) == [
        struct_pointer(0, 1, 1),
        0xAABBCCDD << 32,
        list_pointer(0, E.BYTE, 3),
        int.from_bytes(b"hi\0", "little"),
    ]
    assert b.size_in_words() == 4


def test_data_fields_round_trip_with_defaults() -> None:
    b = MessageBuilder()
    root = b.init_root(4, 0)
    root.set_int(I8, 0, -3)
    root.set_int(U16, 2, 40000, default=12345)
    root.set_int(I64, 8, -(2**60), default=-1)
    one = U32.unpack(F32.pack(1.0))[0]
    root.set_float(U32, F32, 16, 2.5, default_bits=one)
    root.set_float(U64, F64, 24, -0.5)
    root.set_bool(39, True, default=True)  # stored as 0
    root.set_bool(38, True)
    # Stored values are XORed with the defaults.
    assert root.get_int(U16, 2) == 40000 ^ 12345
    assert root.get_int(I64, 8) == -(2**60) ^ -1
    r = MessageReader(b.segments()).get_root_struct()
    assert r.get_int(I8, 0) == -3
    assert r.get_int(U16, 2, 12345) == 40000
    assert r.get_int(I64, 8, -1) == -(2**60)
    assert r.get_float(U32, F32, 16, one) == 2.5
    assert r.get_float(U64, F64, 24) == -0.5
    assert r.get_bool(39, True) is True and r.get_bool(39) is False
    assert r.get_bool(38) is True
    assert root.get_bool(38) and root.get_int(I8, 0) == -3
    assert root.get_float(U32, F32, 16, one) == 2.5
    root.set_bool(38, False)
    assert root.get_bool(38) is False


def test_data_out_of_range_and_bad_values() -> None:
    root = MessageBuilder().init_root(1, 1)
    with pytest.raises(IndexError):
        root.set_int(I32, 6, 1)
    with pytest.raises(IndexError):
        root.set_bool(64, True)
    with pytest.raises(IndexError):
        root.set_text(1, "x")
    with pytest.raises(LocalUsageError, match="cannot store"):
        root.set_int(U8, 0, 256)
    with pytest.raises(LocalUsageError, match="cannot store"):
        root.set_float(U32, F32, 0, 1e300)
    with pytest.raises(LocalUsageError, match="struct size"):
        root.init_struct(0, 70000, 0)
    with pytest.raises(LocalUsageError, match="init_struct_list"):
        root.init_list(0, E.INLINE_COMPOSITE, 1)
    with pytest.raises(LocalUsageError, match="too long"):
        root.init_list(0, E.BYTE, 1 << 29)
    assert root.get_int(I64, 8, 5) == 5  # reads past the section are defaults, as in readers


def test_empty_struct_and_empty_lists() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 3)
    root.init_struct(0, 0, 0)
    root.init_list(1, E.EIGHT_BYTES, 0)
    root.set_data(2, b"")
    w = words(b.segments()[0])
    assert w[1] == 0xFFFFFFFC  # empty struct: offset -1, as C++ writes it
    # Zero-sized objects point at the current end of the segment (word 4).
    assert decode_pointer(w[2]) == ("list", {"offset": 1, "element_size": 5, "count": 0})
    assert decode_pointer(w[3]) == ("list", {"offset": 0, "element_size": 2, "count": 0})
    r = MessageReader(b.segments()).get_root_struct()
    assert r.get_pointer(0).kind() == "struct"
    assert r.get_data(2) == b""


def test_overwriting_zeroes_the_old_object() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 2)
    root.set_text(0, "secret secret")
    inner = root.init_struct(1, 1, 1)
    inner.set_text(0, "nested secret")
    root.set_text(0, "x")
    root.clear_pointer(1)
    data = b"".join(b.segments())
    assert b"secret" not in data
    r = MessageReader(b.segments()).get_root_struct()
    assert r.get_text(0) == "x" and r.is_null(1)
    root.set_text(0, None)
    assert root.is_null(0)


def test_every_list_kind_round_trips() -> None:
    b = MessageBuilder()
    sample(b)
    r = MessageReader(b.segments(), b.caps).get_root_struct()
    assert r.get_int(I32, 0) == -12345
    assert r.get_bool(40) is True
    assert r.get_float(U64, F64, 8) == 6.25
    assert r.get_text(0) == "hello, world"
    assert r.get_data(1) == b"\x00\x01\x02"
    inner = r.get_struct(2)
    assert (inner.get_int(U64, 0), inner.get_text(0), inner.get_capability(1)) == (
        99,
        "inner",
        "cap-inner",
    )
    ints = r.get_list(3, E.FOUR_BYTES)
    assert [ints.get_int(I32, i) for i in range(3)] == [7, -8, 9]
    bits = r.get_list(4, E.BIT)
    assert [bits.get_bool(i) for i in range(70)] == [i % 3 == 0 for i in range(70)]
    structs = r.get_list(5, E.INLINE_COMPOSITE)
    assert [(s.get_int(U16, 0), s.get_text(0)) for s in map(structs.get_struct, range(3))] == [
        (0, ""),
        (100, "s"),
        (200, "ss"),
    ]
    ptrs = r.get_list(6, E.POINTER)
    assert ptrs.get_text(0) == "a"
    assert ptrs.get_data(2) == b"zz"
    assert ptrs.get_list(1, E.TWO_BYTES).get_int(I16, 1) == -2
    assert r.get_capability(7) == "cap-root"


def test_list_builder_accessors() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 4)
    floats = root.init_list(0, E.FOUR_BYTES, 2)
    floats.set_float(U32, F32, 1, 0.75)
    assert floats.get_float(U32, F32, 1) == 0.75
    assert floats.get_int(I32, -2) == 0
    with pytest.raises(IndexError):
        floats.set_float(U32, F32, 2, 1.0)
    with pytest.raises(LocalUsageError, match="does not fit"):
        floats.set_int(I64, 0, 1)
    with pytest.raises(LocalUsageError, match="no pointer elements"):
        floats.set_text(0, "x")
    bits = root.init_list(1, E.BIT, 3)
    bits.set_bool(2, True)
    bits.set_bool(2, False)
    bits.set_bool(1, True)
    assert [bits.get_bool(i) for i in range(3)] == [False, True, False]
    ptrs = root.init_list(2, E.POINTER, 4)
    ptrs.set_text(0, "t")
    ptrs.set_capability(1, "c")
    structs = ptrs.init_struct_list(2, 2, 1, 0)
    structs.get_struct(1).set_int(U64, 0, 5)
    ptrs.get_pointer(3).set_data(b"d")
    assert ptrs.get_text(0) == "t" and ptrs.get_capability(1) == "c"
    assert ptrs.get_list(2).get_struct(1).get_int(U64, 0) == 5
    assert ptrs.get_data(3) == b"d"
    ptrs.set_text(0, None)
    ptrs.set_data(3, None)
    assert ptrs.as_reader().get_pointer(0).is_null() and ptrs.get_data(3) == b""
    assert len(ptrs) == 4 and ptrs.element_size == E.POINTER
    r = b.to_reader().get_root_struct()
    assert (
        r.get_list(2, E.POINTER).get_list(2, E.INLINE_COMPOSITE).get_struct(1).get_int(U64, 0) == 5
    )


def test_get_list_of_existing_lists() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 4)
    root.init_list(0, E.TWO_BYTES, 3).set_int(U16, 2, 7)
    root.init_struct_list(1, 2, 1, 1).get_struct(1).set_text(0, "x")
    root.init_struct(3, 0, 0)
    assert root.get_list(0).get_int(U16, 2) == 7
    assert root.get_list(0).element_size == E.TWO_BYTES
    assert root.get_list(1).get_struct(1).get_text(0) == "x"
    with pytest.raises(LocalUsageError, match="null"):
        root.get_list(2)
    with pytest.raises(LocalUsageError, match="not a list"):
        root.get_list(3)
    with pytest.raises(LocalUsageError, match="not a struct"):
        root.get_struct(0, 1, 0)


def test_get_struct_inits_returns_and_enlarges() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 1)
    small = root.get_struct(0, 1, 1)  # null: a new struct
    small.set_int(U64, 0, 42)
    small.set_text(0, "kept")
    same = root.get_struct(0, 1, 0)
    assert same.data_size_bytes == 8 and same.pointer_count == 1
    big = root.get_struct(0, 2, 2)  # older, smaller version: moved and enlarged
    assert (big.data_size_bytes, big.pointer_count) == (16, 2)
    assert big.get_int(U64, 0) == 42
    assert big.get_text(0) == "kept"
    big.set_text(1, "new")
    r = MessageReader(b.segments()).get_root_struct().get_struct(0)
    assert (r.get_int(U64, 0), r.get_text(0), r.get_text(1)) == (42, "kept", "new")
    # The old copy was zeroed: 42 appears once.
    assert words(b.segments()[0]).count(42) == 1


def test_capabilities_and_cap_table() -> None:
    b = MessageBuilder()
    root = b.init_root(0, 3)
    root.set_capability(0, "a")
    root.set_capability(1, "b")
    root.set_capability(2, None)
    assert b.caps == ["a", "b"]
    assert words(b.segments()[0])[1:3] == [capability_pointer(0), capability_pointer(1)]
    assert root.get_capability(1) == "b" and root.get_capability(2) is None
    # Overwriting drops the old entry but keeps the indexes of the others.
    root.set_capability(0, "c")
    assert b.caps == [None, "b", "c"]
    r = b.to_reader().get_root_struct()
    assert (r.get_capability(0), r.get_capability(1)) == ("c", "b")
    assert b.add_cap("d") == 3
    with pytest.raises(LocalUsageError, match="not a capability"):
        root.init_struct(2, 0, 0)
        root.get_capability(2)


def test_pointer_builder() -> None:
    b = MessageBuilder()
    slot = b.root()
    assert slot.is_null()
    s = slot.init_struct(1, 0)
    s.set_int(U64, 0, 3)
    assert slot.get_struct(1, 0).get_int(U64, 0) == 3
    slot.init_list(E.BYTE, 2).set_int(U8, 1, 9)
    assert slot.get_list().get_int(U8, 1) == 9
    slot.init_struct_list(1, 0, 1).get_struct(0).set_text(0, "q")
    assert slot.as_reader().as_list(E.INLINE_COMPOSITE).get_struct(0).get_text(0) == "q"
    slot.set_text("t")
    assert slot.as_reader().as_text() == "t"
    slot.set_data(b"d")
    assert slot.as_reader().as_data() == b"d"
    slot.set_capability("cap")
    assert slot.as_reader().as_capability() == "cap"
    slot.clear()
    assert slot.is_null()
    assert all(w == 0 for w in words(b.segments()[0]))  # every old object was zeroed
    assert b.caps == [None]
    assert MessageReader(b.segments()).root().is_null()


# -- multiple segments and far pointers ------------------------------------------------------------


def test_multi_segment_messages_round_trip() -> None:
    b = MessageBuilder(max_segment_words=6)
    sample(b)
    segments = b.segments()
    assert len(segments) > 3
    assert "far" in kinds(segments)
    single = MessageBuilder()
    sample(single)
    # Same content, whatever the layout.
    a = dump(MessageReader(segments, b.caps).root())
    c = dump(MessageReader(single.segments(), single.caps).root())
    assert a == c


def test_object_larger_than_max_segment_gets_its_own_segment() -> None:
    b = MessageBuilder(first_segment_words=2, max_segment_words=4)
    root = b.init_root(0, 1)
    data = bytes(range(100))
    root.set_data(0, data)
    assert [len(s) // 8 for s in b.segments()] == [2, 1 + 13]
    assert MessageReader(b.segments()).get_root_struct().get_data(0) == data


def test_far_pointer_layout() -> None:
    b = MessageBuilder(first_segment_words=2, max_segment_words=2)
    root = b.init_root(0, 1)  # root pointer + 1-pointer struct fill segment 0
    root.set_text(0, "far")
    seg0, seg1 = b.segments()
    assert words(seg0)[1] == far_pointer(1, 0)
    assert words(seg1)[0] == list_pointer(0, E.BYTE, 4)
    assert MessageReader([seg0, seg1]).get_root_struct().get_text(0) == "far"


def test_double_far_when_enlarging_into_another_segment() -> None:
    b = MessageBuilder(max_segment_words=4)
    root = b.init_root(0, 2)  # segment 0: root pointer + 2 pointers
    old = root.init_struct(0, 1, 1)  # no room: segment 1 gets a landing pad + the struct
    old.set_text(0, "abc")  # fills segment 1
    old.set_int(U64, 0, 5)
    big = root.get_struct(0, 2, 2)  # moves to segment 2; the text pointer needs a double-far
    segments = b.segments()
    assert any(decode_pointer(w)[1].get("double_far") for s in segments for w in words(s))
    r = MessageReader(segments).get_root_struct().get_struct(0)
    assert (r.get_int(U64, 0), r.get_text(0), r.data_size_bytes, r.pointer_count) == (
        5,
        "abc",
        16,
        2,
    )
    assert big.get_text(0) == "abc"
    # Zeroing through a double-far (overwrite) leaves no trace of the old text.
    big.set_text(0, "new")
    assert b"abc" not in b"".join(b.segments())
    assert MessageReader(b.segments()).get_root_struct().get_struct(0).get_text(0) == "new"


def test_overwrite_through_far_pointer_zeroes_pad() -> None:
    b = MessageBuilder(first_segment_words=2, max_segment_words=3)
    root = b.init_root(0, 1)
    root.set_text(0, "0123456789")
    assert "far" in kinds(b.segments())
    root.clear_pointer(0)
    assert all(w == 0 for s in b.segments()[1:] for w in words(s))


# -- deep copy -----------------------------------------------------------------------------------


def test_deep_copy_across_messages_with_caps() -> None:
    src = MessageBuilder(max_segment_words=5)
    sample(src)
    reader = MessageReader(src.segments(), ["x-" + str(c) for c in src.caps])
    dst = MessageBuilder()
    dst.add_cap("existing")
    holder = dst.init_root(0, 2)
    holder.set_pointer(1, reader.get_root_struct())
    assert dst.caps == ["existing", "x-cap-inner", "x-cap-root"]
    copied = dst.to_reader().get_root_struct().get_pointer(1)
    assert dump(copied) == dump(reader.root())
    assert len(dst.segments()) == 1


def test_set_root_matches_fresh_build() -> None:
    src = MessageBuilder()
    sample(src)
    dst = MessageBuilder()
    dst.set_root(src.to_reader().get_root_struct())
    assert dst.segments() == src.segments()
    # Builders are accepted as sources too.
    again = MessageBuilder()
    again.set_root(src.root().as_reader().as_struct())
    assert again.segments() == src.segments()


def test_copy_from_builders_lists_and_any_pointers() -> None:
    src = MessageBuilder()
    sample(src)
    root = src.root().get_struct()
    dst = MessageBuilder()
    d = dst.init_root(0, 5)
    d.set_pointer(0, root.get_list(5))  # ListBuilder
    d.set_pointer(1, root.as_reader().get_list(4, E.BIT))  # ListReader
    d.set_pointer(2, root.get_pointer(6))  # PointerBuilder
    d.set_pointer(3, root.as_reader().get_pointer(7))  # AnyPointerReader (a cap)
    d.set_pointer(4, root.as_reader().get_pointer(0))
    d.get_pointer(4).set_from(AnyPointerReader(src._live_reader(), bytes(8), 0, 5))  # null
    r = dst.to_reader().get_root_struct()
    sr = src.to_reader().get_root_struct()
    assert dump(r.get_pointer(0)) == dump(sr.get_pointer(5))
    assert dump(r.get_pointer(1)) == dump(sr.get_pointer(4))
    assert dump(r.get_pointer(2)) == dump(sr.get_pointer(6))
    assert r.get_capability(3) == "cap-root"
    assert r.is_null(4)
    with pytest.raises(LocalUsageError, match="cannot copy"):
        d.set_pointer(0, "not a reader")  # type: ignore[arg-type]


def test_copy_of_upgraded_list_keeps_its_encoding() -> None:
    # A List(UInt16) read as a list of structs copies as the List(UInt16) it is.
    src = MessageBuilder()
    src.root().init_list(E.TWO_BYTES, 3).set_int(U16, 1, 77)
    upgraded = src.to_reader().root().as_list(E.INLINE_COMPOSITE)
    assert upgraded.get_struct(1).get_int(U16, 0) == 77
    dst = MessageBuilder()
    dst.root().set_from(upgraded)
    assert dst.segments() == src.segments()
    # A single element (a 2-byte struct) copies as a one-word struct.
    dst2 = MessageBuilder()
    dst2.set_root(upgraded.get_struct(1))
    assert words(dst2.segments()[0]) == [struct_pointer(0, 1, 0), 77]


def test_copy_of_bit_list_masks_the_last_byte() -> None:
    seg = b"".join(U64.pack(w) for w in (list_pointer(0, E.BIT, 3), 0xFFFF_FFFF_FFFF_FFFF))
    dst = MessageBuilder()
    dst.set_root(MessageReader([seg]).root().as_list(E.BIT))
    assert words(dst.segments()[0])[1] == 0b111


def test_copy_from_hostile_message_raises_decode_error() -> None:
    seg = b"".join(U64.pack(w) for w in (struct_pointer(0, 0, 1), list_pointer(5, E.BYTE, 3)))
    dst = MessageBuilder()
    with pytest.raises(DecodeError, match="out of bounds"):
        dst.set_root(MessageReader([seg]).get_root_struct())
    other = b"".join(U64.pack(w) for w in (struct_pointer(0, 0, 1), 0b111))
    with pytest.raises(DecodeError, match="unknown kind"):
        MessageBuilder().set_root(MessageReader([other]).get_root_struct())
    # Copying obeys the source's limits.
    deep = MessageBuilder()
    s = deep.init_root(0, 1)
    for _ in range(10):
        s = s.init_struct(0, 0, 1)
    limited = MessageReader(deep.segments(), limits=ReadLimits(nesting_limit=5))
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        MessageBuilder().set_root(limited.root())


def test_as_reader_is_a_live_view() -> None:
    b = MessageBuilder()
    root = b.init_root(1, 1)
    view = root.as_reader()
    root.set_int(U64, 0, 11)
    root.set_text(0, "later")
    assert view.get_int(U64, 0) == 11 and view.get_text(0) == "later"
    for _ in range(300):  # grow the segment past its first allocation
        root.set_text(0, "x" * 40)
    assert view.get_text(0) == "x" * 40


def test_keep_cap_indexes_copies_indexes_verbatim() -> None:
    # The RPC layer copies a payload and sends the source's cap table beside it.
    src = MessageBuilder()
    root = src.init_root(0, 2)
    root.set_capability(0, "a")
    root.set_capability(1, "b")
    reader = src.to_reader()
    dst = MessageBuilder(keep_cap_indexes=True)
    dst.init_root(0, 1).set_pointer(0, reader.get_root_struct())
    assert dst.caps == []
    assert words(dst.segments()[0])[2:4] == [capability_pointer(0), capability_pointer(1)]
    # Indexes are kept even past the source's own table (it is not the table that is sent).
    short = MessageReader(reader.segments, ["only one"])
    again = MessageBuilder(keep_cap_indexes=True)
    again.set_root(short.get_root_struct())
    assert words(again.segments()[0])[1:3] == [capability_pointer(0), capability_pointer(1)]


@pytest.mark.parametrize("first_segment_words", [1, 2, 3, 32, 1024])
@pytest.mark.parametrize("size", [(0, 0), (1, 0), (0, 1), (2, 3), (5, 40), (0x10000, 0), (-1, 2)])
def test_new_root_is_init_root(first_segment_words: int, size: tuple[int, int]) -> None:
    data_words, pointer_count = size
    try:
        want = MessageBuilder(first_segment_words).init_root(data_words, pointer_count)
    except LocalUsageError:
        with pytest.raises(LocalUsageError):
            MessageBuilder.new_root(data_words, pointer_count, first_segment_words)
        return
    got = MessageBuilder.new_root(data_words, pointer_count, first_segment_words)
    # Every field of the message (new_root sets them itself), and the root's place in it.
    for name in MessageBuilder.__slots__:
        assert getattr(got.message, name) == getattr(want.message, name), name
    assert [getattr(got, n) for n in got.__slots__ if n != "message"] == [
        getattr(want, n) for n in want.__slots__ if n != "message"
    ]
