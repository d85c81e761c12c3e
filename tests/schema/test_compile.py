"""The code generator and ``capnrpc compile``: generated modules behave as ``load()``'s do,
import without pycapnp, come out the same every time, and type-check user code."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import capnrpc_core.schema as schema
from capnrpc_core.__main__ import main as capnrpc_main
from capnrpc_core.compile import imported_files
from capnrpc_core.compile import main as compile_main
from capnrpc_core.schema.codegen import embedded_node_ids, generate_module, module_file_name
from tests.schema.conftest import ALLTYPES, PYCAPNP_DIR, SCHEMAS, SITE_PACKAGES, pycapnp_load
from tests.schema.strategies import struct_strategy
from tests.schema.test_oracle import norm

ROOT = Path(__file__).resolve().parents[2]
FEATURES = SCHEMAS / "features.capnp"
CHECKED_IN = ROOT / "capnrpc_core" / "rpc" / "schemas"
RPC_SCHEMAS = {
    "rpc_capnp.py": "rpc.capnp",
    "rpc_twoparty_capnp.py": "rpc-twoparty.capnp",
    "stream_capnp.py": "stream.capnp",
}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with alltypes_capnp.py and features_capnp.py, made by the CLI."""
    out = tmp_path_factory.mktemp("generated")
    assert compile_main([str(ALLTYPES), str(FEATURES), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def gen_alltypes(generated: Path) -> ModuleType:
    return _import(generated / "alltypes_capnp.py", "gen_alltypes_capnp")


@pytest.fixture(scope="module")
def gen_features(generated: Path) -> ModuleType:
    return _import(generated / "features_capnp.py", "gen_features_capnp")


@pytest.fixture(scope="module")
def features() -> schema.SchemaModule:
    return schema.load(FEATURES)


# -- the generated module is load()'s module -------------------------------------------------


def _public(module: Any) -> set[str]:
    return {n for n in vars(module) if not n.startswith("_")}


@pytest.mark.parametrize("which", ["alltypes", "features"])
def test_module_exports_the_same_names_as_load(
    which: str,
    ours: schema.SchemaModule,
    features: schema.SchemaModule,
    gen_alltypes: ModuleType,
    gen_features: ModuleType,
) -> None:
    loaded, gen = (ours, gen_alltypes) if which == "alltypes" else (features, gen_features)
    # Names the generated module's own imports bring.
    assert _public(gen) - {"TYPE_CHECKING", "annotations"} == _public(loaded)
    assert set(gen.__all__) == _public(loaded) - {"schema", "schemas", "registry"}
    assert gen.schema.id == loaded.schema.id
    for name in gen.__all__:
        ours_value, gen_value = getattr(loaded, name), getattr(gen, name)
        if isinstance(ours_value, type):
            assert gen_value.schema.id == ours_value.schema.id
        else:
            assert repr(gen_value) == repr(ours_value)


def test_constants_and_enums(gen_alltypes: ModuleType, gen_features: ModuleType) -> None:
    assert gen_alltypes.answer == 42 and gen_alltypes.greeting == "hello"
    assert gen_alltypes.Color.ultraViolet == 3
    assert list(gen_features.listConst) == [1, 2, 3]
    assert gen_features.structConst.name == "three" and gen_features.dataConst == b"\x01\x02"
    assert gen_features.colorConst == "ultraViolet" and gen_features.voidConst is None
    assert gen_features.Outer.Middle.Mode.off == 1
    assert (
        gen_features.Derived.Nested.schema.node.id
        == gen_features.schemas.find("features.capnp:Derived.Nested").id
    )


def _same_behaviour(loaded_type: Any, gen_type: Any, fields: dict[str, Any]) -> None:
    mine = gen_type.new_message(**fields)
    theirs = loaded_type.new_message(**fields)
    data = theirs.to_bytes()
    assert mine.to_bytes() == data
    assert mine.to_bytes_packed() == theirs.to_bytes_packed()
    expected = norm(theirs.to_dict())
    assert norm(mine.to_dict()) == expected
    assert norm(gen_type.from_bytes(data).to_dict()) == expected
    assert norm(loaded_type.from_bytes(mine.to_bytes()).to_dict()) == expected


@pytest.mark.parametrize(
    ("which", "name"),
    [
        ("alltypes", "AllTypes"),
        ("alltypes", "Defaults"),
        ("alltypes", "WithCaps"),
        ("features", "Outer"),
        ("features", "Tree"),
        ("features", "UsesGenerics"),
        ("features", "Derived.Nested"),
    ],
)
def test_round_trips_equal_loads(
    which: str,
    name: str,
    ours: schema.SchemaModule,
    features: schema.SchemaModule,
    gen_alltypes: ModuleType,
    gen_features: ModuleType,
) -> None:
    loaded, gen = (ours, gen_alltypes) if which == "alltypes" else (features, gen_features)
    loaded_type, gen_type = loaded, gen
    for part in name.split("."):
        loaded_type, gen_type = getattr(loaded_type, part), getattr(gen_type, part)
    node = loaded.schemas.struct(loaded_type.schema.id)

    @SETTINGS
    @given(struct_strategy(loaded.schemas, node))
    def check(fields: dict[str, Any]) -> None:
        _same_behaviour(loaded_type, gen_type, fields)

    check()


def test_defaults_read_the_same(ours: schema.SchemaModule, gen_alltypes: ModuleType) -> None:
    mine = gen_alltypes.Defaults.new_message().as_reader()
    theirs = ours.Defaults.new_message().as_reader()
    assert norm(mine.to_dict(verbose=True)) == norm(theirs.to_dict(verbose=True))
    assert mine.structField.name == "seven" and list(mine.textList) == ["plugh", "xyzzy"]


def test_interfaces_are_client_types(gen_alltypes: ModuleType, gen_features: ModuleType) -> None:
    from capnrpc_core.schema.interfaces import Client, Server

    assert issubclass(gen_alltypes.Echo, Client)
    assert issubclass(gen_alltypes.Echo.Server, Server)
    assert callable(gen_alltypes.Echo.echo)
    derived = gen_features.Derived
    assert issubclass(derived, gen_features.Base) and callable(derived.ping)
    assert derived.schema.method_names == ("push", "get")


def test_embedded_nodes_are_what_the_module_needs() -> None:
    schemas = schema.parse_file(FEATURES)
    file_id = schemas.requested_files[0].id
    names = {schemas[i].display_name for i in embedded_node_ids(schemas, file_id)}
    assert "features.capnp" in names and "features.capnp:Outer.Middle.Deep" in names
    # Referenced declarations of other files come along, their files' other ones do not.
    assert {"alltypes.capnp:Inner", "alltypes.capnp:Color"} <= names
    assert "capnp/stream.capnp:StreamResult" in names
    assert not any(n.startswith("alltypes.capnp:AllTypes") for n in names)


# -- no pycapnp at run time --------------------------------------------------------------------


def test_imports_in_a_fresh_process_without_pycapnp(
    generated: Path, ours: schema.SchemaModule
) -> None:
    fields = {"int32Field": -7, "textField": "héllo", "textList": ["a", "b"], "intU": 9}
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["capnp"] = None  # importing pycapnp now fails
        sys.path.insert(0, {str(generated)!r})
        import alltypes_capnp, features_capnp
        from capnrpc_core.rpc.schemas import rpc_capnp, rpc_twoparty_capnp, stream_capnp
        assert "subprocess" not in sys.modules, "a schema was parsed at import"
        msg = alltypes_capnp.AllTypes.new_message(**{fields!r})
        call = rpc_capnp.Message.new_message(call={{"questionId": 5, "methodId": 2}})
        side = rpc_twoparty_capnp.Side.client
        print(msg.to_bytes().hex(), call.to_bytes().hex(), side, features_capnp.listConst[2])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_child_env()
    )
    assert proc.returncode == 0, proc.stderr
    msg_hex, call_hex, side, last = proc.stdout.split()
    assert bytes.fromhex(msg_hex) == ours.AllTypes.new_message(**fields).to_bytes()
    rpc = pycapnp_load(PYCAPNP_DIR / "rpc.capnp")
    expected = rpc.Message.new_message(call={"questionId": 5, "methodId": 2}).to_bytes()
    assert bytes.fromhex(call_hex) == expected
    assert (side, last) == ("1", "3")


# -- deterministic output -----------------------------------------------------------------------


def test_output_is_deterministic(tmp_path: Path) -> None:
    first = generate_module(schema.parse_file(FEATURES))
    assert generate_module(schema.parse_file(FEATURES)) == first
    # Another process, another hash seed: the same bytes.
    out = tmp_path / "again.py"
    for seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-m", "capnrpc_core.compile", str(FEATURES), "-o", str(out)],
            capture_output=True,
            env=_child_env(PYTHONHASHSEED=seed),
        )
        assert proc.returncode == 0, proc.stderr
        assert out.read_text(encoding="utf-8") == first


