"""The tensorrt backend around its compile step, on the CPU (the step is ``PlainPrograms``):
``build_engines_on_start`` builds every engine with progress in the log, a second start loads
them without compiling, the engines' results equal eager PyTorch (hidden hands, no visible
hand, predicted visibility, the mesh), and a backend that cannot run (no CUDA, no
Torch-TensorRT, no engine, a damaged engine) falls back with a WARN naming the fix."""

from __future__ import annotations

import copy
import importlib.util
import logging

import pytest
import torch
from engine_doubles import PlainPrograms

from pymafx_ros.backends import selection
from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.selection import choose_backend, open_backend
from pymafx_ros.backends.tensorrt.options import EngineOptions
from pymafx_ros.backends.tensorrt.store import ENGINE_FILE
from pymafx_ros.backends.tensorrt_backend import TensorRTBackend
from pymafx_ros.model.mesh_decoding import PIPELINE_OUTPUTS

PLAIN = CpuFeatures("AMD EPYC 7B13", frozenset({"avx2", "fma"}))
COMPARED = [name for name in PIPELINE_OUTPUTS if name != "hand_visibility"]
ENGINES = ("body_encoder", "hand_encoder", "face_encoder", "head_joints")


@pytest.fixture(scope="module")
def engine_cache(tmp_path_factory):
    return ArtefactCache(tmp_path_factory.mktemp("engines"))


@pytest.fixture(scope="module")
def built(seeded_model, engine_cache):
    """A backend that built its engines on start (max_people 3, fp32), and its log."""
    compiler = PlainPrograms()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("pymafx_ros.backends")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        backend = TensorRTBackend(
            seeded_model,
            "fp32",
            PLAIN,
            "cpu",
            engine_cache,
            EngineOptions(max_people=3, build=True),
            compiler,
        )
        backend.prepare("joints")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return backend, compiler, [r.getMessage() for r in records]


@pytest.fixture(scope="module")
def crops():
    generator = torch.Generator().manual_seed(9)
    return [torch.randn(3, 3, 224, 224, generator=generator) for _ in range(4)]


def _eager(model, crops, profile="joints", **vis):
    with torch.inference_mode():
        return model.predict(*crops, **vis, profile=profile)


def test_building_on_start_compiles_every_engine_with_progress(built, engine_cache):
    backend, compiler, log = built
    assert [name for name, _ in compiler.compiled] == ["image"] * 3 + ["body_map0"]
    assert {precision for _, precision in compiler.compiled} == {"fp32"}
    for step, name in enumerate(ENGINES, start=1):
        assert f"[{step}/4] building the TensorRT engine {name}" in log
        assert any(line.startswith(f"[{step}/4] TensorRT engine {name} ready") for line in log)
        assert (backend.store.folder(name) / ENGINE_FILE).is_file()
    assert backend.describe()["gpu"] == "Test GPU (sm_00)"


def test_a_second_start_loads_the_engines_without_compiling(seeded_model, engine_cache, built):
    compiler = PlainPrograms()
    again = TensorRTBackend(
        seeded_model, "fp32", PLAIN, "cpu", engine_cache, EngineOptions(3), compiler
    )
    again.prepare("joints")
    assert compiler.compiled == []


def test_engines_equal_eager_pytorch_with_hidden_hands(built, seeded_model, crops):
    backend, _, _ = built
    vis = {"vis_lhand": torch.tensor([0.05, 0.8, 0.0]), "vis_rhand": torch.tensor([0.8, 0.0, 0.1])}
    got = backend.predict(*crops, **vis, profile="joints").as_dict()
    want = _eager(seeded_model, crops, **vis)
    assert set(got) == set(want)
    for name in (*COMPARED, "pred_vis_hands"):
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


def test_no_visible_hand_runs_the_head_on_one_empty_row(built, seeded_model, crops):
    backend, _, _ = built
    two = [crop[:2] for crop in crops]
    vis = {"vis_lhand": torch.tensor([0.0, 0.1]), "vis_rhand": torch.tensor([0.1, 0.0])}
    got = backend.predict(*two, **vis, profile="joints").as_dict()
    want = _eager(seeded_model, two, **vis)
    for name in COMPARED:
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


def test_predicted_visibility_and_the_mesh_profile(built, seeded_model, crops):
    backend, _, _ = built
    backend.prepare("mesh")  # builds only the mesh head: the encoders are loaded
    one = [crop[:1] for crop in crops]
    got = backend.predict(*one, profile="mesh").as_dict()
    want = _eager(seeded_model, one, profile="mesh")
    assert got["smplx_verts"].shape == (1, 10475, 3)
    for name in ("smplx_verts", "smplx_joints", "pred_vis_hands"):
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=0, msg=name)


