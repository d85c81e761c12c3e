"""The ``capnrpc`` command (also ``python -m capnrpc_core``): one subcommand per tool.

- ``capnrpc compile SCHEMA...`` -- write typed ``*_capnp.py`` modules (:mod:`capnrpc_core.compile`).
- ``capnrpc demo`` -- a calculator server and client over loopback, showing the wire
  (:mod:`capnrpc_trio.demo`; needs trio).

A subcommand is a function that adds its options to an ``argparse`` subparser and sets
``run`` (a function of the parsed arguments returning the exit status) as a default.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _add_compile(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from capnrpc_core import compile as compile_command

    parser = subcommands.add_parser(
        "compile",
        help="compile .capnp schemas into typed modules",
        description="Compile .capnp schemas into typed capnrpc modules (<name>_capnp.py).",
    )
    compile_command.add_arguments(parser)
    parser.set_defaults(run=compile_command.run)


def _add_demo(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "demo",
        help="run a calculator server and client over loopback, showing the wire",
        description=(
            "Start a calculator server and a client in one process (trio, loopback TCP), run a "
            "short session, print every message the client sends and receives, and the round "
            "trips saved by promise pipelining."
        ),
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the results, not the messages"
    )
    parser.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    try:
        from capnrpc_trio import demo
    except ImportError as exc:
        print(f"capnrpc demo needs trio ({exc}): pip install 'capnrpc[trio]'", file=sys.stderr)
        return 1
    return demo.main(["--quiet"] if args.quiet else [])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``capnrpc`` command line ``argv``; the exit status."""
    parser = argparse.ArgumentParser(prog="capnrpc", description="capnrpc command-line tools.")
    subcommands = parser.add_subparsers(title="commands", dest="command", required=True)
    _add_compile(subcommands)
    _add_demo(subcommands)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
