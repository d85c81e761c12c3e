"""Wire layer speed against pycapnp, measured in the same process.

For a small struct (5 scalar fields and a text) and for a message shaped like an RPC Call with a
3-entry cap table: the time per message to build and serialize, and to parse and read every
field, with capnrpc's wire layer and with pycapnp, and the ratio ours/pycapnp (lower is better).
Run: python bench/wire.py
"""

from __future__ import annotations

import os
import struct
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import capnp

from capnrpc_core.rpc.codec import decode_message, encode_message
from capnrpc_core.rpc.messages import (
    Call,
    CapDescriptor,
    CapKind,
    MessageTarget,
    Payload,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import decode_frame, encode_frame
from capnrpc_core.wire.reader import MessageReader

HERE = Path(__file__).resolve().parent
_PKG = os.path.dirname(capnp.__file__)
bench_capnp = capnp.load(str(HERE / "bench.capnp"))
rpc_capnp = capnp.load(os.path.join(_PKG, "rpc.capnp"), imports=[os.path.dirname(_PKG)])

U16, U32, I64, F64 = (struct.Struct(f) for f in ("<H", "<I", "<q", "<d"))
I64U = struct.Struct("<Q")


def ours_small_build() -> bytes:
    b = MessageBuilder(first_segment_words=8)
    s = b.init_root(3, 1)
    s.set_int(U32, 0, 123456)
    s.set_int(I64, 8, -987654321)
    s.set_float(I64U, F64, 16, 2.5)
    s.set_bool(32, True)
    s.set_int(U16, 6, 999)
    s.set_text(0, "a small struct")
    return encode_frame(b.segments())


def pycapnp_small_build() -> bytes:
    m = bench_capnp.Small.new_message()
    m.a = 123456
    m.b = -987654321
    m.c = 2.5
    m.d = True
    m.e = 999
    m.name = "a small struct"
    return m.to_bytes()


SMALL = pycapnp_small_build()
assert ours_small_build() == SMALL  # same bytes: the comparison is like for like


def ours_small_read() -> tuple[object, ...]:
    s = MessageReader(decode_frame(SMALL)).get_root_struct()
    return (
        s.get_int(U32, 0),
        s.get_int(I64, 8),
        s.get_float(I64U, F64, 16),
        s.get_bool(32),
        s.get_int(U16, 6),
        s.get_text(0),
    )


def pycapnp_small_read() -> tuple[object, ...]:
    with bench_capnp.Small.from_bytes(SMALL) as m:
        return (m.a, m.b, m.c, m.d, m.e, m.name)


def _content() -> object:
    b = MessageBuilder(first_segment_words=8)
    s = b.init_root(3, 1)  # a bench.capnp Small
    s.set_int(I64, 8, 42)
    s.set_text(0, "params")
    return s.as_reader()


CONTENT = _content()
TABLE = tuple(CapDescriptor(CapKind.SENDER_HOSTED, i) for i in range(3))


def ours_call_build() -> bytes:
    return encode_message(
        Call(7, MessageTarget(import_id=2), 0x9A8B7C6D5E4F3021, 3, Payload(CONTENT, TABLE))
    )


def pycapnp_call_build() -> bytes:
    m = rpc_capnp.Message.new_message()
    c = m.init("call")
    c.questionId = 7
    c.target.importedCap = 2
    c.interfaceId = 0x9A8B7C6D5E4F3021
    c.methodId = 3
    p = c.params
    content = p.content.as_struct(bench_capnp.Small)
    content.b = 42
    content.name = "params"
    table = p.init("capTable", 3)
    for i in range(3):
        table[i].senderHosted = i
    return m.to_bytes()


CALL = ours_call_build()


def ours_call_read() -> tuple[object, ...]:
    m = decode_message(MessageReader(decode_frame(CALL)))
    assert isinstance(m, Call)
    content = m.params.content.as_struct()  # type: ignore[attr-defined]
    return (
        m.question_id,
        m.target.import_id,
        m.interface_id,
        m.method_id,
        content.get_int(I64, 8),
        content.get_text(0),
        tuple(d.id for d in m.params.cap_table),
    )


def pycapnp_call_read() -> tuple[object, ...]:
    with rpc_capnp.Message.from_bytes(CALL) as m:
        c = m.call
        content = c.params.content.as_struct(bench_capnp.Small)
        return (
            c.questionId,
            c.target.importedCap,
            c.interfaceId,
            c.methodId,
            content.b,
            content.name,
            tuple(d.senderHosted for d in c.params.capTable),
        )


assert ours_call_read() == pycapnp_call_read()  # both read the same values


def per_call_us(fn: object, number: int) -> float:
    timer = timeit.Timer(fn)  # type: ignore[arg-type]
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rows = [
        ("small struct: build+serialize", ours_small_build, pycapnp_small_build),
        ("small struct: parse+read all", ours_small_read, pycapnp_small_read),
        ("rpc Call, 3 caps: build+serialize", ours_call_build, pycapnp_call_build),
        ("rpc Call, 3 caps: parse+read all", ours_call_read, pycapnp_call_read),
    ]
    worst = 0.0
    print(f"{'workload':38s} {'ours us':>9s} {'pycapnp us':>11s} {'ratio':>7s}")
    for name, ours, theirs in rows:
        a = per_call_us(ours, number)
        b = per_call_us(theirs, number)
        worst = max(worst, a / b)
        print(f"{name:38s} {a:9.2f} {b:11.2f} {a / b:7.2f}")
    print(f"max_ratio_vs_pycapnp {worst:.2f}")


if __name__ == "__main__":
    main()
