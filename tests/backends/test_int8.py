"""int8 encoders (NNCF on OpenVINO): refused where they cannot run well, keyed by the calibration
crops' digest, equal to their own cached artefact, and close to fp32 on the parity fixture.

Quantizing takes tens of seconds per encoder on two cores, so it happens once per module, on
two real front-end crops per encoder (a subset of the built-in set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pymafx_ros.backends import openvino_backend
from pymafx_ros.backends.artefact_cache import EntryKey
from pymafx_ros.backends.calibration import CalibrationSet, CalibrationStore
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.int8 import quantized_key
from pymafx_ros.backends.export.source import OnnxProgram
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.precision_cost import CostMeter
from pymafx_ros.backends.selection import choose_backend, create_backend
from pymafx_ros.pipeline.calibration import default_calibration, normalise

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "parity_seed0.npz"
VNNI = CpuFeatures("test CPU with VNNI", frozenset({"avx2", "avx512f", "avx512_vnni"}))
NO_VNNI = CpuFeatures("test CPU without VNNI", frozenset({"avx2", "fma", "avx512f"}))
# int8 against fp32 on the fixture (seeded stand-in weights, two calibration crops per encoder):
# measured 7 mm max with the 36-crop built-in set; the bound leaves room for the tiny set.
JOINTS_MAX_MM = 25.0


def _crops(seed: int, count: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        part: rng.integers(0, 256, (count, 224, 224, 3), dtype=np.uint8)
        for part in ("body", "hand", "face")
    }


def test_cpu_features_say_whether_int8_is_native():
    assert VNNI.native_int8 and VNNI.int8_flag() == "AVX512-VNNI"
    assert CpuFeatures("laptop", frozenset({"avx2", "avx_vnni"})).int8_flag() == "AVX-VNNI"
    assert not NO_VNNI.native_int8 and NO_VNNI.int8_flag() == ""
    assert "avx512_vnni" in VNNI.describe()


def test_int8_runs_on_openvino_with_vnni():
    choice = choose_backend("openvino", "int8", "cpu", VNNI)
    assert (choice.backend, choice.precision) == ("openvino", "int8")


@pytest.mark.parametrize(
    ("backend", "device", "cpu", "names"),
    [
        ("openvino", "cpu", NO_VNNI, ("AVX512-VNNI", "fp32")),
        ("onnxruntime", "cpu", VNNI, ("openvino",)),
        ("torch", "cpu", VNNI, ("openvino",)),
        ("torch_compile", "cpu", VNNI, ("int8",)),
        ("tensorrt", "cuda", VNNI, ("openvino",)),
        ("torch", "cuda", VNNI, ("cpu", "openvino")),
        ("openvino", "cuda", VNNI, ("cpu",)),
    ],
)
def test_int8_is_refused_clearly_where_it_cannot_run(backend, device, cpu, names):
    with pytest.raises(BackendUnavailableError) as caught:
        choose_backend(backend, "int8", device, cpu)
    for name in names:
        assert name in str(caught.value)


def test_int8_without_a_calibration_set_is_refused(seeded_model):
    with pytest.raises(ValueError, match="calibration"):
        create_backend(seeded_model, BackendOptions("openvino", "int8", cpu=VNNI))


def test_calibration_digest_follows_the_crops():
    same = CalibrationSet(_crops(1), normalise).digest
    assert CalibrationSet(_crops(1), normalise, "another name").digest == same
    changed = _crops(1)
    changed["face"][1, 5, 5, 0] ^= 1  # one bit of one pixel
    assert CalibrationSet(changed, normalise).digest != same
    program = OnnxProgram(
        Path("model.onnx"), ("image",), (), {}, EntryKey("onnx", "body_encoder", "fp32")
    )
    assert quantized_key(program, same) == quantized_key(program, same)
    assert quantized_key(program, same).folder_name != quantized_key(program, "0" * 16).folder_name


def test_calibration_set_refuses_missing_or_wrong_crops():
    crops = _crops(2)
    del crops["hand"]
    with pytest.raises(ValueError, match="hand crops"):
        CalibrationSet(crops, normalise, "broken")
    with pytest.raises(ValueError, match="face crops"):
        CalibrationSet({**_crops(2), "face": np.zeros((0, 224, 224, 3), np.uint8)}, normalise)


def test_calibration_store_records_the_active_set(tmp_path):
    store = CalibrationStore(tmp_path)
    assert store.load_active("w1", normalise) is None
    calibration = CalibrationSet(_crops(3), normalise, "frames")
    store.save("w1", calibration, {"cost_vs_fp32": {"joints_mm_max": 1.5}})
    loaded = store.load_active("w1", normalise)
    assert loaded is not None and loaded.digest == calibration.digest
    assert store.active_record("w1")["cost_vs_fp32"] == {"joints_mm_max": 1.5}
    assert store.active_record("w2") is None  # other weights: the built-in set
    (tmp_path / "active-w1.json").write_text("{broken")
    assert store.load_active("w1", normalise) is None


@pytest.fixture(scope="module")
def small_calibration(tmp_path_factory):
    """Two built-in crops per encoder (MediaPipe on the packaged photos)."""
    store = CalibrationStore(tmp_path_factory.mktemp("calibration"))
    return default_calibration(store).spread(2)


@pytest.fixture(scope="module")
def fixture_inputs():
    with np.load(FIXTURE) as arrays:
        crops = [
            torch.from_numpy(arrays[f"in_img_{p}"]) for p in ("body", "lhand", "rhand", "face")
        ]
    vis = torch.tensor([0.9])
    return crops, {"vis_lhand": vis, "vis_rhand": vis}


def _backend(model, precision, calibration=None):
    options = BackendOptions(
        "openvino", precision, num_threads=2, cpu=VNNI, calibration=calibration
    )
    backend = create_backend(model, options)
    backend.prepare("mesh")
    return backend


@pytest.fixture(scope="module")
def int8_outputs(seeded_model, small_calibration, fixture_inputs):
    backend = _backend(seeded_model, "int8", lambda _weights: small_calibration)
    crops, vis = fixture_inputs
    return backend, backend.predict(*crops, **vis, profile="mesh").as_dict()


def test_int8_is_close_to_fp32_on_the_fixture(seeded_model, int8_outputs, fixture_inputs):
    backend, int8 = int8_outputs
    crops, vis = fixture_inputs
    fp32 = _backend(seeded_model, "fp32").predict(*crops, **vis, profile="mesh").as_dict()
    meter = CostMeter()
    meter.add(int8, fp32)
    cost = meter.summary()
    assert 0.0 < cost["joints_mm_max"] < JOINTS_MAX_MM, cost  # quantized, and not broken
    assert all(torch.isfinite(value).all() for value in int8.values())
    assert backend.describe()["int8_calibration"].startswith(
        f"{backend.calibration.digest} (built-in photos"
    )


def test_int8_equals_its_cached_artefact(
    seeded_model, small_calibration, int8_outputs, fixture_inputs, monkeypatch
):
    def no_quantizing(*args, **kwargs):
        raise AssertionError("the int8 encoders were quantized again instead of loaded")

    monkeypatch.setattr(openvino_backend, "quantize_encoder", no_quantizing)
    again = _backend(seeded_model, "int8", lambda _weights: small_calibration)
    crops, vis = fixture_inputs
    got = again.predict(*crops, **vis, profile="mesh").as_dict()
    _, want = int8_outputs
    for name, value in want.items():
        assert torch.equal(got[name], value), name
