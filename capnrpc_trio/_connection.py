"""Connections over trio streams: ``connect``, ``serve``, and the reader and writer of each.

Note [socket fast path]
~~~~~~~~~~~~~~~~~~~~~~~
A plain TCP or Unix socket stream (a ``trio.SocketStream``, whoever opened it; not TLS or any
other stream) is read and written through its descriptor: the reader waits with
``trio.lowlevel.wait_readable`` and reads with ``os.read``; output is written with ``os.write``
by whichever task made it (Note [output batching] in _runtime.py), and the writer task only
waits with ``wait_writable`` while the socket is full. ``trio.SocketStream`` costs a few
scheduler passes per message on top (its conflict detectors, a checkpoint after every send and
receive); the protocol needs none of them. The writer task closes the stream, and forgets the
descriptor first, so that nothing touches a number the system may have handed out again (a
socket closed by someone else is noticed before each write). Other streams go through
``receive_some``/``send_all`` in the same two tasks.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket as stdlib_socket
import ssl as stdlib_ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, overload

import trio

from capnrpc_core import RpcError
from capnrpc_core.driver import (
    Address,
    BootstrapSpec,
    DriverConnection,
    bootstrap_cap,
    check_serve_bootstrap,
    check_vat_options,
    connection_bootstrap,
    parse_address,
    peer_address,
    tcp_address,
)
from capnrpc_core.rpc import Cap, RpcException, RpcLimits
from capnrpc_core.rpc import Connection as CoreConnection
from capnrpc_core.schema.interfaces import Client, Server
from capnrpc_trio._runtime import Sleeper, TrioVat, open_vat

__all__ = ["Connection", "Listener", "connect", "serve"]

log = logging.getLogger("capnrpc")

# A read asks for this much: a message of up to this size arrives in one read, not two joined.
# It stays under glibc's 128 KiB threshold for mapping a fresh block of memory per allocation
# (``os.read`` allocates its full size, then shrinks): 128 KiB would cost 8 us per small read.
RECEIVE_SIZE = 127 << 10
READ_AHEAD = 16  # buffers read in one turn while they come back full
Bootstrap = BootstrapSpec


class Connection(DriverConnection):
    """One RPC connection: :meth:`bootstrap` gets the peer's capability.

    Made by :func:`connect` or accepted by :func:`serve`. ``close_reason`` says why it closed.
    """

    driver_name = "capnrpc_trio"
    runtime: TrioVat

    def __init__(
        self,
        runtime: TrioVat,
        stream: trio.abc.Stream,
        *,
        peer: str,
        role: str,
        bootstrap: Cap | None,
    ) -> None:
        self.runtime = runtime
        self.peer_address = peer
        self.role = role
        self.core: CoreConnection = runtime.vat.new_connection(f"{role} {peer}")
        self._stream = stream
        self._bootstrap = bootstrap
        # Note [socket fast path]: the descriptor, while we may use it; None for other streams.
        self._fd = _socket_fd(stream)
        # Output the vat made and the runtime holds back (Note [output batching]), and output
        # the writer task owns because the socket was full (or the stream is not a socket).
        self._pending: list[bytes] = []
        self._dirty = False
        self._backlog = bytearray()
        self._write_error: OSError | None = None
        self._writer_wake = Sleeper()
        self._closing = False
        self._tasks = 2
        self._done = trio.Event()
        self.close_reason: RpcError | None = None

    @property
    def vat(self) -> TrioVat:
        """The vat (runtime) this connection belongs to."""
        return self.runtime

    async def aclose(self) -> None:
        """Close the connection (pending calls fail with ``disconnected``) and wait for it."""
        self._disconnect("connection closed locally")
        await self._done.wait()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed and its tasks have ended."""
        await self._done.wait()

    # -- called by the runtime -----------------------------------------------------------------

    def _start(self) -> None:
        nursery = self.runtime._nursery
        nursery.start_soon(self._reader, name=f"capnrpc reader {self.peer_address}")
        nursery.start_soon(self._writer, name=f"capnrpc writer {self.peer_address}")

    def _write_pending(self) -> None:
        """Write the output held back for this connection, or give it to the writer task."""
        self._dirty = False
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        fd = self._fd
        if fd is None or self._backlog or self._write_error is not None:
            self._backlog += data
            self._writer_wake.wake()
            return
        try:
            self._check_socket(fd)
            sent = os.write(fd, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            # The writer task reports it: this may run in the middle of the pump.
            self._write_error = exc
            sent = 0
        if sent < len(data):
            self._backlog += memoryview(data)[sent:]
            self._writer_wake.wake()

    def _check_socket(self, fd: int) -> None:
        """Raise if the socket was closed behind our back (its number may be reused by now)."""
        if self._stream.socket.fileno() != fd:  # type: ignore[attr-defined]
            raise OSError(errno.EBADF, "the socket was closed")

    def _disconnect(self, reason: str) -> None:
        runtime = self.runtime
        if self.core.open:
            runtime.vat.disconnect(self.core, reason)
            runtime.flush()

    def _closed_by_core(self, exception: RpcException | None, by_peer: bool) -> None:
        if exception is not None:
            self.close_reason = RpcError.from_exception(exception)
        who = "by the peer" if by_peer else "locally"
        log.info(
            "connection %s closed %s: %s",
            self.core.name,
            who,
            exception.reason if exception else "",
        )
        self._closing = True
        self._writer_wake.wake()
        bootstrap = self._bootstrap
        if bootstrap is not None:
            self._bootstrap = None
            self.runtime.vat.release(bootstrap)

    # -- tasks ---------------------------------------------------------------------------------

    async def _reader(self) -> None:
        try:
            if self._fd is not None:
                await self._read_socket(self._fd)
            else:
                await self._read_stream()
        except trio.ClosedResourceError:
            pass  # our writer closed the stream after the connection closed
        except (trio.BrokenResourceError, OSError) as exc:
            self._disconnect(f"connection lost: {exc}")
        finally:
            self._task_done()

    async def _read_socket(self, fd: int) -> None:
        core = self.core
        received = self.runtime._received
        wait_readable = trio.lowlevel.wait_readable
        while core.open:
            # Raises ClosedResourceError when the writer closes the socket under us.
            await wait_readable(fd)
            if not core.open or self._fd is None:
                break
            try:
                data = os.read(fd, RECEIVE_SIZE)
            except BlockingIOError:
                continue
            error = None
            if len(data) == RECEIVE_SIZE:
                data, error = _read_more(fd, data)
            received(self, data)
            if error is not None:
                raise error
            if not data:
                break

    async def _read_stream(self) -> None:
        core = self.core
        received = self.runtime._received
        while core.open:
            data = await self._stream.receive_some(RECEIVE_SIZE)
            if not core.open:
                break
            received(self, bytes(data))
            if not data:
                break

    async def _writer(self) -> None:
        try:
            if self._fd is not None:
                await self._write_socket(self._fd)
            else:
                await self._write_stream()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            self._disconnect(f"connection lost: {exc}")
        finally:
            # From here on the descriptor may be closed and its number reused: never touch it.
            self._fd = None
            await trio.aclose_forcefully(self._stream)
            self._task_done()

    async def _write_socket(self, fd: int) -> None:
        backlog = self._backlog
        while True:
            if self._write_error is not None:
                raise self._write_error
            if self._closing:
                self._write_pending()  # the last words (an Abort), held back or not
            if backlog:
                await trio.lowlevel.wait_writable(fd)
                self._check_socket(fd)
                try:
                    sent = os.write(fd, backlog)
                except BlockingIOError:
                    continue
                del backlog[:sent]
                continue
            if self._closing:
                return
            await self._writer_wake.sleep()

    async def _write_stream(self) -> None:
        backlog = self._backlog
        while True:
            if self._closing:
                self._write_pending()
            if backlog:
                data = bytes(backlog)
                backlog.clear()
                await self._stream.send_all(data)
                continue
            if self._closing:
                return
            await self._writer_wake.sleep()

    def _task_done(self) -> None:
        self._tasks -= 1
        if self._tasks == 0:
            self._done.set()


def _read_more(fd: int, first: bytes) -> tuple[bytes, OSError | None]:
    """``first`` filled the buffer: add what else is waiting now, up to ``READ_AHEAD`` buffers.

    A big message then reaches the frame decoder in one piece, without a wait for each part.
    An error is returned, to be raised once the bytes before it are fed; EOF is seen by the
    next read.
    """
    chunks = [first]
    chunk = first
    error = None
    while len(chunk) == RECEIVE_SIZE and len(chunks) < READ_AHEAD:
        try:
            chunk = os.read(fd, RECEIVE_SIZE)
        except BlockingIOError:
            break
        except OSError as exc:
            error = exc
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks), error


