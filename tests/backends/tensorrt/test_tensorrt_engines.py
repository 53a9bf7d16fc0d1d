"""What the TensorRT compile step gets, without a GPU: the input profiles, the typed fp16
encoder programs, the engines' cache keys (one component changed -> another engine), the build
command, and the compile step's own report of what a machine lacks."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import types

import pytest
import torch
from engine_doubles import PlainPrograms

from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.export.programs import (
    HEAD_INPUTS,
    export_encoder,
    input_ranges,
    keep_size_one_dynamic,
)
from pymafx_ros.backends.export.source import ProgramSource
from pymafx_ros.backends.export.typed_programs import typed_encoder_program
from pymafx_ros.backends.tensorrt.compiler import TorchTensorRTCompiler
from pymafx_ros.backends.tensorrt.input_shapes import engine_profiles, program_precision
from pymafx_ros.backends.tensorrt.options import EngineOptions, build_command
from pymafx_ros.backends.tensorrt.store import ENGINE_FILE, EngineStore, engine_key
from pymafx_ros.backends.tensorrt_backend import no_hand_inputs


def test_profiles_cover_one_to_max_people_and_twice_as_many_hands():
    (body,) = engine_profiles("body_encoder", 3)
    assert (body.min, body.opt, body.max) == ((1, 3, 224, 224), (1, 3, 224, 224), (3, 3, 224, 224))
    (hand,) = engine_profiles("hand_encoder", 3)
    assert (hand.min[0], hand.opt[0], hand.max[0]) == (1, 2, 6)
    head = {p.name: p for p in engine_profiles("head_joints", 3)}
    assert tuple(head) == HEAD_INPUTS
    assert (head["body_map2"].min, head["body_map2"].max) == ((1, 48, 56, 56), (3, 48, 56, 56))
    # TensorRT clamps a 0 minimum to 1: no visible hand is one empty row (no_hand_inputs).
    assert (head["hand_map0"].min[0], head["hand_map0"].max[0]) == (1, 6)
    assert head["hand_rows"].dtype == "int64" and head["hand_rows"].max == (3, 2)
    assert head["predict_visibility"].min == () and head["predict_visibility"].dtype == "bool"
    assert head["run_face"].dtype == "bool" and head["run_face"].max == (3,)  # per person
    with pytest.raises(ValueError, match=r"max_people must lie in \[1, 64\]"):
        engine_profiles("face_encoder", 0)
    with pytest.raises(ValueError, match="no program"):
        engine_profiles("tail_encoder", 1)


def test_encoders_follow_the_precision_the_head_is_always_fp32():
    assert program_precision("body_encoder", "fp16") == "fp16"
    assert program_precision("head_mesh", "fp16") == "fp32"
    with pytest.raises(ValueError, match="fp16 or fp32"):
        program_precision("body_encoder", "bf16")


def test_no_hand_inputs_point_every_hand_past_one_empty_row():
    rows = torch.full((2, 2), 0, dtype=torch.long)  # select_hands with nothing to run
    maps, padded = no_hand_inputs(rows)
    assert [tuple(m.shape) for m in maps] == [(1, 256, 14, 14), (1, 256, 28, 28), (1, 256, 56, 56)]
    assert padded.tolist() == [[1, 1], [1, 1]]  # index 1 = "not run" with one row


def test_fp16_encoder_program_is_typed_fp16_inside_and_fp32_at_its_boundary(seeded_model):
    program = export_encoder(seeded_model, "hand")
    typed = typed_encoder_program(program, "fp16")
    convolutions = [
        node.meta["val"].dtype
        for node in typed.graph.nodes
        if node.op == "call_function" and "conv" in str(node.target)
    ]
    assert convolutions and set(convolutions) == {torch.float16}
    crops = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = program.module()(crops)
        got = typed.module()(crops)
        again = program.module()(crops)
    for fp16, fp32, unchanged in zip(got, want, again, strict=True):
        assert fp16.dtype == torch.float32
        scale = fp32.abs().max()
        assert (fp16 - fp32).abs().max() <= 1e-2 * scale  # fp16 rounding, not another network
        torch.testing.assert_close(unchanged, fp32, atol=0, rtol=0)  # the source kept fp32
    assert typed_encoder_program(program, "fp32") is program


IDENTITY = {
    "gpu": "NVIDIA H100 80GB HBM3",
    "compute_capability": "sm_90",
    "torch": "2.13.0",
    "torch_tensorrt": "2.13.0",
    "tensorrt": "11.0.0.114",
}
MODEL = {"weights": "0123456789abcdef", "code": "fedcba9876543210", "onnx": "1.19"}


def _folder(name="body_encoder", precision="fp16", max_people=1, model=MODEL, **identity):
    profiles = engine_profiles(name, max_people)
    return engine_key(name, precision, profiles, model, {**IDENTITY, **identity}).folder_name


@pytest.mark.parametrize(
    "change",
    [
        {"gpu": "NVIDIA GeForce RTX 4090"},
        {"compute_capability": "sm_89"},
        {"torch": "2.14.0"},
        {"torch_tensorrt": "2.14.0"},
        {"tensorrt": "11.4.0.106"},
        {"precision": "fp32"},
        {"max_people": 2},
        {"model": {**MODEL, "weights": "1111111111111111"}},
        {"model": {**MODEL, "code": "2222222222222222"}},
        {"name": "face_encoder"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_each_key_component_makes_another_engine(change):
    assert _folder(**change) != _folder()


def test_the_head_engine_is_shared_by_both_precisions_and_ignores_onnx():
    assert _folder("head_joints", "fp16") == _folder("head_joints", "fp32")
    assert _folder(model={**MODEL, "onnx": "9.9"}) == _folder()
    key = engine_key("head_mesh", "fp16", engine_profiles("head_mesh", 1), MODEL, IDENTITY)
    assert key.kind == "tensorrt" and key.precision == "fp32"
    assert "hand_map0:1x256x14x14/2x256x14x14/2x256x14x14:float32" in key.inputs["profiles"]


def test_build_command_names_everything_the_engines_depend_on(monkeypatch):
    monkeypatch.delenv("PYMAFX_CACHE_DIR", raising=False)
    assert build_command(EngineOptions(), "fp16") == (
        "pymafx-ros build-engines --precision fp16 --max-people 1"
    )
    options = EngineOptions(3, data_dir="/models/data", checkpoint="/models/my ckpt.pt")
    monkeypatch.setenv("PYMAFX_CACHE_DIR", "/var/cache/pymafx")
    assert build_command(options, "fp32", "cuda:1") == (
        "PYMAFX_CACHE_DIR=/var/cache/pymafx pymafx-ros build-engines --precision fp32 "
        "--max-people 3 --device cuda:1 --data /models/data --checkpoint '/models/my ckpt.pt'"
    )
    with pytest.raises(ValueError, match="max_people must be >= 1"):
        dataclasses.replace(options, max_people=0)


def test_the_compile_step_names_what_a_machine_lacks(monkeypatch):
    compiler = TorchTensorRTCompiler()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch_tensorrt" else real_find_spec(name, *a),
    )
    problems = compiler.missing(torch.device("cuda"))
    assert [p.split(":")[0] for p in problems] == ["CUDA", "torch_tensorrt"]
    assert "torch.cuda.is_available() is False" in problems[0]
    assert "pip install -r requirements/gpu.txt" in problems[1]
    assert "not cpu" in compiler.missing(torch.device("cpu"))[0]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert [p.split(":")[0] for p in compiler.missing(torch.device("cuda:0"))] == [
        "torch_tensorrt"
    ]


def _size_oblivious() -> bool:
    from torch.fx.experimental import _config

    return bool(_config.backed_size_oblivious)


def _fake_torch_tensorrt(monkeypatch) -> list[dict]:
    """A torch_tensorrt stand-in that records the keyword arguments of each compile call."""
    calls: list[dict] = []
    module = types.ModuleType("torch_tensorrt")
    module.Input = lambda **spec: spec
    # Records too whether the call runs with size-1 batches kept dynamic (see below).
    module.dynamo = types.SimpleNamespace(
        compile=lambda program, **kw: calls.append({**kw, "oblivious": _size_oblivious()})
    )
    monkeypatch.setitem(sys.modules, "torch_tensorrt", module)
    return calls


def test_the_compile_call_names_the_gpu_by_index(monkeypatch):
    """Torch-TensorRT turns an index-less cuda device into Device(gpu_id=None), which its own
    to_torch_device rejects before converting anything: the device goes with its index."""
    calls = _fake_torch_tensorrt(monkeypatch)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    compiler = TorchTensorRTCompiler()
    profiles = engine_profiles("face_encoder", 2)
    compiler.compile(object(), profiles, "fp16", torch.device("cuda"))
    assert calls[0]["device"] == torch.device("cuda:1")  # the current device, by its index
    compiler.compile(object(), profiles, "fp16", torch.device("cuda:0"), dryrun=True)
    assert calls[1]["device"] == torch.device("cuda:0")
    assert all(call["disable_tf32"] and call["truncate_double"] for call in calls)
    assert calls[1]["dryrun"] is True and "dryrun" not in calls[0]
    # A face engine tuned for 1 face of up to 2 compiles with size 1 kept dynamic, the head
    # (tuned for 2 people) as it is.
    assert calls[0]["oblivious"] and not _size_oblivious()
    compiler.compile(object(), engine_profiles("head_mesh", 2), "fp32", torch.device("cuda"))
    assert not calls[2]["oblivious"]
    (image,) = calls[0]["arg_inputs"]
    assert (image["min_shape"], image["opt_shape"], image["max_shape"]) == (
        (1, 3, 224, 224),
        (1, 3, 224, 224),
        (2, 3, 224, 224),
    )


def _batch_range(program) -> tuple[int, int, int]:
    """(min, opt, max) of a program's first input's batch as Torch-TensorRT reads it: the
    range's bounds and the example's size."""
    (name,) = program.graph_signature.user_inputs
    node = next(n for n in program.graph.nodes if n.name == name)
    size = node.meta["val"].shape[0]
    if isinstance(size, int):
        return size, size, size
    bounds = program.range_constraints[size.node.expr]
    return int(bounds.lower), size.node.hint, int(bounds.upper)


@pytest.mark.parametrize(
    ("name", "precision", "max_people", "expected"),
    [("face_encoder", "fp16", 2, (1, 1, 2)), ("hand_encoder", "fp32", 3, (1, 2, 6))],
)
def test_engines_are_compiled_from_programs_bounded_as_their_profiles(
    seeded_model, tmp_path, name, precision, max_people, expected
):
    """Torch-TensorRT ignores the profiles passed with an ExportedProgram and builds each
    engine for the program's own batch range: the programs must carry the profiles."""
    source = ProgramSource(seeded_model, ArtefactCache(tmp_path))
    store = EngineStore(source, PlainPrograms(), torch.device("cpu"), precision, max_people)
    program = torch.export.load(store.build(name) / ENGINE_FILE)
    (profile,) = engine_profiles(name, max_people)
    assert (profile.min[0], profile.opt[0], profile.max[0]) == expected
    assert _batch_range(program) == expected
    crops = torch.randn(expected[2], 3, 224, 224, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():  # the largest batch runs, and equals the smallest row by row
        largest = program.module()(crops)
        smallest = program.module()(crops[:1])
    for many, one in zip(largest, smallest, strict=True):
        torch.testing.assert_close(many[:1], one, atol=1e-3, rtol=1e-3)
    # Torch-TensorRT re-traces the program while lowering it (run_decompositions): a size-1
    # example is specialised to the constant 1 there unless the compile call keeps it dynamic.
    # (Fresh copies: a re-trace records its specialisation in the program's shape env.)
    with keep_size_one_dynamic(expected):
        lowered = torch.export.load(store.folder(name) / ENGINE_FILE).run_decompositions()
    assert [shape[0] for shape in input_ranges(lowered)["image"]] == list(expected)
    if expected[1] == 1:
        plain = torch.export.load(store.folder(name) / ENGINE_FILE).run_decompositions()
        assert input_ranges(plain)["image"][2][0] == 1
