"""The README's parameter table, generated from the options (a test keeps the README equal)."""

from __future__ import annotations

from typing import Any

from pymafx_ros.config.node import NodeConfig
from pymafx_ros.config.options import OptionSpec, walk

HEADER = ("| Parameter | Default | Range / choices | Meaning |", "|---|---|---|---|")
_PATH_TEXT = {"dir": "existing directory", "file": "existing file"}


def _number(value: float) -> str:
    if isinstance(value, int) and value > 2**16 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"  # 2^30 reads better than 1073741824
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return '`""`' if value == "" else f"`{value}`"


def accepted(spec: OptionSpec) -> str:
    """What the option accepts, in the table's words ('' for any bool or string)."""
    opt = spec.option
    choices = opt.node_choices or opt.choices
    if choices:
        return ", ".join(f"`{c}`" for c in choices)
    if opt.low is not None:
        return f"{_number(opt.low)} – {_number(opt.high)}"
    return _PATH_TEXT.get(opt.must_exist, opt.accepts)


def parameter_table() -> str:
    """The markdown table of every node parameter: name, default, range/choices, meaning."""
    rows = [
        f"| `{s.name}` | {_default(s.parameter_default)} | {accepted(s)} | {s.description} |"
        for s in walk(NodeConfig())
        if s.option.node
    ]
    return "\n".join((*HEADER, *rows)) + "\n"
