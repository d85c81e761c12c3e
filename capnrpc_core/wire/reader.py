"""Untyped readers over the segments of one Cap'n Proto message.

The schema layer drives these with offsets it computed from the schema: data fields by byte
offset (bools by bit offset) and pointer fields by index. Every pointer the reader follows is
bounds-checked and charged to the message's traversal budget, and every struct or list followed
spends one level of nesting, so that a hostile message cannot make a reader read out of bounds,
loop, or amplify a small message into unbounded work. Anything malformed raises
:class:`~capnrpc_core.errors.DecodeError`; an index out of range on a list is the caller's
mistake and raises :class:`IndexError`.

Note [reader limits]
~~~~~~~~~~~~~~~~~~~~
We charge exactly what the C++ reader charges, so a message that C++ accepts under a given
``ReadLimits`` is accepted here too: following a struct pointer costs its data and pointer words,
a list its (rounded-up) body, plus the tag word of a struct list; far pointers cost their landing
pad. Lists whose elements take no space (``List(Void)``, lists of empty structs) cost one word per
element, because otherwise they would be free to iterate over however long they claim to be.
Nesting is spent as in C++: one level per struct or list pointer followed and one more per struct
taken out of a struct list.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TypeAlias

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.pointers import (
    BITS_PER_ELEMENT,
    FAR,
    LIST,
    OTHER,
    POINTERS_PER_ELEMENT,
    STRUCT,
    ElementSize,
)

__all__ = ["AnyPointerReader", "ListReader", "MessageReader", "StructReader"]

Buffer: TypeAlias = bytes | bytearray | memoryview

_HALVES = struct.Struct("<iI")
_unpack_halves = _HALVES.unpack_from
_EMPTY = b""
_NULL_WORD = bytes(8)
_KIND_NAMES = ("struct", "list", "far", "other")
_BYTE = ElementSize.BYTE
_BIT = ElementSize.BIT
_INLINE_COMPOSITE = ElementSize.INLINE_COMPOSITE


class MessageReader:
    """A received message: its segments, its capability table and what reading it may cost."""

    __slots__ = ("_budget", "caps", "limits", "live_used", "segments")

    def __init__(
        self,
        segments: Sequence[Buffer],
        caps: Sequence[object] = (),
        limits: ReadLimits = DEFAULT_LIMITS,
    ) -> None:
        segs: list[Buffer] = []
        for i, seg in enumerate(segments):
            if isinstance(seg, memoryview) and (seg.format != "B" or seg.ndim != 1):
                seg = seg.cast("B")
            if len(seg) & 7:
                raise DecodeError(f"segment {i} is {len(seg)} bytes, not a whole number of words")
            segs.append(seg)
        self.segments: list[Buffer] = segs
        self.caps: Sequence[object] = caps
        self.limits: ReadLimits = limits
        self._budget: int = limits.traversal_limit_words
        # For a live view of a MessageBuilder: the builder's words-used-per-segment list, shared
        # with it (not the builder itself, which would make a reference cycle and keep the
        # capabilities in its table alive until the cyclic collector ran).
        self.live_used: list[int] | None = None

    @classmethod
    def _from_decoder(cls, segments: list[memoryview], limits: ReadLimits) -> MessageReader:
        """A reader over segments known to hold whole words: a frame a :class:`FrameDecoder`
        returned (it checked the segment table), or a builder's own segments.

        The constructor's checks of each segment are skipped; the list is taken over (a
        builder's, so the reader sees the segments it adds later).
        """
        reader = cls.__new__(cls)
        reader.segments = segments  # type: ignore[assignment]
        reader.caps = ()
        reader.limits = limits
        reader._budget = limits.traversal_limit_words
        reader.live_used = None
        return reader

    def root(self) -> AnyPointerReader:
        """The root pointer (the first word of segment 0)."""
        if not self.segments or len(self.segments[0]) < 8:
            raise DecodeError("message has no root pointer: segment 0 is empty")
        return AnyPointerReader(self, self.segments[0], 0, self.limits.nesting_limit)

    def get_root_struct(self) -> StructReader:
        """The root struct; a null root reads as an empty struct."""
        return self.root().as_struct()

    def size_in_words(self) -> int:
        """Total words in all segments."""
        return sum(len(seg) for seg in self.segments) >> 3

    @property
    def traversal_words_left(self) -> int:
        """What is left of the traversal budget (see Note [reader limits])."""
        return self._budget

    def __repr__(self) -> str:
        sizes = [len(s) >> 3 for s in self.segments]
        return f"<MessageReader segments={sizes} caps={len(self.caps)}>"


class StructReader:
    """A struct inside a message: a data section and a pointer section."""

    __slots__ = ("_data", "_dsize", "_nest", "_pcount", "_ptrs", "_seg", "message")

    def __init__(
        self,
        message: MessageReader,
        seg: Buffer,
        data: int,
        dsize: int,
        ptrs: int,
        pcount: int,
        nest: int,
    ) -> None:
        self.message = message
        self._seg = seg
        self._data = data
        self._dsize = dsize
        self._ptrs = ptrs
        self._pcount = pcount
        self._nest = nest

    @property
    def data_size_bytes(self) -> int:
        """Size of the data section in bytes."""
        return self._dsize

    @property
    def pointer_count(self) -> int:
        """Number of pointers in the pointer section."""
        return self._pcount

    def get_bool(self, bit_offset: int, default: bool = False) -> bool:
        """The bool at ``bit_offset`` of the data section."""
        byte = bit_offset >> 3
        if byte < self._dsize:
            return bool((self._seg[self._data + byte] >> (bit_offset & 7)) & 1) != default
        return default

    def get_int(self, fmt: struct.Struct, byte_offset: int, default: int = 0) -> int:
        """The integer of format ``fmt`` at ``byte_offset``, XORed with ``default``."""
        if byte_offset + fmt.size <= self._dsize:
            value: int = fmt.unpack_from(self._seg, self._data + byte_offset)[0]
            return value ^ default if default else value
        return default

    def get_float(
        self, ifmt: struct.Struct, ffmt: struct.Struct, byte_offset: int, default_bits: int = 0
    ) -> float:
        """The float at ``byte_offset``; ``default_bits`` is the default's bit pattern."""
        if byte_offset + ffmt.size <= self._dsize:
            if not default_bits:
                value: float = ffmt.unpack_from(self._seg, self._data + byte_offset)[0]
                return value
            bits = ifmt.unpack_from(self._seg, self._data + byte_offset)[0] ^ default_bits
            return _bits_to_float(ifmt, ffmt, bits)
        return _bits_to_float(ifmt, ffmt, default_bits) if default_bits else 0.0

    def is_null(self, index: int) -> bool:
        """Whether pointer ``index`` is null (pointers past the section are null)."""
        if index < self._pcount:
            lo, hi = _unpack_halves(self._seg, self._ptrs + index * 8)
            return not (lo or hi)
        return True

    def get_pointer(self, index: int) -> AnyPointerReader:
        """Pointer ``index`` as an AnyPointer."""
        if index < self._pcount:
            return AnyPointerReader(self.message, self._seg, self._ptrs + index * 8, self._nest)
        return AnyPointerReader(self.message, _NULL_WORD, 0, self._nest)

    def get_struct(self, index: int, default: StructReader | None = None) -> StructReader:
        """The struct at pointer ``index``; null reads as ``default`` or an empty struct."""
        if index < self._pcount:
            off = self._ptrs + index * 8
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_struct(self.message, self._seg, off, lo, hi, self._nest)
        if default is not None:
            return default
        return StructReader(self.message, _EMPTY, 0, 0, 0, 0, self._nest)

    def get_list(
        self, index: int, element_size: ElementSize, default: ListReader | None = None
    ) -> ListReader:
        """The list at pointer ``index``, read as the schema's ``element_size`` expects."""
        if index < self._pcount:
            off = self._ptrs + index * 8
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_list(self.message, self._seg, off, lo, hi, self._nest, element_size)
        if default is not None:
            return default
        return _empty_list(self.message, element_size, self._nest)

    def get_text(self, index: int, default: str = "") -> str:
        """The Text at pointer ``index``."""
        if index < self._pcount:
            off = self._ptrs + index * 8
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_text(self.message, self._seg, off, lo, hi)
        return default

    def get_data(self, index: int, default: bytes = b"") -> bytes:
        """The Data at pointer ``index``."""
        if index < self._pcount:
            off = self._ptrs + index * 8
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_data(self.message, self._seg, off, lo, hi)
        return default

    def get_capability(self, index: int) -> object | None:
        """The cap table entry that pointer ``index`` refers to; null reads as None."""
        if index < self._pcount:
            lo, hi = _unpack_halves(self._seg, self._ptrs + index * 8)
            if lo or hi:
                return _read_cap(self.message, lo, hi)
        return None

    def total_size_words(self) -> int:
        """Words reachable from this struct, itself included (C++'s ``totalSize``)."""
        return _total_size(self.message, ((self._dsize + 7) >> 3) + self._pcount, [self])

    def __repr__(self) -> str:
        return f"<StructReader data={self._dsize}B pointers={self._pcount}>"


