"""The real node's memory stays flat (MediaPipe front end, two people at most, the default CPU
backend): a flood of malformed messages whose stamps go backwards, with a decodable frame among
them now and then (each one a new sequence for the front end: a bag replayed, a camera whose
clock jumps back), on the raw and on the compressed input path. Afterwards the node is within
``GROWTH_MB`` of its resident memory after warm-up, and still answers frames."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from camera import TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, start_real_node, status_values, wait_until
from pymafx_ros.msg import SmplxPeople
from sensor_msgs.msg import CompressedImage, Image

pytestmark = pytest.mark.slow  # subprocess graph with the real model and front end

GROWTH_MB = 50.0
FLOOD = 300  # messages
FLOOD_HZ = 40.0
GOOD_EVERY = 10  # one decodable frame (stamp going back too) per this many messages
START_NS = 1_800_000_000 * 10**9


def processed(diagnostics) -> int:
    return int(status_values(diagnostics, ": inference").get("frames processed", 0))


def pending(diagnostics) -> int:
    return int(
        status_values(diagnostics, ": inference").get("frames pending (waiting or in progress)", 1)
    )


def jpeg(rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buffer.tobytes()


def damaged(data: bytes, index: int) -> bytes:
    """Malformed in turn: truncated, scan data overwritten (decodes to a damaged picture or
    not at all), or nothing but the start marker."""
    kind = index % 3
    if kind == 0:
        return data[: len(data) // 3]
    if kind == 1:
        middle = len(data) // 2
        return data[:middle] + bytes(range(256)) * 4 + data[middle + 1024 :]
    return data[:2]


class Source:
    """The camera of one transport: good frames, and malformed ones for the flood."""

    def __init__(self, probe: Probe, people: list, transport: str) -> None:
        self.transport = transport
        self.camera = TestCamera(probe, people)
        self.pub = (
            probe.publisher(CompressedImage, "/image/compressed")
            if transport == "compressed"
            else self.camera.image_pub
        )

    def good(self, index: int, at_ns: int) -> None:
        rgb = self.camera.frames[index % len(self.camera.frames)]
        if self.transport == "raw":
            self.camera.send(rgb, at_ns=at_ns)
            return
        header = self.camera.header(at_ns)
        self.pub.publish(CompressedImage(header=header, format="jpeg", data=jpeg(rgb)))

    def bad(self, index: int, at_ns: int) -> None:
        rgb = self.camera.frames[index % len(self.camera.frames)]
        header = self.camera.header(at_ns)
        if self.transport == "compressed":
            data = damaged(jpeg(rgb), index)
            self.pub.publish(CompressedImage(header=header, format="jpeg", data=data))
            return
        height, width = rgb.shape[:2]
        wrong = [
            Image(header=header, height=height, width=width, encoding="rgb8", step=width * 3),
            Image(header=header, height=height, width=width, encoding="yuv422", step=width * 2),
            Image(header=header, height=height, width=width, encoding="rgb8", step=width),
        ][index % 3]
        wrong.data = rgb.tobytes()[: wrong.step * height - (index % 3 == 0)]
        self.pub.publish(wrong)


@pytest.fixture(params=["raw", "compressed"])
def flooded(request, tmp_path):
    args = ["-p", "detector:=mediapipe", "-p", "max_people:=2", "-p", "device:=cpu"]
    args += ["-p", "num_threads:=1", "-p", "diagnostics.period_s:=0.2"]
    args += ["-p", f"input_transport:={request.param}"]
    node = start_real_node(args, tmp_path / "node.log")
    probe = Probe(f"memory_probe_{request.param}")
    people = probe.collect(SmplxPeople, "/pymafx/people")
    diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    source = Source(probe, people, request.param)
    try:
        wait_until(lambda: source.pub.get_subscription_count() > 0, 120, "the node")
        yield node, source, people, diagnostics
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()


def processed_beyond(diagnostics, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processed(diagnostics) > count:
            return True
        time.sleep(0.1)
    return False


def answer_frames(source: Source, diagnostics, count: int, start_ns: int) -> None:
    """Send increasing frames until ``count`` more were processed (one at a time; the first
    frame waits for the model to load)."""
    stamp = start_ns
    for _ in range(count):
        before = processed(diagnostics)
        for attempt in range(20):
            stamp += 33_000_000
            source.good(attempt, stamp)
            if processed_beyond(diagnostics, before, 30 if attempt else 300):
                break
        else:
            raise AssertionError("the node processed no frame")


def test_a_malformed_flood_with_stamps_going_back_leaves_memory_flat(flooded):
    node, source, people, diagnostics = flooded
    answer_frames(source, diagnostics, 4, START_NS)
    warm_mb = node.rss_kib() / 1024
    processed_before = processed(diagnostics)
    for index in range(FLOOD):
        at_ns = START_NS - index * 50_000_000  # every message older than the one before
        if index % GOOD_EVERY == GOOD_EVERY - 1:
            source.good(index, at_ns)
        else:
            source.bad(index, at_ns)
        time.sleep(1.0 / FLOOD_HZ)
    wait_until(lambda: pending(diagnostics) == 0, 120, "the node to finish its frames")
    resets = processed(diagnostics) - processed_before
    rejected = int(status_values(diagnostics, ": input").get("messages rejected", 0))
    grown_mb = node.rss_kib() / 1024 - warm_mb
    print(
        f"\n[figure] {source.transport}: {FLOOD} messages ({rejected} refused so far), "
        f"{resets} frames with a stamp going back processed; RSS {warm_mb:.0f} MB after "
        f"warm-up, {grown_mb:+.0f} MB after the flood"
    )
    assert resets >= 3, "too few frames went through to test the resets"
    assert rejected > 0
    assert grown_mb < GROWTH_MB, f"the node grew {grown_mb:.0f} MB over the flood"
    answer_frames(source, diagnostics, 1, START_NS + 10**12)  # still working
    assert node.proc.poll() is None and people  # people messages kept coming
