"""One HMR-style refinement step of PyMAF-X (``regressor.{0,1,2}``): features + state -> state.

Body, hands and face each have a purely linear fc stack (the official dropouts are inactive at
inference and the release has no activation between its fcs) and residual decoders. Both hands
share one set of weights: the hand branch runs on *hand rows* (any number of hand crops, each
with its own state), independent of the body and face, so hands that are not run cost nothing.
The visibility head, which reads the body's and both hands' hidden features, is a separate call.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from smplx.lbs import batch_rodrigues
from torch import nn

from pymafx_ros.body_models.assets import PyMafxAssets
from pymafx_ros.model.rotations import rotmat_to_rot6d

# IWP "camera features" appended to the body input: vfov, crop ratio, crop centre (x, y).
IWP_CAMERA_FEATURES = (0.8, 0.3, 0.5, 0.5)
POSE_DIM = 24 * 6
SHAPE_DIM = 10
CAM_DIM = 3
HAND_POSE_DIM = 15 * 6
HAND_SHAPE_DIM = 10
FACE_POSE_DIM = 3 * 6
FACE_SHAPE_DIM = 100
EXPRESSION_DIM = 50
ORIENT_DIM = 6
HIDDEN = 1024

# Names of the refined quantities (the official ``init_<name>`` kwargs / ``pred_<name>`` outputs).
STATE_NAMES = (
    "pose", "shape", "cam",
    "lhand", "rhand", "orient_lh", "orient_rh", "shape_lh", "shape_rh", "cam_lh", "cam_rh",
    "face", "orient_fa", "shape_fa", "cam_fa",
)  # fmt: skip
# The per-person part of the state (body and face); hands are refined per hand row.
PERSON_STATE_NAMES = ("pose", "shape", "cam", "face", "orient_fa", "shape_fa", "cam_fa")
# Hand-row state names and the per-person names of the left / right hand they become.
HAND_STATE_NAMES = {
    "hand": ("lhand", "rhand"),
    "orient": ("orient_lh", "orient_rh"),
    "shape": ("shape_lh", "shape_rh"),
    "cam": ("cam_lh", "cam_rh"),
}

INIT_BUFFER_NAMES = (
    "init_cam", "init_exp", "init_face", "init_lhand", "init_orient", "init_pose", "init_rhand",
    "init_shape", "init_shape_fa", "init_shape_rh",
)  # fmt: skip


def _linear_stack(*sizes: int) -> list[nn.Linear]:
    return [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]


class Regressor(nn.Module):
    """Parameter refinement for one feedback iteration, plus the init state it starts from.

    Feature sizes: body ``feat_dim`` (2205 at iteration 0, else 2048), hands/face
    ``feat_dim_part`` (2205, else 1024). ``init_buffers`` maps ``INIT_BUFFER_NAMES`` to [1, D].
    ``body_model`` is the release's SMPL layer; only its buffers are kept (checkpoint layout),
    inference never evaluates it.
    """

    def __init__(
        self,
        feat_dim: int,
        feat_dim_part: int,
        init_buffers: dict[str, torch.Tensor],
        body_model: nn.Module,
    ) -> None:
        super().__init__()
        body_in = feat_dim + POSE_DIM + SHAPE_DIM + CAM_DIM + len(IWP_CAMERA_FEATURES)
        self.fc1, self.fc2 = _linear_stack(body_in, HIDDEN, HIDDEN)
        self.decpose = nn.Linear(HIDDEN, POSE_DIM)
        self.decshape = nn.Linear(HIDDEN, SHAPE_DIM)
        self.deccam = nn.Linear(HIDDEN, CAM_DIM)

        self.fc1_hand, self.fc2_hand = _linear_stack(feat_dim_part + HAND_POSE_DIM, HIDDEN, HIDDEN)
        self.decrhand = nn.Linear(HIDDEN, HAND_POSE_DIM)
        self.fc3_hand = nn.Linear(HIDDEN + HAND_SHAPE_DIM + ORIENT_DIM + CAM_DIM, HIDDEN)
        self.decshape_rhand = nn.Linear(HIDDEN, HAND_SHAPE_DIM)
        self.decorient_rhand = nn.Linear(HIDDEN, ORIENT_DIM)
        self.deccam_rhand = nn.Linear(HIDDEN, CAM_DIM)

        face_in = feat_dim_part + FACE_POSE_DIM + EXPRESSION_DIM
        self.fc1_face, self.fc2_face = _linear_stack(face_in, HIDDEN, HIDDEN)
        self.dechead = nn.Linear(HIDDEN, FACE_POSE_DIM)
        self.decexp = nn.Linear(HIDDEN, EXPRESSION_DIM)
        self.fc3_face = nn.Linear(HIDDEN + FACE_SHAPE_DIM + ORIENT_DIM + CAM_DIM, HIDDEN)
        self.decshape_face = nn.Linear(HIDDEN, FACE_SHAPE_DIM)
        self.decorient_face = nn.Linear(HIDDEN, ORIENT_DIM)
        self.deccam_face = nn.Linear(HIDDEN, CAM_DIM)

        self.fc1_vis, self.fc2_vis = _linear_stack(3 * HIDDEN, HIDDEN, HIDDEN)
        self.decvis = nn.Linear(HIDDEN, 2)

        self.body_model = body_model
        missing = [name for name in INIT_BUFFER_NAMES if name not in init_buffers]
        if missing:
            raise ValueError(f"Regressor: missing init buffers {missing}")
        for name in INIT_BUFFER_NAMES:
            self.register_buffer(name, init_buffers[name])
        # Kept on the model's device (not in the checkpoint): a tensor built from the Python
        # tuple at every call would be a host-to-device copy per call on a GPU.
        self.register_buffer("cam_features", torch.tensor([IWP_CAMERA_FEATURES]), persistent=False)

    def init_state(self, batch: int) -> dict[str, torch.Tensor]:
        """Starting body/face state (``mesh_out[0]``) for ``batch`` people: the names of
        ``PERSON_STATE_NAMES`` plus ``exp``, each [batch, D]."""

        def rows(buffer: torch.Tensor) -> torch.Tensor:
            return buffer.expand(batch, -1)

        return {
            "pose": rows(self.init_pose),
            "shape": rows(self.init_shape),
            "cam": rows(self.init_cam),
            "face": rows(self.init_face),
            "orient_fa": rows(self.init_orient),
            "shape_fa": rows(self.init_shape_fa),
            "cam_fa": rows(self.init_cam),
            "exp": rows(self.init_exp),
        }

    def init_hand_state(self, rows: int) -> dict[str, torch.Tensor]:
        """Starting state of ``rows`` hands (``HAND_STATE_NAMES``, each [rows, D]).

        Both hands start from the right-hand mean (the release never uses ``init_lhand``), the
        body's mean global orientation and the body's camera.
        """
        return {
            "hand": self.init_rhand.expand(rows, -1),
            "orient": self.init_orient.expand(rows, -1),
            "shape": self.init_shape_rh.expand(rows, -1),
            "cam": self.init_cam.expand(rows, -1),
        }

    def forward(
        self,
        x: torch.Tensor,
        xc_hands: torch.Tensor,
        xc_face: torch.Tensor,
        state: dict[str, torch.Tensor],
        hand_state: dict[str, torch.Tensor],
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Refine the state once -> (person state, hand-row state, body hidden [B, 1024], hand
        hidden [H, 1024]); the hidden features feed ``visibility``.

        x: [B, feat_dim]; xc_face [B, feat_dim_part]; state: ``PERSON_STATE_NAMES`` [B, D];
        xc_hands [H, feat_dim_part] and hand_state (``HAND_STATE_NAMES``, [H, D]) for the H hand
        rows. The expression is not refined: as in the release it restarts from ``init_exp``
        each step (any ``exp`` in ``state`` is ignored).
        """
        batch = x.shape[0]
        cam_features = self.cam_features.to(x.dtype).expand(batch, -1)
        body_in = torch.cat([x, state["pose"], state["shape"], state["cam"], cam_features], 1)
        body_hidden = self.fc2(self.fc1(body_in))
        out = {
            "cam": self.deccam(body_hidden) + state["cam"],
            "pose": self.decpose(body_hidden) + state["pose"],
            "shape": self.decshape(body_hidden) + state["shape"],
        }

        hand_pose = hand_state["hand"]
        finger_hidden = self.fc2_hand(self.fc1_hand(torch.cat([xc_hands, hand_pose], 1)))
        hand_in = [finger_hidden, hand_state["shape"], hand_state["orient"], hand_state["cam"]]
        hand_hidden = self.fc3_hand(torch.cat(hand_in, 1))
        hands = {
            "hand": self.decrhand(finger_hidden) + hand_pose,
            "shape": self.decshape_rhand(hand_hidden) + hand_state["shape"],
            "orient": self.decorient_rhand(hand_hidden) + hand_state["orient"],
            "cam": self.deccam_rhand(hand_hidden) + hand_state["cam"],
        }

        exp_init = self.init_exp.expand(batch, -1)
        face_hidden = self.fc2_face(
            self.fc1_face(torch.cat([xc_face, state["face"], exp_init], 1))
        )
        out["face"] = self.dechead(face_hidden) + state["face"]
        out["exp"] = self.decexp(face_hidden) + exp_init
        face_in = [face_hidden, state["shape_fa"], state["orient_fa"], state["cam_fa"]]
        face_hidden = self.fc3_face(torch.cat(face_in, 1))
        out["shape_fa"] = self.decshape_face(face_hidden) + state["shape_fa"]
        out["orient_fa"] = self.decorient_face(face_hidden) + state["orient_fa"]
        out["cam_fa"] = self.deccam_face(face_hidden) + state["cam_fa"]
        return out, hands, body_hidden, hand_hidden

    def visibility(
        self, body_hidden: torch.Tensor, left_hidden: torch.Tensor, right_hidden: torch.Tensor
    ) -> torch.Tensor:
        """Raw hand-visibility scores [B, 2] (left, right) from the hidden features [B, 1024]
        of the body and of each person's two hands; compared with a threshold by the caller."""
        vis_in = torch.cat([body_hidden, left_hidden, right_hidden], 1)
        return self.decvis(self.fc2_vis(self.fc1_vis(vis_in)))


