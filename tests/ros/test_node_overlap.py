"""The front end beside the model, across processes: a 30 Hz camera against a test double whose
front end takes 0.1 s and model stage 0.2 s. With the overlap on, the node publishes the frames
in order (a subsequence of what was sent), every frame is processed or replaced while waiting,
the model stage does not wait for the front end, and the diagnostics say what the stages do."""

from __future__ import annotations

import itertools
import time

import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, stamp_ns, start_fake_node, status_values, wait_until
from pymafx_ros.msg import SmplxPeople

pytestmark = pytest.mark.slow  # subprocess graph

FRONT_S = 0.1
MODEL_S = 0.2
CAMERA_HZ = 30.0
RUN_S = 4.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    node = start_fake_node(
        # One model thread leaves the front end a core: the stages overlap on any machine.
        ["-p", "detector:=full_frame", "-p", "diagnostics.period_s:=0.5", "-p", "num_threads:=1"],
        tmp_path_factory.mktemp("node") / "node.log",
        PYMAFX_TEST_DELAY_S=str(MODEL_S),
        PYMAFX_TEST_FRONT_S=str(FRONT_S),
    )
    probe = Probe("overlap_probe")
    people = probe.collect(SmplxPeople, "/pymafx/people")
    diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    camera = TestCamera(probe, people)
    try:
        wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 60, "the node")
        camera.round_trip(attempts=20, wait_s=5.0)
        first = len(camera.sent)
        answered = len(people)
        period, next_time, end = 1.0 / CAMERA_HZ, time.monotonic(), time.monotonic() + RUN_S
        while time.monotonic() < end:
            camera.send()
            next_time += period
            time.sleep(max(0.0, next_time - time.monotonic()))
        time.sleep(1.5)  # the frames in flight finish; diagnostics follow
        yield {
            "node": node,
            "sent": camera.sent[first:],
            "people": list(people)[answered:],
            "diagnostics": list(diagnostics),
        }
    finally:
        node.stop()
        probe.close()


def test_stamps_increase_and_are_a_subsequence_of_the_camera(run) -> None:
    sent = run["sent"]
    processed = [stamp_ns(m.header) for m in run["people"]]
    assert set(processed) <= set(sent)
    assert all(a < b for a, b in itertools.pairwise(processed))
    assert processed[-1] == sent[-1]  # the newest frame is never lost


def test_the_model_does_not_wait_for_the_front_end(run) -> None:
    # One after the other, the model stage would idle FRONT_S for every frame; beside it, the
    # next front end is (nearly) done when the model stage ends. (Frames per second would say
    # the same, but a busy machine slows publishing; these waits are sleeps.)
    values = status_values(run["diagnostics"], ": inference")
    idle_p50 = float(values["latency model idle (ms) p50/p95/max"].split("/")[0])
    assert idle_p50 < 0.5 * 1e3 * FRONT_S, values["stage means"]
    assert len(run["people"]) >= RUN_S / (FRONT_S + MODEL_S)


def test_nothing_is_lost_but_replaced_frames(run) -> None:
    values = status_values(run["diagnostics"], ": inference")
    inputs = status_values(run["diagnostics"], ": input")
    received = int(inputs["frames received"])
    dropped = int(inputs["frames dropped (replaced while waiting)"])
    processed = int(values["frames processed"])
    assert int(values["frames failed"]) == 0
    assert int(values["frames pending (waiting or in progress)"]) == 0
    assert received == processed + dropped
    assert values["stages"].startswith("front end beside the model (just in time): ")
    assert "front end" in values["stage means"]


def test_front_end_wait_is_reported(run) -> None:
    values = status_values(run["diagnostics"], ": inference")
    assert "latency front end wait (ms) p50/p95/max" in values
    p50 = float(values["latency front end wait (ms) p50/p95/max"].split("/")[0])
    assert p50 < 1e3 * FRONT_S  # just in time: the front end's result hardly waits
