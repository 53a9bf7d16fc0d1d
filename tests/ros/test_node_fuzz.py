"""Malformed input, fuzzed: hypothesis generates well over 1,000 bad Image, CompressedImage and
CameraInfo messages per transport and feeds them, interleaved with good frames, to the running
node's own subscription callbacks (its real validation, decoding and inference thread).

What must hold: no exception escapes a callback; nothing fails inside the node; every refused
message is counted under the reason predicted for it; every good frame is processed and its
people published; nothing non-finite is ever published; a header claiming 100000 x 100000
pixels with a few bytes of data allocates nothing of that size.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from bombs import jpeg_claiming, png_claiming
from fake_pipeline import FakePipeline
from graph import Probe, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import InProcessNode
from pymafx_ros.msg import SmplxPeople
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage

from pymafx_ros.config import PipelineConfig
from pymafx_ros.ros.conversions import ENCODINGS, rgb_to_image

pytestmark = pytest.mark.slow

BAD_PER_TRANSPORT = 1000
MAX_PIXELS = 640 * 480  # the fuzzed node's max_image_pixels: "enormous" starts low
EXOTIC = ["16UC1", "32FC1", "8UC3", "64FC3", "bayer_rggb8", "bayer_gbrg16", "yuv422",
          "yuv422_yuy2", "nv21", "rgb16", "bgra16", "mono16", ""]  # fmt: skip
OTHER_FORMATS = [".bmp", ".tiff", ".webp", ".ppm", ".gif", ".hdr", ".pfm"]
_stamps = itertools.count(1_700_000_000 * 10**9, 33_000_000)


@dataclass
class Case:
    """One message for the node and what it must do with it: 'ok' (processed), the reason it
    is refused under, or 'refused' for random payloads behind a real header: refused for one
    of ``ANY_REASON``, or processed when the bytes happen to decode to a whole image."""

    topic: str  # "image" or "camera_info"
    msg: Any
    expect: str


ANY_REASON = {"decode", "size", "format"}


def header(backwards: bool) -> Header:
    at = next(_stamps) - (5 * 10**9 if backwards else 0)  # a looped bag jumps back
    h = Header(frame_id="cam")
    h.stamp.sec, h.stamp.nanosec = divmod(at, 10**9)
    return h


def picture(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 256, (height, width, 3), dtype=np.uint8)


sizes = st.tuples(st.integers(4, 40), st.integers(4, 40))
seeds = st.integers(0, 2**32 - 1)


@st.composite
def good_images(draw) -> Case:
    (height, width), seed = draw(sizes), draw(seeds)
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    msg = rgb_to_image(picture(seed, height, width), encoding, header(draw(st.booleans())))
    msg.encoding = draw(st.sampled_from([encoding, encoding.upper()]))
    msg.is_bigendian = draw(st.sampled_from([0, 1]))  # meaningless for 8-bit data
    padding = draw(st.integers(0, 3))
    if padding:
        rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(height, msg.step)
        msg.data = np.pad(rows, ((0, 0), (0, padding)), constant_values=7).tobytes()
        msg.step += padding
    return Case("image", msg, "ok")


@st.composite
def bad_images(draw) -> Case:
    case = draw(good_images())
    msg = case.msg
    channels = ENCODINGS[msg.encoding.lower()][0]
    fault = draw(st.sampled_from(["short", "long", "step", "zero", "huge", "encoding", "endian"]))
    if fault == "short":
        msg.data = bytes(msg.data)[: -draw(st.integers(1, len(msg.data)))]
        return Case("image", msg, "layout")
    if fault == "long":
        msg.data = bytes(msg.data) + bytes(draw(st.integers(1, 64)))
        return Case("image", msg, "layout")
    if fault == "step":
        msg.step = draw(st.integers(0, msg.width * channels - 1))
        msg.data = bytes(msg.step * msg.height)
        return Case("image", msg, "layout")
    if fault == "zero":
        msg.height, msg.width = draw(st.sampled_from([(0, msg.width), (msg.height, 0), (0, 0)]))
        return Case("image", msg, "layout")
    if fault == "huge":  # a few bytes of data under a header claiming up to 10^10 pixels
        msg.width, msg.height = draw(st.tuples(st.integers(1, 100_000), st.integers(1, 100_000))
                                     .filter(lambda s: s[0] * s[1] > MAX_PIXELS))  # fmt: skip
        msg.step = msg.width * channels
        msg.data = bytes(draw(st.integers(0, 64)))
        return Case("image", msg, "size")
    if fault == "encoding":
        odd = st.sampled_from(EXOTIC) | st.text(max_size=12)
        msg.encoding = draw(odd.filter(lambda e: e.lower() not in ENCODINGS))
        return Case("image", msg, "encoding")
    msg.is_bigendian = draw(st.integers(2, 255))
    return Case("image", msg, "layout")


def encoded(extension: str, rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(extension, rgb)
    assert ok, extension
    return buffer.tobytes()


@st.composite
def good_compressed(draw) -> Case:
    (height, width), seed = draw(sizes), draw(seeds)
    extension = draw(st.sampled_from([".jpg", ".png"]))
    data = encoded(extension, picture(seed, height, width))
    if extension == ".jpg" and draw(st.booleans()):
        data += bytes(draw(st.integers(1, 16)))  # zero padding after the end marker is fine
    fmt = draw(st.sampled_from(["jpeg", "png", "rgb8; jpeg compressed bgr8", "", "garbage"]))
    msg = CompressedImage(header=header(draw(st.booleans())), format=fmt, data=data)
    return Case("image", msg, "ok")


@st.composite
def bad_compressed(draw) -> Case:
    (height, width), seed = draw(sizes), draw(seeds)
    rgb = picture(seed, height, width)
    fault = draw(st.sampled_from(
        ["truncated_jpeg", "truncated_png", "empty", "corrupt", "random", "bomb", "other",
         "lying"]))  # fmt: skip
    if fault == "truncated_jpeg":
        data = encoded(".jpg", rgb)
        data, expect = data[: draw(st.integers(2, len(data) - 2))], "decode"
    elif fault == "truncated_png":
        data = encoded(".png", rgb)
        data, expect = data[: draw(st.integers(33, len(data) - 13))], "decode"
    elif fault == "empty":
        data, expect = b"", "decode"
    elif fault == "corrupt":  # a real header, then garbage
        data = encoded(draw(st.sampled_from([".jpg", ".png"])), rgb)
        cut = 40 if data.startswith(b"\x89PNG") else 160
        data, expect = data[:cut] + draw(st.binary(min_size=1, max_size=400)), "refused"
    elif fault == "random":
        data = draw(st.binary(min_size=1, max_size=600))
        magic = data.startswith((b"\xff\xd8", b"\x89PNG\r\n\x1a\n"))
        expect = "refused" if magic else "format"
    elif fault == "bomb":
        side = st.integers(1, 65_535)
        w, h = draw(st.tuples(side, side).filter(lambda s: s[0] * s[1] > MAX_PIXELS))
        data, expect = draw(st.sampled_from([jpeg_claiming, png_claiming]))(w, h), "size"
    elif fault == "other":  # formats OpenCV reads, but no camera's image_transport sends
        data, expect = encoded(draw(st.sampled_from(OTHER_FORMATS)), rgb), "format"
    else:  # a header within the limit that does not match the data (8 x 8 pixels)
        data, expect = png_claiming(*draw(sizes)), "refused"  # smaller claims may decode
    msg = CompressedImage(header=header(False), format="jpeg", data=data)
    return Case("image", msg, expect)


@st.composite
def camera_infos(draw) -> Case:
    msg = CameraInfo(header=header(False))
    kind = draw(st.sampled_from(["good", "uncalibrated", "nan", "inf", "negative", "sized"]))
    fx, fy = draw(st.floats(50.0, 500.0)), draw(st.floats(50.0, 500.0))
    cx, cy = draw(st.floats(0.0, 60.0)), draw(st.floats(0.0, 60.0))
    k = {"good": [fx, fy, cx, cy], "uncalibrated": [0.0, 0.0, 0.0, 0.0],
         "nan": [math.nan, fy, cx, cy], "inf": [fx, fy, math.inf, cy],
         "negative": [fx, -fy, cx, cy], "sized": [fx, fy, cx, cy]}[kind]  # fmt: skip
    msg.k = [k[0], 0.0, k[2], 0.0, k[1], k[3], 0.0, 0.0, 1.0]
    if kind == "sized":  # a size that may disagree with the images' aspect ratio
        msg.width, msg.height = draw(sizes)
    expect = "camera_info" if kind in ("nan", "inf", "negative") else "ok"
    return Case("camera_info", msg, expect)


def aspect_mismatch(info: CameraInfo | None, width: int, height: int) -> bool:
    """The node's rule for a CameraInfo that cannot be scaled to the image (its docs)."""
    if info is None or info.k[0] == 0.0 or info.width == 0 or info.height == 0:
        return False
    sx, sy = width / info.width, height / info.height
    return abs(sx - sy) > 0.01 * max(sx, sy)


