"""Typed interfaces over the protocol core: clients, promises and servers, for any driver.

``module.Calculator`` (from :func:`capnrpc_core.load` or a generated module) is a client type:
``Calculator(runtime, cap)`` wraps one core capability reference, and each schema method is a
Python method that sends a call and returns the driver's :class:`Promise`.
``module.Calculator.Server`` is the base class of implementations. Nothing here does IO or
waits: a driver supplies a :class:`Runtime` (the vat, a lock, a way to flush output, a
finalizer-safe release queue) and makes promises awaitable or blockable.

Note [capability ownership]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
The core counts references explicitly; Python code holds objects. The bridge has three rules.

- A :class:`Client` owns exactly one core reference, given back by ``release()``, by leaving a
  ``with`` block, or (as a last resort) by its finalizer, which only hands the reference to
  ``runtime.release_later`` because a finalizer may run in the middle of a vat operation.
- A message being *built* holds plain Python values in its cap table (clients, servers, caps
  copied from a received message) and no core references at all; they are taken only when the
  message is sent (:func:`take_caps`). A builder that is dropped unsent therefore leaks nothing.
- A message being *read* (a call's results, a delivery's params) is read through a view whose
  cap table holds :class:`BoundCap` entries: each names the runtime and owns one reference
  (given back by its finalizer), so a view, or a struct copied out of it into a builder, stays
  usable for as long as Python keeps it. Reading a capability field gives a new
  :class:`Client` with its own reference. The call's own copy of its results is released when
  the promise and every view of it are gone, or at once by ``promise.release()``.

Note [promises are not cancelled when dropped]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
Dropping a :class:`Promise` only says the results are not wanted (``vat.release_call``); the
call still runs. Cancelling it instead would also cancel calls pipelined on its results, which
are commonly made on a temporary promise (``calc.evaluate(e).value.read()``). Cancellation is
explicit: ``promise.cancel()``, or the driver's own cancellation of a wait.
"""

from __future__ import annotations

import copy
import inspect
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from capnrpc_core.errors import LocalUsageError, RpcError
from capnrpc_core.rpc.calls import Delivery, PendingCall
from capnrpc_core.rpc.caps import Cap
from capnrpc_core.rpc.messages import ExceptionType, RpcException
from capnrpc_core.schema.capabilities import Interface, InterfaceSchema
from capnrpc_core.schema.errors import FieldTypeError
from capnrpc_core.schema.model import InterfaceNode, Kind, Method
from capnrpc_core.schema.structs import (
    Struct,
    StructBuilder,
    StructReader,
    attribute_name,
)
from capnrpc_core.wire.builder import MessageBuilder
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.reader import AnyPointerReader as WireAnyPointerReader
from capnrpc_core.wire.reader import MessageReader
from capnrpc_core.wire.reader import StructReader as WireStructReader

if TYPE_CHECKING:
    from capnrpc_core.rpc.connection import Connection
    from capnrpc_core.rpc.vat import Vat
    from capnrpc_core.schema.registry import TypeRegistry

__all__ = [
    "BoundCap",
    "CallContext",
    "Client",
    "Invocation",
    "MethodInfo",
    "Promise",
    "Runtime",
    "Server",
    "bootstrap_client",
    "cancel_delivery",
    "fail_delivery",
    "finish_delivery",
    "local_client",
    "make_client_type",
    "method_display_name",
    "release_now",
    "start_delivery",
    "take_caps",
    "unwrap_capability",
    "wrap_capability",
]

# A message's first segment, in words: small, since most RPC payloads are (the builder grows).
_FIRST_SEGMENT_WORDS = 32


class Runtime(Protocol):
    """What a driver provides to the typed layer (see docs/drivers-trio.md)."""

    vat: Vat

    def make_promise(self, call: PendingCall, result_type: type[Struct] | None) -> Promise:
        """The driver's :class:`Promise` subclass for ``call``."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Held around every vat access."""
        ...

    def flush(self) -> None:
        """Called after every vat command: write queued output, handle new events."""
        ...

    def release_later(self, ref: Cap | PendingCall) -> None:
        """From a finalizer: release ``ref`` soon, on the driver's own task (thread-safe).

        A :class:`Cap` gets ``vat.release``, a :class:`PendingCall` ``vat.release_call``
        (see :func:`release_now`).
        """
        ...


def release_now(vat: Vat, ref: Cap | PendingCall) -> None:
    """Do what :meth:`Runtime.release_later` deferred: release a reference or a call."""
    if isinstance(ref, PendingCall):
        vat.release_call(ref)
    elif ref.refs > 0:
        vat.release(ref)


# == methods ======================================================================================

_METHOD_NAMES: dict[tuple[int, int], str] = {}


def method_display_name(interface_id: int, method_id: int) -> str | None:
    """``"Calculator.evaluate"`` for a method of any interface type made so far, else None."""
    return _METHOD_NAMES.get((interface_id, method_id))