class ListReader:
    """A list inside a message; elements are read as the caller's schema says."""

    __slots__ = (
        "_count",
        "_dbytes",
        "_nest",
        "_pcount",
        "_seg",
        "_start",
        "_step",
        "_stepb",
        "element_size",
        "message",
    )

    def __init__(
        self,
        message: MessageReader,
        seg: Buffer,
        start: int,
        count: int,
        step_bits: int,
        dbytes: int,
        pcount: int,
        element_size: ElementSize,
        nest: int,
    ) -> None:
        self.message = message
        self.element_size = element_size
        self._seg = seg
        self._start = start
        self._count = count
        self._step = step_bits
        self._stepb = step_bits >> 3
        self._dbytes = dbytes
        self._pcount = pcount
        self._nest = nest

    def __len__(self) -> int:
        return self._count

    def _index(self, i: int) -> int:
        n = self._count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"list index {i} out of range for a list of {n}")
        return i

    def get_bool(self, i: int) -> bool:
        """Element ``i`` as a bool."""
        bit = self._index(i) * self._step
        return bool((self._seg[self._start + (bit >> 3)] >> (bit & 7)) & 1)

    def get_int(self, fmt: struct.Struct, i: int) -> int:
        """Element ``i`` as an integer of format ``fmt``."""
        value: int = fmt.unpack_from(self._seg, self._start + self._index(i) * self._stepb)[0]
        return value

    def get_float(self, ifmt: struct.Struct, ffmt: struct.Struct, i: int) -> float:
        """Element ``i`` as a float of format ``ffmt``."""
        value: float = ffmt.unpack_from(self._seg, self._start + self._index(i) * self._stepb)[0]
        return value

    def get_struct(self, i: int) -> StructReader:
        """Element ``i`` as a struct."""
        data = self._start + self._index(i) * self._stepb
        if self._nest <= 0:
            raise _nesting_error(self.message)
        return StructReader(
            self.message,
            self._seg,
            data,
            self._dbytes,
            data + self._dbytes,
            self._pcount,
            self._nest - 1,
        )

    def _pointer(self, i: int) -> int:
        # Offset of element i's first pointer, or -1 when elements have no pointer.
        i = self._index(i)
        if not self._pcount:
            return -1
        return self._start + i * self._stepb + self._dbytes

    def get_pointer(self, i: int) -> AnyPointerReader:
        """Element ``i`` (its first pointer) as an AnyPointer."""
        off = self._pointer(i)
        if off < 0:
            return AnyPointerReader(self.message, _NULL_WORD, 0, self._nest)
        return AnyPointerReader(self.message, self._seg, off, self._nest)

    def get_text(self, i: int) -> str:
        """Element ``i`` as Text."""
        off = self._pointer(i)
        if off >= 0:
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_text(self.message, self._seg, off, lo, hi)
        return ""

    def get_data(self, i: int) -> bytes:
        """Element ``i`` as Data."""
        off = self._pointer(i)
        if off >= 0:
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_data(self.message, self._seg, off, lo, hi)
        return b""

    def get_list(self, i: int, element_size: ElementSize) -> ListReader:
        """Element ``i`` as a list of ``element_size`` elements."""
        off = self._pointer(i)
        if off >= 0:
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_list(self.message, self._seg, off, lo, hi, self._nest, element_size)
        return _empty_list(self.message, element_size, self._nest)

    def get_capability(self, i: int) -> object | None:
        """Element ``i`` as a capability (a cap table entry), or None if null."""
        off = self._pointer(i)
        if off >= 0:
            lo, hi = _unpack_halves(self._seg, off)
            if lo or hi:
                return _read_cap(self.message, lo, hi)
        return None

    def total_size_words(self) -> int:
        """Words reachable from this list, itself included."""
        if self.element_size == _INLINE_COMPOSITE:
            own = 1 + self._count * (self._stepb >> 3)
        else:
            own = (self._count * self._step + 63) >> 6
        if not self._pcount:
            return _total_size(self.message, own, [])
        return _total_size(self.message, own, [self.get_struct(i) for i in range(self._count)])

    def __repr__(self) -> str:
        return f"<ListReader {self.element_size.name} x{self._count}>"