@pytest.mark.parametrize(("module", "source"), sorted(RPC_SCHEMAS.items()))
def test_checked_in_rpc_modules_regenerate_byte_for_byte(module: str, source: str) -> None:
    fresh = generate_module(schema.parse_file(PYCAPNP_DIR / source))
    assert (CHECKED_IN / module).read_bytes() == fresh.encode("utf-8"), (
        f"{module} is stale: regenerate it (see capnrpc_core/rpc/schemas/__init__.py)"
    )


def test_checked_in_rpc_module_agrees_with_pycapnp() -> None:
    from capnrpc_core.rpc.schemas import rpc_capnp

    theirs = pycapnp_load(PYCAPNP_DIR / "rpc.capnp")
    node = rpc_capnp.schemas.struct(rpc_capnp.Message.schema.id)

    @SETTINGS
    @given(struct_strategy(rpc_capnp.schemas, node))
    def check(fields: dict[str, Any]) -> None:
        ours = rpc_capnp.Message.new_message(**fields)
        data = theirs.Message.new_message(**fields).to_bytes()
        assert ours.to_bytes() == data
        assert norm(rpc_capnp.Message.from_bytes(data).to_dict()) == norm(ours.to_dict())

    check()


@pytest.mark.skipif(shutil.which("capnp") is None, reason="needs the capnp tool")
def test_plugin_output_equals_the_cli_output(tmp_path: Path, generated: Path) -> None:
    """``capnp compile -o<plugin>``: the tool runs us with a CodeGeneratorRequest on stdin."""
    plugin = tmp_path / "capnpc-test"
    plugin.write_text(f"#!/bin/sh\nexec {sys.executable} -m capnrpc_core.compile\n")
    plugin.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        [
            "capnp",
            "compile",
            f"-o{plugin}:{out}",
            f"-I{SITE_PACKAGES}",
            f"--src-prefix={SCHEMAS}",
            str(ALLTYPES),
            str(FEATURES),
        ],
        capture_output=True,
        env=_child_env(),
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("alltypes_capnp.py", "features_capnp.py"):
        # capnp 0.9's node messages differ in layout from pycapnp's (C++ 1.x), not in content.
        assert (out / name).read_bytes() == (generated / name).read_bytes()


