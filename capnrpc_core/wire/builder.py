"""Untyped builders that lay out a Cap'n Proto message the way C++'s ``MallocMessageBuilder`` does.

Objects are placed in allocation order, so for a message built in the same order as a C++ (or
pycapnp) program builds it, :meth:`MessageBuilder.segments` returns the same bytes. That includes
the details that are invisible to readers: text carries its NUL, struct lists always have a tag
word, an empty struct is encoded with offset -1, a zero-sized list points at the current end of
the segment, and an object whose pointer is overwritten is zeroed in place (its space is not
reused).

Note [builder segments]
~~~~~~~~~~~~~~~~~~~~~~~
With ``max_segment_words=None`` the message is one ``bytearray`` that doubles when full, so no
far pointer is ever written. With a maximum, segments have a fixed capacity and an object that
does not fit in the segment of its pointer goes to the newest segment (or a new one) behind a
landing pad: the pointer becomes a far pointer to the pad, and the pad a normal pointer to the
object right after it. Moving a pointer to another segment (when a struct is enlarged by
:meth:`StructBuilder.get_struct`) needs a landing pad in the target's segment; if that segment is
full, the pad goes elsewhere and is a double-far pad (a far pointer to the object and a tag).

Capabilities are appended to :attr:`MessageBuilder.caps`; a capability pointer holds the index.
When a capability pointer is overwritten or cleared its table entry becomes ``None`` (indexes of
the others must not move), as C++'s ``dropCap`` does; a ``None`` entry is sent as "no cap".
"""

from __future__ import annotations

import struct
from typing import TypeAlias

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits
from capnrpc_core.wire.pointers import (
    BITS_PER_ELEMENT,
    FAR,
    LIST,
    MAX_LIST_ELEMENTS,
    OTHER,
    POINTERS_PER_ELEMENT,
    STRUCT,
    ElementSize,
)
from capnrpc_core.wire.reader import (
    AnyPointerReader,
    ListReader,
    MessageReader,
    StructReader,
)

__all__ = ["ListBuilder", "MessageBuilder", "PointerBuilder", "StructBuilder"]

Source: TypeAlias = (
    "StructReader | ListReader | AnyPointerReader | StructBuilder | ListBuilder | PointerBuilder"
)

_PAIR = struct.Struct("<II")
_pack_pair = _PAIR.pack_into
_unpack_pair = _PAIR.unpack_from
_HALVES = struct.Struct("<iI")
_unpack_halves = _HALVES.unpack_from
_U64 = struct.Struct("<Q")
_unpack_word = _U64.unpack_from

_INLINE_COMPOSITE = ElementSize.INLINE_COMPOSITE
_POINTER = ElementSize.POINTER
_EMPTY_STRUCT_LO = 0xFFFFFFFC  # struct pointer, offset -1: C++'s encoding of a zero-sized struct
# Data written by this builder is trusted: its own reader view needs no limits.
_TRUSTED = ReadLimits(traversal_limit_words=1 << 62, nesting_limit=1 << 30)
_TRUSTED_NEST = 1 << 30