class AnyPointerReader:
    """A pointer of a type the schema leaves open (``AnyPointer``), or any pointer slot."""

    __slots__ = ("_nest", "_off", "_seg", "message")

    def __init__(self, message: MessageReader, seg: Buffer, off: int, nest: int) -> None:
        self.message = message
        self._seg = seg
        self._off = off
        self._nest = nest

    def _halves(self) -> tuple[int, int]:
        lo, hi = _unpack_halves(self._seg, self._off)
        return lo, hi

    def is_null(self) -> bool:
        """Whether the pointer is null."""
        lo, hi = self._halves()
        return not (lo or hi)

    def kind(self) -> str:
        """``"null"``, ``"struct"``, ``"list"``, ``"capability"`` or ``"other"``."""
        lo, hi = self._halves()
        if not (lo or hi):
            return "null"
        if lo & 3 == FAR:
            lo = _follow_far(self.message, lo, hi)[2]
            if lo & 3 == FAR:
                raise DecodeError("far pointer landing pad is itself a far pointer")
        kind = lo & 3
        if kind == OTHER:
            return "capability" if lo == OTHER else "other"
        return _KIND_NAMES[kind]

    def as_struct(self) -> StructReader:
        """The pointed-to struct; null reads as an empty struct."""
        lo, hi = self._halves()
        if lo or hi:
            return _read_struct(self.message, self._seg, self._off, lo, hi, self._nest)
        return StructReader(self.message, _EMPTY, 0, 0, 0, 0, self._nest)

    def as_list(self, element_size: ElementSize | None = None) -> ListReader:
        """The pointed-to list, checked against ``element_size`` (None: as it is encoded)."""
        lo, hi = self._halves()
        if lo or hi:
            return _read_list(self.message, self._seg, self._off, lo, hi, self._nest, element_size)
        return _empty_list(self.message, element_size or ElementSize.VOID, self._nest)

    def as_text(self) -> str:
        """The pointed-to Text; null reads as ``""``."""
        lo, hi = self._halves()
        if lo or hi:
            return _read_text(self.message, self._seg, self._off, lo, hi)
        return ""

    def as_data(self) -> bytes:
        """The pointed-to Data; null reads as ``b""``."""
        lo, hi = self._halves()
        if lo or hi:
            return _read_data(self.message, self._seg, self._off, lo, hi)
        return b""

    def as_capability(self) -> object | None:
        """The cap table entry the pointer refers to; null reads as None."""
        lo, hi = self._halves()
        if lo or hi:
            return _read_cap(self.message, lo, hi)
        return None

    def total_size_words(self) -> int:
        """Words reachable from this pointer (the pointer itself not included)."""
        kind = self.kind()
        if kind == "struct" or kind == "list":
            saved = self.message._budget
            try:
                obj = self.as_struct() if kind == "struct" else self.as_list()
            finally:
                self.message._budget = saved
            return obj.total_size_words()
        return 0

    def __repr__(self) -> str:
        return f"<AnyPointerReader {self.kind()}>"


