"""The code generator: a schema file as an importable, typed ``*_capnp.py`` module.

The module a :class:`~capnrpc_core.schema.model.SchemaSet` turns into has two halves:

- at run time it decodes the schema nodes embedded in it (framed ``schema.capnp`` Node
  messages, base64) with :func:`~capnrpc_core.schema.load_node_messages` and binds the same
  names ``load()`` would give: no pycapnp needed;
- under ``if TYPE_CHECKING:`` it declares one class per struct, group, enum and interface, with
  typed properties, ``new_message`` keywords, ``init`` overloads, ``which()`` literals and
  client methods, so that mypy checks code that uses the module. The declarations subclass
  :mod:`capnrpc_core.schema.typed`.

Output is a pure function of the schema nodes (no dates, paths or versions), so regenerating
from the same schema gives the same bytes, and it is laid out as ``ruff format`` lays it out.

Names follow the runtime module exactly: the generator builds that module and reads the
attribute names off it (a nested type that clashes with ``Reader`` becomes ``Reader_``, and so
on). Types from other files that the schema refers to are declared in a private namespace
class per file (``_alltypes_capnp.Inner``); a method's implicit parameter and result structs
are private classes of their interface (``Calculator._evaluate_Results``). Cap'n Proto names
never contain ``_``, so such names cannot clash with the schema's.
"""

from __future__ import annotations

import base64
import keyword
import re
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from capnrpc_core.errors import DecodeError
from capnrpc_core.schema import interfaces as _interfaces
from capnrpc_core.schema import typed as _typed
from capnrpc_core.schema.decode import SCHEMA_LIMITS
from capnrpc_core.schema.model import (
    Brand,
    ConstNode,
    EnumNode,
    FileNode,
    InterfaceNode,
    Kind,
    Node,
    SchemaSet,
    StructNode,
    Type,
)
from capnrpc_core.schema.module import SchemaModule, build_module
from capnrpc_core.schema.structs import attribute_name
from capnrpc_core.wire.builder import MessageBuilder, PointerBuilder
from capnrpc_core.wire.builder import StructBuilder as WireStructBuilder
from capnrpc_core.wire.framing import decode_frame, encode_frame
from capnrpc_core.wire.pointers import ElementSize
from capnrpc_core.wire.reader import AnyPointerReader as WireAnyPointerReader
from capnrpc_core.wire.reader import MessageReader
from capnrpc_core.wire.reader import StructReader as WireStructReader

__all__ = ["embedded_node_ids", "generate_module", "module_file_name"]

LINE_LENGTH = 100
_INDENT = "    "
_B64_CHUNK = 76
# Builtins the declarations use; a member of the same name in a class body would shadow them.
_BUILTINS = frozenset(
    {"bool", "bytearray", "bytes", "classmethod", "float", "int", "memoryview", "property", "str"}
)


def module_file_name(schema_name: str) -> str:
    """The generated module's file name for a schema file: ``rpc-twoparty.capnp`` ->
    ``rpc_twoparty_capnp.py``."""
    base = schema_name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.endswith(".capnp"):
        base = base[: -len(".capnp")]
    stem = re.sub(r"\W", "_", base)
    if not stem or stem[0].isdigit():
        stem = "_" + stem
    return f"{stem}_capnp.py"


# -- which nodes a module embeds -----------------------------------------------------------------


def _brand_refs(brand: Brand) -> Iterator[int]:
    for scope in brand.scopes:
        for binding in scope.bindings or ():
            if binding is not None:
                yield from _type_refs(binding)


def _type_refs(t: Type) -> Iterator[int]:
    if t.kind == Kind.LIST:
        assert t.element is not None
        yield from _type_refs(t.element)
    elif t.kind in (Kind.STRUCT, Kind.ENUM, Kind.INTERFACE):
        yield t.type_id
        yield from _brand_refs(t.brand)


def _node_refs(node: Node) -> Iterator[int]:
    """Nodes that the runtime types of ``node`` may need (nested declarations excluded)."""
    if isinstance(node, StructNode):
        for f in node.fields:
            if f.group_id is not None:
                yield f.group_id
            elif f.slot is not None:
                yield from _type_refs(f.slot.type)
    elif isinstance(node, InterfaceNode):
        for m in node.methods:
            yield m.param_struct_id
            yield m.result_struct_id
            yield from _brand_refs(m.param_brand)
            yield from _brand_refs(m.result_brand)
        for s in node.superclasses:
            yield s.id
            yield from _brand_refs(s.brand)
    elif isinstance(node, ConstNode):
        yield from _type_refs(node.type)


def embedded_node_ids(schemas: SchemaSet, file_id: int) -> list[int]:
    """Ids of the nodes a module for ``file_id`` embeds, in output order.

    That is the file, everything declared in it, and everything those refer to (transitively,
    without the other declarations of other files). Ids missing from ``schemas`` are skipped:
    pycapnp does not report annotation declarations of other files, which nothing needs.
    """
    keep: set[int] = set()
    stack = [file_id]
    nested_of = {file_id}
    while stack:
        node_id = stack.pop()
        if node_id in keep:
            continue
        node = schemas.get(node_id)
        if node is None:
            continue
        keep.add(node_id)
        if node_id in nested_of:
            for n in node.nested_nodes:
                nested_of.add(n.id)
                stack.append(n.id)
        stack.extend(_node_refs(node))
    return sorted(keep, key=lambda i: (schemas[i].display_name, i))


