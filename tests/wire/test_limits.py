"""Read limits: the traversal budget and the nesting limit, and that both are configurable."""

from __future__ import annotations

import struct

import pytest

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.limits import ReadLimits
from capnrpc_core.wire.pointers import ElementSize, list_pointer, struct_pointer
from capnrpc_core.wire.reader import MessageReader, StructReader

E = ElementSize
U64 = struct.Struct("<Q")


def seg(*words: int) -> bytes:
    return b"".join(U64.pack(w & 0xFFFFFFFFFFFFFFFF) for w in words)


def amplified(pointers: int, list_words: int) -> bytes:
    """A struct of ``pointers`` pointers that all point at one ``list_words``-word list."""
    words = [struct_pointer(0, 0, pointers)]
    for i in range(pointers):
        # Pointer i sits at word 1 + i; the list starts at word 1 + pointers.
        words.append(list_pointer(pointers - 1 - i, E.EIGHT_BYTES, list_words))
    words.extend(range(list_words))
    return seg(*words)


def read_all_lists(root: StructReader) -> int:
    return sum(len(root.get_list(i, E.EIGHT_BYTES)) for i in range(root.pointer_count))


def test_same_large_list_many_times_hits_the_traversal_limit() -> None:
    data = amplified(pointers=100, list_words=1000)  # ~9 KB that reads as 100,000 words
    reader = MessageReader([data], limits=ReadLimits(traversal_limit_words=50_000))
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        read_all_lists(reader.get_root_struct())
    # The same message is fine with a budget that covers it (the root struct costs 100).
    roomy = MessageReader([data], limits=ReadLimits(traversal_limit_words=100 + 100 * 1000))
    assert read_all_lists(roomy.get_root_struct()) == 100 * 1000
    assert roomy.traversal_words_left == 0
    one_short = MessageReader([data], limits=ReadLimits(traversal_limit_words=100 + 100 * 1000 - 1))
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        read_all_lists(one_short.get_root_struct())


def test_default_traversal_limit() -> None:
    # 8 Mi words by default: 9000 reads of a 1000-word list exceed it.
    data = amplified(pointers=9000, list_words=1000)
    reader = MessageReader([data])
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        read_all_lists(reader.get_root_struct())


def test_void_lists_are_charged_per_element() -> None:
    data = seg(list_pointer(0, E.VOID, (1 << 29) - 1))
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        MessageReader([data]).root().as_list(E.VOID)
    ok = MessageReader([seg(list_pointer(0, E.VOID, 1000))], limits=ReadLimits(1000))
    assert len(ok.root().as_list(E.VOID)) == 1000
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        MessageReader(
            [seg(list_pointer(0, E.VOID, 1001))], limits=ReadLimits(1000)
        ).root().as_list()


def test_lists_of_empty_structs_are_charged_per_element() -> None:
    tag = ((1 << 30) - 1) << 2  # a huge element count of zero-sized structs
    data = seg(list_pointer(0, E.INLINE_COMPOSITE, 0), tag)
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        MessageReader([data]).root().as_list(E.INLINE_COMPOSITE)


def test_text_and_data_are_charged() -> None:
    words = [struct_pointer(0, 0, 4)]
    words += [list_pointer(3 - i, E.BYTE, 64) for i in range(4)]
    words += [0] * 8
    reader = MessageReader([seg(*words)], limits=ReadLimits(traversal_limit_words=4 + 8 * 3))
    root = reader.get_root_struct()
    for i in range(3):
        assert root.get_data(i) == bytes(64)
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        root.get_data(3)


def chain(depth: int) -> list[bytes]:
    """A linked list of ``depth`` structs below the root."""
    b = MessageBuilder()
    s = b.init_root(1, 1)
    for i in range(depth):
        s.set_int(U64, 0, i)
        s = s.init_struct(0, 1, 1)
    return b.segments()


def walk_chain(reader: MessageReader) -> int:
    s = reader.get_root_struct()
    n = 0
    while not s.is_null(0):
        s = s.get_struct(0)
        n += 1
    return n


def test_deep_nesting_hits_the_nesting_limit() -> None:
    segments = chain(100)
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        walk_chain(MessageReader(segments))  # default: 64
    assert walk_chain(MessageReader(segments, limits=ReadLimits(nesting_limit=101))) == 100
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        walk_chain(MessageReader(segments, limits=ReadLimits(nesting_limit=100)))
    assert walk_chain(MessageReader(chain(63))) == 63


def test_nesting_counts_lists_and_struct_list_elements() -> None:
    b = MessageBuilder()
    lst = b.root().init_list(E.POINTER, 1)
    for _ in range(10):
        lst = lst.init_list(0, E.POINTER, 1)
    reader = MessageReader(b.segments(), limits=ReadLimits(nesting_limit=5))
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        cur = reader.root().as_list(E.POINTER)
        while True:
            cur = cur.get_list(0, E.POINTER)
    # A struct taken out of a struct list spends a level, as in C++.
    b = MessageBuilder()
    b.root().init_struct_list(1, 0, 0)
    tight = MessageReader(b.segments(), limits=ReadLimits(nesting_limit=1))
    structs = tight.root().as_list(E.INLINE_COMPOSITE)
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        structs.get_struct(0)
    assert (
        MessageReader(b.segments(), limits=ReadLimits(nesting_limit=2))
        .root()
        .as_list(E.INLINE_COMPOSITE)
        .get_struct(0)
        .pointer_count
        == 0
    )


def test_cycles_end_at_the_nesting_limit() -> None:
    # A struct whose only pointer points back at the struct itself.
    data = seg(struct_pointer(0, 0, 1), struct_pointer(-2, 0, 1))
    reader = MessageReader([data])
    s = reader.get_root_struct()
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        for _ in range(1000):
            s = s.get_struct(0)
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        reader.get_root_struct().total_size_words()
    with pytest.raises(DecodeError, match="nesting limit exceeded"):
        MessageBuilder().set_root(MessageReader([data]).root())


def test_total_size_is_bounded_but_free() -> None:
    data = amplified(pointers=100, list_words=1000)
    reader = MessageReader([data], limits=ReadLimits(traversal_limit_words=50_000))
    root = reader.get_root_struct()
    left = reader.traversal_words_left
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        root.total_size_words()
    assert reader.traversal_words_left == left
    roomy = MessageReader([data], limits=ReadLimits(traversal_limit_words=200_000))
    root = roomy.get_root_struct()
    assert root.total_size_words() == 100 + 100 * 1000
    assert roomy.traversal_words_left == 200_000 - 100


def test_deep_copy_is_charged_like_a_read() -> None:
    data = amplified(pointers=100, list_words=1000)
    reader = MessageReader([data], limits=ReadLimits(traversal_limit_words=50_000))
    with pytest.raises(DecodeError, match="traversal limit exceeded"):
        MessageBuilder().set_root(reader.get_root_struct())
