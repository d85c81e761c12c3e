"""Oracle tests: our readers and builders against pycapnp (the C++ implementation).

Field offsets come from pycapnp's compiled schema nodes for tests/schemas/alltypes.capnp, so
the untyped readers and builders are driven exactly as the schema layer will drive them.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

import capnp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capnrpc_core.wire.builder import MessageBuilder, PointerBuilder, StructBuilder
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import ListReader, MessageReader, StructReader

E = ElementSize
SITE = os.path.dirname(os.path.dirname(capnp.__file__))
SCHEMA = capnp.load(
    str(Path(__file__).resolve().parent.parent / "schemas" / "alltypes.capnp"), imports=[SITE]
)
COLORS = ["red", "green", "blue", "ultraViolet"]
NO_DISCRIMINANT = 0xFFFF

I8, I16, I32, I64 = (struct.Struct(f) for f in ("<b", "<h", "<i", "<q"))
U8, U16, U32, U64 = (struct.Struct(f) for f in ("<B", "<H", "<I", "<Q"))
F32, F64 = struct.Struct("<f"), struct.Struct("<d")
INTS = {
    "int8": I8,
    "int16": I16,
    "int32": I32,
    "int64": I64,
    "uint8": U8,
    "uint16": U16,
    "uint32": U32,
    "uint64": U64,
    "enum": U16,
}
FLOATS = {"float32": (U32, F32), "float64": (U64, F64)}
ELEMENT = {
    "void": E.VOID,
    "bool": E.BIT,
    "int8": E.BYTE,
    "uint8": E.BYTE,
    "int16": E.TWO_BYTES,
    "uint16": E.TWO_BYTES,
    "enum": E.TWO_BYTES,
    "int32": E.FOUR_BYTES,
    "uint32": E.FOUR_BYTES,
    "float32": E.FOUR_BYTES,
    "int64": E.EIGHT_BYTES,
    "uint64": E.EIGHT_BYTES,
    "float64": E.EIGHT_BYTES,
    "text": E.POINTER,
    "data": E.POINTER,
    "list": E.POINTER,
    "anyPointer": E.POINTER,
    "struct": E.INLINE_COMPOSITE,
}


class Layout:
    """A struct's layout from pycapnp's schema node: sizes, slots, groups, union tag."""

    def __init__(self, schema: Any) -> None:
        node = schema.node
        self.data_words: int = node.struct.dataWordCount
        self.pointer_count: int = node.struct.pointerCount
        self.discriminant_byte: int = node.struct.discriminantOffset * 2
        self.has_union: bool = node.struct.discriminantCount > 0
        self.slots: dict[str, tuple[Any, int]] = {}
        self.groups: dict[str, tuple[Layout, int]] = {}
        for f in node.struct.fields:
            if f.which() == "slot":
                self.slots[f.name] = (f.slot, f.discriminantValue)
            else:
                self.groups[f.name] = (Layout(schema.fields[f.name].schema), f.discriminantValue)


LAYOUTS = {
    SCHEMA.AllTypes.schema.node.id: Layout(SCHEMA.AllTypes.schema),
    SCHEMA.Inner.schema.node.id: Layout(SCHEMA.Inner.schema),
    SCHEMA.Defaults.schema.node.id: Layout(SCHEMA.Defaults.schema),
}
ALL = LAYOUTS[SCHEMA.AllTypes.schema.node.id]
INNER = LAYOUTS[SCHEMA.Inner.schema.node.id]
DEFAULTS = LAYOUTS[SCHEMA.Defaults.schema.node.id]


# -- reading with our reader -----------------------------------------------------------------------


def scalar_default(slot: Any) -> Any:
    w = slot.type.which()
    value = getattr(slot.defaultValue, w)
    if w in FLOATS:
        ifmt, ffmt = FLOATS[w]
        return ifmt.unpack(ffmt.pack(value))[0]
    return value


POINTER_TYPES = {"text", "data", "struct", "list", "anyPointer", "interface"}


def read_struct(sr: StructReader, layout: Layout) -> dict[str, Any]:
    """Our reading of a struct, in the shape of pycapnp's ``to_dict()``.

    Like ``to_dict()``, null pointer fields outside unions are left out, only the active union
    member is present, and scalars are XORed with their defaults.
    """
    disc = sr.get_int(U16, layout.discriminant_byte) if layout.has_union else None
    out: dict[str, Any] = {}
    for name, (slot, dv) in layout.slots.items():
        if dv == NO_DISCRIMINANT:
            if slot.type.which() in POINTER_TYPES and sr.is_null(slot.offset):
                continue
        elif dv != disc:
            continue
        out[name] = read_slot(sr, slot)
    for name, (sub, dv) in layout.groups.items():
        if dv in (NO_DISCRIMINANT, disc):
            out[name] = read_struct(sr, sub)
    return out


def read_slot(sr: StructReader, slot: Any) -> Any:
    t = slot.type
    w = t.which()
    off = slot.offset
    if w == "void":
        return None
    if w == "bool":
        return sr.get_bool(off, scalar_default(slot))
    if w in INTS:
        fmt = INTS[w]
        return sr.get_int(fmt, off * fmt.size, scalar_default(slot))
    if w in FLOATS:
        ifmt, ffmt = FLOATS[w]
        return sr.get_float(ifmt, ffmt, off * ffmt.size, scalar_default(slot))
    if w == "text":
        return sr.get_text(off, slot.defaultValue.text)
    if w == "data":
        return sr.get_data(off, slot.defaultValue.data)
    if w == "struct":
        return read_struct(sr.get_struct(off), LAYOUTS[t.struct.typeId])
    if w == "list":
        et = t.list.elementType
        return read_list(sr.get_list(off, ELEMENT[et.which()]), et)
    assert w == "anyPointer"
    return ("any", sr.get_pointer(off).kind())


def read_list(lr: ListReader, et: Any) -> list[Any]:
    w = et.which()
    n = len(lr)
    if w == "void":
        return [None] * n
    if w == "bool":
        return [lr.get_bool(i) for i in range(n)]
    if w in INTS:
        return [lr.get_int(INTS[w], i) for i in range(n)]
    if w in FLOATS:
        return [lr.get_float(*FLOATS[w], i) for i in range(n)]
    if w == "text":
        return [lr.get_text(i) for i in range(n)]
    if w == "data":
        return [lr.get_data(i) for i in range(n)]
    if w == "struct":
        return [read_struct(lr.get_struct(i), LAYOUTS[et.struct.typeId]) for i in range(n)]
    assert w == "list"
    inner = et.list.elementType
    return [read_list(lr.get_list(i, ELEMENT[inner.which()]), inner) for i in range(n)]


# -- building with our builder ---------------------------------------------------------------------


def write_struct(sb: StructBuilder, layout: Layout, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in layout.slots:
            slot, dv = layout.slots[name]
            if dv != NO_DISCRIMINANT:
                sb.set_int(U16, layout.discriminant_byte, dv)
            write_slot(sb, slot, value)
        else:
            sub, dv = layout.groups[name]
            if dv != NO_DISCRIMINANT:
                sb.set_int(U16, layout.discriminant_byte, dv)
            write_struct(sb, sub, value)


def write_slot(sb: StructBuilder, slot: Any, value: Any) -> None:
    t = slot.type
    w = t.which()
    off = slot.offset
    if w == "void":
        return
    if w == "bool":
        sb.set_bool(off, value, scalar_default(slot))
    elif w in INTS:
        sb.set_int(INTS[w], off * INTS[w].size, value, scalar_default(slot))
    elif w in FLOATS:
        ifmt, ffmt = FLOATS[w]
        sb.set_float(ifmt, ffmt, off * ffmt.size, value, scalar_default(slot))
    elif w == "text":
        sb.set_text(off, value)
    elif w == "data":
        sb.set_data(off, value)
    elif w == "struct":
        lay = LAYOUTS[t.struct.typeId]
        write_struct(sb.init_struct(off, lay.data_words, lay.pointer_count), lay, value)
    else:
        assert w == "list"
        write_list(sb.get_pointer(off), t.list.elementType, value)


def write_list(pb: PointerBuilder, et: Any, values: list[Any]) -> None:
    w = et.which()
    n = len(values)
    if w == "struct":
        lay = LAYOUTS[et.struct.typeId]
        structs = pb.init_struct_list(n, lay.data_words, lay.pointer_count)
        for i, v in enumerate(values):
            write_struct(structs.get_struct(i), lay, v)
        return
    lb = pb.init_list(ELEMENT[w], n)
    for i, v in enumerate(values):
        if w == "bool":
            lb.set_bool(i, v)
        elif w in INTS:
            lb.set_int(INTS[w], i, v)
        elif w in FLOATS:
            lb.set_float(*FLOATS[w], i, v)
        elif w == "text":
            lb.set_text(i, v)
        elif w == "data":
            lb.set_data(i, v)
        elif w == "list":
            write_list(lb.get_pointer(i), et.list.elementType, v)


def build_ours(values: dict[str, Any], **kw: Any) -> MessageBuilder:
    b = MessageBuilder(**kw)
    write_struct(b.init_root(ALL.data_words, ALL.pointer_count), ALL, values)
    return b


# -- pycapnp side --------------------------------------------------------------------------------


def to_pycapnp(value: Any, t: Any) -> Any:
    """Model value -> what pycapnp accepts (enum names instead of numbers)."""
    w = t.which()
    if w == "enum":
        return COLORS[value]
    if w == "list":
        return [to_pycapnp(v, t.list.elementType) for v in value]
    if w == "struct":
        return struct_to_pycapnp(value, LAYOUTS[t.struct.typeId])
    return value


def struct_to_pycapnp(values: dict[str, Any], layout: Layout) -> dict[str, Any]:
    out = {}
    for name, v in values.items():
        if name in layout.slots:
            out[name] = to_pycapnp(v, layout.slots[name][0].type)
        else:
            out[name] = struct_to_pycapnp(v, layout.groups[name][0])
    return out


def set_pycapnp(builder: Any, values: dict[str, Any], layout: Layout) -> None:
    for name, v in values.items():
        if name in layout.groups:
            sub, dv = layout.groups[name]
            group = getattr(builder, name) if dv == NO_DISCRIMINANT else builder.init(name)
            set_pycapnp(group, v, sub)
            continue
        slot = layout.slots[name][0]
        if slot.type.which() == "struct":
            set_pycapnp(builder.init(name), v, LAYOUTS[slot.type.struct.typeId])
        else:
            setattr(builder, name, to_pycapnp(v, slot.type))


def build_pycapnp(values: dict[str, Any], **kw: Any) -> Any:
    msg = SCHEMA.AllTypes.new_message(**kw)
    set_pycapnp(msg, values, ALL)
    return msg


def from_pycapnp(d: dict[str, Any], layout: Layout) -> dict[str, Any]:
    """pycapnp's to_dict() -> our model (enum numbers; AnyPointer fields dropped)."""
    out: dict[str, Any] = {}
    for name, v in d.items():
        if name in layout.groups:
            out[name] = from_pycapnp(v, layout.groups[name][0])
            continue
        t = layout.slots[name][0].type
        if t.which() != "anyPointer":
            out[name] = canon(v, t)
    return out