def _canonical_frame(frame: bytes) -> bytes:
    """``frame`` re-encoded in one deterministic layout, independent of the parser's.

    Preorder, one segment, struct sections cut after their last non-zero word or pointer (as
    the canonical form has them): so the bytes depend neither on how pycapnp or ``capnp
    compile`` laid the message out nor on the ``schema.capnp`` version's struct sizes. The
    node's source position (``startByte``/``endByte``, which only newer compilers fill in) is
    dropped, so that editing a comment in the schema does not change the module.
    """
    reader = MessageReader(decode_frame(frame, SCHEMA_LIMITS), limits=SCHEMA_LIMITS)
    root = reader.root()
    if root.kind() != "struct":
        raise DecodeError("a schema node message's root is not a struct")
    node = root.as_struct()
    cleared = bytearray(_struct_data(node))
    cleared[NODE_SOURCE_POSITION] = bytes(len(cleared[NODE_SOURCE_POSITION]))
    data = bytes(cleared)
    copy = MessageBuilder(reader.size_in_words() + 1)
    _copy_struct(node, copy.root().init_struct(*_truncated_size(node, data)), data)
    return encode_frame(copy.segments())


NODE_SOURCE_POSITION = slice(40, 48)
"""Bytes of ``Node.startByte`` and ``Node.endByte`` in a Node's data section."""


_U8 = struct.Struct("<B")
_SCALAR_FORMATS = {
    ElementSize.BYTE: struct.Struct("<B"),
    ElementSize.TWO_BYTES: struct.Struct("<H"),
    ElementSize.FOUR_BYTES: struct.Struct("<I"),
    ElementSize.EIGHT_BYTES: struct.Struct("<Q"),
}


def _struct_data(s: WireStructReader) -> bytes:
    return bytes(s.get_int(_U8, i) for i in range(s.data_size_bytes))


def _truncated_size(s: WireStructReader, data: bytes | None = None) -> tuple[int, int]:
    """(data words, pointers) of ``s`` (with data section ``data``) without trailing zero
    words and null pointers."""
    data = (_struct_data(s) if data is None else data).rstrip(b"\0")
    pointers = s.pointer_count
    while pointers and s.is_null(pointers - 1):
        pointers -= 1
    return (len(data) + 7) // 8, pointers


def _copy_struct(src: WireStructReader, dst: WireStructBuilder, data: bytes | None = None) -> None:
    """Copy ``src`` (or ``data`` as its data section) into ``dst``, cut to ``dst``'s size."""
    if data is None:
        data = _struct_data(src)
    for i, byte in enumerate(data[: dst.data_size_bytes]):
        if byte:
            dst.set_int(_U8, i, byte)
    for i in range(dst.pointer_count):
        _copy_pointer(src.get_pointer(i), dst.get_pointer(i))


def _copy_pointer(src: WireAnyPointerReader, dst: PointerBuilder) -> None:
    kind = src.kind()
    if kind == "null":
        return
    if kind == "struct":
        s = src.as_struct()
        _copy_struct(s, dst.init_struct(*_truncated_size(s)))
        return
    if kind != "list":
        raise DecodeError(f"unexpected {kind} pointer in a schema node")
    lst = src.as_list()
    size = lst.element_size
    count = len(lst)
    if size == ElementSize.INLINE_COMPOSITE:
        sizes = [_truncated_size(lst.get_struct(i)) for i in range(count)]
        out = dst.init_struct_list(
            count, max((d for d, _p in sizes), default=0), max((p for _d, p in sizes), default=0)
        )
        for i in range(count):
            _copy_struct(lst.get_struct(i), out.get_struct(i))
    elif size == ElementSize.POINTER:
        out = dst.init_list(size, count)
        for i in range(count):
            _copy_pointer(lst.get_pointer(i), out.get_pointer(i))
    elif size == ElementSize.BIT:
        out = dst.init_list(size, count)
        for i in range(count):
            out.set_bool(i, lst.get_bool(i))
    elif size == ElementSize.VOID:
        dst.init_list(size, count)
    else:
        fmt = _SCALAR_FORMATS[size]
        out = dst.init_list(size, count)
        for i in range(count):
            out.set_int(fmt, i, lst.get_int(fmt, i))


# -- where each type is declared -----------------------------------------------------------------


@dataclass(eq=False)
class _Decl:
    """A class in the declarations: a schema type, or a namespace for another file's types."""

    name: str
    node: Node | None
    parent: _Decl | None
    children: list[_Decl] = field(default_factory=list)
    consts: list[tuple[str, ConstNode]] = field(default_factory=list)
    file_name: str = ""

    @property
    def path(self) -> str:
        return self.name if self.parent is None else f"{self.parent.path}.{self.name}"