class MessageBuilder:
    """A message under construction: segments, allocation state and the capability table."""

    __slots__ = ("_live", "_max", "_segs", "_used", "caps", "keep_cap_indexes")

    def __init__(
        self,
        first_segment_words: int = 1024,
        max_segment_words: int | None = None,
        *,
        keep_cap_indexes: bool = False,
    ) -> None:
        if max_segment_words is not None:
            if max_segment_words < 2:
                raise LocalUsageError("max_segment_words must be at least 2")
            first_segment_words = min(first_segment_words, max_segment_words)
        first_segment_words = max(first_segment_words, 1)
        self._segs: list[bytearray] = [bytearray(first_segment_words * 8)]
        self._used: list[int] = [1]  # word 0 of segment 0 is the root pointer
        self._max = max_segment_words
        self._live: MessageReader | None = None
        self.caps: list[object] = []
        # When copying from another message, write capability pointers with their source
        # index instead of appending to ``caps``: the RPC layer sends the source's cap table
        # beside the copied content, so the indexes must keep meaning the same entries.
        self.keep_cap_indexes = keep_cap_indexes

    # -- public API ----------------------------------------------------------------------------

    def init_root(self, data_words: int, pointer_count: int) -> StructBuilder:
        """Make the root a new struct of the given size."""
        return _init_struct(self, 0, 0, data_words, pointer_count)

    @classmethod
    def new_root(
        cls, data_words: int, pointer_count: int, first_segment_words: int = 1024
    ) -> StructBuilder:
        """``MessageBuilder(first_segment_words).init_root(data_words, pointer_count)``.

        The same message, made in about half the time when the root fits the first segment:
        every call and answer of the typed layer begins with one.
        """
        words = data_words + pointer_count
        if (
            not 0 <= words < first_segment_words
            or not 0 <= data_words <= 0xFFFF
            or not 0 <= pointer_count <= 0xFFFF
        ):
            return cls(first_segment_words).init_root(data_words, pointer_count)
        # What __init__ sets, without its argument checks (a test keeps the two alike).
        msg = cls.__new__(cls)
        seg = bytearray(first_segment_words * 8)
        msg._segs = [seg]
        msg._used = [1 + words]
        msg._max = None
        msg._live = None
        msg.caps = []
        msg.keep_cap_indexes = False
        if not words:
            # An empty struct (the params of a method without any) takes no words: its
            # pointer says so, as init_root writes it.
            _pack_pair(seg, 0, _EMPTY_STRUCT_LO, 0)
            return StructBuilder(msg, 0, seg, 0, 0, 0, 0)
        _pack_pair(seg, 0, 0, data_words | pointer_count << 16)  # the root struct right after
        dsize = data_words * 8
        return StructBuilder(msg, 0, seg, 8, dsize, 8 + dsize, pointer_count)

    def root(self) -> PointerBuilder:
        """The root pointer slot."""
        return PointerBuilder(self, 0, 0)

    def set_root(self, src: Source) -> None:
        """Make the root a deep copy of ``src`` (from any message; caps are carried over)."""
        _set_from(self, 0, 0, src)

    def get_root_struct(self, data_words: int = 0, pointer_count: int = 0) -> StructBuilder:
        """The root struct, created (or enlarged) to at least the given size."""
        return _get_struct(self, 0, 0, data_words, pointer_count)

    def add_cap(self, cap: object) -> int:
        """Append ``cap`` to the capability table and return its index."""
        self.caps.append(cap)
        return len(self.caps) - 1

    def segments(self) -> list[bytes]:
        """The segments, each trimmed to the words in use."""
        segs = self._segs
        if len(segs) == 1:
            return [bytes(segs[0][: self._used[0] * 8])]
        return [bytes(seg[: used * 8]) for seg, used in zip(segs, self._used, strict=True)]

    def to_reader(self, limits: ReadLimits = DEFAULT_LIMITS) -> MessageReader:
        """A reader over a snapshot of this message (with a copy of the cap table)."""
        return MessageReader(self.segments(), list(self.caps), limits)

    def size_in_words(self) -> int:
        """Words in use over all segments."""
        return sum(self._used)

    def __repr__(self) -> str:
        return f"<MessageBuilder segments={self._used} caps={len(self.caps)}>"

    # -- allocation ----------------------------------------------------------------------------

    def _live_reader(self) -> MessageReader:
        # A reader over the live segments: it sees later writes and new segments.
        live = self._live
        if live is None:
            # Our own segments hold whole words: the reader need not check them.
            live = MessageReader._from_decoder(self._segs, _TRUSTED)  # type: ignore[arg-type]
            live.caps = self.caps
            live.live_used = self._used
            self._live = live
        return live

    def _alloc_in(self, sid: int, words: int) -> int:
        """Allocate ``words`` at the end of segment ``sid``; byte offset, or -1 if it is full."""
        used = self._used[sid]
        seg = self._segs[sid]
        end = (used + words) * 8
        if end > len(seg):
            if self._max is not None:
                return -1
            # Double (amortised growth), or to exactly what is needed when that is more: a big
            # blob then costs its own size, not the next power of two, which would take the
            # buffer past the C allocator's mmap threshold and cost page faults on every call.
            size = max(2 * len(seg), end, 8)
            seg.extend(bytes(size - len(seg)))
        self._used[sid] = used + words
        return used * 8

    def _alloc_anywhere(self, words: int) -> tuple[int, int]:
        """Allocate in the newest segment, or in a new one; ``(segment id, byte offset)``."""
        sid = len(self._segs) - 1
        off = self._alloc_in(sid, words)
        if off >= 0:
            return sid, off
        assert self._max is not None
        self._segs.append(bytearray(max(self._max, words) * 8))
        self._used.append(words)
        return sid + 1, 0

    def _alloc_object(self, sid: int, ref: int, words: int) -> tuple[int, int, bytearray, int]:
        """Allocate an object for the pointer at ``(sid, ref)``.

        Returns ``(object segment, object offset, pointer segment, pointer offset)``: where the
        object lives and where its typed pointer must be written (``ref`` itself, or a landing
        pad right before the object, with ``ref`` already made a far pointer to it).
        """
        used = self._used[sid]
        seg = self._segs[sid]
        end = (used + words) * 8
        if end <= len(seg):
            self._used[sid] = used + words
            return sid, used * 8, seg, ref
        off = self._alloc_in(sid, words)
        if off >= 0:
            return sid, off, seg, ref
        tsid, pad = self._alloc_anywhere(words + 1)
        _pack_pair(seg, ref, FAR | pad, tsid)  # pad is a byte offset: word << 3
        tseg = self._segs[tsid]
        return tsid, pad + 8, tseg, pad

    # -- zeroing overwritten objects -------------------------------------------------------------

    def _zero_object(self, sid: int, ref: int) -> None:
        """Zero what the pointer at ``(sid, ref)`` points to (not the pointer itself)."""
        seg = self._segs[sid]
        lo, hi = _unpack_halves(seg, ref)
        kind = lo & 3
        if kind in (STRUCT, LIST):
            self._zero_target(sid, ref + 8 + (lo >> 2) * 8, lo, hi)
        elif kind == FAR:
            pseg = self._segs[hi]
            pad = ((lo & 0xFFFFFFFF) >> 3) * 8
            if lo & 4:
                plo, phi = _unpack_pair(pseg, pad)
                tlo, thi = _unpack_halves(pseg, pad + 8)
                self._zero_target(phi, (plo >> 3) * 8, tlo, thi)
                pseg[pad : pad + 16] = bytes(16)
            else:
                self._zero_object(hi, pad)
                pseg[pad : pad + 8] = bytes(8)
        elif lo == OTHER and hi < len(self.caps):
            self.caps[hi] = None

    def _zero_target(self, sid: int, off: int, lo: int, hi: int) -> None:
        seg = self._segs[sid]
        if lo & 3 == STRUCT:
            dwords = hi & 0xFFFF
            pcount = hi >> 16
            ptrs = off + dwords * 8
            for i in range(pcount):
                if _unpack_word(seg, ptrs + i * 8)[0]:
                    self._zero_object(sid, ptrs + i * 8)
            seg[off : off + (dwords + pcount) * 8] = bytes((dwords + pcount) * 8)
            return
        size = hi & 7
        count = hi >> 3
        if size == _POINTER:
            for i in range(count):
                if _unpack_word(seg, off + i * 8)[0]:
                    self._zero_object(sid, off + i * 8)
            seg[off : off + count * 8] = bytes(count * 8)
        elif size == _INLINE_COMPOSITE:
            tlo, thi = _unpack_pair(seg, off)
            n = tlo >> 2
            dwords = thi & 0xFFFF
            pcount = thi >> 16
            if pcount:
                pos = off + 8
                for _ in range(n):
                    pos += dwords * 8
                    for _ in range(pcount):
                        if _unpack_word(seg, pos)[0]:
                            self._zero_object(sid, pos)
                        pos += 8
            nbytes = (1 + n * (dwords + pcount)) * 8
            seg[off : off + nbytes] = bytes(nbytes)
        elif size:
            nbytes = ((count * BITS_PER_ELEMENT[size] + 63) >> 6) * 8
            seg[off : off + nbytes] = bytes(nbytes)

    def _resolve(self, sid: int, ref: int) -> tuple[int, int, int, int]:
        """Follow the pointer at ``(sid, ref)``: ``(segment, target offset, lo, hi)``."""
        lo, hi = _unpack_halves(self._segs[sid], ref)
        if lo & 3 != FAR:
            return sid, ref + 8 + (lo >> 2) * 8, lo, hi
        pseg = self._segs[hi]
        pad = ((lo & 0xFFFFFFFF) >> 3) * 8
        if lo & 4:
            plo, phi = _unpack_pair(pseg, pad)
            tlo, thi = _unpack_halves(pseg, pad + 8)
            return phi, (plo >> 3) * 8, tlo, thi
        plo, phi = _unpack_halves(pseg, pad)
        return hi, pad + 8 + (plo >> 2) * 8, plo, phi

    def _transfer(self, dsid: int, dref: int, ssid: int, sref: int) -> None:
        """Make the (null) pointer at ``(dsid, dref)`` point where ``(ssid, sref)`` points."""
        lo, hi = _unpack_pair(self._segs[ssid], sref)
        dseg = self._segs[dsid]
        if not (lo or hi):
            return
        kind = lo & 3
        if kind in (FAR, OTHER):
            _pack_pair(dseg, dref, lo, hi)  # position-independent
            return
        if kind == STRUCT and (hi & 0xFFFF) + (hi >> 16) == 0:
            _pack_pair(dseg, dref, _EMPTY_STRUCT_LO, hi)
            return
        tsid, toff, lo, hi = self._resolve(ssid, sref)
        self._point(dsid, dref, tsid, toff, lo & 3, hi)

    def _point(self, dsid: int, dref: int, tsid: int, toff: int, kind: int, hi: int) -> None:
        """Write a pointer at ``(dsid, dref)`` to an existing object, via far pointers if needed."""
        dseg = self._segs[dsid]
        if dsid == tsid:
            _pack_pair(dseg, dref, (((toff - dref - 8) >> 1) & 0xFFFFFFFF) | kind, hi)
            return
        pad = self._alloc_in(tsid, 1)
        if pad >= 0:
            tseg = self._segs[tsid]
            _pack_pair(tseg, pad, (((toff - pad - 8) >> 1) & 0xFFFFFFFF) | kind, hi)
            _pack_pair(dseg, dref, FAR | pad, tsid)
            return
        # No room for a landing pad next to the object: a double-far pad elsewhere.
        psid, pad = self._alloc_anywhere(2)
        pseg = self._segs[psid]
        _pack_pair(pseg, pad, FAR | toff, tsid)
        _pack_pair(pseg, pad + 8, kind, hi)
        _pack_pair(dseg, dref, FAR | 4 | pad, psid)


