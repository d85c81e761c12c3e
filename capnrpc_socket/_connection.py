"""Connections over plain sockets: ``connect``, ``serve``, and each connection's IO thread."""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType

from capnrpc_core import LocalUsageError, RpcError
from capnrpc_core.driver import (
    WRITE_SLICE,
    Address,
    BootstrapSpec,
    DriverConnection,
    bootstrap_cap,
    check_serve_bootstrap,
    check_vat_options,
    connection_bootstrap,
    core_vat,
    parse_address,
    peer_address,
    receive,
    tcp_address,
)
from capnrpc_core.rpc import Cap, RpcException, RpcLimits
from capnrpc_core.rpc import Connection as CoreConnection
from capnrpc_core.schema.interfaces import Client, Server
from capnrpc_socket._runtime import (
    _SIGNAL_SLICE,
    DEFAULT_WORKERS,
    SocketVat,
    _local,
    _Worker,
    open_vat,
)

__all__ = ["Connection", "Listener", "connect", "serve"]

log = logging.getLogger("capnrpc")

RECEIVE_SIZE = 1 << 14
# A receive buffer that a read fills doubles, up to this size.
MAX_RECEIVE_SIZE = 1 << 20
SEND_SIZE = 1 << 18
# After a connection closed, how long its IO thread tries to write what is left (an Abort).
CLOSE_LINGER = 5.0
# A TLS handshake of an accepted connection must finish within this many seconds.
HANDSHAKE_TIMEOUT = 30.0


