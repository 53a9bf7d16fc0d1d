"""PyMAF-X v1.1 full-body network: encoders, pyramidal mesh-alignment feedback loop, integration.

Same steps and order as the official inference path (reference README sections 4-5): encode the
body, the hands and the face; start from the mean state; for t = 0, 1, 2 sample image features
(grid at t = 0, grid + projected mesh points after), reduce them (point MLP, or attention +
point MLP + linear fusion), refine the parameters with ``regressor[t]`` and, at t = 2, decide
hand visibility, put the visible hands' wrists into the body and decode SMPL-X. Submodule names
equal the official state-dict keys; SMPL-X/MANO/FLAME (``body_models``) stay outside it.

Hands run as *hand rows* (``hand_rows``): only the crops given, so a hand below the visibility
gate need not go through the hand expert at all. ``infer`` is the whole inference as one
export-friendly function of tensors (what the backends export); ``predict`` and ``forward``
wrap it with the release's call and output layout.
"""

from __future__ import annotations

import torch
from torch import nn

from pymafx_ros.body_models.assets import PyMafxAssets
from pymafx_ros.body_models.layers import BodyModelFamily
from pymafx_ros.body_models.smpl_body import build_smpl_body_model
from pymafx_ros.model.alignment_attention import AlignmentAttention
from pymafx_ros.model.face_expert import absent_face_maps, face_flags, hold_face
from pymafx_ros.model.hand_integration import HAND_VISIBILITY_THRESHOLD
from pymafx_ros.model.hand_rows import (
    all_hands_rows,
    hands_to_run,
    per_person,
    release_visibility,
    select_hands,
    visibility_inputs,
    without_hands,
)
from pymafx_ros.model.hrnet import HRNetW48Encoder
from pymafx_ros.model.loop_points import LoopPoints
from pymafx_ros.model.mesh_decoding import decode
from pymafx_ros.model.mesh_samplers import DensePoseHead, IndexSampler, MatrixSampler
from pymafx_ros.model.output_profile import OutputProfile, profile_decoding
from pymafx_ros.model.parity_probe import record, record_encoders
from pymafx_ros.model.point_features import GRID_POINTS, aligned_features, grid_features
from pymafx_ros.model.point_mlp import PointMLP
from pymafx_ros.model.pose_resnet import PoseResNetDeconvEncoder
from pymafx_ros.model.projection import sampling_grid
from pymafx_ros.model.regressor import HAND_STATE_NAMES, HIDDEN, Regressor, initial_buffers

Tensors = dict[str, torch.Tensor]

PARTS = ("body", "hand", "face")
NUM_ITERATIONS = 3
POINT_FEATURES = 5  # per-point output of every point MLP
BODY_LEVEL_CHANNELS = (192, 96, 48)
PART_LEVEL_CHANNELS = (256, 256, 256)
MLP_HIDDEN = (128, 64)
ATTENTION_HIDDEN = 64
FUSED_FEATURES = {"body": 2048, "hand": 1024, "face": 1024}
MESH_POINTS = {"body": 431, "hand": 195, "face": 708}