class StructBuilder:
    """A struct being built: typed access by byte/bit offset and pointer index."""

    __slots__ = ("_data", "_dsize", "_pcount", "_ptrs", "_seg", "_sid", "message")

    def __init__(
        self,
        message: MessageBuilder,
        sid: int,
        seg: bytearray,
        data: int,
        dsize: int,
        ptrs: int,
        pcount: int,
    ) -> None:
        self.message = message
        self._sid = sid
        self._seg = seg
        self._data = data
        self._dsize = dsize
        self._ptrs = ptrs
        self._pcount = pcount

    @property
    def data_size_bytes(self) -> int:
        """Size of the data section in bytes."""
        return self._dsize

    @property
    def pointer_count(self) -> int:
        """Number of pointers in the pointer section."""
        return self._pcount

    # -- data section ----------------------------------------------------------------------------

    def set_bool(self, bit_offset: int, value: bool, default: bool = False) -> None:
        """Store a bool at ``bit_offset`` (XORed with ``default``)."""
        byte = bit_offset >> 3
        if not 0 <= byte < self._dsize:
            raise _data_range(bit_offset // 8, 1, self._dsize)
        pos = self._data + byte
        if bool(value) != default:
            self._seg[pos] |= 1 << (bit_offset & 7)
        else:
            self._seg[pos] &= ~(1 << (bit_offset & 7)) & 0xFF

    def get_bool(self, bit_offset: int, default: bool = False) -> bool:
        """The bool at ``bit_offset``."""
        byte = bit_offset >> 3
        if byte < self._dsize:
            return bool((self._seg[self._data + byte] >> (bit_offset & 7)) & 1) != default
        return default

    def set_int(self, fmt: struct.Struct, byte_offset: int, value: int, default: int = 0) -> None:
        """Store an integer of format ``fmt`` at ``byte_offset`` (XORed with ``default``)."""
        if not 0 <= byte_offset <= self._dsize - fmt.size:
            raise _data_range(byte_offset, fmt.size, self._dsize)
        try:
            fmt.pack_into(
                self._seg, self._data + byte_offset, value ^ default if default else value
            )
        except struct.error as exc:
            raise LocalUsageError(f"cannot store {value!r} as {fmt.format}: {exc}") from None

    def get_int(self, fmt: struct.Struct, byte_offset: int, default: int = 0) -> int:
        """The integer of format ``fmt`` at ``byte_offset``."""
        if byte_offset + fmt.size <= self._dsize:
            value: int = fmt.unpack_from(self._seg, self._data + byte_offset)[0]
            return value ^ default if default else value
        return default

    def set_float(
        self,
        ifmt: struct.Struct,
        ffmt: struct.Struct,
        byte_offset: int,
        value: float,
        default_bits: int = 0,
    ) -> None:
        """Store a float at ``byte_offset`` (its bit pattern XORed with ``default_bits``)."""
        if not 0 <= byte_offset <= self._dsize - ffmt.size:
            raise _data_range(byte_offset, ffmt.size, self._dsize)
        try:
            if default_bits:
                bits = ifmt.unpack(ffmt.pack(value))[0] ^ default_bits
                ifmt.pack_into(self._seg, self._data + byte_offset, bits)
            else:
                ffmt.pack_into(self._seg, self._data + byte_offset, value)
        except (struct.error, OverflowError) as exc:
            raise LocalUsageError(f"cannot store {value!r} as {ffmt.format}: {exc}") from None

    def get_float(
        self, ifmt: struct.Struct, ffmt: struct.Struct, byte_offset: int, default_bits: int = 0
    ) -> float:
        """The float at ``byte_offset``."""
        return self.as_reader().get_float(ifmt, ffmt, byte_offset, default_bits)

    # -- pointer section -------------------------------------------------------------------------

    def _ref(self, index: int) -> int:
        if not 0 <= index < self._pcount:
            raise IndexError(f"pointer index {index} out of range for {self._pcount} pointers")
        return self._ptrs + index * 8

    def init_struct(self, index: int, data_words: int, pointer_count: int) -> StructBuilder:
        """Point pointer ``index`` at a new struct of the given size."""
        if not 0 <= index < self._pcount:
            raise IndexError(f"pointer index {index} out of range for {self._pcount} pointers")
        return _init_struct(
            self.message, self._sid, self._ptrs + index * 8, data_words, pointer_count
        )

    def get_struct(self, index: int, data_words: int, pointer_count: int) -> StructBuilder:
        """The struct at pointer ``index``: created if null, enlarged (copied) if smaller."""
        return _get_struct(self.message, self._sid, self._ref(index), data_words, pointer_count)

    def init_list(self, index: int, element_size: ElementSize, count: int) -> ListBuilder:
        """Point pointer ``index`` at a new list of ``count`` non-struct elements."""
        return _init_list(self.message, self._sid, self._ref(index), element_size, count)

    def init_struct_list(
        self, index: int, count: int, data_words: int, pointer_count: int
    ) -> ListBuilder:
        """Point pointer ``index`` at a new list of ``count`` structs (with a tag word)."""
        return _init_struct_list(
            self.message, self._sid, self._ref(index), count, data_words, pointer_count
        )

    def get_list(self, index: int) -> ListBuilder:
        """The existing list at pointer ``index``."""
        return _get_list(self.message, self._sid, self._ref(index))

    def set_text(self, index: int, value: str | None) -> None:
        """Store Text at pointer ``index`` (None clears it)."""
        if not 0 <= index < self._pcount:
            raise IndexError(f"pointer index {index} out of range for {self._pcount} pointers")
        ref = self._ptrs + index * 8
        if value is None:
            _clear(self.message, self._sid, ref)
        else:
            _set_blob(self.message, self._sid, ref, value.encode(), 1)

    def set_data(self, index: int, value: bytes | None) -> None:
        """Store Data at pointer ``index`` (None clears it)."""
        ref = self._ref(index)
        if value is None:
            _clear(self.message, self._sid, ref)
        else:
            _set_blob(self.message, self._sid, ref, bytes(value), 0)

    def get_text(self, index: int) -> str:
        """The Text at pointer ``index``."""
        return self.as_reader().get_text(index)

    def get_data(self, index: int) -> bytes:
        """The Data at pointer ``index``."""
        return self.as_reader().get_data(index)

    def set_capability(self, index: int, cap: object | None) -> None:
        """Add ``cap`` to the cap table and point pointer ``index`` at it (None: null)."""
        _set_cap(self.message, self._sid, self._ref(index), cap)

    def get_capability(self, index: int) -> object | None:
        """The cap table entry pointer ``index`` refers to."""
        return _get_cap(self.message, self._seg, self._ref(index))

    def set_pointer(self, index: int, src: Source) -> None:
        """Make pointer ``index`` a deep copy of ``src`` (any message; caps are carried over)."""
        _set_from(self.message, self._sid, self._ref(index), src)

    def clear_pointer(self, index: int) -> None:
        """Make pointer ``index`` null (zeroing what it pointed to)."""
        _clear(self.message, self._sid, self._ref(index))

    def is_null(self, index: int) -> bool:
        """Whether pointer ``index`` is null."""
        if index < self._pcount:
            return not _unpack_word(self._seg, self._ptrs + index * 8)[0]
        return True

    def get_pointer(self, index: int) -> PointerBuilder:
        """Pointer ``index`` as an AnyPointer slot."""
        return PointerBuilder(self.message, self._sid, self._ref(index))

    def as_reader(self) -> StructReader:
        """A reader over this struct (a live view, not a copy)."""
        return StructReader(
            self.message._live_reader(),
            self._seg,
            self._data,
            self._dsize,
            self._ptrs,
            self._pcount,
            _TRUSTED_NEST,
        )

    def __repr__(self) -> str:
        return f"<StructBuilder data={self._dsize}B pointers={self._pcount}>"


class ListBuilder:
    """A list being built; elements are written as the caller's schema says."""

    __slots__ = (
        "_count",
        "_dbytes",
        "_pcount",
        "_seg",
        "_sid",
        "_start",
        "_step",
        "_stepb",
        "element_size",
        "message",
    )

    def __init__(
        self,
        message: MessageBuilder,
        sid: int,
        seg: bytearray,
        start: int,
        count: int,
        step_bits: int,
        dbytes: int,
        pcount: int,
        element_size: ElementSize,
    ) -> None:
        self.message = message
        self.element_size = element_size
        self._sid = sid
        self._seg = seg
        self._start = start
        self._count = count
        self._step = step_bits
        self._stepb = step_bits >> 3
        self._dbytes = dbytes
        self._pcount = pcount

    def __len__(self) -> int:
        return self._count

    def _index(self, i: int) -> int:
        n = self._count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"list index {i} out of range for a list of {n}")
        return i

    def set_bool(self, i: int, value: bool) -> None:
        """Set element ``i`` of a bit list."""
        bit = self._index(i) * self._step
        pos = self._start + (bit >> 3)
        if value:
            self._seg[pos] |= 1 << (bit & 7)
        else:
            self._seg[pos] &= ~(1 << (bit & 7)) & 0xFF

    def get_bool(self, i: int) -> bool:
        """Element ``i`` as a bool."""
        bit = self._index(i) * self._step
        return bool((self._seg[self._start + (bit >> 3)] >> (bit & 7)) & 1)

    def set_int(self, fmt: struct.Struct, i: int, value: int) -> None:
        """Set element ``i`` to an integer of format ``fmt``."""
        if fmt.size * 8 > self._step:
            raise LocalUsageError(f"{fmt.format} does not fit in a {self.element_size.name} list")
        try:
            fmt.pack_into(self._seg, self._start + self._index(i) * self._stepb, value)
        except struct.error as exc:
            raise LocalUsageError(f"cannot store {value!r} as {fmt.format}: {exc}") from None

    def get_int(self, fmt: struct.Struct, i: int) -> int:
        """Element ``i`` as an integer of format ``fmt``."""
        value: int = fmt.unpack_from(self._seg, self._start + self._index(i) * self._stepb)[0]
        return value

    def set_float(self, ifmt: struct.Struct, ffmt: struct.Struct, i: int, value: float) -> None:
        """Set element ``i`` to a float of format ``ffmt``."""
        if ffmt.size * 8 > self._step:
            raise LocalUsageError(f"{ffmt.format} does not fit in a {self.element_size.name} list")
        try:
            ffmt.pack_into(self._seg, self._start + self._index(i) * self._stepb, value)
        except (struct.error, OverflowError) as exc:
            raise LocalUsageError(f"cannot store {value!r} as {ffmt.format}: {exc}") from None

    def get_float(self, ifmt: struct.Struct, ffmt: struct.Struct, i: int) -> float:
        """Element ``i`` as a float of format ``ffmt``."""
        value: float = ffmt.unpack_from(self._seg, self._start + self._index(i) * self._stepb)[0]
        return value

    def get_struct(self, i: int) -> StructBuilder:
        """Element ``i`` of a struct list."""
        n = self._count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"list index {i} out of range for a list of {n}")
        data = self._start + i * self._stepb
        return StructBuilder(
            self.message,
            self._sid,
            self._seg,
            data,
            self._dbytes,
            data + self._dbytes,
            self._pcount,
        )

    def _ref(self, i: int) -> int:
        i = self._index(i)
        if not self._pcount:
            raise LocalUsageError(f"a {self.element_size.name} list has no pointer elements")
        return self._start + i * self._stepb + self._dbytes

    def set_text(self, i: int, value: str | None) -> None:
        """Set element ``i`` to Text (None: null)."""
        ref = self._ref(i)
        if value is None:
            _clear(self.message, self._sid, ref)
        else:
            _set_blob(self.message, self._sid, ref, value.encode(), 1)

    def get_text(self, i: int) -> str:
        """Element ``i`` as Text."""
        return self.as_reader().get_text(i)

    def set_data(self, i: int, value: bytes | None) -> None:
        """Set element ``i`` to Data (None: null)."""
        ref = self._ref(i)
        if value is None:
            _clear(self.message, self._sid, ref)
        else:
            _set_blob(self.message, self._sid, ref, bytes(value), 0)

    def get_data(self, i: int) -> bytes:
        """Element ``i`` as Data."""
        return self.as_reader().get_data(i)

    def init_list(self, i: int, element_size: ElementSize, count: int) -> ListBuilder:
        """Set element ``i`` to a new list of non-struct elements."""
        return _init_list(self.message, self._sid, self._ref(i), element_size, count)

    def init_struct_list(
        self, i: int, count: int, data_words: int, pointer_count: int
    ) -> ListBuilder:
        """Set element ``i`` to a new struct list."""
        return _init_struct_list(
            self.message, self._sid, self._ref(i), count, data_words, pointer_count
        )

    def get_list(self, i: int) -> ListBuilder:
        """The existing list at element ``i``."""
        return _get_list(self.message, self._sid, self._ref(i))

    def set_capability(self, i: int, cap: object | None) -> None:
        """Set element ``i`` to a capability (None: null)."""
        _set_cap(self.message, self._sid, self._ref(i), cap)

    def get_capability(self, i: int) -> object | None:
        """The cap table entry element ``i`` refers to."""
        return _get_cap(self.message, self._seg, self._ref(i))

    def set_pointer(self, i: int, src: Source) -> None:
        """Set element ``i`` to a deep copy of ``src``."""
        _set_from(self.message, self._sid, self._ref(i), src)

    def get_pointer(self, i: int) -> PointerBuilder:
        """Element ``i`` as an AnyPointer slot."""
        return PointerBuilder(self.message, self._sid, self._ref(i))

    def as_reader(self) -> ListReader:
        """A reader over this list (a live view, not a copy)."""
        return ListReader(
            self.message._live_reader(),
            self._seg,
            self._start,
            self._count,
            self._step,
            self._dbytes,
            self._pcount,
            self.element_size,
            _TRUSTED_NEST,
        )

    def __repr__(self) -> str:
        return f"<ListBuilder {self.element_size.name} x{self._count}>"