def _wait_event(event: threading.Event, timeout: float | None) -> bool:
    """``event.wait(timeout)`` that lets Ctrl-C through on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return event.wait(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = _SIGNAL_SLICE
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                return event.is_set()
        if event.wait(wait):
            return True


class Connection(DriverConnection):
    """One RPC connection: :meth:`bootstrap` gets the peer's capability.

    Made by :func:`connect` or accepted by :func:`serve`; an IO thread of its own reads and
    writes its socket. ``close_reason`` says why it closed. Usable from any thread.
    """

    driver_name = "capnrpc_socket"
    runtime: SocketVat

    def __init__(
        self,
        runtime: SocketVat,
        sock: socket.socket,
        *,
        peer: str,
        role: str,
        bootstrap: Cap | None,
        handshake: bool = False,
    ) -> None:
        self.runtime = runtime
        self.peer_address = peer
        self.role = role
        self.close_reason: RpcError | None = None
        with runtime.lock():
            self.core: CoreConnection = runtime.vat.new_connection(f"{role} {peer}")
        self._sock = sock
        self._bootstrap = bootstrap
        self._handshake = handshake
        if not handshake:
            sock.setblocking(False)
        self._owned_vat: SocketVat | None = None
        self._listener: Listener | None = None
        # The thread serving the socket now, and whether it is done with it (set with the vat
        # lock held); the method it runs inline and a count of them (Note [inline methods]).
        self._owner: threading.Thread | None = None
        self._finished = False
        self._done = threading.Event()
        self._inline_job: object = None
        self._inline_seq = 0
        # Writing (Note [writing]): output not written yet, oldest first (the first may be the
        # rest of a partial send), guarded by _wlock; _burst: the IO thread wrote a message at
        # once and has not selected since. TLS output goes through the IO thread only.
        self._out: deque[bytes | memoryview] = deque()
        self._wlock = threading.Lock()
        self._burst = False
        # runtime._waits_ended when this connection was last queued to (Note [writing]).
        self._waits_seen = -1
        self._direct = not isinstance(sock, ssl.SSLSocket)
        self._broken = False
        self._want_write = False
        # Reading: one receive buffer (Note [receiving]); reading and feeding are one thread's
        # at a time (_reader): the IO thread's or a leader's (Note [leading]).
        self._rbuf = memoryview(bytearray(RECEIVE_SIZE))
        self._reader = threading.Lock()
        # The IO loop's state, here because the loop may move to another thread. _interest
        # guards the selector's registration, which a leader changes too: _leading turns the
        # IO thread's reading off; _sock_closed, once the socket is closed.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._woken = False
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._interest = threading.Lock()
        self._registered = 0
        self._reading = True
        self._leading = False
        self._sock_closed = False
        self._closing = False
        self._linger_until: float | None = None
        self._can_lead = self._direct and isinstance(self._selector, _CONCURRENT_SELECTORS)
        self._core_vat = core_vat(runtime.vat)

    @property
    def vat(self) -> SocketVat:
        """The vat (runtime) this connection belongs to."""
        return self.runtime

    def close(self) -> None:
        """Close the connection (pending calls fail with ``disconnected``) and join its thread.

        A connection made by :func:`connect` without ``vat=`` closes its vat too.
        """
        with self.runtime.lock():
            self._disconnect_locked("connection closed locally")
        self._join()
        if self._owned_vat is not None:
            self._owned_vat.close()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait until the connection is closed and its IO thread has ended (False on timeout)."""
        return _wait_event(self._done, timeout)

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- called by the runtime -----------------------------------------------------------------

    def _start(self) -> None:
        """Start the IO thread: a pool thread of the vat, serving this connection first."""
        runtime = self.runtime
        worker = _Worker(None, self)
        thread = threading.Thread(
            target=runtime._work, args=(worker,), name=f"capnrpc io {self.core.name}"
        )
        thread.daemon = True
        worker.thread = thread
        with runtime.lock():
            self._owner = thread
        thread.start()

    def _queue(self, data: bytes) -> None:
        """Queue output (vat lock held) to be written as Note [writing] says."""
        runtime = self.runtime
        if threading.current_thread() is self._owner:
            with self._wlock:
                if (
                    self._direct
                    and not self._out
                    and not self._burst
                    and not runtime._more_inline_work()
                ):
                    self._burst = True
                    try:
                        sent = self._sock.send(data)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:
                        sent = 0  # met again by the IO thread's write, which closes
                    if sent == len(data):
                        return
                    self._out.append(memoryview(data)[sent:])
                    return
                self._out.append(data)
                if len(self._out) < WRITE_SLICE or not self._direct:
                    return
            # A long burst leaves in slices (Note [write slices] in capnrpc_core.driver).
            self._write()
            return
        with self._wlock:
            self._out.append(data)
            # The first message since a wait ended goes at once, with what was held back
            # for it, unless the IO thread is reading (Note [writing]); later ones wait for
            # this thread's wait, or a slice.
            first = self._waits_seen != runtime._waits_ended and self._leading
            self._waits_seen = runtime._waits_ended
            whole_slice = first or len(self._out) >= WRITE_SLICE
        if self._direct:
            if whole_slice:
                self._flush()
            else:
                runtime._unflushed.add(self)
                runtime._flush_soon()
        else:
            self._wake()

    def _flush(self) -> None:
        """Write what is queued on this thread; the IO thread writes what the socket refuses."""
        if self._direct:
            self._write()
            if self._out:
                self._wake()

    def _wake(self) -> bool:
        """Wake the IO thread (any thread, no lock needed). False if it is gone."""
        if self._woken:
            return True
        self._woken = True
        try:
            self._wake_w.send(b"\0")
        except BlockingIOError:
            pass  # full of wake-ups already
        except OSError:
            return False
        return True

    def _disconnect_locked(self, reason: str) -> None:
        if self.core.open:
            self.runtime.vat.disconnect(self.core, reason)
            self.runtime._drain()

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
        bootstrap = self._bootstrap
        if bootstrap is not None:
            self._bootstrap = None
            # Not now: the pump is reporting events; it drains this right after.
            self.runtime._pump.release_later(bootstrap)
        if threading.current_thread() is not self._owner:
            self._wake()

    def _join(self) -> None:
        """Wait until the IO thread has finished the connection (unless this is that thread)."""
        runtime = self.runtime
        with runtime.lock():
            if self._finished or self._owner is None or self._owner is threading.current_thread():
                return  # over, never started, or this is its IO thread
            if self._inline_job is not None:
                # Its IO thread runs a method that may never return: finish on another.
                runtime._hand_over(self)
        _wait_event(self._done, None)

    # -- the IO thread -------------------------------------------------------------------------

    def _serve(self) -> None:
        """Serve the socket on this thread until the connection ends or is handed over."""
        runtime = self.runtime
        _local.io = True
        _local.serving = self
        try:
            if self._handshake:
                self._handshake = False
                self._sock.settimeout(HANDSHAKE_TIMEOUT)
                _as_ssl(self._sock).do_handshake()
                self._sock.setblocking(False)
            if not self._loop():
                return  # handed over: this thread carries on in the pool
        except OSError as exc:  # ssl.SSLError included
            self._lost(exc)
        except BaseException:
            log.exception("the IO thread of %s failed", self.core.name)
            with runtime.lock():
                self._disconnect_locked("internal error in the connection's IO thread")
        finally:
            _local.io = False
            _local.serving = None
        self._finish()

    def _finish(self) -> None:
        """Close the socket and say so: the connection's last act, on its IO thread."""
        runtime = self.runtime
        # Not while a leader reads it (it stops once its call failed with the connection).
        with self._reader, self._interest:
            self._sock_closed = True
            with contextlib.suppress(OSError):
                self._sock.close()
            self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        with runtime.lock():
            self._finished = True
            self._owner = None
            # Only a failure before the loop leaves it open.
            self._disconnect_locked("connection closed")
            if self._listener is not None:
                self._listener._connections.discard(self)
            runtime._drain()
            # Deliveries read last, which this thread will not run now.
            runtime._dispatch()
        self._done.set()

    def _loop(self) -> bool:
        """The IO loop: True when the connection is over, False when handed over."""
        runtime = self.runtime
        selector = self._selector
        me = self._owner
        while True:
            if runtime._ready:
                runtime._run_inline(self)
                if self._owner is not me:
                    return False
            timeout = None
            if self._closing:
                self._write()
                if not self._out or self._broken:
                    return True
                self._reading = False
                if self._linger_until is None:
                    self._linger_until = time.monotonic() + CLOSE_LINGER
                timeout = self._linger_until - time.monotonic()
                if timeout <= 0:
                    log.info("gave up writing to %s after it closed", self.core.name)
                    return True
            elif runtime._ready:
                timeout = 0  # methods are waiting for this thread: only look
            if runtime._unflushed:
                runtime._flush_io()  # what methods run here queued on other connections
            if self._out:
                self._write()
            self._burst = False
            pending = bool(self._out) or self._want_write
            if self._registered != _mask(self._reading and not self._leading, pending):
                with self._interest:
                    self._register(pending)
            for key, events in selector.select(timeout):
                if key.data is None:
                    self._take_wakeups()
                elif events & selectors.EVENT_READ or self._want_write:
                    # (A TLS read that needed to write is retried once writable.)
                    self._reading = self._read()

    def _register(self, pending: bool) -> None:
        """Select what the IO thread waits for (``_interest`` held)."""
        mask = _mask(self._reading and not self._leading, pending or self._want_write)
        if mask != self._registered and not self._sock_closed:
            sock = self._sock
            if self._registered and mask:
                self._selector.modify(sock, mask, sock)
            elif mask:
                self._selector.register(sock, mask, sock)
            else:
                self._selector.unregister(sock)
            self._registered = mask

    def _take_wakeups(self) -> None:
        with self.runtime.lock():
            # Cleared after the bytes are taken and under the lock that _queue holds, so a
            # wake-up is never lost (one from a finalizer, without the lock, may be doubled).
            with contextlib.suppress(BlockingIOError):
                while self._wake_r.recv(4096):
                    pass
            self._woken = False
            self.runtime._drain()

    def _read(self) -> bool:
        """Read what there is and feed it to the core; False once there is nothing more."""
        if not self._reader.acquire(blocking=False):
            return True  # a waiting thread leads: it reads (Note [leading])
        try:
            return self._receive()
        finally:
            self._reader.release()

    def _receive(self) -> bool:
        """Receive and feed (``_reader`` held); False once there is nothing more to read.

        Note [receiving]: into one buffer, copied out whole, so that a message that fits
        arrives in one piece (the decoder then need not join pieces) and the buffer's pages
        stay mapped; a buffer that a read fills doubles, up to MAX_RECEIVE_SIZE.
        """
        runtime = self.runtime
        sock = self._sock
        self._want_write = False
        while True:
            try:
                size = sock.recv_into(self._rbuf)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return True
            except ssl.SSLWantWriteError:
                self._want_write = True
                return True
            except OSError as exc:
                self._lost(exc)
                return False
            data = self._rbuf[:size].tobytes()
            if size == len(self._rbuf) and size < MAX_RECEIVE_SIZE:
                self._rbuf = memoryview(bytearray(2 * size))
            with runtime._lock:
                if not self.core.open:
                    return False
                receive(runtime.vat, self.core, data, self._bootstrap)
                runtime._drain()
            if not size:
                return False
            # A TLS socket may hold decrypted bytes that select() cannot see.
            if self._direct or not _as_ssl(sock).pending():
                return True

    def _write(self) -> None:
        """Write what is queued until the socket would block."""
        error: OSError | None = None
        with self._wlock:
            out = self._out
            sock = self._sock
            while out and not self._broken:
                if len(out) > 1 and len(out[0]) < SEND_SIZE and isinstance(out[0], bytes):
                    # Many small messages: one send. Not the rest of a partial send, which
                    # TLS must retry with the same bytes.
                    parts = []
                    size = 0
                    while out and size < SEND_SIZE:
                        parts.append(out.popleft())
                        size += len(parts[-1])
                    out.appendleft(b"".join(parts))
                chunk = out[0]
                try:
                    sent = sock.send(chunk)
                except (
                    BlockingIOError,
                    InterruptedError,
                    ssl.SSLWantWriteError,
                    ssl.SSLWantReadError,
                ):
                    return
                except OSError as exc:
                    self._broken = True
                    error = exc
                    break
                if sent < len(chunk):
                    out[0] = memoryview(chunk)[sent:]
                    return
                out.popleft()
        if error is not None:
            self._lost(error)

    def _lost(self, exc: BaseException) -> None:
        with self.runtime.lock():
            self._disconnect_locked(f"connection lost: {exc}")

    # -- leading (Note [leading]) --------------------------------------------------------------

    def _lead(self) -> bool:
        """Become the reader of this connection (vat lock held); False if that cannot be now."""
        if not self._can_lead or self._closing or self._finished or self._owner is None:
            return False
        if not self._reader.acquire(blocking=False):
            return False  # being read (or led) already
        if not self._leading:
            with self._interest:
                self._leading = True
                self._register(bool(self._out))
        return True

    def _stop_leading(self, others_wait: bool) -> None:
        """Stop reading; the IO thread reads again now, or when the flusher next looks."""
        self._reader.release()
        if others_wait or not self._parkable():
            self._unpark()
        else:
            self.runtime._parked.add(self)
            self.runtime._flush_soon()

    def _parkable(self) -> bool:
        """Whether reading may wait a little: the peer has nothing of ours to call."""
        core = self.core
        return (
            not core.exports.size()
            and self._bootstrap is None
            and core.bootstrap_cap is None
            and self._core_vat.bootstrap_cap is None
        )

    def _unpark(self) -> None:
        """Let the IO thread read again, unless a thread leads."""
        if self._leading and self._reader.acquire(blocking=False):
            try:
                with self._interest:
                    self._leading = False
                    self._register(bool(self._out))
            finally:
                self._reader.release()