def initial_buffers(assets: PyMafxAssets) -> dict[str, torch.Tensor]:
    """The regressor's ``init_*`` buffers [1, D] from the assets, as the release builds them.

    Mean body pose/shape/cam from ``smpl_mean_params``; hand means as 6D of the SMPL-X
    ``hands_mean{l,r}`` axis-angles (smplx's Rodrigues, for bit-equal buffers); identity jaw and
    eyes; zero expression and hand/face shapes.
    """

    def hand_mean_6d(mean: np.ndarray) -> torch.Tensor:
        rotmat = batch_rodrigues(torch.from_numpy(mean).reshape(-1, 3))
        return rotmat_to_rot6d(rotmat).reshape(1, -1)

    pose = torch.from_numpy(assets.mean_pose).reshape(1, POSE_DIM)
    return {
        "init_cam": torch.from_numpy(assets.mean_cam).reshape(1, CAM_DIM),
        "init_exp": torch.zeros(1, EXPRESSION_DIM),
        "init_face": rotmat_to_rot6d(torch.eye(3).expand(3, 3, 3)).reshape(1, FACE_POSE_DIM),
        "init_lhand": hand_mean_6d(assets.smplx_left_hand.mean),
        "init_orient": pose[:, :ORIENT_DIM].clone(),
        "init_pose": pose,
        "init_rhand": hand_mean_6d(assets.smplx_right_hand.mean),
        "init_shape": torch.from_numpy(assets.mean_shape).reshape(1, SHAPE_DIM),
        "init_shape_fa": torch.zeros(1, FACE_SHAPE_DIM),
        "init_shape_rh": torch.zeros(1, HAND_SHAPE_DIM),
    }