class PointerBuilder:
    """A pointer slot whose type is open (an ``AnyPointer`` field, the root, a list element)."""

    __slots__ = ("_ref", "_sid", "message")

    def __init__(self, message: MessageBuilder, sid: int, ref: int) -> None:
        self.message = message
        self._sid = sid
        self._ref = ref

    def is_null(self) -> bool:
        """Whether the slot is null."""
        return not _unpack_word(self.message._segs[self._sid], self._ref)[0]

    def clear(self) -> None:
        """Make the slot null (zeroing what it pointed to)."""
        _clear(self.message, self._sid, self._ref)

    def init_struct(self, data_words: int, pointer_count: int) -> StructBuilder:
        """Point the slot at a new struct."""
        return _init_struct(self.message, self._sid, self._ref, data_words, pointer_count)

    def get_struct(self, data_words: int = 0, pointer_count: int = 0) -> StructBuilder:
        """The struct in the slot: created if null, enlarged if smaller."""
        return _get_struct(self.message, self._sid, self._ref, data_words, pointer_count)

    def init_list(self, element_size: ElementSize, count: int) -> ListBuilder:
        """Point the slot at a new list of non-struct elements."""
        return _init_list(self.message, self._sid, self._ref, element_size, count)

    def init_struct_list(self, count: int, data_words: int, pointer_count: int) -> ListBuilder:
        """Point the slot at a new struct list."""
        return _init_struct_list(
            self.message, self._sid, self._ref, count, data_words, pointer_count
        )

    def get_list(self) -> ListBuilder:
        """The existing list in the slot."""
        return _get_list(self.message, self._sid, self._ref)

    def set_text(self, value: str | None) -> None:
        """Store Text in the slot (None clears it)."""
        if value is None:
            _clear(self.message, self._sid, self._ref)
        else:
            _set_blob(self.message, self._sid, self._ref, value.encode(), 1)

    def set_data(self, value: bytes | None) -> None:
        """Store Data in the slot (None clears it)."""
        if value is None:
            _clear(self.message, self._sid, self._ref)
        else:
            _set_blob(self.message, self._sid, self._ref, bytes(value), 0)

    def set_capability(self, cap: object | None) -> None:
        """Store a capability in the slot (None: null)."""
        _set_cap(self.message, self._sid, self._ref, cap)

    def set_from(self, src: Source) -> None:
        """Make the slot a deep copy of ``src``."""
        _set_from(self.message, self._sid, self._ref, src)

    def as_reader(self) -> AnyPointerReader:
        """A reader over the slot (a live view)."""
        msg = self.message
        return AnyPointerReader(msg._live_reader(), msg._segs[self._sid], self._ref, _TRUSTED_NEST)

    def __repr__(self) -> str:
        return f"<PointerBuilder {self.as_reader().kind()}>"