# Selectors whose registration may change while another thread selects (Note [leading]).
_CONCURRENT_SELECTORS = tuple(
    getattr(selectors, name)
    for name in ("EpollSelector", "KqueueSelector")
    if hasattr(selectors, name)
)


def _mask(reading: bool, writing: bool) -> int:
    return (selectors.EVENT_READ if reading else 0) | (selectors.EVENT_WRITE if writing else 0)


def _as_ssl(sock: socket.socket) -> ssl.SSLSocket:
    """``sock`` as the TLS socket it is (for a server-side handshake)."""
    assert isinstance(sock, ssl.SSLSocket)
    return sock


# == connecting ===================================================================================


def _nodelay(sock: socket.socket) -> None:
    # Small request/response messages: Nagle's algorithm would hold them back.
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _open_socket(
    address: str | socket.socket, ssl_context: ssl.SSLContext | None, timeout: float | None
) -> tuple[socket.socket, str]:
    if isinstance(address, socket.socket):
        sock = address
        try:
            peer = peer_address(sock.getpeername())
        except OSError:
            peer = "socket"
        if ssl_context is not None:
            sock.settimeout(timeout)
            sock = ssl_context.wrap_socket(sock)
        _nodelay(sock)
        return sock, peer
    parsed = parse_address(address)
    if parsed.kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(parsed.path)
        except BaseException:
            sock.close()
            raise
        server_hostname = None
    else:
        sock = socket.create_connection((parsed.host, parsed.port), timeout=timeout)
        _nodelay(sock)
        server_hostname = parsed.host
    if ssl_context is not None:
        try:
            sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname)
        except BaseException:
            sock.close()
            raise
    return sock, str(parsed)


