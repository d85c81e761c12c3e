"""The model decoded from node messages matches pycapnp's view of the same nodes."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from capnrpc_core.schema import parse_file, schema_set_from_pycapnp
from capnrpc_core.schema.decode import decode_code_generator_request, decode_node_messages
from capnrpc_core.schema.errors import SchemaParseError
from capnrpc_core.schema.model import (
    STREAM_RESULT_ID,
    AnnotationNode,
    AnyKind,
    Brand,
    BrandScope,
    ConstNode,
    EnumNode,
    FileNode,
    InterfaceNode,
    Kind,
    Node,
    ParameterRef,
    SchemaSet,
    StructNode,
    Type,
    Value,
)
from capnrpc_core.wire.framing import decode_frame
from tests.schema.conftest import ALLTYPES, PYCAPNP_DIR, SCHEMAS, SITE_PACKAGES, pycapnp_load

FILES = [
    ALLTYPES,
    SCHEMAS / "features.capnp",
    PYCAPNP_DIR / "schema.capnp",
    PYCAPNP_DIR / "rpc.capnp",
    PYCAPNP_DIR / "rpc-twoparty.capnp",
    PYCAPNP_DIR / "persistent.capnp",
    PYCAPNP_DIR / "stream.capnp",
    PYCAPNP_DIR / "c++.capnp",
]

_KINDS = {k.name.lower().replace("_", ""): k for k in Kind}


def type_from_dict(d: dict[str, Any]) -> Type:
    """A pycapnp ``Type.to_dict()`` as a model Type."""
    ((name, body),) = d.items()
    kind = Kind.ANY_POINTER if name == "anyPointer" else _KINDS[name.lower()]
    if kind == Kind.LIST:
        return Type(kind, element=type_from_dict(body["elementType"]))
    if kind in (Kind.ENUM, Kind.STRUCT, Kind.INTERFACE):
        return Type(kind, type_id=body["typeId"], brand=brand_from_dict(body.get("brand", {})))
    if kind == Kind.ANY_POINTER:
        ((which, inner),) = body.items()
        if which == "unconstrained":
            ((any_kind, _),) = inner.items()
            names = {
                "anyKind": AnyKind.ANY,
                "struct": AnyKind.STRUCT,
                "list": AnyKind.LIST,
                "capability": AnyKind.CAPABILITY,
            }
            return Type(kind, any_kind=names[any_kind])
        if which == "parameter":
            return Type(
                kind, parameter=ParameterRef(inner["scopeId"], inner.get("parameterIndex", 0))
            )
        return Type(kind, parameter=ParameterRef(0, inner.get("parameterIndex", 0), implicit=True))
    return Type(kind)


def brand_from_dict(d: dict[str, Any]) -> Brand:
    scopes = []
    for sc in d.get("scopes", []):
        if "bind" in sc:
            bindings = tuple(type_from_dict(b["type"]) if "type" in b else None for b in sc["bind"])
            scopes.append(BrandScope(sc["scopeId"], bindings))
        else:
            scopes.append(BrandScope(sc["scopeId"], None))
    return Brand(tuple(scopes))


def same_scalar(ours: Value, theirs: dict[str, Any]) -> bool:
    ((_name, value),) = theirs.items()
    if ours.kind in (Kind.TEXT,):
        return (ours.pointer.as_text() if ours.pointer else "") == (value or "")
    if ours.kind == Kind.DATA:
        return (ours.pointer.as_data() if ours.pointer else b"") == (value or b"")
    if ours.kind.is_pointer or ours.kind == Kind.VOID:
        return True
    if ours.kind == Kind.ENUM:
        return ours.scalar == value
    if isinstance(value, float) and math.isnan(value):
        return isinstance(ours.scalar, float) and math.isnan(ours.scalar)
    return ours.scalar == value


def check_node(ours: Node, proto: Any) -> None:
    d = proto.to_dict()
    assert ours.id == d["id"]
    # The file part of a display name depends on how a parser first reached the file (as the
    # requested file or through an import path), so only the part after it must agree.
    theirs_short = d["displayName"][d["displayNamePrefixLength"] :]
    assert ours.short_name == theirs_short
    assert d["displayName"].endswith(ours.display_name) or ours.display_name.endswith(
        d["displayName"]
    )
    assert ours.scope_id == d["scopeId"]
    assert [(n.name, n.id) for n in ours.nested_nodes] == [
        (n["name"], n["id"]) for n in d.get("nestedNodes", [])
    ]
    assert ours.parameters == tuple(p["name"] for p in d.get("parameters", []))
    assert ours.is_generic == d["isGeneric"]
    assert [a.id for a in ours.annotations] == [a["id"] for a in d.get("annotations", [])]
    which = proto.which()
    if which == "file":
        assert isinstance(ours, FileNode)
    elif which == "struct":
        assert isinstance(ours, StructNode)
        st = d["struct"]
        assert ours.data_word_count == st["dataWordCount"]
        assert ours.pointer_count == st["pointerCount"]
        assert ours.is_group == st["isGroup"]
        assert ours.discriminant_count == st["discriminantCount"]
        assert ours.discriminant_offset == st["discriminantOffset"]
        assert len(ours.fields) == len(st.get("fields", []))
        for f, fd in zip(ours.fields, st.get("fields", []), strict=True):
            assert f.name == fd["name"]
            assert f.code_order == fd["codeOrder"]
            dv = fd["discriminantValue"]
            assert f.discriminant_value == (None if dv == 0xFFFF else dv)
            assert f.ordinal == fd["ordinal"].get("explicit")
            if "slot" in fd:
                slot = fd["slot"]
                assert f.slot is not None and f.group_id is None
                assert f.slot.offset == slot["offset"]
                assert f.slot.type == type_from_dict(slot["type"])
                assert f.slot.had_explicit_default == slot["hadExplicitDefault"]
                assert same_scalar(f.slot.default, slot["defaultValue"]), f.name
            else:
                assert f.slot is None and f.group_id == fd["group"]["typeId"]
    elif which == "enum":
        assert isinstance(ours, EnumNode)
        assert [(e.name, e.code_order) for e in ours.enumerants] == [
            (e["name"], e["codeOrder"]) for e in d["enum"]["enumerants"]
        ]
    elif which == "interface":
        assert isinstance(ours, InterfaceNode)
        methods = d["interface"].get("methods", [])
        assert [
            (m.name, m.ordinal, m.code_order, m.param_struct_id, m.result_struct_id)
            for m in ours.methods
        ] == [
            (m["name"], i, m["codeOrder"], m["paramStructType"], m["resultStructType"])
            for i, m in enumerate(methods)
        ]
        for m, md in zip(ours.methods, methods, strict=True):
            assert m.param_brand == brand_from_dict(md.get("paramBrand", {}))
            assert m.result_brand == brand_from_dict(md.get("resultBrand", {}))
            assert m.implicit_parameters == tuple(
                p["name"] for p in md.get("implicitParameters", [])
            )
        assert [(s.id, s.brand) for s in ours.superclasses] == [
            (s["id"], brand_from_dict(s.get("brand", {})))
            for s in d["interface"].get("superclasses", [])
        ]
    elif which == "const":
        assert isinstance(ours, ConstNode)
        assert ours.type == type_from_dict(d["const"]["type"])
        assert same_scalar(ours.value, d["const"]["value"])
    else:
        assert isinstance(ours, AnnotationNode)
        assert ours.type == type_from_dict(d["annotation"]["type"])
        targets = {
            k[len("targets") :].lower()
            for k, v in d["annotation"].items()
            if k.startswith("targets") and v
        }
        assert ours.targets == targets


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).name)
def test_parse_file_matches_pycapnp(path: Path) -> None:
    ours = parse_file(path)
    theirs = pycapnp_load(path)
    (requested,) = ours.requested_files
    assert requested.id == theirs.schema.node.id
    loader = theirs._parser  # pycapnp's parser knows every node it loaded for this file
    checked = 0
    for node_id, node in ours.items():
        module = loader.modules_by_id.get(node_id)
        if module is None:
            continue
        check_node(
            node, module.schema.node if hasattr(module, "schema") else module._nodeProto.node
        )
        checked += 1
    assert checked >= 1
    # Everything a struct, interface or const of the file refers to is in the set.
    for node in ours.values():
        for ref in _references(node):
            assert ref in ours, f"{node.display_name} refers to missing node {ref:#x}"


def _references(node: Node) -> list[int]:
    refs: list[int] = []

    def type_refs(t: Type) -> None:
        if t.kind == Kind.LIST and t.element is not None:
            type_refs(t.element)
        elif t.kind in (Kind.STRUCT, Kind.ENUM, Kind.INTERFACE):
            refs.append(t.type_id)

    if isinstance(node, StructNode):
        for f in node.fields:
            if f.group_id is not None:
                refs.append(f.group_id)
            elif f.slot is not None:
                type_refs(f.slot.type)
    elif isinstance(node, InterfaceNode):
        for m in node.methods:
            refs += [m.param_struct_id, m.result_struct_id]
        refs += [s.id for s in node.superclasses]
    elif isinstance(node, ConstNode):
        type_refs(node.type)
    return refs


def test_every_node_matches_pycapnp_proto() -> None:
    """Each node message decodes to what pycapnp reads from the same bytes (all nodes)."""
    from capnrpc_core.schema._pycapnp_nodes import collect_nodes

    schema_capnp = pycapnp_load(PYCAPNP_DIR / "schema.capnp")
    for path in FILES:
        nodes = collect_nodes(pycapnp_load(path).schema)
        ours = decode_node_messages(decode_frame(b) for b in nodes.values())
        assert set(ours) == set(nodes)
        for node_id, data in nodes.items():
            with schema_capnp.Node.from_bytes(data) as proto:
                check_node(ours[node_id], proto)


def test_in_process_and_child_process_agree() -> None:
    path = SCHEMAS / "features.capnp"
    child = parse_file(path)
    here = schema_set_from_pycapnp(pycapnp_load(path))
    assert set(child) == set(here)
    for node_id in child:
        assert child[node_id].display_name == here[node_id].display_name


@pytest.mark.skipif(shutil.which("capnp") is None, reason="needs the capnp tool")
def test_code_generator_request_matches_parse() -> None:
    path = SCHEMAS / "features.capnp"
    out = subprocess.run(
        ["capnp", "compile", "-o-", f"-I{SITE_PACKAGES}", f"--src-prefix={SCHEMAS}", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    cgr = decode_code_generator_request(decode_frame(out))
    parsed = parse_file(path)
    (requested,) = cgr.requested_files
    assert requested.id == parsed.requested_files[0].id
    assert requested.filename == "features.capnp"
    assert {name for _id, name in requested.imports} >= {"alltypes.capnp", "/capnp/stream.capnp"}
    for node_id, node in parsed.items():
        if node_id not in cgr:
            continue
        other = cgr[node_id]
        assert type(other) is type(node)
        assert other.display_name == node.display_name
        if isinstance(node, StructNode):
            assert isinstance(other, StructNode)
            assert [
                (f.name, f.slot and f.slot.offset, f.slot and f.slot.type) for f in node.fields
            ] == [(f.name, f.slot and f.slot.offset, f.slot and f.slot.type) for f in other.fields]
    assert all(isinstance(cgr[i], Node) for i in cgr)


def test_features_model(features: SchemaSet) -> None:
    derived = features.find("features.capnp:Derived")
    assert isinstance(derived, InterfaceNode)
    push, get = derived.methods
    assert push.is_streaming and push.result_struct_id == STREAM_RESULT_ID
    assert not get.is_streaming and get.implicit_parameters == ("U",)
    base = features.find("features.capnp:Base")
    assert [s.id for s in derived.superclasses] == [base.id]
    assert [m.name for _i, m in features.all_methods(derived.id)] == ["push", "get", "ping"]
    box = features.find("features.capnp:Box")
    assert isinstance(box, StructNode) and box.is_generic and box.parameters == ("T",)
    value_type = box.field("value").slot.type  # type: ignore[union-attr]
    assert value_type.kind == Kind.ANY_POINTER and value_type.parameter == ParameterRef(box.id, 0)
    uses = features.find("features.capnp:UsesGenerics")
    assert isinstance(uses, StructNode)
    text_box = uses.field("textBox").slot.type  # type: ignore[union-attr]
    assert text_box.brand.binding(box.id, 0) == Type(Kind.TEXT)
    outer = features.find("features.capnp:Outer")
    (note,) = outer.annotations
    assert features[note.id].short_name == "note"
    assert note.value.pointer is not None and note.value.pointer.as_text() == "outer"
    mode = features.find("features.capnp:Outer.Middle")
    assert isinstance(mode, StructNode)
    assert mode.field("mode").slot.default.scalar == 1  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def features() -> SchemaSet:
    return parse_file(SCHEMAS / "features.capnp")


@pytest.mark.parametrize(
    ("source", "line", "needle"),
    [
        ("@0xd5e4a0c3b2f19a72;\nstruct Foo {\n  a @0 :UInt32;\n  b @1 :Nope;\n}\n", 4, "Nope"),
        ("@0xd5e4a0c3b2f19a74;\nstruct Foo { a @0 :UInt32\n", 3, "Parse error"),
        ('@0xd5e4a0c3b2f19a73;\nusing import "missing.capnp".X;\n', 2, "missing.capnp"),
    ],
)
def test_parse_errors_name_file_and_line(
    tmp_path: Path, source: str, line: int | None, needle: str
) -> None:
    path = tmp_path / "broken.capnp"
    path.write_text(source)
    with pytest.raises(SchemaParseError) as info:
        parse_file(path)
    err = info.value
    assert needle in str(err)
    assert "broken.capnp" in str(err)
    assert err.filename == str(path.resolve())
    assert err.line == line
    assert str(err).startswith(f"{path.resolve()}:{line}: error: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        parse_file(tmp_path / "nope.capnp")


def test_node_messages_rebuild_the_module_without_pycapnp(tmp_path: Path) -> None:
    """What a generated module does: embed node messages, rebuild types in a fresh process."""
    import sys

    parsed = parse_file(SCHEMAS / "features.capnp")
    assert set(parsed.node_messages) == set(parsed)
    frames = list(parsed.node_messages.values())
    file_id = parsed.requested_files[0].id
    script = tmp_path / "generated.py"
    script.write_text(
        "import sys\n"
        "sys.modules['capnp'] = None  # pycapnp must not be needed\n"
        "from capnrpc_core.schema import load_node_messages\n"
        f"m = load_node_messages({frames!r}, {file_id})\n"
        "msg = m.Outer.new_message(return_=5, middle={'deep': {'x': 2}})\n"
        "print(m.Outer.from_bytes(msg.to_bytes()).to_dict(), list(m.listConst))\n"
    )
    root = Path(__file__).resolve().parent.parent.parent
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root)},
    ).stdout
    assert out.strip() == (
        "{'middle': {'deep': {'x': 2}, 'mode': 'off'}, 'color': 'blue', 'return': 5, "
        "'which': 0, 'schema': False} [1, 2, 3]"
    )


@pytest.mark.skipif(shutil.which("capnp") is None, reason="needs the capnp tool")
def test_code_generator_request_node_messages(tmp_path: Path) -> None:
    out = subprocess.run(
        ["capnp", "compile", "-o-", f"-I{SITE_PACKAGES}", str(ALLTYPES)],
        capture_output=True,
        check=True,
    ).stdout
    cgr = decode_code_generator_request(decode_frame(out))
    again = decode_node_messages(decode_frame(m) for m in cgr.node_messages.values())
    assert set(again) == set(cgr)
    for node_id, node in cgr.items():
        assert again[node_id].display_name == node.display_name
        if isinstance(node, StructNode):
            other = again[node_id]
            assert isinstance(other, StructNode)
            assert [f.name for f in other.fields] == [f.name for f in node.fields]
            for a, b in zip(node.fields, other.fields, strict=True):
                if a.slot is not None and a.slot.default.pointer is not None:
                    assert b.slot is not None and b.slot.default.pointer is not None
                    assert (
                        a.slot.default.pointer.total_size_words()
                        == b.slot.default.pointer.total_size_words()
                    )


def test_importing_the_schema_layer_keeps_the_core_free_of_io_modules() -> None:
    import sys

    code = (
        "import sys\n"
        "before = set(sys.modules)  # the interpreter itself may have loaded some (time)\n"
        "import capnrpc_core, capnrpc_core.schema\n"
        "bad = {'socket','asyncio','trio','threading','time','random','selectors','subprocess'}\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in bad))\n"
    )
    root = Path(__file__).resolve().parent.parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout
    assert out.strip() == "[]"
