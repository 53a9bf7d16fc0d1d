"""``backend: tensorrt`` on a machine without its engine, against the real node and the real
pipeline loading (in this process, over DDS): the node warns with the exact build command, runs
the next backend, says so in its diagnostics, and publishes people. The compile step is the
CPU stand-in (``PlainPrograms``), so "no engine" is the reason, not "no CUDA"."""

from __future__ import annotations

import copy

import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from engine_doubles import PlainPrograms
from graph import Probe, latest_status, status_values, wait_until
from inprocess import InProcessNode
from pymafx_ros.msg import SmplxPeople
from rcl_interfaces.msg import Log
from rclpy.qos import DurabilityPolicy, QoSProfile

COMMAND = "pymafx-ros build-engines --precision fp16 --max-people 1 --device cpu"


@pytest.fixture
def without_engine(seeded_model_build, monkeypatch, tmp_path):
    from pymafx_ros.backends import selection, tensorrt_backend
    from pymafx_ros.model import factory
    from pymafx_ros.ros.pipeline_factory import load_pipeline

    model, info = seeded_model_build
    monkeypatch.setattr(factory, "build_model", lambda **kw: (copy.deepcopy(model), info))
    monkeypatch.setattr(tensorrt_backend, "default_compiler", PlainPrograms)
    monkeypatch.setattr(selection, "_installed", lambda name: False)  # fallback: eager torch
    monkeypatch.setenv("PYMAFX_CACHE_DIR", str(tmp_path))  # an empty engine cache
    probe = Probe("fallback_probe")
    logs = probe.collect(
        Log, "/rosout", QoSProfile(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    )
    node = InProcessNode(
        None,
        factory=load_pipeline,
        load_timeout=300.0,
        detector="full_frame",
        device="cpu",
        backend="tensorrt",
        precision="auto",
        **{"diagnostics.period_s": 0.2, "markers.enable": False, "overlay.enable": False},
    )
    g = type("Fallback", (), {})()
    g.node, g.probe, g.logs = node, probe, logs
    g.people = probe.collect(SmplxPeople, "/pymafx/people")
    g.diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    try:
        yield g
    finally:
        probe.close()
        node.close()


def test_tensorrt_without_engine_warns_with_the_command_and_runs_eager(without_engine, tmp_path):
    g = without_engine
    needle = "Falling back to backend torch (fp32) on cpu"
    wait_until(lambda: any(needle in m.msg for m in list(g.logs)), 20, "the fallback warning")
    warning = next(m for m in list(g.logs) if needle in m.msg)
    assert warning.name == "pymafx" and warning.level == Log.WARN
    assert f"PYMAFX_CACHE_DIR={tmp_path} {COMMAND}" in warning.msg
    assert "no usable TensorRT engine for body_encoder (not built yet)" in warning.msg

    camera = TestCamera(g.probe, g.people)
    wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 20, "the node")
    assert camera.round_trip(attempts=10, wait_s=10.0).people  # the eager model answers

    def values() -> dict[str, str]:
        return status_values(g.diagnostics, ": inference")

    wait_until(lambda: values().get("backend") == "torch", 10, "the backend reported")
    assert values()["precision"] == "fp32"
    assert values()["backend fallback"].startswith("tensorrt fp16 unavailable: no usable")
    assert COMMAND in values()["backend fallback"]
    status = latest_status(g.diagnostics, ": inference")
    assert status.level == DiagnosticStatus.WARN
    assert "running backend torch instead of the one configured" in status.message


class _CapturedError(Exception):
    """Stops the load once the backend's arguments are seen."""


def test_engine_parameters_reach_the_tensorrt_backend(monkeypatch, seeded_model_build, tmp_path):
    from pymafx_ros.backends import selection
    from pymafx_ros.model import factory
    from pymafx_ros.ros.parameters import defaults, validate
    from pymafx_ros.ros.pipeline_factory import load_pipeline, pipeline_config

    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    overrides = {
        "backend": "tensorrt",
        "precision": "fp16",
        "build_engines_on_start": True,
        "max_people": 3,
        "device": "cpu",
        "detector": "full_frame",
        "checkpoint": str(checkpoint),
    }
    options = pipeline_config(validate({**defaults(), **overrides}))
    seen = {}

    def capture(model, profile, backend, precision, device, num_threads=0, **kwargs):
        seen.update(backend=backend, precision=precision, device=device, **kwargs)
        raise _CapturedError

    monkeypatch.setattr(factory, "build_model", lambda **kw: seeded_model_build)
    monkeypatch.setattr(selection, "open_backend", capture)
    with pytest.raises(_CapturedError):
        load_pipeline(options)
    assert (seen["backend"], seen["precision"], seen["device"]) == ("tensorrt", "fp16", "cpu")
    engines = seen["engines"]
    assert engines.build is True and engines.max_people == 3
    assert str(engines.checkpoint) == str(checkpoint)