class MethodInfo:
    """One method of one interface, with its param and result types made on first use."""

    __slots__ = (
        "_params",
        "_params_plan",
        "_registry",
        "_results",
        "_results_plan",
        "_single",
        "attr",
        "display",
        "interface_id",
        "method",
        "method_id",
        "name",
        "streaming",
    )

    def __init__(self, registry: TypeRegistry, iface: InterfaceNode, method: Method) -> None:
        self._registry = registry
        self.method = method
        self.name = method.name
        self.attr = attribute_name(method.name)
        self.interface_id = iface.id
        self.method_id = method.ordinal
        self.streaming = method.is_streaming
        self.display = f"{iface.short_name}.{method.name}"
        self._params: type[Struct] | None = None
        self._results: type[Struct] | None = None
        self._params_plan: _RootPlan | None = None
        self._results_plan: _RootPlan | None = None
        self._single: tuple[Callable[[Any, Any], None] | None] | None = None
        _METHOD_NAMES.setdefault((iface.id, method.ordinal), self.display)

    @property
    def params_type(self) -> type[Struct]:
        """The struct type of the parameters."""
        if self._params is None:
            self._params = self._registry.struct_type(self.method.param_struct_id)
        return self._params

    @property
    def results_type(self) -> type[Struct]:
        """The struct type of the results (``StreamResult`` for a streaming method)."""
        if self._results is None:
            self._results = self._registry.struct_type(self.method.result_struct_id)
        return self._results

    def new_params(self) -> StructBuilder:
        """A new params message (its root's builder), as ``params_type.new_message`` makes."""
        plan = self._params_plan
        if plan is None:
            plan = self._params_plan = _root_plan(self.params_type)
        return _new_root(plan)

    def new_results(self) -> StructBuilder:
        """A new results message (its root's builder), as ``results_type.new_message`` makes."""
        plan = self._results_plan
        if plan is None:
            plan = self._results_plan = _root_plan(self.results_type)
        return _new_root(plan)

    def single_setter(self) -> Callable[[Any, Any], None] | None:
        """The setter of the results' only field, or None unless they have exactly one."""
        single = self._single
        if single is None:
            rtype = self.results_type
            names = _positional_names(rtype)
            setter = rtype.Builder._layout.setters[names[0]] if len(names) == 1 else None
            single = self._single = (setter,)
        return single[0]

    def __repr__(self) -> str:
        return f"<method {self.display} @{self.method_id}>"


# A struct type's Builder class and root size: what a new message of it needs.
_RootPlan = tuple[type[StructBuilder], int, int]


def _root_plan(struct_type: type[Struct]) -> _RootPlan:
    node = struct_type.schema.node
    if node.is_group:
        struct_type.new_message()  # raises: a group cannot be a message root
    return struct_type.Builder, node.data_word_count, node.pointer_count


def _new_root(plan: _RootPlan) -> StructBuilder:
    builder_type, data_words, pointer_count = plan
    return builder_type(
        MessageBuilder.new_root(data_words, pointer_count, _FIRST_SEGMENT_WORDS), True
    )


_INFOS: dict[tuple[int, int, int], MethodInfo] = {}


def _method_infos(registry: TypeRegistry, node: InterfaceNode) -> list[MethodInfo]:
    """Every method callable on ``node``: its own first, then its superclasses'."""
    out = []
    for iface, method in registry.schemas.all_methods(node.id):
        key = (id(registry), iface.id, method.ordinal)
        info = _INFOS.get(key)
        if info is None:
            info = _INFOS[key] = MethodInfo(registry, iface, method)
        out.append(info)
    return out


# == capabilities in messages =====================================================================


class _ResultsOwner:
    """Keeps a call's results in the vat while its promise exists (pipelining needs them)."""

    __slots__ = ("call", "released", "runtime")

    def __init__(self, runtime: Runtime, call: PendingCall) -> None:
        self.runtime = runtime
        self.call = call
        self.released = False

    def alive(self) -> bool:
        return not self.released and not self.call.released

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        runtime = self.runtime
        with runtime.lock():
            runtime.vat.release_call(self.call)
        runtime.flush()

    def __del__(self) -> None:
        if not self.released:
            self.released = True
            # try/except rather than contextlib.suppress: this runs once per call.
            try:
                if _worth_releasing(self.call):
                    self.runtime.release_later(self.call)
            except Exception:
                pass


# Settled results up to this size are left to the garbage collector with their call.
_SMALL_RESULTS = 8192


def _worth_releasing(call: PendingCall) -> bool:
    """Whether releasing a dropped call's results does more than free a little memory.

    A settled call with no capabilities, pipelines or redirect in its results holds nothing
    but bytes: releasing it only drops them a little sooner, and costs the driver a wake-up.
    Big results are released all the same, so that they are not left to the cycle collector.
    """
    if not call.done or call.released:
        return not call.released
    if call.result_caps or call.pipeline or call.redirect is not None:
        return True
    results = call.results
    if results is None:
        return False
    message = getattr(results, "message", None)
    if message is None:
        return True
    size = 0
    for segment in message.segments:
        size += len(segment)
    return size > _SMALL_RESULTS


