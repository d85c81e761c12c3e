"""Encode and decode RPC messages (:mod:`capnrpc_core.rpc.messages`) as Cap'n Proto frames.

Note [codec]
~~~~~~~~~~~~
The layouts below are rpc.capnp's as compiled by the reference compiler (data offsets in bytes,
pointer indexes), for the schema version the C++ 1.x reference speaks; fields the newest schema
adds (``Exception.details``) sit after them and are ignored. Reading goes through the wire
layer's bounds-checked readers, so any malformed input surfaces as :class:`DecodeError`, and a
well-formed message with an out-of-range enum or union value decodes into something the state
machine can reject by name. A payload's content is copied with its capability pointers left as
they are (their indexes refer to the cap table the core writes beside it).
"""

from __future__ import annotations

import struct

from capnrpc_core.errors import DecodeError
from capnrpc_core.rpc.messages import (
    Abort,
    Bootstrap,
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    ExceptionType,
    Finish,
    Message,
    MessageTarget,
    Payload,
    PromisedAnswer,
    Release,
    Resolve,
    Return,
    ReturnKind,
    RpcException,
    SendResultsTo,
    Unimplemented,
    Unknown,
)
from capnrpc_core.wire.builder import MessageBuilder, StructBuilder
from capnrpc_core.wire.framing import encode_frame
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import AnyPointerReader, Buffer, MessageReader, StructReader

__all__ = ["decode_message", "encode_message", "encode_segments"]

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# Message union ordinals.
_UNIMPLEMENTED = 0
_ABORT = 1
_CALL = 2
_RETURN = 3
_FINISH = 4
_RESOLVE = 5
_RELEASE = 6
_BOOTSTRAP = 8
_DISEMBARGO = 13

_EXCEPTION_TYPES = {t.value: t for t in ExceptionType}
# Reading an enum member off its class costs as much as a call: the hot paths use this.
_RESULTS = ReturnKind.RESULTS


# -- decoding -------------------------------------------------------------------------------------


def decode_message(reader: MessageReader) -> Message:
    """Decode the root ``Message`` of ``reader`` (DecodeError if malformed)."""
    return _decode(reader.get_root_struct())


def _decode(root: StructReader) -> Message:
    which = root.get_int(_U16, 0)
    if which == _CALL:
        return _decode_call(root.get_struct(0))
    if which == _RETURN:
        return _decode_return(root.get_struct(0))
    if which == _FINISH:
        s = root.get_struct(0)
        return Finish(
            s.get_int(_U32, 0),
            release_result_caps=s.get_bool(32, True),
            require_early_cancellation_workaround=s.get_bool(33, True),
        )
    if which == _RELEASE:
        s = root.get_struct(0)
        return Release(s.get_int(_U32, 0), s.get_int(_U32, 4))
    if which == _RESOLVE:
        s = root.get_struct(0)
        promise_id = s.get_int(_U32, 0)
        tag = s.get_int(_U16, 4)
        if tag == 0:
            return Resolve(promise_id, cap=_decode_cap_descriptor(s.get_struct(0)))
        if tag == 1:
            return Resolve(promise_id, exception=_decode_exception(s.get_struct(0)))
        return Unknown(which, root)
    if which == _BOOTSTRAP:
        return Bootstrap(root.get_struct(0).get_int(_U32, 0))
    if which == _DISEMBARGO:
        s = root.get_struct(0)
        tag = s.get_int(_U16, 4)
        if tag > 1:
            return Unknown(which, root)  # accept/provide: level 3
        return Disembargo(_decode_target(s.get_struct(0)), DisembargoKind(tag), s.get_int(_U32, 0))
    if which == _ABORT:
        return Abort(_decode_exception(root.get_struct(0)))
    if which == _UNIMPLEMENTED:
        inner = root.get_struct(0)
        if inner.get_int(_U16, 0) == _UNIMPLEMENTED:
            # An echo of an echo (a null pointer reads as one too): we never send such a thing,
            # so it is a violation; decoding no deeper keeps a chain of them from recursing.
            return Unimplemented(Unknown(_UNIMPLEMENTED, inner))
        return Unimplemented(_decode(inner))
    return Unknown(which, root)


def _decode_call(s: StructReader) -> Call | Unknown:
    send_to = s.get_int(_U16, 6)
    if send_to > 2:
        raise DecodeError(f"Call.sendResultsTo has unknown member {send_to}")
    return Call(
        s.get_int(_U32, 0),
        _decode_target(s.get_struct(0)),
        s.get_int(_U64, 8),
        s.get_int(_U16, 4),
        _decode_payload(s.get_struct(1)),
        send_results_to=SendResultsTo(send_to),
        allow_third_party_tail_call=s.get_bool(128),
        no_promise_pipelining=s.get_bool(129),
        only_promise_pipeline=s.get_bool(130),
    )


def _decode_return(s: StructReader) -> Return:
    answer_id = s.get_int(_U32, 0)
    release_params = s.get_bool(32, True)
    no_finish = s.get_bool(33)
    tag = s.get_int(_U16, 6)
    if tag > 5:
        raise DecodeError(f"Return has unknown member {tag}")
    kind = ReturnKind(tag)
    results = exception = None
    other = 0
    if kind == ReturnKind.RESULTS:
        results = _decode_payload(s.get_struct(0))
    elif kind == ReturnKind.EXCEPTION:
        exception = _decode_exception(s.get_struct(0))
    elif kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
        other = s.get_int(_U32, 8)
    return Return(
        answer_id,
        kind,
        results=results,
        exception=exception,
        other_question_id=other,
        release_param_caps=release_params,
        no_finish_needed=no_finish,
    )


