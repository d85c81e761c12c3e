"""Traces: a vat's whole history as text, readable by people and replayable byte for byte.

A :class:`TraceRecorder` stands in for a :class:`Vat` (same methods) and writes down every input
(bytes received, application commands) and every output (bytes to send, events) in order.
:func:`replay` feeds the inputs to a fresh vat and checks that every output comes out the same,
byte for byte: the core is deterministic, so any difference is a change in behaviour.

Format (one entry per line; ``#`` lines are comments, ignored by the parser)::

    capnrpc-trace 1
    vat <name> bootstrap=<0|1>
    conn c0 <name>
    cmd bootstrap c0 -> cap1
    send c0 <hex>
    # (bootstrap = (questionId = 0))
    recv c0 <hex>|eof
    event CallReturned call1 caps=cap2,-
    ...

Objects are named by handles (``c<n>`` connections, ``cap<n>`` capabilities, ``call<n>`` calls,
``del<n>`` deliveries, ``obj<n>`` local objects; ``obj0`` is the bootstrap object) assigned in
order of first appearance, so a replay can map them to its own objects. A payload is written as
``<hex>:<caps>``: the frame of a message whose root is the content, and the handles of its cap
table (``-`` for an empty entry). Every ``send`` and ``recv`` is followed by a comment with the
frame in Cap'n Proto text form (:mod:`capnrpc_core.rpc.text`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.rpc.calls import Delivery, PendingCall
from capnrpc_core.rpc.caps import Cap
from capnrpc_core.rpc.connection import Connection
from capnrpc_core.rpc.events import (
    CallReturned,
    ConnectionClosed,
    DeliverCall,
    DeliveryCanceled,
    Event,
    ServerReleased,
    StreamReady,
)
from capnrpc_core.rpc.limits import RpcLimits
from capnrpc_core.rpc.messages import ExceptionType, RpcException
from capnrpc_core.rpc.text import frame_text
from capnrpc_core.rpc.vat import Vat
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.framing import FrameDecoder, decode_frame, encode_frame
from capnrpc_core.wire.reader import AnyPointerReader, MessageReader

__all__ = ["TraceMismatch", "TraceObject", "TraceRecorder", "replay"]

MAGIC = "capnrpc-trace 1"


class TraceMismatch(AssertionError):
    """A replayed vat did not reproduce a recorded output."""


class TraceObject:
    """Stands in for an application object during replay."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<TraceObject {self.name}>"


