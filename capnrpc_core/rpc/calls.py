"""The records behind calls: pending calls, deliveries, questions, answers and exports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capnrpc_core.rpc.messages import RpcException

if TYPE_CHECKING:
    from capnrpc_core.rpc.caps import Cap, LocalCap, PipelineCap, PromiseCap
    from capnrpc_core.rpc.connection import Connection

__all__ = ["Answer", "Delivery", "Export", "OutgoingCall", "PendingCall", "Question"]


class PendingCall:
    """One call from the moment it is made until its results are released.

    A call is made by the application (``Vat.call``), or by a peer (an incoming ``Call``, whose
    ``answer`` is then set), or by the vat itself (a bootstrap). Wherever it goes -- a local
    object, a question on some connection, a queue behind a promise -- it settles here once,
    with ``results`` (a wire pointer whose message's cap table is ``result_caps``) or with
    ``exception``. ``pipeline`` holds promises for capabilities inside the results.
    """

    __slots__ = (
        "answer",
        "canceled",
        "delivery",
        "done",
        "exception",
        "forward_to",
        "id",
        "interface_id",
        "method_id",
        "pipeline",
        "question",
        "redirect",
        "released",
        "result_caps",
        "results",
        "stream_bytes",
        "stream_target",
        "tail_redirected",
        "take_from_question",
        "watched_by_app",
    )

    def __init__(self, id_: int, interface_id: int, method_id: int) -> None:
        self.id = id_
        self.interface_id = interface_id
        self.method_id = method_id
        self.answer: Answer | None = None  # set when a peer made this call
        self.forward_to: PendingCall | None = None  # tail call: settle that one the same way
        self.question: Question | None = None
        self.delivery: Delivery | None = None
        self.pipeline: dict[tuple[int, ...], PromiseCap] = {}
        self.done = False
        self.results: object = None
        self.result_caps: list[Cap] = []
        self.exception: RpcException | None = None
        self.canceled = False
        self.released = False
        self.stream_target: Cap | None = None
        self.stream_bytes = 0
        # The application awaits this call (CallReturned is emitted when it settles).
        self.watched_by_app = False
        # Tail calls (Note [tail calls] in vat.py): this call's question asks the peer to keep
        # the results (sendResultsTo.yourself), or this answer's results are in another question.
        self.tail_redirected = False
        self.take_from_question: int | None = None
        # Where this call's results really come from (a tail call): pipelining goes there.
        self.redirect: PendingCall | None = None

    def __repr__(self) -> str:
        state = "done" if self.done else "pending"
        return f"<PendingCall {self.id} {self.interface_id:#x}.{self.method_id} {state}>"


class OutgoingCall:
    """A call on its way to a target: what to call, with what, and for whom."""

    __slots__ = ("caps", "content", "interface_id", "method_id", "pending", "size", "streaming")

    def __init__(
        self,
        pending: PendingCall,
        interface_id: int,
        method_id: int,
        content: object,
        caps: list[Cap],
        streaming: bool = False,
        size: int = 0,
    ) -> None:
        self.pending = pending
        self.interface_id = interface_id
        self.method_id = method_id
        self.content = content
        self.caps = caps
        self.streaming = streaming
        self.size = size


class Delivery:
    """A call to run on a local object; the driver answers it through the vat."""

    __slots__ = (
        "canceled",
        "done",
        "id",
        "interface_id",
        "method_id",
        "params",
        "params_caps",
        "pending",
        "server",
        "streaming",
        "target",
    )

    def __init__(self, id_: int, target: LocalCap, call: OutgoingCall) -> None:
        self.id = id_
        self.target = target
        self.server = target.server
        self.interface_id = call.interface_id
        self.method_id = call.method_id
        as_reader = getattr(call.content, "as_reader", None)
        # The server reads its params; hand it a reader even when the caller built them here.
        self.params = as_reader() if as_reader is not None else call.content
        self.params_caps = call.caps
        self.pending = call.pending
        self.streaming = call.streaming
        self.done = False
        self.canceled = False

    def __repr__(self) -> str:
        method = f"{self.interface_id:#x}.{self.method_id}"
        return f"<Delivery {self.id} {method} on {self.target.describe()}>"


class Question:
    """A question we asked on ``connection`` (see Note [question lifetime] in connection.py)."""

    __slots__ = (
        "connection",
        "finish_sent",
        "id",
        "pending",
        "pipeline_caps",
        "results_elsewhere",
        "returned",
        "wants_finish",
    )

    def __init__(self, connection: Connection, pending: PendingCall) -> None:
        self.connection = connection
        self.id = -1
        self.pending = pending
        self.returned = False
        # A tail call's results stay with the peer (Return.resultsSentElsewhere); the peer keeps
        # the answer, and pipelining on it, until our Finish.
        self.results_elsewhere = False
        self.finish_sent = False
        # The caller no longer needs the answer (it returned or the call was canceled); Finish
        # goes out once no raw PipelineCap refers to the question any more.
        self.wants_finish = False
        self.pipeline_caps: dict[tuple[int, ...], PipelineCap] = {}


class Answer:
    """A question the peer asked us."""

    __slots__ = (
        "call_bytes",
        "connection",
        "finish_received",
        "id",
        "is_bootstrap",
        "no_pipelining",
        "no_return",
        "pending",
        "result_exports",
        "return_sent",
        "send_results_to_yourself",
    )

    def __init__(self, connection: Connection, id_: int, pending: PendingCall) -> None:
        self.connection = connection
        self.id = id_
        self.pending = pending
        self.return_sent = False
        self.finish_received = False
        self.result_exports: list[int] = []
        self.call_bytes = 0
        self.send_results_to_yourself = False
        self.is_bootstrap = False
        self.no_pipelining = False  # Call.noPromisePipelining
        self.no_return = False  # Call.onlyPromisePipeline: the caller wants no Return


class Export:
    """A capability we exported on one connection; ``remote_refs`` is what the peer holds."""

    __slots__ = ("cap", "is_promise", "remote_refs")

    def __init__(self, cap: Cap, is_promise: bool) -> None:
        self.cap = cap
        self.remote_refs = 0
        self.is_promise = is_promise