class BoundCap:
    """A cap-table entry of a received message, as seen through a typed view.

    Owns one reference to ``cap`` (taken by the view; its finalizer gives it back).
    """

    __slots__ = ("cap", "runtime")

    def __init__(self, runtime: Runtime, cap: Cap) -> None:
        self.runtime = runtime
        self.cap = cap

    def __del__(self) -> None:
        # try/except rather than contextlib.suppress: this runs once per capability received.
        try:  # noqa: SIM105
            self.runtime.release_later(self.cap)
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<BoundCap {self.cap.describe()}>"


def wrap_capability(interface_type: Any, entry: object) -> object:
    """Registry hook: a cap-table entry read from a capability field, as the application sees it.

    A :class:`BoundCap` becomes a new client of ``interface_type`` with its own reference;
    anything else (a value put into a builder, a plain message's entry) is returned unchanged.
    """
    if not isinstance(entry, BoundCap):
        return entry
    runtime = entry.runtime
    cls: type[Client] = (
        interface_type
        if isinstance(interface_type, type) and issubclass(interface_type, Client)
        else Client
    )
    with runtime.lock():
        cap = runtime.vat.add_ref(entry.cap)
    return cls(runtime, cap)


def unwrap_capability(interface_type: Any, value: object) -> object:
    """Registry hook: what a builder's cap table keeps for ``value`` (the value itself).

    References are taken only when the message is sent (Note [capability ownership]).
    """
    return value


def take_caps(runtime: Runtime, caps: list[object]) -> None:
    """Turn a built message's cap table into owned core references, in place, for sending.

    Entries may be clients, :class:`Server` objects, :class:`BoundCap` entries copied from a
    received message, core caps (whose reference the message already owns) or None. On error
    nothing is taken and the table is unchanged. Call with the runtime's lock held.
    """
    if not caps:
        return
    vat = runtime.vat
    out: list[object] = []
    taken: list[Cap] = []
    try:
        for entry in caps:
            if entry is None or isinstance(entry, Cap):
                out.append(entry)
                continue
            cap = _take(runtime, entry)
            taken.append(cap)
            out.append(cap)
    except BaseException:
        vat.release_all(taken)
        raise
    caps[:] = out


def _take(runtime: Runtime, entry: object) -> Cap:
    vat = runtime.vat
    if isinstance(entry, Client):
        cap = entry._cap
        if cap is None:
            raise LocalUsageError(f"a released client was put into a message: {entry!r}")
        if entry._runtime.vat is not vat:
            raise LocalUsageError(
                f"{entry!r} belongs to another vat; pass capabilities only to connections of "
                "the vat they came from (share one vat between connections to proxy them)"
            )
        return vat.add_ref(cap)
    if isinstance(entry, Server):
        return vat.local_cap(entry, type(entry)._streaming_methods())
    if isinstance(entry, BoundCap):
        if entry.runtime.vat is not vat:
            raise LocalUsageError("a capability from another vat's message was put into a message")
        return vat.add_ref(entry.cap)
    raise LocalUsageError(
        f"a capability field holds {entry!r}: expected a client, a Server object or None"
    )


def _bind(runtime: Runtime, content: object) -> WireStructReader:
    """A view of a received struct whose cap table is made of :class:`BoundCap` entries."""
    # The common case first: a message without capabilities needs no view of its own. (The
    # exact type tests narrow ``content`` for mypy, where a cast would cost a call.)
    if type(content) is WireAnyPointerReader:
        if not content.message.caps:
            return content.as_struct()
    elif type(content) is WireStructReader and not content.message.caps:
        return content
    if content is None:
        return MessageReader([bytes(8)]).get_root_struct()
    if not isinstance(content, WireStructReader | WireAnyPointerReader):
        raise LocalUsageError(f"cannot read {content!r} as a struct")
    message = content.message
    if not message.caps:
        # Nothing to bind: a view would differ from the core's reader only in its cap table.
        return content.as_struct() if isinstance(content, WireAnyPointerReader) else content
    vat = runtime.vat
    with runtime.lock():
        bound = [
            BoundCap(runtime, vat.add_ref(c)) if isinstance(c, Cap) else c for c in message.caps
        ]
    view = MessageReader(message.segments, bound, message.limits)
    pointer = copy.copy(content)
    pointer.message = view
    if isinstance(pointer, WireAnyPointerReader):
        return pointer.as_struct()
    return pointer


# == clients ======================================================================================


