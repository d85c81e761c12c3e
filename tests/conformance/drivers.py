"""Driver adapters for the conformance suite: one small class per driver.

Adapter API
===========

Every scenario runs a *client* on one driver (in the test's thread) against a *server* on
another (in a background thread with its own event loop). A driver takes part by providing one
:class:`Adapter` in :data:`ADAPTERS`; the suite is parametrised over every (client, server)
pair of them. An adapter has:

``name: str``
    Shown in test ids (``trio``, ``asyncio``, ``uvloop``, ``socket``).

``flavor: ServerFlavor``
    How server objects served by this driver wait: ``gate()`` makes a :class:`Gate` (opened from
    any thread, awaited in a method), ``await wait_forever()`` waits until the call is canceled,
    ``await checkpoint()`` lets other calls run. The suite's servers (``tests/conformance/
    services.py``) are ``async def`` methods written against these three.

``start_server(address, bootstrap, *, limits=None) -> RunningServer``
    Serve ``bootstrap`` (a Server object or a per-connection factory) on ``address`` from a
    background thread with its own vat; return once listening. :class:`LoopServer` implements
    everything but the driver's own four primitives (see there).

``run_client(scenario, timeout) -> result``
    Run ``await scenario(kit)`` on this driver in the calling thread, with a :class:`ClientKit`
    of the driver, failing if it takes longer than ``timeout`` seconds.

``ClientKit`` (what a scenario may do besides calling clients and promises):

- ``kit.connect(address, *, bootstrap=None, limits=None, frame_observer=None)``: an async
  context manager yielding a connection (``.bootstrap(Interface)``, ``.core``, ``.vat``,
  ``.closed``, ``.close_reason``); a ``frame_observer`` sees every frame of it (the connection
  then gets a vat opened for it, with the observer set before it connects);
- ``await kit.wait(promise, timeout=None)``: the results; on timeout the call is canceled (the
  peer gets a Finish) and :class:`TimeoutError` is raised;
- ``await kit.blocking(fn, *args)``: run a blocking function (a server-side wait) without
  stopping this driver's IO.

A blocking-socket driver fits the same shape: its kit's methods are ``async def`` functions that
never suspend (``wait`` is ``promise.wait(timeout)``, ``blocking`` calls ``fn`` directly), and
its ``run_client`` is :func:`run_without_loop`. Its server needs a ``listener`` whose
``connections`` have ``.core`` (the core connection), and a way to report frames (see
:class:`LoopServer`); its flavor decides how an ``async def`` method waits on its worker.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

import trio

import capnrpc_asyncio
import capnrpc_socket
import capnrpc_trio
from capnrpc_core.driver import describe_frame
from capnrpc_core.rpc import Connection as CoreConnection
from capnrpc_core.rpc import RpcLimits
from capnrpc_core.rpc.codec import decode_message
from capnrpc_core.rpc.messages import Message
from capnrpc_core.wire.framing import decode_frame
from capnrpc_core.wire.reader import MessageReader

T = TypeVar("T")

# Seconds: every wait in the suite is bounded by one of these.
CLIENT_TIMEOUT = 10.0
SERVER_TIMEOUT = 10.0


class Gate(Protocol):
    """A one-shot latch: ``open()`` from any thread; ``await wait()`` on the server's loop."""

    def open(self) -> None: ...
    async def wait(self) -> None: ...


class ServerFlavor(Protocol):
    """The waiting primitives of one driver, for server objects written once for all."""

    def gate(self) -> Gate: ...
    async def wait_forever(self) -> None: ...
    async def checkpoint(self) -> None: ...


class ClientKit(Protocol):
    """What a scenario can do on its client driver (see the module docstring)."""

    name: str

    def connect(
        self,
        address: str,
        *,
        bootstrap: object = None,
        limits: RpcLimits | None = None,
        frame_observer: FrameObserver | None = None,
    ) -> AbstractAsyncContextManager[Any]: ...
    async def wait(self, promise: Any, timeout: float | None = None) -> Any: ...
    async def blocking(self, fn: Callable[..., T], *args: Any) -> T: ...


Scenario = Callable[[ClientKit], Coroutine[Any, Any, Any]]
FrameObserver = Callable[[Any, str, bytes], None]


def shut_down(sock: Any) -> None:
    """Shut a connected socket down both ways (through a duplicate: uvloop's refuses)."""
    with socket.socket(fileno=os.dup(sock.fileno())) as dup:
        dup.shutdown(socket.SHUT_RDWR)