def decoded_size(case: Case) -> tuple[int, int]:
    if isinstance(case.msg, Image):
        return case.msg.width, case.msg.height
    rgb = cv2.imdecode(np.frombuffer(case.msg.data, np.uint8), cv2.IMREAD_COLOR)
    return rgb.shape[1], rgb.shape[0]


def finite(message: SmplxPeople) -> bool:
    values = [message.fx, message.fy, message.cx, message.cy]
    for p in message.people:
        values += [*p.body_pose, *p.global_orient, *p.betas, *p.expression, *p.transl,
                   *p.left_hand_pose, *p.right_hand_pose, *p.keypoints_2d, p.detection_score,
                   *(c for j in p.joints for c in (j.x, j.y, j.z)),
                   *(c for q in p.joint_orientations for c in (q.x, q.y, q.z, q.w))]  # fmt: skip
    return bool(np.isfinite(np.asarray(values, np.float64)).all())


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        return False
    return True


@pytest.fixture(params=["raw", "compressed"])
def fuzzed(request):
    node = InProcessNode(
        FakePipeline(PipelineConfig(default_fov_deg=60.0, with_vertices=True)),
        detector="full_frame",
        input_transport=request.param,
        max_image_pixels=MAX_PIXELS,
        **{"markers.max_rate_hz": 0.0, "diagnostics.period_s": 60.0},
    )
    probe = Probe(f"fuzz_probe_{request.param}")
    outputs = {
        "people": probe.collect(SmplxPeople, "/pymafx/people", QoSProfile(depth=1000)),
        "tf": probe.collect(TFMessage, "/tf", QoSProfile(depth=1000)),
    }
    wait_until(lambda: node.node.count_subscribers("/pymafx/people") > 0, 20, "the probe")
    try:
        yield request.param, node, outputs
    finally:
        probe.close()
        node.close()


