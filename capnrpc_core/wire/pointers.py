"""Cap'n Proto wire pointers: the 64-bit words that link objects inside a message.

A pointer word has its kind in the two low bits:

- ``STRUCT`` (0): signed 30-bit word offset from the end of the pointer, data words (16 bits),
  pointer count (16 bits). The all-zero word is the null pointer.
- ``LIST`` (1): signed 30-bit offset, element size (3 bits), element count (29 bits; the word
  count for ``INLINE_COMPOSITE`` lists, whose first word is a struct-shaped tag).
- ``FAR`` (2): double-far flag (1 bit), landing-pad word offset (29 bits), segment id (32 bits).
- ``OTHER`` (3): capability pointers, with the cap table index in the upper 32 bits.

Offsets are in words and relative to the word just after the pointer.
"""

from __future__ import annotations

import struct
from enum import IntEnum

__all__ = [
    "BITS_PER_ELEMENT",
    "FAR",
    "LIST",
    "MAX_LIST_ELEMENTS",
    "NULL_POINTER",
    "OTHER",
    "POINTERS_PER_ELEMENT",
    "STRUCT",
    "ElementSize",
    "capability_pointer",
    "decode_pointer",
    "far_pointer",
    "list_pointer",
    "struct_pointer",
]

STRUCT = 0
LIST = 1
FAR = 2
OTHER = 3

NULL_POINTER = 0
MAX_LIST_ELEMENTS = (1 << 29) - 1
"""Largest element count (or word count, for struct lists) a list pointer can carry."""

_OFFSET_MIN = -(1 << 29)
_OFFSET_MAX = (1 << 29) - 1


class ElementSize(IntEnum):
    """The element size code of a list pointer."""

    VOID = 0
    BIT = 1
    BYTE = 2
    TWO_BYTES = 3
    FOUR_BYTES = 4
    EIGHT_BYTES = 5
    POINTER = 6
    INLINE_COMPOSITE = 7


BITS_PER_ELEMENT: tuple[int, ...] = (0, 1, 8, 16, 32, 64, 0, 0)
"""Data bits per element for each element size code (pointers and composites carry none)."""

POINTERS_PER_ELEMENT: tuple[int, ...] = (0, 0, 0, 0, 0, 0, 1, 0)
"""Pointers per element for each element size code."""

# Lower half of a pointer as a signed int: `lo >> 2` then sign-extends the 30-bit offset.
WORD = struct.Struct("<Q")
HALVES = struct.Struct("<iI")


def struct_pointer(offset: int, data_words: int, pointer_count: int) -> int:
    """Encode a struct pointer word."""
    _check_offset(offset)
    return ((offset << 2) & 0xFFFFFFFF) | (data_words << 32) | (pointer_count << 48)


def list_pointer(offset: int, element_size: int, count: int) -> int:
    """Encode a list pointer word (``count`` is the word count for ``INLINE_COMPOSITE``)."""
    _check_offset(offset)
    if not 0 <= count <= MAX_LIST_ELEMENTS:
        raise ValueError(f"list size {count} does not fit in a list pointer")
    return ((offset << 2) & 0xFFFFFFFF) | LIST | (element_size << 32) | (count << 35)


def far_pointer(segment_id: int, pad_offset: int, double_far: bool = False) -> int:
    """Encode a far pointer to a landing pad at ``pad_offset`` words into ``segment_id``."""
    return FAR | (4 if double_far else 0) | (pad_offset << 3) | (segment_id << 32)


def capability_pointer(index: int) -> int:
    """Encode a capability pointer to entry ``index`` of the message's cap table."""
    return OTHER | (index << 32)


def decode_pointer(word: int) -> tuple[str, dict[str, int]]:
    """Describe a pointer word as ``(kind, fields)``, for debugging and tests."""
    if word == 0:
        return "null", {}
    lo = word & 0xFFFFFFFF
    hi = word >> 32
    kind = lo & 3
    offset = (lo >> 2) - ((lo >> 31) << 30)
    if kind == STRUCT:
        return "struct", {
            "offset": offset,
            "data_words": hi & 0xFFFF,
            "pointer_count": hi >> 16,
        }
    if kind == LIST:
        return "list", {"offset": offset, "element_size": hi & 7, "count": hi >> 3}
    if kind == FAR:
        return "far", {"double_far": (lo >> 2) & 1, "pad_offset": lo >> 3, "segment_id": hi}
    if lo >> 2 == 0:
        return "capability", {"index": hi}
    return "other", {"lo": lo, "hi": hi}


def _check_offset(offset: int) -> None:
    if not _OFFSET_MIN <= offset <= _OFFSET_MAX:
        raise ValueError(f"pointer offset {offset} does not fit in 30 bits")
