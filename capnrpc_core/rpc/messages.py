"""The RPC protocol's messages as small immutable values.

The state machine speaks in these types; :mod:`capnrpc_core.rpc.codec` turns them into frames and
back. Keeping the two apart lets message-level tests read like the protocol itself, and keeps the
encoding in one place (see Note [codec] in codec.py).

A payload's ``content`` is a wire-level pointer (an ``AnyPointerReader`` on receipt, anything
the wire builder can copy on send), and its capabilities are a tuple of :class:`CapDescriptor`
values on the wire; the core swaps descriptors for capability references (``refs``) at the edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar, dataclass_transform

__all__ = [
    "Abort",
    "Bootstrap",
    "Call",
    "CapDescriptor",
    "CapKind",
    "Disembargo",
    "DisembargoKind",
    "ExceptionType",
    "Finish",
    "Message",
    "MessageTarget",
    "Payload",
    "PromisedAnswer",
    "Release",
    "Resolve",
    "Return",
    "ReturnKind",
    "RpcException",
    "SendResultsTo",
    "Unimplemented",
    "Unknown",
]


_T = TypeVar("_T")


# Note [message values]
# ~~~~~~~~~~~~~~~~~~~~~
# Messages are values: nobody assigns to one after it is made. mypy enforces that (the
# decorator below declares them frozen). At run time they are plain slotted dataclasses,
# because a frozen dataclass's __init__ goes through object.__setattr__ for every field, which
# cost a sixth of a core round trip (ten messages are made and decoded per round trip).
@dataclass_transform(frozen_default=True, eq_default=True)
def _value(cls: type[_T]) -> type[_T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)


class ExceptionType(enum.IntEnum):
    """rpc.capnp ``Exception.Type``."""

    FAILED = 0
    OVERLOADED = 1
    DISCONNECTED = 2
    UNIMPLEMENTED = 3


@_value
class RpcException:
    """The ``Exception`` struct: what crosses the wire when something fails."""

    reason: str
    type: ExceptionType = ExceptionType.FAILED
    trace: str = ""

    def __str__(self) -> str:
        return f"{self.type.name.lower()}: {self.reason}"


@_value
class PromisedAnswer:
    """A capability inside a question's (future) results: question id plus pointer path."""

    question_id: int
    transform: tuple[int, ...] = ()  # getPointerField indexes; noop ops are dropped on decode


@_value
class MessageTarget:
    """Where a call or disembargo goes: an import (``import_id``) or a promised answer."""

    import_id: int | None = None
    promised_answer: PromisedAnswer | None = None

    def __post_init__(self) -> None:
        if (self.import_id is None) == (self.promised_answer is None):
            raise ValueError("MessageTarget needs exactly one of import_id, promised_answer")


class CapKind(enum.IntEnum):
    """The ``CapDescriptor`` union's members, by their ordinals."""

    NONE = 0
    SENDER_HOSTED = 1
    SENDER_PROMISE = 2
    RECEIVER_HOSTED = 3
    RECEIVER_ANSWER = 4
    THIRD_PARTY_HOSTED = 5


@_value
class CapDescriptor:
    """One entry of a payload's cap table, as the sender describes it."""

    kind: CapKind
    id: int = 0  # export id (sender*) or import id (receiverHosted)
    promised_answer: PromisedAnswer | None = None  # receiverAnswer only
    vine_id: int = 0  # thirdPartyHosted only (level 3, unsupported)


@_value
class Payload:
    """Content pointer plus cap table. ``content`` is a wire pointer or ``None`` (null)."""

    content: object = None
    cap_table: tuple[CapDescriptor, ...] = ()


class SendResultsTo(enum.IntEnum):
    """``Call.sendResultsTo``."""

    CALLER = 0
    YOURSELF = 1
    THIRD_PARTY = 2


@_value
class Bootstrap:
    """Ask for the peer's bootstrap capability."""

    question_id: int


@_value
class Call:
    """Begin a method call on ``target``."""

    question_id: int
    target: MessageTarget
    interface_id: int
    method_id: int
    params: Payload = field(default_factory=Payload)
    send_results_to: SendResultsTo = SendResultsTo.CALLER
    allow_third_party_tail_call: bool = False
    no_promise_pipelining: bool = False
    only_promise_pipeline: bool = False


class ReturnKind(enum.IntEnum):
    """The ``Return`` union's members, by their ordinals."""

    RESULTS = 0
    EXCEPTION = 1
    CANCELED = 2
    RESULTS_SENT_ELSEWHERE = 3
    TAKE_FROM_OTHER_QUESTION = 4
    AWAIT_FROM_THIRD_PARTY = 5


@_value
class Return:
    """Complete a call (or bootstrap). Exactly the field matching ``kind`` is meaningful."""

    answer_id: int
    kind: ReturnKind
    results: Payload | None = None
    exception: RpcException | None = None
    other_question_id: int = 0
    release_param_caps: bool = True
    no_finish_needed: bool = False


@_value
class Finish:
    """The caller is done with a question (or cancels it)."""

    question_id: int
    release_result_caps: bool = True
    require_early_cancellation_workaround: bool = True


@_value
class Resolve:
    """A promise we exported (``promise_id``) settled to a capability or an exception."""

    promise_id: int
    cap: CapDescriptor | None = None
    exception: RpcException | None = None


@_value
class Release:
    """Drop ``reference_count`` references to an import."""

    id: int
    reference_count: int


class DisembargoKind(enum.IntEnum):
    """``Disembargo.context``."""

    SENDER_LOOPBACK = 0
    RECEIVER_LOOPBACK = 1
    ACCEPT = 2
    PROVIDE = 3


@_value
class Disembargo:
    """Lift an embargo (see Note [embargos] in connection.py)."""

    target: MessageTarget
    kind: DisembargoKind
    embargo_id: int = 0


@_value
class Abort:
    """The sender is closing the connection because of ``exception``."""

    exception: RpcException


@_value
class Unimplemented:
    """The peer did not understand a message we sent; ``message`` is our own message echoed."""

    message: Message


@_value
class Unknown:
    """A message this implementation does not handle (level 3/4, obsolete, future ordinals).

    ``which`` is the union ordinal and ``raw`` the undecoded ``Message`` struct, kept so that it
    can be echoed back in an ``unimplemented`` message.
    """

    which: int
    raw: object = field(default=None, compare=False)


Message: TypeAlias = (
    Bootstrap
    | Call
    | Return
    | Finish
    | Resolve
    | Release
    | Disembargo
    | Abort
    | Unimplemented
    | Unknown
)
