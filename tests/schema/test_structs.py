"""The typed struct surface: what pycapnp users write works the same on capnrpc's types."""

from __future__ import annotations

import math
from typing import Any

import pytest

import capnrpc_core
import capnrpc_core.schema as schema
from capnrpc_core.errors import DecodeError, LocalUsageError
from capnrpc_core.schema import (
    Enumerant,
    FieldTypeError,
    FieldValueError,
    NoSuchFieldError,
    SchemaModule,
    UnionMemberError,
)
from capnrpc_core.schema.model import Kind, Type
from tests.schema.conftest import ALLTYPES, SCHEMAS


@pytest.fixture(scope="module")
def features() -> SchemaModule:
    return schema.load(SCHEMAS / "features.capnp")


def test_load_is_exported_and_lays_out_the_module(ours: SchemaModule) -> None:
    m = capnrpc_core.load(ALLTYPES)
    assert {"AllTypes", "Inner", "Defaults", "Color", "Echo", "WithCaps"} <= set(dir(m))
    assert m.answer == 42 and m.greeting == "hello"
    assert m.Color.red == 0 and m.Color.ultraViolet == 3
    assert m.AllTypes.Group1.schema.node.is_group
    assert m.AllTypes.Group1.Inner.schema.node.is_group
    assert m.AllTypes.Named.Third.schema.fieldnames == ("x", "y")
    assert m.AllTypes.schema.union_fields == ("unsetU", "intU", "textU", "structU")
    assert m.Echo.schema.method_names == ("echo", "getSelf")
    assert m.schema.display_name == "alltypes.capnp"