_MISSING = object()


def _attr_for(owner: Any, name: str, value: Any) -> str:
    """The attribute under which the runtime module put ``value`` (see module._free_name)."""
    if getattr(owner, name, _MISSING) is value:
        return name
    if getattr(owner, name + "_", _MISSING) is value:
        return name + "_"
    raise AssertionError(f"runtime module has no attribute for {name!r}")


def _const_attr(owner: Any, name: str) -> str:
    # Constants are values (not comparable by identity); a clash is always renamed to name_,
    # and no other declaration can be called name_ (schema names have no underscores).
    return name + "_" if hasattr(owner, name + "_") else name


def _group_class_name(field_name: str) -> str:
    return field_name[:1].upper() + field_name[1:]


class _Plan:
    """Where every declared type goes, and under which Python name."""

    def __init__(self, schemas: SchemaSet, file_id: int) -> None:
        self.schemas = schemas
        self.file = schemas.file(file_id)
        self.module: SchemaModule = build_module(schemas, file_id)
        self.registry = self.module.registry
        self.top: list[_Decl] = []
        self.module_consts: list[tuple[str, ConstNode]] = []
        self.namespaces: dict[str, _Decl] = {}
        self.decls: dict[int, _Decl] = {}
        self.exports: list[str] = []
        self._implicit: dict[int, tuple[int, str]] = {}
        for node in schemas.nodes.values():
            if isinstance(node, InterfaceNode):
                for m in node.methods:
                    self._implicit.setdefault(m.param_struct_id, (node.id, f"_{m.name}_Params"))
                    self._implicit.setdefault(m.result_struct_id, (node.id, f"_{m.name}_Results"))
        self._place_nested(None, self.module, self.file)
        self._close()

    def _runtime_of(self, node: Node) -> Any:
        if isinstance(node, StructNode):
            return self.registry.struct_type(node.id)
        if isinstance(node, EnumNode):
            return self.registry.enum_type(node.id)
        if isinstance(node, InterfaceNode):
            return self.registry.interface_type(node.id)
        return None

    def _add(self, decl: _Decl) -> _Decl:
        (decl.parent.children if decl.parent is not None else self.top).append(decl)
        if decl.node is not None:
            self.decls[decl.node.id] = decl
        return decl

    def _place_nested(self, parent: _Decl | None, owner: Any, node: Node) -> None:
        """Declare what the runtime attached to ``owner`` for ``node``'s nested declarations."""
        for nested in node.nested_nodes:
            child = self.schemas.get(nested.id)
            if child is None:
                continue
            if isinstance(child, ConstNode):
                attr = _const_attr(owner, nested.name)
                if parent is None:
                    self.module_consts.append((attr, child))
                    self.exports.append(attr)
                else:
                    parent.consts.append((attr, child))
                continue
            runtime = self._runtime_of(child)
            if runtime is None:
                continue
            decl = self._add(_Decl(_attr_for(owner, nested.name, runtime), child, parent))
            if parent is None:
                self.exports.append(decl.name)
            if isinstance(child, StructNode | InterfaceNode):
                self._place_nested(decl, runtime, child)
        if isinstance(node, StructNode):
            self._place_groups(parent, owner, node)

    def _place_groups(self, parent: _Decl | None, owner: Any, node: StructNode) -> None:
        assert parent is not None
        for f in node.fields:
            if f.group_id is None or f.group_id in self.decls:
                continue
            group = self.schemas.struct(f.group_id)
            runtime = self.registry.struct_type(group.id)
            name = _group_class_name(f.name)
            attr = _attr_for(owner, name, runtime) if owner is not None else name
            decl = self._add(_Decl(attr, group, parent))
            self._place_groups(decl, runtime, group)

    def _namespace(self, node: Node) -> _Decl:
        file_name = node.display_name.split(":", 1)[0]
        ns = self.namespaces.get(file_name)
        if ns is None:
            base = "_" + re.sub(r"\W", "_", file_name)
            name, n = base, 2
            while any(other.name == name for other in self.namespaces.values()):
                name, n = f"{base}{n}", n + 1
            ns = _Decl(name, None, None, file_name=file_name)
            self.namespaces[file_name] = ns
        return ns

    def _place_elsewhere(self, node: Node) -> None:
        """Declare a type that the runtime module does not attach anywhere."""
        implicit = self._implicit.get(node.id)
        if implicit is not None and "$" in node.display_name:
            iface_id, name = implicit
            if iface_id not in self.decls:
                self._place_elsewhere(self.schemas[iface_id])
            parent = self.decls[iface_id]
        else:
            parent = self._namespace(node)
            name = node.display_name.split(":", 1)[-1].replace(".", "_").replace("$", "_")
        decl = self._add(_Decl(name, node, parent))
        if isinstance(node, StructNode):
            self._place_groups(decl, None, node)

    def _close(self) -> None:
        """Declare every type the declarations so far refer to, until nothing is missing."""
        done: set[int] = set()
        while True:
            todo = [d for d in self._all_decls() if d.node is not None and d.node.id not in done]
            if not todo:
                break
            for decl in todo:
                assert decl.node is not None
                done.add(decl.node.id)
                refs = list(_node_refs(decl.node))
                refs.extend(r for _name, c in decl.consts for r in _type_refs(c.type))
                for ref in refs:
                    target = self.schemas.get(ref)
                    if ref in self.decls or target is None:
                        continue
                    is_group = isinstance(target, StructNode) and target.is_group
                    if isinstance(target, StructNode | EnumNode | InterfaceNode) and not is_group:
                        self._place_elsewhere(target)
            for _name, c in self.module_consts:
                for ref in _type_refs(c.type):
                    target = self.schemas.get(ref)
                    if ref not in self.decls and target is not None:
                        self._place_elsewhere(target)

    def ordered(self, siblings: list[_Decl]) -> list[_Decl]:
        """``siblings`` with each one after those its interfaces' base classes are in.

        A base class is evaluated when its class statement runs, so (unlike annotations) it
        must be declared earlier. Otherwise the order is kept; a cycle keeps it too.
        """
        index = {id(d): i for i, d in enumerate(siblings)}
        needs: list[set[int]] = []
        for d in siblings:
            deps: set[int] = set()
            for inner in _subtree(d):
                if isinstance(inner.node, InterfaceNode):
                    for sup in inner.node.superclasses:
                        base = self.decls.get(sup.id)
                        while base is not None and id(base) not in index:
                            base = base.parent
                        if base is not None and base is not d:
                            deps.add(index[id(base)])
            needs.append(deps)
        out: list[_Decl] = []
        done: set[int] = set()
        while len(out) < len(siblings):
            ready = [i for i in range(len(siblings)) if i not in done and needs[i] <= done]
            if not ready:  # a cycle: what remains, as it was
                ready = [i for i in range(len(siblings)) if i not in done]
            done.add(ready[0])
            out.append(siblings[ready[0]])
        return out

    def _all_decls(self) -> Iterator[_Decl]:
        stack = list(self.top) + list(self.namespaces.values())
        while stack:
            d = stack.pop()
            yield d
            stack.extend(d.children)


