"""The C++ reference's guards against the "Tribble 4-way race" (Note [tribble] in vat.py)."""

from __future__ import annotations

from capnrpc_core.rpc.caps import ImportCap, PromiseCap
from capnrpc_core.rpc.messages import (
    Call,
    CapDescriptor,
    CapKind,
    Disembargo,
    DisembargoKind,
    MessageTarget,
    Payload,
    PromisedAnswer,
    Resolve,
    Return,
    ReturnKind,
)
from capnrpc_core.rpc.vat import Vat
from tests.rpc.harness import ECHO, IFACE, decode_all, frame, params


def exported_promise_resolved_to_import(vat: Vat) -> tuple[object, int, int]:
    """Alice exports a local promise to Bob, then resolves it to something Bob exported to her.

    Returns (connection, the promise's export id, the import id of Bob's object).
    """
    conn = vat.new_connection("alice->bob")
    promise = vat.new_promise()
    # Bob gives Alice an object (import 5), in a call to her bootstrap... here, by a Resolve-less
    # route: a Return to a bootstrap question Alice asked.
    boot = vat.bootstrap(conn)
    vat.receive_data(
        conn,
        frame(
            Return(
                0,
                ReturnKind.RESULTS,
                results=Payload(_cap_pointer(), (CapDescriptor(CapKind.SENDER_HOSTED, 5),)),
            )
        ),
    )
    # Alice sends Bob her promise (export 0), then resolves it to Bob's object.
    vat.call(boot, IFACE, ECHO, _with_cap(vat, promise))
    out = decode_all(vat.data_to_send(conn))
    call = next(m for m in out if isinstance(m, Call))
    (desc,) = call.params.cap_table
    assert desc.kind == CapKind.SENDER_PROMISE
    vat.resolve(promise, boot)
    (resolve,) = [m for m in decode_all(vat.data_to_send(conn)) if isinstance(m, Resolve)]
    assert resolve.cap == CapDescriptor(CapKind.RECEIVER_HOSTED, 5)
    return conn, desc.id, 5


def _cap_pointer() -> object:
    from capnrpc_core.wire.builder import MessageBuilder

    builder = MessageBuilder()
    builder.root().set_capability("placeholder")
    return builder.root().as_reader()


def _with_cap(vat: Vat, cap: object) -> object:
    return params(0, vat.add_ref(cap))  # type: ignore[arg-type]


def test_resolve_pins_the_export_to_the_raw_import() -> None:
    vat = Vat(name="alice")
    conn, export_id, import_id = exported_promise_resolved_to_import(vat)
    export = conn.exports.get(export_id)  # type: ignore[attr-defined]
    assert isinstance(export.cap, ImportCap) and export.cap.import_id == import_id
    # A Disembargo Bob sends to the old promise bounces off exactly that import.
    vat.receive_data(
        conn,  # type: ignore[arg-type]
        frame(Disembargo(MessageTarget(import_id=export_id), DisembargoKind.SENDER_LOOPBACK, 3)),
    )
    out = decode_all(vat.data_to_send(conn))  # type: ignore[arg-type]
    assert out == [
        Disembargo(MessageTarget(import_id=import_id), DisembargoKind.RECEIVER_LOOPBACK, 3)
    ]


def test_receiver_hosted_naming_a_reflection_is_wrapped_and_embargoes() -> None:
    vat = Vat(name="alice")
    conn, export_id, import_id = exported_promise_resolved_to_import(vat)
    # Alice asks Bob something and pipelines a call on the answer.
    boot = vat.bootstrap(conn)  # type: ignore[arg-type]
    (bootstrap,) = decode_all(vat.data_to_send(conn))  # type: ignore[arg-type]
    vat.receive_data(
        conn,  # type: ignore[arg-type]
        frame(
            Return(
                bootstrap.question_id,  # type: ignore[union-attr]
                ReturnKind.RESULTS,
                results=Payload(_cap_pointer(), (CapDescriptor(CapKind.SENDER_HOSTED, 5),)),
            )
        ),
    )
    asked = vat.call(boot, IFACE, ECHO, params())
    piped = vat.pipeline(asked, [0])
    early = vat.call(piped, IFACE, ECHO, params(1))
    sent = decode_all(vat.data_to_send(conn))  # type: ignore[arg-type]
    question = next(m for m in sent if isinstance(m, Call) and m.target.import_id is not None)
    # Bob answers with receiverHosted(export_id): Alice's export, which is really Bob's object.
    results = params(0, None)
    results.set_capability(0, "slot")
    vat.receive_data(
        conn,  # type: ignore[arg-type]
        frame(
            Return(
                question.question_id,
                ReturnKind.RESULTS,
                results=Payload(
                    results.as_reader(), (CapDescriptor(CapKind.RECEIVER_HOSTED, export_id),)
                ),
            )
        ),
    )
    got = asked.results.as_struct().get_capability(0)  # type: ignore[attr-defined]
    assert isinstance(got, PromiseCap) and got.reflector
    # The pipelined promise saw a call and resolves to a reflection: it must embargo, although
    # the reflection's calls go out over the same connection.
    out = decode_all(vat.data_to_send(conn))  # type: ignore[arg-type]
    embargo = [m for m in out if isinstance(m, Disembargo)]
    assert embargo and embargo[0].kind == DisembargoKind.SENDER_LOOPBACK
    assert embargo[0].target.promised_answer == PromisedAnswer(question.question_id, (0,))
    late = vat.call(piped, IFACE, ECHO, params(2))
    assert not [m for m in decode_all(vat.data_to_send(conn)) if isinstance(m, Call)]  # type: ignore[arg-type]
    vat.receive_data(
        conn,  # type: ignore[arg-type]
        frame(
            Disembargo(embargo[0].target, DisembargoKind.RECEIVER_LOOPBACK, embargo[0].embargo_id)
        ),
    )
    calls = [m for m in decode_all(vat.data_to_send(conn)) if isinstance(m, Call)]  # type: ignore[arg-type]
    assert [c.target for c in calls] == [MessageTarget(import_id=import_id)]
    del early, late
