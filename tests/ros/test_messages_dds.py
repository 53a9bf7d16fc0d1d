"""Every message type crosses DDS between two processes with all fields intact.

A publisher process (this file run as a script) and the test's subscriber build the same sample
messages with a deterministic filler that gives EVERY field, nested ones included, a value
different from its default; the subscriber compares every field of what arrives. Discovery is
kept on loopback with a test-unique domain and topic names, and every wait is a bounded loop on
a condition (matched subscription, received count), never a fixed sleep.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

TIMEOUT_S = 60.0
# Reliable + transient-local: nothing is lost whichever side discovers the other first.
QOS_DEPTH = 1
SAMPLES = ("people", "nobody", "model_info", "tf", "hands", "world_bodies")


def _message_types():
    from pymafx_ros.msg import HandKeypointsArray, SmplxModelInfo, SmplxPeople, WorldBodies
    from tf2_msgs.msg import TFMessage

    return {
        "people": SmplxPeople,
        "nobody": SmplxPeople,
        "model_info": SmplxModelInfo,
        "tf": TFMessage,
        "hands": HandKeypointsArray,
        "world_bodies": WorldBodies,
    }


# --- deterministic filling and field-by-field comparison ----------------------------------------


def _slots(msg) -> Iterator[tuple[str, object]]:
    """(field name, rosidl type) pairs of a message instance."""
    return zip(msg.get_fields_and_field_types(), type(msg).SLOT_TYPES, strict=True)


def _message_class(namespaced_type):
    module = importlib.import_module(".".join(namespaced_type.namespaces))
    return getattr(module, namespaced_type.name)


class _Filler:
    """Assigns distinct non-default values (exact in float32) to every field, recursively."""

    def __init__(self) -> None:
        self.counter = 0

    def message(self, cls):
        msg = cls()
        for name, slot in _slots(msg):
            setattr(msg, name, self.value(slot))
        return msg

    def value(self, slot):
        from rosidl_parser import definition as d

        if isinstance(slot, d.NamespacedType):
            return self.message(_message_class(slot))
        if isinstance(slot, d.Array):
            return [self.value(slot.value_type) for _ in range(slot.size)]
        if isinstance(slot, d.AbstractSequence):
            return [self.value(slot.value_type) for _ in range(2)]
        self.counter += 1
        k = self.counter
        if isinstance(slot, d.AbstractGenericString):
            return f"field_{k}"
        kind = slot.typename
        if kind == "boolean":
            return True
        if kind in ("float", "double"):
            return k + 0.25
        if kind.startswith("int"):
            return -(k % 100) - 1
        if kind.startswith("uint") or kind in ("octet", "char"):
            return k % 200 + 1
        raise NotImplementedError(f"no sample value for field type {kind}")


def build_samples() -> dict[str, object]:
    """The messages under test, identical in every process."""
    types = _message_types()
    filler = _Filler()
    samples = {name: filler.message(types[name]) for name in SAMPLES}
    samples["nobody"].people = []  # an empty array is a valid message: nobody seen
    return samples


def differences(sent, received, path: str = "") -> list[str]:
    """Paths of every leaf field whose value differs between two messages."""
    if hasattr(sent, "get_fields_and_field_types"):
        if type(sent) is not type(received):
            return [f"{path}: {type(sent).__name__} != {type(received).__name__}"]
        found = []
        for name, _slot in _slots(sent):
            found += differences(getattr(sent, name), getattr(received, name), f"{path}.{name}")
        return found
    if isinstance(sent, str) or not hasattr(sent, "__len__"):
        return [] if sent == received else [f"{path}: {sent!r} != {received!r}"]
    if len(sent) != len(received):
        return [f"{path}: length {len(sent)} != {len(received)}"]
    if len(sent) and not hasattr(sent[0], "get_fields_and_field_types"):
        same = np.array_equal(np.asarray(sent), np.asarray(received))
        return [] if same else [f"{path}: {list(sent)} != {list(received)}"]
    found = []
    for i, (a, b) in enumerate(zip(sent, received, strict=True)):
        found += differences(a, b, f"{path}[{i}]")
    return found


def _qos():
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        depth=QOS_DEPTH,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


# --- the publishing process ---------------------------------------------------------------------


def publish(prefix: str) -> None:
    """Publish each sample once its subscriber has matched; stay up until stdin closes."""
    import rclpy

    rclpy.init()
    node = rclpy.create_node("dds_sample_publisher")
    samples = build_samples()
    publishers = {
        name: node.create_publisher(type(msg), f"{prefix}/{name}", _qos())
        for name, msg in samples.items()
    }
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and not all(
        p.get_subscription_count() for p in publishers.values()
    ):
        rclpy.spin_once(node, timeout_sec=0.05)
    for name, msg in samples.items():
        publishers[name].publish(msg)
    print("published", flush=True)
    sys.stdin.read()  # the test closes stdin once it has everything (or gives up)
    node.destroy_node()
    rclpy.shutdown()


# --- the test (subscribing process) -------------------------------------------------------------


def fields_at_default(msg, path: str = "") -> list[str]:
    """Paths of leaf fields still equal to their default (sequences: when empty)."""
    blank = type(msg)()
    found = []
    for name, _slot in _slots(msg):
        value, default, where = getattr(msg, name), getattr(blank, name), f"{path}.{name}"
        if hasattr(value, "get_fields_and_field_types"):
            found += fields_at_default(value, where)
        elif isinstance(value, str) or not hasattr(value, "__len__"):
            found += [where] if value == default else []
        elif len(value) == 0:
            found.append(where)
        elif hasattr(value[0], "get_fields_and_field_types"):
            for i, item in enumerate(value):
                found += fields_at_default(item, f"{where}[{i}]")
        elif len(default) and np.any(np.asarray(value) == np.asarray(default)):
            found.append(where)
    return found


def test_samples_fill_every_field():
    """Guards the test itself: a field left at its default could be dropped unnoticed."""
    samples = build_samples()
    assert {name: fields_at_default(msg) for name, msg in samples.items()} == {
        "people": [],
        "nobody": [".people"],
        "model_info": [],
        "tf": [],
        "hands": [],
        "world_bodies": [],
    }
    assert len(samples["people"].people) == 2
    assert differences(samples["people"], build_samples()["people"]) == []
    changed = build_samples()["people"]
    changed.people[1].joints[0].z += 1.0
    diffs = differences(samples["people"], changed)
    assert len(diffs) == 1 and diffs[0].startswith(".people[1].joints[0].z:"), diffs


@pytest.mark.slow  # a second process over DDS
def test_every_message_crosses_dds_between_processes_intact(monkeypatch):
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    domain_id = os.getpid() % 100 + 1
    prefix = f"/dds_test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain_id))
    expected = build_samples()

    context = Context()
    rclpy.init(context=context, domain_id=domain_id)
    node = rclpy.create_node("dds_sample_subscriber", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    received: dict[str, object] = {}
    for name, msg in expected.items():
        node.create_subscription(
            type(msg), f"{prefix}/{name}", lambda m, n=name: received.setdefault(n, m), _qos()
        )
    publisher = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "publish", prefix],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while len(received) < len(expected) and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
            if publisher.poll() is not None:
                break
    finally:
        out, err = publisher.communicate(input="", timeout=TIMEOUT_S)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)

    assert publisher.returncode == 0, f"publisher failed:\n{out}\n{err}"
    assert sorted(received) == sorted(expected), f"missing: {set(expected) - set(received)}"
    for name, msg in expected.items():
        assert not differences(msg, received[name]), name
    assert received["nobody"].people == []


if __name__ == "__main__":
    publish(sys.argv[2])
