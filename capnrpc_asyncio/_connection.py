"""Connections over asyncio transports: ``connect``, ``serve``, and the protocol of each.

Note [transports]
~~~~~~~~~~~~~~~~~
A connection is driven by an :class:`asyncio.BufferedProtocol`: each read lands in the vat's
receive buffer, is copied out once into ``bytes`` (which the core may keep: received messages
are read in place), and feeds the core, which runs its event pump and the methods the data
delivered in the same callback, with no reader or writer task to wake per message. Output is
written when a callback or task step ends, not per message (Note [writes] in ``_runtime``). An
open ``(StreamReader, StreamWriter)`` pair is driven the same way by a small reader task.

Reading into a buffer rather than taking ``data_received`` spares asyncio's selector transport
a 256 KiB allocation per read (it reads into a fresh ``bytes`` of that size and shrinks it);
under uvloop it is the one copy uvloop would make anyway. The buffer is the vat's, so an idle
connection costs no buffer; sharing it is safe because every transport calls ``get_buffer``
and ``buffer_updated`` back to back on the loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl as stdlib_ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from capnrpc_asyncio._runtime import AsyncioVat, open_vat
from capnrpc_core import RpcError
from capnrpc_core.driver import (
    WRITE_SLICE,
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

__all__ = ["Address", "Connection", "Listener", "connect", "serve"]

log = logging.getLogger("capnrpc")

RECEIVE_SIZE = 1 << 16

Address = str | socket.socket | tuple[asyncio.StreamReader, asyncio.StreamWriter]
"""Where ``connect`` goes: ``"tcp://host:port"``, ``"unix:/path"``, a connected socket, or an
open ``(reader, writer)`` pair."""


class _Transport(Protocol):
    """What a connection needs of its transport (an asyncio transport, or a stream pair)."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...


class Connection(DriverConnection):
    """One RPC connection: :meth:`bootstrap` gets the peer's capability.

    Made by :func:`connect` or accepted by :func:`serve`. ``close_reason`` says why it closed.
    """

    driver_name = "capnrpc_asyncio"
    runtime: AsyncioVat

    def __init__(
        self,
        runtime: AsyncioVat,
        transport: _Transport,
        *,
        peer: str,
        role: str,
        bootstrap: Cap | None,
        listener: Listener | None = None,
    ) -> None:
        self.runtime = runtime
        self.peer_address = peer
        self.role = role
        self.core: CoreConnection = runtime.vat.new_connection(f"{role} {peer}")
        self._transport = transport
        self._bootstrap = bootstrap
        self._listener = listener
        # Output held back (Note [writes] in _runtime.py); None when none is queued.
        self._out: list[bytes] | None = None
        # The first message a task queued since the last write went out at once.
        self._started = False
        self._done = asyncio.Event()
        self.close_reason: RpcError | None = None

    @property
    def vat(self) -> AsyncioVat:
        """The vat (runtime) this connection belongs to."""
        return self.runtime

    async def aclose(self) -> None:
        """Close the connection (pending calls fail with ``disconnected``) and wait for it."""
        self._disconnect("connection closed locally")
        await self._done.wait()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed and its transport is gone."""
        await self._done.wait()

    # -- input, from the protocol (or the reader task of a stream pair) ------------------------

    def _data_received(self, data: bytes) -> None:
        if self.core.open:
            self.runtime._received(self, data)

    def _connection_lost(self, exc: BaseException | None) -> None:
        if self.core.open:
            if exc is None:
                self._data_received(b"")  # closed without an EOF first (TLS, a dropped pair)
            else:
                self._disconnect(f"connection lost: {exc}")
        self._done.set()
        if self._listener is not None:
            self._listener.connections.discard(self)

    # -- output, from the runtime's pump -------------------------------------------------------

    def _queue(self, data: bytes) -> None:
        out = self._out
        runtime = self.runtime
        if out is None:
            out = self._out = []
            runtime._queue_write(self)
        out.append(data)
        if self._transport.is_closing():
            return
        if not (self._started or runtime._receiving):
            # The first message a task queues goes at once, with what was held back for it
            # (Note [writes] in _runtime.py); the rest of its burst waits.
            self._started = True
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()
        elif len(out) >= WRITE_SLICE:
            # A long burst leaves in slices (Note [write slices] in capnrpc_core.driver);
            # the connection stays queued for the rest.
            self._transport.write(b"".join(out))
            out.clear()

    def _write_out(self) -> None:
        out = self._out
        self._out = None
        self._started = False
        if out and not self._transport.is_closing():
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))

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
        self._write_out()  # the core's last words (an Abort) go before the close
        self._transport.close()
        bootstrap = self._bootstrap
        if bootstrap is not None:
            self._bootstrap = None
            self.runtime.vat.release(bootstrap)


class _Protocol(asyncio.BufferedProtocol):
    """Connects one asyncio transport to the :class:`Connection` that ``accept`` makes for it.

    The transport reads into the vat's receive buffer (Note [transports]).
    """

    def __init__(self, accept: Any, buffer: memoryview) -> None:
        self._accept = accept
        self._buffer = buffer
        self.conn: Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.conn = self._accept(transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        conn = self.conn
        if conn is not None:
            conn._data_received(self._buffer[:nbytes].tobytes())

    def eof_received(self) -> bool | None:
        conn = self.conn
        if conn is not None:
            conn._data_received(b"")
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        conn = self.conn
        if conn is not None:
            conn._connection_lost(exc)


class _StreamPair:
    """An open ``(reader, writer)`` pair standing in for a transport; :meth:`run` reads."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.transport.abort()

    def is_closing(self) -> bool:
        return self._writer.is_closing()

    async def run(self, conn: Connection) -> None:
        error: BaseException | None = None
        try:
            while data := await self._reader.read(RECEIVE_SIZE):
                conn._data_received(data)
            conn._data_received(b"")
        except (OSError, EOFError) as exc:
            error = exc
        finally:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            conn._connection_lost(error)