def _socket_fd(stream: trio.abc.Stream) -> int | None:
    """The descriptor of a plain trio socket stream on a POSIX system, else None."""
    if os.name != "posix" or type(stream) is not trio.SocketStream:
        return None
    fd = stream.socket.fileno()
    return fd if fd >= 0 else None


# == connecting ===================================================================================


async def _open_stream(
    address: str | trio.abc.Stream, ssl_context: stdlib_ssl.SSLContext | None
) -> tuple[trio.abc.Stream, str]:
    if not isinstance(address, str):
        if ssl_context is not None:
            return trio.SSLStream(address, ssl_context), "stream"
        return address, "stream"
    parsed = parse_address(address)
    stream: trio.abc.Stream
    if parsed.kind == "unix":
        stream = await trio.open_unix_socket(parsed.path)
        if ssl_context is not None:
            stream = trio.SSLStream(stream, ssl_context)
    elif ssl_context is not None:
        stream = await trio.open_ssl_over_tcp_stream(
            parsed.host, parsed.port, ssl_context=ssl_context
        )
    else:
        stream = await trio.open_tcp_stream(parsed.host, parsed.port)
    return stream, str(parsed)


@asynccontextmanager
async def connect(
    address: str | trio.abc.Stream,
    *,
    bootstrap: Server | Client | None = None,
    ssl_context: stdlib_ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: TrioVat | None = None,
    trace_path: str | Path | None = None,
) -> AsyncIterator[Connection]:
    """Connect to ``address`` (``"tcp://host:port"``, ``"unix:/path"`` or an open trio stream).

    ``bootstrap`` is what the peer gets if it asks for our bootstrap capability. Without ``vat``
    the connection gets a vat of its own (with ``limits`` and ``trace_path``); pass a vat from
    :func:`open_vat` to share capabilities between connections.
    """
    check_vat_options(vat, limits, trace_path)
    async with AsyncExitStack() as stack:
        if vat is None:
            vat = await stack.enter_async_context(
                open_vat(limits=limits, name="client", trace_path=trace_path)
            )
        stream, peer = await _open_stream(address, ssl_context)
        cap = bootstrap_cap(vat.vat, bootstrap) if bootstrap is not None else None
        conn = Connection(vat, stream, peer=peer, role="client", bootstrap=cap)
        vat._add_connection(conn.core, conn, observe=False)
        conn._start()
        log.info("connected to %s", peer)
        try:
            yield conn
        finally:
            await conn.aclose()