class Client:
    """A capability held by the application: the base of every interface's client type.

    ``Client(runtime, cap)`` takes over one reference to ``cap``. Release it with
    :meth:`release` or a ``with`` block; the finalizer is a safety net, not a plan.
    """

    schema: ClassVar[InterfaceSchema]
    _interface_id: ClassVar[int] = 0

    def __init__(self, runtime: Runtime, cap: Cap) -> None:
        self._runtime = runtime
        self._cap: Cap | None = cap
        self._stream: _StreamState | None = None

    # -- lifetime ------------------------------------------------------------------------------

    def _release(self) -> None:
        cap = self._cap
        if cap is None:
            return
        self._cap = None
        runtime = self._runtime
        with runtime.lock():
            runtime.vat.release(cap)
        runtime.flush()

    def release(self) -> None:
        """Give the reference back (idempotent)."""
        self._release()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def __del__(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            self._cap = None
            # try/except rather than contextlib.suppress: this runs for every client dropped,
            # a pipelined one per step of a chain.
            try:  # noqa: SIM105
                self._runtime.release_later(cap)
            except Exception:
                pass

    # -- conversions ---------------------------------------------------------------------------

    def _cast_as(self, interface_type: type[Any]) -> Any:
        if not (isinstance(interface_type, type) and issubclass(interface_type, Client)):
            raise LocalUsageError(f"cast_as() takes an interface type, not {interface_type!r}")
        runtime = self._runtime
        with runtime.lock():
            cap = runtime.vat.add_ref(self._live())
        return interface_type(runtime, cap)

    def cast_as(self, interface_type: type[Any]) -> Any:
        """A new client of ``interface_type`` for the same capability (its own reference)."""
        return self._cast_as(interface_type)

    @classmethod
    def _new_client(cls, server: Server, runtime: Runtime) -> Any:
        """A client of this type for a local ``server`` object (pycapnp's spelling)."""
        return local_client(runtime, server, cls)

    @property
    def runtime(self) -> Runtime:
        """The runtime (driver) this client belongs to."""
        return self._runtime

    @property
    def cap(self) -> Cap:
        """The core capability reference (raises if released)."""
        return self._live()

    @property
    def released(self) -> bool:
        """Whether :meth:`release` was called."""
        return self._cap is None

    def _live(self) -> Cap:
        cap = self._cap
        if cap is None:
            raise LocalUsageError(f"used a released client ({type(self).__name__})")
        return cap

    # -- calls ---------------------------------------------------------------------------------

    def _call(self, info: MethodInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Promise:
        """Send ``info``'s method with params from ``args``/``kwargs``."""
        builder = info.new_params()
        if args:
            params_type = info.params_type
            if len(args) == 1 and not kwargs and _is_struct_of(args[0], params_type):
                builder._assign(args[0], info.display)
                return self._send_built(info, builder)
            names = _positional_names(params_type)
            if len(args) > len(names):
                raise TypeError(
                    f"{info.display}() takes {len(names)} positional arguments "
                    f"but {len(args)} were given"
                )
            for name, value in zip(names, args, strict=False):
                if name in kwargs:
                    raise TypeError(f"{info.display}() got multiple values for {name!r}")
                kwargs[name] = value
        if kwargs:
            builder._assign_dict(kwargs)
        return self._send_built(info, builder)

    def _send_built(self, info: MethodInfo, builder: StructBuilder) -> Promise:
        runtime = self._runtime
        target = self._cap
        if target is None:
            target = self._live()  # raises
        wire: WireStructBuilder = builder._s
        caps = wire.message.caps
        streaming = info.streaming
        with runtime.lock():
            if caps:
                take_caps(runtime, caps)
            call = runtime.vat.call(
                target, info.interface_id, info.method_id, wire, streaming=streaming
            )
        runtime.flush()
        promise = runtime.make_promise(call, info.results_type)
        if streaming:
            state = self._stream
            if state is None:
                state = self._stream = _StreamState()
            state.calls.append(call)
            promise._stream = (target, state)
        return promise

    def _send(self, method_name: str, *args: Any, **kwargs: Any) -> Promise:
        """Call a method by its schema name (pycapnp's ``_send``)."""
        for info in self._method_infos():
            if info.name == method_name:
                return self._call(info, args, kwargs)
        raise AttributeError(f"{type(self).__name__} has no method {method_name!r}")

    @classmethod
    def _method_infos(cls) -> list[MethodInfo]:
        schema = getattr(cls, "schema", None)
        if schema is None:
            return []
        return _method_infos(cast(Any, cls)._registry, schema.node)

    def __repr__(self) -> str:
        state = self._cap.describe() if self._cap is not None else "released"
        return f"<{type(self).__name__} client: {state}>"


class _StreamState:
    """Streaming calls a client has in flight, and the first failure among them."""

    __slots__ = ("calls", "error")

    def __init__(self) -> None:
        self.calls: deque[PendingCall] = deque()
        self.error: RpcException | None = None

    def check(self) -> None:
        """Raise the first failure of an earlier streaming call, as C++'s flow controller does."""
        calls = self.calls
        while calls and calls[0].done:
            done = calls.popleft()
            if done.exception is not None and self.error is None:
                self.error = done.exception
        if self.error is not None:
            raise RpcError.from_exception(self.error)


def _is_struct_of(value: object, struct_type: type[Struct]) -> bool:
    return (
        isinstance(value, StructReader | StructBuilder)
        and value.schema.node.id == struct_type.schema.node.id
    )


_POSITIONAL: dict[int, tuple[str, ...]] = {}


def _positional_names(struct_type: type[Struct]) -> tuple[str, ...]:
    node = struct_type.schema.node
    names = _POSITIONAL.get(node.id)
    if names is None:
        fields = sorted(node.fields, key=lambda f: f.code_order)
        names = _POSITIONAL[node.id] = tuple(f.name for f in fields)
    return names


def _client_method(info: MethodInfo) -> Callable[..., Promise]:
    def method(self: Client, *args: Any, **kwargs: Any) -> Promise:
        return self._call(info, args, kwargs)

    method.__name__ = info.attr
    method.__qualname__ = info.display
    kind = "streaming method" if info.streaming else "method"
    method.__doc__ = f"Call {kind} ``{info.display}`` (@{info.method_id}); returns a promise."
    return method


def make_client_type(registry: TypeRegistry, node: InterfaceNode, name: str) -> type[Interface]:
    """The client type of interface ``node`` (``module.Foo``), with ``Foo.Server``."""
    supers = [registry.interface_type(s.id) for s in node.superclasses]
    module, _, qualname = node.display_name.rpartition(":")
    ns: dict[str, Any] = {
        "schema": InterfaceSchema(node, registry),
        "_registry": registry,
        "_interface_id": node.id,
        "__doc__": f"Client of interface ``{node.display_name}``.",
        "__module__": module,
        "__qualname__": qualname or name,
    }
    infos = _method_infos(registry, node)
    own = [i for i in infos if i.interface_id == node.id]
    for info in own:
        ns[info.attr] = _client_method(info)
    cls: type[Interface]
    try:
        bases: tuple[type, ...] = tuple(supers) if supers else (Client, Interface)
        cls = type(name, bases, dict(ns))
    except TypeError:
        # An inheritance graph Python cannot linearise: flatten it.
        for info in infos:
            ns.setdefault(info.attr, _client_method(info))
        cls = type(name, (Client, Interface), ns)
    server_ns: dict[str, Any] = {
        "_interface": cls,
        "__doc__": f"Base class of ``{node.display_name}`` implementations.",
        "__module__": module,
        "__qualname__": f"{qualname or name}.Server",
    }
    try:
        server_bases = tuple(cast(Any, s).Server for s in supers) or (Server,)
        server = type("Server", server_bases, server_ns)
    except TypeError:
        server = type("Server", (Server,), server_ns)
    cast(Any, cls).Server = server
    return cls


def bootstrap_client(runtime: Runtime, conn: Connection, interface_type: type[Any] | None) -> Any:
    """A client for the bootstrap capability of ``conn``'s peer."""
    with runtime.lock():
        cap = runtime.vat.bootstrap(conn)
    runtime.flush()
    return (interface_type or Client)(runtime, cap)


def local_client(runtime: Runtime, server: Server, interface_type: type[Any] | None = None) -> Any:
    """A client for the local object ``server`` (``vat.local_cap``)."""
    if not isinstance(server, Server):
        raise LocalUsageError(f"local_client() takes a Server object, not {server!r}")
    cls = interface_type or type(server)._first_interface() or Client
    with runtime.lock():
        cap = runtime.vat.local_cap(server, type(server)._streaming_methods())
    return cls(runtime, cap)


# == promises =====================================================================================


class Promise:
    """A call in flight: a driver makes it awaitable (or blockable); pipelining is shared.

    ``promise.field`` for a capability field of the results is a client usable at once
    (``vat.pipeline``); for a struct field or a group it is a promise for that part.
    """

    def __init__(
        self,
        runtime: Runtime,
        call: PendingCall,
        result_type: type[Struct] | None,
        *,
        parent: Promise | None = None,
        names: tuple[str, ...] = (),
        path: tuple[int, ...] = (),
    ) -> None:
        self._runtime = runtime
        self._call = call
        self._result_type = result_type
        self._parent = parent
        self._names = names
        self._path = path
        self._owner: _ResultsOwner = (
            parent._owner if parent is not None else _ResultsOwner(runtime, call)
        )
        self._root_reader: Any = None
        self._canceled = False
        self._stream: tuple[Cap, _StreamState] | None = None

    @property
    def runtime(self) -> Runtime:
        """The runtime (driver) of the call."""
        return self._runtime

    @property
    def call(self) -> PendingCall:
        """The core's pending call."""
        return self._call

    @property
    def result_type(self) -> type[Struct] | None:
        """The struct type this promise settles to (None for an AnyPointer field)."""
        return self._result_type

    @property
    def done(self) -> bool:
        """Whether the call has settled."""
        return self._call.done

    # -- pipelining ----------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._field(name)

    def _field(self, name: str) -> Any:
        """The pipelined client or sub-promise for results field ``name``."""
        rtype = self._result_type
        if rtype is None:
            raise AttributeError(
                f"this promise is for an AnyPointer: pipeline with .cast_as(Interface), not .{name}"
            )
        step = _PIPELINE_STEPS.get((rtype, name))
        if step is None:
            step = _pipeline_step(rtype, name)
        target, field_name, index = step
        if field_name is None:
            assert index is not None
            return self._pipelined_client(target, (*self._path, index))
        return self._sub(target, field_name, index)

    def _sub(self, result_type: type[Struct] | None, name: str, index: int | None) -> Promise:
        path = self._path if index is None else (*self._path, index)
        return type(self)(
            self._runtime,
            self._call,
            result_type,
            parent=self,
            names=(*self._names, name),
            path=path,
        )

    def _pipelined_client(self, interface_type: type[Any], path: tuple[int, ...]) -> Any:
        runtime = self._runtime
        if self._canceled or not self._owner.alive():
            raise LocalUsageError("pipelined on a promise that was canceled or released")
        with runtime.lock():
            cap = runtime.vat.pipeline(self._call, path)
        runtime.flush()
        return interface_type(runtime, cap)

    def cast_as(self, interface_type: type[Any]) -> Any:
        """A pipelined client for the capability this (AnyPointer) promise stands for."""
        return self._pipelined_client(interface_type, self._path)

    # -- results -------------------------------------------------------------------------------

    def _result(self) -> Any:
        """The typed results (after the call settled); raises :class:`RpcError` if it failed."""
        call = self._call
        if self._canceled:
            raise RpcError("failed", "the call was canceled")
        if not call.done:
            raise LocalUsageError("the call has not settled yet")
        if call.exception is not None:
            raise RpcError.from_exception(call.exception)
        if self._stream is not None:
            return None
        if not self._owner.alive():
            raise LocalUsageError("the call's results were already released")
        if self._parent is not None:
            return getattr(self._parent._result(), attribute_name(self._names[-1]))
        reader = self._root_reader
        if reader is None:
            wire = _bind(self._runtime, call.results)
            rtype = self._result_type
            reader = rtype.Reader(wire) if rtype is not None else wire
            self._root_reader = reader
        return reader

    def _stream_ready_check(self) -> None:
        """For a streaming call: raise the first failure among this client's streaming calls."""
        if self._stream is not None:
            self._stream[1].check()

    def cancel(self) -> None:
        """No longer interested: cancel the call (Finish) unless pipelined calls still need it."""
        if self._canceled:
            return
        self._canceled = True
        self._root_reader = None
        runtime = self._runtime
        if not self._owner.released:
            self._owner.released = True
            with runtime.lock():
                runtime.vat.cancel(self._call)
            runtime.flush()

    def release(self) -> None:
        """Release the results (and the capabilities in them) now, not at garbage collection.

        Views read earlier (and clients taken from them) keep their own references.
        """
        self._root_reader = None
        self._owner.release()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        what = self._result_type.__name__ if self._result_type is not None else "AnyPointer"
        path = "." + ".".join(self._names) if self._names else ""
        state = "done" if self._call.done else "pending"
        return f"<{type(self).__name__} {what}{path} {state}>"


# What pipelining on a field of a results type does, worked out on first use: a client of an
# interface type for the pointer at an index (no field name), or a promise for a struct, group
# or AnyPointer part (its type or None, its field name, its pointer index or None).
_PipelineStep = tuple[Any, str | None, int | None]
_PIPELINE_STEPS: dict[tuple[type[Struct], str], _PipelineStep] = {}


def _pipeline_step(rtype: type[Struct], name: str) -> _PipelineStep:
    fields = rtype.schema.node.fields
    # A field by its schema name, or else by its Python attribute name (``import_``).
    field = next((f for f in fields if f.name == name), None) or next(
        (f for f in fields if attribute_name(f.name) == name), None
    )
    if field is None:
        raise AttributeError(f"{rtype.schema.node.display_name} has no field {name!r}")
    registry = rtype._registry
    step: _PipelineStep
    if field.group_id is not None:
        step = (registry.struct_type(field.group_id), field.name, None)
    else:
        assert field.slot is not None
        t = field.slot.type
        index = field.slot.offset
        if t.kind == Kind.INTERFACE:
            step = (registry.interface_type(t.type_id), None, index)
        elif t.kind == Kind.STRUCT:
            step = (registry.struct_type(t.type_id), field.name, index)
        elif t.kind == Kind.ANY_POINTER:
            step = (None, field.name, index)
        else:
            raise AttributeError(
                f"{field.name!r} of {rtype.schema.node.display_name} is a "
                f"{t.kind.name.lower()} field: only capability, struct, group and AnyPointer "
                "fields can be pipelined; await the promise to read it"
            )
    _PIPELINE_STEPS[(rtype, name)] = step
    return step


# == servers ======================================================================================


class Server:
    """Base of implementations: subclass ``module.Foo.Server`` and define its methods.

    Methods may be plain or ``async def``. They get the param fields as keyword arguments (only
    those their signature accepts, unless it has ``**kwargs``) and ``_context``
    (:class:`CallContext`). They may return None (results set on ``_context.results``), the
    value of a single-field result, a tuple or dict of result fields, or a results struct.
    """

    _interface: ClassVar[type[Any] | None] = None

    @classmethod
    def _method_table(cls) -> dict[tuple[int, int], MethodInfo]:
        table: dict[tuple[int, int], MethodInfo] | None = cls.__dict__.get("_capnrpc_table")
        if table is None:
            table = {}
            for klass in reversed(cls.__mro__):
                iface = klass.__dict__.get("_interface")
                if iface is not None:
                    for info in iface._method_infos():
                        table[(info.interface_id, info.method_id)] = info
            cls._capnrpc_table = table  # type: ignore[attr-defined]
        return table

    @classmethod
    def _streaming_methods(cls) -> frozenset[tuple[int, int]]:
        found: frozenset[tuple[int, int]] | None = cls.__dict__.get("_capnrpc_streaming")
        if found is None:
            found = frozenset(key for key, info in cls._method_table().items() if info.streaming)
            cls._capnrpc_streaming = found  # type: ignore[attr-defined]
        return found

    @classmethod
    def _first_interface(cls) -> type[Any] | None:
        for klass in cls.__mro__:
            iface = klass.__dict__.get("_interface")
            if iface is not None:
                return cast(type[Any], iface)
        return None


class CallContext:
    """What a server method can reach besides its params: ``params`` and ``results``."""

    __slots__ = ("_results", "delivery", "method", "params", "runtime")

    def __init__(
        self, runtime: Runtime, delivery: Delivery, method: MethodInfo, params: Any
    ) -> None:
        self.runtime = runtime
        self.delivery = delivery
        self.method = method
        self.params = params
        self._results: StructBuilder | None = None

    @property
    def results(self) -> Any:
        """The results builder, made on first use."""
        if self._results is None:
            self._results = self.method.new_results()
        return self._results

    @property
    def canceled(self) -> bool:
        """Whether the caller canceled the call."""
        return self.delivery.canceled


class Invocation:
    """A delivery ready to run: call ``fn(**kwargs)`` (awaiting it if it is a coroutine)."""

    __slots__ = ("_is_async", "context", "fn", "kwargs")

    def __init__(
        self,
        fn: Callable[..., Any],
        kwargs: dict[str, Any],
        context: CallContext,
        is_async: bool | None = None,
    ) -> None:
        self.fn = fn
        self.kwargs = kwargs
        self.context = context
        self._is_async = is_async

    @property
    def is_async(self) -> bool:
        """Whether ``fn`` is an ``async def`` function."""
        if self._is_async is None:
            self._is_async = inspect.iscoroutinefunction(self.fn)
        return self._is_async


class _MethodEntry:
    """What every delivery of one method to one server class needs, worked out once."""

    __slots__ = ("accepts", "attr", "context", "info", "is_async", "params", "reader")

    def __init__(self, cls: type, info: MethodInfo, fn: Callable[..., Any]) -> None:
        self.info = info
        self.attr = info.attr
        # The keyword names the method takes, or None if it takes ``**kwargs``.
        accepts = _accepted(cls, info.attr, fn)
        self.accepts = accepts
        self.context = accepts is None or "_context" in accepts
        self.is_async = inspect.iscoroutinefunction(fn)
        self.reader = info.params_type.Reader
        node = info.params_type.schema.node
        getters = self.reader._layout.reader_getters
        # (attribute, union member or None, the field's getter: what reading the attribute of
        # a params reader calls) of every param field the method receives.
        self.params: list[tuple[str, str | None, Callable[[Any], Any]]] = []
        for field in node.fields:
            attr = attribute_name(field.name)
            if accepts is None or attr in accepts:
                member = field.name if field.discriminant_value is not None else None
                self.params.append((attr, member, getters[field.name]))


_ENTRIES: dict[tuple[type, int, int], _MethodEntry] = {}


def _method_entry(server: object, interface_id: int, method_id: int) -> _MethodEntry:
    if not isinstance(server, Server):
        raise RpcError("unimplemented", f"{type(server).__name__} is not a capnrpc Server")
    cls = type(server)
    info = cls._method_table().get((interface_id, method_id))
    if info is None:
        name = method_display_name(interface_id, method_id) or (
            f"method {method_id} of interface {interface_id:#x}"
        )
        raise RpcError("unimplemented", f"{name} is not implemented by {cls.__qualname__}")
    fn = getattr(server, info.attr, None)
    if fn is None or not callable(fn):
        raise RpcError("unimplemented", f"{info.display} is not implemented by {cls.__qualname__}")
    entry = _MethodEntry(cls, info, fn)
    _ENTRIES[(cls, interface_id, method_id)] = entry
    return entry


def start_delivery(runtime: Runtime, delivery: Delivery) -> Invocation:
    """Find the method ``delivery`` calls and its arguments.

    Raises :class:`RpcError` (``unimplemented``) for a method the server lacks; the driver
    passes any exception to :func:`fail_delivery`.
    """
    server = delivery.server
    iid, mid = delivery.interface_id, delivery.method_id
    entry = _ENTRIES.get((type(server), iid, mid))
    if entry is None:
        entry = _method_entry(server, iid, mid)
    info = entry.info
    fn = getattr(server, entry.attr, None)
    if fn is None or not callable(fn):
        cls = type(server)
        raise RpcError("unimplemented", f"{info.display} is not implemented by {cls.__qualname__}")
    params = entry.reader(_bind(runtime, delivery.params))
    context = CallContext(runtime, delivery, info, params)
    kwargs: dict[str, Any] = {}
    active: str | None = None
    for attr, member, getter in entry.params:
        if member is not None:
            if active is None:
                active = str(params.which)
            if member != active:
                continue
        kwargs[attr] = getter(params)
    if entry.context:
        kwargs["_context"] = context
    return Invocation(fn, kwargs, context, entry.is_async)


_ACCEPTS: dict[tuple[type, str], frozenset[str] | None] = {}


def _accepted(cls: type, attr: str, fn: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword names ``fn`` takes, or None if it takes ``**kwargs``."""
    key = (cls, attr)
    if key in _ACCEPTS:
        return _ACCEPTS[key]
    names: frozenset[str] | None
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        names = None
    else:
        params = sig.parameters.values()
        if any(p.kind == p.VAR_KEYWORD for p in params):
            names = None
        else:
            names = frozenset(
                p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            )
    _ACCEPTS[key] = names
    return names


def finish_delivery(
    runtime: Runtime, delivery: Delivery, invocation: Invocation, returned: object
) -> None:
    """Answer ``delivery`` with what the method returned (see :class:`Server`)."""
    try:
        results = _results_from(invocation, returned)
        with runtime.lock():
            if delivery.done:
                return
            wire: WireStructBuilder = results._s
            caps = wire.message.caps
            if caps:
                take_caps(runtime, caps)
            runtime.vat.return_results(delivery, wire)
    except Exception as exc:
        fail_delivery(runtime, delivery, exc)
        return
    runtime.flush()


_PLAIN_VALUES = frozenset({int, float, bool, str, bytes})


def _results_from(invocation: Invocation, value: object) -> StructBuilder:
    context = invocation.context
    info = context.method
    if value is None:
        return cast(StructBuilder, context.results)
    if type(value) in _PLAIN_VALUES:
        # The common single-field answer: no struct, mapping or tuple to tell apart.
        setter = info.single_setter()
        if setter is not None:
            single: StructBuilder = context.results
            setter(single, value)
            return single
    rtype = info.results_type
    if value is context._results:
        return cast(StructBuilder, value)
    if _is_struct_of(value, rtype):
        builder: StructBuilder = context.results
        builder._assign(value, f"the results of {info.display}")
        return builder
    names = _positional_names(rtype)
    if isinstance(value, Mapping):
        builder = context.results
        builder._assign_dict(value)
        return builder
    if isinstance(value, tuple) and len(names) != 1:
        if len(value) > len(names):
            raise FieldTypeError(
                f"{info.display} returned {len(value)} values; its results have {len(names)} "
                f"fields ({', '.join(names)})"
            )
        builder = context.results
        for name, item in zip(names, value, strict=False):
            builder._set(name, item)
        return builder
    if len(names) == 1:
        builder = context.results
        builder._set(names[0], value)
        return builder
    raise FieldTypeError(
        f"{info.display} returned {type(value).__name__}; return None (and fill "
        f"_context.results), a dict or tuple of fields, or a {rtype.__name__} struct"
    )


def _rpc_exception(exc: BaseException) -> RpcException:
    if isinstance(exc, RpcError):
        try:
            type_ = ExceptionType[exc.type.upper()]
        except KeyError:
            type_ = ExceptionType.FAILED
        return RpcException(exc.reason, type_)
    return RpcException(f"{type(exc).__name__}: {exc}", ExceptionType.FAILED)


def fail_delivery(runtime: Runtime, delivery: Delivery, exc: BaseException) -> None:
    """Answer ``delivery`` with an exception (and log it with its traceback)."""
    # Imported here: logging loads threading, which importing the core must not.
    import logging

    name = method_display_name(delivery.interface_id, delivery.method_id) or repr(delivery)
    logging.getLogger("capnrpc.server").warning(
        "%s on %s raised %s: %s",
        name,
        type(delivery.server).__qualname__,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    # A handler that keeps log records (pytest's capture, a memory handler) would otherwise keep
    # the method's frames, and through them the capabilities in its params, alive for good.
    traceback.clear_frames(exc.__traceback__)
    with runtime.lock():
        if delivery.done:
            return
        runtime.vat.return_exception(delivery, _rpc_exception(exc))
    runtime.flush()


def cancel_delivery(runtime: Runtime, delivery: Delivery) -> None:
    """Answer a delivery whose method was stopped because the caller canceled it."""
    with runtime.lock():
        if delivery.done:
            return
        runtime.vat.return_exception(
            delivery, RpcException("the call was canceled", ExceptionType.FAILED)
        )
    runtime.flush()