def test_new_message_and_attributes(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(int32Field=-5, textField="héllo", dataField=b"\x00\x01")
    msg.uint64Field = 2**64 - 1
    msg.float32Field = 1.5
    msg.boolField = True
    msg.voidField = None
    assert (msg.int32Field, msg.textField, msg.dataField) == (-5, "héllo", b"\x00\x01")
    assert msg.uint64Field == 2**64 - 1 and msg.float32Field == 1.5 and msg.boolField is True
    assert msg.voidField is None
    r = msg.as_reader()
    assert (r.int32Field, r.uint64Field, r.textField) == (-5, 2**64 - 1, "héllo")
    assert isinstance(r, ours.AllTypes.Reader) and isinstance(msg, ours.AllTypes.Builder)


def test_text_and_data_accept_the_other_spelling(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(textField=b"bytes", dataField="text")
    assert msg.textField == "bytes" and msg.dataField == b"text"
    msg.dataField = bytearray(b"ba")
    assert msg.dataField == b"ba"
    msg.textField = None
    assert msg.textField == "" and not msg._has("textField")


@pytest.mark.parametrize(
    ("field", "value", "error", "builtin"),
    [
        ("int32Field", "x", FieldTypeError, TypeError),
        ("int32Field", 1.5, FieldTypeError, TypeError),
        ("int32Field", True, FieldTypeError, TypeError),
        ("int8Field", 128, FieldValueError, ValueError),
        ("uint8Field", -1, FieldValueError, ValueError),
        ("uint64Field", 2**64, FieldValueError, ValueError),
        ("float64Field", "1", FieldTypeError, TypeError),
        ("float64Field", True, FieldTypeError, TypeError),
        ("boolField", 1, FieldTypeError, TypeError),
        ("voidField", 0, FieldTypeError, TypeError),
        ("textField", 5, FieldTypeError, TypeError),
        ("dataField", 5, FieldTypeError, TypeError),
        ("enumField", "purple", NoSuchFieldError, AttributeError),
        ("enumField", 1.0, FieldTypeError, TypeError),
        ("enumField", 70000, FieldValueError, ValueError),
        ("structField", 5, FieldTypeError, TypeError),
        ("int32List", 5, FieldTypeError, TypeError),
        ("int32List", [1, "x"], FieldTypeError, TypeError),
        ("textList", ["a", 1], FieldTypeError, TypeError),
        ("anyField", 5, FieldTypeError, TypeError),
    ],
)
def test_bad_values_raise_naming_the_field(
    ours: SchemaModule, field: str, value: Any, error: type[Exception], builtin: type[Exception]
) -> None:
    msg = ours.AllTypes.new_message()
    with pytest.raises(error) as info:
        setattr(msg, field, value)
    assert isinstance(info.value, builtin) and isinstance(info.value, LocalUsageError)
    if error is not NoSuchFieldError:
        assert field in str(info.value)
    with pytest.raises(error):
        ours.AllTypes.new_message(**{field: value})


def test_unknown_fields(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message()
    for action in (
        lambda: msg.nosuch,
        lambda: setattr(msg, "nosuch", 1),
        lambda: msg.init("nosuch"),
        lambda: ours.AllTypes.new_message(nosuch=1),
        lambda: msg.as_reader().nosuch,
        lambda: msg._has("nosuch"),
    ):
        with pytest.raises(NoSuchFieldError, match="nosuch") as info:
            action()
        assert "alltypes.capnp:AllTypes" in str(info.value)
        assert isinstance(info.value, AttributeError)
    assert not hasattr(msg, "nosuch")


def test_float32_overflow_is_infinity_as_in_cxx(ours: SchemaModule, theirs: Any) -> None:
    msg = ours.AllTypes.new_message(float32Field=1e300)
    assert msg.float32Field == math.inf
    msg.float32Field = -1e300
    assert msg.float32Field == -math.inf
    msg.float32List = [1e300]
    assert msg.float32List[0] == math.inf
    assert theirs.AllTypes.new_message(float32Field=1e300).float32Field == math.inf


def test_unions_and_which(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message()
    assert msg.which == "unsetU" and msg.which() == "unsetU" and msg.which.raw == 0
    msg.textU = "hi"
    assert msg.which == "textU" and msg.which == 2 and type(msg.which()) is str
    with pytest.raises(UnionMemberError, match=r"intU.*textU"):
        _ = msg.intU
    with pytest.raises(UnionMemberError):
        _ = msg.as_reader().intU
    assert not msg._has("intU") and msg._has("textU")
    msg.intU = 7
    assert msg.which == "intU" and msg.intU == 7
    msg.named.second = ["a", "b"]
    assert msg.named.which == "second" and list(msg.named.second) == ["a", "b"]
    third = msg.named.init("third")
    third.x = 3
    assert msg.named.which() == "third" and msg.as_reader().named.third.x == 3
    with pytest.raises(FieldTypeError, match="no union"):
        _ = ours.Inner.new_message().which


def test_unknown_union_member_reads_as_empty_name(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message()
    layout = msg._layout
    msg.wire.set_int(Type_U16, layout.disc_offset, 99)
    assert msg.which == "" and msg.which.raw == 99
    assert "unsetU" not in msg.to_dict() and "intU" not in msg.to_dict()


Type_U16 = __import__("struct").Struct("<H")


def test_union_struct_from_dict_merges_only_into_the_set_member(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(structU={"num": 1, "name": "a"})
    msg.structU = {"num": 2}
    assert msg.structU.to_dict() == {"num": 2, "name": "a", "color": "green"}
    msg.textU = "x"
    msg.structU = {"num": 3}
    assert msg.structU.to_dict() == {"num": 3, "color": "green"}


def test_init(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message()
    inner = msg.init("structField")
    inner.num = 4
    lst = msg.init("int32List", 3)
    lst[0], lst[-1] = 1, 3
    assert list(msg.int32List) == [1, 0, 3]
    nested = msg.init("nestedList", 2)
    nested.init(0, 2)[1] = 9
    nested[1] = [5]
    assert msg.to_dict()["nestedList"] == [[0, 9], [5]]
    structs = msg.init("nestedStructList", 1)
    structs.init(0, 1)[0].name = "deep"
    assert msg.as_reader().nestedStructList[0][0].name == "deep"
    msg.group1.a = 5
    msg.group1.inner.c = True
    group = msg.init("group1")
    assert (group.a, group.inner.c) == (0, False)
    assert msg.init("dataField", 3) == b"\x00\x00\x00"
    assert msg.init("textField", 2) == "\x00\x00"
    assert msg.init("structU").num == 0 and msg.which == "structU"
    any_ptr = msg.init("anyField")
    assert any_ptr.is_null()
    with pytest.raises(FieldTypeError, match="int32Field"):
        msg.init("int32Field")
    with pytest.raises(FieldTypeError, match="needs a size"):
        msg.init("int32List")
    with pytest.raises(FieldTypeError):
        msg.init("structField", 3)


def test_lists(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(
        boolList=[True, False, True],
        textList=["a", "bc"],
        dataList=[b"x"],
        enumList=["blue", 0, ours.Color.green],
        structList=[{"num": 1}, {"num": 2, "name": "two"}],
        voidList=[None, None],
        float64List=[0.5, -1],
    )
    r = msg.as_reader()
    assert list(r.boolList) == [True, False, True]
    assert r.textList[-1] == "bc" and r.textList[:1] == ["a"]
    assert list(r.enumList) == ["blue", "red", "green"]
    assert [s.num for s in r.structList] == [1, 2]
    assert list(r.voidList) == [None, None] and len(r.voidList) == 2
    assert list(r.float64List) == [0.5, -1.0]
    with pytest.raises(IndexError):
        r.int32List[0]
    with pytest.raises(IndexError):
        r.textList[2]
    msg.structList[1].num = 20  # as_reader() is a live view: r sees this
    msg.structList[0] = r.structList[1]
    assert [s.to_dict() for s in msg.structList] == [
        {"num": 20, "name": "two", "color": "green"},
        {"num": 20, "name": "two", "color": "green"},
    ]
    other = ours.AllTypes.new_message()
    other.textList = r.textList  # a reader of a list is copied
    assert list(other.textList) == ["a", "bc"]
    with pytest.raises(FieldTypeError, match="List"):
        msg.int32List = r.textList
    assert list(ours.AllTypes.new_message().int32List) == []


def test_enums(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(enumField="blue")
    value = msg.enumField
    assert isinstance(value, Enumerant) and isinstance(value, str)
    assert value == "blue" and value == 2 and value.raw == 2 and value != "red"
    assert str(value) == "blue" and hash(value) == hash("blue")
    msg.enumField = 3
    assert msg.enumField == "ultraViolet"
    msg.enumField = value
    assert msg.enumField == "blue"
    msg.enumField = 200  # ordinals from a newer schema are kept
    assert msg.enumField == 200 and type(msg.enumField) is int
    assert msg.to_dict()["enumField"] == 200


def test_groups(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(group1={"a": 3, "inner": {"d": 2.5}})
    msg.group1 = {"b": "bee"}  # a dict updates the group
    assert msg.to_dict()["group1"] == {"a": 3, "b": "bee", "inner": {"c": False, "d": 2.5}}
    other = ours.AllTypes.new_message(group1={"a": 9}).as_reader()
    msg.group1 = other.group1  # a whole group replaces it
    assert msg.to_dict()["group1"] == {"a": 9, "inner": {"c": False, "d": 0.0}}
    msg.group1 = ours.AllTypes.new_message(group1={"b": "from a builder"}).group1
    assert msg.to_dict()["group1"] == {
        "a": 0,
        "b": "from a builder",
        "inner": {"c": False, "d": 0.0},
    }
    msg.named = ours.AllTypes.new_message(named={"second": ["s"]}).named
    assert msg.named.which == "second" and list(msg.named.second) == ["s"]
    with pytest.raises(FieldTypeError):
        msg.group1 = other.named


def test_defaults_read_like_pycapnp(ours: SchemaModule, theirs: Any) -> None:
    r = ours.Defaults.new_message().as_reader()
    t = theirs.Defaults.new_message().as_reader()
    for name in ours.Defaults.schema.fieldnames:
        mine, other = getattr(r, name), getattr(t, name)
        if name in ("structField",):
            assert mine.to_dict() == other.to_dict()
        elif name.endswith("List"):
            assert [getattr(x, "to_dict", lambda x=x: x)() for x in mine] == [
                getattr(x, "to_dict", lambda x=x: x)() for x in other
            ]
        elif isinstance(mine, float) and math.isnan(mine):
            assert math.isnan(other)
        else:
            assert mine == other, name
    # Builders copy a pointer default into the message when it is read, as C++ does.
    b = ours.Defaults.new_message()
    tb = theirs.Defaults.new_message()
    for name in ("textField", "structField", "int32List", "structList", "dataField"):
        getattr(b, name)
        getattr(tb, name)
    assert b.to_bytes() == tb.to_bytes()
    b.structField.num = 8
    assert b.as_reader().structField.to_dict() == {"num": 8, "name": "seven", "color": "blue"}


def test_any_pointer(ours: SchemaModule, theirs: Any) -> None:
    msg = ours.AllTypes.new_message()
    msg.anyField = ours.Inner.new_message(num=5, name="five")
    assert msg.anyField.as_struct(ours.Inner).num == 5
    assert msg.as_reader().anyField.as_struct(ours.Inner).name == "five"
    with theirs.AllTypes.from_bytes(msg.to_bytes()) as back:
        assert back.anyField.as_struct(theirs.Inner).num == 5
    msg.anyField = "text"
    assert msg.as_reader().anyField.as_text() == "text"
    msg.anyField.set_as_data(b"raw")
    assert msg.as_reader().anyField.as_data() == b"raw"
    lst = msg.anyField.init_as_list("int16", 2)
    lst[1] = -3
    assert list(msg.as_reader().anyField.as_list(Type(Kind.INT16))) == [0, -3]
    structs = msg.anyField.init_as_list(ours.Inner, 1)
    structs[0].num = 11
    assert msg.as_reader().anyField.as_list(ours.Inner)[0].num == 11
    inner = msg.anyField.init_as_struct(ours.Inner)
    inner.color = "blue"
    assert msg.anyField.kind() == "struct"
    msg.anyField = None
    assert msg.anyField.is_null() and "anyField" not in msg.to_dict()
    t = theirs.AllTypes.new_message()
    t.anyField.set_as_text("from pycapnp")
    assert ours.AllTypes.from_bytes(t.to_bytes()).anyField.as_text() == "from pycapnp"


def test_capability_fields_use_the_cap_table(ours: SchemaModule) -> None:
    cap_a, cap_b = object(), object()
    msg = ours.WithCaps.new_message(cap=cap_a, caps=[cap_b, None, cap_a])
    assert msg.cap is cap_a
    assert list(msg.caps) == [cap_b, None, cap_a]
    table = msg.wire.message.caps
    assert table.count(cap_a) == 2 and cap_b in table
    segments = msg.to_segments()
    r = ours.WithCaps.from_segments(segments, caps=table)
    assert r.cap is cap_a and r.caps[0] is cap_b and r.caps[1] is None
    msg.cap = None
    assert msg.cap is None


def test_capability_hooks(ours: SchemaModule) -> None:
    registry = schema.TypeRegistry(ours.schemas)
    seen: list[Any] = []
    registry.capability_wrapper = lambda iface, cap: ("client", iface.schema.node.short_name, cap)

    def unwrap(iface: Any, value: Any) -> Any:
        seen.append((iface.schema.node.short_name, value))
        return value[2] if isinstance(value, tuple) else value

    registry.capability_unwrapper = unwrap
    with_caps = registry.struct_type(ours.WithCaps.schema.id)
    cap = object()
    msg = with_caps.new_message(cap=cap)
    assert msg.cap == ("client", "Echo", cap)
    msg.cap = msg.cap
    assert msg.wire.get_capability(0) is cap
    assert seen == [("Echo", cap), ("Echo", ("client", "Echo", cap))]


def test_bytes_round_trips(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(textField="x", int64List=[1, 2])
    data = msg.to_bytes()
    with ours.AllTypes.from_bytes(data) as r:  # pycapnp's spelling
        assert r.textField == "x"
    r2 = ours.AllTypes.from_bytes(data + b"trailing junk is ignored, as in pycapnp")
    assert list(r2.int64List) == [1, 2]
    b = ours.AllTypes.from_bytes(data, builder=True)
    b.textField = "changed"
    assert ours.AllTypes.from_bytes(data).textField == "x"
    assert ours.AllTypes.from_bytes_packed(msg.to_bytes_packed()).to_dict() == msg.to_dict()
    assert ours.AllTypes.from_segments(msg.to_segments()).to_dict() == msg.to_dict()
    copy = msg.as_reader().as_builder()
    copy.textField = "copy"
    assert msg.textField == "x"
    assert msg.structField.to_bytes()  # a non-root struct is copied into a message of its own


def test_read_limits(ours: SchemaModule, features: SchemaModule) -> None:
    msg = ours.AllTypes.new_message(int64List=list(range(100)))
    data = msg.to_bytes()
    with pytest.raises(DecodeError, match="traversal"):
        ours.AllTypes.from_bytes(data, traversal_limit_in_words=20)
    # Every read of the list is charged: reading it again and again runs out.
    r = ours.AllTypes.from_bytes(data, traversal_limit_in_words=250)
    assert len(r.int64List) == 100 and len(r.int64List) == 100
    with pytest.raises(DecodeError, match="traversal"):
        _ = r.int64List
    tree = features.Tree.new_message()
    node = tree
    for _ in range(10):
        node = node.init("parent")
    deep = features.Tree.from_bytes(tree.to_bytes(), nesting_limit=5)
    with pytest.raises(DecodeError, match="nesting"):
        _ = deep.parent.parent.parent.parent.parent.parent.label
    with pytest.raises(DecodeError):
        ours.AllTypes.from_bytes(b"\x00\x00\x00\x00\x05\x00\x00\x00")


def test_assigning_structs(ours: SchemaModule) -> None:
    msg = ours.AllTypes.new_message()
    msg.structField = ours.Inner.new_message(num=4).as_reader()
    again = schema.load(ALLTYPES)  # another registry: same node id is accepted
    msg.structU = again.Inner.new_message(num=6)
    assert (msg.structField.num, msg.structU.num) == (4, 6)
    with pytest.raises(FieldTypeError, match=r"alltypes\.capnp:Inner"):
        msg.structField = ours.AllTypes.new_message()
    with pytest.raises(TypeError):
        ours.AllTypes()


def test_keyword_and_reserved_field_names(features: SchemaModule) -> None:
    msg = features.Outer.new_message(return_=1, import_="i", which_=2, schema_=True)
    assert getattr(msg, "return") == 1 and msg.return_ == 1 and msg.import_ == "i"
    assert msg.which_ == 2 and msg.schema_ is True
    assert msg.to_dict() == {
        "color": "blue",
        "return": 1,
        "import": "i",
        "which": 2,
        "schema": True,
    }
    assert msg._get("return") == 1
    assert msg.schema is features.Outer.schema


def test_recursive_structs_and_nested_types(features: SchemaModule) -> None:
    tree = features.Tree.new_message(label="root", children=[{"label": "a"}])
    tree.children[0].init("children", 1)[0].label = "b"
    tree.parent.label = "up"
    r = features.Tree.from_bytes(tree.to_bytes())
    assert r.children[0].children[0].label == "b" and r.parent.label == "up"
    deep = features.Outer.Middle.Deep.new_message(x=1)
    outer = features.Outer.new_message(middle={"deep": deep})
    assert outer.middle.deep.x == 1 and outer.middle.mode == "off"
    assert features.Outer.Middle.Mode.off == 1
    assert outer.color == "blue" and outer.inner.color == "green"


def test_constants(features: SchemaModule) -> None:
    assert list(features.listConst) == [1, 2, 3]
    assert features.structConst.to_dict() == {"num": 3, "name": "three", "color": "green"}
    assert features.dataConst == b"\x01\x02"
    assert features.colorConst == "ultraViolet"
    assert features.floatConst == 1.5
    assert features.voidConst is None


def test_generics_are_any_pointer_erased(features: SchemaModule, ours: SchemaModule) -> None:
    msg = features.UsesGenerics.new_message()
    msg.textBox.value.set_as_text("boxed")
    msg.innerBox.value = ours.Inner.new_message(num=2)
    msg.init("boxes", 1)[0].label = "b"
    r = msg.as_reader()
    assert r.textBox.value.as_text() == "boxed"
    assert r.innerBox.value.as_struct(ours.Inner).num == 2
    assert r.boxes[0].label == "b"


def test_interfaces(features: SchemaModule) -> None:
    derived = features.Derived
    assert [m.name for _i, m in derived.methods()] == ["push", "get", "ping"]
    assert derived.param_type("push").schema.fieldnames == ("data",)
    assert derived.schema.node.methods[0].is_streaming
    assert derived.Nested.new_message(n=1).n == 1


def test_repr_and_str(ours: SchemaModule, theirs: Any) -> None:
    kw = {"num": 3, "name": 'q"\n', "color": "blue"}
    mine = ours.Inner.new_message(**kw)
    assert str(mine) == str(theirs.Inner.new_message(**kw))
    assert repr(mine.as_reader()).startswith("<alltypes.capnp:Inner reader (num = 3")
    assert "builder" in repr(mine)
