"""Evaluate a ROS 2 Python launch file without the `launch` packages (not installable here).

Tiny recording stand-ins for the launch API subset our launch file uses are put in
``sys.modules``; ``generate_launch_description()`` is called and its arguments, substitutions
and conditions are evaluated into plain ``NodeSpec`` records, which ``ros_args`` turns into the
command line `ros2 launch` would run. Anything outside the subset raises, so the test fails
loudly instead of silently checking less.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

STUBBED = (
    "launch",
    "launch.actions",
    "launch.conditions",
    "launch.substitutions",
    "launch_ros",
    "launch_ros.actions",
    "launch_ros.substitutions",
)


@dataclass
class NodeSpec:
    package: str
    executable: str
    name: str
    namespace: str
    parameters: list[Any] = field(default_factory=list)  # file paths or dicts
    remappings: list[tuple[str, str]] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)


class _Substitution:
    def __init__(self, evaluate) -> None:
        self.evaluate = evaluate


def _text(value: Any, context: dict[str, Any]) -> str:
    """A launch 'SomeSubstitutionsType': str, substitution, or a list of them (concatenated)."""
    if isinstance(value, _Substitution):
        return _text(value.evaluate(context), context)
    if isinstance(value, (list, tuple)):
        return "".join(_text(v, context) for v in value)
    if isinstance(value, str):
        return value
    raise NotImplementedError(f"launch stub: unsupported substitution {value!r}")


def _install(package_shares: dict[str, Path]) -> dict[str, type]:
    modules = {name: types.ModuleType(name) for name in STUBBED}

    class LaunchDescription(list):
        def __init__(self, entities=()) -> None:
            super().__init__(entities)

    class DeclareLaunchArgument:
        def __init__(self, name, default_value=None, description="", **extra) -> None:
            if extra:
                raise NotImplementedError(f"launch stub: DeclareLaunchArgument {sorted(extra)}")
            self.name, self.default_value, self.description = name, default_value, description

    class IfCondition:
        def __init__(self, predicate) -> None:
            self.predicate = predicate

        def holds(self, context) -> bool:
            value = _text(self.predicate, context).strip().lower()
            if value not in ("true", "false", "1", "0"):
                raise ValueError(f"IfCondition needs true/false, got {value!r}")
            return value in ("true", "1")

    class Node:
        KNOWN: ClassVar[set[str]] = {
            "package", "executable", "name", "namespace", "parameters", "remappings",
            "arguments", "condition", "output", "emulate_tty",
        }  # fmt: skip

        def __init__(self, **kwargs) -> None:
            unknown = set(kwargs) - self.KNOWN
            if unknown:
                raise NotImplementedError(f"launch stub: Node {sorted(unknown)}")
            self.kwargs = kwargs

    def path_join(parts):
        return _Substitution(lambda c: str(Path(*[_text(p, c) for p in parts])))

    def find_package_share(package):
        return _Substitution(lambda c: str(package_shares[package]))

    def launch_configuration(name, default=None):
        return _Substitution(lambda c: c.get(name, default))

    modules["launch"].LaunchDescription = LaunchDescription
    modules["launch.actions"].DeclareLaunchArgument = DeclareLaunchArgument
    modules["launch.conditions"].IfCondition = IfCondition
    modules["launch.substitutions"].LaunchConfiguration = launch_configuration
    modules["launch.substitutions"].PathJoinSubstitution = path_join
    modules["launch_ros.actions"].Node = Node
    modules["launch_ros.substitutions"].FindPackageShare = find_package_share
    sys.modules.update(modules)
    return {"Declare": DeclareLaunchArgument, "Node": Node}


def load_launch_file(
    path: Path, package_shares: dict[str, Path], **arguments: str
) -> tuple[dict[str, Any], list[NodeSpec]]:
    """Run ``generate_launch_description`` with ``arguments``; returns the declared arguments
    (name -> DeclareLaunchArgument) and the nodes whose conditions hold, fully evaluated."""
    saved = {name: sys.modules.get(name) for name in STUBBED}
    try:
        kinds = _install(package_shares)
        spec = importlib.util.spec_from_file_location("launch_file_under_test", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    declared = {e.name: e for e in description if isinstance(e, kinds["Declare"])}
    unknown = set(arguments) - set(declared)
    if unknown:
        raise KeyError(f"launch file has no argument(s) {sorted(unknown)}")
    context: dict[str, Any] = {}
    for name, declaration in declared.items():
        context[name] = arguments.get(name, declaration.default_value)
    context = {name: _text(value, context) for name, value in context.items()}
    nodes = []
    for entity in description:
        if isinstance(entity, kinds["Declare"]):
            continue
        if not isinstance(entity, kinds["Node"]):
            raise NotImplementedError(f"launch stub: {type(entity).__name__}")
        kw = entity.kwargs
        condition = kw.get("condition")
        if condition is not None and not condition.holds(context):
            continue
        nodes.append(
            NodeSpec(
                package=kw["package"],
                executable=kw["executable"],
                name=_text(kw.get("name", ""), context),
                namespace=_text(kw.get("namespace", ""), context),
                parameters=[
                    {k: _text(v, context) for k, v in p.items()}
                    if isinstance(p, dict)
                    else _text(p, context)
                    for p in kw.get("parameters", [])
                ],
                remappings=[
                    (_text(a, context), _text(b, context)) for a, b in kw.get("remappings", [])
                ],
                arguments=[_text(a, context) for a in kw.get("arguments", [])],
            )
        )
    return declared, nodes


def ros_args(spec: NodeSpec) -> list[str]:
    """The `--ros-args` part of the command `ros2 launch` runs for ``spec``."""
    args: list[str] = []
    if spec.name:
        args += ["-r", f"__node:={spec.name}"]
    if spec.namespace:
        args += ["-r", f"__ns:=/{spec.namespace.strip('/')}"]
    for parameters in spec.parameters:
        if isinstance(parameters, dict):
            args += [a for k, v in parameters.items() for a in ("-p", f"{k}:={v}")]
        else:
            args += ["--params-file", parameters]
    for source, target in spec.remappings:
        args += ["-r", f"{source}:={target}"]
    return args