def canon(v: Any, t: Any) -> Any:
    w = t.which()
    if w == "enum":
        return COLORS.index(str(v))
    if w == "struct":
        return from_pycapnp(v, LAYOUTS[t.struct.typeId])
    if w == "list":
        return [canon(x, t.list.elementType) for x in v]
    return v


def ours_as_model(reader: MessageReader) -> dict[str, Any]:
    got = read_struct(reader.get_root_struct(), ALL)
    got.pop("anyField", None)
    return got


def pycapnp_as_model(segments: list[bytes]) -> dict[str, Any]:
    return from_pycapnp(SCHEMA.AllTypes.from_segments(segments).to_dict(), ALL)


# -- value strategies ----------------------------------------------------------------------------


def ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
    if signed:
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20
)
DATA = st.binary(max_size=20)
F32S = st.floats(width=32, allow_nan=False)
F64S = st.floats(allow_nan=False)
COLOR = st.integers(0, 3)
INNER_VALUES = st.fixed_dictionaries(
    {}, optional={"num": ints(32, False), "name": TEXT, "color": COLOR}
)

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "voidField": st.none(),
    "boolField": st.booleans(),
    "int8Field": ints(8, True),
    "int16Field": ints(16, True),
    "int32Field": ints(32, True),
    "int64Field": ints(64, True),
    "uint8Field": ints(8, False),
    "uint16Field": ints(16, False),
    "uint32Field": ints(32, False),
    "uint64Field": ints(64, False),
    "float32Field": F32S,
    "float64Field": F64S,
    "textField": TEXT,
    "dataField": DATA,
    "structField": INNER_VALUES,
    "enumField": COLOR,
    "voidList": st.lists(st.none(), max_size=5),
    "boolList": st.lists(st.booleans(), max_size=70),
    "int8List": st.lists(ints(8, True), max_size=5),
    "int16List": st.lists(ints(16, True), max_size=5),
    "int32List": st.lists(ints(32, True), max_size=5),
    "int64List": st.lists(ints(64, True), max_size=5),
    "uint8List": st.lists(ints(8, False), max_size=5),
    "uint16List": st.lists(ints(16, False), max_size=5),
    "uint32List": st.lists(ints(32, False), max_size=5),
    "uint64List": st.lists(ints(64, False), max_size=5),
    "float32List": st.lists(F32S, max_size=5),
    "float64List": st.lists(F64S, max_size=5),
    "textList": st.lists(TEXT, max_size=5),
    "dataList": st.lists(DATA, max_size=5),
    "structList": st.lists(INNER_VALUES, max_size=5),
    "enumList": st.lists(COLOR, max_size=5),
    "nestedList": st.lists(st.lists(ints(32, True), max_size=3), max_size=3),
    "nestedStructList": st.lists(st.lists(INNER_VALUES, max_size=3), max_size=3),
    "group1": st.fixed_dictionaries(
        {},
        optional={
            "a": ints(16, True),
            "b": TEXT,
            "inner": st.fixed_dictionaries({}, optional={"c": st.booleans(), "d": F64S}),
        },
    ),
}
UNION = st.one_of(
    st.just({}),
    st.just({"unsetU": None}),
    st.builds(lambda v: {"intU": v}, ints(32, True)),
    st.builds(lambda v: {"textU": v}, TEXT),
    st.builds(lambda v: {"structU": v}, INNER_VALUES),
)
NAMED: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.builds(lambda v: {"named": {"first": v}}, ints(64, False)),
    st.builds(lambda v: {"named": {"second": v}}, st.lists(TEXT, max_size=5)),
    st.builds(lambda x, y: {"named": {"third": {"x": x, "y": y}}}, ints(8, True), ints(8, True)),
)
MODELS = st.builds(
    lambda base, union, named: {**base, **union, **named},
    st.fixed_dictionaries({}, optional=FIELDS),
    UNION,
    NAMED,
)