def _subtree(decl: _Decl) -> Iterator[_Decl]:
    yield decl
    for child in decl.children:
        yield from _subtree(child)


# -- layout --------------------------------------------------------------------------------------


def _split_top(text: str) -> list[str]:
    """``text`` split at its top-level commas (outside brackets and strings)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _subscript(text: str) -> tuple[str, str] | None:
    """``("X", "a, b")`` for ``X[a, b]`` (a subscript ending the expression), else None."""
    if not text.endswith("]"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == "]":
            depth += 1
        elif ch == "[":
            depth -= 1
            if depth == 0:
                head = text[:i]
                # Only a plain name subscripted: `A | B[c]` is a union, not a subscript.
                if not head or not re.fullmatch(r"[\w.]+", head):
                    return None
                return head, text[i + 1 : -1]
    return None


class _Writer:
    """Lines of Python laid out as ``ruff format`` lays out these few shapes of statement."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level
        self._after_block = False
        self._block_start = True
        self._after_statement = False  # the previous line is a plain statement

    @property
    def ends_with_block(self) -> bool:
        """Whether the last thing written is a class body."""
        return self._after_block

    def _fits(self, text: str, level: int) -> bool:
        return len(_INDENT * level + text) <= LINE_LENGTH

    def _emit(self, text: str, level: int) -> None:
        self.lines.append(_INDENT * level + text)

    def line(self, text: str) -> None:
        """One statement or decorator (on one line: the callers make sure it is short)."""
        decorator = text.startswith("@")
        self._start(decorator)
        self._emit(text, self.level)
        self._after_statement = not decorator

    def _start(self, function: bool = False) -> None:
        # ruff separates a block, and a function that follows a plain statement, by a blank line.
        if self._after_block or (function and self._after_statement):
            self.lines.append("")
        self._after_block = False
        self._block_start = False
        self._after_statement = False

    def _bracket_body(self, items: list[str], level: int, def_params: bool = False) -> None:
        """The inside of a split bracket: one line if it fits, else one item a line."""
        if len(items) == 1:
            # ruff adds a trailing comma to a lone parameter of a split ``def``; in a subscript
            # it would make a tuple.
            self._emit(items[0] + ("," if def_params else ""), level)
        elif self._fits(", ".join(items), level):
            self._emit(", ".join(items), level)
        else:
            for item in items:
                self._emit(item + ",", level)

    def _tail(self, prefix: str, expr: str, suffix: str, level: int, parens: bool = False) -> None:
        """``prefix + expr + suffix``, splitting a trailing subscript of ``expr`` if too long.

        With ``parens``, an ``expr`` that cannot be split goes alone in parentheses.
        """
        text = prefix + expr + suffix
        sub = _subscript(expr)
        if self._fits(text, level):
            self._emit(text, level)
            return
        if sub is None:
            if parens and self._fits(expr, level + 1):
                self._emit(f"{prefix}(", level)
                self._emit(expr, level + 1)
                self._emit(f"){suffix}", level)
            else:
                self._emit(text, level)
            return
        head, inner = sub
        self._emit(f"{prefix}{head}[", level)
        self._bracket_body(_split_top(inner), level + 1)
        self._emit(f"]{suffix}", level)

    def function(self, head: str, params: list[str], returns: str, comment: str = "") -> None:
        """``def name(params) -> returns: ...`` (``head`` is ``def name``).

        ``comment`` goes on the ``def`` line, where mypy reports errors about the function.
        """
        self._start(function=True)
        comment = f"  {comment}" if comment else ""
        one = f"{head}({', '.join(params)}) -> {returns}: ..."
        if self._fits(one, self.level):
            self._emit(one + comment, self.level)
            return
        self._emit(f"{head}({comment}", self.level)
        self._bracket_body(params, self.level + 1, def_params=True)
        self._tail(") -> ", returns, ": ...", self.level, parens=True)

    def assign(self, target: str, value: str) -> None:
        """``target = value``; a long value splits its subscript or goes in parentheses."""
        self._start()
        self._after_statement = True
        one = f"{target} = {value}"
        if self._fits(one, self.level):
            self._emit(one, self.level)
        elif _subscript(value) is not None:
            self._tail(f"{target} = ", value, "", self.level)
        else:
            self._emit(f"{target} = (", self.level)
            self._emit(value, self.level + 1)
            self._emit(")", self.level)

    @contextmanager
    def block(self, name: str, base: str = "") -> Iterator[None]:
        """``class name(base):`` and its indented body, blank lines around it as ruff has them."""
        if not self._block_start and not self._after_block:
            self.lines.append("")
        self._start()
        one = f"class {name}({base}):" if base else f"class {name}:"
        if self._fits(one, self.level):
            self._emit(one, self.level)
        else:
            self._emit(f"class {name}(", self.level)
            self._tail("", base, "", self.level + 1)
            self._emit("):", self.level)
        self.level += 1
        self._block_start = True
        yield
        self.level -= 1
        self._after_block = True
        self._block_start = False


