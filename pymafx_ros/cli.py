"""The ``pymafx-ros`` command: one entry point on the top floor, one subcommand per tool."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.bags import commands as bag_commands
from pymafx_ros.tools import build_engines, calibrate, check, process


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pymafx-ros",
        description="PyMAF-X full-body SMPL-X capture: offline tools and checks.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO messages too")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    process.add_parser(subparsers)
    check.add_parser(subparsers)
    build_engines.add_parser(subparsers)
    calibrate.add_parser(subparsers)
    bag_commands.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the subcommand, return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Which backend runs, and a first start's program builds (minutes), are always shown.
    logging.getLogger("pymafx_ros.backends").setLevel(logging.INFO)
    try:
        return args.run(args)
    except (process.InputError, ValueError, FileNotFoundError, BackendUnavailableError) as error:
        print(f"pymafx-ros {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