# -- operations on a pointer slot ----------------------------------------------------------------


def _data_range(offset: int, size: int, dsize: int) -> IndexError:
    return IndexError(f"{size} bytes at byte {offset} are outside a {dsize}-byte data section")


def _clear(msg: MessageBuilder, sid: int, ref: int) -> None:
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
        seg[ref : ref + 8] = bytes(8)


def _check_struct_size(data_words: int, pointer_count: int) -> None:
    if not (0 <= data_words <= 0xFFFF and 0 <= pointer_count <= 0xFFFF):
        raise LocalUsageError(
            f"struct size out of range: {data_words} data words, {pointer_count} pointers"
        )


def _init_struct(
    msg: MessageBuilder, sid: int, ref: int, data_words: int, pointer_count: int
) -> StructBuilder:
    if data_words > 0xFFFF or pointer_count > 0xFFFF or data_words < 0 or pointer_count < 0:
        _check_struct_size(data_words, pointer_count)
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    words = data_words + pointer_count
    if not words:
        _pack_pair(seg, ref, _EMPTY_STRUCT_LO, 0)
        return StructBuilder(msg, sid, seg, ref, 0, ref, 0)
    used = msg._used[sid]
    toff = used * 8
    if toff + words * 8 <= len(seg):  # fast path: room right here
        msg._used[sid] = used + words
        _pack_pair(seg, ref, ((toff - ref - 8) >> 1) & 0xFFFFFFFF, data_words | pointer_count << 16)
        dsize = data_words * 8
        return StructBuilder(msg, sid, seg, toff, dsize, toff + dsize, pointer_count)
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, words)
    _pack_pair(pseg, poff, ((toff - poff - 8) >> 1) & 0xFFFFFFFF, data_words | pointer_count << 16)
    dsize = data_words * 8
    return StructBuilder(msg, tsid, msg._segs[tsid], toff, dsize, toff + dsize, pointer_count)


