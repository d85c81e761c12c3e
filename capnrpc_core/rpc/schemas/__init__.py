"""The RPC protocol's own schemas as generated modules (``capnrpc compile``; do not edit them).

- :mod:`.rpc_capnp` -- ``capnp/rpc.capnp``, the protocol's messages;
- :mod:`.rpc_twoparty_capnp` -- ``capnp/rpc-twoparty.capnp``, the two-party vat network;
- :mod:`.stream_capnp` -- ``capnp/stream.capnp``, ``StreamResult`` of streaming methods.

They are compiled from the copies pycapnp ships, which are those of the C++ reference it wraps
(1.x). ``tests/schema/test_compile.py`` checks that compiling those copies again gives these
files byte for byte; to regenerate them after a pycapnp upgrade::

    SCHEMAS=$(python -c 'import capnp, os; print(os.path.dirname(capnp.__file__))')
    for name in rpc rpc-twoparty stream; do
        python -m capnrpc_core compile "$SCHEMAS/$name.capnp" -o capnrpc_core/rpc/schemas
    done

The protocol core itself reads and writes messages with its own codec
(:mod:`capnrpc_core.rpc.codec`); these modules are the typed, schema-driven view of the same
messages, for tools, tests and applications.
"""