def _decode_target(s: StructReader) -> MessageTarget:
    tag = s.get_int(_U16, 4)
    if tag == 0:
        return MessageTarget(import_id=s.get_int(_U32, 0))
    if tag == 1:
        return MessageTarget(promised_answer=_decode_promised_answer(s.get_struct(0)))
    raise DecodeError(f"MessageTarget has unknown member {tag}")


def _decode_promised_answer(s: StructReader) -> PromisedAnswer:
    ops = s.get_list(0, ElementSize.INLINE_COMPOSITE)
    transform: list[int] = []
    for i in range(len(ops)):
        op = ops.get_struct(i)
        tag = op.get_int(_U16, 0)
        if tag == 1:
            transform.append(op.get_int(_U16, 2))
        elif tag != 0:
            raise DecodeError(f"PromisedAnswer.Op has unknown member {tag}")
    return PromisedAnswer(s.get_int(_U32, 0), tuple(transform))


def _decode_payload(s: StructReader) -> Payload:
    table = s.get_list(1, ElementSize.INLINE_COMPOSITE)
    descs = tuple(_decode_cap_descriptor(table.get_struct(i)) for i in range(len(table)))
    return Payload(s.get_pointer(0), descs)


def _decode_cap_descriptor(s: StructReader) -> CapDescriptor:
    tag = s.get_int(_U16, 0)
    if tag > 5:
        raise DecodeError(f"CapDescriptor has unknown member {tag}")
    kind = CapKind(tag)
    if kind == CapKind.RECEIVER_ANSWER:
        return CapDescriptor(kind, promised_answer=_decode_promised_answer(s.get_struct(0)))
    if kind == CapKind.THIRD_PARTY_HOSTED:
        return CapDescriptor(kind, vine_id=s.get_struct(0).get_int(_U32, 0))
    if kind == CapKind.NONE:
        return CapDescriptor(kind)
    return CapDescriptor(kind, s.get_int(_U32, 4))


def _decode_exception(s: StructReader) -> RpcException:
    type_ = _EXCEPTION_TYPES.get(s.get_int(_U16, 4), ExceptionType.FAILED)
    return RpcException(s.get_text(0), type_, s.get_text(1))


# -- encoding -------------------------------------------------------------------------------------


def encode_message(message: Message) -> bytes:
    """Encode ``message`` as one framed Cap'n Proto message."""
    kind = type(message)
    frame: bytes | None = None
    if kind is Call:
        frame = _frame_call(message)  # type: ignore[arg-type]
    elif kind is Return and message.kind == _RESULTS:  # type: ignore[union-attr]
        frame = _frame_return(message)  # type: ignore[arg-type]
    elif kind is Finish:
        return _frame_finish(message)  # type: ignore[arg-type]
    if frame is not None:
        return frame
    return encode_frame(encode_segments(message))


def encode_segments(message: Message) -> list[bytes]:
    """Encode ``message`` as a list of segments."""
    kind = type(message)
    if kind is Call and message.target.import_id is not None:  # type: ignore[union-attr]
        return _fast_call(message)  # type: ignore[arg-type]
    if kind is Return and message.kind == ReturnKind.RESULTS:  # type: ignore[union-attr]
        return _fast_return(message)  # type: ignore[arg-type]
    if kind is Finish:
        f: Finish = message  # type: ignore[assignment]
        return [
            _FINISH_WORDS.pack(0, 1 | 1 << 16, _FINISH, 0, 0, 0, 1, f.question_id, _finish_flags(f))
        ]
    if kind is Release:
        r: Release = message  # type: ignore[assignment]
        return [_FINISH_WORDS.pack(0, 1 | 1 << 16, _RELEASE, 0, 0, 0, 1, r.id, r.reference_count)]
    builder = MessageBuilder(first_segment_words=64, keep_cap_indexes=True)
    root = builder.init_root(1, 1)
    _encode_into(root, message)
    return builder.segments()


# Note [fast encoders]
# ~~~~~~~~~~~~~~~~~~~~
# The frequent messages are laid out here directly, word by word, in exactly the order the
# generic encoder (_encode_into) allocates them, so both produce the same bytes (a test checks
# this); only the payload content and cap table go through the wire builder. A struct pointer
# is (offset_in_words << 2, data_words | pointer_count << 16), the offset counted from the word
# after the pointer.
_FINISH_WORDS = struct.Struct("<IIHHIIIII")  # root ptr, Message (tag, ptr), Finish/Release word
# Call: root ptr, Message (tag; ptr->Call), Call (3 data words; ptrs target, params, null),
# MessageTarget (data word; ptr), Payload (content ptr, capTable ptr).
_CALL_WORDS = struct.Struct("<II HHI II IHHQB7x II II II IHH II")
# Return: root ptr, Message (tag; ptr->Return), Return (answerId, flags, union tag; word 1;
# ptr -> Payload).
_RETURN_WORDS = struct.Struct("<II HHI II IBxH 8x II")