# == serving ======================================================================================


class Listener:
    """A listening endpoint made by :func:`serve`: ``address`` is where it listens."""

    def __init__(
        self,
        runtime: TrioVat,
        listeners: list[trio.abc.Listener[Any]],
        address: str,
        bootstrap: Bootstrap,
        ssl_context: stdlib_ssl.SSLContext | None,
        unix_path: str | None,
        shared: bool,
    ) -> None:
        self.runtime = runtime
        self.address = address
        self.connections: set[Connection] = set()
        self._listeners = listeners
        self._bootstrap = bootstrap
        self._ssl_context = ssl_context
        self._unix_path = unix_path
        self._shared = shared
        self._scope = trio.CancelScope()
        self._stopped = trio.Event()
        self.closed = False

    def __repr__(self) -> str:
        return f"<capnrpc_trio.Listener {self.address}>"

    @property
    def vat(self) -> TrioVat:
        """The vat serving the connections."""
        return self.runtime

    async def _accept_loop(self) -> None:
        try:
            with self._scope:
                await trio.serve_listeners(
                    self._accepted, self._listeners, handler_nursery=self.runtime._nursery
                )
        finally:
            self._stopped.set()

    async def _accepted(self, stream: trio.abc.Stream) -> None:
        runtime = self.runtime
        peer = _peer_address(stream)
        if self._ssl_context is not None:
            stream = trio.SSLStream(stream, self._ssl_context, server_side=True)
        try:
            cap = connection_bootstrap(runtime.vat, self._bootstrap, peer, self._shared)
        except Exception:
            log.exception("the bootstrap factory failed for %s; closing the connection", peer)
            await trio.aclose_forcefully(stream)
            return
        conn = Connection(runtime, stream, peer=peer, role="server", bootstrap=cap)
        self.connections.add(conn)
        runtime._add_connection(conn.core, conn, observe=False)
        conn._start()
        log.info("accepted %s on %s", peer, self.address)
        # serve_listeners closes the stream when this handler returns.
        try:
            await conn.wait_closed()
        finally:
            self.connections.discard(conn)

    async def aclose(self) -> None:
        """Stop listening and close every connection accepted here."""
        if self.closed:
            return
        self.closed = True
        self._scope.cancel()
        for listener in self._listeners:
            await trio.aclose_forcefully(listener)
        if self._unix_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)
        conns = list(self.connections)
        for conn in conns:
            conn._disconnect("the server was closed")
        for conn in conns:
            await conn.wait_closed()


