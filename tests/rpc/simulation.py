"""A seeded multi-vat simulation of the core (used by test_simulation.py).

Several vats, connected in memory, make random calls on random capabilities -- bootstrap, calls
with capabilities in params and results, pipelining, local promises resolved later, held calls
answered later, cancellation, releases, disconnects -- while frames are delivered in a random
interleaving (FIFO per direction). After every step the invariants hold: no exception escapes the
core, and calls made through one reference are delivered in the order they were made (E-order).
At the end everything is answered, resolved and released, and every table of every open
connection must be empty, and every call settled.

Every run is a pure function of its seed. A failing run prints the seed and the operations it
performed, one per line, so it can be replayed with :func:`replay`.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

from capnrpc_core.rpc import (
    CallReturned,
    Cap,
    Connection,
    DeliverCall,
    Delivery,
    DeliveryCanceled,
    PendingCall,
    RpcException,
    Vat,
)
from capnrpc_core.rpc.caps import PromiseCap
from capnrpc_core.rpc.trace import TraceRecorder
from capnrpc_core.wire.builder import MessageBuilder, StructBuilder
from capnrpc_core.wire.framing import FrameDecoder, encode_frame
from capnrpc_core.wire.reader import AnyPointerReader, StructReader

IFACE = 0x5151_5151_0000_0001
U64 = struct.Struct("<Q")
ECHO, RECORD, MAKE_NEW, HOLD, FAIL = range(5)
METHODS = (ECHO, RECORD, MAKE_NEW, HOLD, FAIL)


class SimFailure(AssertionError):
    """An invariant broke; the message carries the seed and the script."""


def make_params(value: int, tag: str, caps: list[Cap]) -> StructBuilder:
    builder = MessageBuilder()
    s = builder.init_root(1, 4)
    s.set_int(U64, 0, value)
    s.set_text(1, tag)
    for i, cap in enumerate(caps[:2]):
        s.set_capability(2 + i, cap)
    return s


def read_struct(content: object) -> StructReader | None:
    if isinstance(content, StructReader):
        return content
    if isinstance(content, AnyPointerReader) and content.kind() == "struct":
        return content.as_struct()
    return None


class SimServer:
    """A local object in the simulation."""

    def __init__(self, sim: Simulation, vat_index: int, name: str) -> None:
        self.sim = sim
        self.vat_index = vat_index
        self.name = name
        self.last_seq: dict[str, int] = {}
        self.broken = False

    def handle(self, delivery: Delivery) -> None:
        sim = self.sim
        vat = sim.vats[self.vat_index]
        p = read_struct(delivery.params)
        value = p.get_int(U64, 0) if p is not None else 0
        tag = p.get_text(1) if p is not None else ""
        caps: list[Cap] = []
        if p is not None:
            for i in (2, 3):
                cap = p.get_capability(i)
                if isinstance(cap, Cap):
                    caps.append(cap)
        # E-order: calls made through one reference arrive in the order they were made.
        if tag:
            last = self.last_seq.get(tag, -1)
            if value <= last:
                raise SimFailure(
                    f"E-order broken at {self.name}: reference {tag} delivered seq {value} "
                    f"after {last}"
                )
            self.last_seq[tag] = value
        method = delivery.method_id
        # Servers sometimes keep capabilities they are given, growing the reference graph.
        for cap in caps:
            if sim.rng.random() < 0.3:
                sim.held[self.vat_index].append(vat.add_ref(cap))
        if method == ECHO:
            vat.return_results(delivery, make_params(value, "", [vat.add_ref(c) for c in caps]))
        elif method == RECORD:
            vat.return_results(delivery, make_params(value, "", []))
        elif method == MAKE_NEW:
            child = sim.new_server(self.vat_index)
            vat.return_results(delivery, make_params(value, "", [child]))
        elif method == HOLD:
            sim.held_deliveries[self.vat_index].append(delivery)
        else:
            vat.return_exception(delivery, RpcException(f"{self.name} fails on purpose"))


@dataclass
class Pipe:
    """One direction of a link: frames queued in order."""

    src: int
    dst: int
    src_conn: Connection
    dst_conn: Connection
    frames: list[bytes] = field(default_factory=list)
    decoder: FrameDecoder = field(default_factory=FrameDecoder)


class Simulation:
    """The whole simulated world for one seed."""

    def __init__(self, seed: int, vats: int = 3, record: bool = False) -> None:
        self.seed = seed
        # Two streams: one chooses operations, the other everything the world decides
        # (interleavings, what servers keep), so a replayed script sees the same world.
        self.rng = random.Random(seed)
        self.ops_rng = random.Random(seed ^ 0x5EED)
        self.script: list[str] = []
        self.vats: list[Vat] = []
        self.servers: list[list[SimServer]] = []
        self.held: list[list[Cap]] = []
        self.calls: list[list[PendingCall]] = []
        self.returned: list[list[PendingCall]] = []
        self.promises: list[list[Cap]] = []
        self.held_deliveries: list[list[Delivery]] = []
        self.pipes: list[Pipe] = []
        self.conns: list[list[tuple[int, Connection]]] = []
        # Keyed by the reference itself (kept alive, so no id is ever reused for another).
        self.ref_tags: dict[Cap, str] = {}
        self.ref_seq: dict[str, int] = {}
        self.all_calls: list[PendingCall] = []
        for i in range(vats):
            self.servers.append([])
            self.held.append([])
            self.calls.append([])
            self.returned.append([])
            self.promises.append([])
            self.held_deliveries.append([])
            self.conns.append([])
            server = SimServer(self, i, f"v{i}.boot")
            self.servers[i].append(server)
            if record and i == 0:
                # Vat 0 is recorded: its trace must replay byte for byte (test_trace.py).
                self.vats.append(TraceRecorder(server, name=f"v{i}"))  # type: ignore[arg-type]
            else:
                self.vats.append(Vat(server, name=f"v{i}"))
        for a in range(vats):
            for b in range(a + 1, vats):
                ca = self.vats[a].new_connection(f"v{a}->v{b}")
                cb = self.vats[b].new_connection(f"v{b}->v{a}")
                self.pipes.append(Pipe(a, b, ca, cb))
                self.pipes.append(Pipe(b, a, cb, ca))
                self.conns[a].append((b, ca))
                self.conns[b].append((a, cb))

    def new_server(self, vat_index: int) -> Cap:
        server = SimServer(self, vat_index, f"v{vat_index}.obj{len(self.servers[vat_index])}")
        self.servers[vat_index].append(server)
        return self.vats[vat_index].local_cap(server)

    # -- plumbing ------------------------------------------------------------------------------

    def collect(self) -> None:
        """Move queued output into the pipes, and handle every event."""
        progressed = True
        while progressed:
            progressed = False
            for pipe in self.pipes:
                data = self.vats[pipe.src].data_to_send(pipe.src_conn)
                if data:
                    for segments in pipe.decoder.feed(data):
                        pipe.frames.append(encode_frame(segments))
            for i, vat in enumerate(self.vats):
                while (event := vat.next_event()) is not None:
                    progressed = True
                    if isinstance(event, DeliverCall):
                        server = event.delivery.server
                        assert isinstance(server, SimServer)
                        server.handle(event.delivery)
                    elif isinstance(event, CallReturned):
                        self.returned[i].append(event.call)
                    elif isinstance(event, DeliveryCanceled):
                        held = self.held_deliveries[i]
                        if event.delivery in held:
                            held.remove(event.delivery)
                            vat.return_exception(event.delivery, RpcException("canceled"))

    def deliver_one(self) -> bool:
        ready = [p for p in self.pipes if p.frames]
        if not ready:
            return False
        pipe = self.rng.choice(ready)
        frame = pipe.frames.pop(0)
        self.vats[pipe.dst].receive_data(pipe.dst_conn, frame)
        return True

    def quiesce(self) -> None:
        for _ in range(100_000):
            self.collect()
            if not self.deliver_one():
                self.collect()
                if not any(p.frames for p in self.pipes):
                    return
        raise SimFailure("the network did not go quiet")

    # -- operations ----------------------------------------------------------------------------

    def _caps_of(self, v: int) -> list[Cap]:
        return [c for c in self.held[v] if c.refs > 0]

    def _tag(self, v: int, cap: Cap) -> str:
        tag = self.ref_tags.get(cap)
        if tag is None:
            tag = f"v{v}r{len(self.ref_tags)}"
            self.ref_tags[cap] = tag
        return tag

    def op_bootstrap(self, v: int, k: int) -> None:
        conns = self.conns[v]
        _, conn = conns[k % len(conns)]
        if conn.open:
            self.held[v].append(self.vats[v].bootstrap(conn))

    def op_call(self, v: int, c: int, method: int, with_caps: int, pipeline: bool) -> None:
        caps = self._caps_of(v)
        if not caps:
            return
        vat = self.vats[v]
        target = caps[c % len(caps)]
        tag = self._tag(v, target)
        seq = self.ref_seq.get(tag, -1) + 1
        self.ref_seq[tag] = seq
        passed = [vat.add_ref(caps[(c + 1 + i) % len(caps)]) for i in range(with_caps)]
        call = vat.call(target, IFACE, method, make_params(seq, tag, passed))
        self.calls[v].append(call)
        self.all_calls.append(call)
        if pipeline:
            self.held[v].append(vat.pipeline(call, [2]))

    def op_new_promise(self, v: int) -> None:
        vat = self.vats[v]
        promise = vat.new_promise()
        self.promises[v].append(promise)
        self.held[v].append(vat.add_ref(promise))

    def op_resolve(self, v: int, p: int, c: int, reject: bool) -> None:
        promises = self.promises[v]
        if not promises:
            return
        promise = promises.pop(p % len(promises))
        vat = self.vats[v]
        # Resolving a promise to something that waits on it would be the application's own
        # deadlock (as in every capability system), so targets are settled capabilities.
        caps = [x for x in self._caps_of(v) if is_settled(x)]
        if reject or not caps:
            vat.reject(promise, RpcException("rejected by the simulation"))
        else:
            vat.resolve(promise, caps[c % len(caps)])
        vat.release(promise)

    def op_answer_held(self, v: int, d: int, fail: bool, c: int) -> None:
        held = self.held_deliveries[v]
        if not held:
            return
        delivery = held.pop(d % len(held))
        vat = self.vats[v]
        if fail:
            vat.return_exception(delivery, RpcException("held call failed"))
        else:
            # Settled capabilities only: returning a promise that waits on this very call is
            # the application's own deadlock.
            caps = [x for x in self._caps_of(v) if is_settled(x)]
            passed = [vat.add_ref(caps[c % len(caps)])] if caps else []
            vat.return_results(delivery, make_params(0, "", passed))

    def op_release(self, v: int, c: int) -> None:
        held = self.held[v]
        if held:
            self.vats[v].release(held.pop(c % len(held)))

    def op_take_results(self, v: int, r: int) -> None:
        returned = self.returned[v]
        if not returned:
            return
        call = returned.pop(r % len(returned))
        vat = self.vats[v]
        p = read_struct(call.results) if call.exception is None else None
        if p is not None:
            for i in (2, 3):
                cap = p.get_capability(i)
                if isinstance(cap, Cap) and self.rng.random() < 0.6:
                    self.held[v].append(vat.add_ref(cap))
        vat.release_call(call)

    def op_cancel(self, v: int, c: int) -> None:
        pending = [x for x in self.calls[v] if not x.done]
        if pending:
            self.vats[v].cancel(pending[c % len(pending)])

    def op_disconnect(self, v: int, k: int) -> None:
        conns = self.conns[v]
        peer, conn = conns[k % len(conns)]
        if not conn.open:
            return
        self.vats[v].disconnect(conn, "simulated disconnect")
        for pipe in self.pipes:
            if pipe.src_conn is conn or pipe.dst_conn is conn:
                pipe.frames.clear()
        for other_peer, other in self.conns[peer]:
            if other_peer == v:
                self.vats[peer].receive_data(other, b"")

    def random_op(self) -> str:
        rng = self.ops_rng
        v = rng.randrange(len(self.vats))
        roll = rng.random()
        if roll < 0.08:
            return f"op_bootstrap({v}, {rng.randrange(8)})"
        if roll < 0.45:
            method = rng.choice(METHODS)
            return (
                f"op_call({v}, {rng.randrange(64)}, {method}, {rng.choice((0, 0, 1, 2))}, "
                f"{rng.random() < 0.3})"
            )
        if roll < 0.5:
            return f"op_new_promise({v})"
        if roll < 0.58:
            return f"op_resolve({v}, {rng.randrange(8)}, {rng.randrange(64)}, {rng.random() < 0.2})"
        if roll < 0.66:
            fail = rng.random() < 0.2
            return f"op_answer_held({v}, {rng.randrange(8)}, {fail}, {rng.randrange(64)})"
        if roll < 0.76:
            return f"op_release({v}, {rng.randrange(64)})"
        if roll < 0.88:
            return f"op_take_results({v}, {rng.randrange(64)})"
        if roll < 0.93:
            return f"op_cancel({v}, {rng.randrange(64)})"
        if roll < 0.935:
            return f"op_disconnect({v}, {rng.randrange(8)})"
        return "deliver"

    def step(self, op: str) -> None:
        self.script.append(op)
        if op == "deliver":
            for _ in range(self.rng.randrange(1, 6)):
                self.deliver_one()
        else:
            eval(f"self.{op}", {"self": self})  # ops are generated by random_op above
        self.collect()

    # -- the end -------------------------------------------------------------------------------

    def drain(self) -> None:
        """Answer, resolve and release everything, then check every table is empty."""
        for _ in range(1000):
            self.quiesce()
            busy = False
            for v, vat in enumerate(self.vats):
                while self.held_deliveries[v]:
                    busy = True
                    vat.return_exception(self.held_deliveries[v].pop(), RpcException("drain"))
                while self.promises[v]:
                    busy = True
                    promise = self.promises[v].pop()
                    vat.reject(promise, RpcException("drain"))
                    vat.release(promise)
            if not busy:
                break
            self.collect()
        self.quiesce()
        unsettled = [c for c in self.all_calls if not c.done]
        if unsettled:
            raise SimFailure(f"{len(unsettled)} calls never settled: {unsettled[:5]}")
        for v, vat in enumerate(self.vats):
            for cap in self.held[v]:
                if cap.refs > 0:
                    vat.release(cap)
            self.held[v].clear()
            for call in self.returned[v]:
                vat.release_call(call)
            self.returned[v].clear()
        self.quiesce()
        for v in range(len(self.vats)):
            for _, conn in self.conns[v]:
                if conn.open:
                    sizes = {
                        "questions": len(conn.questions),
                        "answers": len(conn.answers),
                        "exports": len(conn.exports),
                        "imports": len(conn.imports),
                        "promise_imports": len(conn.promise_imports),
                        "embargoes": len(conn.embargoes),
                    }
                    if any(sizes.values()):
                        raise SimFailure(f"tables not empty on {conn.name}: {sizes}")


def run(seed: int, steps: int = 300, vats: int = 3) -> Simulation:
    """Run one seeded simulation; raise SimFailure with a replayable script on failure."""
    sim = Simulation(seed, vats)
    try:
        for _ in range(steps):
            sim.step(sim.random_op())
        sim.drain()
    except Exception as exc:
        script = "\n".join(sim.script)
        raise SimFailure(
            f"simulation seed {seed} failed: {exc!r}\n"
            f"replay with tests.rpc.simulation.replay({seed}, SCRIPT) where SCRIPT is:\n{script}"
        ) from exc
    return sim


def replay(seed: int, script: str, vats: int = 3) -> Simulation:
    """Re-run a printed script (the seed drives the same delivery interleaving)."""
    sim = Simulation(seed, vats)
    for line in script.splitlines():
        if line.strip():
            sim.step(line.strip())
    sim.drain()
    return sim


def is_settled(cap: Cap) -> bool:
    """Whether ``cap`` no longer depends on any unresolved promise."""
    while isinstance(cap, PromiseCap):
        if cap.resolved is None:
            return False
        cap = cap.resolved
    return True
