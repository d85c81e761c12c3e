"""Cap'n Proto stream framing: the segment table that precedes each message on a byte stream.

A frame is ``segment count - 1`` (u32 little-endian), each segment's size in words (u32 LE),
four zero bytes of padding when the table would otherwise end off an 8-byte boundary, and then
the segments back to back.

Limits follow the C++ reader (``InputStreamMessageReader``): a frame of 512 or more segments is
refused, and so is one whose segments hold more words than the traversal limit, because a
receiver could never read such a message and must not be made to buffer it. On top of that,
``max_frame_bytes`` bounds the whole frame. Every check runs as soon as the table reveals the
numbers involved, before any of the body is buffered.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.wire.limits import DEFAULT_LIMITS, ReadLimits

__all__ = ["FrameDecoder", "decode_frame", "encode_frame", "frame_size"]

_U32 = struct.Struct("<I")
_FIRST_WORD = struct.Struct("<II")
_MAX_U32 = 0xFFFF_FFFF
# The smallest frame header is one word: the count and the first segment's size.
_MIN_HEADER = 8


def encode_frame(segments: Sequence[bytes | bytearray | memoryview]) -> bytes:
    """Serialise segments as one stream frame (segment table followed by the segments)."""
    count = len(segments)
    if count == 1 and type(segments[0]) is bytes:
        # Nearly every message the RPC layer frames this way (a Finish, a Release) is one
        # segment of bytes: its table is one word, with no padding and nothing to cast.
        only = segments[0]
        nbytes = len(only)
        if not nbytes & 7 and nbytes >> 3 <= _MAX_U32:
            return _FIRST_WORD.pack(0, nbytes >> 3) + only
    if count == 0:
        raise LocalUsageError("cannot frame a message with no segments")
    if count > _MAX_U32:
        raise LocalUsageError(f"cannot frame {count} segments: the count must fit in 32 bits")
    sizes = []
    for index, segment in enumerate(segments):
        nbytes = memoryview(segment).nbytes
        if nbytes % 8:
            raise LocalUsageError(
                f"segment {index} is {nbytes} bytes, not a whole number of 8-byte words"
            )
        if nbytes >> 3 > _MAX_U32:
            raise LocalUsageError(
                f"segment {index} is {nbytes >> 3} words; a frame allows at most {_MAX_U32}"
            )
        sizes.append(nbytes >> 3)
    # An odd number of u32 table entries (count + sizes) takes four bytes of padding.
    padding = 1 - count % 2
    table = struct.pack(f"<{count + 1 + padding}I", count - 1, *sizes, *([0] * padding))
    return b"".join([table, *segments])


def _header_size(count: int) -> int:
    return ((count + 2) >> 1) << 3


def _check_count(count: int, limits: ReadLimits) -> None:
    if count >= limits.max_segments:
        raise DecodeError(
            f"frame has {count} segments; at most {limits.max_segments - 1} are accepted "
            f"(max_segments={limits.max_segments})"
        )
    header = _header_size(count)
    if header > limits.max_frame_bytes:
        raise DecodeError(
            f"frame segment table alone is {header} bytes, above max_frame_bytes="
            f"{limits.max_frame_bytes}"
        )


def _check_words(words: int, header: int, limits: ReadLimits, complete: bool) -> None:
    qualifier = "" if complete else "at least "
    if words > limits.traversal_limit_words:
        raise DecodeError(
            f"frame holds {qualifier}{words} words of segments, above the traversal limit of "
            f"{limits.traversal_limit_words} words (traversal_limit_words)"
        )
    total = header + (words << 3)
    if total > limits.max_frame_bytes:
        raise DecodeError(
            f"frame is {qualifier}{total} bytes, above max_frame_bytes={limits.max_frame_bytes}"
        )


def _probe(view: memoryview, start: int, limits: ReadLimits) -> int:
    """Frame size at ``start`` if its table is complete, else minus the bytes needed to learn more.

    Every limit that the available part of the table can already violate is checked here.
    """
    available = len(view) - start
    if available < _MIN_HEADER:
        return -_MIN_HEADER
    first: int
    count_minus_one, first = _FIRST_WORD.unpack_from(view, start)
    count = count_minus_one + 1
    _check_count(count, limits)
    if count == 1:
        _check_words(first, _MIN_HEADER, limits, True)
        return _MIN_HEADER + (first << 3)
    header = _header_size(count)
    if available < header:
        present = (available - 4) >> 2
        _check_words(
            sum(struct.unpack_from(f"<{present}I", view, start + 4)), header, limits, False
        )
        return -header
    sizes = struct.unpack_from(f"<{count}I", view, start + 4)
    words: int = sum(sizes)
    _check_words(words, header, limits, True)
    return header + (words << 3)


def _one_segment(data: bytes | memoryview, start: int, max_words: int) -> int:
    """Size of the one-segment frame of at most ``max_words`` words complete at ``start``, or 0.

    The common frame, taken without _probe's limit checks one by one: ``max_words`` folds them
    (FrameDecoder._max_single_words).
    """
    if len(data) - start < _MIN_HEADER:
        return 0
    words: int
    count_minus_one, words = _FIRST_WORD.unpack_from(data, start)
    size = _MIN_HEADER + (words << 3)
    if count_minus_one or words > max_words or start + size > len(data):
        return 0
    return size


def _split(view: memoryview, start: int) -> list[memoryview]:
    """Segments of the frame at ``start``, whose table _probe has already accepted."""
    count = _U32.unpack_from(view, start)[0] + 1
    offset = start + _header_size(count)
    if count == 1:
        return [view[offset : offset + (_U32.unpack_from(view, start + 4)[0] << 3)]]
    segments = []
    for size in struct.unpack_from(f"<{count}I", view, start + 4):
        end = offset + (size << 3)
        segments.append(view[offset:end])
        offset = end
    return segments


def _readonly_view(data: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = memoryview(view.tobytes())
    return view.toreadonly()


def frame_size(
    data: bytes | bytearray | memoryview, limits: ReadLimits = DEFAULT_LIMITS
) -> int | None:
    """Bytes of the first frame in ``data`` once its table is complete, else None.

    Raises DecodeError as soon as the part of the table present breaks a limit.
    """
    size = _probe(_readonly_view(data), 0, limits)
    return size if size >= 0 else None


def decode_frame(
    data: bytes | bytearray | memoryview, limits: ReadLimits = DEFAULT_LIMITS
) -> list[memoryview]:
    """Split exactly one whole frame into read-only views of its segments (no copy)."""
    view = _readonly_view(data)
    size = _probe(view, 0, limits)
    if size < 0:
        raise DecodeError(
            f"frame truncated: {len(view)} bytes do not hold the segment table "
            f"(at least {-size} bytes needed)"
        )
    if size != len(view):
        if size > len(view):
            raise DecodeError(f"frame truncated: the table announces {size} bytes, got {len(view)}")
        raise DecodeError(f"{len(view) - size} trailing bytes after a frame of {size} bytes")
    return _split(view, 0)


class FrameDecoder:
    """Incremental frame decoder: feed arbitrary chunks of a stream, get whole messages back.

    Segments are read-only views into immutable bytes that the decoder never changes, so a
    message stays valid after later feeds. ``bytes`` chunks are referenced without copying;
    other buffers are copied once, so a caller may reuse its receive buffer. A partial frame is
    held as a list of pieces and joined only when the table or the whole frame is complete,
    which keeps the cost linear in the bytes fed however they are chunked.
    """

    __slots__ = (
        "_closed",
        "_failure",
        "_limits",
        "_max_single_words",
        "_need",
        "_pending",
        "_pending_size",
    )

    def __init__(self, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        # The words a one-segment frame may hold within every limit _probe checks (-1: none).
        self._max_single_words = (
            min(limits.traversal_limit_words, (limits.max_frame_bytes - _MIN_HEADER) >> 3)
            if limits.max_segments > 1
            else -1
        )
        self._pending: list[bytes | memoryview] = []
        self._pending_size = 0
        # Bytes the pending frame must reach before it is worth looking at again.
        self._need = _MIN_HEADER
        self._closed = False
        self._failure: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame."""
        return self._pending_size

    def feed(self, data: bytes | bytearray | memoryview) -> list[list[memoryview]]:
        """Take the next chunk of the stream; return the segments of every frame it completes.

        Raises DecodeError on a malformed or over-limit frame; the stream cannot be resumed
        after that, so every later call raises too.
        """
        if self._closed:
            raise LocalUsageError("FrameDecoder.feed() called after close()")
        if self._failure is not None:
            raise DecodeError(f"stream already failed to decode: {self._failure}")
        chunk = data if isinstance(data, bytes) else _readonly_view(data).tobytes()
        if not self._pending_size:
            # The common case: the chunk is exactly one whole one-segment frame within limits.
            size = _one_segment(chunk, 0, self._max_single_words)
            if size and size == len(chunk):
                return [[memoryview(chunk)[_MIN_HEADER:]]]
        try:
            return self._feed(chunk)
        except DecodeError as error:
            self._failure = error
            self._pending = []
            self._pending_size = 0
            raise

    def _feed(self, chunk: bytes) -> list[list[memoryview]]:
        messages: list[list[memoryview]] = []
        limits = self._limits
        view = memoryview(chunk)
        end = len(view)
        pos = 0
        while self._pending_size and pos < end:
            take = min(end - pos, self._need - self._pending_size)
            self._pending.append(view[pos : pos + take])
            self._pending_size += take
            pos += take
            if self._pending_size < self._need:
                return messages
            joined = memoryview(b"".join(self._pending))
            size = _probe(joined, 0, limits)
            if size == self._pending_size:
                messages.append(_split(joined, 0))
                self._pending = []
                self._pending_size = 0
                self._need = _MIN_HEADER
            else:
                self._pending = [joined]
                self._need = abs(size)
        single = self._max_single_words
        while pos < end:
            size = _one_segment(view, pos, single)
            if size:
                messages.append([view[pos + _MIN_HEADER : pos + size]])
                pos += size
                continue
            size = _probe(view, pos, limits)
            if size < 0 or pos + size > end:
                self._pending = [view[pos:]]
                self._pending_size = end - pos
                self._need = abs(size)
                break
            messages.append(_split(view, pos))
            pos += size
        return messages

    def close(self) -> None:
        """Signal end of stream; raises DecodeError if it ended inside a frame."""
        self._closed = True
        if self._pending_size:
            raise DecodeError(
                f"stream ended inside a frame: {self._pending_size} bytes buffered, "
                f"frame needs at least {self._need}"
            )