ORACLE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_contains(got: dict[str, Any], model: dict[str, Any]) -> None:
    for key, value in model.items():
        if isinstance(value, dict):
            assert_contains(got[key], value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            assert len(got[key]) == len(value)
            for g, v in zip(got[key], value, strict=True):
                assert_contains(g, v)
        elif isinstance(value, list) and value and isinstance(value[0], list):
            assert len(got[key]) == len(value)
            for g, v in zip(got[key], value, strict=True):
                if v and isinstance(v[0], dict):
                    for gg, vv in zip(g, v, strict=True):
                        assert_contains(gg, vv)
                else:
                    assert g == v
        else:
            assert got[key] == value, key


# -- the oracle tests ------------------------------------------------------------------------------


@ORACLE
@given(MODELS)
def test_we_read_what_pycapnp_builds(model: dict[str, Any]) -> None:
    segments = build_pycapnp(model).to_segments()
    got = ours_as_model(MessageReader(segments))
    assert_contains(got, model)
    assert got == pycapnp_as_model(segments)


@ORACLE
@given(MODELS)
def test_pycapnp_reads_what_we_build(model: dict[str, Any]) -> None:
    segments = build_ours(model).segments()
    expected = pycapnp_as_model(segments)
    assert_contains(expected, model)
    assert ours_as_model(MessageReader(segments)) == expected


@ORACLE
@given(MODELS)
def test_same_bytes_as_pycapnp(model: dict[str, Any]) -> None:
    assert build_ours(model).segments() == build_pycapnp(model).to_segments()


@settings(max_examples=25, deadline=None)
@given(MODELS)
def test_multi_segment_messages_both_ways(model: dict[str, Any]) -> None:
    theirs = build_pycapnp(
        model, num_first_segment_words=4, allocate_seg_callable=lambda n: bytearray(n * 8)
    ).to_segments()
    ours = build_ours(model, first_segment_words=4, max_segment_words=8).segments()
    expected = pycapnp_as_model(build_pycapnp(model).to_segments())
    assert ours_as_model(MessageReader(theirs)) == expected
    assert pycapnp_as_model(ours) == expected


@settings(max_examples=25, deadline=None)
@given(MODELS, st.booleans())
def test_deep_copy_matches_pycapnp_copy(model: dict[str, Any], multi: bool) -> None:
    kw: dict[str, Any] = {}
    if multi:
        kw = {"num_first_segment_words": 4, "allocate_seg_callable": lambda n: bytearray(n * 8)}
    original = build_pycapnp(model, **kw)
    ours = MessageBuilder()
    ours.set_root(MessageReader(original.to_segments()).get_root_struct())
    assert ours.segments() == original.copy().to_segments()


@settings(max_examples=25, deadline=None)
@given(MODELS)
def test_total_size_matches_pycapnp(model: dict[str, Any]) -> None:
    msg = build_pycapnp(model)
    reader = MessageReader(msg.to_segments())
    assert reader.get_root_struct().total_size_words() == msg.total_size.word_count


def test_full_message_same_bytes() -> None:
    model: dict[str, Any] = {
        "boolField": True,
        "int64Field": -5,
        "textField": "first",
        "dataField": b"",
        "structField": {"num": 3, "name": "n", "color": 2},
        "voidList": [None] * 3,
        "boolList": [True, False, True],
        "float64List": [math.inf, -0.0],
        "structList": [{"num": 1}, {"name": "x"}, {}],
        "textList": ["", "a"],
        "nestedStructList": [[{"num": 1}], []],
        "group1": {"b": "g", "inner": {"d": 1.5}},
        "structU": {"color": 3},
        "named": {"third": {"x": -1, "y": 1}},
    }
    pyc = build_pycapnp(model)
    pyc.textField = "overwritten, so the first is zeroed"
    ours = build_ours(model)
    ours.root().get_struct().set_text(ALL.slots["textField"][0].offset, pyc.textField)
    assert ours.segments() == pyc.to_segments()
    assert_contains(pycapnp_as_model(ours.segments()), {**model, "textField": pyc.textField})


def test_defaults_are_xored() -> None:
    empty = SCHEMA.Defaults.new_message()
    got = read_struct(MessageReader(empty.to_segments()).get_root_struct(), DEFAULTS)
    assert got["boolField"] is True
    assert got["int8Field"] == -123
    assert got["uint64Field"] == 12345678901234567890
    assert got["float32Field"] == 1234.5
    assert got["float64Field"] == -123e45
    assert math.isnan(got["nanField"])
    assert got["infField"] == -math.inf
    empty_root = MessageReader(empty.to_segments()).get_root_struct()
    assert read_slot(empty_root, DEFAULTS.slots["textField"][0]) == "foo"
    assert read_slot(empty_root, DEFAULTS.slots["dataField"][0]) == b"bar"
    assert got["enumField"] == 3
    # Written with the defaults XORed in, pycapnp reads the values back.
    b = MessageBuilder()
    root = b.init_root(DEFAULTS.data_words, DEFAULTS.pointer_count)
    values: dict[str, Any] = {
        "boolField": False,
        "int16Field": 7,
        "uint32Field": 1,
        "float64Field": 2.0,
        "float32Field": 1234.5,
        "infField": 3.0,
        "enumField": 0,
    }
    for name, value in values.items():
        slot = DEFAULTS.slots[name][0]
        w = slot.type.which()
        if w == "bool":
            root.set_bool(slot.offset, value, scalar_default(slot))
        elif w in INTS:
            root.set_int(INTS[w], slot.offset * INTS[w].size, value, scalar_default(slot))
        else:
            ifmt, ffmt = FLOATS[w]
            root.set_float(ifmt, ffmt, slot.offset * ffmt.size, value, scalar_default(slot))
    theirs = SCHEMA.Defaults.from_segments(b.segments())
    assert theirs.boolField is False
    assert theirs.int16Field == 7
    assert theirs.uint32Field == 1
    assert theirs.float64Field == 2.0
    assert theirs.float32Field == 1234.5
    assert theirs.infField == 3.0
    assert theirs.enumField == "red"
    assert theirs.int8Field == -123  # untouched: still the default
    assert words_zero(b.segments()[0][8 : 8 + 8 * DEFAULTS.data_words]) is False


def words_zero(data: bytes) -> bool:
    return not any(data)


def test_any_pointer_fields() -> None:
    msg = SCHEMA.AllTypes.new_message()
    msg.anyField = SCHEMA.Inner.new_message(num=4, name="q")
    root = MessageReader(msg.to_segments()).get_root_struct()
    anyp = root.get_pointer(ALL.slots["anyField"][0].offset)
    assert anyp.kind() == "struct"
    assert read_struct(anyp.as_struct(), INNER) == {"num": 4, "name": "q", "color": 1}
    msg.anyField.set_as_text("txt")
    root = MessageReader(msg.to_segments()).get_root_struct()
    assert root.get_pointer(ALL.slots["anyField"][0].offset).as_text() == "txt"
    # Ours -> pycapnp: an AnyPointer holding a list of Int32.
    b = MessageBuilder()
    r = b.init_root(ALL.data_words, ALL.pointer_count)
    lst = r.get_pointer(ALL.slots["anyField"][0].offset).init_list(E.FOUR_BYTES, 2)
    lst.set_int(I32, 1, -9)
    theirs = SCHEMA.AllTypes.from_segments(b.segments())
    assert list(theirs.anyField.as_list(SCHEMA.AllTypes.schema.fields["int32List"].schema)) == [
        0,
        -9,
    ]


def test_schema_evolution_old_reader_new_message() -> None:
    # A message from a newer schema (bigger structs) read with an older, smaller layout and
    # vice versa: data past the section is the default, pointers past it are null.
    msg = build_pycapnp({"int32Field": 5, "structField": {"num": 1, "name": "x"}})
    root = MessageReader(msg.to_segments()).get_root_struct()
    inner = root.get_struct(ALL.slots["structField"][0].offset)
    assert inner.get_int(U64, 64, 77) == 77
    assert inner.is_null(10)
    # Our enlarged copy of an old small struct is still read by pycapnp.
    b = MessageBuilder()
    r = b.init_root(ALL.data_words, ALL.pointer_count)
    old = r.init_struct(ALL.slots["structField"][0].offset, 0, 1)  # an "old" Inner: name only
    old.set_text(0, "old")
    new = r.get_struct(ALL.slots["structField"][0].offset, INNER.data_words, INNER.pointer_count)
    new.set_int(U32, 0, 5)
    theirs = SCHEMA.AllTypes.from_segments(b.segments())
    assert (theirs.structField.num, theirs.structField.name) == (5, "old")
    old_shape = MessageBuilder()
    o = old_shape.init_root(ALL.data_words, ALL.pointer_count)
    o.init_struct(ALL.slots["structField"][0].offset, 0, 1).set_text(0, "short")
    theirs = SCHEMA.AllTypes.from_segments(old_shape.segments())
    assert (theirs.structField.num, theirs.structField.name, theirs.structField.color) == (
        0,
        "short",
        "green",
    )


@pytest.mark.parametrize("field", ["int32List", "uint16List", "textList"])
def test_lists_upgraded_to_struct_lists(field: str) -> None:
    # pycapnp reads a struct list where a primitive list is expected (first field), and we read
    # a primitive list as a struct list (the element is the struct's first field).
    values = {"int32List": [1, -2], "uint16List": [3, 4], "textList": ["a", "b"]}[field]
    msg = build_pycapnp({field: values})
    lst = (
        MessageReader(msg.to_segments())
        .get_root_struct()
        .get_list(ALL.slots[field][0].offset, E.INLINE_COMPOSITE)
    )
    if field == "textList":
        assert [lst.get_struct(i).get_text(0) for i in range(2)] == values
    else:
        fmt = I32 if field == "int32List" else U16
        assert [lst.get_struct(i).get_int(fmt, 0) for i in range(2)] == values


def test_pycapnp_follows_our_far_and_double_far_pointers() -> None:
    field = ALL.slots["structField"][0].offset
    b = MessageBuilder(max_segment_words=4)
    root = b.init_root(ALL.data_words, ALL.pointer_count)  # too big for segment 0: far
    old = root.init_struct(field, 0, 1)  # an old, name-only Inner, in a new segment
    old.set_text(0, "fills it up")  # two words: that segment is now full
    new = root.get_struct(field, INNER.data_words, INNER.pointer_count)
    new.set_int(U32, 0, 77)
    segments = b.segments()
    assert len(segments) >= 4
    pad_words = [U64.unpack_from(s, i)[0] for s in segments for i in range(0, len(s), 8)]
    assert any(w & 3 == 2 and w & 4 for w in pad_words)  # a double-far pointer
    theirs = SCHEMA.AllTypes.from_segments(segments)
    assert (theirs.structField.num, theirs.structField.name) == (77, "fills it up")
