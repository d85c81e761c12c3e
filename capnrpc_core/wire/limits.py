"""Read limits that protect a reader from hostile messages (C++'s defaults)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ReadLimits"]


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Limits applied while framing and reading one message.

    ``traversal_limit_words`` bounds the total words a reader may visit, counting a region
    again each time a pointer to it is followed, so that a small message pointing many times at
    one large list cannot amplify into unbounded work. ``nesting_limit`` bounds pointer depth.
    ``max_segments`` and ``max_frame_bytes`` bound the stream framing.
    """

    traversal_limit_words: int = 8 * 1024 * 1024
    nesting_limit: int = 64
    max_segments: int = 512
    max_frame_bytes: int = 64 * 1024 * 1024


DEFAULT_LIMITS = ReadLimits()