def connect(
    address: str | socket.socket,
    *,
    bootstrap: Server | Client | None = None,
    ssl_context: ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: SocketVat | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    trace_path: str | Path | None = None,
) -> Connection:
    """Connect to ``address`` (``"tcp://host:port"``, ``"unix:/path"`` or a connected socket).

    Use the connection as a context manager, or call ``close()``. ``bootstrap`` is what the
    peer gets if it asks for our bootstrap capability. ``timeout`` bounds connecting (and the
    TLS handshake). Without ``vat`` the connection gets a vat of its own (with ``limits``,
    ``workers`` and ``trace_path``); pass a vat from :func:`open_vat` to share capabilities.
    """
    check_vat_options(vat, limits, trace_path)
    if vat is not None and workers is not None:
        raise LocalUsageError("workers belong to the vat: pass them to open_vat")
    if vat is not None and vat.closed:
        raise LocalUsageError("connect(vat=...) was given a closed vat")
    owned: SocketVat | None = None
    if vat is None:
        vat = owned = open_vat(
            limits=limits,
            name="client",
            workers=DEFAULT_WORKERS if workers is None else workers,
            trace_path=trace_path,
        )
    try:
        sock, peer = _open_socket(address, ssl_context, timeout)
        try:
            with vat.lock():
                cap = bootstrap_cap(vat.vat, bootstrap) if bootstrap is not None else None
                conn = Connection(vat, sock, peer=peer, role="client", bootstrap=cap)
                vat._add_connection(conn)
        except BaseException:
            sock.close()
            raise
        conn._owned_vat = owned
        conn._start()
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    log.info("connected to %s", peer)
    return conn


