"""The compressed input path of the running node, as a camera would feed it: JPEG and PNG frames
are processed; decompression bombs (a few hundred bytes claiming 30000 x 30000 pixels) are
refused from their header before anything is decoded, counted, and named in a warning; corrupt
and truncated payloads are refused; memory stays flat and the node keeps working."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bombs import jpeg_claiming, png_claiming
from camera import SIZE, TestCamera
from diagnostic_msgs.msg import DiagnosticArray
from graph import Probe, stamp_ns, start_fake_node, status_values, wait_until
from pymafx_ros.msg import SmplxPeople
from sensor_msgs.msg import CompressedImage

pytestmark = pytest.mark.slow  # subprocess graph


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    node = start_fake_node(
        ["-p", "detector:=full_frame", "-p", "input_transport:=compressed",
         "-p", "diagnostics.period_s:=0.2"],
        tmp_path_factory.mktemp("node") / "node.log",
    )  # fmt: skip
    probe = Probe("compressed_probe")
    g = type("Compressed", (), {})()
    g.node = node
    g.people = probe.collect(SmplxPeople, "/pymafx/people")
    g.diagnostics = probe.collect(DiagnosticArray, "/diagnostics")
    g.camera = TestCamera(probe, g.people)
    g.pub = probe.publisher(CompressedImage, "/image/compressed")
    try:
        wait_until(lambda: g.pub.get_subscription_count() > 0, 60, "the node")
        yield g
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()


def send(g, data: bytes, fmt: str = "jpeg") -> int:
    header = g.camera.header()
    g.pub.publish(CompressedImage(header=header, format=fmt, data=data))
    return stamp_ns(header)


def encoded(extension: str) -> bytes:
    ok, buffer = cv2.imencode(extension, np.full((SIZE, SIZE, 3), 90, np.uint8))
    assert ok
    return buffer.tobytes()


def answered(g, data: bytes, fmt: str) -> SmplxPeople:
    stamps: set[int] = set()
    for _ in range(20):
        stamps.add(send(g, data, fmt))
        try:
            wait_until(lambda: any(stamp_ns(m.header) in stamps for m in list(g.people)), 3, "")
        except AssertionError:
            continue
        return next(m for m in list(g.people) if stamp_ns(m.header) in stamps)
    raise AssertionError(f"no answer to a {fmt} frame:\n{g.node.log()}")


def rejected(g, reason: str) -> int:
    return int(status_values(g.diagnostics, ": input").get(f"rejected: {reason}", 0))


def send_until_rejected(g, data: bytes, reason: str, fmt: str = "jpeg") -> None:
    before = rejected(g, reason)
    for _ in range(10):
        send(g, data, fmt)
        try:
            wait_until(lambda: rejected(g, reason) > before, 2, reason)
            return
        except AssertionError:
            continue
    raise AssertionError(f"never rejected as {reason}:\n{g.node.log()}")


@pytest.mark.parametrize(("extension", "fmt"), [(".jpg", "jpeg"), (".png", "png")])
def test_jpeg_and_png_frames_are_processed(compressed, extension, fmt):
    message = answered(compressed, encoded(extension), fmt)
    assert (message.image_width, message.image_height) == (SIZE, SIZE) and message.people


def test_decompression_bombs_are_refused_from_their_header(compressed):
    answered(compressed, encoded(".jpg"), "jpeg")  # warm: buffers of a normal frame allocated
    rss_before = compressed.node.rss_kib()
    for bomb in (jpeg_claiming(30000, 30000), jpeg_claiming(16000, 16000)):
        send_until_rejected(compressed, bomb, "size")
    send_until_rejected(compressed, png_claiming(100000, 100000), "size", "png")
    growth_mb = (compressed.node.rss_kib() - rss_before) / 1024
    print(f"\n[figure] 3 decompression bombs refused; node RSS grew {growth_mb:.1f} MB")
    assert growth_mb < 50  # nothing was decoded
    # The (rate-limited) warning names the size and the parameter that sets the limit.
    wait_until(lambda: "30000x30000" in compressed.node.log(), 5, "a warning naming the size")
    assert "100000x100000" in compressed.node.log() and "max_image_pixels" in compressed.node.log()
    assert answered(compressed, encoded(".jpg"), "jpeg").people  # still working


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encoded(".jpg")[:200], "decode"),  # truncated
        (b"\xff\xd8\xff" + bytes(300), "decode"),  # JPEG magic, garbage after
        (b"GIF89a" + bytes(40), "format"),  # a format OpenCV may read, but not a camera's
        (b"", "decode"),
    ],
)
def test_corrupt_payloads_are_refused_and_counted(compressed, data, reason):
    send_until_rejected(compressed, data, reason)
    assert answered(compressed, encoded(".png"), "png").people