def _fast_call(m: Call) -> list[bytes]:
    builder = MessageBuilder(first_segment_words=64, keep_cap_indexes=True)
    seg = builder._segs[0]
    builder._alloc_in(0, 12)
    flags = (
        m.allow_third_party_tail_call | m.no_promise_pipelining << 1 | m.only_promise_pipeline << 2
    )
    # fmt: off
    _CALL_WORDS.pack_into(
        seg, 0,
        0, 1 | 1 << 16,  # root -> Message (word 1)
        _CALL, 0, 0, 0, 3 | 3 << 16,  # Message: tag; ptr -> Call (word 3)
        m.question_id, m.method_id, int(m.send_results_to), m.interface_id, flags,
        2 << 2, 1 | 1 << 16,  # Call.target -> MessageTarget (word 9)
        3 << 2, 2 << 16,  # Call.params -> Payload (word 11)
        0, 0,  # Call.sendResultsTo.thirdParty
        m.target.import_id, 0, 0,  # MessageTarget: importedCap
        0, 0,  # MessageTarget.promisedAnswer
    )
    # fmt: on
    _encode_payload(StructBuilder(builder, 0, builder._segs[0], 88, 0, 88, 2), m.params)
    return builder.segments()


def _fast_return(m: Return) -> list[bytes]:
    builder = MessageBuilder(first_segment_words=64, keep_cap_indexes=True)
    seg = builder._segs[0]
    builder._alloc_in(0, 7)
    flags = (not m.release_param_caps) | m.no_finish_needed << 1
    # fmt: off
    _RETURN_WORDS.pack_into(
        seg, 0,
        0, 1 | 1 << 16,  # root -> Message (word 1)
        _RETURN, 0, 0, 0, 2 | 1 << 16,  # Message: tag; ptr -> Return (word 3)
        m.answer_id, flags, 0,  # Return: answerId, flags, union tag (results = 0)
        0, 2 << 16,  # Return.results -> Payload (word 6)
    )
    # fmt: on
    assert m.results is not None
    _encode_payload(StructBuilder(builder, 0, builder._segs[0], 48, 0, 48, 2), m.results)
    return builder.segments()


def _encode_into(root: StructBuilder, message: Message) -> None:
    if isinstance(message, Call):
        root.set_int(_U16, 0, _CALL)
        s = root.init_struct(0, 3, 3)
        s.set_int(_U32, 0, message.question_id)
        s.set_int(_U16, 4, message.method_id)
        s.set_int(_U16, 6, int(message.send_results_to))
        s.set_int(_U64, 8, message.interface_id)
        if message.allow_third_party_tail_call:
            s.set_bool(128, True)
        if message.no_promise_pipelining:
            s.set_bool(129, True)
        if message.only_promise_pipeline:
            s.set_bool(130, True)
        _encode_target(s.init_struct(0, 1, 1), message.target)
        _encode_payload(s.init_struct(1, 0, 2), message.params)
    elif isinstance(message, Return):
        root.set_int(_U16, 0, _RETURN)
        s = root.init_struct(0, 2, 1)
        s.set_int(_U32, 0, message.answer_id)
        s.set_bool(32, message.release_param_caps, True)
        if message.no_finish_needed:
            s.set_bool(33, True)
        s.set_int(_U16, 6, int(message.kind))
        kind = message.kind
        if kind == ReturnKind.RESULTS:
            assert message.results is not None
            _encode_payload(s.init_struct(0, 0, 2), message.results)
        elif kind == ReturnKind.EXCEPTION:
            assert message.exception is not None
            _encode_exception(s.init_struct(0, 1, 2), message.exception)
        elif kind == ReturnKind.TAKE_FROM_OTHER_QUESTION:
            s.set_int(_U32, 8, message.other_question_id)
    elif isinstance(message, Finish):
        root.set_int(_U16, 0, _FINISH)
        s = root.init_struct(0, 1, 0)
        s.set_int(_U32, 0, message.question_id)
        s.set_bool(32, message.release_result_caps, True)
        s.set_bool(33, message.require_early_cancellation_workaround, True)
    elif isinstance(message, Release):
        root.set_int(_U16, 0, _RELEASE)
        s = root.init_struct(0, 1, 0)
        s.set_int(_U32, 0, message.id)
        s.set_int(_U32, 4, message.reference_count)
    elif isinstance(message, Resolve):
        root.set_int(_U16, 0, _RESOLVE)
        s = root.init_struct(0, 1, 1)
        s.set_int(_U32, 0, message.promise_id)
        if message.cap is not None:
            _encode_cap_descriptor(s.init_struct(0, 1, 1), message.cap)
        else:
            assert message.exception is not None
            s.set_int(_U16, 4, 1)
            _encode_exception(s.init_struct(0, 1, 2), message.exception)
    elif isinstance(message, Bootstrap):
        root.set_int(_U16, 0, _BOOTSTRAP)
        root.init_struct(0, 1, 1).set_int(_U32, 0, message.question_id)
    elif isinstance(message, Disembargo):
        root.set_int(_U16, 0, _DISEMBARGO)
        s = root.init_struct(0, 1, 1)
        s.set_int(_U32, 0, message.embargo_id)
        s.set_int(_U16, 4, int(message.kind))
        _encode_target(s.init_struct(0, 1, 1), message.target)
    elif isinstance(message, Abort):
        root.set_int(_U16, 0, _ABORT)
        _encode_exception(root.init_struct(0, 1, 2), message.exception)
    elif isinstance(message, Unimplemented):
        root.set_int(_U16, 0, _UNIMPLEMENTED)
        inner = message.message
        if isinstance(inner, Unknown) and isinstance(inner.raw, StructReader):
            root.set_pointer(0, inner.raw)
        else:
            _encode_into(root.init_struct(0, 1, 1), inner)
    else:
        assert isinstance(message, Unknown)
        if not isinstance(message.raw, StructReader):
            raise ValueError("an Unknown message can only be re-encoded from its raw form")
        root.set_pointer(0, message.raw.get_pointer(0))
        root.set_int(_U16, 0, message.which)


