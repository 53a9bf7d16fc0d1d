"""launch/pymafx.launch.py and config/pymafx.rviz, checked without the `launch` packages:
the file is evaluated against recording stubs, then the node is started with the equivalent
--ros-args and its name, namespace, remapped topics and parameters are checked on the graph."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import cv2
import pytest
import yaml
from graph import REPO, Probe, start_fake_node, wait_until
from launch_stubs import load_launch_file, ros_args
from pymafx_ros.msg import SmplxPeople
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

from pymafx_ros.demo.sample_clip import sample_frames

pytestmark = pytest.mark.slow  # subprocess graph

LAUNCH_FILE = REPO / "launch" / "pymafx.launch.py"
# The source tree has the share layout (launch/, config/) that CMake installs.
SHARES = {"pymafx_ros": REPO, "rviz2": Path("/opt/ros/share/rviz2")}


def test_defaults_start_only_the_node_with_the_package_config():
    declared, nodes = load_launch_file(LAUNCH_FILE, SHARES)
    assert set(declared) == {"image", "camera_info", "params_file", "namespace", "rviz",
                             "fixed_frame"}  # fmt: skip
    assert all(d.description for d in declared.values())
    (node,) = nodes
    assert (node.package, node.executable, node.name, node.namespace) == (
        "pymafx_ros", "pymafx_node", "pymafx", "",
    )  # fmt: skip
    assert node.parameters == [str(REPO / "config" / "pymafx.yaml")]
    assert node.remappings == [
        ("image", "/camera/color/image_raw"),
        ("image/compressed", "/camera/color/image_raw/compressed"),
        ("camera_info", "/camera/color/camera_info"),
    ]
    executable = REPO / "bin" / node.executable  # CMake installs bin/* as the executables
    assert os.access(executable, os.X_OK)


def test_rviz_gets_the_config_and_the_fixed_frame():
    _, nodes = load_launch_file(LAUNCH_FILE, SHARES, rviz="true", fixed_frame="cam_optical")
    rviz = next(n for n in nodes if n.package == "rviz2")
    config_path = REPO / "config" / "pymafx.rviz"
    assert rviz.arguments == ["-d", str(config_path), "-f", "cam_optical"]
    config = yaml.safe_load(config_path.read_text())["Visualization Manager"]
    displays = {d["Class"]: d for d in config["Displays"]}
    assert displays["rviz_default_plugins/MarkerArray"]["Topic"]["Value"] == "pymafx/markers"
    assert displays["rviz_default_plugins/Image"]["Topic"]["Value"] == "pymafx/overlay"
    assert "rviz_default_plugins/TF" in displays
    assert config["Global Options"]["Fixed Frame"] == "camera_color_optical_frame"


def send_jpeg_until_answered(probe, image_topic: str, people_topic: str):
    frame = sample_frames(1, 256)[0]
    ok, jpeg = cv2.imencode(".jpg", frame[:, :, ::-1])
    assert ok
    people = probe.collect(SmplxPeople, people_topic)
    publisher = probe.publisher(CompressedImage, image_topic)
    wait_until(lambda: publisher.get_subscription_count() > 0, 10, "the compressed subscription")
    for _ in range(20):
        header = Header(stamp=probe.node.get_clock().now().to_msg(), frame_id="cam_optical")
        publisher.publish(CompressedImage(header=header, format="jpeg", data=jpeg.tobytes()))
        try:
            wait_until(lambda: people, 3, "people")
            return people[0]
        except AssertionError:
            continue
    raise AssertionError("no answer to compressed frames")


def test_launched_node_has_its_name_namespace_remaps_and_parameters(tmp_path):
    defaults = yaml.safe_load((REPO / "config" / "pymafx.yaml").read_text())
    parameters = defaults["/**/pymafx"]["ros__parameters"]
    parameters.update(
        {
            "detector": "full_frame",
            "max_people": 2,
            "tf.prefix": "cam1/",
            "input_transport": "compressed",
        }
    )
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(defaults))
    _, (spec,) = load_launch_file(
        LAUNCH_FILE,
        SHARES,
        namespace="cam1",
        image="/cam/img",
        camera_info="/cam/info",
        params_file=str(params_file),
    )
    node = start_fake_node(ros_args(spec), tmp_path / "node.log")
    probe = Probe("launch_probe")
    try:
        graph = probe.node
        wait_until(
            lambda: ("pymafx", "/cam1") in graph.get_node_names_and_namespaces(), 30, "the node"
        )

        # The graph fills in as discovery goes on: wait for every expected entry first.
        def entries() -> tuple[dict, dict, dict]:
            return tuple(
                dict(query("pymafx", "/cam1"))
                for query in (
                    graph.get_subscriber_names_and_types_by_node,
                    graph.get_publisher_names_and_types_by_node,
                    graph.get_service_names_and_types_by_node,
                )
            )

        expected = (
            {"/cam/img/compressed", "/cam/info"},
            {"/cam1/pymafx/people", "/cam1/pymafx/markers", "/tf"},
            {"/cam1/pymafx/enable"},
        )
        wait_until(
            lambda: all(want <= set(got) for want, got in zip(expected, entries(), strict=True)),
            10,
            "the node's remapped topics and its service",
        )
        subscribed, published, services = entries()
        assert subscribed["/cam/img/compressed"] == ["sensor_msgs/msg/CompressedImage"]
        assert subscribed["/cam/info"] == ["sensor_msgs/msg/CameraInfo"]
        assert "/cam/img" not in subscribed
        assert published["/cam1/pymafx/people"] == ["pymafx_ros/msg/SmplxPeople"]
        assert services["/cam1/pymafx/enable"] == ["std_srvs/srv/SetBool"]
        client = AsyncParameterClient(graph, "/cam1/pymafx")
        assert client.wait_for_services(timeout_sec=10)
        future = client.get_parameters(["detector", "max_people", "tf.prefix", "tf.joints"])
        wait_until(future.done, 10, "the parameter service")
        values = [v.string_value or v.integer_value for v in future.result().values]
        assert values == ["full_frame", 2, "cam1/", "body"]
        # A JPEG on the remapped compressed topic comes back as people, TF names prefixed.
        answer = send_jpeg_until_answered(probe, "/cam/img/compressed", "/cam1/pymafx/people")
        assert answer.people and answer.header.frame_id == "cam_optical"
    finally:
        probe.close()
        code = node.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in node.log(), node.log()