def _init_list(
    msg: MessageBuilder, sid: int, ref: int, element_size: ElementSize, count: int
) -> ListBuilder:
    if element_size == _INLINE_COMPOSITE:
        raise LocalUsageError("use init_struct_list for a list of structs")
    if not 0 <= count <= MAX_LIST_ELEMENTS:
        raise LocalUsageError(f"list of {count} elements is too long for a list pointer")
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    dbits = BITS_PER_ELEMENT[element_size]
    pcount = POINTERS_PER_ELEMENT[element_size]
    step = dbits + 64 * pcount
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, (count * step + 63) >> 6)
    _pack_pair(
        pseg,
        poff,
        (((toff - poff - 8) >> 1) & 0xFFFFFFFF) | LIST,
        int(element_size) | count << 3,
    )
    return ListBuilder(
        msg, tsid, msg._segs[tsid], toff, count, step, dbits >> 3, pcount, element_size
    )


def _init_struct_list(
    msg: MessageBuilder, sid: int, ref: int, count: int, data_words: int, pointer_count: int
) -> ListBuilder:
    _check_struct_size(data_words, pointer_count)
    per = data_words + pointer_count
    words = count * per
    if count < 0 or words > MAX_LIST_ELEMENTS or count >= 1 << 30:
        raise LocalUsageError(f"struct list of {count} x {per} words is too large")
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, words + 1)
    _pack_pair(
        pseg,
        poff,
        (((toff - poff - 8) >> 1) & 0xFFFFFFFF) | LIST,
        int(_INLINE_COMPOSITE) | words << 3,
    )
    tseg = msg._segs[tsid]
    _pack_pair(tseg, toff, count << 2, data_words | pointer_count << 16)
    return ListBuilder(
        msg, tsid, tseg, toff + 8, count, per * 64, data_words * 8, pointer_count, _INLINE_COMPOSITE
    )