def _encode_target(s: StructBuilder, target: MessageTarget) -> None:
    if target.import_id is not None:
        s.set_int(_U32, 0, target.import_id)
    else:
        assert target.promised_answer is not None
        s.set_int(_U16, 4, 1)
        _encode_promised_answer(s.init_struct(0, 1, 1), target.promised_answer)


def _encode_promised_answer(s: StructBuilder, pa: PromisedAnswer) -> None:
    s.set_int(_U32, 0, pa.question_id)
    if pa.transform:
        ops = s.init_struct_list(0, len(pa.transform), 1, 0)
        for i, index in enumerate(pa.transform):
            op = ops.get_struct(i)
            op.set_int(_U16, 0, 1)
            op.set_int(_U16, 2, index)


def _encode_payload(s: StructBuilder, payload: Payload) -> None:
    content = payload.content
    if content is not None:
        if isinstance(content, AnyPointerReader) and content.is_null():
            pass
        else:
            s.set_pointer(0, content)  # type: ignore[arg-type]
    table = payload.cap_table
    if table:
        lst = s.init_struct_list(1, len(table), 1, 1)
        for i, desc in enumerate(table):
            _encode_cap_descriptor(lst.get_struct(i), desc)


def _encode_cap_descriptor(s: StructBuilder, desc: CapDescriptor) -> None:
    s.set_int(_U16, 0, int(desc.kind))
    s.set_int(_U8, 2, 0xFF, 0xFF)  # attachedFd: none
    kind = desc.kind
    if kind == CapKind.RECEIVER_ANSWER:
        assert desc.promised_answer is not None
        _encode_promised_answer(s.init_struct(0, 1, 1), desc.promised_answer)
    elif kind != CapKind.NONE:
        s.set_int(_U32, 4, desc.id)


def _encode_exception(s: StructBuilder, exc: RpcException) -> None:
    s.set_text(0, exc.reason)
    s.set_int(_U16, 4, int(exc.type))
    if exc.trace:
        s.set_text(1, exc.trace)


# -- fast paths -----------------------------------------------------------------------------------

# Note [fast decoding]
# ~~~~~~~~~~~~~~~~~~~~
# Calls (to an import or, pipelined, to a promised answer), Returns, Finishes and Releases are
# nearly every message a busy connection carries, and decoding them through the generic reader
# costs a dozen reader objects each. ``decode_fast`` reads them straight from the first segment
# when every struct on the way is near (no far pointers), at least as large as rpc.capnp
# declares, and in bounds, and when the traversal and nesting budgets allow; it charges the
# budget exactly what the generic reader would, and makes the same message value. Anything
# else -- an unusual layout, a union member other than the common one, a limit about to be hit,
# malformed input -- makes it return None, and the caller decodes generically, which produces
# the proper value or error. A test checks that both agree on random and mutated messages.

_HALVES = struct.Struct("<iI")
_half = _HALVES.unpack_from
_CALL_HEAD = struct.Struct("<IHHQB")
_U32_PAIR = struct.Struct("<II")
_U16_PAIR = struct.Struct("<HH")
_RETURN_HEAD = struct.Struct("<IBxH")
_DESC_HEAD = struct.Struct("<HxxI")
_SEND_TO = tuple(SendResultsTo)
_CAP_KINDS = tuple(CapKind)

