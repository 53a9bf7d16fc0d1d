"""SMPL-X's forward pass in numpy: what follows from a person's parameters, without torch.

Everything the node and the CLI publish about a person's body (joints, global joint rotations,
2D keypoints, fingertips, the mesh) is recomputed here from the person's SMPL-X parameters, so
``smplx.SMPLX`` fed the published parameters reproduces the published values, whatever the
backend's precision and whether the parameters were filtered. The 55 kinematic joints are the
forward kinematics of the shaped rest joints (the rest joints' dependence on betas and
expression is linear: the J_regressor applied to the shape directions, 55 x 3 x 60 numbers);
the 10 fingertips are skinned vertices (10 rows of the blend shapes and weights); the mesh, only
when asked for, is full linear blend skinning (about 15 M multiply-adds per person).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.geometry.camera import Intrinsics, project_points
from pymafx_ros.geometry.person import NUM_JOINTS, PersonResult
from pymafx_ros.geometry.skeleton import (
    BODY_JOINTS,
    JAW,
    LEFT_EYE,
    LEFT_HAND_JOINTS,
    RIGHT_EYE,
    RIGHT_HAND_JOINTS,
    SMPLX_PARENTS,
)

NUM_BETAS = 10
NUM_EXPRESSION = 50
# SMPL-X's vertex joints 66-75 (left thumb, index, middle, ring, pinky tips, then the right
# ones) are entries 11-20 of its vertex joint selector (after nose, eyes, ears and feet).
FINGERTIP_SELECTOR = slice(11, 21)


@dataclass(frozen=True, eq=False)
class SkinningRows:
    """Linear blend skinning data of some vertices (N of them)."""

    template: np.ndarray  # (N, 3) rest vertices
    shape_dirs: np.ndarray  # (N, 3, 60) betas then expression directions
    pose_dirs: np.ndarray  # (486, N * 3) pose blend shapes (smplx's layout)
    weights: np.ndarray  # (N, 55) skinning weights

    def skin(
        self,
        coefficients: np.ndarray,
        pose_feature: np.ndarray,
        rotations: np.ndarray,
        skin_translations: np.ndarray,
    ) -> np.ndarray:
        """(60,) shape coefficients, (486,) pose feature, (55, 3, 3) global rotations and
        (55, 3) skinning translations -> (N, 3) posed vertices."""
        shaped = self.template + self.shape_dirs @ coefficients
        posed = shaped + (pose_feature @ self.pose_dirs).reshape(-1, 3)
        # Blend the 3x4 transforms per vertex, then apply them: smplx's lbs order.
        blended = (self.weights @ rotations.reshape(NUM_JOINTS, 9)).reshape(-1, 3, 3)
        moved = np.einsum("nab,nb->na", blended, posed)
        return moved + self.weights @ skin_translations


@dataclass(frozen=True, eq=False)
class BodyForward:
    """The parts of a loaded SMPL-X model the forward pass needs, as float64/float32 arrays."""

    joint_template: np.ndarray  # (55, 3) J_regressor @ v_template
    joint_dirs: np.ndarray  # (55, 3, 60) J_regressor @ shape directions (betas, expression)
    parents: tuple[int, ...]
    fingertips: SkinningRows  # the 10 fingertip vertices
    mesh: SkinningRows | None = None  # every vertex, kept only when vertices are published

    @classmethod
    def from_arrays(
        cls,
        v_template: np.ndarray,
        shape_dirs: np.ndarray,
        pose_dirs: np.ndarray,
        j_regressor: np.ndarray,
        weights: np.ndarray,
        fingertip_vertices: np.ndarray,
        with_mesh: bool = False,
    ) -> BodyForward:
        """From (V, 3) template, (V, 3, 60) shape directions, (486, V * 3) pose directions,
        (55, V) joint regressor, (V, 55) weights and the (10,) fingertip vertex ids."""
        shape_dirs = np.asarray(shape_dirs)
        if shape_dirs.shape[1:] != (3, NUM_BETAS + NUM_EXPRESSION):
            raise ValueError(f"shape directions must be (V, 3, 60), got {shape_dirs.shape}")
        regressor = np.asarray(j_regressor, dtype=np.float64)
        template = np.asarray(v_template)
        joint_template = regressor @ template.astype(np.float64)
        joint_dirs = np.einsum("jv,vkl->jkl", regressor, shape_dirs.astype(np.float64))
        pose_dirs = np.asarray(pose_dirs)
        vertices = template.shape[0]
        tips = np.asarray(fingertip_vertices, dtype=np.int64)
        # Columns x, y, z of each tip vertex in the (486, V * 3) pose directions.
        tip_columns = (3 * tips[:, None] + np.arange(3)).ravel()
        fingertips = SkinningRows(
            template=template[tips].astype(np.float64),
            shape_dirs=shape_dirs[tips].astype(np.float64),
            pose_dirs=pose_dirs[:, tip_columns].astype(np.float64),
            weights=np.asarray(weights)[tips].astype(np.float64),
        )
        mesh = None
        if with_mesh:
            if pose_dirs.shape != (9 * (NUM_JOINTS - 1), 3 * vertices):
                raise ValueError(f"pose directions must be (486, V*3), got {pose_dirs.shape}")
            # Contiguous float32 copies: a strided (transposed) buffer multiplies 5-10x slower.
            mesh = SkinningRows(
                *(np.ascontiguousarray(a, dtype=np.float32) for a in (template, shape_dirs)),
                *(np.ascontiguousarray(a, dtype=np.float32) for a in (pose_dirs, weights)),
            )
        return cls(joint_template, joint_dirs, SMPLX_PARENTS, fingertips, mesh)

    @classmethod
    def from_smplx_layer(cls, layer: Any, with_mesh: bool = False) -> BodyForward:
        """From the buffers of a loaded ``smplx.SMPLX``/``SMPLXLayer`` (10 betas, 50
        expression coefficients, vertex joints with fingertips)."""

        def array(name: str) -> np.ndarray:
            return getattr(layer, name).detach().cpu().numpy()

        shape_dirs = np.concatenate([array("shapedirs"), array("expr_dirs")], axis=-1)
        selector = layer.vertex_joint_selector.extra_joints_idxs.detach().cpu().numpy()
        return cls.from_arrays(
            array("v_template"),
            shape_dirs,
            array("posedirs"),
            array("J_regressor"),
            array("lbs_weights"),
            selector[FINGERTIP_SELECTOR],
            with_mesh,
        )

    def pose(
        self,
        local_rotations: np.ndarray,
        betas: np.ndarray,
        expression: np.ndarray,
        transl: np.ndarray,
        with_mesh: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(55, 3, 3) local rotations, (10,) betas, (50,) expression, (3,) transl -> joints
        (55, 3), global rotations (55, 3, 3), fingertips (10, 3) and vertices (V, 3) float32
        (None unless ``with_mesh`` and the mesh is kept)."""
        coefficients = np.concatenate([betas, expression]).astype(np.float64)
        rest = self.joint_template + self.joint_dirs @ coefficients
        rotations = np.empty_like(local_rotations, dtype=np.float64)
        posed = np.empty((NUM_JOINTS, 3))
        for joint, parent in enumerate(self.parents):
            if parent < 0:
                rotations[joint], posed[joint] = local_rotations[joint], rest[joint]
                continue
            rotations[joint] = rotations[parent] @ local_rotations[joint]
            posed[joint] = posed[parent] + rotations[parent] @ (rest[joint] - rest[parent])
        skin_translations = posed - np.einsum("jab,jb->ja", rotations, rest)
        pose_feature = (local_rotations[1:] - np.eye(3)).reshape(-1)
        tips = self.fingertips.skin(coefficients, pose_feature, rotations, skin_translations)
        vertices = None
        if with_mesh and self.mesh is not None:
            mesh = self.mesh.skin(
                coefficients.astype(np.float32),
                pose_feature.astype(np.float32),
                rotations.astype(np.float32),
                skin_translations.astype(np.float32),
            )
            vertices = (mesh + transl).astype(np.float32)
        return posed + transl, rotations, tips + transl, vertices