# == connecting ===================================================================================


async def _open(
    runtime: AsyncioVat,
    address: Address,
    ssl_context: stdlib_ssl.SSLContext | None,
    bootstrap: Cap | None,
) -> Connection:
    loop = runtime._loop
    buffer = runtime._receive_buffer
    made: list[Connection] = []

    def accept(transport: _Transport, peer: str) -> Connection:
        conn = Connection(runtime, transport, peer=peer, role="client", bootstrap=bootstrap)
        runtime._add_connection(conn.core, conn, observe=False)
        made.append(conn)
        return conn

    if isinstance(address, tuple):
        reader, writer = address
        if ssl_context is not None:
            await writer.start_tls(ssl_context)
        pair = _StreamPair(reader, writer)
        conn = accept(pair, "stream")
        runtime._spawn(pair.run(conn), name="capnrpc reader stream")
        return conn
    if isinstance(address, socket.socket):
        # server_hostname "": the context decides whether it may go without a hostname check.
        hostname = "" if ssl_context is not None else None
        if address.family == socket.AF_UNIX:
            await loop.create_unix_connection(
                lambda: _Protocol(lambda t: accept(t, "stream"), buffer),
                sock=address,
                ssl=ssl_context,
                server_hostname=hostname,
            )
        else:
            await loop.create_connection(
                lambda: _Protocol(lambda t: accept(t, "stream"), buffer),
                sock=address,
                ssl=ssl_context,
                server_hostname=hostname,
            )
        return made[0]
    parsed = parse_address(address)
    peer = str(parsed)
    if parsed.kind == "unix":
        await loop.create_unix_connection(
            lambda: _Protocol(lambda t: accept(t, peer), buffer),
            parsed.path,
            ssl=ssl_context,
            server_hostname="" if ssl_context is not None else None,
        )
    else:
        await loop.create_connection(
            lambda: _Protocol(lambda t: accept(t, peer), buffer),
            parsed.host,
            parsed.port,
            ssl=ssl_context,
        )
    return made[0]