def test_malformed_input_is_refused_counted_and_never_stops_good_frames(fuzzed):
    transport, live, outputs = fuzzed
    stats = live.node.stats
    on_image = live.callback("image" if transport == "raw" else "image/compressed")
    on_info = live.callback("camera_info")
    bad_strategy = bad_images() if transport == "raw" else bad_compressed()
    good_strategy = good_images() if transport == "raw" else good_compressed()
    # About 6 bad images, 2 good ones and 2 CameraInfo (some bad) in every 10 messages.
    mix = st.integers(0, 9).flatmap(
        lambda n: bad_strategy if n < 6 else good_strategy if n < 8 else camera_infos()
    )
    cases = st.lists(mix, min_size=20, max_size=40)
    totals: Counter[str] = Counter()
    measured_peak = reset_peak_rss()
    rss_before = peak_rss_mb()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(cases)
    def run(batch: list[Case]) -> None:
        known_good = CameraInfo(header=header(False))
        known_good.k = [100.0, 0.0, 20.0, 0.0, 100.0, 20.0, 0.0, 0.0, 1.0]
        on_info(known_good)  # each example starts from a calibrated camera
        stored: CameraInfo | None = known_good
        for case in batch:  # each message's effect on the counters, exactly
            before = stats.snapshot()
            if case.topic == "camera_info":
                on_info(case.msg)
                stored = case.msg if case.expect == "ok" else stored
            else:
                on_image(case.msg)
                live.wait_idle()
                # The people publisher keeps the last 5 messages: let the probe take each one
                # before the next frame, or a burst could overwrite some it has not received.
                published = stats.snapshot().processed
                wait_until(
                    lambda n=published: len(outputs["people"]) >= n, 10, "the people message"
                )
            after = stats.snapshot()
            rejected = dict(Counter(after.rejected) - Counter(before.rejected))
            processed = after.processed - before.processed
            assert after.failed == {} and after.dropped == 0, after  # nothing failed inside
            if case.topic == "image" and processed:
                assert case.expect in ("ok", "refused"), case
                mismatch = aspect_mismatch(stored, *decoded_size(case))
                assert rejected == ({"camera_info": 1} if mismatch else {}), (case, rejected)
            elif case.expect == "refused":  # a random payload: any refusal of its kinds
                assert len(rejected) == 1 and set(rejected) <= ANY_REASON, (case, rejected)
            else:
                assert rejected == ({} if case.expect == "ok" else {case.expect: 1}), (
                    case,
                    rejected,
                )
                assert processed == int(case.expect == "ok" and case.topic == "image"), case
            totals["bad" if case.expect != "ok" else "good"] += 1

    run()
    print(f"\n[figure] fuzzed {transport}: {totals['bad']} bad, {totals['good']} good messages")
    assert totals["bad"] >= BAD_PER_TRANSPORT, totals
    processed = stats.snapshot().processed
    wait_until(lambda: len(outputs["people"]) >= processed, 30, "every people message")
    assert all(finite(m) for m in list(outputs["people"]))
    transforms = [t.transform for m in list(outputs["tf"]) for t in m.transforms]
    assert (
        transforms
        and np.isfinite(
            [[t.translation.x, t.translation.y, t.translation.z, t.rotation.w] for t in transforms]
        ).all()
    )
    growth = peak_rss_mb() - rss_before if measured_peak else 0.0
    print(f"[figure] fuzzed {transport}: peak memory grew by {growth:.0f} MB")
    assert growth < 300, f"peak memory grew by {growth:.0f} MB"
