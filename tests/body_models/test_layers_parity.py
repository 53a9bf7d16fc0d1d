"""SMPL-X / MANO / FLAME layers against the official outputs in parity_seed0.npz."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pymafx_ros.body_models import joint_maps as jm
from pymafx_ros.body_models.vertex_map import SparseVertexMap
from pymafx_ros.model.rotations import rot6d_to_rotmat

TOL = 1e-5
# A: demo path; B: predicted visibility; C/D: regressor 2 alone with compensated wrist twists.
PREFIXES = ("A_m3_", "B_m3_", "C_out_", "D_out_")
SMPLX_OUTPUTS = (
    "smplx_verts",
    "verts",
    "pred_joints",
    "smpl_kp_3d",
    "pred_lhand_kp3d",
    "pred_rhand_kp3d",
    "pred_face_kp3d",
    "verts_lh",
    "verts_rh",
    "dynlmk_yaw_deg_smplx",
)


def _t(fixture, key: str) -> torch.Tensor:
    return torch.from_numpy(fixture[key])


def _smplx_inputs(fixture, prefix: str) -> dict[str, torch.Tensor]:
    body = _t(fixture, prefix + "rotmat")
    face = _t(fixture, prefix + "pred_face_rotmat")
    return {
        "betas": _t(fixture, prefix + "pred_shape"),
        "global_orient": body[:, :1],
        "body_pose": body[:, 1:22],
        "jaw_pose": face[:, 0:1],
        "leye_pose": face[:, 1:2],
        "reye_pose": face[:, 2:3],
        "left_hand_pose": _t(fixture, prefix + "pred_lhand_rotmat"),
        "right_hand_pose": _t(fixture, prefix + "pred_rhand_rotmat"),
        "expression": _t(fixture, prefix + "pred_exp"),
    }


def _max_error(a: torch.Tensor, b: np.ndarray) -> float:
    assert tuple(a.shape) == b.shape
    return float((a - torch.from_numpy(b)).abs().max())


@pytest.mark.parametrize("prefix", PREFIXES)
def test_smplx_matches_official(family, parity_fixture, prefix):
    with torch.no_grad():
        out = family.smplx(**_smplx_inputs(parity_fixture, prefix))
    for key in SMPLX_OUTPUTS:
        assert _max_error(out[key], parity_fixture[prefix + key]) < TOL, key


@pytest.mark.parametrize("prefix", PREFIXES)
def test_kp3d_for_2d_projects_to_official_keypoints(family, parity_fixture, prefix):
    with torch.no_grad():
        points = family.smplx(**_smplx_inputs(parity_fixture, prefix))["kp3d_for_2d"]
    s, tx, ty = parity_fixture[prefix + "pred_cam"][0]
    tz = 2 * 5000 / (224 * s + 1e-9)
    xyz = points[0].numpy()
    projected = 5000 * (xyz[:, :2] + [tx, ty]) / (xyz[:, 2:] + tz) / 112.0
    official = np.concatenate(
        [
            parity_fixture[prefix + name][0]
            for name in ("kp_2d", "pred_lhand_kp2d", "pred_rhand_kp2d", "pred_face_kp2d",
                         "pred_feet_kp2d")
        ]
    )  # fmt: skip
    assert projected.shape == (jm.NUM_KP2D, 2) == official.shape
    np.testing.assert_allclose(projected, official, atol=1e-5)


def test_expression_reaches_smplx_only_when_asked(family, parity_fixture):
    inputs = _smplx_inputs(parity_fixture, "A_m3_")
    with torch.no_grad():
        neutral = family.smplx(**inputs)["smplx_verts"]
        zeroed = family.smplx(**{**inputs, "expression": torch.zeros(1, 50)})["smplx_verts"]
        expressive = family.smplx(**inputs, apply_expression=True)["smplx_verts"]
    assert torch.equal(neutral, zeroed)
    assert float((expressive - neutral).abs().max()) > 1e-4


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("side", ["lh", "rh"])
def test_mano_matches_official(family, parity_fixture, prefix, side):
    finger_key = "pred_lhand" if side == "lh" else "pred_rhand"
    six_d = torch.cat(
        [
            _t(parity_fixture, f"{prefix}pred_orient_{side}"),
            _t(parity_fixture, prefix + finger_key),
        ],
        dim=1,
    )
    rotations = rot6d_to_rotmat(six_d.reshape(1, 16, 6))
    with torch.no_grad():
        out = family.mano(
            rotations[:, :1], rotations[:, 1:], _t(parity_fixture, f"{prefix}pred_shape_{side}")
        )
    expected = parity_fixture[f"{prefix}verts_{side}_mano"]
    assert _max_error(out["vertices"], expected) < TOL
    assert out["joints"].shape == (1, 21, 3)
    # fingertips are the MANO tip vertices, in thumb..pinky order at slots 4, 8, 12, 16, 20
    tips = out["vertices"][0, list(jm.MANO_TIP_VERTICES)]
    assert torch.equal(out["joints"][0, 4::4], tips)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_flame_matches_official(family, parity_fixture, prefix):
    six_d = torch.cat(
        [_t(parity_fixture, prefix + "pred_orient_fa"), _t(parity_fixture, prefix + "pred_face")],
        dim=1,
    )
    rot = rot6d_to_rotmat(six_d.reshape(1, 4, 6))
    with torch.no_grad():
        out = family.flame(
            rot[:, 0:1],
            rot[:, 1:2],
            rot[:, 2:3],
            rot[:, 3:4],
            _t(parity_fixture, prefix + "pred_shape_fa"),
            _t(parity_fixture, prefix + "pred_exp"),
        )
    assert _max_error(out["vertices"], parity_fixture[prefix + "verts_fa_flame"]) < TOL
    yaw = parity_fixture[prefix + "dynlmk_yaw_deg_flame"]
    assert _max_error(out["dynlmk_yaw_deg_flame"], yaw) < TOL
    assert out["landmarks"].shape == (1, 68, 3)


@pytest.mark.parametrize("section", ["A", "B", "C", "D"])
def test_tpose_joints_match_integration_internals(family, parity_fixture, section):
    shape_key = {"A": "A_m3_", "B": "B_m3_", "C": "C_out_", "D": "D_out_"}[section]
    with torch.no_grad():
        joints = family.tpose_joints(_t(parity_fixture, shape_key + "pred_shape"))
    expected = parity_fixture[f"{section}_feat_integr_tpose_joints"]
    assert _max_error(joints, expected) < TOL


def test_family_exposes_smplx_kinematics(family, assets):
    assert len(family.joint_names) == 55 and family.joint_names[:2] == ("pelvis", "left_hip")
    assert family.parents.shape == (55,) and int(family.parents[0]) == -1
    np.testing.assert_array_equal(family.parents.numpy(), assets.smplx.parents)
    assert family.faces.shape == (20908, 3) and family.faces.dtype == np.int64
    assert family.J_regressor.shape == (55, 10475)
    assert family.v_template.shape == (10475, 3)
    assert family.shapedirs.shape == (10475, 3, 10)


def test_bad_input_is_named(family, parity_fixture):
    inputs = _smplx_inputs(parity_fixture, "A_m3_")
    with pytest.raises(ValueError, match=r"body_pose: expected shape \[B, 21, 3, 3\]"):
        family.smplx(**{**inputs, "body_pose": inputs["body_pose"][:, :20]})
    with pytest.raises(ValueError, match="betas: expected float32"):
        family.smplx(**{**inputs, "betas": inputs["betas"].double()})


def test_batch_of_two_matches_single(family, parity_fixture):
    one = _smplx_inputs(parity_fixture, "A_m3_")
    other = _smplx_inputs(parity_fixture, "C_out_")
    both = {k: torch.cat([one[k], other[k]]) for k in one}
    with torch.no_grad():
        batched = family.smplx(**both)
        single = family.smplx(**other)
    for key in ("verts", "kp3d_for_2d", "dynlmk_yaw_deg_smplx"):
        torch.testing.assert_close(batched[key][1:], single[key], rtol=0, atol=1e-6)


def test_sparse_fallback_equals_gather():
    rng = np.random.default_rng(3)
    matrix = sp.random(40, 30, density=0.3, random_state=rng, format="csr", dtype=np.float32)
    vertices = torch.from_numpy(rng.standard_normal((2, 30, 3)).astype(np.float32))
    expected = torch.from_numpy(np.einsum("rc,bcd->brd", matrix.toarray(), vertices.numpy()))
    gather = SparseVertexMap(matrix)
    fallback = SparseVertexMap(matrix, max_gather_width=1)
    assert gather.use_gather and not fallback.use_gather
    torch.testing.assert_close(gather(vertices), expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(fallback(vertices), expected, rtol=0, atol=1e-5)