# -- the typed declarations ---------------------------------------------------------------------

USER_OK = """
from __future__ import annotations

import alltypes_capnp as m
import features_capnp as f


def build() -> bytes:
    msg = m.AllTypes.new_message(int32Field=3, textField="hi", enumField="blue")
    msg.uint64Field = 2**64 - 1
    msg.structField = {"num": 1}
    msg.structField.name = "x"
    ints = msg.init("int32List", 3)
    ints[0] = 5
    inners = msg.init("structList", 2)
    inners[0].num = 3
    msg.textList = ["a", "b"]
    msg.group1.inner.c = True
    msg.named.third.x = 1
    return msg.to_bytes()


def read(data: bytes) -> int:
    r = m.AllTypes.from_bytes(data)
    total: int = r.int32Field + r.uint8Field + len(r.textField) + sum(r.int32List)
    for inner in r.structList:
        total += inner.num
    if r.which() == "intU":
        total += r.intU
    name: str = r.structField.name
    raw: bytes = r.dataField
    ratio: float = r.float32Field
    b = r.as_builder()
    b.int8Field = 1
    b.enumField = m.Color.blue
    b.enumField = r.enumField
    rows: list[list[int]] = [list(row) for row in r.nestedList]
    return total + len(name) + len(raw) + int(ratio) + len(rows) + m.answer


def deep() -> int:
    d = f.Outer.Middle.Deep.new_message(x=3)
    o = f.Outer.new_message(return_=3, middle={"mode": "on"})
    o.import_ = "x"
    o.middle.deep = d
    tree = f.Tree.new_message(label="root")
    kids = tree.init("children", 1)
    kids[0].label = "leaf"
    return o.return_ + d.x + len(kids)


def call(echo: m.Echo) -> None:
    promise = echo.echo("hi")
    again = echo.getSelf().cap.echo(value="x")
    promise.cancel()
    again.release()


class EchoImpl(m.Echo.Server):
    def echo(self, value: str, **kwargs: object) -> str:
        return value
"""

