"""Capability references: what a ``Cap`` points at, and how far it has resolved.

A :class:`Cap` is the core's reference to a capability. The application holds references
explicitly (``Vat.add_ref`` / ``Vat.release``); when the count reaches zero the vat releases
whatever the reference kept alive (an import's remote reference, a question's pipeline, ...).

Note [cap kinds]
~~~~~~~~~~~~~~~~
- :class:`LocalCap` -- an object served by this vat; calls become ``DeliverCall`` events.
- :class:`ImportCap` -- an object exported by the peer of one connection (``importedCap``).
- :class:`PipelineCap` -- a capability inside the results of a question that has not returned
  (``promisedAnswer``).
- :class:`PromiseCap` -- a promise. While unresolved, calls go to ``inner`` (an ImportCap for a
  promise the peer exported, a PipelineCap for a pipelined result) or, when there is no inner
  (a local promise), wait in ``queued`` in order. Once resolved, calls go to ``resolved``,
  except while ``embargoed`` (see Note [embargos] in vat.py).
- :class:`BrokenCap` -- every call fails with ``exception``; the null capability is one of them.

ImportCap and PipelineCap are the "raw" remote references; applications only ever see them
wrapped in a PromiseCap when they stand for promises, so the raw reference stays fixed even after
the promise resolves. That is what the Disembargo rules need (Note [tribble] in vat.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from capnrpc_core.rpc.messages import ExceptionType, MessageTarget, PromisedAnswer, RpcException

if TYPE_CHECKING:
    from capnrpc_core.rpc.calls import OutgoingCall, Question
    from capnrpc_core.rpc.connection import Connection

__all__ = ["BrokenCap", "Cap", "ImportCap", "LocalCap", "PipelineCap", "PromiseCap", "null_cap"]


class Cap:
    """Base class of capability references. ``refs`` counts the references held to it."""

    __slots__ = ("refs",)

    def __init__(self) -> None:
        self.refs = 0

    def describe(self) -> str:
        """A short human-readable description for logs and errors."""
        return type(self).__name__


class LocalCap(Cap):
    """A capability served by this vat."""

    __slots__ = ("broken", "server", "stream_busy", "stream_queue", "streaming_methods")

    def __init__(
        self, server: object, streaming_methods: frozenset[tuple[int, int]] = frozenset()
    ) -> None:
        super().__init__()
        self.server = server
        self.streaming_methods = streaming_methods
        # While a streaming call runs, later calls wait in order (Note [streaming] in vat.py);
        # a failed streaming call breaks the object for good.
        self.stream_busy = False
        self.stream_queue: list[OutgoingCall] = []
        self.broken: RpcException | None = None

    def describe(self) -> str:
        return f"local {type(self.server).__name__}"


class ImportCap(Cap):
    """A capability the peer of ``connection`` exported to us under ``import_id``."""

    __slots__ = ("broken", "connection", "import_id", "is_promise", "remote_refs", "target")

    def __init__(self, connection: Connection, import_id: int) -> None:
        super().__init__()
        self.connection = connection
        self.import_id = import_id
        # What a Call to it names (made once: it is a value).
        self.target = MessageTarget(import_id=import_id)
        # How many times the peer has sent us this id: what we owe it in Release.
        self.remote_refs = 0
        # The peer sent it as senderPromise: a Resolve for it is legitimate even after our
        # promise wrapper is gone (this raw reference may still be in use, Note [tribble]).
        self.is_promise = False
        # Set when the connection is gone; calls then fail with this exception.
        self.broken: RpcException | None = None

    def describe(self) -> str:
        return f"import {self.import_id} on {self.connection.name}"


class PipelineCap(Cap):
    """The capability at ``path`` in the results of ``question``, before it returns."""

    __slots__ = ("path", "question", "target")

    def __init__(self, question: Question, path: tuple[int, ...]) -> None:
        super().__init__()
        self.question = question
        self.path = path
        # What a Call or Disembargo to it names, made once as for ImportCap (a question has its
        # id before anything can pipeline on it).
        self.target = MessageTarget(promised_answer=PromisedAnswer(question.id, path))

    def describe(self) -> str:
        return f"pipeline q{self.question.id}{list(self.path)} on {self.question.connection.name}"


class PromiseCap(Cap):
    """A promise for a capability; see Note [cap kinds]."""

    __slots__ = (
        "embargoed",
        "inner",
        "queued",
        "received_call",
        "reflector",
        "resolved",
        "waiters",
    )

    def __init__(self, inner: Cap | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.resolved: Cap | None = None
        self.received_call = False
        self.queued: list[OutgoingCall] = []
        self.embargoed = False
        # A resolved wrapper around a reference that points back to a peer (Note [tribble]).
        self.reflector = False
        # Work to run (through the vat's queue) once this settles, e.g. sending a Resolve.
        self.waiters: list[Callable[[], None]] = []

    def describe(self) -> str:
        if self.resolved is not None:
            return f"promise resolved to {self.resolved.describe()}"
        if self.inner is not None:
            return f"promise via {self.inner.describe()}"
        return "local promise"


class BrokenCap(Cap):
    """A capability whose every call fails with ``exception``."""

    __slots__ = ("exception", "is_null")

    def __init__(self, exception: RpcException, is_null: bool = False) -> None:
        super().__init__()
        self.exception = exception
        self.is_null = is_null

    def describe(self) -> str:
        return "null" if self.is_null else f"broken ({self.exception})"


def null_cap() -> BrokenCap:
    """A fresh null capability."""
    return BrokenCap(RpcException("called a null capability", ExceptionType.FAILED), is_null=True)