# Note [canonical layout]
# ~~~~~~~~~~~~~~~~~~~~~~~
# A Call to an import or to a promised answer one field deep (a pipelined call) and a Return
# with results, without capabilities, laid out as ``_frame_call`` and ``_frame_return`` write
# them (each struct right after the pointer to it, in field order, as a builder that makes them
# in that order does), have every pointer before the content at a fixed place with a fixed
# value. ``decode_fast`` first compares those words to the constants below, with one unpack for
# the head and one or two for the rest, and on a match makes the message from the fields alone:
# the same value, and the same charge to the traversal budget, as the step-by-step path below
# (which any other layout takes). A Return whose results carry capabilities has the same fixed
# words up to its Payload; only the cap table, after the content, is then read step by step.
# A Finish or Release is its four fixed words: the head, then its one data word.
_CANON_HEAD = struct.Struct("<QH6xQ")  # root pointer, Message.which, the pointer in Message
_CANON_ROOT = (1 | 1 << 16) << 32  # Message: 1 data word, 1 pointer, right after the root
_CANON_CALL_PTR = (3 | 3 << 16) << 32  # Call: 3 data words, 3 pointers, right after
_CANON_SMALL_PTR = 1 << 32  # Finish or Release: 1 data word, right after
_CANON_SMALL_WORDS = 2 + 1  # Message and the Finish or Release
_CANON_RETURN_PTR = (2 | 1 << 16) << 32  # Return: 2 data words, 1 pointer, right after
# From word 3 of a Call: its data; target and params pointers (sendResultsTo.thirdParty's
# skipped); MessageTarget's data (its pointer skipped); Payload's capTable (content skipped).
_CANON_CALL = struct.Struct("<IHHQB7xQQ8xIH2x16xQ")
_CANON_TARGET_PTR = 2 << 2 | (1 | 1 << 16) << 32  # MessageTarget, 1 + 1 words, 2 words on
_CANON_PARAMS_PTR = 3 << 2 | (2 << 16) << 32  # Payload: 2 pointers, 3 words on
# Message, Call, MessageTarget and Payload: what the step-by-step path charges.
_CANON_CALL_WORDS = 2 + 6 + 2 + 2
# From word 3 of a Return: answerId, flags and the union's tag; the pointer to the Payload
# (content skipped); the Payload's capTable.
_CANON_RETURN = struct.Struct("<IBxH8xQ8xQ")
_CANON_RESULTS_PTR = (2 << 16) << 32  # Payload: 2 pointers, right after
_CANON_RETURN_WORDS = 2 + 3 + 2
# A pipelined Call (to a promised answer one pointer field deep) has four words more, between
# the MessageTarget and the Payload (``_answer_words``). From word 10: MessageTarget's pointer;
# the PromisedAnswer's data and transform pointer; the list's tag; its one Op; the Payload's
# capTable (content skipped).
_CANON_ANSWER = struct.Struct("<QI4xQQI4x8xQ")
_CANON_ANSWER_PTR = (1 | 1 << 16) << 32  # PromisedAnswer, 1 + 1 words, right after
_CANON_TRANSFORM_PTR = 1 | (7 | 1 << 3) << 32  # composite list of 1 word, right after
_CANON_TRANSFORM_TAG = 1 << 2 | 1 << 32  # 1 element of 1 data word
_CANON_PIPELINED_PARAMS_PTR = 7 << 2 | (2 << 16) << 32  # Payload: 2 pointers, 7 words on
# Those of a Call to an import, plus the PromisedAnswer and its list with the tag.
_CANON_PIPELINED_WORDS = _CANON_CALL_WORDS + 2 + 2


def decode_fast(reader: MessageReader) -> Message | None:
    """Decode a common message without reader objects, or None to decode generically."""
    seg = reader.segments[0]
    n = len(seg)
    limit = reader.limits.nesting_limit
    if n < 16 or limit < 6:
        return None
    if n >= 32:  # Note [canonical layout]
        root, which, first = _CANON_HEAD.unpack_from(seg, 0)
        if root == _CANON_ROOT:
            if which == _CALL and first == _CANON_CALL_PTR and n >= 104:
                qid, method, send_to, iface, flags, tptr, pptr, import_id, tag, table = (
                    _CANON_CALL.unpack_from(seg, 24)
                )
                target: MessageTarget | None = None
                if tptr == _CANON_TARGET_PTR and send_to <= 2:
                    if not tag:
                        if pptr == _CANON_PARAMS_PTR and not table:
                            target = MessageTarget(import_id)
                            content, charge = 88, _CANON_CALL_WORDS
                    elif tag == 1 and pptr == _CANON_PIPELINED_PARAMS_PTR and n >= 136:
                        answer = _canon_answer(seg)
                        if answer is not None:
                            target = MessageTarget(None, answer)
                            content, charge = 120, _CANON_PIPELINED_WORDS
                if target is not None and reader._budget >= charge:
                    reader._budget -= charge
                    params = Payload(AnyPointerReader(reader, seg, content, limit - 3), ())
                    return _call(qid, target, iface, method, params, send_to, flags)
            elif which == _RETURN and first == _CANON_RETURN_PTR and n >= 64:
                answer_id, flags, tag, pptr, table = _CANON_RETURN.unpack_from(seg, 24)
                payload: Payload | None = None
                if not tag and pptr == _CANON_RESULTS_PTR:
                    # The cap table sits after the content; only it is read step by step.
                    cap_table = _fast_cap_table(seg, 56, *_half(seg, 56)) if table else _NO_CAPS
                    if cap_table is not None:
                        charge = _CANON_RETURN_WORDS + cap_table[1]
                        if reader._budget >= charge:
                            reader._budget -= charge
                            payload = Payload(
                                AnyPointerReader(reader, seg, 48, limit - 3), cap_table[0]
                            )
                if payload is not None:
                    return _results_return(answer_id, flags, payload)
            elif which in (_FINISH, _RELEASE) and first == _CANON_SMALL_PTR:
                return _fast_small(reader, seg, which, 24, _CANON_SMALL_WORDS)
    lo, hi = _half(seg, 0)
    m = 8 + (lo >> 2) * 8
    mdw = hi & 0xFFFF
    mwords = mdw + (hi >> 16)
    if lo & 3 or mdw < 1 or hi >> 16 < 1 or m < 8 or m + mwords * 8 > n:
        return None
    which = _U16.unpack_from(seg, m)[0]
    p = m + mdw * 8
    lo, hi = _half(seg, p)
    s = p + 8 + (lo >> 2) * 8
    sdw = hi & 0xFFFF
    spc = hi >> 16
    swords = sdw + spc
    if lo & 3 or not hi or s < 8 or s + swords * 8 > n:
        return None
    charge = mwords + swords
    if which == _CALL:
        if sdw < 3 or spc < 2:
            return None
        qid, method, send_to, iface, flags = _CALL_HEAD.unpack_from(seg, s)
        if send_to > 2:
            return None
        p = s + sdw * 8
        lo, hi = _half(seg, p)
        t = p + 8 + (lo >> 2) * 8
        tdw = hi & 0xFFFF
        twords = tdw + (hi >> 16)
        if lo & 3 or tdw < 1 or t < 8 or t + twords * 8 > n:
            return None
        import_id, tag = _U32_PAIR.unpack_from(seg, t)
        charge += twords
        tag &= 0xFFFF
        if tag == 0:
            target = MessageTarget(import_id)
        elif tag == 1 and hi >> 16:
            found = _fast_promised_answer(seg, t + tdw * 8)
            if found is None:
                return None
            answer, words = found
            target = MessageTarget(None, answer)
            charge += words
        else:
            return None
        payload = _fast_payload(reader, seg, p + 8, charge, limit)
        if payload is None:
            return None
        return _call(qid, target, iface, method, payload, send_to, flags)
    if which == _RETURN:
        if sdw < 1 or spc < 1:
            return None
        answer_id, flags, tag = _RETURN_HEAD.unpack_from(seg, s)
        if tag:
            return None
        payload = _fast_payload(reader, seg, s + sdw * 8, charge, limit)
        if payload is None:
            return None
        return _results_return(answer_id, flags, payload)
    if which in (_FINISH, _RELEASE):
        if sdw < 1:
            return None
        return _fast_small(reader, seg, which, s, charge)
    return None


