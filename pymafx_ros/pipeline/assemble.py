"""Final model output + detections + intrinsics -> one ``PersonResult`` per person.

Everything per frame is batched over people; only the last step splits into results. People
with any non-finite value are dropped here and counted, so nothing non-finite is ever published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.geometry.camera import Intrinsics, project_points
from pymafx_ros.geometry.person import NUM_JOINTS, Box, PersonResult
from pymafx_ros.pipeline.kinematics import local_rotations, smplx_pose
from pymafx_ros.pipeline.lift import lift_translation

# The release's MODEL.PyMAF.HAND_VIS_TH: a hand at or below it gets the mean finger pose.
HAND_VISIBILITY_GATE = 0.1
# SMPL-X's fingertip joints (vertex joints after the 55 kinematic ones and 11 face/feet ones).
FINGERTIPS = slice(66, 76)
# The model has no face gate (its face expert always drives jaw, eyes and expression); the face
# counts as valid when the detector saw it with the same confidence the release asks of hands.
FACE_VISIBILITY_GATE = 0.1


@dataclass
class FinalOutput:
    """The model's last iteration as float64 numpy arrays, batch B = number of people."""

    cams: np.ndarray  # (B, 3) body crop weak-perspective (s, tx, ty)
    body_rotmat: np.ndarray  # (B, 24, 3, 3)
    face_rotmat: np.ndarray  # (B, 3, 3, 3) jaw, left eye, right eye
    left_hand_rotmat: np.ndarray  # (B, 15, 3, 3) as given to SMPL-X
    right_hand_rotmat: np.ndarray  # (B, 15, 3, 3)
    betas: np.ndarray  # (B, 10)
    expression: np.ndarray  # (B, 50)
    all_joints: np.ndarray  # (B, J, 3) model frame, metres: 55 kinematic joints, then extras
    vertices: np.ndarray | None  # (B, V, 3) model frame, metres
    hand_visibility: np.ndarray  # (B, 2) left, right as the model gated them

    @classmethod
    def from_model(cls, output: BackendOutput, with_vertices: bool) -> FinalOutput:
        """Read the model's final output (shared README §8 names), with one device-to-host
        copy for all of it."""
        keys = list(_OUTPUT_KEYS) + (["smplx_verts"] if with_vertices else [])
        arrays = host_arrays(output.as_dict(), keys)
        cams = arrays["pred_cam"]
        batch = cams.shape[0]
        visibility = arrays["pred_vis_hands"]
        # (2B,) [left block; right block] when the detector's visibilities were fed, else (B, 2).
        hands = visibility.reshape(2, batch).T if visibility.ndim == 1 else visibility
        return cls(
            cams=cams,
            body_rotmat=arrays["rotmat"],
            face_rotmat=arrays["pred_face_rotmat"],
            left_hand_rotmat=arrays["pred_lhand_rotmat"],
            right_hand_rotmat=arrays["pred_rhand_rotmat"],
            betas=arrays["pred_shape"],
            expression=arrays["pred_exp"],
            all_joints=arrays["smplx_joints"],
            vertices=arrays["smplx_verts"] if with_vertices else None,
            hand_visibility=np.asarray(hands, dtype=np.float64),
        )


_OUTPUT_KEYS = (
    "pred_cam",
    "rotmat",
    "pred_face_rotmat",
    "pred_lhand_rotmat",
    "pred_rhand_rotmat",
    "pred_shape",
    "pred_exp",
    "smplx_joints",
    "pred_vis_hands",
)


def host_arrays(output: Mapping[str, torch.Tensor], keys: Sequence[str]) -> dict[str, np.ndarray]:
    """``output[key]`` for each key as float64 numpy arrays, copied from the device in ONE
    transfer: the tensors are packed into one flat buffer on the device first, so a GPU frame
    pays one synchronisation instead of one per key."""
    missing = [key for key in keys if key not in output]
    if missing:
        raise KeyError(f"model output lacks {missing}; got keys {sorted(output)}")
    tensors = [output[key].detach() for key in keys]
    dtype = tensors[0].dtype
    for tensor in tensors[1:]:
        dtype = torch.promote_types(dtype, tensor.dtype)
    packed = torch.cat([tensor.reshape(-1).to(dtype) for tensor in tensors])
    flat = packed.to("cpu").numpy().astype(np.float64)
    arrays, start = {}, 0
    for key, tensor in zip(keys, tensors, strict=True):
        arrays[key] = flat[start : start + tensor.numel()].reshape(tensor.shape)
        start += tensor.numel()
    return arrays


def part_box(box: PartBox) -> Box:
    """Square (cx, cy, size) -> corner box (x0, y0, x1, y1) in pixels."""
    half = box.size / 2.0
    return Box(box.cx - half, box.cy - half, box.cx + half, box.cy + half)


def assemble_people(
    output: FinalOutput,
    detections: Sequence[PersonDetection],
    intrinsics: Intrinsics,
    track_ids: Sequence[str] | None = None,
    face_estimated: bool = True,
) -> tuple[list[PersonResult], int]:
    """Lift, convert and split the batch into people, each with its ``track_ids`` entry;
    returns (people, number dropped). ``face_estimated`` False: the face expert did not run
    (its neutral face is flagged, and no face counts as valid)."""
    body_boxes = np.array([[d.body.cx, d.body.cy, d.body.size] for d in detections], np.float64)
    model_joints = output.all_joints[:, :NUM_JOINTS]
    translation, lift_ok = lift_translation(model_joints, output.cams, body_boxes, intrinsics)
    pose = smplx_pose(
        local_rotations(
            output.body_rotmat,
            output.face_rotmat,
            output.left_hand_rotmat,
            output.right_hand_rotmat,
        )
    )
    joints = model_joints + translation[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        keypoints = project_points(joints, intrinsics)
    people: list[PersonResult] = []
    dropped = 0
    for index, detection in enumerate(detections):
        vertices = None
        if output.vertices is not None:
            vertices = (output.vertices[index] + translation[index]).astype(np.float32)
        person = PersonResult(
            detection_score=float(detection.score),
            body_box=part_box(detection.body),
            left_hand_box=part_box(detection.left_hand),
            right_hand_box=part_box(detection.right_hand),
            face_box=part_box(detection.face),
            left_hand_visibility=float(detection.vis_lhand),
            right_hand_visibility=float(detection.vis_rhand),
            face_visibility=float(detection.vis_face),
            left_hand_valid=bool(output.hand_visibility[index, 0] > HAND_VISIBILITY_GATE),
            right_hand_valid=bool(output.hand_visibility[index, 1] > HAND_VISIBILITY_GATE),
            face_valid=face_estimated and bool(detection.vis_face > FACE_VISIBILITY_GATE),
            betas=output.betas[index].copy(),
            expression=output.expression[index].copy(),
            transl=translation[index].copy(),
            joints=joints[index].copy(),
            joint_rotations=pose.global_rotations[index].copy(),
            keypoints_2d=keypoints[index].copy(),
            vertices=vertices,
            fingertips=output.all_joints[index, FINGERTIPS] + translation[index],
            track_id=track_ids[index] if track_ids is not None else "",
            face_estimated=face_estimated,
            **pose.parameters(index),
        )
        if lift_ok[index] and person.is_finite():
            people.append(person)
        else:
            dropped += 1
    return people, dropped
