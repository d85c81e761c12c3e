"""Fuzzing the reader: random and mutated segments yield values or DecodeError, nothing else."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import (
    ElementSize,
    capability_pointer,
    far_pointer,
    list_pointer,
    struct_pointer,
)
from capnrpc_core.wire.reader import AnyPointerReader, ListReader, MessageReader, StructReader

E = ElementSize
U64 = struct.Struct("<Q")
INT_FORMATS = [struct.Struct(f) for f in ("<b", "<H", "<i", "<Q")]
F64 = struct.Struct("<d")
LIMITS = ReadLimits(traversal_limit_words=4000, nesting_limit=16)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


class Walker:
    """Reads everything reachable, every way the API allows, and records what it saw.

    A DecodeError on one pointer is recorded and the walk goes on with the next, so that one
    bad pointer does not hide the rest of the message from the fuzzer.
    """

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.errors = 0

    def attempt(self, fn: Any, *args: Any) -> Any:
        try:
            result = fn(*args)
        except DecodeError as exc:
            assert str(exc)  # errors name the problem
            self.errors += 1
            return None
        self.values.append(type(result).__name__)
        return result

    def pointer(self, ptr: AnyPointerReader) -> None:
        kind = self.attempt(ptr.kind)
        if kind is None or kind == "null":
            return
        if kind == "struct":
            s = self.attempt(ptr.as_struct)
            if s is not None:
                self.struct(s)
        elif kind == "list":
            lst = self.attempt(ptr.as_list)
            if lst is not None:
                self.list(lst)
            for size in ElementSize:
                self.attempt(ptr.as_list, size)
            self.attempt(ptr.as_text)
            self.attempt(ptr.as_data)
        else:
            self.attempt(ptr.as_capability)
            self.attempt(ptr.as_struct)

    def struct(self, s: StructReader) -> None:
        for fmt in INT_FORMATS:
            for off in range(0, s.data_size_bytes + 8, fmt.size):
                self.values.append(s.get_int(fmt, off, 5))
        for bit in range(0, s.data_size_bytes * 8 + 8, 5):
            self.values.append(s.get_bool(bit))
        self.values.append(s.get_float(U64, F64, 0, 1))
        self.attempt(s.total_size_words)
        for i in range(s.pointer_count + 1):
            s.is_null(i)
            self.attempt(s.get_text, i)
            self.attempt(s.get_data, i)
            self.attempt(s.get_capability, i)
            self.attempt(s.get_list, i, E.INLINE_COMPOSITE)
            self.attempt(s.get_list, i, E.BIT)
            self.pointer(s.get_pointer(i))

    def list(self, lst: ListReader) -> None:
        n = min(len(lst), 64)  # long lists: the first elements are as good as any
        size = lst.element_size
        self.attempt(lst.total_size_words)
        for i in range(n):
            if size == E.BIT:
                self.values.append(lst.get_bool(i))
            elif E.BYTE <= size <= E.EIGHT_BYTES:
                self.values.append(lst.get_int(INT_FORMATS[size - E.BYTE], i))
            elif size == E.POINTER:
                self.attempt(lst.get_text, i)
                self.attempt(lst.get_data, i)
                self.attempt(lst.get_capability, i)
                self.attempt(lst.get_list, i, E.FOUR_BYTES)
                self.pointer(lst.get_pointer(i))
            elif size == E.INLINE_COMPOSITE:
                s = self.attempt(lst.get_struct, i)
                if s is not None:
                    self.struct(s)


def walk(segments: list[bytes], caps: int, limits: ReadLimits = LIMITS) -> Walker:
    walker = Walker()
    try:
        reader = MessageReader(segments, [f"cap{i}" for i in range(caps)], limits)
        root = reader.root()
    except DecodeError:
        walker.errors += 1
        return walker
    walker.pointer(root)
    walker.attempt(reader.get_root_struct)
    return walker


# -- inputs ----------------------------------------------------------------------------------------

OFFSETS = st.integers(-6, 12)
POINTER_WORDS = st.one_of(
    st.builds(struct_pointer, OFFSETS, st.integers(0, 3), st.integers(0, 3)),
    st.builds(
        list_pointer,
        OFFSETS,
        st.integers(0, 7),
        st.one_of(st.integers(0, 40), st.integers(0, (1 << 29) - 1)),
    ),
    st.builds(far_pointer, st.integers(0, 3), st.integers(0, 12), st.booleans()),
    st.builds(capability_pointer, st.integers(0, 4)),
    st.just(0),
    st.integers(0, (1 << 64) - 1),
)
SEGMENT = st.lists(POINTER_WORDS, min_size=1, max_size=24).map(
    lambda ws: b"".join(U64.pack(w) for w in ws)
)
RAW_SEGMENT = st.binary(min_size=0, max_size=200).map(lambda b: b[: len(b) // 8 * 8])


def valid_message(max_segment_words: int | None) -> tuple[list[bytes], int]:
    b = MessageBuilder(max_segment_words=max_segment_words)
    root = b.init_root(2, 6)
    root.set_int(U64, 0, 12345)
    root.set_text(0, "hello")
    root.set_data(1, b"\x01\x02\x03")
    inner = root.init_struct(2, 1, 2)
    inner.set_capability(0, "c")
    inner.init_list(1, E.BIT, 9).set_bool(3, True)
    structs = root.init_struct_list(3, 3, 1, 1)
    for i in range(3):
        structs.get_struct(i).set_text(0, "s" * i)
    ptrs = root.init_list(4, E.POINTER, 3)
    ptrs.init_list(0, E.FOUR_BYTES, 2)
    ptrs.set_text(1, "x")
    root.init_list(5, E.VOID, 4)
    return b.segments(), len(b.caps)


VALID = [valid_message(None), valid_message(4), valid_message(7)]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[list[bytes], int]:
    segments, caps = VALID[draw(st.integers(0, len(VALID) - 1))]
    segs = [bytearray(s) for s in segments]
    for _ in range(draw(st.integers(1, 6))):
        si = draw(st.integers(0, len(segs) - 1))
        if not segs[si]:
            continue
        word = draw(st.integers(0, len(segs[si]) // 8 - 1))
        how = draw(st.integers(0, 2))
        if how == 0:
            U64.pack_into(segs[si], word * 8, draw(POINTER_WORDS))
        elif how == 1:
            bit = draw(st.integers(0, 63))
            segs[si][word * 8 + bit // 8] ^= 1 << (bit % 8)
        else:
            segs[si][word * 8 : word * 8 + 8] = draw(st.binary(min_size=8, max_size=8))
    if draw(st.booleans()):
        segs = segs[: draw(st.integers(1, len(segs)))]
    return [bytes(s) for s in segs], draw(st.integers(0, caps + 1))


# -- properties ------------------------------------------------------------------------------


@FUZZ
@given(st.lists(SEGMENT, min_size=1, max_size=3), st.integers(0, 3))
def test_random_pointer_soup(segments: list[bytes], caps: int) -> None:
    walk(segments, caps)


@FUZZ
@given(st.lists(RAW_SEGMENT, min_size=0, max_size=3), st.integers(0, 2))
def test_random_bytes(segments: list[bytes], caps: int) -> None:
    walk(segments, caps)


@FUZZ
@given(mutated())
def test_mutated_valid_messages(message: tuple[list[bytes], int]) -> None:
    segments, caps = message
    walk(segments, caps)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(mutated(), st.tuples(st.lists(SEGMENT, min_size=1, max_size=3), st.integers(0, 3)))
)
def test_copy_of_a_readable_message_reads_the_same(message: tuple[list[bytes], int]) -> None:
    # Whatever a walk can read, a deep copy reproduces; otherwise copying raises DecodeError.
    segments, caps = message
    cap_table = [f"cap{i}" for i in range(caps)]
    try:
        original = dump(MessageReader(segments, cap_table, LIMITS).root())
    except DecodeError:
        original = None
    roomy = ReadLimits(traversal_limit_words=LIMITS.traversal_limit_words * 2, nesting_limit=16)
    copy = MessageBuilder()
    try:
        copy.set_root(MessageReader(segments, cap_table, roomy).root())
    except DecodeError:
        assert original is None
        return
    if original is not None:
        assert dump(copy.to_reader(roomy).root()) == original


def dump(ptr: AnyPointerReader) -> Any:
    kind = ptr.kind()
    if kind == "null":
        return None
    if kind == "capability":
        return ("cap", ptr.as_capability())
    if kind == "struct":
        s = ptr.as_struct()
        data = bytes(s.get_int(INT_FORMATS[0], i) & 0xFF for i in range(s.data_size_bytes))
        return ("struct", data, [dump(s.get_pointer(i)) for i in range(s.pointer_count)])
    if kind == "other":
        raise DecodeError("unknown pointer")
    lst = ptr.as_list()
    size = lst.element_size
    n = len(lst)
    if size == E.VOID:
        return ("void", n)
    if size == E.BIT:
        return ("bits", [lst.get_bool(i) for i in range(n)])
    if E.BYTE <= size <= E.EIGHT_BYTES:
        return ("ints", size, [lst.get_int(INT_FORMATS[size - E.BYTE], i) for i in range(n)])
    if size == E.POINTER:
        return ("pointers", [dump(lst.get_pointer(i)) for i in range(n)])
    return ("structs", [dump_struct(lst.get_struct(i)) for i in range(n)])


def dump_struct(s: StructReader) -> Any:
    data = bytes(s.get_int(INT_FORMATS[0], i) & 0xFF for i in range(s.data_size_bytes))
    return (data, [dump(s.get_pointer(i)) for i in range(s.pointer_count)])


def test_the_valid_messages_walk_cleanly() -> None:
    for segments, caps in VALID:
        walker = walk(segments, caps, ReadLimits())
        assert "str" in walker.values and "bytes" in walker.values
        assert dump(MessageReader(segments, ["c"]).root()) == dump(
            MessageReader(VALID[0][0], ["c"]).root()
        )


def test_walker_sees_decode_errors() -> None:
    # The walker must not swallow everything: a known-bad message produces errors.
    walker = walk([U64.pack(struct_pointer(0, 0, 1)) + U64.pack(list_pointer(9, 2, 3))], 0)
    assert walker.errors > 0