class PyMAFX(nn.Module):
    """The full-body regressor. ``forward`` returns the four ``mesh_out`` dicts of the release;
    ``predict`` only the final one; ``infer`` is the export-friendly core of both."""

    def __init__(self, assets: PyMafxAssets) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict(
            {
                "body": HRNetW48Encoder(),
                "hand": PoseResNetDeconvEncoder(),
                "face": PoseResNetDeconvEncoder(),
            }
        )
        self.dp_head = DensePoseHead()
        self.mesh_sampler = MatrixSampler(
            torch.from_numpy(assets.smpl_down_map), torch.from_numpy(assets.smpl_up_map)
        )
        self.mano_sampler = MatrixSampler(
            torch.from_numpy(assets.mano_down_map), torch.from_numpy(assets.mano_up_map)
        )
        self.flame_sampler = IndexSampler(torch.from_numpy(assets.flame_sampling_idx))
        self.register_buffer("grid_points", sampling_grid())

        # The release keeps an (unused) copy of the SMPL maps in each of the 9 point MLPs; one
        # shared tensor holds them here.
        shared_down = torch.from_numpy(assets.smpl_down_map.copy())
        shared_up = torch.from_numpy(assets.smpl_up_map.copy())
        self.maf_extractor = nn.ModuleDict()
        self.align_attention = nn.ModuleDict()
        self.att_feat_reduce = nn.ModuleDict()
        for part in PARTS:
            levels = BODY_LEVEL_CHANNELS if part == "body" else PART_LEVEL_CHANNELS
            first = [levels[0], *MLP_HIDDEN, POINT_FEATURES]
            later = [ATTENTION_HIDDEN, POINT_FEATURES]
            self.maf_extractor[part] = nn.ModuleList(
                PointMLP(first if t == 0 else later, shared_down, shared_up)
                for t in range(NUM_ITERATIONS)
            )
            num_points = GRID_POINTS + MESH_POINTS[part]
            self.align_attention[part] = nn.ModuleList(
                AlignmentAttention(levels[t], num_points) for t in range(1, NUM_ITERATIONS)
            )
            self.att_feat_reduce[part] = nn.ModuleList(
                nn.Linear(POINT_FEATURES * num_points, FUSED_FEATURES[part])
                for _ in range(1, NUM_ITERATIONS)
            )

        init = initial_buffers(assets)
        grid_features_size = POINT_FEATURES * GRID_POINTS
        self.regressor = nn.ModuleList(
            Regressor(
                feat_dim=grid_features_size if t == 0 else FUSED_FEATURES["body"],
                feat_dim_part=grid_features_size if t == 0 else FUSED_FEATURES["hand"],
                init_buffers={name: value.clone() for name, value in init.items()},
                body_model=build_smpl_body_model(assets),
            )
            for t in range(NUM_ITERATIONS)
        )
        # SMPL-X/MANO/FLAME are not in the checkpoint: a plain attribute keeps them out of the
        # state dict; _apply below still moves them with the network.
        self.__dict__["body_models"] = BodyModelFamily(assets)
        self._smplx_to_smpl = assets.smplx_to_smpl
        self._rebuild_loop_points()
        # The samplers' matrices come from the checkpoint too: LoopPoints follows them.
        self.register_load_state_dict_post_hook(lambda module, _: module._rebuild_loop_points())
        self.prepared_for_inference = False

    def _rebuild_loop_points(self) -> None:
        loop_points = LoopPoints(
            self.body_models,
            self._smplx_to_smpl,
            self.mesh_sampler.Dmap,
            self.mano_sampler.Dmap,
            self.flame_sampler.sampling_idx,
        )
        self.__dict__["loop_points"] = loop_points.to(self.mesh_sampler.Dmap.device)

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.body_models._apply(fn, recurse)
        self.loop_points._apply(fn, recurse)
        return self

    # ----------------------------------------------------------------- encoders
    def encode(
        self, img_body: torch.Tensor, img_hands: torch.Tensor, img_face: torch.Tensor | None
    ) -> dict[str, list[torch.Tensor]]:
        """Feature pyramids (coarse to fine) of body [B], hand rows [H] and face [B] crops;
        without face crops the face encoder is not run (zero maps, see ``face_expert``)."""
        hand = self.encoders["hand"](img_hands)
        if img_face is None:
            face = absent_face_maps(img_body.shape[0], hand)
        else:
            face = self.encoders["face"](img_face)
        return {"body": self.encoders["body"](img_body), "hand": hand, "face": face}

    def prepare_for_inference(self) -> None:
        """Speed the encoders up for eager eval-mode inference on CPU (outputs equal to float
        rounding): BNs folded into the convolutions, channels-last memory, in-place ReLUs,
        weights kept in oneDNN's layout (see ``ImageEncoder.prepare_for_inference``).
        Idempotent. Export the model as loaded instead: the exported backends fold BNs
        themselves and the packed weights are CPU-eager only.

        Call only after loading the weights: the encoders' ``state_dict`` then no longer has
        the checkpoint layout (no BN entries, conv biases), ``load_checkpoint`` refuses the
        model and it cannot go back to training mode.
        """
        if self.training:
            raise RuntimeError("PyMAFX: call .eval() before prepare_for_inference()")
        for encoder in self.encoders.values():
            encoder.prepare_for_inference()
        self.prepared_for_inference = True

    def train(self, mode: bool = True) -> PyMAFX:
        if mode and self.prepared_for_inference:
            raise RuntimeError(
                "PyMAFX was prepared for inference (BatchNorms folded away) and cannot train; "
                "build a fresh model to train"
            )
        return super().train(mode)

    # ----------------------------------------------------------------- feature extraction
    def iteration_features(
        self,
        t: int,
        pyramids: dict[str, list[torch.Tensor]],
        points: Tensors | None,
        probe: Tensors | None = None,
        fused: bool = True,
    ) -> Tensors:
        """Regressor inputs of iteration t: ``body`` [B,F], ``hand`` [H,F'] (hand rows),
        ``face`` [B,F']; at t >= 1 without ``fused``, the fusion layers' inputs instead.
        ``points`` (per part, from ``LoopPoints``) is unused at t = 0."""
        if t == 0:
            return {
                part: grid_features(
                    part, self.maf_extractor[part][0], self.grid_points, pyramids[part][0], probe
                )
                for part in PARTS
            }
        if points is None:
            raise ValueError(f"iteration {t} samples mesh points: pass the previous mesh's")
        return {
            part: aligned_features(
                part,
                t,
                (
                    self.align_attention[part][t - 1],
                    self.maf_extractor[part][t],
                    self.att_feat_reduce[part][t - 1] if fused else None,
                ),
                self.grid_points,
                pyramids[part][t],
                points[part],
                probe,
            )
            for part in PARTS
        }

    # ----------------------------------------------------------------- the feedback loop
    def _person_params(self, t: int, person: Tensors, hands: Tensors, hand_rows: torch.Tensor):
        """Person-level parameters: body/face state plus each person's left/right hand state
        gathered from the hand rows (a hand that was not run keeps its initial state)."""
        params = dict(person)
        initial = self.regressor[t].init_hand_state(1)
        for name, (left_name, right_name) in HAND_STATE_NAMES.items():
            params[left_name], params[right_name] = per_person(
                hands[name], initial[name], hand_rows
            )
        return params

    def _final_visibility(
        self,
        regressor: Regressor,
        body_hidden: torch.Tensor,
        hand_hidden: torch.Tensor,
        hand_rows: torch.Tensor,
        vis_hands: torch.Tensor,
        predict_visibility: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(visible [B,2] bool, scores [B,2]): the given scores, or the visibility head's when
        ``predict_visibility``; a hand that was not run is never visible."""
        left, right = per_person(hand_hidden, hand_hidden.new_zeros(1, HIDDEN), hand_rows)
        predicted = regressor.visibility(body_hidden, left, right)
        scores = torch.where(predict_visibility, predicted, vis_hands)
        was_run = hand_rows < hand_hidden.shape[0]
        return (scores > HAND_VISIBILITY_THRESHOLD) & was_run, scores

    def refine(
        self,
        pyramids: dict[str, list[torch.Tensor]],
        hand_rows: torch.Tensor,
        vis_hands: torch.Tensor,
        predict_visibility: torch.Tensor,
        profile: OutputProfile = "release",
        keep_all: bool = False,
        probe: Tensors | None = None,
        steps: nn.ModuleList | None = None,
        run_face: torch.Tensor | None = None,
    ) -> list[Tensors]:
        """The feedback loop on encoder pyramids (see ``encode``) -> the final ``mesh_out``
        (with ``hand_visibility`` [B,2] scores), preceded by the init mesh and the meshes of
        iterations 0-1 when ``keep_all`` (otherwise those are never decoded). ``steps``: the
        ``FoldedStep`` per iteration (``fold_steps``) replacing fusion and regressor layers.

        hand_rows [B,2], vis_hands [B,2] (left, right), predict_visibility: 0-d bool (use the
        visibility head instead of vis_hands). ``profile`` (``output_profile``) applies to the
        final mesh. ``run_face`` [B] bool: a person whose face is not run keeps the initial face
        state (``face_expert.hold_face``); None: every face runs.
        """
        batch = pyramids["body"][0].shape[0]
        state = self.regressor[0].init_state(batch)
        initial = state
        hand_state = self.regressor[0].init_hand_state(pyramids["hand"][0].shape[0])
        outputs_list = []
        if keep_all:
            params = self._person_params(0, state, hand_state, hand_rows)
            outputs_list.append(decode(self.body_models, params, self.regressor[0].init_rhand))
        points = None
        for t in range(NUM_ITERATIONS):
            features = self.iteration_features(t, pyramids, points, probe, steps is None)
            record(probe, "body", f"reg{t}_in_x", features["body"])
            record(probe, "hand", f"reg{t}_in_xc_{{}}", features["hand"])
            record(probe, "face", f"reg{t}_in_xc_{{}}", features["face"])
            regressor = self.regressor[t]
            if steps is None:
                state, hand_state, body_hidden, hand_hidden = regressor(
                    features["body"], features["hand"], features["face"], state, hand_state
                )
            else:
                state, hand_state, body_hidden, hand_hidden = steps[t](features, state, hand_state)
            state = hold_face(state, initial, run_face)
            if t < NUM_ITERATIONS - 1:
                points = self.loop_points.people(state, regressor.init_rhand)
                points["hand"] = self.loop_points.hands(hand_state)
                if keep_all:
                    params = self._person_params(t, state, hand_state, hand_rows)
                    outputs_list.append(decode(self.body_models, params, regressor.init_rhand))
                continue
            visibility = self._final_visibility(
                regressor, body_hidden, hand_hidden, hand_rows, vis_hands, predict_visibility
            )
            params = self._person_params(t, state, hand_state, hand_rows)
            outputs_list.append(
                decode(
                    self.body_models,
                    params,
                    regressor.init_rhand,
                    visibility,
                    *profile_decoding(profile),
                    probe,
                )
            )
        return outputs_list

    def infer(
        self,
        img_body: torch.Tensor,
        img_hands: torch.Tensor,
        hand_rows: torch.Tensor,
        img_face: torch.Tensor | None,
        vis_hands: torch.Tensor,
        predict_visibility: torch.Tensor,
        profile: OutputProfile = "joints",
    ) -> Tensors:
        """The whole inference as one function of tensors (what the backends export).

        img_body, img_face [B,3,224,224] (img_face None: the face expert is left out, see
        ``face_expert``); img_hands [H,3,224,224] hand rows (right crops as they are, left
        crops mirrored; see ``hand_rows.select_hands``); hand_rows [B,2] int64; vis_hands
        [B,2] float scores (left, right) and predict_visibility 0-d bool, see ``refine``.
        Returns the final mesh of ``profile`` (``output_profile``).
        """
        _check_rows(img_body, img_hands, hand_rows, img_face, vis_hands)
        pyramids = self.encode(img_body, img_hands, img_face)
        run_face = face_flags(img_face, img_body)
        return self.refine(
            pyramids, hand_rows, vis_hands, predict_visibility, profile, run_face=run_face
        )[-1]

    # ----------------------------------------------------------------- the release's calls
    def forward(
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor,
        img_rhand: torch.Tensor,
        img_face: torch.Tensor,
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        probe: Tensors | None = None,
    ) -> list[Tensors]:
        """Crops [B,3,224,224] (ImageNet-normalised RGB; the left hand as cropped, unflipped)
        and optional detector hand confidences [B] -> ``mesh_out`` [init, it. 1, 2, 3 (final)]
        of the release, every hand through the hand expert.

        ``probe``: an optional dict that receives intermediates under the parity fixture's
        ``A_feat_*`` names (without the prefix), for debugging.
        """
        _check_crops(img_body, img_lhand, img_rhand, img_face)
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, img_body)
        hand_rows = all_hands_rows(img_body.shape[0], img_body.device)
        img_hands = torch.cat([img_rhand, torch.flip(img_lhand, [3])])
        pyramids = self.encode(img_body, img_hands, img_face)
        if probe is not None:
            record_encoders(probe, pyramids)
        meshes = self.refine(
            pyramids, hand_rows, vis_hands, predict_visibility, keep_all=True, probe=probe
        )
        release_visibility(meshes[-1], vis_lhand is not None)
        return meshes

    def predict(
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor | None,
        img_rhand: torch.Tensor | None,
        img_face: torch.Tensor | None,
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        profile: OutputProfile = "release",
        run_hidden_hands: bool = False,
    ) -> Tensors:
        """The final ``mesh_out`` only; equal to ``forward(...)[-1]`` up to float rounding in
        everything an invisible hand does not own.

        With detector confidences, hands at or below the gate skip the hand expert (their
        raw ``pred_*h*`` outputs are then the initial state; nothing downstream reads them)
        unless ``run_hidden_hands``. ``profile`` (``output_profile``): "release" (the
        release's outputs, neutral SMPL-X face), "joints" or "mesh" (the pipeline's, with the
        predicted expression applied to the final SMPL-X).

        Crops given as None leave their expert out: no hand crops run no hand (both hands not
        visible, scores 0), no face crops keep the initial face (``face_expert``).
        """
        if img_lhand is None or img_rhand is None:
            img_lhand, img_rhand, vis_lhand, vis_rhand = without_hands(
                img_body, img_lhand, img_rhand
            )
            run_hidden_hands = False  # the crops are not real: nothing to run
        _check_crops(*(c for c in (img_body, img_lhand, img_rhand, img_face) if c is not None))
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, img_body)
        run = hands_to_run(vis_lhand, vis_rhand, img_body.shape[0], everyone=run_hidden_hands)
        hands = select_hands(img_lhand, img_rhand, run)
        final = self.infer(
            img_body,
            hands.images,
            hands.rows,
            img_face,
            vis_hands,
            predict_visibility,
            profile,
        )
        release_visibility(final, vis_lhand is not None)
        return final

    def regressor_step(
        self,
        t: int,
        x: torch.Tensor,
        xc_lhand: torch.Tensor,
        xc_rhand: torch.Tensor,
        xc_face: torch.Tensor,
        state: Tensors,
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        probe: Tensors | None = None,
    ) -> Tensors:
        """``regressor[t]`` on given features and state, decoded into a ``mesh_out`` dict.

        Like the release's ``regressor[t](x, ..., global_iter=t, **init_<name>)``: ``state``
        maps ``regressor.STATE_NAMES`` (without ``init_``) to [B, D]; the last iteration also
        integrates the hands, with visibility from ``vis_*`` [B] when given, else predicted.
        """
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, x)
        batch = x.shape[0]
        hand_rows = all_hands_rows(batch, x.device)
        hand_state = {
            name: torch.cat([state[right], state[left]])
            for name, (left, right) in HAND_STATE_NAMES.items()
        }
        regressor = self.regressor[t]
        person, hands, body_hidden, hand_hidden = regressor(
            x, torch.cat([xc_rhand, xc_lhand]), xc_face, state, hand_state
        )
        params = self._person_params(t, person, hands, hand_rows)
        if t < NUM_ITERATIONS - 1:
            return decode(self.body_models, params, regressor.init_rhand)
        visibility = self._final_visibility(
            regressor, body_hidden, hand_hidden, hand_rows, vis_hands, predict_visibility
        )
        mesh = decode(self.body_models, params, regressor.init_rhand, visibility, probe=probe)
        release_visibility(mesh, vis_lhand is not None)
        return mesh


def _check_crops(*crops: torch.Tensor) -> None:
    shapes = {tuple(crop.shape) for crop in crops}
    if len(shapes) != 1:
        raise ValueError(
            "img_body, img_lhand, img_rhand and img_face must have one shape [B,3,224,224] "
            f"(the same person per row), got {[tuple(c.shape) for c in crops]}"
        )


def _check_rows(
    img_body: torch.Tensor,
    img_hands: torch.Tensor,
    hand_rows: torch.Tensor,
    img_face: torch.Tensor | None,
    vis_hands: torch.Tensor,
) -> None:
    face_shape = img_body.shape if img_face is None else img_face.shape
    if face_shape != img_body.shape or img_hands.shape[1:] != img_body.shape[1:]:
        raise ValueError(
            "img_body and img_face must be [B,3,224,224] and img_hands [H,3,224,224], got "
            f"{tuple(img_body.shape)}, {tuple(face_shape)}, {tuple(img_hands.shape)}"
        )
    if hand_rows.shape != (img_body.shape[0], 2) or vis_hands.shape != hand_rows.shape:
        raise ValueError(
            "hand_rows and vis_hands must be [B,2] (left, right) for B people, got "
            f"{tuple(hand_rows.shape)} and {tuple(vis_hands.shape)}"
        )
