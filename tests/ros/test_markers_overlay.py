"""Markers (mesh, skeleton, label, DELETEs, colours), mesh decimation and the node's overlay
(the core renderer with a decimated filled mesh, id colours and labels)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fake_pipeline import make_person
from rclpy.serialization import deserialize_message, serialize_message
from smplx_doubles import placeholder_model_info, placeholder_smplx
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.mesh_decimation import MeshDecimator
from pymafx_ros.pipeline.overlay import draw_people
from pymafx_ros.ros.marker_cdr import MarkerSpec, serialize_marker_array, to_message
from pymafx_ros.ros.markers import MarkerBuilder, colour_rgb, skeleton_segments

K = Intrinsics(300.0, 300.0, 160.0, 120.0)


@pytest.fixture(scope="module")
def scene():
    layer = placeholder_smplx()
    people = [make_person(layer, K, 320, 240, seed=s, x_offset=0.9 * s - 0.45) for s in range(2)]
    return placeholder_model_info(), people


def by_key(specs):
    """The markers as a subscriber gets them, by (ns, id); also checks our CDR bytes."""
    array = to_message(specs)
    assert_same_wire(specs)
    return {(m.ns, m.id): m for m in array.markers}


def assert_same_wire(specs):
    """Our bytes have rclpy's length and decode to the same message (rclpy leaves padding
    bytes uninitialised, so the raw bytes may differ there)."""
    ours = serialize_marker_array(specs)
    theirs = serialize_message(to_message(specs))
    assert len(ours) == len(theirs)
    assert deserialize_message(ours, MarkerArray) == deserialize_message(theirs, MarkerArray)


def test_each_person_gets_mesh_skeleton_and_label(scene):
    info, people = scene
    builder = MarkerBuilder(info.faces, info.joint_parents, mesh_fraction=0.25)
    header = Header(frame_id="cam_optical")
    header.stamp.sec = 7
    markers = by_key(builder.build(header, people, ["p1", "p2"]))
    assert set(markers) == {(ns, n) for ns in ("mesh", "skeleton", "label") for n in (1, 2)}
    mesh = markers[("mesh", 1)]
    assert mesh.type == Marker.TRIANGLE_LIST and mesh.action == Marker.ADD
    assert mesh.header.frame_id == "cam_optical" and mesh.header.stamp.sec == 7
    triangles = len(mesh.points) // 3
    assert len(mesh.points) % 3 == 0
    assert 0.2 * len(info.faces) <= triangles <= 0.3 * len(info.faces)
    skeleton = markers[("skeleton", 2)]
    assert skeleton.type == Marker.LINE_LIST and len(skeleton.points) == 2 * 54
    assert markers[("label", 2)].text == "p2"
    # Stable, distinct colours per id.
    assert markers[("mesh", 1)].color.b == pytest.approx(colour_rgb("p1")[2])
    assert colour_rgb("p1") != colour_rgb("p2")
    points = np.array([[p.x, p.y, p.z] for m in markers.values() for p in m.points])
    assert np.isfinite(points).all()


def test_people_who_disappear_are_deleted_once(scene):
    info, people = scene
    builder = MarkerBuilder(info.faces, info.joint_parents, mesh_fraction=0.0)
    builder.build(Header(frame_id="c"), people, ["p1", "p2"])
    second = by_key(builder.build(Header(frame_id="c"), people[:1], ["p1"]))
    deleted = {key for key, m in second.items() if m.action == Marker.DELETE}
    assert deleted == {("mesh", 2), ("skeleton", 2), ("label", 2)}
    assert ("mesh", 1) not in second  # mesh_fraction 0: no mesh marker at all
    third = builder.build(Header(frame_id="c"), people[:1], ["p1"])
    assert all(m.action == Marker.ADD for m in third)


def test_delete_all_clears_everything(scene):
    info, _ = scene
    specs = MarkerBuilder(info.faces, info.joint_parents, 0.5).delete_all(Header())
    assert [m.action for m in by_key(specs).values()] == [Marker.DELETEALL]


def test_skeleton_segments_pair_children_with_parents():
    joints = np.arange(12, dtype=float).reshape(4, 3)
    segments = skeleton_segments(joints, [-1, 0, 1, 1])
    np.testing.assert_array_equal(segments, joints[[1, 0, 2, 1, 3, 1]])


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.7])
def test_decimation_keeps_about_the_asked_fraction(scene, fraction):
    info, people = scene
    decimator = MeshDecimator(people[0].vertices, info.faces, fraction)
    assert abs(len(decimator.faces) / len(info.faces) - fraction) < 0.05
    triangles = decimator.triangles(people[1].vertices)  # same topology, another body
    assert triangles.shape == (len(decimator.faces), 3, 3)
    lo, hi = people[1].vertices.min(axis=0), people[1].vertices.max(axis=0)
    corners = triangles.reshape(-1, 3)
    assert (corners >= lo - 1e-9).all() and (corners <= hi + 1e-9).all()


def test_full_mesh_is_left_untouched(scene):
    info, people = scene
    decimator = MeshDecimator(people[0].vertices, info.faces, 1.0)
    np.testing.assert_array_equal(
        decimator.triangles(people[0].vertices), people[0].vertices[info.faces]
    )


def test_overlay_paints_inside_the_people_only(scene):
    info, people = scene
    image = np.full((240, 320, 3), 100, dtype=np.uint8)
    decimator = MeshDecimator(people[0].vertices, info.faces, 0.3)
    decimated = [dataclasses.replace(p, vertices=decimator.centres(p.vertices)) for p in people]
    colours = [tuple(int(255 * c) for c in colour_rgb(i)) for i in ("p1", "p2")]
    out = draw_people(
        image, decimated, K, info.joint_parents, decimator.faces, colours, ["p1", "p2"],
        mesh_style="fill", with_details=False,
    )  # fmt: skip
    assert out.shape == image.shape and out.dtype == np.uint8
    assert (image == 100).all()  # the input is not modified
    changed = np.abs(out.astype(int) - 100).max(axis=2) > 10
    inside = np.zeros_like(changed)
    for person in people:
        box = person.body_box
        inside[int(box.y0) : int(np.ceil(box.y1)) + 1, int(box.x0) : int(np.ceil(box.x1)) + 1] = 1
        inside[max(int(box.y0) - 20, 0) : int(box.y0) + 1, int(box.x0) : int(box.x0) + 40] = 1
    assert changed.sum() > 500  # something was drawn ...
    assert not (changed & ~inside).any()  # ... and only on the people (and their labels)


def test_marker_bytes_match_rclpy_for_every_field_and_odd_sizes():
    rng = np.random.default_rng(1)
    specs = [
        MarkerSpec(
            stamp=(int(rng.integers(0, 2**31)), int(rng.integers(0, 10**9))),
            frame_id="f" * n,  # string lengths that leave every padding case
            ns="n" * (n + 1),
            id=n,
            type=Marker.TRIANGLE_LIST,
            action=Marker.ADD,
            position=tuple(rng.normal(size=3)),
            orientation=tuple(rng.normal(size=4)),
            scale=tuple(rng.normal(size=3)),
            color=tuple(rng.random(4)),
            points=rng.normal(size=(3 * n, 3)),
            text="é" * n,
        )
        for n in range(6)
    ]
    assert_same_wire(specs)
    assert_same_wire([])
