"""Pipeline results -> our messages: FrameResult -> SmplxPeople, ModelInfo -> SmplxModelInfo.

Pure functions (no node); 3D stays in the image's optical frame, the header is the image's.
"""

from __future__ import annotations

import array
import math
from collections.abc import Sequence

import numpy as np
from geometry_msgs.msg import Point, Pose, Quaternion
from sensor_msgs.msg import RegionOfInterest
from std_msgs.msg import Header

from pymafx_ros.geometry.body_frames import body_orientations, quaternions_xyzw
from pymafx_ros.geometry.hemispheres import Hemispheres
from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.msg import (
    HandKeypoints,
    HandKeypointsArray,
    SmplxModelInfo,
    SmplxPeople,
    SmplxPerson,
)
from pymafx_ros.pipeline.hands import hand_outputs
from pymafx_ros.pipeline.result import FrameResult, ModelInfo

_FLOAT32_MAX = float(np.finfo(np.float32).max)


_REP155_ID = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def is_publishable(person: PersonResult) -> bool:
    """True when the person has a track id in REP-155 syntax (it names TF frames) and every
    value is finite, also after the cast to float32 that the message does."""
    track_id = person.track_id
    if not (track_id and track_id[0].isalpha() and set(track_id) <= _REP155_ID):
        return False
    if not person.is_finite():
        return False
    arrays = (person.joints, person.transl, person.keypoints_2d, person.betas, person.expression)
    return all(np.abs(a).max(initial=0.0) < _FLOAT32_MAX for a in arrays)


def box_to_roi(box: Box | None, width: int, height: int) -> RegionOfInterest:
    """A pixel box as RegionOfInterest clipped to the image; all zeros when absent or empty."""
    if box is None:
        return RegionOfInterest()
    clipped = box.clipped(width, height)
    x0, y0 = math.floor(clipped.x0), math.floor(clipped.y0)
    x1, y1 = math.ceil(clipped.x1), math.ceil(clipped.y1)
    if x1 <= x0 or y1 <= y0:
        return RegionOfInterest()
    return RegionOfInterest(x_offset=x0, y_offset=y0, width=x1 - x0, height=y1 - y0)


def _f32(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32).reshape(-1)


def _f32_seq(values: np.ndarray) -> array.array:
    return array.array("f", _f32(values).tobytes())


def root_pose(person: PersonResult, quaternion_xyzw: np.ndarray | None = None) -> Pose:
    """The REP-155 body frame (pelvis origin, x forward, z up) in the camera frame
    (``quaternion_xyzw``: its orientation when already computed)."""
    q = quaternion_xyzw
    if q is None:
        q = quaternions_xyzw(body_orientations(person.joint_rotations[:1]))[0]
    p = person.joints[0]
    return Pose(
        position=Point(x=float(p[0]), y=float(p[1]), z=float(p[2])),
        orientation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])),
    )


def person_message(
    person: PersonResult,
    person_id: str,
    width: int,
    height: int,
    hemispheres: Hemispheres | None = None,
) -> SmplxPerson:
    """One PersonResult as SmplxPerson (parameters as float32, joints and orientations;
    ``hemispheres`` keeps each orientation on the sign it had in the person's last message)."""
    quats = quaternions_xyzw(body_orientations(person.joint_rotations))
    if hemispheres is not None:
        quats = hemispheres.keep(("joints", person_id), quats)
    return SmplxPerson(
        id=person_id,
        age_frames=int(person.age_frames),
        smoothed=bool(person.smoothed),
        detection_score=float(person.detection_score),
        body_box=box_to_roi(person.body_box, width, height),
        left_hand_box=box_to_roi(person.left_hand_box, width, height),
        right_hand_box=box_to_roi(person.right_hand_box, width, height),
        face_box=box_to_roi(person.face_box, width, height),
        left_hand_visibility=float(person.left_hand_visibility),
        right_hand_visibility=float(person.right_hand_visibility),
        face_visibility=float(person.face_visibility),
        left_hand_valid=bool(person.left_hand_valid),
        right_hand_valid=bool(person.right_hand_valid),
        face_valid=bool(person.face_valid),
        face_estimated=bool(person.face_estimated),
        global_orient=_f32(person.global_orient),
        body_pose=_f32(person.body_pose),
        jaw_pose=_f32(person.jaw_pose),
        leye_pose=_f32(person.leye_pose),
        reye_pose=_f32(person.reye_pose),
        left_hand_pose=_f32(person.left_hand_pose),
        right_hand_pose=_f32(person.right_hand_pose),
        betas=_f32_seq(person.betas),
        expression=_f32_seq(person.expression),
        transl=_f32(person.transl),
        root_pose=root_pose(person, quats[0]),
        joints=[Point(x=x, y=y, z=z) for x, y, z in np.asarray(person.joints, float).tolist()],
        joint_orientations=[Quaternion(x=x, y=y, z=z, w=w) for x, y, z, w in quats.tolist()],
        keypoints_2d=_f32_seq(person.keypoints_2d),
    )