USER_BAD = """
from __future__ import annotations

import alltypes_capnp as m

msg = m.AllTypes.new_message()
msg.int32Field = "not an int"
m.AllTypes.new_message(textField=5)
msg.nosuchField = 3
r = m.AllTypes.from_bytes(b"")
label: int = r.textField
msg.enumField = "purple"
"""


SHADOW = """
@0xd5e4a0c3b2f19a55;
struct S {
  int @0 :Int32;
  str @1 :Text;
  bytes @2 :Data;
  float @3 :Float64;
  property @4 :Bool;
  classmethod @5 :List(Int32);
}
const int :Int32 = 3;
"""

USER_SHADOW = """
import shadow_capnp as s

msg = s.S.new_message(int=1, str="x", bytes=b"", float=1.5, property=True)
n: int = msg.int + s.int
t: str = msg.str
msg.classmethod = [1, 2]
"""

EDGE_OTHER = """
@0xd5e4a0c3b2f19a61;
interface Base {
  release @0 () -> (cap :Base);
  runtime @1 (value :Text) -> Inner;
  struct Inner { cap @0 :Base; inner @1 :Inner; grp :group { c @2 :Base; } }
}
"""

EDGE_MAIN = """
@0xd5e4a0c3b2f19a62;
using Other = import "other.capnp";
interface Derived extends(Later, Other.Base) {
  foo @0 Other.Base.Inner -> Other.Base.Inner;
  const limit :UInt8 = 7;
}
interface Later {
  bar @0 () -> ();
}
struct S {
  value @0 :Int32;
  self @1 :Text;
  cls @2 :Int32;
  enum E { schema @0; return @1; ok @2; }
  e @3 :E;
  union { a @4 :Void; b @5 :Int32; }
  const k :Text = "k";
}
"""

USER_EDGE = """
from __future__ import annotations

import main_capnp as m


def use(d: m.Derived) -> int:
    promise = d.foo(inner={"grp": {}})
    pipelined: m.Derived = promise.inner.grp.c.cast_as(m.Derived)
    pipelined.bar()
    d.release().cap.runtime(value="x")  # methods named like Client's own attributes
    s = m.S.new_message(value=1, self="x", e="ok")
    s.cls = 3
    s.e = "return"
    which: str = s.which()
    return len(which) + m.Derived.limit + len(m.S.k)
"""


