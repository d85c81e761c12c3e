"""The calculator: ``capnrpc demo``, the examples, and their generated schema modules."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import capnrpc_trio
from capnrpc_trio import demo
from tests.trio.conftest import deadline

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "calculator"


async def test_demo_session_shows_the_wire_and_the_savings() -> None:
    out = io.StringIO()
    with deadline():
        assert await demo.run(out) == 0
    text = out.getvalue()
    for result in ("= 123 ", "= 168 ", "= 70 ", "= 409 ", "= 1024 "):
        assert result in text
    lines = text.splitlines()
    first = lines.index("1. evaluate a literal and read the result: 123")
    step1 = lines[first + 1 : first + 4]
    # Bootstrap, evaluate and read all went out before any answer came back.
    assert step1 == [
        "    client -> Bootstrap #0",
        "    client -> Call #1 Calculator.evaluate -> answer #0",
        "    client -> Call #2 Value.read -> answer #1[0]",
    ]
    assert "2 round trips saved by pipelining" in text
    assert "the server called back the client's function" in text
    assert text.rstrip().endswith("would have taken 16.")


def test_demo_command_needs_neither_pycapnp_nor_a_schema_parser() -> None:
    code = (
        "import sys\n"
        "sys.modules['capnp'] = None  # any attempt to import pycapnp fails\n"
        "from capnrpc_core.__main__ import main\n"
        "sys.exit(main(['demo', '--quiet']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "= 1024" in proc.stdout and "client ->" not in proc.stdout
    assert "capnp" not in proc.stderr


@pytest.fixture
def examples() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(EXAMPLE))
    try:
        modules = []
        for name in ("server", "client"):
            spec = importlib.util.spec_from_file_location(
                f"calculator_{name}", EXAMPLE / f"{name}.py"
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules.append(module)
        yield modules[0], modules[1]
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("calculator_capnp", None)


async def test_example_server_and_client(
    examples: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    server, client = examples
    with deadline():
        async with capnrpc_trio.serve("tcp://127.0.0.1:0", server.CalculatorImpl()) as listener:
            await client.main(listener.address)
    assert capsys.readouterr().out.splitlines() == [
        "123 = 123.0",
        "123 + 45 = 168.0",
        "(4 + 6) * 7 = 70.0",
        "f(12, 34) = 409.0",
        "2 ** 10 = 1024.0",
    ]


def test_generated_calculator_modules_are_current(tmp_path: Path) -> None:
    from capnrpc_core.compile import compile_schema

    fresh = compile_schema(EXAMPLE / "calculator.capnp", tmp_path / "calculator_capnp.py")
    expected = fresh.read_text()
    assert (EXAMPLE / "calculator_capnp.py").read_text() == expected
    packaged = Path(demo.__file__).with_name("calculator_capnp.py")
    assert packaged.read_text() == expected