@asynccontextmanager
async def connect(
    address: Address,
    *,
    bootstrap: Server | Client | None = None,
    ssl_context: stdlib_ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: AsyncioVat | None = None,
    trace_path: str | Path | None = None,
) -> AsyncIterator[Connection]:
    """Connect to ``address`` (``"tcp://host:port"``, ``"unix:/path"``, a connected socket, or
    an open ``(StreamReader, StreamWriter)`` pair).

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
        cap = bootstrap_cap(vat.vat, bootstrap) if bootstrap is not None else None
        try:
            conn = await _open(vat, address, ssl_context, cap)
        except BaseException:
            if cap is not None:
                vat.vat.release(cap)
                vat.flush()
            raise
        log.info("connected to %s", conn.peer_address)
        try:
            yield conn
        finally:
            await conn.aclose()


# == serving ======================================================================================


class Listener:
    """A listening endpoint made by :func:`serve`: ``address`` is where it listens."""

    def __init__(
        self,
        runtime: AsyncioVat,
        bootstrap: BootstrapSpec,
        unix_path: str | None,
        shared: bool,
    ) -> None:
        self.runtime = runtime
        self.address = ""
        self.connections: set[Connection] = set()
        self._bootstrap = bootstrap
        self._unix_path = unix_path
        self._shared = shared
        self._server: asyncio.AbstractServer | None = None
        self._stopped = asyncio.Event()
        self.closed = False

    def __repr__(self) -> str:
        return f"<capnrpc_asyncio.Listener {self.address}>"

    @property
    def vat(self) -> AsyncioVat:
        """The vat serving the connections."""
        return self.runtime

    async def serve_forever(self) -> None:
        """Wait until the listener is closed (cancel the waiting task to stop serving)."""
        await self._stopped.wait()

    def _accept(self, transport: asyncio.Transport) -> Connection | None:
        runtime = self.runtime
        peer = peer_address(transport.get_extra_info("peername"))
        try:
            cap = connection_bootstrap(runtime.vat, self._bootstrap, peer, self._shared)
        except Exception:
            log.exception("the bootstrap factory failed for %s; closing it", peer)
            transport.close()
            return None
        conn = Connection(
            runtime, transport, peer=peer, role="server", bootstrap=cap, listener=self
        )
        self.connections.add(conn)
        runtime._add_connection(conn.core, conn, observe=False)
        log.info("accepted %s on %s", peer, self.address)
        return conn

    async def aclose(self) -> None:
        """Stop listening and close every connection accepted here."""
        if self.closed:
            return
        self.closed = True
        server = self._server
        if server is not None:
            server.close()
        if self._unix_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)
        conns = list(self.connections)
        for conn in conns:
            conn._disconnect("the server was closed")
        try:
            for conn in conns:
                await conn.wait_closed()
            if server is not None:
                await server.wait_closed()
        finally:
            self._stopped.set()


@asynccontextmanager
async def serve(
    address: str,
    bootstrap: BootstrapSpec,
    *,
    ssl_context: stdlib_ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: AsyncioVat | None = None,
    trace_path: str | Path | None = None,
) -> AsyncIterator[Listener]:
    """Serve ``bootstrap`` on ``address`` (``"tcp://host:port"``, port 0 picks one; ``"unix:/p"``).

    ``async with serve(address, bootstrap) as listener:`` listens until the block ends;
    ``listener.address`` is the bound address and ``await listener.serve_forever()`` waits.
    ``bootstrap`` is a :class:`Server` object, a client, or a factory called with each peer's
    address. Without ``vat`` all connections share a vat of their own.
    """
    check_serve_bootstrap(bootstrap, vat)
    check_vat_options(vat, limits, trace_path)
    async with AsyncExitStack() as stack:
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
        unix_path = parsed.path if parsed.kind == "unix" else None
        listener = Listener(vat, bootstrap, unix_path, shared)

        def factory() -> _Protocol:
            return _Protocol(listener._accept, vat._receive_buffer)

        loop = vat._loop
        if unix_path is not None:
            server = await loop.create_unix_server(factory, unix_path, ssl=ssl_context)
            listener.address = str(parsed)
        else:
            server = await loop.create_server(
                factory, parsed.host or None, parsed.port, ssl=ssl_context
            )
            host, port = server.sockets[0].getsockname()[:2]
            listener.address = tcp_address(host, port)
        listener._server = server
        log.info("serving on %s", listener.address)
        try:
            yield listener
        finally:
            await listener.aclose()