def local_rotations_of(person: PersonResult) -> np.ndarray:
    """The 55 local rotation matrices (55, 3, 3) of a person's axis-angle parameters."""
    axis_angle = np.empty((NUM_JOINTS, 3))
    axis_angle[0] = person.global_orient
    axis_angle[BODY_JOINTS] = np.reshape(person.body_pose, (-1, 3))
    axis_angle[JAW] = person.jaw_pose
    axis_angle[LEFT_EYE] = person.leye_pose
    axis_angle[RIGHT_EYE] = person.reye_pose
    axis_angle[LEFT_HAND_JOINTS] = np.reshape(person.left_hand_pose, (-1, 3))
    axis_angle[RIGHT_HAND_JOINTS] = np.reshape(person.right_hand_pose, (-1, 3))
    return Rotation.from_rotvec(axis_angle).as_matrix()


def posed_person(
    forward: BodyForward, person: PersonResult, intrinsics: Intrinsics, with_mesh: bool
) -> PersonResult:
    """``person`` with joints, joint rotations, fingertips, 2D keypoints (and vertices with
    ``with_mesh``) recomputed from its SMPL-X parameters: the values a consumer's SMPL-X
    gives for them."""
    joints, rotations, tips, vertices = forward.pose(
        local_rotations_of(person), person.betas, person.expression, person.transl, with_mesh
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        keypoints = project_points(joints[None], intrinsics)[0]
    changes: dict[str, object] = dict(
        joints=joints, joint_rotations=rotations, fingertips=tips, keypoints_2d=keypoints
    )
    if vertices is not None:
        changes["vertices"] = vertices
    elif person.vertices is not None:
        # No mesh data kept: the model's mesh moved rigidly with the pelvis (stated in docs).
        changes["vertices"] = (person.vertices + (joints[0] - person.joints[0])).astype(
            person.vertices.dtype
        )
    return dataclasses.replace(person, **changes)