def test_more_people_than_the_engines_take_is_refused(built, crops):
    backend, _, _ = built
    four = [torch.cat([crop, crop[:1]]) for crop in crops]
    with pytest.raises(ValueError, match="at most 3 people"):
        backend.predict(*four, profile="joints")


def test_tensorrt_takes_fp16_or_fp32_and_fp16_is_its_own():
    assert choose_backend("tensorrt", "auto", "cuda", PLAIN).precision == "fp16"
    assert choose_backend("tensorrt", "fp32", "cpu", PLAIN).backend == "tensorrt"
    with pytest.raises(BackendUnavailableError, match="fp16 or fp32"):
        choose_backend("tensorrt", "bf16", "cuda", PLAIN)
    # fp16 encoders are CUDA's: tensorrt, torch_compile and eager torch there, no CPU engine.
    with pytest.raises(BackendUnavailableError, match="fp16 runs on CUDA only"):
        choose_backend("openvino", "fp16", "cpu", PLAIN)


# --------------------------------------------------------------------------- fallbacks
@pytest.fixture
def fresh_model(seeded_model, monkeypatch):
    """A copy the fallback's eager backend may prepare; no CPU engine installed, so the
    fallback is eager torch (no ONNX build in a unit test)."""
    monkeypatch.setattr(selection, "_installed", lambda name: False)
    return copy.deepcopy(seeded_model)


def _open_with(monkeypatch, model, compiler, device, caplog, precision="fp16", **options):
    from pymafx_ros.backends import tensorrt_backend

    if compiler is not None:
        monkeypatch.setattr(tensorrt_backend, "default_compiler", lambda: compiler)
    cache = options.pop("cache", None)
    with caplog.at_level(logging.WARNING, logger="pymafx_ros.backends"):
        backend = open_backend(
            model,
            "joints",
            BackendOptions(
                "tensorrt",
                precision,
                device,
                cpu=PLAIN,
                engines=EngineOptions(**options),
                cache=cache,
            ),
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return backend, warnings


def _hide_torch_tensorrt(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "torch_tensorrt" else real(n, *a)
    )


def test_no_cuda_falls_back_to_the_cpu_backend_naming_cuda(fresh_model, monkeypatch, caplog):
    _hide_torch_tensorrt(monkeypatch)
    backend, warnings = _open_with(monkeypatch, fresh_model, None, "cpu", caplog)
    assert backend.name == "torch" and backend.precision == "fp32"
    (warning,) = warnings
    assert "backend tensorrt cannot run here: missing CUDA" in warning
    assert "Falling back to backend torch (fp32) on cpu" in warning
    fallback = backend.describe()["fallback"]
    assert fallback.startswith("tensorrt fp16 unavailable: ") and "CUDA" in fallback


def test_no_torch_tensorrt_falls_back_to_eager_cuda(fresh_model, monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    _hide_torch_tensorrt(monkeypatch)
    backend, warnings = _open_with(monkeypatch, fresh_model, None, "cuda", caplog)
    assert backend.name == "torch"
    (warning,) = warnings
    assert "missing torch_tensorrt: Torch-TensorRT is not installed" in warning
    assert "missing CUDA" not in warning and "on cuda" in warning


def test_no_engine_falls_back_with_the_exact_build_command(
    fresh_model, monkeypatch, caplog, tmp_path
):
    monkeypatch.delenv("PYMAFX_CACHE_DIR", raising=False)
    compiler = PlainPrograms()
    backend, warnings = _open_with(
        monkeypatch,
        fresh_model,
        compiler,
        "cpu",
        caplog,
        max_people=2,
        cache=ArtefactCache(tmp_path),
    )
    assert backend.name == "torch" and compiler.compiled == []
    (warning,) = warnings
    assert "no usable TensorRT engine for body_encoder (not built yet)" in warning
    assert "`pymafx-ros build-engines --precision fp16 --max-people 2 --device cpu`" in warning
    assert "build_engines_on_start: true" in warning


def test_a_damaged_engine_is_no_engine(built, engine_cache, fresh_model, monkeypatch, caplog):
    backend, _, _ = built
    engine = backend.store.folder("face_encoder") / ENGINE_FILE
    engine.write_bytes(engine.read_bytes()[:1000])
    fallback, warnings = _open_with(
        monkeypatch,
        fresh_model,
        PlainPrograms(),
        "cpu",
        caplog,
        precision="fp32",
        max_people=3,
        cache=engine_cache,
    )
    assert fallback.name == "torch"
    assert "face_encoder (engine.pt2 is missing or truncated)" in warnings[0]