# -- pointer following -------------------------------------------------------------------------


def _bits_to_float(ifmt: struct.Struct, ffmt: struct.Struct, bits: int) -> float:
    value: float = ffmt.unpack(ifmt.pack(bits))[0]
    return value


def _traversal_error(message: MessageReader, words: int) -> DecodeError:
    return DecodeError(
        f"traversal limit exceeded: reading {words} more words with {message._budget} left of "
        f"{message.limits.traversal_limit_words} (ReadLimits.traversal_limit_words)"
    )


def _nesting_error(message: MessageReader) -> DecodeError:
    return DecodeError(
        f"nesting limit exceeded: pointers nested deeper than {message.limits.nesting_limit} "
        "levels, or a cycle (ReadLimits.nesting_limit)"
    )


def _charge(message: MessageReader, words: int) -> None:
    left = message._budget - words
    if left < 0:
        raise _traversal_error(message, words)
    message._budget = left


def _kind_name(lo: int) -> str:
    kind = lo & 3
    if kind == OTHER:
        return "capability pointer" if lo == OTHER else "unknown 'other' pointer"
    return _KIND_NAMES[kind] + " pointer"


def _follow_far(message: MessageReader, lo: int, hi: int) -> tuple[Buffer, int, int, int]:
    """Resolve a far pointer to ``(segment, target byte offset, lo, hi)`` of the real pointer."""
    segments = message.segments
    if hi >= len(segments):
        raise DecodeError(f"far pointer to unknown segment {hi} (message has {len(segments)})")
    pad_seg = segments[hi]
    pad = ((lo & 0xFFFFFFFF) >> 3) * 8
    double = lo & 4
    pad_words = 2 if double else 1
    if pad + pad_words * 8 > len(pad_seg):
        raise DecodeError(
            f"far pointer landing pad out of bounds: word {pad >> 3} of segment {hi}, "
            f"which has {len(pad_seg) >> 3} words"
        )
    _charge(message, pad_words)
    plo, phi = _unpack_halves(pad_seg, pad)
    if not double:
        if plo & 3 == FAR:
            raise DecodeError("far pointer landing pad is itself a far pointer")
        return pad_seg, pad + 8 + (plo >> 2) * 8, plo, phi
    if plo & 3 != FAR:
        raise DecodeError("double-far landing pad does not start with a far pointer")
    if phi >= len(segments):
        raise DecodeError(
            f"double-far landing pad points to unknown segment {phi} (message has {len(segments)})"
        )
    tlo, thi = _unpack_halves(pad_seg, pad + 8)
    if tlo & 3 == FAR:
        raise DecodeError("double-far landing pad tag is a far pointer")
    return segments[phi], ((plo & 0xFFFFFFFF) >> 3) * 8, tlo, thi


