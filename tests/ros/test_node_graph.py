"""The node across processes (real node, test-double pipeline): frames in; people, TF, markers,
overlay, model description and diagnostics out, with the image's stamps and frame; bad
encodings refused by name; pause/resume; a clean Ctrl-C.

One node serves the module (starting one takes seconds), behind a fixture that gives every
test the same state (inference enabled, camera calibrated): the tests run alone or in any
order. The Ctrl-C test stops a node of its own. "Nothing arrived" is never asserted after a
sleep: frames are processed in order, so once a later frame is answered, anything for the
earlier ones would have come first."""

from __future__ import annotations

import contextlib
import signal
import time

import numpy as np
import pytest
import torch
from camera import FRAME_ID, TestCamera, fake_node_graph
from diagnostic_msgs.msg import DiagnosticStatus
from graph import Probe, latest_status, stamp_ns, start_fake_node, status_values, wait_until
from pymafx_ros.msg import SmplxModelInfo, SmplxPeople
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo, Image
from smplx_doubles import placeholder_smplx
from visualization_msgs.msg import Marker, MarkerArray

pytestmark = pytest.mark.slow  # subprocess graph

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
NODE_ARGS = [
    "-p", "detector:=full_frame",
    "-p", "tf.joints:=body_hands",
    "-p", "markers.max_rate_hz:=0.0",
    "-p", "markers.mesh_decimation:=0.1",
    "-p", "diagnostics.period_s:=0.5",
    # Raw estimates here, so SMPL-X on the message's parameters must give its joints exactly,
    # and a person is published from their first frame (tests here alternate people and empty
    # frames); tracking, smoothing, hands and the world frame are tested in test_node_tracking.
    "-p", "smoothing.enable:=false",
    "-p", "tracking.confirm_frames:=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def shared_graph(tmp_path_factory):
    topics = {"markers": (MarkerArray, "/pymafx/markers"), "overlay": (Image, "/pymafx/overlay")}
    log = tmp_path_factory.mktemp("node") / "node.log"
    with fake_node_graph(NODE_ARGS, log, "graph_probe", topics, with_tf=True) as g:
        yield g


def set_enabled(graph, enabled: bool):
    from std_srvs.srv import SetBool

    client = graph.probe.node.create_client(SetBool, "/pymafx/enable")
    try:
        return graph.probe.call(client, SetBool.Request(data=enabled))
    finally:
        graph.probe.node.destroy_client(client)


@pytest.fixture
def graph(shared_graph):
    """The shared node in its usual state: alive, inference enabled, camera calibrated."""
    assert shared_graph.node.proc.poll() is None, shared_graph.node.log()
    set_enabled(shared_graph, True)
    shared_graph.camera.round_trip()
    return shared_graph


def markers_at(graph, stamp):
    return [a for a in list(graph.markers) if a.markers and stamp_ns(a.markers[0].header) == stamp]


def test_model_description_is_latched_for_late_subscribers(graph):
    late = graph.probe.collect(SmplxModelInfo, "/pymafx/model_info", LATCHED)
    wait_until(lambda: late, 10, "the latched model description")
    info = late[0]
    assert info.joint_names[:3] == ["pelvis", "left_hip", "right_hip"] and len(info.faces) > 0
    assert info.placeholder_assets and info.header.frame_id == ""


def test_frames_in_give_people_tf_and_markers_with_the_image_stamp(graph):
    for _ in range(3):
        msg = graph.camera.round_trip()
        stamp = stamp_ns(msg.header)
        assert msg.header.frame_id == FRAME_ID and msg.intrinsics_from_camera_info
        assert (msg.image_width, msg.image_height, msg.fx) == (256, 256, 250.0)
        assert len(msg.people) == 1
        person = msg.people[0]
        wait_until(lambda s=stamp: len(graph.tf.frames_at(s)) == 53, 5, "TF at the stamp")
        frames = graph.tf.frames_at(stamp)
        assert frames[f"body_{person.id}"] == FRAME_ID
        assert frames[f"left_index1_{person.id}"] == f"left_wrist_{person.id}"
        # The TF chain lands on the published joints (left wrist = joint 20).
        wrist = graph.tf.lookup(FRAME_ID, f"left_wrist_{person.id}", stamp)
        joint = person.joints[20]
        np.testing.assert_allclose(wrist[:3, 3], [joint.x, joint.y, joint.z], atol=1e-6)
        wait_until(lambda s=stamp: markers_at(graph, s), 5, "markers at the stamp")
        # Only ADDs: a frame may also DELETE an earlier track's markers (a long pause between
        # tests ends that track, and the person comes back under a new id).
        markers = markers_at(graph, stamp)[0].markers
        kinds = {(m.ns, m.type) for m in markers if m.action == Marker.ADD}
        assert kinds == {
            ("mesh", Marker.TRIANGLE_LIST),
            ("skeleton", Marker.LINE_LIST),
            ("label", Marker.TEXT_VIEW_FACING),
        }
    # One transform per child frame per stamp, never repeated.
    transforms = [t for m in list(graph.tf.messages) for t in m.transforms]
    pairs = [(t.child_frame_id, stamp_ns(t.header)) for t in transforms]
    assert len(pairs) == len(set(pairs))


def test_smplx_on_the_message_parameters_gives_its_joints(graph):
    msg = graph.camera.round_trip()
    layer = placeholder_smplx()
    person = msg.people[0]
    names = ("global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose",
             "left_hand_pose", "right_hand_pose", "betas", "expression", "transl")  # fmt: skip
    inputs = {n: torch.tensor(np.asarray(getattr(person, n), np.float32)[None]) for n in names}
    with torch.no_grad():
        joints = layer(**inputs).joints[0, :55].numpy()
    published = np.array([[p.x, p.y, p.z] for p in person.joints])
    assert np.abs(joints - published).max() < 1e-3


def test_overlay_carries_the_image_header(graph):
    stamp = stamp_ns(graph.camera.round_trip().header)
    wait_until(lambda: any(stamp_ns(o.header) == stamp for o in graph.overlay), 5, "overlay")
    overlay = next(o for o in graph.overlay if stamp_ns(o.header) == stamp)
    assert (overlay.width, overlay.height, overlay.encoding) == (256, 256, "rgb8")
    assert overlay.header.frame_id == FRAME_ID


def test_nobody_gives_an_empty_message_and_deletes_markers(graph):
    shown = graph.camera.round_trip().people[0].id
    msg = graph.camera.round_trip(rgb=np.zeros((256, 256, 3), np.uint8))
    assert msg.people == []
    stamp = stamp_ns(msg.header)
    wait_until(lambda: markers_at(graph, stamp), 5, "markers after the person left")
    deleted = {(m.ns, m.action) for m in markers_at(graph, stamp)[0].markers}
    assert deleted == {(ns, Marker.DELETE) for ns in ("mesh", "skeleton", "label")}
    assert shown.startswith("p")


def test_uncalibrated_camera_falls_back_to_the_default_and_warns(graph):
    uncalibrated = CameraInfo(width=256, height=256)
    msg = graph.camera.round_trip(camera_info=uncalibrated)
    assert not msg.intrinsics_from_camera_info
    assert msg.fx == pytest.approx(128.0 / np.tan(np.radians(30.0)))  # default 60 deg FOV
    wait_until(lambda: "uncalibrated (K[0]==0)" in graph.node.log(), 5, "the warning")
    wait_until(lambda: level_of(graph, "pymafx: input") == DiagnosticStatus.WARN, 5, "WARN")
    assert graph.camera.round_trip().intrinsics_from_camera_info  # calibrated again
    wait_until(lambda: level_of(graph, "pymafx: input") == DiagnosticStatus.OK, 5, "OK")


def level_of(graph, name):
    status = latest_status(graph.diagnostics, name)
    return None if status is None else status.level


def values_of(graph, name):
    return status_values(graph.diagnostics, name)


@pytest.mark.parametrize(
    ("encoding", "corrupt", "needle"),
    [
        ("16UC1", False, "unsupported image encoding '16UC1'"),
        ("rgb8", True, "expected step*height"),
    ],
)
def test_bad_images_are_refused_by_name_and_never_answered(graph, encoding, corrupt, needle):
    bad_stamps = []
    for _ in range(10):  # a frame can be lost on the way; resend until the node has said it
        header = graph.camera.header()
        image = Image(header=header, height=4, width=4, encoding=encoding, step=8, data=bytes(32))
        if corrupt:
            image.step, image.data = 12, bytes(47)
        graph.camera.image_pub.publish(image)
        bad_stamps.append(stamp_ns(header))
        if needle in graph.node.log():
            break
        time.sleep(0.3)
    assert needle in graph.node.log()
    graph.camera.round_trip()  # processed in order: anything for the bad frames came before
    answered = {stamp_ns(m.header) for m in list(graph.people)}
    assert not answered & set(bad_stamps)
    wait_until(
        lambda: int(values_of(graph, "pymafx: input")["messages rejected"]) >= 1, 5, "count"
    )


def test_enable_service_pauses_and_resumes_inference(graph):
    assert set_enabled(graph, False).success
    wait_until(lambda: values_of(graph, "pymafx: inference")["state"] == "paused", 5, "paused")
    ignored = lambda: int(values_of(graph, "pymafx: input")["frames ignored (paused)"])  # noqa: E731
    base, paused = ignored(), []
    while ignored() < base + 3 and len(paused) < 30:  # sensor-data QoS may lose a frame
        seen = ignored()
        paused.append(graph.camera.send())
        with contextlib.suppress(AssertionError):
            wait_until(lambda seen=seen: ignored() > seen, 1, "a paused frame")
    # Resume only once the node has seen them: the service could overtake the images.
    assert ignored() >= base + 3
    assert set_enabled(graph, True).success
    assert graph.camera.round_trip().people  # answered after resuming ...
    # ... and in order, so an answer to a paused frame would have come before it.
    assert not {stamp_ns(m.header) for m in list(graph.people)} & set(paused)


def test_diagnostics_report_rates_latency_and_placeholder_error(graph):
    processed = lambda: int(values_of(graph, "pymafx: inference")["frames processed"])  # noqa: E731
    wait_until(lambda: "frames processed" in values_of(graph, "pymafx: inference"), 5, "")
    before = processed()
    for _ in range(3):
        graph.camera.round_trip()
    # A status sent after these frames (an earlier one may still say "paused").
    wait_until(lambda: processed() >= before + 3, 5, "the processed frames counted")
    assert level_of(graph, "pymafx: model") == DiagnosticStatus.ERROR  # placeholders in use
    model = values_of(graph, "pymafx: model")
    assert model["placeholder assets"] == "true" and model["placeholder weights"] == "true"
    inference = values_of(graph, "pymafx: inference")
    assert inference["state"] == "running" and inference["frames failed"] == "0"
    assert "latency end to end (stamp to publish) (ms) p50/p95/max" in inference
    assert "latency pipeline (ms) p50/p95/max" in inference
    assert "frames dropped (replaced while waiting)" in values_of(graph, "pymafx: input")


def test_ctrl_c_stops_cleanly_and_clears_the_markers(tmp_path):
    node = start_fake_node([*NODE_ARGS, "-r", "__ns:=/own"], tmp_path / "node.log")
    probe = Probe("ctrl_c_probe")
    try:
        markers = probe.collect(MarkerArray, "/own/pymafx/markers")
        camera = TestCamera(probe, probe.collect(SmplxPeople, "/own/pymafx/people"), "/own")
        wait_until(lambda: camera.image_pub.get_subscription_count() > 0, 60, "the node")
        camera.round_trip(attempts=20, wait_s=3.0)
        wait_until(lambda: markers, 5, "the markers")
        count = len(markers)
        assert node.stop(signal.SIGINT) == 0
        assert "Traceback" not in node.log(), node.log()
        wait_until(lambda: len(markers) > count, 5, "the final DELETEALL")
        assert markers[-1].markers[0].action == Marker.DELETEALL
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.wait()
        probe.close()