@pytest.fixture(scope="module")
def mypy_errors(generated: Path) -> dict[str, list[str]]:
    """One mypy run over every typing check here: its errors, by file."""
    (generated / "shadow.capnp").write_text(SHADOW)
    (generated / "other.capnp").write_text(EDGE_OTHER)
    (generated / "main.capnp").write_text(EDGE_MAIN)
    assert compile_main([str(generated / "shadow.capnp")]) == 0
    assert compile_main([str(generated / "main.capnp"), "--with-imports"]) == 0
    users = {"user_ok": USER_OK, "user_bad": USER_BAD, "user_shadow": USER_SHADOW}
    users["user_edge"] = USER_EDGE
    for name, text in users.items():
        (generated / f"{name}.py").write_text(text.lstrip())
    modules = ["alltypes", "features", "shadow", "main", "other"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--follow-imports=silent",  # capnrpc_core is checked on its own, not here
            "--config-file=",
            *[f"{name}.py" for name in users],
            *[f"{name}_capnp.py" for name in modules],
        ],
        cwd=generated,
        capture_output=True,
        text=True,
        env=_child_env(MYPYPATH=str(ROOT)),
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    errors: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        if ": error:" in line:
            errors.setdefault(line.split(":", 1)[0], []).append(line)
    return errors


def test_mypy_accepts_correct_use(mypy_errors: dict[str, list[str]]) -> None:
    assert set(mypy_errors) <= {"user_bad.py"}, mypy_errors


def test_mypy_rejects_type_errors(mypy_errors: dict[str, list[str]]) -> None:
    errors = mypy_errors.get("user_bad.py", [])
    expected = {
        6: 'expression has type "str", variable has type "int"',
        7: 'Argument "textField" to "new_message" of "AllTypes" has incompatible type "int"',
        8: 'has no attribute "nosuchField"',
        10: 'expression has type "str", variable has type "int"',
        11: "Literal['purple']",
    }
    assert len(errors) == len(expected), errors
    for line, text in expected.items():
        assert any(e.startswith(f"user_bad.py:{line}:") and text in e for e in errors), (
            f"no error at line {line} mentioning {text!r}: {errors}"
        )


