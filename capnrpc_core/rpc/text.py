"""RPC messages in Cap'n Proto text form, as ``capnp decode --short`` prints them.

Traces and the ``capnrpc.wire`` debug log show every frame this way, so what a user reads is
what the reference tools print for the same bytes. The printer walks the frame itself (not the
decoded :mod:`messages` values) because the text form distinguishes what those values do not:
null pointers are left out, and every field of a present struct is shown in ordinal order, as
the reference printer does. Malformed input prints as ``<malformed: reason>``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from capnrpc_core.errors import DecodeError
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import MessageReader, StructReader

__all__ = ["frame_text", "message_text"]

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "'": "\\'",
    '"': '\\"',
    "\\": "\\\\",
}
_EXCEPTION_TYPES = ("failed", "overloaded", "disconnected", "unimplemented")

Printer = Callable[[StructReader], str]


def frame_text(frame: bytes) -> str:
    """The text form of one framed message."""
    try:
        return message_text(MessageReader(decode_frame(frame)))
    except DecodeError as exc:
        return f"<malformed: {exc}>"


def message_text(reader: MessageReader) -> str:
    """The text form of the root ``Message`` of ``reader``."""
    try:
        return _message(reader.get_root_struct())
    except DecodeError as exc:
        return f"<malformed: {exc}>"


def _quote(text: str) -> str:
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _fields(parts: Sequence[str | None]) -> str:
    return "(" + ", ".join(p for p in parts if p is not None) + ")"


def _u32(s: StructReader, off: int, name: str) -> str:
    return f"{name} = {s.get_int(_U32, off)}"


def _bool(s: StructReader, bit: int, name: str, default: bool = False) -> str:
    return f"{name} = {'true' if s.get_bool(bit, default) else 'false'}"


def _struct(s: StructReader, index: int, name: str, printer: Printer) -> str | None:
    if s.is_null(index):
        return None
    return f"{name} = {printer(s.get_struct(index))}"


def _opaque(s: StructReader, index: int, name: str) -> str | None:
    return None if s.is_null(index) else f"{name} = <opaque pointer>"


def _text(s: StructReader, index: int, name: str) -> str | None:
    return None if s.is_null(index) else f"{name} = {_quote(s.get_text(index))}"


def _list(s: StructReader, index: int, name: str, printer: Printer) -> str | None:
    if s.is_null(index):
        return None
    items = s.get_list(index, ElementSize.INLINE_COMPOSITE)
    return f"{name} = [" + ", ".join(printer(items.get_struct(i)) for i in range(len(items))) + "]"


def _message(s: StructReader) -> str:
    which = s.get_int(_U16, 0)
    member = _MESSAGE_MEMBERS.get(which)
    if member is None:
        return "()" if s.is_null(0) else f"(<unknown member {which}>)"
    name, printer = member
    if printer is None:
        return _fields([_opaque(s, 0, name)])
    return _fields([_struct(s, 0, name, printer)])


def _exception(s: StructReader) -> str:
    type_ = s.get_int(_U16, 4)
    type_name = _EXCEPTION_TYPES[type_] if type_ < len(_EXCEPTION_TYPES) else str(type_)
    return _fields(
        [
            _text(s, 0, "reason"),
            _bool(s, 0, "obsoleteIsCallersFault"),
            f"obsoleteDurability = {s.get_int(_U16, 2)}",
            f"type = {type_name}",
            _text(s, 1, "trace"),
        ]
    )


def _bootstrap(s: StructReader) -> str:
    return _fields([_u32(s, 0, "questionId"), _opaque(s, 0, "deprecatedObjectId")])


def _send_results_to(s: StructReader) -> str:
    tag = s.get_int(_U16, 6)
    if tag == 0:
        return "(caller = void)"
    if tag == 1:
        return "(yourself = void)"
    if tag == 2:
        return _fields([_opaque(s, 2, "thirdParty")])
    return f"(<unknown member {tag}>)"


def _call(s: StructReader) -> str:
    return _fields(
        [
            _u32(s, 0, "questionId"),
            _struct(s, 0, "target", _target),
            f"interfaceId = {s.get_int(_U64, 8)}",
            f"methodId = {s.get_int(_U16, 4)}",
            _struct(s, 1, "params", _payload),
            f"sendResultsTo = {_send_results_to(s)}",
            _bool(s, 128, "allowThirdPartyTailCall"),
            _bool(s, 129, "noPromisePipelining"),
            _bool(s, 130, "onlyPromisePipeline"),
        ]
    )


def _return(s: StructReader) -> str:
    tag = s.get_int(_U16, 6)
    member: str | None
    if tag == 0:
        member = _struct(s, 0, "results", _payload)
    elif tag == 1:
        member = _struct(s, 0, "exception", _exception)
    elif tag == 2:
        member = "canceled = void"
    elif tag == 3:
        member = "resultsSentElsewhere = void"
    elif tag == 4:
        member = _u32(s, 8, "takeFromOtherQuestion")
    elif tag == 5:
        member = _opaque(s, 0, "acceptFromThirdParty")
    else:
        member = f"<unknown member {tag}>"
    return _fields(
        [
            _u32(s, 0, "answerId"),
            _bool(s, 32, "releaseParamCaps", True),
            member,
            _bool(s, 33, "noFinishNeeded"),
        ]
    )


def _finish(s: StructReader) -> str:
    return _fields(
        [
            _u32(s, 0, "questionId"),
            _bool(s, 32, "releaseResultCaps", True),
            _bool(s, 33, "requireEarlyCancellationWorkaround", True),
        ]
    )


def _resolve(s: StructReader) -> str:
    tag = s.get_int(_U16, 4)
    if tag == 0:
        member = _struct(s, 0, "cap", _cap_descriptor)
    elif tag == 1:
        member = _struct(s, 0, "exception", _exception)
    else:
        member = f"<unknown member {tag}>"
    return _fields([_u32(s, 0, "promiseId"), member])


def _release(s: StructReader) -> str:
    return _fields([_u32(s, 0, "id"), f"referenceCount = {s.get_int(_U32, 4)}"])


def _disembargo(s: StructReader) -> str:
    tag = s.get_int(_U16, 4)
    if tag == 0:
        context = f"(senderLoopback = {s.get_int(_U32, 0)})"
    elif tag == 1:
        context = f"(receiverLoopback = {s.get_int(_U32, 0)})"
    elif tag == 2:
        context = "(accept = void)"
    elif tag == 3:
        context = f"(provide = {s.get_int(_U32, 0)})"
    else:
        context = f"(<unknown member {tag}>)"
    return _fields([_struct(s, 0, "target", _target), f"context = {context}"])


def _provide(s: StructReader) -> str:
    return _fields(
        [_u32(s, 0, "questionId"), _struct(s, 0, "target", _target), _opaque(s, 1, "recipient")]
    )


def _accept(s: StructReader) -> str:
    return _fields([_u32(s, 0, "questionId"), _opaque(s, 0, "provision"), _bool(s, 32, "embargo")])


def _join(s: StructReader) -> str:
    return _fields(
        [_u32(s, 0, "questionId"), _struct(s, 0, "target", _target), _opaque(s, 1, "keyPart")]
    )


def _target(s: StructReader) -> str:
    tag = s.get_int(_U16, 4)
    if tag == 0:
        return f"(importedCap = {s.get_int(_U32, 0)})"
    if tag == 1:
        return _fields([_struct(s, 0, "promisedAnswer", _promised_answer)])
    return f"(<unknown member {tag}>)"


def _payload(s: StructReader) -> str:
    return _fields([_opaque(s, 0, "content"), _list(s, 1, "capTable", _cap_descriptor)])


def _cap_descriptor(s: StructReader) -> str:
    tag = s.get_int(_U16, 0)
    names = ("none", "senderHosted", "senderPromise", "receiverHosted")
    member: str | None
    if tag == 0:
        member = "none = void"
    elif tag < 4:
        member = f"{names[tag]} = {s.get_int(_U32, 4)}"
    elif tag == 4:
        member = _struct(s, 0, "receiverAnswer", _promised_answer)
    elif tag == 5:
        member = _struct(s, 0, "thirdPartyHosted", _third_party_cap)
    else:
        member = f"<unknown member {tag}>"
    return _fields([member, f"attachedFd = {s.get_int(_U8, 2, 0xFF)}"])


def _third_party_cap(s: StructReader) -> str:
    return _fields([_opaque(s, 0, "id"), _u32(s, 0, "vineId")])


def _promised_answer(s: StructReader) -> str:
    return _fields([_u32(s, 0, "questionId"), _list(s, 0, "transform", _op)])


def _op(s: StructReader) -> str:
    tag = s.get_int(_U16, 0)
    if tag == 0:
        return "(noop = void)"
    if tag == 1:
        return f"(getPointerField = {s.get_int(_U16, 2)})"
    return f"(<unknown member {tag}>)"


_MESSAGE_MEMBERS: dict[int, tuple[str, Printer | None]] = {
    0: ("unimplemented", _message),
    1: ("abort", _exception),
    2: ("call", _call),
    3: ("return", _return),
    4: ("finish", _finish),
    5: ("resolve", _resolve),
    6: ("release", _release),
    7: ("obsoleteSave", None),
    8: ("bootstrap", _bootstrap),
    9: ("obsoleteDelete", None),
    10: ("provide", _provide),
    11: ("accept", _accept),
    12: ("join", _join),
    13: ("disembargo", _disembargo),
}