def _out_of_bounds(what: str, target: int, words: int, seg: Buffer) -> DecodeError:
    return DecodeError(
        f"{what} pointer out of bounds: {words} words at word {target >> 3} "
        f"of a {len(seg) >> 3}-word segment"
    )


def _read_struct(
    message: MessageReader, seg: Buffer, off: int, lo: int, hi: int, nest: int
) -> StructReader:
    if nest <= 0:
        raise _nesting_error(message)
    if lo & 3 == FAR:
        seg, target, lo, hi = _follow_far(message, lo, hi)
    else:
        target = off + 8 + (lo >> 2) * 8
    if lo & 3 != STRUCT:
        raise DecodeError(f"expected a struct pointer, found a {_kind_name(lo)}")
    dwords = hi & 0xFFFF
    pcount = hi >> 16
    words = dwords + pcount
    if target < 0 or target + words * 8 > len(seg):
        raise _out_of_bounds("struct", target, words, seg)
    left = message._budget - words
    if left < 0:
        raise _traversal_error(message, words)
    message._budget = left
    dsize = dwords * 8
    return StructReader(message, seg, target, dsize, target + dsize, pcount, nest - 1)


def _read_list(
    message: MessageReader,
    seg: Buffer,
    off: int,
    lo: int,
    hi: int,
    nest: int,
    expected: ElementSize | None,
) -> ListReader:
    if nest <= 0:
        raise _nesting_error(message)
    if lo & 3 == FAR:
        seg, target, lo, hi = _follow_far(message, lo, hi)
    else:
        target = off + 8 + (lo >> 2) * 8
    if lo & 3 != LIST:
        raise DecodeError(f"expected a list pointer, found a {_kind_name(lo)}")
    size = hi & 7
    count = hi >> 3
    if size == 7:
        if target < 0 or target + (count + 1) * 8 > len(seg):
            raise _out_of_bounds("struct list", target, count + 1, seg)
        _charge(message, count + 1)
        tlo, thi = _unpack_halves(seg, target)
        if tlo & 3 != STRUCT:
            raise DecodeError(f"struct list tag is a {_kind_name(tlo)}, not a struct pointer")
        n = (tlo & 0xFFFFFFFF) >> 2
        dwords = thi & 0xFFFF
        pcount = thi >> 16
        per = dwords + pcount
        if n * per > count:
            raise DecodeError(
                f"struct list elements overrun the list: {n} x {per} words in {count} words"
            )
        if per == 0:
            _charge(message, n)
        if expected is not None:
            if expected == _BIT:
                raise DecodeError("found a struct list where a bit list was expected")
            if 2 <= expected <= 5 and dwords == 0:
                raise DecodeError("expected a primitive list, found a list of structs without data")
            if expected == ElementSize.POINTER and pcount == 0:
                raise DecodeError(
                    "expected a pointer list, found a list of structs without pointers"
                )
        return ListReader(
            message, seg, target + 8, n, per * 64, dwords * 8, pcount, _INLINE_COMPOSITE, nest - 1
        )
    dbits = BITS_PER_ELEMENT[size]
    pcount = POINTERS_PER_ELEMENT[size]
    step = dbits + 64 * pcount
    words = (count * step + 63) >> 6
    if target < 0 or target + words * 8 > len(seg):
        raise _out_of_bounds("list", target, words, seg)
    _charge(message, words)
    if size == 0:
        _charge(message, count)
    if expected is not None:
        if size == _BIT and expected != _BIT:
            raise DecodeError(f"found a bit list where a {_list_name(expected)} was expected")
        if BITS_PER_ELEMENT[expected] > dbits or POINTERS_PER_ELEMENT[expected] > pcount:
            raise DecodeError(
                f"found a {_list_name(size)} where a {_list_name(expected)} was expected"
            )
    return ListReader(
        message, seg, target, count, step, dbits >> 3, pcount, ElementSize(size), nest - 1
    )


