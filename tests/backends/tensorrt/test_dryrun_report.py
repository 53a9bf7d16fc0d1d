"""``build-engines --dry-run``'s report, read from a partitioned module as Torch-TensorRT's dry
run returns it (TensorRT graphs ``_run_on_acc_N``, PyTorch graphs ``_run_on_gpu_N``), without
Torch-TensorRT: the operators, the graph breaks with their source lines, the shape ranges."""

from __future__ import annotations

import torch
from torch import nn

from pymafx_ros.backends.tensorrt.dryrun import (
    DryRunReport,
    all_one_graph,
    dry_run,
    summarize_partition,
)

TRACE = (
    '  File "/src/pymafx_ros/model/pymafx_net.py", line 300, in refine\n'
    "    final = self.body_models(...)\n"
    '  File "/src/pymafx_ros/body_models/skinned_body.py", line 108, in _landmarks\n'
    "    corners = torch.gather(vertices, 1, flat)\n"
    '  File "/venv/torch/nn/modules/module.py", line 1775, in _call_impl\n'
    "    return forward_call(*args, **kwargs)\n"
)


class _Converted(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * 2


class _LeftToPyTorch(nn.Module):
    def forward(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten.gather.default(x, 1, index)


def _partitioned(*children: tuple[str, nn.Module]) -> nn.Module:
    parent = nn.Module()
    for name, module in children:
        graph = torch.fx.symbolic_trace(module)
        for node in graph.graph.nodes:
            if node.op == "call_function":
                node.meta["stack_trace"] = TRACE
        parent.add_module(name, graph)
    return parent


def _ranges(graph: torch.fx.GraphModule) -> dict:
    names = [n.name for n in graph.graph.nodes if n.op == "placeholder"]
    return {name: ((1, 3), (1, 3), (6, 3)) for name in names}


def test_one_tensorrt_graph_is_reported_with_its_ranges():
    report = summarize_partition(
        "face_encoder", "fp16", _partitioned(("_run_on_acc_0", _Converted())), _ranges
    )
    assert report.one_graph and all_one_graph([report])
    assert (report.operators, report.tensorrt_graphs, report.torch_graphs) == (2, 1, 0)
    assert report.ranges == {"x": ((1, 3), (1, 3), (6, 3))}
    lines = report.lines()
    assert lines[0].startswith("face_encoder (fp16): one TensorRT graph: 2 operators")
    assert lines[1] == "    x: min / opt / max 1x3 / 1x3 / 6x3"


def test_a_graph_break_names_the_operator_and_its_source_line():
    partitioned = _partitioned(
        ("_run_on_acc_0", _Converted()),
        ("_run_on_gpu_1", _LeftToPyTorch()),
        ("_run_on_acc_2", _Converted()),
    )
    report = summarize_partition("head_joints", "fp32", partitioned, _ranges)
    assert not report.one_graph and not all_one_graph([report])
    assert (report.tensorrt_graphs, report.torch_graphs, report.operators) == (2, 1, 5)
    assert [node.operator for node in report.fallback] == ["aten.gather.default"]
    # The innermost frame of the project, not torch's own.
    where = (
        "/src/pymafx_ros/body_models/skinned_body.py:108 corners = torch.gather(vertices, 1, flat)"
    )
    assert report.fallback[0].source == where
    text = "\n".join(report.lines())
    assert "GRAPH BREAKS" in text and "left to PyTorch: aten.gather.default x1" in text
    assert f"at {where}" in text
    assert "_run_on_acc_2.x" in report.ranges  # the second TensorRT graph's inputs


def test_a_failing_compile_call_is_a_report_not_a_crash():
    def compile_call(program, **settings):
        assert settings == {"dryrun": True}
        raise TypeError("device() received an invalid combination of arguments - got (NoneType)")

    report = dry_run(compile_call, "body_encoder", "fp16", program=None)
    assert not report.one_graph and report.error.startswith("TypeError: device()")
    assert report.lines() == [f"body_encoder (fp16): the dry run failed: {report.error}"]
    assert not all_one_graph([]) and not all_one_graph([report, DryRunReport("x", "fp32")])
