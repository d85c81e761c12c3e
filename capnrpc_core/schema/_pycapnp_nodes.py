"""Collect schema node messages from pycapnp's parser (runs in a child process).

pycapnp 2.2.4 declares ``SchemaParser.parseDiskFile`` without C++ exception translation, so a
schema with an error (a typo, a failed import) aborts the whole interpreter instead of raising.
:mod:`capnrpc_core.schema.loader` therefore runs this file as a script in a child process and
reads the node messages it writes; a parse error then costs a child, whose stderr carries the
compiler's message. The walk is also usable in-process on an already loaded pycapnp module.

Output format (stdout): ``b"CRPCNODE"``, the file id (u64), the node count (u32), then each
node's standard framed message preceded by its length (u32). All little-endian.

This file must not import capnrpc_core: it runs with nothing but pycapnp.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import Any

MAGIC = b"CRPCNODE"
MAX_BRANDINGS = 16


def _element_schemas(schema: Any) -> list[Any]:
    # A list schema yields its innermost element's schema, if that has one.
    out: list[Any] = []
    while type(schema).__name__ == "_ListSchema":
        try:
            schema = schema.elementType
        except Exception:  # a primitive element type has no schema
            return out
    out.append(schema)
    return out


def _proto_of(schema: Any) -> Any:
    return schema.get_proto() if hasattr(schema, "get_proto") else schema.node


def collect_nodes(file_schema: Any) -> dict[int, bytes]:
    """Framed node messages for a parsed file and everything it refers to, by node id."""
    out: dict[int, bytes] = {}
    seen_structs: dict[int, list[Any]] = {}
    queue: list[Any] = [file_schema]
    while queue:
        schema = queue.pop()
        node = schema.node
        node_id = node.id
        kind = node.which()
        if kind == "struct":
            # Each distinct branding is walked once: its fields resolve generic parameters.
            brandings = seen_structs.setdefault(node_id, [])
            struct_schema = schema if hasattr(schema, "fields_list") else schema.as_struct()
            # The cap stops generics that instantiate themselves with ever longer arguments.
            if len(brandings) >= MAX_BRANDINGS or any(struct_schema == b for b in brandings):
                continue
            brandings.append(struct_schema)
        elif node_id in out:
            continue
        if node_id not in out:
            out[node_id] = node.as_builder().to_bytes()
        if hasattr(schema, "get_nested"):
            for nested in node.nestedNodes:
                try:
                    queue.append(schema.get_nested(nested.name))
                except Exception:
                    continue
        if kind == "struct":
            for f in struct_schema.fields_list:
                proto = f.proto
                if proto.which() == "slot":
                    t = proto.slot.type.which()
                    if t not in ("struct", "enum", "interface", "list"):
                        continue
                try:
                    queue.extend(_element_schemas(f.schema))
                except Exception:
                    continue
        elif kind == "interface":
            iface = schema if hasattr(schema, "methods") else schema.as_interface()
            for method in iface.methods.values():
                queue.append(method.param_type)
                queue.append(method.result_type)
            queue.extend(iface.superclasses)
        elif kind == "const":
            try:
                value = schema.as_const_value()
            except Exception:
                continue
            value_schema = getattr(value, "schema", None)
            if value_schema is not None:
                queue.extend(_element_schemas(value_schema))
    return out


def main(argv: list[str]) -> int:
    """Parse ``argv[0]`` with import path ``argv[1:]`` and write its nodes to stdout."""
    import capnp

    path, imports = argv[0], [p for p in argv[1:] if os.path.isdir(p)]
    parser = capnp.SchemaParser()
    file_schema = parser._parse_disk_file(os.path.basename(path), path, imports)
    nodes = collect_nodes(file_schema)
    out = sys.stdout.buffer
    out.write(MAGIC + struct.pack("<QI", file_schema.node.id, len(nodes)))
    for data in nodes.values():
        out.write(struct.pack("<I", len(data)))
        out.write(data)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
