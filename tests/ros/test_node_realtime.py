"""Real-time behaviour across processes: a 60 Hz camera against a model that needs 1.2 s per
frame. The node keeps answering services, processes only the newest frames (in order, a
subsequence of what was sent), counts the rest as dropped, keeps its memory flat and stops
cleanly on SIGTERM while frames still pour in."""

from __future__ import annotations

import itertools
import signal
import threading
import time

import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, stamp_ns, start_fake_node, wait_until
from pymafx_ros.msg import SmplxPeople
from rclpy.parameter_client import AsyncParameterClient

pytestmark = pytest.mark.slow  # subprocess graph

INFERENCE_S = 1.2
CAMERA_HZ = 60.0
RUN_S = 6.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    node = start_fake_node(
        ["-p", "detector:=full_frame", "-p", "diagnostics.period_s:=0.5"],
        tmp_path_factory.mktemp("node") / "node.log",
        PYMAFX_TEST_DELAY_S=str(INFERENCE_S),
    )
    probe = Probe("realtime_probe")
    people = probe.collect(SmplxPeople, "/pymafx/people")
    diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    camera = TestCamera(probe, people)
    try:
        wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 60, "the node")
        camera.round_trip(attempts=20, wait_s=5.0)
        first_stream_index = len(camera.sent)
        answers_s: list[float] = []
        rss_kib: list[int] = []
        streaming = threading.Event()
        streaming.set()

        def stream() -> None:
            period, next_time = 1.0 / CAMERA_HZ, time.monotonic()
            while streaming.is_set():
                camera.send()
                next_time += period
                time.sleep(max(0.0, next_time - time.monotonic()))

        streamer = threading.Thread(target=stream)
        streamer.start()
        client = AsyncParameterClient(probe.node, "/pymafx")
        assert client.wait_for_services(timeout_sec=10)
        start = time.monotonic()
        while time.monotonic() - start < RUN_S:
            asked = time.monotonic()
            future = client.get_parameters(["max_people"])
            wait_until(future.done, 10, "a parameter answer")
            answers_s.append(time.monotonic() - asked)
            rss_kib.append(node.rss_kib())
            time.sleep(0.25)
        stop_code = node.stop(signal.SIGTERM)  # mid-stream, probably mid-inference
        streaming.clear()
        streamer.join()
        yield {
            "node": node,
            "stop_code": stop_code,
            "sent": camera.sent[first_stream_index:],
            "people": list(people),
            "diagnostics": list(diagnostics),
            "answers_s": answers_s,
            "rss_kib": rss_kib,
        }
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()


def test_service_answers_while_inference_runs(run):
    # Each answer came well within one inference: the executor never waited for the model.
    assert len(run["answers_s"]) >= 10
    assert max(run["answers_s"]) < INFERENCE_S


def test_only_the_newest_frames_are_processed_in_order(run):
    sent = run["sent"]
    processed = [stamp_ns(m.header) for m in run["people"] if stamp_ns(m.header) in set(sent)]
    assert len(sent) > 4 * CAMERA_HZ  # the camera really streamed
    assert 2 <= len(processed) <= RUN_S / INFERENCE_S + 2
    positions = [sent.index(s) for s in processed]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    # The frame after a processed one is (nearly) never the next processed: the ones in
    # between were replaced while waiting.
    assert all(b - a > 10 for a, b in itertools.pairwise(positions))


def test_dropped_frames_are_counted(run):
    values = {
        kv.key: kv.value
        for array in run["diagnostics"][-1:]
        for status in array.status
        for kv in status.values
    }
    received = int(values["frames received"])
    dropped = int(values["frames dropped (replaced while waiting)"])
    processed = int(values["frames processed"])
    assert dropped > 0.5 * received
    assert received - processed - 2 <= dropped <= received - processed


def test_memory_stays_flat(run):
    rss = run["rss_kib"]
    settled = rss[len(rss) // 4]  # after the first frames allocated their buffers
    # 60 frames of 196 KB arrive every second: a leak of them would add ~50 MB here.
    assert max(rss[len(rss) // 4 :]) - settled < 20 * 1024, rss


def test_sigterm_mid_stream_is_clean(run):
    assert run["stop_code"] == 0
    assert "Traceback" not in run["node"].log()
