"""Cap'n Proto packed encoding: a word-wise run-length scheme for zero bytes.

Each 8-byte word becomes a tag byte whose bit ``i`` says byte ``i`` is non-zero, followed by the
non-zero bytes. Two tags carry a run count byte after them: ``0x00`` (the count of further
all-zero words, which are omitted) and ``0xff`` (the count of further words copied verbatim
after the first one's eight bytes). Both counts stop at 255 words.

:func:`pack` chooses runs the way the C++ reference does, so packing the same bytes gives the
same output as ``capnp::writePackedMessage``. Note that the reference packs the segment table
and every segment as separate pieces, so runs never cross a segment boundary there: for a
multi-segment message pycapnp's ``to_bytes_packed()`` equals ``pack`` applied to each piece and
concatenated, while ``pack(to_bytes())`` may merge runs across a boundary. Both unpack to the
same bytes.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from capnrpc_core.errors import DecodeError, LocalUsageError

__all__ = ["pack", "unpack"]

# Word-at-a-time without a per-byte Python loop: translating the whole input once turns every
# non-zero byte into 0x01, so the eight flag bytes of a word are a dict key for its tag.
_FLAGS_TABLE = bytes([0]) + bytes([1]) * 255
_TAG_OF_FLAGS: dict[bytes, int] = {
    bytes((tag >> bit) & 1 for bit in range(8)): tag for tag in range(256)
}
_NONZERO_BYTE = re.compile(b"[^\x00]")
_MAX_RUN_WORDS = 255

# Unpacking a tag scatters its bytes with a struct whose pad bytes ("x") are the zero bytes.
_EXPAND: list[Callable[..., bytes]] = [
    struct.Struct("<" + "".join("B" if (tag >> bit) & 1 else "x" for bit in range(8))).pack
    for tag in range(256)
]
_POPCOUNT = [tag.bit_count() for tag in range(256)]


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, memoryview) and (data.ndim != 1 or data.itemsize != 1):
        return data.tobytes()
    return bytes(data)


def pack(data: bytes | bytearray | memoryview) -> bytes:
    """Pack whole words of unpacked message bytes; raises LocalUsageError unless len % 8 == 0."""
    raw = _as_bytes(data)
    size = len(raw)
    if size % 8:
        raise LocalUsageError(f"cannot pack {size} bytes: the length must be a multiple of 8")
    flags = raw.translate(_FLAGS_TABLE)
    tag_of = _TAG_OF_FLAGS
    out = bytearray()
    pos = 0
    while pos < size:
        end = pos + 8
        tag = tag_of[flags[pos:end]]
        if tag == 0:
            limit = min(size, end + _MAX_RUN_WORDS * 8)
            found = _NONZERO_BYTE.search(raw, end, limit)
            run = ((limit if found is None else found.start()) - end) >> 3
            out += b"\x00" + bytes((run,))
            pos = end + (run << 3)
        elif tag == 0xFF:
            # Like the reference, extend the verbatim run over words with at most one zero
            # byte: a word with two zeros is where tagging starts to save space.
            limit = min(size, end + _MAX_RUN_WORDS * 8)
            stop = end
            while stop < limit and flags.count(0, stop, stop + 8) < 2:
                stop += 8
            out.append(0xFF)
            out += raw[pos:end]
            out.append((stop - end) >> 3)
            out += raw[end:stop]
            pos = stop
        else:
            out.append(tag)
            out += raw[pos:end].replace(b"\x00", b"")
            pos = end
    return bytes(out)


def unpack(data: bytes | bytearray | memoryview, *, max_bytes: int | None = None) -> bytes:
    """Unpack packed bytes; raises DecodeError if malformed, truncated or over ``max_bytes``.

    A packed input can expand about a thousandfold (two bytes stand for 256 zero words), so a
    reader of untrusted input should pass ``max_bytes``.
    """
    raw = _as_bytes(data)
    size = len(raw)
    expand = _EXPAND
    popcount = _POPCOUNT
    out = bytearray()
    limit = -1 if max_bytes is None else max_bytes
    pos = 0
    while pos < size:
        tag = raw[pos]
        pos += 1
        if tag == 0:
            if pos >= size:
                raise DecodeError(
                    f"packed input truncated: zero tag at offset {pos - 1} has no run count byte"
                )
            out += bytes((raw[pos] + 1) << 3)
            pos += 1
        elif tag == 0xFF:
            end = pos + 9
            if end > size:
                raise DecodeError(
                    f"packed input truncated: 0xff tag at offset {pos - 1} needs 9 bytes, "
                    f"{size - pos} remain"
                )
            run_end = end + (raw[end - 1] << 3)
            if run_end > size:
                raise DecodeError(
                    f"packed input truncated: 0xff tag at offset {pos - 1} announces "
                    f"{raw[end - 1]} verbatim words ({run_end - end} bytes), "
                    f"{size - end} remain"
                )
            out += raw[pos : end - 1]
            out += raw[end:run_end]
            pos = run_end
        else:
            end = pos + popcount[tag]
            if end > size:
                raise DecodeError(
                    f"packed input truncated: tag 0x{tag:02x} at offset {pos - 1} needs "
                    f"{end - pos} bytes, {size - pos} remain"
                )
            out += expand[tag](*raw[pos:end])
            pos = end
        if 0 <= limit < len(out):
            raise DecodeError(
                f"packed input expands beyond {limit} bytes (max_bytes) at input offset {pos}"
            )
    return bytes(out)
