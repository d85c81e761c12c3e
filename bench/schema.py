"""Typed struct speed, capnrpc vs pycapnp: build + serialise, and parse + read every field.

Run from the repository root: ``python bench/schema.py`` (pycapnp needed for the comparison).
Prints microseconds per operation and the ratio ours / pycapnp (below 1: we are faster).
"""

from __future__ import annotations

import os
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import capnp  # noqa: E402

import capnrpc_core.schema as schema  # noqa: E402

ALLTYPES = ROOT / "tests" / "schemas" / "alltypes.capnp"

SMALL = {"num": 7, "name": "seven", "color": "blue"}
MEDIUM = {
    "boolField": True,
    "int8Field": -8,
    "int16Field": -16,
    "int32Field": -32,
    "int64Field": -64,
    "uint8Field": 8,
    "uint16Field": 16,
    "uint32Field": 32,
    "uint64Field": 64,
    "float32Field": 1.5,
    "float64Field": 2.5,
    "textField": "some text",
    "dataField": b"some data",
    "structField": SMALL,
    "enumField": "green",
    "int32List": [1, 2, 3, 4, 5, 6, 7, 8],
    "textList": ["a", "bb", "ccc"],
    "structList": [SMALL, SMALL, SMALL],
    "textU": "union member",
    "group1": {"a": 1, "b": "bee", "inner": {"c": True, "d": 0.25}},
}


def read_all(value: Any) -> int:
    """Touch every field (and list element) of a reader, recursively; returns a count."""
    n = 0
    for name in value.schema.fieldnames:
        try:
            field = getattr(value, name)
        except Exception:  # an unset union member
            continue
        n += 1
        if hasattr(field, "schema"):
            n += read_all(field)
        elif hasattr(field, "__len__") and not isinstance(field, str | bytes):
            for item in field:
                n += read_all(item) if hasattr(item, "schema") else 1
    return n


def bench(fn: Callable[[], object], number: int) -> float:
    """Best-of-five microseconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    site = os.path.dirname(os.path.dirname(capnp.__file__))
    theirs = capnp.load(str(ALLTYPES), imports=[site])
    ours = schema.load(ALLTYPES)
    rows = []
    for label, struct_name, fields, number in (
        ("small ", "Inner", SMALL, 5000),
        ("medium", "AllTypes", MEDIUM, 1000),
    ):
        o, t = getattr(ours, struct_name), getattr(theirs, struct_name)

        def build_ours(o: Any = o, fields: dict[str, Any] = fields) -> bytes:
            return bytes(o.new_message(**fields).to_bytes())

        def build_theirs(t: Any = t, fields: dict[str, Any] = fields) -> bytes:
            return bytes(t.new_message(**fields).to_bytes())

        data = build_theirs()
        assert build_ours() == data

        def read_ours(o: Any = o, data: bytes = data) -> int:
            return read_all(o.from_bytes(data))

        def read_theirs(t: Any = t, data: bytes = data) -> int:
            with t.from_bytes(data) as r:
                return read_all(r)

        assert read_ours() == read_theirs()
        rows.append(
            (
                f"{label} new_message+to_bytes",
                bench(build_ours, number),
                bench(build_theirs, number),
            )
        )
        rows.append(
            (f"{label} from_bytes+read all  ", bench(read_ours, number), bench(read_theirs, number))
        )
    print(f"{'operation':34} {'ours µs':>10} {'pycapnp µs':>11} {'ratio':>7}")
    for name, mine, other in rows:
        print(f"{name:34} {mine:10.2f} {other:11.2f} {mine / other:7.2f}")


if __name__ == "__main__":
    main()
