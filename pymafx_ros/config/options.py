"""The option machinery: what one option says about itself, and the one check of its value.

An option is a dataclass field made with :func:`option` (its default, one-line description and
choices, range, pattern or path kind in the field's metadata); a field made with :func:`nested`
holds another options dataclass whose option names get a prefix. Every name is the node's
parameter name (``tracking.min_iou``), so an error reads the same from the node, the CLI and
the Python API.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from re import Pattern
from typing import Any, TypeVar

T = TypeVar("T")

_TYPE_NAMES = {bool: "bool", int: "integer", float: "double", str: "string"}
# The existence check of each path kind, in words for the messages.
_PATH_KINDS = {"dir": "directory", "file": "file"}


class ConfigError(ValueError):
    """An option value that cannot be used; the message names the option, the value and what
    is accepted."""


@dataclass(frozen=True)
class Option:
    """What an option accepts besides its type (that of its default)."""

    description: str
    choices: tuple[str, ...] = ()
    node_choices: tuple[str, ...] = ()  # the node's narrower choices (default: ``choices``)
    low: float | None = None
    high: float | None = None
    pattern: Pattern[str] | None = None
    rule: str = ""  # the pattern in words, for messages
    accepts: str = ""  # the pattern in a few words, for the parameter table
    must_exist: str = ""  # "dir" or "file": '' / None = none, else it must exist
    hint: str = ""  # what to do about a missing path
    name: str = ""  # full name when it is not prefix + field name
    node: bool = True  # declared as a node parameter (False: Python API / CLI only)


@dataclass(frozen=True)
class OptionSpec:
    """One option of a config tree: full name, attribute path, what it accepts, its value."""

    name: str
    path: tuple[str, ...]
    option: Option
    value: Any
    kind: type  # the option's type: that of the field's default
    label: str = ""  # what the enclosing group is about, e.g. "finger rotations (rad/s)"

    @property
    def description(self) -> str:
        """The one-line description, led by the group's label."""
        text = self.option.description
        return f"{self.label}: {text}" if self.label else text

    @property
    def type_name(self) -> str:
        """The parameter type: bool, integer, double or string."""
        return "string" if self.option.must_exist else _TYPE_NAMES[self.kind]

    @property
    def parameter_default(self) -> Any:
        """The default as a node parameter (a path option's None is '')."""
        return "" if self.value is None else self.value


def option(default: Any, description: str, **accepts: Any) -> Any:
    """A dataclass field that is an option (``accepts``: the fields of :class:`Option`)."""
    return dataclasses.field(default=default, metadata={"option": Option(description, **accepts)})


def nested(factory: Callable[[], T], prefix: str, label: str = "") -> T:
    """A dataclass field holding an options dataclass whose names get ``prefix`` (after the
    enclosing one's) and whose descriptions start with ``label``."""
    return dataclasses.field(default_factory=factory, metadata={"prefix": prefix, "label": label})


def walk(
    config: Any, prefix: str | None = None, path: tuple[str, ...] = (), label: str = ""
) -> Iterator[OptionSpec]:
    """Every option of ``config`` (an options dataclass instance), in field order.

    ``prefix`` None: the class's own ``PREFIX`` (so ``TrackerConfig().validate()`` names
    ``tracking.min_iou`` as the node does)."""
    if prefix is None:
        prefix = getattr(config, "PREFIX", "")
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        where = (*path, field.name)
        if "prefix" in field.metadata:
            inner_label = field.metadata["label"] or label
            yield from walk(value, prefix + field.metadata["prefix"], where, inner_label)
        elif "option" in field.metadata:
            opt: Option = field.metadata["option"]
            name = opt.name or prefix + field.name
            yield OptionSpec(name, where, opt, value, type(field.default), label)


def check(spec: OptionSpec, value: Any, node: bool = False) -> None:
    """Raise ConfigError unless ``value`` is acceptable for ``spec`` (``node``: the node's
    narrower choices)."""
    opt, name = spec.option, spec.name
    if opt.must_exist:
        _check_path(name, opt, value)
        return
    _check_type(name, spec.kind, value)
    choices = (opt.node_choices or opt.choices) if node else opt.choices
    if choices and value not in choices:
        raise ConfigError(f"'{name}' is {value!r}; choose one of {', '.join(choices)}")
    if opt.low is not None and not opt.low <= value <= opt.high:
        raise ConfigError(f"'{name}' is {value!r}; allowed [{opt.low}, {opt.high}]")
    if opt.pattern is not None and not opt.pattern.match(value):
        raise ConfigError(f"'{name}' is {value!r}; {opt.rule}")


def _check_type(name: str, kind: type, value: Any) -> None:
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float:  # an integer is a fine float in Python (not in a ROS parameter file)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"'{name}' is {value!r}; it must be of type {_TYPE_NAMES[kind]}")


def _check_path(name: str, opt: Option, value: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str | Path):
        raise ConfigError(f"'{name}' is {value!r}; it must be a path or ''")
    path = os.path.expanduser(str(value))
    exists = os.path.isdir(path) if opt.must_exist == "dir" else os.path.isfile(path)
    if not exists:
        raise ConfigError(
            f"'{name}' is {path!r}, which is not a {_PATH_KINDS[opt.must_exist]}; {opt.hint}"
        )


def validate(config: Any, node: bool = False, prefix: str | None = None) -> None:
    """Check every option of ``config``; raise ConfigError naming the first bad one."""
    for spec in walk(config, prefix):
        check(spec, spec.value, node)


def find(config: Any, name: str) -> OptionSpec:
    """The option called ``name`` in ``config``'s tree (KeyError when there is none)."""
    for spec in walk(config):
        if spec.name == name:
            return spec
    raise KeyError(name)


def check_value(config_type: type, name: str, value: Any) -> None:
    """Check one value against option ``name`` of ``config_type`` (for functions that take an
    option's value directly, so they refuse what the config refuses, with its message)."""
    check(find(config_type(), name), value)


def parameter_defaults(config: Any) -> dict[str, Any]:
    """Node parameter name -> default, for the options of ``config`` the node declares."""
    return {s.name: s.parameter_default for s in walk(config) if s.option.node}


def with_values(config: T, values: Mapping[str, Any]) -> T:
    """A copy of ``config`` with options set by name (path options: '' -> None, '~' expanded);
    unknown names raise ConfigError. Nothing is validated here."""
    unknown = set(values) - {s.name for s in walk(config)}
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(sorted(unknown))}")
    return _replace(config, values, getattr(config, "PREFIX", ""))


def _replace(config: T, values: Mapping[str, Any], prefix: str) -> T:
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        if "prefix" in field.metadata:
            inner = getattr(config, field.name)
            changes[field.name] = _replace(inner, values, prefix + field.metadata["prefix"])
        elif "option" in field.metadata:
            opt: Option = field.metadata["option"]
            name = opt.name or prefix + field.name
            if name in values:
                value = values[name]
                if opt.must_exist and isinstance(value, str):
                    value = os.path.expanduser(value) if value else None
                changes[field.name] = value
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]