# Positional arguments in the constructors below: a dataclass takes keywords markedly slower.


def _call(
    qid: int,
    target: MessageTarget,
    iface: int,
    method: int,
    params: Payload,
    send_to: int,
    flags: int,
) -> Call:
    """A Call from its fields, ``send_to`` and ``flags`` as the wire holds them."""
    return Call(
        qid,
        target,
        iface,
        method,
        params,
        _SEND_TO[send_to],
        bool(flags & 1),  # allow_third_party_tail_call
        bool(flags & 2),  # no_promise_pipelining
        bool(flags & 4),  # only_promise_pipeline
    )


def _results_return(answer_id: int, flags: int, results: Payload) -> Return:
    """A Return with results, ``flags`` as the wire holds them."""
    return Return(
        answer_id,
        _RESULTS,
        results,
        None,  # exception
        0,  # other_question_id
        not flags & 1,  # release_param_caps
        bool(flags & 2),  # no_finish_needed
    )


def _fast_small(
    reader: MessageReader, seg: Buffer, which: int, s: int, charge: int
) -> Finish | Release | None:
    """The Finish or Release whose data word is at ``s``, charging ``charge`` words, or None."""
    if charge > reader._budget:
        return None
    reader._budget -= charge
    first, second = _U32_PAIR.unpack_from(seg, s)
    if which == _RELEASE:
        return Release(first, second)
    return Finish(
        first,
        not second & 1,  # release_result_caps
        not second & 2,  # require_early_cancellation_workaround
    )


def _canon_answer(seg: Buffer) -> PromisedAnswer | None:
    """The PromisedAnswer of a canonical pipelined Call, or None if its words are otherwise."""
    aptr, question_id, transform, list_tag, op, table = _CANON_ANSWER.unpack_from(seg, 80)
    if (
        aptr == _CANON_ANSWER_PTR
        and transform == _CANON_TRANSFORM_PTR
        and list_tag == _CANON_TRANSFORM_TAG
        and op & 0xFFFF == 1  # getPointerField
        and not table  # the Payload's capTable
    ):
        return PromisedAnswer(question_id, (op >> 16,))
    return None


def _fast_promised_answer(seg: Buffer, p: int) -> tuple[PromisedAnswer, int] | None:
    """The PromisedAnswer at pointer offset ``p`` and the words it costs, or None."""
    n = len(seg)
    lo, hi = _half(seg, p)
    a = p + 8 + (lo >> 2) * 8
    adw = hi & 0xFFFF
    words = adw + (hi >> 16)
    if lo & 3 or adw < 1 or hi >> 16 < 1 or a < 8 or a + words * 8 > n:
        return None
    question_id = _U32.unpack_from(seg, a)[0]
    r = a + adw * 8
    lo, hi = _half(seg, r)
    if not lo and not hi:
        return PromisedAnswer(question_id), words
    elements = _fast_struct_list(seg, r, lo, hi)
    if elements is None:
        return None
    start, end, step, list_words = elements
    words += list_words
    transform = []
    for e in range(start, end, step):
        op, index = _U16_PAIR.unpack_from(seg, e)
        if op == 1:
            transform.append(index)
        elif op:
            return None  # an unknown Op: the generic decoder says so
    return PromisedAnswer(question_id, tuple(transform)), words


