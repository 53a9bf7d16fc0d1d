"""``python -m pymafx_ros.config --markdown``: print the README's parameter table."""

from __future__ import annotations

import argparse

from pymafx_ros.config.markdown import parameter_table


def main(argv: list[str] | None = None) -> int:
    """Print the parameter table (the only output this module has)."""
    parser = argparse.ArgumentParser(prog="python -m pymafx_ros.config", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="the README parameter table")
    parser.parse_args(argv)
    print(parameter_table(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