def people_message(
    header: Header,
    frame: FrameResult,
    people: Sequence[PersonResult],
    ids: Sequence[str],
    hemispheres: Hemispheres | None = None,
) -> SmplxPeople:
    """SmplxPeople for one image: ``people`` (already filtered to publishable) with ``ids``."""
    k = frame.intrinsics
    w, h = frame.image_width, frame.image_height
    return SmplxPeople(
        header=header,
        image_width=w,
        image_height=h,
        fx=float(k.fx),
        fy=float(k.fy),
        cx=float(k.cx),
        cy=float(k.cy),
        intrinsics_from_camera_info=bool(k.from_camera_info),
        placeholder_assets=bool(frame.placeholder_assets),
        placeholder_weights=bool(frame.placeholder_weights),
        smoothing=bool(frame.smoothing),
        people=[person_message(p, i, w, h, hemispheres) for p, i in zip(people, ids, strict=True)],
    )


def _points(values: np.ndarray) -> list[Point]:
    return [Point(x=x, y=y, z=z) for x, y, z in np.asarray(values, float).tolist()]


def hands_message(
    header: Header,
    people: Sequence[PersonResult],
    ids: Sequence[str],
    wrist_frame: str,
    smoothing: bool,
    hemispheres: Hemispheres | None = None,
) -> HandKeypointsArray:
    """Both hands of every person (left, then right) for retargeting; a person without
    fingertips (a result from outside the pipeline) has no hands here."""
    hands = []
    for person, person_id in zip(people, ids, strict=True):
        if person.fingertips is None:
            continue
        for hand in hand_outputs(person, wrist_frame):
            quaternion = hand.wrist_quaternion_xyzw
            if hemispheres is not None:
                quaternion = hemispheres.keep((f"{hand.side}_wrist", person_id), quaternion[None])[
                    0
                ]
            x, y, z, w = quaternion.tolist()
            px, py, pz = hand.wrist_position.tolist()
            hands.append(
                HandKeypoints(
                    person_id=person_id,
                    side=HandKeypoints.LEFT if hand.side == "left" else HandKeypoints.RIGHT,
                    valid=hand.valid,
                    wrist_pose=Pose(
                        position=Point(x=px, y=py, z=pz),
                        orientation=Quaternion(x=x, y=y, z=z, w=w),
                    ),
                    keypoints_camera=_points(hand.keypoints_camera),
                    keypoints_wrist=_points(hand.keypoints_wrist),
                    wrist_frame=wrist_frame,
                )
            )
    return HandKeypointsArray(header=header, smoothing=smoothing, hands=hands)


def model_info_message(info: ModelInfo, header: Header) -> SmplxModelInfo:
    """The latched model description."""
    faces = np.ascontiguousarray(info.faces, dtype=np.uint32).reshape(-1)
    return SmplxModelInfo(
        header=header,
        model_type="smplx",
        joint_names=list(info.joint_names),
        joint_parents=array.array("i", [int(p) for p in info.joint_parents]),
        num_vertices=int(info.num_vertices),
        faces=array.array("I", faces.tobytes()),
        num_betas=int(info.num_betas),
        num_expression_coeffs=int(info.num_expression_coeffs),
        flat_hand_mean=True,
        use_pca=False,
        assets_source=info.assets_source,
        weights_source=info.weights_source,
        placeholder_assets=bool(info.placeholder_assets),
        placeholder_weights=bool(info.placeholder_weights),
    )