class _Handles:
    """Two-way map between objects and their handle names, per kind."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.objects: dict[str, object] = {}
        self.counts: dict[str, int] = {}
        self.keep: list[object] = []  # keeps ids stable while the trace lives

    def name(self, obj: object, prefix: str) -> str:
        key = id(obj)
        name = self.names.get(key)
        if name is None:
            n = self.counts.get(prefix, 0)
            self.counts[prefix] = n + 1
            name = f"{prefix}{n}"
            self.names[key] = name
            self.objects[name] = obj
            self.keep.append(obj)
        return name

    def known(self, obj: object) -> str | None:
        return self.names.get(id(obj))

    def bind(self, name: str, obj: object) -> None:
        existing = self.objects.get(name)
        if existing is not None and existing is not obj:
            raise TraceMismatch(f"{name} names another object in the replay")
        self.objects[name] = obj
        self.names[id(obj)] = name
        self.keep.append(obj)

    def get(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise TraceMismatch(f"trace refers to {name} before it exists") from None


def _payload_frame(content: object) -> bytes:
    """The frame of a standalone message whose root is ``content`` (cap indexes kept)."""
    builder = MessageBuilder(keep_cap_indexes=True)
    if content is not None:
        if isinstance(content, AnyPointerReader) and content.is_null():
            pass
        else:
            builder.set_root(content)  # type: ignore[arg-type]
    return encode_frame(builder.segments())


def _caps_of(content: object) -> list[object]:
    message = getattr(content, "message", None)
    caps = getattr(message, "caps", None)
    return list(caps) if caps is not None else []


class TraceRecorder:
    """A :class:`Vat` that records everything it is told and everything it says."""

    def __init__(
        self,
        bootstrap: object | None = None,
        *,
        limits: RpcLimits | None = None,
        name: str = "vat",
        sink: Callable[[str], None] | None = None,
    ) -> None:
        self.vat = Vat(bootstrap, limits=limits, name=name)
        self.lines: list[str] = [MAGIC, f"vat {name} bootstrap={int(bootstrap is not None)}"]
        self._sink = sink
        self._h = _Handles()
        if bootstrap is not None:
            self._h.name(bootstrap if not isinstance(bootstrap, Cap) else object(), "obj")

    def __getattr__(self, name: str) -> Any:
        # Anything not recorded (limits, connections, stream_window_full, ...) is the vat's.
        return getattr(self.vat, name)

    def text(self) -> str:
        """The trace so far."""
        return "\n".join(self.lines) + "\n"

    def _emit(self, line: str) -> None:
        self.lines.append(line)
        if self._sink is not None:
            self._sink(line)

    def _frames(self, kind: str, conn: str, data: bytes) -> None:
        self._emit(f"{kind} {conn} {data.hex()}")
        for segments in FrameDecoder().feed(data):
            self._emit("# " + frame_text(encode_frame(segments)))

    def _payload(self, content: object) -> str:
        caps = [("-" if c is None else self._h.name(c, "cap")) for c in _caps_of(content)]
        return f"{_payload_frame(content).hex()}:{','.join(caps)}"

    # -- inputs ---------------------------------------------------------------------------------

    def new_connection(self, name: str | None = None) -> Connection:
        conn = self.vat.new_connection(name)
        self._emit(f"conn {self._h.name(conn, 'c')} {conn.name}")
        return conn

    def set_bootstrap(self, conn: Connection, cap: Cap | None) -> None:
        target = "-" if cap is None else self._h.name(cap, "cap")
        self._emit(f"cmd set_bootstrap {self._h.name(conn, 'c')} {target}")
        self.vat.set_bootstrap(conn, cap)

    def receive_data(self, conn: Connection, data: bytes) -> None:
        c = self._h.name(conn, "c")
        if data:
            self._frames("recv", c, data)
        else:
            self._emit(f"recv {c} eof")
        self.vat.receive_data(conn, data)

    def bootstrap(self, conn: Connection) -> Cap:
        cap = self.vat.bootstrap(conn)
        self._emit(f"cmd bootstrap {self._h.name(conn, 'c')} -> {self._h.name(cap, 'cap')}")
        return cap

    def call(
        self,
        target: Cap,
        interface_id: int,
        method_id: int,
        params: object = None,
        *,
        streaming: bool = False,
    ) -> PendingCall:
        t = self._h.name(target, "cap")
        payload = self._payload(params)
        call = self.vat.call(target, interface_id, method_id, params, streaming=streaming)
        flag = " stream" if streaming else ""
        self._emit(
            f"cmd call {t} {interface_id:#x} {method_id} {payload}{flag} -> "
            f"{self._h.name(call, 'call')}"
        )
        return call

    def pipeline(self, call: PendingCall, path: Iterable[int]) -> Cap:
        path = tuple(path)
        cap = self.vat.pipeline(call, path)
        p = ",".join(map(str, path)) or "-"
        self._emit(f"cmd pipeline {self._h.name(call, 'call')} {p} -> {self._h.name(cap, 'cap')}")
        return cap

    def cancel(self, call: PendingCall) -> None:
        self._emit(f"cmd cancel {self._h.name(call, 'call')}")
        self.vat.cancel(call)

    def release_call(self, call: PendingCall) -> None:
        self._emit(f"cmd release_call {self._h.name(call, 'call')}")
        self.vat.release_call(call)

    def add_ref(self, cap: Cap) -> Cap:
        self._emit(f"cmd add_ref {self._h.name(cap, 'cap')}")
        return self.vat.add_ref(cap)

    def release(self, cap: Cap) -> None:
        self._emit(f"cmd release {self._h.name(cap, 'cap')}")
        self.vat.release(cap)

    def local_cap(self, server: object, streaming_methods: Iterable[tuple[int, int]] = ()) -> Cap:
        methods = sorted(streaming_methods)
        cap = self.vat.local_cap(server, methods)
        spec = ",".join(f"{i:#x}.{m}" for i, m in methods) or "-"
        self._emit(
            f"cmd local_cap {self._h.name(server, 'obj')} {spec} -> {self._h.name(cap, 'cap')}"
        )
        return cap

    def new_promise(self) -> Cap:
        cap = self.vat.new_promise()
        self._emit(f"cmd new_promise -> {self._h.name(cap, 'cap')}")
        return cap

    def resolve(self, promise: Cap, target: Cap) -> None:
        self._emit(f"cmd resolve {self._h.name(promise, 'cap')} {self._h.name(target, 'cap')}")
        self.vat.resolve(promise, target)

    def reject(self, promise: Cap, exception: RpcException) -> None:
        self._emit(f"cmd reject {self._h.name(promise, 'cap')} {_exc(exception)}")
        self.vat.reject(promise, exception)

    def return_results(self, delivery: Delivery, results: object = None) -> None:
        d = self._h.name(delivery, "del")
        self._emit(f"cmd return_results {d} {self._payload(results)}")
        self.vat.return_results(delivery, results)

    def return_exception(self, delivery: Delivery, exception: RpcException) -> None:
        d = self._h.name(delivery, "del")
        self._emit(f"cmd return_exception {d} {_exc(exception)}")
        self.vat.return_exception(delivery, exception)

    def tail_call(
        self,
        delivery: Delivery,
        target: Cap,
        interface_id: int,
        method_id: int,
        params: object = None,
    ) -> None:
        d = self._h.name(delivery, "del")
        t = self._h.name(target, "cap")
        self._emit(f"cmd tail_call {d} {t} {interface_id:#x} {method_id} {self._payload(params)}")
        self.vat.tail_call(delivery, target, interface_id, method_id, params)

    def disconnect(self, conn: Connection, reason: str = "connection closed locally") -> None:
        self._emit(f"cmd disconnect {self._h.name(conn, 'c')} {reason.encode().hex()}")
        self.vat.disconnect(conn, reason)

    # -- outputs --------------------------------------------------------------------------------

    def data_to_send(self, conn: Connection) -> bytes:
        data = self.vat.data_to_send(conn)
        if data:
            self._frames("send", self._h.name(conn, "c"), data)
        return data

    def output_ready(self) -> list[tuple[Connection, bytes]]:
        out = self.vat.output_ready()
        for conn, data in out:
            self._frames("send", self._h.name(conn, "c"), data)
        return out

    def next_event(self) -> Event | None:
        event = self.vat.next_event()
        if event is not None:
            self._emit("event " + self._event_text(event))
        return event

    def events(self) -> list[Event]:
        out = []
        while (event := self.next_event()) is not None:
            out.append(event)
        return out

    def _event_text(self, event: Event) -> str:
        return _describe_event(event, self._h)


def _exc(exc: RpcException) -> str:
    return f"{exc.type.name.lower()} {exc.reason.encode().hex()} {exc.trace.encode().hex()}"


def _parse_exc(kind: str, reason: str, trace: str) -> RpcException:
    return RpcException(
        bytes.fromhex(reason).decode(), ExceptionType[kind.upper()], bytes.fromhex(trace).decode()
    )


def _describe_event(event: Event, h: _Handles) -> str:
    """One event as text, naming (recording) or checking (replay) the objects it carries."""
    if isinstance(event, DeliverCall):
        d = event.delivery
        caps = ",".join("-" if c is None else h.name(c, "cap") for c in d.params_caps)
        server = h.known(d.server) or h.name(d.server, "obj")
        params = _payload_frame(d.params).hex()
        return (
            f"DeliverCall {h.name(d, 'del')} {server} {d.interface_id:#x} {d.method_id} "
            f"{params}:{caps}"
        )
    if isinstance(event, CallReturned):
        call = event.call
        if call.exception is not None:
            return f"CallReturned {h.name(call, 'call')} exception {_exc(call.exception)}"
        caps = ",".join("-" if c is None else h.name(c, "cap") for c in _caps_of(call.results))
        return f"CallReturned {h.name(call, 'call')} {_payload_frame(call.results).hex()}:{caps}"
    if isinstance(event, DeliveryCanceled):
        return f"DeliveryCanceled {h.name(event.delivery, 'del')}"
    if isinstance(event, StreamReady):
        return f"StreamReady {h.name(event.call, 'call')}"
    if isinstance(event, ServerReleased):
        return f"ServerReleased {h.known(event.server) or h.name(event.server, 'obj')}"
    assert isinstance(event, ConnectionClosed)
    reason = "" if event.exception is None else _exc(event.exception)
    return f"ConnectionClosed {h.name(event.connection, 'c')} by_peer={int(event.by_peer)} {reason}"


class _Replayer:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.h = _Handles()
        self.vat: Vat | None = None

    def payload(self, text: str) -> object:
        frame_hex, _, caps_text = text.partition(":")
        reader = MessageReader(decode_frame(bytes.fromhex(frame_hex)))
        caps: list[object] = [
            None if n == "-" else self.h.get(n) for n in caps_text.split(",") if n
        ]
        builder = MessageBuilder(keep_cap_indexes=True)
        root = reader.root()
        if not root.is_null():
            builder.set_root(root)
        builder.caps[:] = caps
        root_ptr = builder.root()
        if root_ptr.is_null():
            return None
        kind = root_ptr.as_reader().kind()
        if kind == "struct":
            return root_ptr.get_struct()
        return root_ptr

    def run(self) -> Vat:
        lines = [ln for ln in self.lines if ln.strip() and not ln.startswith("#")]
        if not lines or lines[0] != MAGIC:
            raise LocalUsageError(f"not a capnrpc trace (first line must be {MAGIC!r})")
        for lineno, line in enumerate(lines[1:], start=2):
            try:
                self.step(line.split(" "))
            except TraceMismatch as exc:
                raise TraceMismatch(f"line {lineno}: {exc}\n  {line[:200]}") from None
        return self._vat

    @property
    def _vat(self) -> Vat:
        if self.vat is None:
            raise TraceMismatch("no 'vat' line before the first entry")
        return self.vat

    def step(self, f: list[str]) -> None:
        kind = f[0]
        h = self.h
        if kind == "vat":
            has_boot = f[2] == "bootstrap=1"
            boot = TraceObject("obj0") if has_boot else None
            self.vat = Vat(boot, name=f[1])
            if boot is not None:
                h.name(boot, "obj")
            return
        vat = self._vat
        if kind == "conn":
            conn = vat.new_connection(" ".join(f[2:]))
            h.bind(f[1], conn)
        elif kind == "recv":
            vat.receive_data(h.get(f[1]), b"" if f[2] == "eof" else bytes.fromhex(f[2]))
        elif kind == "send":
            got = vat.data_to_send(h.get(f[1]))
            want = bytes.fromhex(f[2])
            if got != want:
                raise TraceMismatch(_diff_frames(want, got))
        elif kind == "event":
            event = vat.next_event()
            if event is None:
                raise TraceMismatch(f"expected event {' '.join(f[1:3])}, the vat has none")
            self.check_event(event, f[1:])
        elif kind == "cmd":
            self.command(f[1:])
        else:
            raise TraceMismatch(f"unknown entry {kind!r}")

    def check_event(self, event: Event, f: list[str]) -> None:
        # Bind the handles the recorded event introduced, then compare the whole text.
        h = self.h
        if type(event).__name__ != f[0]:
            raise TraceMismatch(f"expected event {f[0]}, got {type(event).__name__}")
        objs: list[tuple[str, object]] = []
        if isinstance(event, DeliverCall):
            d = event.delivery
            objs = [(f[1], d), (f[2], d.server)]
            names = f[5].partition(":")[2].split(",") if ":" in f[5] else []
            objs += [(n, c) for n, c in zip(names, d.params_caps, strict=False) if n != "-"]
        elif isinstance(event, CallReturned):
            objs = [(f[1], event.call)]
            if event.call.exception is None and ":" in f[2]:
                names = f[2].partition(":")[2].split(",")
                caps = _caps_of(event.call.results)
                objs += [(n, c) for n, c in zip(names, caps, strict=False) if n and n != "-"]
        elif isinstance(event, DeliveryCanceled):
            objs = [(f[1], event.delivery)]
        elif isinstance(event, StreamReady):
            objs = [(f[1], event.call)]
        elif isinstance(event, ServerReleased):
            objs = [(f[1], event.server)]
        elif isinstance(event, ConnectionClosed):
            objs = [(f[1], event.connection)]
        for name, obj in objs:
            if obj is not None and h.known(obj) is None:
                h.bind(name, obj)
        got = _describe_event(event, h)
        want = " ".join(f)
        if got.rstrip() != want.rstrip():
            raise TraceMismatch(f"event differs:\n  want {want[:300]}\n  got  {got[:300]}")

    def command(self, f: list[str]) -> None:
        vat = self._vat
        h = self.h
        op = f[0]
        if op == "bootstrap":
            h.bind(f[3], vat.bootstrap(h.get(f[1])))
        elif op == "call":
            streaming = f[5] == "stream"
            out = f[7] if streaming else f[6]
            params = self.payload(f[4])
            call = vat.call(h.get(f[1]), int(f[2], 16), int(f[3]), params, streaming=streaming)
            h.bind(out, call)
        elif op == "pipeline":
            path = () if f[2] == "-" else tuple(int(x) for x in f[2].split(","))
            h.bind(f[4], vat.pipeline(h.get(f[1]), path))
        elif op == "cancel":
            vat.cancel(h.get(f[1]))
        elif op == "release_call":
            vat.release_call(h.get(f[1]))
        elif op == "add_ref":
            vat.add_ref(h.get(f[1]))
        elif op == "release":
            vat.release(h.get(f[1]))
        elif op == "local_cap":
            obj = h.objects.get(f[1])
            if obj is None:
                obj = TraceObject(f[1])
                h.bind(f[1], obj)
            methods = [] if f[2] == "-" else [_method(x) for x in f[2].split(",")]
            h.bind(f[4], vat.local_cap(obj, methods))
        elif op == "new_promise":
            h.bind(f[2], vat.new_promise())
        elif op == "resolve":
            vat.resolve(h.get(f[1]), h.get(f[2]))
        elif op == "reject":
            vat.reject(h.get(f[1]), _parse_exc(f[2], f[3], f[4]))
        elif op == "return_results":
            vat.return_results(h.get(f[1]), self.payload(f[2]))
        elif op == "return_exception":
            vat.return_exception(h.get(f[1]), _parse_exc(f[2], f[3], f[4]))
        elif op == "tail_call":
            vat.tail_call(h.get(f[1]), h.get(f[2]), int(f[3], 16), int(f[4]), self.payload(f[5]))
        elif op == "set_bootstrap":
            vat.set_bootstrap(h.get(f[1]), None if f[2] == "-" else h.get(f[2]))
        elif op == "disconnect":
            vat.disconnect(h.get(f[1]), bytes.fromhex(f[2]).decode())
        else:
            raise TraceMismatch(f"unknown command {op!r}")


def _method(text: str) -> tuple[int, int]:
    iface, _, method = text.partition(".")
    return int(iface, 16), int(method)


def _diff_frames(want: bytes, got: bytes) -> str:
    def texts(data: bytes) -> Iterator[str]:
        try:
            for segments in FrameDecoder().feed(data):
                yield frame_text(encode_frame(segments))
        except DecodeError as exc:
            yield f"<undecodable: {exc}>"

    return (
        "output differs:\n  want: "
        + " | ".join(texts(want))
        + "\n  got:  "
        + " | ".join(texts(got))
    )


def replay(trace: str) -> Vat:
    """Replay a trace through a fresh vat; raise :class:`TraceMismatch` on any difference."""
    return _Replayer(trace.splitlines()).run()