def _set_blob(msg: MessageBuilder, sid: int, ref: int, value: bytes, nul: int) -> None:
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    n = len(value) + nul
    if n > MAX_LIST_ELEMENTS:
        raise LocalUsageError(f"{n} bytes are too many for one Text or Data")
    used = msg._used[sid]
    toff = used * 8
    words = (n + 7) >> 3
    if toff + words * 8 <= len(seg):  # fast path: room right here
        msg._used[sid] = used + words
        _pack_pair(seg, ref, (((toff - ref - 8) >> 1) & 0xFFFFFFFF) | LIST, 2 | n << 3)
        seg[toff : toff + len(value)] = value
        return
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, words)
    _pack_pair(pseg, poff, (((toff - poff - 8) >> 1) & 0xFFFFFFFF) | LIST, 2 | n << 3)
    msg._segs[tsid][toff : toff + len(value)] = value


def _set_cap(msg: MessageBuilder, sid: int, ref: int, cap: object | None) -> None:
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    if cap is None:
        seg[ref : ref + 8] = bytes(8)
    else:
        _pack_pair(seg, ref, OTHER, msg.add_cap(cap))


def _get_cap(msg: MessageBuilder, seg: bytearray, ref: int) -> object | None:
    lo, hi = _unpack_pair(seg, ref)
    if not (lo or hi):
        return None
    if lo != OTHER:
        raise LocalUsageError("the pointer is not a capability")
    cap: object | None = msg.caps[hi]
    return cap


def _get_struct(
    msg: MessageBuilder, sid: int, ref: int, data_words: int, pointer_count: int
) -> StructBuilder:
    seg = msg._segs[sid]
    if not _unpack_word(seg, ref)[0]:
        return _init_struct(msg, sid, ref, data_words, pointer_count)
    osid, ooff, lo, hi = msg._resolve(sid, ref)
    if lo & 3 != STRUCT:
        raise LocalUsageError(f"the pointer holds a {_kind(lo)}, not a struct")
    odw = hi & 0xFFFF
    opc = hi >> 16
    oseg = msg._segs[osid]
    if odw >= data_words and opc >= pointer_count:
        return StructBuilder(msg, osid, oseg, ooff, odw * 8, ooff + odw * 8, opc)
    # Too small for this schema version: move it to a bigger allocation, as C++ does.
    ndw = max(odw, data_words)
    npc = max(opc, pointer_count)
    _check_struct_size(ndw, npc)
    lo0, hi0 = _unpack_pair(seg, ref)
    if lo0 & 3 == FAR:
        pseg = msg._segs[hi0]
        pad = ((lo0 & 0xFFFFFFFF) >> 3) * 8
        pad_bytes = 16 if lo0 & 4 else 8
        pseg[pad : pad + pad_bytes] = bytes(pad_bytes)
    seg[ref : ref + 8] = bytes(8)
    tsid, toff, pseg2, poff = msg._alloc_object(sid, ref, ndw + npc)
    _pack_pair(pseg2, poff, ((toff - poff - 8) >> 1) & 0xFFFFFFFF, ndw | npc << 16)
    tseg = msg._segs[tsid]
    tseg[toff : toff + odw * 8] = oseg[ooff : ooff + odw * 8]
    for i in range(opc):
        msg._transfer(tsid, toff + (ndw + i) * 8, osid, ooff + (odw + i) * 8)
    oseg[ooff : ooff + (odw + opc) * 8] = bytes((odw + opc) * 8)
    return StructBuilder(msg, tsid, tseg, toff, ndw * 8, toff + ndw * 8, npc)


