"""The node with ``experts: body,hands`` over DDS (real pipeline, placeholder assets, seeded
weights, full-frame person): the published person carries the neutral face flagged as not
estimated, and the diagnostics say which experts run."""

from __future__ import annotations

import signal

import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, stamp_ns, start_real_node, wait_until
from pymafx_ros.msg import SmplxPeople

pytestmark = pytest.mark.slow  # subprocess graph with the real model


def _diagnostic(arrays, key: str) -> str | None:
    for array in reversed(list(arrays)):
        for status in array.status:
            for kv in status.values:
                if kv.key == key:
                    return kv.value
    return None


def _within(condition, timeout: float) -> bool:
    try:
        wait_until(condition, timeout, "")
    except AssertionError:
        return False
    return True


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    log = tmp_path_factory.mktemp("node") / "node.log"
    args = ["-p", "detector:=full_frame", "-p", "device:=cpu", "-p", "num_threads:=1"]
    # ONNX Runtime, joints only: the exported backend path at its lightest.
    args += ["-p", "backend:=onnxruntime", "-p", "markers.enable:=false"]
    args += ["-p", "experts:=body,hands", "-p", "diagnostics.period_s:=0.2"]
    node = start_real_node(args, log)
    probe = Probe("experts_probe")
    people = probe.collect(SmplxPeople, "/pymafx/people")
    diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    camera = TestCamera(probe, people)
    try:
        wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 60, "the node")
        stamps = set()
        # Resend only until the node has the frame (a busy node would queue another inference).
        for _ in range(30):
            stamps.add(camera.send())
            if _within(lambda: int(_diagnostic(diagnostics, "frames received") or 0) > 0, 3.0):
                break
        wait_until(lambda: any(stamp_ns(m.header) in stamps for m in people), 600, "people")
        message = next(m for m in people if stamp_ns(m.header) in stamps)
        experts = _diagnostic(diagnostics, "experts")
        code = node.stop(signal.SIGINT, timeout=120)
        yield message, experts, code, node.log()
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()


def test_the_face_is_published_neutral_and_flagged(answered):
    message, _, _, log = answered
    assert len(message.people) == 1, log
    person = message.people[0]
    assert not person.face_estimated and not person.face_valid
    assert list(person.expression) == [0.0] * 50
    assert [*person.jaw_pose, *person.leye_pose, *person.reye_pose] == [0.0] * 9


def test_the_diagnostics_name_the_experts(answered):
    _, experts, code, log = answered
    assert experts == "body,hands", log
    assert code == 0, log