def _peer_address(stream: trio.abc.Stream) -> str:
    sock = getattr(stream, "socket", None)
    if sock is None:
        return "stream"
    try:
        return peer_address(sock.getpeername())
    except OSError:
        return "unknown"


async def _listen(
    parsed: Address, ssl_context: stdlib_ssl.SSLContext | None
) -> tuple[list[trio.abc.Listener[Any]], str]:
    if parsed.kind == "unix":
        sock = trio.socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
        try:
            await sock.bind(parsed.path)
            sock.listen()
        except BaseException:
            sock.close()
            raise
        return [trio.SocketListener(sock)], str(parsed)
    listeners = await trio.open_tcp_listeners(parsed.port, host=parsed.host or None)
    host, port = listeners[0].socket.getsockname()[:2]
    return list(listeners), tcp_address(host, port)


@asynccontextmanager
async def _open_listener(
    address: str,
    bootstrap: Bootstrap,
    ssl_context: stdlib_ssl.SSLContext | None,
    limits: RpcLimits | None,
    vat: TrioVat | None,
    trace_path: str | Path | None,
) -> AsyncIterator[Listener]:
    async with AsyncExitStack() as stack:
        check_serve_bootstrap(bootstrap, vat)
        check_vat_options(vat, limits, trace_path)
        shared = vat is not None
        if vat is None:
            vat = await stack.enter_async_context(
                open_vat(
                    bootstrap=bootstrap if isinstance(bootstrap, Server) else None,
                    limits=limits,
                    name="server",
                    trace_path=trace_path,
                )
            )
        parsed = parse_address(address)
        listeners, bound = await _listen(parsed, ssl_context)
        listener = Listener(
            vat,
            listeners,
            bound,
            bootstrap,
            ssl_context,
            parsed.path if parsed.kind == "unix" else None,
            shared,
        )
        vat._nursery.start_soon(listener._accept_loop)
        log.info("serving on %s", bound)
        try:
            yield listener
        finally:
            await listener.aclose()


class _Serve:
    """What ``serve(...)`` returns outside ``nursery.start``: an async context manager."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        self._cm = _open_listener(*args)

    async def __aenter__(self) -> Listener:
        return await self._cm.__aenter__()

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._cm.__aexit__(*exc)


async def _serve_forever(args: tuple[Any, ...], task_status: trio.TaskStatus[str]) -> None:
    async with _open_listener(*args) as listener:
        task_status.started(listener.address)
        await trio.sleep_forever()


@overload
def serve(
    address: str,
    bootstrap: Bootstrap,
    *,
    ssl_context: stdlib_ssl.SSLContext | None = ...,
    limits: RpcLimits | None = ...,
    vat: TrioVat | None = ...,
    trace_path: str | Path | None = ...,
) -> _Serve: ...
@overload
def serve(
    address: str,
    bootstrap: Bootstrap,
    *,
    ssl_context: stdlib_ssl.SSLContext | None = ...,
    limits: RpcLimits | None = ...,
    vat: TrioVat | None = ...,
    trace_path: str | Path | None = ...,
    task_status: trio.TaskStatus[str],
) -> Any: ...
def serve(
    address: str,
    bootstrap: Bootstrap,
    *,
    ssl_context: stdlib_ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: TrioVat | None = None,
    trace_path: str | Path | None = None,
    task_status: trio.TaskStatus[str] | None = None,
) -> Any:
    """Serve ``bootstrap`` on ``address`` (``"tcp://host:port"``, port 0 picks one; ``"unix:/p"``).

    Use as ``addr = await nursery.start(serve, address, bootstrap)`` (``addr`` is the bound
    address) or as ``async with serve(address, bootstrap) as listener:`` (``listener.address``).
    ``bootstrap`` is a :class:`Server` object, a client, or a factory called with each peer's
    address. Without ``vat`` all connections share a vat of their own.
    """
    args = (address, bootstrap, ssl_context, limits, vat, trace_path)
    if task_status is not None:
        return _serve_forever(args, task_status)
    return _Serve(args)