def _get_list(msg: MessageBuilder, sid: int, ref: int) -> ListBuilder:
    if not _unpack_word(msg._segs[sid], ref)[0]:
        raise LocalUsageError("the pointer is null, not a list")
    tsid, toff, lo, hi = msg._resolve(sid, ref)
    if lo & 3 != LIST:
        raise LocalUsageError(f"the pointer holds a {_kind(lo)}, not a list")
    tseg = msg._segs[tsid]
    size = hi & 7
    if size == _INLINE_COMPOSITE:
        tlo, thi = _unpack_pair(tseg, toff)
        dwords = thi & 0xFFFF
        pcount = thi >> 16
        return ListBuilder(
            msg,
            tsid,
            tseg,
            toff + 8,
            tlo >> 2,
            (dwords + pcount) * 64,
            dwords * 8,
            pcount,
            _INLINE_COMPOSITE,
        )
    dbits = BITS_PER_ELEMENT[size]
    pcount = POINTERS_PER_ELEMENT[size]
    return ListBuilder(
        msg, tsid, tseg, toff, hi >> 3, dbits + 64 * pcount, dbits >> 3, pcount, ElementSize(size)
    )


def _kind(lo: int) -> str:
    return ("struct", "list", "far pointer", "capability")[lo & 3]


# -- deep copy -----------------------------------------------------------------------------------


def _set_from(msg: MessageBuilder, sid: int, ref: int, src: Source) -> None:
    """Deep-copy ``src`` into the slot at ``(sid, ref)`` (C++'s ``copyPointer`` order)."""
    if isinstance(src, StructBuilder | ListBuilder | PointerBuilder):
        src = src.as_reader()
    if isinstance(src, StructReader):
        _copy_struct(msg, sid, ref, src)
    elif isinstance(src, ListReader):
        _copy_list(msg, sid, ref, src)
    elif isinstance(src, AnyPointerReader):
        _copy_any(msg, sid, ref, src)
    else:
        raise LocalUsageError(f"cannot copy a {type(src).__name__} into a message")


def _copy_any(msg: MessageBuilder, sid: int, ref: int, src: AnyPointerReader) -> None:
    kind = src.kind()
    if kind == "struct":
        _copy_struct(msg, sid, ref, src.as_struct())
    elif kind == "list":
        _copy_list(msg, sid, ref, src.as_list())
    elif kind == "capability":
        if msg.keep_cap_indexes:
            # Copied verbatim, even past the source's own table: for the RPC layer the index
            # refers to the cap table it sends beside the content, which it checks on receipt.
            seg = msg._segs[sid]
            if _unpack_word(seg, ref)[0]:
                msg._zero_object(sid, ref)
            _pack_pair(seg, ref, OTHER, src._halves()[1])
        else:
            _set_cap(msg, sid, ref, src.as_capability())
    elif kind == "null":
        _clear(msg, sid, ref)
    else:
        raise DecodeError("cannot copy an unknown kind of 'other' pointer")


def _copy_struct(msg: MessageBuilder, sid: int, ref: int, src: StructReader) -> None:
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    dbytes = src._dsize
    dwords = (dbytes + 7) >> 3
    pcount = src._pcount
    if not dwords + pcount:
        _pack_pair(seg, ref, _EMPTY_STRUCT_LO, 0)
        return
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, dwords + pcount)
    _pack_pair(pseg, poff, ((toff - poff - 8) >> 1) & 0xFFFFFFFF, dwords | pcount << 16)
    tseg = msg._segs[tsid]
    tseg[toff : toff + dbytes] = src._seg[src._data : src._data + dbytes]
    ptrs = toff + dwords * 8
    smsg = src.message
    for i in range(pcount):
        _copy_any(
            msg, tsid, ptrs + i * 8, AnyPointerReader(smsg, src._seg, src._ptrs + i * 8, src._nest)
        )


def _copy_list(msg: MessageBuilder, sid: int, ref: int, src: ListReader) -> None:
    seg = msg._segs[sid]
    if _unpack_word(seg, ref)[0]:
        msg._zero_object(sid, ref)
    count = src._count
    size = src.element_size
    smsg = src.message
    if size != _INLINE_COMPOSITE:
        step = src._step
        tsid, toff, pseg, poff = msg._alloc_object(sid, ref, (count * step + 63) >> 6)
        _pack_pair(
            pseg, poff, (((toff - poff - 8) >> 1) & 0xFFFFFFFF) | LIST, int(size) | count << 3
        )
        tseg = msg._segs[tsid]
        if size == _POINTER:
            for i in range(count):
                _copy_any(
                    msg,
                    tsid,
                    toff + i * 8,
                    AnyPointerReader(smsg, src._seg, src._start + i * 8, src._nest),
                )
        else:
            nbits = count * step
            whole = nbits >> 3
            tseg[toff : toff + whole] = src._seg[src._start : src._start + whole]
            if nbits & 7:
                # Copy only the live bits of a partial last byte of a bit list.
                tseg[toff + whole] = src._seg[src._start + whole] & ((1 << (nbits & 7)) - 1)
        return
    dwords = src._dbytes >> 3
    pcount = src._pcount
    sstep = src._stepb
    words = count * (dwords + pcount)
    tsid, toff, pseg, poff = msg._alloc_object(sid, ref, words + 1)
    _pack_pair(pseg, poff, (((toff - poff - 8) >> 1) & 0xFFFFFFFF) | LIST, int(size) | words << 3)
    tseg = msg._segs[tsid]
    _pack_pair(tseg, toff, count << 2, dwords | pcount << 16)
    dst = toff + 8
    for i in range(count):
        sdata = src._start + i * sstep
        tseg[dst : dst + dwords * 8] = src._seg[sdata : sdata + dwords * 8]
        dst += dwords * 8
        sptrs = sdata + src._dbytes
        for j in range(pcount):
            _copy_any(
                msg, tsid, dst, AnyPointerReader(smsg, src._seg, sptrs + j * 8, src._nest - 1)
            )
            dst += 8