def _fast_struct_list(seg: Buffer, p: int, lo: int, hi: int) -> tuple[int, int, int, int] | None:
    """The struct list that pointer ``lo, hi`` at offset ``p`` points to, or None.

    Its elements' start and end offsets, their step in bytes, and the words the generic reader
    charges for it (the tag included). None unless its elements have at least one data word.
    """
    t = p + 8 + (lo >> 2) * 8
    words = hi >> 3
    if lo & 3 != 1 or hi & 7 != 7 or t < 8 or t + (words + 1) * 8 > len(seg):
        return None
    tlo, thi = _half(seg, t)
    count = tlo >> 2
    edw = thi & 0xFFFF
    step = (edw + (thi >> 16)) * 8
    if tlo & 3 or edw < 1 or tlo < 0 or count * step > words * 8:
        return None
    return t + 8, t + 8 + count * step, step, words + 1


def _fast_payload(
    reader: MessageReader, seg: Buffer, p: int, charge: int, limit: int
) -> Payload | None:
    """The Payload at pointer offset ``p``, charging ``charge`` words more, or None."""
    n = len(seg)
    lo, hi = _half(seg, p)
    s = p + 8 + (lo >> 2) * 8
    sdw = hi & 0xFFFF
    swords = sdw + (hi >> 16)
    if lo & 3 or hi >> 16 < 2 or s < 8 or s + swords * 8 > n:
        return None
    charge += swords
    ptrs = s + sdw * 8
    lo, hi = _half(seg, ptrs + 8)  # capTable
    descs: tuple[CapDescriptor, ...] = ()
    if lo or hi:
        table = _fast_cap_table(seg, ptrs + 8, lo, hi)
        if table is None:
            return None
        descs, words = table
        charge += words
    if charge > reader._budget:
        return None
    reader._budget -= charge
    return Payload(AnyPointerReader(reader, seg, ptrs, limit - 3), descs)


def _fast_cap_table(
    seg: Buffer, p: int, lo: int, hi: int
) -> tuple[tuple[CapDescriptor, ...], int] | None:
    """The cap table that pointer ``lo, hi`` at offset ``p`` points to and the words it costs,
    or None (a descriptor other than none or sender/receiver-hosted included)."""
    elements = _fast_struct_list(seg, p, lo, hi)
    if elements is None:
        return None
    start, end, step, words = elements
    found = []
    for e in range(start, end, step):
        kind, id_ = _DESC_HEAD.unpack_from(seg, e)
        if kind > 3:
            return None  # receiverAnswer and beyond: generic
        found.append(CapDescriptor(_CAP_KINDS[kind], id_) if kind else CapDescriptor(_NONE))
    return tuple(found), words


_NONE = CapKind.NONE
_NO_CAPS: tuple[tuple[CapDescriptor, ...], int] = ((), 0)  # an empty cap table, costing nothing


# Note [verbatim payloads]
# ~~~~~~~~~~~~~~~~~~~~~~~~
# Params and results are usually the root struct of a one-segment message the application (or
# the typed layer) just built. Such a segment holds, after the root pointer, only that struct's
# tree -- the builder zeroes whatever it overwrites -- and every pointer inside it is relative,
# so the words can be appended to the RPC message as they are, with the payload's content
# pointer aimed at the root struct's new place. Capability pointers keep their indexes, which
# refer to the cap table written beside the content, as with ``keep_cap_indexes``. The frames
# below are then built with one ``pack`` and a join, with no builder at all. Anything else
# (a reader from a received message, several segments, a capability descriptor that needs a
# pointer) goes through the builder.
# A Call's frame up to its MessageTarget; a pipelined one's PromisedAnswer and then the
# Payload's two pointers follow (_ANSWER_ONE_STEP is the usual one-field transform, in one pack).
_CALL_FRAME_HEAD = struct.Struct("<II" + _CALL_WORDS.format[1:])
_ANSWER_ONE_STEP = struct.Struct("<QQQQ")
_PAYLOAD_POINTERS = struct.Struct("<iIiI")
_FINISH_FRAME = struct.Struct("<II" + _FINISH_WORDS.format[1:])
_RETURN_FRAME = struct.Struct("<II" + _RETURN_WORDS.format[1:] + "iIiI")
_DESC_WORDS = struct.Struct("<HxxIQ")


def _root_words(content: object) -> tuple[int, int, bytes | bytearray] | None:
    """``(root struct offset, root pointer's upper half, words)`` for a verbatim copy, or None."""
    kind = type(content)
    if kind is StructBuilder:
        segs = content.message._segs  # type: ignore[attr-defined]
        used = content.message._used  # type: ignore[attr-defined]
    elif kind is StructReader:
        used = content.message.live_used  # type: ignore[attr-defined]
        if used is None:
            return None
        segs = content.message.segments  # type: ignore[attr-defined]
    else:
        return None
    if len(segs) != 1:
        return None
    seg = segs[0]
    data = content._data  # type: ignore[attr-defined]
    lo, hi = _half(seg, 0)
    if (
        lo & 3
        or 8 + (lo >> 2) * 8 != data
        or content._seg is not seg  # type: ignore[attr-defined]
        or content._dsize != (hi & 0xFFFF) * 8  # type: ignore[attr-defined]
        or content._pcount != hi >> 16  # type: ignore[attr-defined]
    ):
        return None
    words: bytes | bytearray = seg[8 : used[0] * 8]
    return data, hi, words


