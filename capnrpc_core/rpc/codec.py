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
from capnrpc_core.wire.reader import AnyPointerReader, MessageReader, StructReader

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
        flags = (not f.release_result_caps) | (not f.require_early_cancellation_workaround) << 1
        return [_FINISH_WORDS.pack(0, 1 | 1 << 16, _FINISH, 0, 0, 0, 1, f.question_id, flags)]
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