def _list_name(size: int) -> str:
    return (
        "void list",
        "bit list",
        "byte list",
        "2-byte list",
        "4-byte list",
        "8-byte list",
        "pointer list",
        "struct list",
    )[size]


def _empty_list(message: MessageReader, element_size: ElementSize, nest: int) -> ListReader:
    return ListReader(message, _EMPTY, 0, 0, 0, 0, 0, element_size, nest)


def _check_blob(
    message: MessageReader, seg: Buffer, target: int, lo: int, hi: int, what: str
) -> None:
    if lo & 3 != LIST:
        raise DecodeError(f"expected {what}, found a {_kind_name(lo)}")
    if hi & 7 != 2:
        raise DecodeError(f"expected {what}, found a {_list_name(hi & 7)}")
    words = ((hi >> 3) + 7) >> 3
    if target < 0 or target + words * 8 > len(seg):
        raise _out_of_bounds(what, target, words, seg)
    left = message._budget - words
    if left < 0:
        raise _traversal_error(message, words)
    message._budget = left


def _read_text(message: MessageReader, seg: Buffer, off: int, lo: int, hi: int) -> str:
    if lo & 3 == FAR:
        seg, target, lo, hi = _follow_far(message, lo, hi)
    else:
        target = off + 8 + (lo >> 2) * 8
    _check_blob(message, seg, target, lo, hi, "text")
    end = target + (hi >> 3) - 1
    if end < target or seg[end]:
        raise DecodeError("text is not NUL-terminated")
    try:
        return str(seg[target:end], "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"text is not valid UTF-8: {exc.reason} at byte {exc.start}") from None


def _read_data(message: MessageReader, seg: Buffer, off: int, lo: int, hi: int) -> bytes:
    if lo & 3 == FAR:
        seg, target, lo, hi = _follow_far(message, lo, hi)
    else:
        target = off + 8 + (lo >> 2) * 8
    _check_blob(message, seg, target, lo, hi, "data")
    return bytes(seg[target : target + (hi >> 3)])


def _read_cap(message: MessageReader, lo: int, hi: int) -> object | None:
    if lo != OTHER:
        raise DecodeError(f"expected a capability pointer, found a {_kind_name(lo)}")
    caps = message.caps
    if hi >= len(caps):
        raise DecodeError(
            f"capability index {hi} out of range: the cap table has {len(caps)} entries"
        )
    return caps[hi]


# -- size accounting ---------------------------------------------------------------------------


def _total_size(message: MessageReader, own: int, structs: list[StructReader]) -> int:
    """Sum ``own`` and the words reachable from ``structs``' pointers.

    The walk is bounded by the traversal budget and the nesting limit like any read, but it
    gives the budget back afterwards, as C++ does: the caller is about to read (or copy) the
    same objects and should not pay twice.
    """
    saved = message._budget
    try:
        total = own
        stack: list[StructReader] = list(structs)
        while stack:
            s = stack.pop()
            for i in range(s._pcount):
                ptr = AnyPointerReader(message, s._seg, s._ptrs + i * 8, s._nest)
                kind = ptr.kind()
                if kind == "struct":
                    child = ptr.as_struct()
                    total += (child._dsize >> 3) + child._pcount
                    stack.append(child)
                elif kind == "list":
                    lst = ptr.as_list()
                    total += _list_own_words(lst)
                    if lst._pcount:
                        stack.extend(lst.get_struct(j) for j in range(lst._count))
        return total
    finally:
        message._budget = saved


def _list_own_words(lst: ListReader) -> int:
    if lst.element_size == _INLINE_COMPOSITE:
        return 1 + lst._count * (lst._stepb >> 3)
    return (lst._count * lst._step + 63) >> 6