class LoopServer:
    """A server in a background thread; a driver provides the four primitives below.

    - ``_serve_main()``: run in the thread; serve, set ``self.address`` and ``self.listener``,
      call ``self._listening()``, then serve until ``_request_stop()``;
    - ``call(fn)``: run ``fn()`` on the server's loop and return its result;
    - ``_request_stop()`` (any thread) and ``drop_connections()`` (any thread: shut every
      accepted socket down at once, without any RPC goodbye, as a dying network would).

    ``_listening()`` installs :meth:`_on_frame` as ``listener.vat.frame_observer``; a driver
    whose vat has no frame observer overrides it and calls ``_on_frame`` some other way.

    Frames the server vat sends or receives are kept (:meth:`messages`), and predicates given to
    :meth:`wait_until` are checked again after each one.
    """

    def __init__(self, address: str, bootstrap: Any, limits: RpcLimits | None) -> None:
        self.requested_address = address
        self.bootstrap = bootstrap
        self.limits = limits
        self.address = ""
        self.listener: Any = None
        self._frames: list[tuple[str, bytes]] = []
        self._watches: list[tuple[Callable[[], bool], threading.Event]] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._thread_main, daemon=True)

    # -- driver primitives ---------------------------------------------------------------------

    def _serve_main(self) -> None:
        raise NotImplementedError

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the server's loop; its result."""
        raise NotImplementedError

    def _request_stop(self) -> None:
        raise NotImplementedError

    def drop_connections(self) -> None:
        """Shut every accepted socket down at once, without any RPC goodbye."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------

    def start(self) -> LoopServer:
        self._thread.start()
        if not self._ready.wait(SERVER_TIMEOUT):
            raise AssertionError("the server did not start listening")
        if self._error is not None:
            raise self._error
        return self

    def _thread_main(self) -> None:
        try:
            self._serve_main()
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    def _listening(self) -> None:
        self.listener.vat.frame_observer = self._on_frame
        self._ready.set()

    def _on_frame(self, conn: Any, direction: str, frame: bytes) -> None:
        self._frames.append((direction, frame))
        self._recheck()

    def _recheck(self) -> None:
        for watch in list(self._watches):
            predicate, event = watch
            if predicate():
                event.set()
                self._watches.remove(watch)

    def wait_until(self, predicate: Callable[[], bool], what: str = "condition") -> None:
        """Block until ``predicate()`` (evaluated on the server's loop) holds.

        It is checked now and after every frame: use it for what frames change (tables).
        """
        event = threading.Event()

        def watch() -> None:
            if predicate():
                event.set()
            else:
                self._watches.append((predicate, event))

        self.call(watch)
        if not event.wait(SERVER_TIMEOUT):
            raise AssertionError(f"the server never reached: {what}")

    def connections(self) -> list[CoreConnection]:
        """The core connections the server has open now."""
        return self.call(lambda: [c.core for c in self.listener.connections])

    def messages(self) -> list[tuple[str, Message]]:
        """Every frame the server sent or received so far, decoded (usable in predicates)."""
        frames = list(self._frames)  # appended to by the server's thread only
        return [(d, decode_message(MessageReader(decode_frame(f)))) for d, f in frames]

    def lines(self, direction: str, text: str = "") -> list[str]:
        """The frames sent ("send") or received ("recv") so far, as texts containing ``text``."""
        frames = list(self._frames)
        described = (describe_frame(f) for d, f in frames if d == direction)
        return [line for line in described if text in line]

    def stop(self) -> None:
        """Close the listener and its connections; wait for the thread to end."""
        if not self._stopped and self._thread.is_alive():
            self._stopped = True
            self._request_stop()
        self._thread.join(SERVER_TIMEOUT)
        if self._thread.is_alive():
            raise AssertionError("the server thread did not stop")
        if self._error is not None:
            raise self._error


def run_without_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (a blocking driver's scenario) in this thread."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return cast(T, stop.value)
    coro.close()
    raise AssertionError("the scenario suspended: a blocking driver's kit must not")


# == trio =========================================================================================


class TrioGate:
    """A :class:`Gate` for trio servers."""

    def __init__(self) -> None:
        self._event = trio.Event()
        self._token = trio.lowlevel.current_trio_token()

    def open(self) -> None:
        self._token.run_sync_soon(self._event.set)

    async def wait(self) -> None:
        await self._event.wait()


class TrioFlavor:
    def gate(self) -> Gate:
        return TrioGate()

    async def wait_forever(self) -> None:
        await trio.sleep_forever()

    async def checkpoint(self) -> None:
        await trio.lowlevel.checkpoint()


class TrioServer(LoopServer):
    def _serve_main(self) -> None:
        trio.run(self._main)

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop_event = trio.Event()
        async with capnrpc_trio.serve(
            self.requested_address, self.bootstrap, limits=self.limits
        ) as listener:
            self.listener = listener
            self.address = listener.address
            self._listening()
            await self._stop_event.wait()

    def call(self, fn: Callable[[], T]) -> T:
        return trio.from_thread.run_sync(fn, trio_token=self._token)

    def _request_stop(self) -> None:
        self._token.run_sync_soon(self._stop_event.set)

    def drop_connections(self) -> None:
        def drop() -> None:
            for conn in list(self.listener.connections):
                shut_down(conn._stream.socket)

        self.call(drop)


@asynccontextmanager
async def _observed(
    driver: Any, address: str, bootstrap: Any, limits: RpcLimits | None, observer: FrameObserver
) -> AsyncIterator[Any]:
    """A connection of ``driver`` (capnrpc_trio or capnrpc_asyncio) with every frame observed."""
    async with driver.open_vat(limits=limits, name="client") as vat:
        vat.frame_observer = observer
        async with driver.connect(address, bootstrap=bootstrap, vat=vat) as conn:
            yield conn


class TrioKit:
    name = "trio"

    def connect(
        self,
        address: str,
        *,
        bootstrap: object = None,
        limits: RpcLimits | None = None,
        frame_observer: FrameObserver | None = None,
    ) -> AbstractAsyncContextManager[Any]:
        if frame_observer is not None:
            return _observed(capnrpc_trio, address, bootstrap, limits, frame_observer)
        return capnrpc_trio.connect(address, bootstrap=bootstrap, limits=limits)  # type: ignore[arg-type]

    async def wait(self, promise: Any, timeout: float | None = None) -> Any:
        if timeout is None:
            return await promise
        with trio.move_on_after(timeout):
            return await promise
        raise TimeoutError

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


class TrioAdapter:
    name = "trio"
    flavor: ServerFlavor = TrioFlavor()

    def start_server(
        self, address: str, bootstrap: object, *, limits: RpcLimits | None = None
    ) -> LoopServer:
        return TrioServer(address, bootstrap, limits).start()

    def run_client(self, scenario: Scenario, timeout: float) -> Any:
        async def main() -> Any:
            with trio.fail_after(timeout):
                return await scenario(TrioKit())

        return trio.run(main)


# == asyncio (and uvloop) =========================================================================


class AsyncioGate:
    """A :class:`Gate` for asyncio servers."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def open(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self) -> None:
        await self._event.wait()


class AsyncioFlavor:
    def gate(self) -> Gate:
        return AsyncioGate()

    async def wait_forever(self) -> None:
        await asyncio.get_running_loop().create_future()

    async def checkpoint(self) -> None:
        await asyncio.sleep(0)


class AsyncioServer(LoopServer):
    def __init__(
        self,
        address: str,
        bootstrap: Any,
        limits: RpcLimits | None,
        runner: Callable[[Coroutine[Any, Any, Any]], Any],
    ) -> None:
        super().__init__(address, bootstrap, limits)
        self._runner = runner

    def _serve_main(self) -> None:
        self._runner(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        async with capnrpc_asyncio.serve(
            self.requested_address, self.bootstrap, limits=self.limits
        ) as listener:
            self.listener = listener
            self.address = listener.address
            self._listening()
            await self._stop_event.wait()

    def call(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(SERVER_TIMEOUT)

    def _request_stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop_event.set)

    def drop_connections(self) -> None:
        def drop() -> None:
            for conn in list(self.listener.connections):
                shut_down(conn._transport.get_extra_info("socket"))

        self.call(drop)


class AsyncioKit:
    def __init__(self, name: str) -> None:
        self.name = name

    def connect(
        self,
        address: str,
        *,
        bootstrap: object = None,
        limits: RpcLimits | None = None,
        frame_observer: FrameObserver | None = None,
    ) -> AbstractAsyncContextManager[Any]:
        if frame_observer is not None:
            return _observed(capnrpc_asyncio, address, bootstrap, limits, frame_observer)
        return capnrpc_asyncio.connect(address, bootstrap=bootstrap, limits=limits)  # type: ignore[arg-type]

    async def wait(self, promise: Any, timeout: float | None = None) -> Any:
        if timeout is None:
            return await promise
        async with asyncio.timeout(timeout):
            return await promise

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)


class AsyncioAdapter:
    flavor: ServerFlavor = AsyncioFlavor()

    def __init__(self, name: str = "asyncio", runner: Callable[..., Any] = asyncio.run) -> None:
        self.name = name
        self._runner = runner

    def start_server(
        self, address: str, bootstrap: object, *, limits: RpcLimits | None = None
    ) -> LoopServer:
        return AsyncioServer(address, bootstrap, limits, self._runner).start()

    def run_client(self, scenario: Scenario, timeout: float) -> Any:
        async def main() -> Any:
            async with asyncio.timeout(timeout):
                return await scenario(AsyncioKit(self.name))

        return self._runner(main())


# == blocking sockets =============================================================================


class SocketGate:
    """A :class:`Gate` for socket servers; waiting lets the object's next call start."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def open(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        with capnrpc_socket.blocking():
            if not self._event.wait(SERVER_TIMEOUT):
                raise TimeoutError("the gate was never opened")


class SocketCanceled(BaseException):
    """How ``wait_forever`` ends on the socket driver (as trio.Cancelled does on trio)."""


class SocketFlavor:
    def gate(self) -> Gate:
        return SocketGate()

    async def wait_forever(self) -> None:
        capnrpc_socket.wait_canceled()
        raise SocketCanceled

    async def checkpoint(self) -> None:
        with capnrpc_socket.blocking():
            pass


class SocketServer(LoopServer):
    def _serve_main(self) -> None:
        with capnrpc_socket.serve(
            self.requested_address, self.bootstrap, limits=self.limits
        ) as listener:
            self.listener = listener
            self.address = listener.address
            self._listening()
            listener.serve_forever()

    def call(self, fn: Callable[[], T]) -> T:
        with self.listener.vat.lock():
            return fn()

    def _request_stop(self) -> None:
        self.listener.shutdown()

    def drop_connections(self) -> None:
        def drop() -> None:
            for conn in list(self.listener.connections):
                shut_down(conn._sock)

        self.call(drop)


@asynccontextmanager
async def _socket_connection(
    address: str, bootstrap: Any, limits: RpcLimits | None, observer: FrameObserver | None
) -> AsyncIterator[capnrpc_socket.Connection]:
    if observer is None:
        with capnrpc_socket.connect(address, bootstrap=bootstrap, limits=limits) as conn:
            yield conn
        return
    with capnrpc_socket.open_vat(limits=limits, name="client") as vat:
        vat.frame_observer = observer
        with capnrpc_socket.connect(address, bootstrap=bootstrap, vat=vat) as conn:
            yield conn


class SocketKit:
    """The kit of the blocking driver: ``async def`` methods that never suspend."""

    name = "socket"

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def connect(
        self,
        address: str,
        *,
        bootstrap: object = None,
        limits: RpcLimits | None = None,
        frame_observer: FrameObserver | None = None,
    ) -> AbstractAsyncContextManager[Any]:
        return _socket_connection(address, bootstrap, limits, frame_observer)

    async def wait(self, promise: Any, timeout: float | None = None) -> Any:
        left = self._deadline - time.monotonic()
        return promise.wait(left if timeout is None else min(timeout, left))

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)


class SocketAdapter:
    name = "socket"
    flavor: ServerFlavor = SocketFlavor()

    def start_server(
        self, address: str, bootstrap: object, *, limits: RpcLimits | None = None
    ) -> LoopServer:
        return SocketServer(address, bootstrap, limits).start()

    def run_client(self, scenario: Scenario, timeout: float) -> Any:
        coro = scenario(SocketKit(time.monotonic() + timeout))
        try:
            coro.send(None)
        except StopIteration as stop:
            return stop.value
        coro.close()
        raise AssertionError("a scenario suspended on the socket driver, which has no loop")


class Adapter(Protocol):
    """What the suite needs of a driver (see the module docstring)."""

    name: str
    flavor: ServerFlavor

    def start_server(
        self, address: str, bootstrap: object, *, limits: RpcLimits | None = None
    ) -> LoopServer: ...
    def run_client(self, scenario: Scenario, timeout: float) -> Any: ...


def _adapters() -> list[Adapter]:
    found: list[Adapter] = [TrioAdapter(), AsyncioAdapter(), SocketAdapter()]
    try:
        import uvloop
    except ImportError:
        pass
    else:
        found.append(AsyncioAdapter("uvloop", uvloop.run))
    return found


ADAPTERS: list[Adapter] = _adapters()
"""Every driver in the suite; the blocking-socket driver adds its adapter here."""