def _payload_words(
    payload: Payload,
) -> tuple[int, int, int, int, int, list[bytes | bytearray]] | None:
    """Content and capTable pointer halves (relative to the Payload), how many words follow it,
    and a list for the frame: a slot for the caller's head, then those words."""
    content = payload.content
    parts: list[bytes | bytearray] = [b""]
    if content is None:
        clo = chi = clen = 0
    else:
        root = _root_words(content)
        if root is None:
            if type(content) is AnyPointerReader and content.is_null():
                clo = chi = clen = 0
            else:
                return None
        else:
            data, chi, words = root
            clo = data >> 1  # offset in words (data >> 3), shifted left by 2
            clen = len(words)
            parts.append(words)
    table = payload.cap_table
    if not table:
        return clo, chi, 0, 0, clen >> 3, parts
    descs = []
    for desc in table:
        kind = desc.kind
        if kind > 3:
            return None
        descs.append(_DESC_WORDS.pack(kind, desc.id if kind else 0, 0))
    count = len(table)
    parts.append(_U64.pack(count << 2 | (1 | 1 << 16) << 32))
    parts.extend(descs)
    return clo, chi, (clen >> 1) | 1, 7 | (count * 2) << 3, (clen >> 3) + 1 + 2 * count, parts


def _frame_call(m: Call) -> bytes | None:
    payload = _payload_words(m.params)
    if payload is None:
        return None
    clo, chi, tlo, thi, body_words, parts = payload
    target = m.target
    import_id = target.import_id
    flags = (
        m.allow_third_party_tail_call | m.no_promise_pipelining << 1 | m.only_promise_pipeline << 2
    )
    answer = b""
    if import_id is None:
        # The PromisedAnswer (and its transform) go between the target and the Payload, where
        # the generic encoder puts them.
        import_id = 0
        answer = _answer_words(target.promised_answer)  # type: ignore[arg-type]
    extra = len(answer) >> 3
    # fmt: off
    head = _CALL_FRAME_HEAD.pack(
        0, 13 + extra + body_words,  # frame: one segment
        0, 1 | 1 << 16,
        _CALL, 0, 0, 0, 3 | 3 << 16,
        m.question_id, m.method_id, int(m.send_results_to), m.interface_id, flags,
        2 << 2, 1 | 1 << 16,
        (3 + extra) << 2, 2 << 16,
        0, 0,
        import_id, 1 if answer else 0, 0,
        0, 1 | 1 << 16 if answer else 0,
    )
    # fmt: on
    pointers = _PAYLOAD_POINTERS.pack(clo, chi, tlo, thi)
    parts[0:1] = (head, answer, pointers) if answer else (head, pointers)
    # One join: the payload's words are copied once, straight into the frame.
    return b"".join(parts)


def _answer_words(answer: PromisedAnswer) -> bytes:
    """A PromisedAnswer struct and its transform list, right after the pointer to it."""
    transform = answer.transform
    if not transform:
        return _U64.pack(answer.question_id) + bytes(8)
    count = len(transform)
    list_pointer = 1 | (7 | count << 3) << 32  # the list, right after this pointer
    tag = count << 2 | 1 << 32  # count structs of one data word
    if count == 1:
        # A call on a field of the results (the usual pipelined call): one pack.
        return _ANSWER_ONE_STEP.pack(answer.question_id, list_pointer, tag, 1 | transform[0] << 16)
    return b"".join(
        [
            _U64.pack(answer.question_id),
            _U64.pack(list_pointer),
            _U64.pack(tag),
            *[_U64.pack(1 | index << 16) for index in transform],
        ]
    )


def _frame_return(m: Return) -> bytes | None:
    assert m.results is not None
    payload = _payload_words(m.results)
    if payload is None:
        return None
    clo, chi, tlo, thi, body_words, parts = payload
    words = 8 + body_words
    flags = (not m.release_param_caps) | m.no_finish_needed << 1
    # fmt: off
    head = _RETURN_FRAME.pack(
        0, words,
        0, 1 | 1 << 16,
        _RETURN, 0, 0, 0, 2 | 1 << 16,
        m.answer_id, flags, 0,
        0, 2 << 16,
        clo, chi, tlo, thi,  # Payload
    )
    # fmt: on
    parts[0] = head
    return b"".join(parts)


def _frame_finish(m: Finish) -> bytes:
    # A Finish's four words (root pointer, Message, Finish) never vary in layout: framed with
    # one pack, without a segment list and encode_frame.
    # fmt: off
    return _FINISH_FRAME.pack(
        0, _FINISH_WORDS.size >> 3,  # frame: one segment
        0, 1 | 1 << 16, _FINISH, 0, 0, 0, 1, m.question_id, _finish_flags(m),
    )
    # fmt: on


def _finish_flags(m: Finish) -> int:
    """Finish's two booleans (both default true, so stored inverted)."""
    return (not m.release_result_caps) | (not m.require_early_cancellation_workaround) << 1