# == serving ======================================================================================


class Listener:
    """A listening endpoint made by :func:`serve`: ``address`` is where it listens.

    Connections are accepted on a thread of the listener's own from the moment it exists;
    :meth:`serve_forever` only blocks until :meth:`shutdown`. Usable from any thread.
    """

    def __init__(
        self,
        runtime: SocketVat,
        sock: socket.socket,
        address: str,
        bootstrap: BootstrapSpec,
        ssl_context: ssl.SSLContext | None,
        unix_path: str | None,
        shared: bool,
        owned: SocketVat | None,
    ) -> None:
        self.runtime = runtime
        self.address = address
        self._connections: set[Connection] = set()
        self._sock = sock
        self._bootstrap = bootstrap
        self._ssl_context = ssl_context
        self._unix_path = unix_path
        self._shared = shared
        self._owned = owned
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._shutdown_started = False
        self._state = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name=f"capnrpc accept {address}")
        self._thread.daemon = True

    def __repr__(self) -> str:
        return f"<capnrpc_socket.Listener {self.address}>"

    @property
    def vat(self) -> SocketVat:
        """The vat serving the connections."""
        return self.runtime

    @property
    def connections(self) -> set[Connection]:
        """The open connections accepted here (a copy: IO threads change the set)."""
        with self.runtime.lock():
            return set(self._connections)

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` has finished."""
        return self._stopped.is_set()

    def serve_forever(self) -> None:
        """Block until :meth:`shutdown` is called (from another thread, or a server method).

        Ctrl-C raises KeyboardInterrupt here; leaving the ``with`` block then shuts down.
        """
        _wait_event(self._stopped, None)

    def shutdown(self) -> None:
        """Stop listening, close every connection accepted here, and close the listener's vat."""
        with self._state:
            first = not self._shutdown_started
            self._shutdown_started = True
        if not first:
            self._stopped.wait()
            return
        try:
            self._stopping = True
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")
            if threading.current_thread() is not self._thread:
                _wait_event_thread(self._thread)
            self._sock.close()
            self._wake_r.close()
            self._wake_w.close()
            if self._unix_path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._unix_path)
            runtime = self.runtime
            with runtime.lock():
                conns = list(self._connections)
                for conn in conns:
                    conn._disconnect_locked("the server was closed")
            for conn in conns:
                conn._join()
            if self._owned is not None:
                self._owned.close()
        finally:
            self._stopped.set()

    close = shutdown

    def __enter__(self) -> Listener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # -- the accept thread ---------------------------------------------------------------------

    def _start(self) -> None:
        self._thread.start()

    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            self._sock.setblocking(False)
            selector.register(self._sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(64)
                        continue
                    try:
                        sock, _ = self._sock.accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    except OSError as exc:
                        log.warning("accepting on %s failed: %s", self.address, exc)
                        continue
                    self._accepted(sock)
        finally:
            selector.close()

    def _accepted(self, sock: socket.socket) -> None:
        runtime = self.runtime
        sock.setblocking(True)
        _nodelay(sock)
        try:
            peer = peer_address(sock.getpeername())
        except OSError:
            peer = "unknown"
        try:
            with runtime.lock():
                cap = connection_bootstrap(runtime.vat, self._bootstrap, peer, self._shared)
        except Exception:
            log.exception("the bootstrap factory failed for %s; closing it", peer)
            sock.close()
            return
        handshake = False
        if self._ssl_context is not None:
            sock = self._ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
            handshake = True
        with runtime.lock():
            if self._stopping or runtime.closed:
                if cap is not None:
                    runtime.vat.release(cap)
                sock.close()
                return
            conn = Connection(
                runtime, sock, peer=peer, role="server", bootstrap=cap, handshake=handshake
            )
            conn._listener = self
            self._connections.add(conn)
            runtime._add_connection(conn)
        conn._start()
        log.info("accepted %s on %s", peer, self.address)


def _wait_event_thread(thread: threading.Thread) -> None:
    while thread.is_alive():
        thread.join(_SIGNAL_SLICE)


def _listen(parsed: Address, backlog: int) -> tuple[socket.socket, str]:
    if parsed.kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(parsed.path)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock, str(parsed)
    family = socket.AF_INET6 if ":" in parsed.host else socket.AF_INET
    sock = socket.create_server((parsed.host, parsed.port), family=family, backlog=backlog)
    host, port = sock.getsockname()[:2]
    return sock, tcp_address(host, port)


def serve(
    address: str,
    bootstrap: BootstrapSpec,
    *,
    ssl_context: ssl.SSLContext | None = None,
    limits: RpcLimits | None = None,
    vat: SocketVat | None = None,
    workers: int | None = None,
    trace_path: str | Path | None = None,
    backlog: int = 128,
) -> Listener:
    """Serve ``bootstrap`` on ``address`` (``"tcp://host:port"``, port 0 picks one; ``"unix:/p"``).

    Returns a :class:`Listener` that is already accepting: use it as a context manager (or call
    ``shutdown()``); ``listener.address`` is the bound address. ``bootstrap`` is a
    :class:`Server` object, a client, or a factory called with each peer's address. Without
    ``vat`` all connections share a vat of their own, with ``workers`` threads for methods.
    """
    check_serve_bootstrap(bootstrap, vat)
    check_vat_options(vat, limits, trace_path)
    if vat is not None and workers is not None:
        raise LocalUsageError("workers belong to the vat: pass them to open_vat")
    shared = vat is not None
    owned: SocketVat | None = None
    if vat is None:
        vat = owned = open_vat(
            bootstrap=bootstrap if isinstance(bootstrap, Server) else None,
            limits=limits,
            name="server",
            workers=DEFAULT_WORKERS if workers is None else workers,
            trace_path=trace_path,
        )
    try:
        parsed = parse_address(address)
        sock, bound = _listen(parsed, backlog)
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    listener = Listener(
        vat,
        sock,
        bound,
        bootstrap,
        ssl_context,
        parsed.path if parsed.kind == "unix" else None,
        shared,
        owned,
    )
    listener._start()
    log.info("serving on %s", bound)
    return listener
