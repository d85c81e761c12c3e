"""Deterministic id allocation for the four tables (see Note [ids])."""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

__all__ = ["IdTable"]

T = TypeVar("T")

# Note [ids]
# ~~~~~~~~~~
# Question, export and embargo ids are chosen by us and reused once freed, smallest first, as
# the C++ reference does. Reuse keeps ids small (they index tables on both sides) and the
# choice is a pure function of the history, so traces replay byte for byte. Answer and import
# ids are chosen by the peer; they live in plain dicts keyed by the peer's id.


class IdTable(Generic[T]):
    """A table of entries under small integer ids that we allocate."""

    __slots__ = ("_entries", "_free", "_next")

    def __init__(self) -> None:
        self._entries: dict[int, T] = {}
        self._free: list[int] = []
        self._next = 0

    def add(self, entry: T) -> int:
        """Store ``entry`` under a fresh id and return the id."""
        if self._free:
            new_id = heapq.heappop(self._free)
        else:
            new_id = self._next
            self._next += 1
        self._entries[new_id] = entry
        return new_id

    def get(self, id_: int) -> T | None:
        """The entry under ``id_``, or None."""
        return self._entries.get(id_)

    def remove(self, id_: int) -> T:
        """Remove and return the entry under ``id_`` (KeyError if absent), freeing the id."""
        entry = self._entries.pop(id_)
        heapq.heappush(self._free, id_)
        return entry

    def __contains__(self, id_: object) -> bool:
        return id_ in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def size(self) -> int:
        """The number of entries (``len`` without the special-method dispatch)."""
        return len(self._entries)

    def items(self) -> list[tuple[int, T]]:
        """A snapshot of (id, entry) pairs in insertion order."""
        return list(self._entries.items())
