"""The output bag holds what the running node publishes for the same frames: the same people,
hands, world bodies and TF, byte for byte, with the same stamps (same fake model, real tracking,
the node's own publishing code on both sides)."""

from __future__ import annotations

from bag_factory import BagSpec, write_bag
from fake_pipeline import FakePipeline
from inprocess import InProcessNode
from pymafx_ros.msg import HandKeypointsArray, SmplxPeople, WorldBodies
from rclpy.serialization import deserialize_message, serialize_message
from read_back import read_bag
from rosbags.highlevel import AnyReader
from tf2_msgs.msg import TFMessage

from pymafx_ros.bags.input_bag import InputBag
from pymafx_ros.bags.process_bag import BagOptions, process_bag
from pymafx_ros.ros.pipeline_factory import pipeline_config

PARAMS = {"world_frame": "map", "markers.enable": False, "overlay.enable": False,
          "max_people": 10, "detector": "full_frame"}  # fmt: skip
TOPICS = ("/pymafx/people", "/pymafx/hands", "/pymafx/world_bodies", "/tf")
TYPES = dict(zip(TOPICS, (SmplxPeople, HandKeypointsArray, WorldBodies, TFMessage), strict=True))


def _node_outputs(source) -> dict[str, list[bytes]]:
    """Feed the bag's frames and TF to the real node (its callbacks, in bag order) and record
    what its publishers publish."""
    captured: dict[str, list[bytes]] = {topic: [] for topic in TOPICS}
    node = InProcessNode(None, factory=lambda config: FakePipeline(config), **PARAMS)
    try:
        publisher = node.node._publisher

        def spy(topic, real):
            def publish(msg):
                captured[topic].append(bytes(serialize_message(msg)))
                real(msg)

            return publish

        publisher._people_pub.publish = spy(TOPICS[0], publisher._people_pub.publish)
        publisher._hands_pub.publish = spy(TOPICS[1], publisher._hands_pub.publish)
        world = publisher.world._publisher
        world.publish = spy(TOPICS[2], world.publish)
        send = publisher._send_tf
        publisher._send_tf = lambda transforms: (
            captured["/tf"].append(bytes(serialize_message(_tf(transforms)))),
            send(transforms),
        )
        with InputBag(source) as bag:
            selection = bag.select()
            for message in bag.messages(selection):
                if message.kind == "image":
                    node.callback("image")(message.msg)
                    node.wait_idle()
                elif message.kind == "tf":
                    node.callback(message.topic)(message.msg)
                else:
                    node.callback("camera_info")(message.msg)
    finally:
        node.close()
    return captured


def _tf(transforms):
    return TFMessage(transforms=transforms)


def test_bag_output_equals_what_the_node_publishes(tmp_path):
    source = write_bag(tmp_path / "in", BagSpec(frames=6))
    options = BagOptions(source, tmp_path / "out", overrides=dict(PARAMS), progress=False)
    assert process_bag(options, FakePipeline).exit_code == 0
    written = read_bag(tmp_path / "out")
    live = _node_outputs(source)
    for topic in TOPICS:
        assert len(live[topic]) == 6, topic
        # Compared as messages: CDR's alignment padding bytes are not initialised by rclpy.
        kind = TYPES[topic]
        bag_messages = [deserialize_message(raw, kind) for _, _, raw in written[topic]]
        assert bag_messages == [deserialize_message(raw, kind) for raw in live[topic]], topic


def test_the_node_and_the_bag_build_the_same_pipeline_options(tmp_path):
    from pymafx_ros.bags.params import node_parameters

    offline = pipeline_config(node_parameters(overrides={"markers.enable": False}))
    assert offline.max_people == 10 and offline.tracking.smoothing.enable
    with AnyReader([write_bag(tmp_path / "b", BagSpec(frames=1))]) as reader:
        assert reader.message_count > 0
