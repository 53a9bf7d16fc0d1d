"""Torch-TensorRT's dry run of one engine: lowering, the converter registry and partitioning
with the build's own arguments, but no engine built (seconds, not minutes).

``torch_tensorrt.dynamo.compile(..., dryrun=True)`` returns the partitioned program: one
``_run_on_acc_N`` child per TensorRT graph and one ``_run_on_gpu_N`` child per part left to
PyTorch (a graph break). ``summarize_partition`` reads that module: how many operators, which
ones PyTorch would run and where they come from, and each TensorRT graph's input shapes
(min / opt / max, as Torch-TensorRT's ``construct_submodule_inputs`` derives its profiles).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.export import ExportedProgram

# (min shape, opt shape, max shape) of one input.
ShapeRange = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
# A TensorRT graph's inputs -> {input name: its range}.
DescribeInputs = Callable[[torch.fx.GraphModule], dict[str, ShapeRange]]

TENSORRT_GRAPH = "_run_on_acc"
TORCH_GRAPH = "_run_on_gpu"


@dataclass(frozen=True)
class FallbackNode:
    """One operator left to PyTorch, and the source line that made it."""

    operator: str
    source: str


@dataclass(frozen=True)
class DryRunReport:
    """What the dry run of one program found."""

    name: str
    precision: str
    operators: int = 0
    tensorrt_graphs: int = 0
    torch_graphs: int = 0
    fallback: tuple[FallbackNode, ...] = ()
    ranges: dict[str, ShapeRange] = field(default_factory=dict)
    error: str = ""

    @property
    def one_graph(self) -> bool:
        """The whole program is one TensorRT graph (no graph break, no error)."""
        return not self.error and self.tensorrt_graphs == 1 and self.torch_graphs == 0

    def lines(self) -> list[str]:
        """The report as the CLI prints it (first line: the verdict)."""
        if self.error:
            return [f"{self.name} ({self.precision}): the dry run failed: {self.error}"]
        verdict = "one TensorRT graph" if self.one_graph else "GRAPH BREAKS"
        lines = [
            f"{self.name} ({self.precision}): {verdict}: {self.operators} operators, "
            f"{self.tensorrt_graphs} TensorRT graph(s), {self.torch_graphs} PyTorch graph(s)"
        ]
        for input_name, (low, opt, high) in self.ranges.items():
            shapes = " / ".join("x".join(map(str, s)) or "scalar" for s in (low, opt, high))
            lines.append(f"    {input_name}: min / opt / max {shapes}")
        counts = Counter(node.operator for node in self.fallback)
        for operator, count in counts.items():
            lines.append(f"    left to PyTorch: {operator} x{count}")
            sources = sorted({n.source for n in self.fallback if n.operator == operator})
            lines += [f"        at {source}" for source in sources]
        return lines


def _source_line(node: torch.fx.Node) -> str:
    """The innermost project frame of a node's stack trace ('file:line code'), else its
    last frame."""
    frames = (node.meta.get("stack_trace") or "").strip().splitlines()
    # Frames come in pairs: '  File "path", line N, in function' then the code line.
    pairs = []
    for index, text in enumerate(frames):
        text = text.strip()
        if text.startswith("File "):
            code = frames[index + 1].strip() if index + 1 < len(frames) else ""
            where = text.removeprefix("File ").split(", in ")[0].replace('", line ', ":")
            pairs.append(f"{where.strip(chr(34))} {code}".strip())
    project = [p for p in pairs if "pymafx_ros" in p]
    return (project or pairs or ["(no stack trace)"])[-1]


def summarize_partition(
    name: str, precision: str, partitioned: torch.nn.Module, describe: DescribeInputs
) -> DryRunReport:
    """The report of a program's dry-run result (see the module doc)."""
    operators = tensorrt = torch_graphs = 0
    fallback: list[FallbackNode] = []
    ranges: dict[str, ShapeRange] = {}
    for child_name, child in partitioned.named_children():
        if not isinstance(child, torch.fx.GraphModule):
            continue
        nodes = [n for n in child.graph.nodes if n.op == "call_function"]
        operators += len(nodes)
        if child_name.startswith(TENSORRT_GRAPH):
            tensorrt += 1
            for input_name, shapes in describe(child).items():
                ranges[input_name if tensorrt == 1 else f"{child_name}.{input_name}"] = shapes
        elif child_name.startswith(TORCH_GRAPH):
            torch_graphs += 1
            fallback += [FallbackNode(_operator_name(n.target), _source_line(n)) for n in nodes]
    return DryRunReport(
        name, precision, operators, tensorrt, torch_graphs, tuple(fallback), ranges
    )


def _operator_name(target: Any) -> str:
    """``aten.gather.default`` for an ATen operator, else the callable's name."""
    if isinstance(target, torch._ops.OpOverload):
        return str(target)
    return getattr(target, "__name__", str(target))


def tensorrt_input_ranges(graph: torch.fx.GraphModule) -> dict[str, ShapeRange]:
    """A TensorRT graph's input shapes as Torch-TensorRT builds its profile (needs it)."""
    from torch_tensorrt.dynamo.partitioning import construct_submodule_inputs

    ranges = {}
    for spec in construct_submodule_inputs(graph):
        shape = spec.shape
        if isinstance(shape, dict):  # a dynamic input: min / opt / max
            low, opt, high = (tuple(shape[k]) for k in ("min_shape", "opt_shape", "max_shape"))
        else:
            low = opt = high = tuple(shape)
        ranges[str(spec.name)] = (low, opt, high)
    return ranges


def dry_run(
    compile_call: Callable[..., Any],
    name: str,
    precision: str,
    program: ExportedProgram,
    describe: DescribeInputs = tensorrt_input_ranges,
) -> DryRunReport:
    """Run ``compile_call(program, dryrun=True)`` (the build's own compile with its arguments)
    and summarise the partition; an exception becomes the report's ``error``."""
    try:
        partitioned = compile_call(program, dryrun=True)
    except Exception as error:  # the failure is the finding: report it, go on with the rest
        return DryRunReport(name, precision, error=f"{type(error).__name__}: {error}")
    return summarize_partition(name, precision, partitioned, describe)


def all_one_graph(reports: Sequence[DryRunReport]) -> bool:
    """Every program became one TensorRT graph."""
    return bool(reports) and all(report.one_graph for report in reports)