# -- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Types:
    """How a value of one schema type reads, gets from a builder, and what a setter accepts."""

    read: str
    get: str
    accept: str


@dataclass(frozen=True)
class _FieldDecl:
    attr: str
    name: str
    types: _Types
    init_size: str | None  # the size parameter of init(), None if init() does not apply


class _Renderer:
    """Writes the declarations of one plan."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.schemas = plan.schemas
        self.out = _Writer(level=1)
        self.used: set[str] = set()
        self._module_shadowed = frozenset(n for n, _c in plan.module_consts) & _BUILTINS
        self._shadowed = self._module_shadowed
        self.pipelined = self._pipelined_structs()

    def _pipelined_structs(self) -> set[int]:
        """Structs (and groups) a promise can stand for: results and what pipelining reaches."""
        stack = [
            m.result_struct_id
            for d in self.plan.decls.values()
            if isinstance(d.node, InterfaceNode)
            for m in d.node.methods
        ]
        found: set[int] = set()
        while stack:
            node_id = stack.pop()
            node = self.schemas.get(node_id)
            if node_id in found or node_id not in self.plan.decls:
                continue
            if not isinstance(node, StructNode):
                continue
            found.add(node_id)
            for f in node.fields:
                if f.group_id is not None:
                    stack.append(f.group_id)
                elif f.slot is not None and f.slot.type.kind == Kind.STRUCT:
                    stack.append(f.slot.type.type_id)
        return found

    # names ---------------------------------------------------------------------------------

    @contextmanager
    def members(self, names: Iterable[str]) -> Iterator[None]:
        """Inside a class body whose members are ``names`` (which shadow builtins there)."""
        saved = self._shadowed
        self._shadowed = self._module_shadowed | (frozenset(names) & _BUILTINS)
        yield
        self._shadowed = saved

    def b(self, name: str) -> str:
        """A builtin, qualified if the class body being written shadows it."""
        if name in self._shadowed:
            self.used.add("_b")
            return f"_b.{name}"
        return name

    def q(self, module: str, name: str) -> str:
        """``name`` from one of the modules the declarations import (``_t``, ``_typed``...)."""
        self.used.add(module)
        return f"{module}.{name}"

    def ref(self, node_id: int) -> str:
        return self.plan.decls[node_id].path

    def literal(self, names: Iterable[str]) -> str:
        return f"{self.q('_t', 'Literal')}[{', '.join(_quote(n) for n in names)}]"

    def words(self) -> str:
        return f"num_first_segment_words: {self.b('int')} | None = None"

    # types ---------------------------------------------------------------------------------

    def types(self, t: Type) -> _Types:
        kind = t.kind
        if kind == Kind.VOID:
            return _Types("None", "None", "None")
        if kind == Kind.BOOL:
            return _same(self.b("bool"))
        if kind < Kind.FLOAT32:
            return _same(self.b("int"))
        if kind < Kind.TEXT:
            return _same(self.b("float"))
        if kind == Kind.TEXT:
            s = self.b("str")
            return _Types(s, s, f"{s} | None")
        if kind == Kind.DATA:
            by = self.b("bytes")
            return _Types(by, by, f"{self.q('_typed', 'DataValue')} | None")
        if kind == Kind.ENUM:
            value = self.q("_typed", "EnumValue")
            return _Types(value, value, f"{self.ref(t.type_id)}._Value")
        if kind == Kind.STRUCT:
            path = self.ref(t.type_id)
            return _Types(f"{path}.Reader", f"{path}.Builder", f"{path}._Value | None")
        if kind == Kind.LIST:
            assert t.element is not None
            e = self.types(t.element)
            return _Types(
                f"{self.q('_typed', 'ListReader')}[{e.read}]",
                f"{self.q('_typed', 'ListBuilder')}[{e.get}, {e.accept}]",
                f"{self.q('_abc', 'Sequence')}[{e.accept}] | None",
            )
        if kind == Kind.INTERFACE:
            path = self.ref(t.type_id)
            return _Types(path, path, f"{path} | {path}.Server | None")
        return _Types(
            self.q("_schema", "AnyPointerReader"),
            self.q("_schema", "AnyPointerBuilder"),
            self.q("_t", "Any"),
        )

    def fields(self, node: StructNode) -> list[_FieldDecl]:
        out = []
        for f in node.fields:
            size: str | None = None
            if f.group_id is not None:
                path = self.ref(f.group_id)
                types = _Types(f"{path}.Reader", f"{path}.Builder", f"{path}._Value")
                size = "None = None"
            else:
                assert f.slot is not None
                types = self.types(f.slot.type)
                kind = f.slot.type.kind
                if kind in (Kind.STRUCT, Kind.ANY_POINTER):
                    size = "None = None"
                elif kind in (Kind.LIST, Kind.TEXT, Kind.DATA):
                    size = self.b("int")
            out.append(_FieldDecl(attribute_name(f.name), f.name, types, size))
        return out

    # declarations --------------------------------------------------------------------------

    def decl(self, d: _Decl) -> None:
        node = d.node
        if node is None:
            with self.out.block(d.name):
                self.out.line(f'"""Types of ``{d.file_name}`` that this module refers to."""')
                for child in self.plan.ordered(sorted(d.children, key=lambda c: c.name)):
                    self.decl(child)
        elif isinstance(node, StructNode):
            self.struct(d, node)
        elif isinstance(node, EnumNode):
            self.enum(d, node)
        elif isinstance(node, InterfaceNode):
            self.interface(d, node)

    def consts(self, consts: list[tuple[str, ConstNode]], class_level: bool) -> None:
        for name, c in consts:
            read = self.types(c.type).read
            self.out.line(
                f"{name}: {self.q('_t', 'ClassVar')}[{read}]" if class_level else f"{name}: {read}"
            )

    def struct(self, d: _Decl, node: StructNode) -> None:
        out = self.out
        path = d.path
        if node.is_group:
            base = self.q("_typed", "Group")
        else:
            base = f'{self.q("_typed", "Struct")}["{path}.Reader", "{path}.Builder"]'
        with out.block(d.name, base), self.members(n for n, _c in d.consts):
            # Resolved in the class's own scope: Reader and Builder are the nested classes.
            mapping = f"{self.q('_abc', 'Mapping')}[{self.b('str')}, {self.q('_t', 'Any')}]"
            out.assign(f"_Value: {self.q('_t', 'TypeAlias')}", f'"Reader | Builder | {mapping}"')
            self.consts(d.consts, True)
            for child in self.plan.ordered(d.children):
                self.decl(child)
            union = sorted(
                (f for f in node.fields if f.discriminant_value is not None),
                key=lambda f: f.discriminant_value or 0,
            )
            if union:
                with out.block("_Which", self.q("_schema", "UnionMember")):
                    out.assign(
                        f"_Name: {self.q('_t', 'TypeAlias')}", self.literal(f.name for f in union)
                    )
                    out.function("def __call__", ["self"], f"{path}._Which._Name")
            self.reader(d, node, bool(union))
            self.builder(d, node, bool(union))
            if node.id in self.pipelined:
                self.promise(d, node)
            if not node.is_group:
                self.new_message(d, self.fields(node))

    def reader(self, d: _Decl, node: StructNode, union: bool) -> None:
        out = self.out
        base = f'{self.q("_typed", "StructReader")}["{d.path}.Builder"]'
        with out.block("Reader", base), self.members(_attrs(node)):
            # Made here: the field names of the class being written shadow builtins in it.
            fields = self.fields(node)
            prop = self.b("property")
            for f in fields:
                out.line(f"@{prop}")
                out.function(f"def {f.attr}", ["self"], f.types.read)
            if union:
                out.line(f"@{prop}")
                out.function("def which", ["self"], f"{d.path}._Which")
            if not fields and not union:
                out.line("pass")

    def builder(self, d: _Decl, node: StructNode, union: bool) -> None:
        out = self.out
        base = f'{self.q("_typed", "StructBuilder")}["{d.path}.Reader"]'
        with out.block("Builder", base), self.members(_attrs(node)):
            fields = self.fields(node)
            prop = self.b("property")
            for f in fields:
                out.line(f"@{prop}")
                out.function(f"def {f.attr}", ["self"], f.types.get)
                out.line(f"@{f.attr}.setter")
                out.function(f"def {f.attr}", ["self", f"value: {f.types.accept}"], "None")
            if union:
                out.line(f"@{prop}")
                out.function("def which", ["self"], f"{d.path}._Which")
            self.inits(fields)
            if not fields and not union:
                out.line("pass")

    def inits(self, fields: list[_FieldDecl]) -> None:
        inits = [f for f in fields if f.init_size is not None]
        overloaded = len(inits) > 1
        for f in inits:
            if overloaded:
                self.out.line(f"@{self.q('_t', 'overload')}")
            names = [f.name] if f.attr == f.name else [f.name, f.attr]
            self.out.function(
                "def init",
                ["self", f"name: {self.literal(names)}", f"size: {f.init_size}"],
                f.types.get,
            )
        if overloaded:
            self.out.function(
                "def init",
                ["self", f"name: {self.b('str')}", f"size: {self.b('int')} | None = None"],
                self.q("_t", "Any"),
            )

    def new_message(self, d: _Decl, fields: list[_FieldDecl]) -> None:
        kwargs = [
            f"{f.attr}: {f.types.accept} = ..."
            for f in fields
            if f.attr not in ("cls", "num_first_segment_words")
        ]
        self.out.line(f"@{self.b('classmethod')}")
        params = ["cls", self.words()] + (["*", *kwargs] if kwargs else [])
        self.out.function("def new_message", params, f"{d.path}.Builder")

    def enum(self, d: _Decl, node: EnumNode) -> None:
        out = self.out
        names = [e.name for e in node.enumerants]
        with out.block(d.name, self.q("_schema", "Enum")):
            alias = f"{self.q('_t', 'TypeAlias')}"
            out.assign(f"_Name: {alias}", self.literal(names))
            out.line(f'_Value: {alias} = "_Name | {self.q("_typed", "EnumValue")}"')
            final = self.q("_t", "Final")
            for i, name in enumerate(names):
                # Keywords and the base's own attributes are not declarable (nor shadowed).
                if keyword.iskeyword(name) or name in _ENUM_BASE_ATTRS:
                    continue
                out.line(f"{name}: {final} = {i}")

    def interface(self, d: _Decl, node: InterfaceNode) -> None:
        out = self.out
        bases = [self.ref(s.id) for s in node.superclasses if s.id in self.plan.decls]
        methods = sorted(node.methods, key=lambda m: m.code_order)
        names = [attribute_name(m.name) for m in methods]
        base = ", ".join(bases) or self.q("_typed", "Client")
        with out.block(d.name, base), self.members(names + [n for n, _c in d.consts]):
            self.consts(d.consts, True)
            for child in self.plan.ordered(d.children):
                self.decl(child)
            for m in methods:
                self.client_method(m.name, m.param_struct_id, m.result_struct_id)
            # Implementations define the methods (any signature, sync or async): none declared.
            server_base = ", ".join(f"{b}.Server" for b in bases) or self.q("_typed", "Server")
            with out.block("Server", server_base):
                out.line("pass")

    def client_method(self, name: str, param_id: int, result_id: int) -> None:
        params = ["self"]
        node = self.schemas.get(param_id)
        if isinstance(node, StructNode):
            params += [
                f"{f.attr}: {f.types.accept} = ..." for f in self.fields(node) if f.attr != "self"
            ]
        if result_id in self.pipelined:
            result = f"{self.ref(result_id)}._Promise"
        else:
            result = f"{self.q('_typed', 'Promise')}[{self.q('_t', 'Any')}]"
        attr = attribute_name(name)
        # The runtime puts a method named like a Client attribute over it; so does this.
        ignore = "# type: ignore[override]" if attr in _CLIENT_ATTRS else ""
        self.out.function(f"def {attr}", params, result, ignore)

    def promise(self, d: _Decl, node: StructNode) -> None:
        """``T._Promise``: a promise for a ``T``, with its pipelined fields."""
        out = self.out
        fields: list[tuple[str, str]] = []
        for f in node.fields:
            attr = attribute_name(f.name)
            if attr in _PROMISE_ATTRS:
                continue  # the promise's own attribute wins at run time
            if f.group_id is not None:
                fields.append((attr, f"{self.ref(f.group_id)}._Promise"))
                continue
            assert f.slot is not None
            t = f.slot.type
            if t.kind == Kind.INTERFACE:
                fields.append((attr, self.ref(t.type_id)))
            elif t.kind == Kind.STRUCT:
                fields.append((attr, f"{self.ref(t.type_id)}._Promise"))
            elif t.kind == Kind.ANY_POINTER:
                any_reader = self.q("_schema", "AnyPointerReader")
                fields.append((attr, f"{self.q('_typed', 'Promise')}[{any_reader}]"))
        # Quoted: a base class is evaluated where the enclosing class is not yet defined.
        base = f'{self.q("_typed", "Promise")}["{d.path}.Reader"]'
        with out.block("_Promise", base), self.members(a for a, _t in fields):
            for attr, type_ in fields:
                out.line(f"@{self.b('property')}")
                out.function(f"def {attr}", ["self"], type_)
            if not fields:
                out.line("pass")


def _attrs(node: StructNode) -> list[str]:
    return [attribute_name(f.name) for f in node.fields]


def _public_attrs(cls: type) -> frozenset[str]:
    return frozenset(n for n in dir(cls) if not n.startswith("_"))


_CLIENT_ATTRS = _public_attrs(_interfaces.Client)
_PROMISE_ATTRS = _public_attrs(_interfaces.Promise) | _public_attrs(_typed.Promise)


_ENUM_BASE_ATTRS = frozenset({"schema", "enumerants", "mro"})


def _same(text: str) -> _Types:
    return _Types(text, text, text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the module ----------------------------------------------------------------------------------

_IMPORTS = {
    "_b": "import builtins as _b",
    "_abc": "import collections.abc as _abc",
    "_t": "import typing as _t",
}
_CAPNRPC_IMPORTS = {
    "_schema": "from capnrpc_core import schema as _schema",
    "_typed": "from capnrpc_core.schema import typed as _typed",
}


def _all_sort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then everything else.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def generate_module(schemas: SchemaSet, file_id: int | None = None) -> str:
    """The source of the generated module for file ``file_id`` (default: the first requested).

    ``schemas`` must hold the file's nodes and every node they refer to, as the sets of
    :func:`~capnrpc_core.schema.parse_file` and
    :func:`~capnrpc_core.schema.decode_code_generator_request` do.
    """
    if file_id is None:
        if not schemas.requested_files:
            raise ValueError("the schema set names no requested file: pass file_id")
        file_id = schemas.requested_files[0].id
    file_node: FileNode = schemas.file(file_id)
    plan = _Plan(schemas, file_id)
    renderer = _Renderer(plan)
    # Other files' types first: the file's interfaces may extend them.
    namespaces = [plan.namespaces[name] for name in sorted(plan.namespaces)]
    for decl in plan.ordered(namespaces + plan.top):
        renderer.decl(decl)
    renderer.consts(plan.module_consts, False)

    lines = [
        f'"""Cap\'n Proto schema ``{file_node.display_name}`` for capnrpc: generated, do not edit.',
        "",
        "Regenerate with ``capnrpc compile``. At import, the schema nodes embedded below are",
        "decoded without pycapnp; the declarations under ``TYPE_CHECKING`` describe the module's",
        "types to type checkers.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from base64 import b64decode as _b64decode",
        "from typing import TYPE_CHECKING",
        "",
        "from capnrpc_core.schema import load_node_messages as _load_node_messages",
        "",
    ]
    if renderer.out.lines:
        lines.append("if TYPE_CHECKING:")
        lines.extend(_INDENT + imp for name, imp in _IMPORTS.items() if name in renderer.used)
        capnrpc = [_INDENT + imp for name, imp in _CAPNRPC_IMPORTS.items() if name in renderer.used]
        if capnrpc:
            lines.append("")
            lines.extend(capnrpc)
        lines.append("")
        lines.extend(renderer.out.lines)
        # A class closing the block is followed by two blank lines at module level.
        lines.extend(["", ""] if renderer.out.ends_with_block else [""])
    exports = sorted(plan.exports, key=_all_sort_key)
    lines.append("__all__ = [")
    lines.extend(f"    {_quote(name)}," for name in exports)
    lines.append("]")
    lines.append("")
    lines.append(f"_FILE_ID = 0x{file_id:X}")
    lines.append("_NODES = (")
    for node_id in embedded_node_ids(schemas, file_id):
        text = base64.b64encode(_canonical_frame(schemas.node_messages[node_id])).decode("ascii")
        lines.append(f"    (  # {schemas[node_id].display_name}")
        lines.extend(
            f'        "{text[i : i + _B64_CHUNK]}",' for i in range(0, len(text), _B64_CHUNK)
        )
        lines.append("    ),")
    lines.append(")")
    lines.append("")
    lines.append('_frames = [_b64decode("".join(parts)) for parts in _NODES]')
    lines.append("_module = _load_node_messages(_frames, _FILE_ID, __name__)")
    lines.append("schema = _module.schema")
    lines.append("schemas = _module.schemas")
    lines.append("registry = _module.registry")
    if exports:
        lines.append("if not TYPE_CHECKING:")
        lines.extend(f"    {name} = _module.{name}" for name in plan.exports)
    return "\n".join(lines) + "\n"
