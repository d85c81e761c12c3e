"""Fixtures for the schema tests: our modules and pycapnp's for the same schema files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import capnp
import pytest

import capnrpc_core.schema as schema

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
PYCAPNP_DIR = Path(os.path.dirname(capnp.__file__))
SITE_PACKAGES = str(PYCAPNP_DIR.parent)
ALLTYPES = SCHEMAS / "alltypes.capnp"


def pycapnp_load(path: Path | str) -> Any:
    """Load a schema with pycapnp (the oracle)."""
    return capnp.load(str(path), imports=[SITE_PACKAGES])


@pytest.fixture(scope="session")
def ours() -> schema.SchemaModule:
    """alltypes.capnp loaded by capnrpc."""
    return schema.load(ALLTYPES)


@pytest.fixture(scope="session")
def theirs() -> Any:
    """alltypes.capnp loaded by pycapnp."""
    return pycapnp_load(ALLTYPES)


@pytest.fixture(scope="session")
def rpc_ours() -> schema.SchemaModule:
    """pycapnp's rpc.capnp loaded by capnrpc."""
    return schema.load(PYCAPNP_DIR / "rpc.capnp")


@pytest.fixture(scope="session")
def rpc_theirs() -> Any:
    """pycapnp's rpc.capnp loaded by pycapnp."""
    return pycapnp_load(PYCAPNP_DIR / "rpc.capnp")