def _declared_classes(tree: ast.Module) -> list[tuple[list[str], ast.ClassDef]]:
    """Every class under ``if TYPE_CHECKING:``, with its path of class names."""
    found: list[tuple[list[str], ast.ClassDef]] = []

    def walk(body: list[ast.stmt], path: list[str]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                found.append(([*path, stmt.name], stmt))
                walk(stmt.body, [*path, stmt.name])

    for stmt in tree.body:
        if isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "TYPE_CHECKING":
            walk(stmt.body, [])
    return found


@pytest.mark.parametrize("name", ["alltypes_capnp.py", "features_capnp.py"])
def test_declarations_name_what_exists_at_run_time(
    name: str, generated: Path, gen_alltypes: ModuleType, gen_features: ModuleType
) -> None:
    """Each public class, property and method declared for mypy exists on the runtime type."""
    module = gen_alltypes if name.startswith("alltypes") else gen_features
    checked = 0
    for path, cls in _declared_classes(ast.parse((generated / name).read_text())):
        if any(part.startswith("_") for part in path):
            continue  # namespaces and helpers that exist for the type checker only
        runtime: Any = module
        for part in path:
            runtime = getattr(runtime, part)
        for stmt in cls.body:
            member = None
            if isinstance(stmt, ast.FunctionDef):
                member = stmt.name
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                member = stmt.target.id
            if member is not None and not member.startswith("_"):
                assert hasattr(runtime, member), f"{'.'.join(path)}.{member}"
                checked += 1
    assert checked > 50


def test_builtin_names_are_not_shadowed(mypy_errors: dict[str, list[str]], generated: Path) -> None:
    """Fields named like the builtins the declarations use still type-check (and work)."""
    assert "shadow_capnp.py" not in mypy_errors and "user_shadow.py" not in mypy_errors
    module = _import(generated / "shadow_capnp.py", "gen_shadow_capnp")
    assert module.S.new_message(int=4).int == 4 and module.int == 3


def test_forward_bases_other_files_and_clashing_names(
    mypy_errors: dict[str, list[str]], generated: Path
) -> None:
    """Interfaces extending later or imported ones, names that clash with the bases'."""
    for name in ("main_capnp.py", "other_capnp.py", "user_edge.py"):
        assert name not in mypy_errors, mypy_errors[name]
    _ruff_clean(generated / "main_capnp.py", generated / "other_capnp.py")
    main = _import(generated / "main_capnp.py", "gen_main_capnp")
    assert [c.__name__ for c in main.Derived.__mro__[:3]] == ["Derived", "Later", "Base"]
    assert main.S.E.ok == 2 and main.S.k == "k" and main.Derived.limit == 7
    assert main.S.new_message(self="me").self == "me"


def _ruff_clean(*paths: Path) -> None:
    lint = ["--select", "E,F,W,I,B,UP,SIM,RUF", "--target-version", "py311"]
    for command in (["check", *lint], ["format", "--check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated", "--line-length", "100"]
            + [str(p) for p in paths],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_modules_are_ruff_clean(generated: Path) -> None:
    _ruff_clean(generated / "alltypes_capnp.py", generated / "features_capnp.py")


# -- the command line ---------------------------------------------------------------------------


def test_default_output_is_next_to_the_schema(tmp_path: Path) -> None:
    copy = tmp_path / "rpc-twoparty.capnp"
    shutil.copy(PYCAPNP_DIR / "rpc-twoparty.capnp", copy)
    assert capnrpc_main(["compile", str(copy)]) == 0
    assert (tmp_path / "rpc_twoparty_capnp.py").read_bytes() == (
        CHECKED_IN / "rpc_twoparty_capnp.py"
    ).read_bytes()


def test_with_imports_writes_a_module_per_imported_file(tmp_path: Path) -> None:
    for src in (ALLTYPES, FEATURES):
        shutil.copy(src, tmp_path / src.name)
    target = tmp_path / "out" / "feat_capnp.py"
    target.parent.mkdir()
    assert (
        compile_main([str(tmp_path / "features.capnp"), "--with-imports", "-o", str(target)]) == 1
    )
    assert compile_main([str(tmp_path / "features.capnp"), "--with-imports"]) == 0
    assert sorted(p.name for p in tmp_path.glob("*_capnp.py")) == [
        "alltypes_capnp.py",
        "features_capnp.py",
    ]
    # /capnp/stream.capnp is a standard file: not compiled again.
    assert imported_files(tmp_path / "features.capnp") == [tmp_path / "alltypes.capnp"]


def test_unchanged_output_is_not_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "a.py"
    assert compile_main([str(ALLTYPES), "-o", str(out)]) == 0
    os.utime(out, (1, 1))
    assert compile_main([str(ALLTYPES), "-o", str(out)]) == 0
    assert out.stat().st_mtime == 1


def test_missing_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.capnp"
    assert compile_main([str(missing)]) == 1
    err = capsys.readouterr().err
    assert err == f"capnrpc compile: error: no such schema file: {missing}\n"


def test_parse_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.capnp"
    bad.write_text("@0xd5e4a0c3b2f19a79;\nstruct X {\n  a @0 :Nope;\n}\n")
    assert compile_main([str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"capnrpc compile: error: {bad}:3: error: ")
    assert "Nope" in err
    assert not (tmp_path / "bad_capnp.py").exists()


def test_several_schemas_need_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert compile_main([str(ALLTYPES), str(FEATURES), "-o", "x.py"]) == 1
    assert "-o must be a directory" in capsys.readouterr().err


def test_console_entry_points_in_a_subprocess(tmp_path: Path) -> None:
    bad = tmp_path / "bad.capnp"
    bad.write_text("@0xd5e4a0c3b2f19a79;\nstruct X { a @0 :Int32 }\n")
    proc = subprocess.run(
        [sys.executable, "-m", "capnrpc_core", "compile", str(bad)],
        capture_output=True,
        text=True,
        env=_child_env(),
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"capnrpc compile: error: {bad}:2: error: Parse error")
    proc = subprocess.run(
        [sys.executable, "-m", "capnrpc_core"], capture_output=True, text=True, env=_child_env()
    )
    assert proc.returncode == 2 and "compile" in proc.stderr


def test_module_file_names() -> None:
    assert module_file_name("rpc-twoparty.capnp") == "rpc_twoparty_capnp.py"
    assert module_file_name("dir/c++.capnp") == "c___capnp.py"
    assert module_file_name("3d.capnp") == "_3d_capnp.py"
