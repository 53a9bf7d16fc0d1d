"""PyMAF-X v1.1 full-body network: encoders, pyramidal mesh-alignment feedback loop, integration.

Same steps and order as the official inference path (reference README sections 4-5): encode the
body, both hands (one batch: [right; flipped left]) and the face; start from the mean state;
for t = 0, 1, 2 sample image features (grid at t = 0, grid + projected mesh points after),
reduce them (point MLP, or attention + point MLP + linear fusion), refine the parameters with
``regressor[t]`` and decode them with SMPL-X / MANO / FLAME; at t = 2 also decide hand
visibility and put the hand experts' wrists into the body. Submodule names equal the official
state-dict keys; SMPL-X/MANO/FLAME (``body_models``) are kept outside the state dict.
"""

from __future__ import annotations

import scipy.sparse as sp
import torch
from torch import nn

from pymafx_ros.body_models.assets import PyMafxAssets
from pymafx_ros.body_models.layers import BodyModelFamily
from pymafx_ros.body_models.smpl_body import build_smpl_body_model
from pymafx_ros.body_models.vertex_map import SparseVertexMap
from pymafx_ros.model import mesh_decoding
from pymafx_ros.model.alignment_attention import AlignmentAttention
from pymafx_ros.model.bilinear import bilinear_sample
from pymafx_ros.model.hand_integration import (
    hand_visibility_from_prediction,
    hand_visibility_from_scores,
    integrate_hands,
)
from pymafx_ros.model.hrnet import HRNetW48Encoder
from pymafx_ros.model.loop_points import LoopPoints
from pymafx_ros.model.point_mlp import PointMLP
from pymafx_ros.model.pose_resnet import PoseResNetDeconvEncoder
from pymafx_ros.model.projection import part_camera, project_points, sampling_grid
from pymafx_ros.model.regressor import STATE_NAMES, Regressor, initial_buffers
from pymafx_ros.model.rotations import rot6d_to_rotmat

Tensors = dict[str, torch.Tensor]

PARTS = ("body", "hand", "face")
NUM_ITERATIONS = 3
POINT_FEATURES = 5  # per-point output of every point MLP
GRID_POINTS = 441
BODY_LEVEL_CHANNELS = (192, 96, 48)
PART_LEVEL_CHANNELS = (256, 256, 256)
MLP_HIDDEN = (128, 64)
ATTENTION_HIDDEN = 64
FUSED_FEATURES = {"body": 2048, "hand": 1024, "face": 1024}
MESH_POINTS = {"body": 431, "hand": 195, "face": 708}


class DensePoseHead(nn.Module):
    """IUV head on the 56x56 body map (``dp_head``): part of the checkpoint, never run here."""

    def __init__(self, in_channels: int = BODY_LEVEL_CHANNELS[-1]) -> None:
        super().__init__()
        for name, channels in (("ann_index", 15), ("uv_index", 25), ("u", 25), ("v", 25)):
            self.add_module(f"predict_{name}", nn.Conv2d(in_channels, channels, 3, padding=1))


class MatrixSampler(nn.Module):
    """Mesh down-sampling by a fixed matrix (``mesh_sampler``, ``mano_sampler``); ``Umap`` is
    the unused up-sampling matrix, kept for the checkpoint.

    ``Dmap`` has a few non-zeros per row, so it is applied as a sparse gather (equal to the
    dense product up to float rounding), rebuilt whenever a state dict is loaded.
    """

    def __init__(self, down: torch.Tensor, up: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("Dmap", down)
        self.register_buffer("Umap", up)
        self._rebuild_gather()
        self.register_load_state_dict_post_hook(lambda module, _: module._rebuild_gather())

    def _rebuild_gather(self) -> None:
        matrix = sp.csr_matrix(self.Dmap.detach().cpu().numpy())
        self.gather = SparseVertexMap(matrix).to(self.Dmap.device)

    def forward(self, vertices: torch.Tensor) -> torch.Tensor:
        """[B, V, 3] -> [B, V', 3]."""
        return self.gather(vertices)


class IndexSampler(nn.Module):
    """Mesh down-sampling by vertex selection (``flame_sampler``)."""

    def __init__(self, indices: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("sampling_idx", indices)

    def forward(self, vertices: torch.Tensor) -> torch.Tensor:
        return vertices[:, self.sampling_idx]


def _sample(feature_map: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear features [N, C, P] at normalised points [N, P, 2] (zeros outside the map)."""
    return bilinear_sample(feature_map, points)


def _record(probe: Tensors | None, part: str, name: str, value: torch.Tensor) -> None:
    """Store an intermediate under the fixture's ``A_feat_`` naming (``{}`` = part name).

    Hand tensors are [right; left] batches and are stored as ``rhand`` / ``lhand``.
    """
    if probe is None:
        return
    if part == "hand":
        half = value.shape[0] // 2
        probe[name.format("rhand")] = value[:half].detach()
        probe[name.format("lhand")] = value[half:].detach()
    else:
        probe[name.format(part)] = value.detach()


class PyMAFX(nn.Module):
    """The full-body regressor. ``forward`` returns the four ``mesh_out`` dicts; ``predict``
    only the final one (without decoding the initial mesh, which nothing reads)."""

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
        grid_features = POINT_FEATURES * GRID_POINTS
        self.regressor = nn.ModuleList(
            Regressor(
                feat_dim=grid_features if t == 0 else FUSED_FEATURES["body"],
                feat_dim_part=grid_features if t == 0 else FUSED_FEATURES["hand"],
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
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor,
        img_rhand: torch.Tensor,
        img_face: torch.Tensor,
    ) -> dict[str, list[torch.Tensor]]:
        """Feature pyramids (coarse to fine). ``hand`` rows are [right (B); flipped left (B)]."""
        hands = torch.cat([img_rhand, torch.flip(img_lhand, [3])])
        return {
            "body": self.encoders["body"](img_body),
            "hand": self.encoders["hand"](hands),
            "face": self.encoders["face"](img_face),
        }

    def prepare_for_inference(self) -> None:
        """Speed the encoders up for eval-mode inference (~20 % of ``predict`` on CPU; outputs
        equal to float rounding): BNs folded into the convolutions, channels-last memory,
        in-place ReLUs, weights kept in oneDNN's layout on CPU (see
        ``ImageEncoder.prepare_for_inference``). Idempotent.

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
    def mesh_points(self, mesh: Tensors) -> dict[str, torch.Tensor]:
        """Projected down-sampled mesh vertices per part, in [-1, 1] crop coordinates.

        body [B,431,2] (body cam), hand [2B,195,2] rows [right; left] (each hand's own cam),
        face [B,708,2] (face cam).
        """
        hand_verts = torch.cat([mesh["verts_rh_mano"], mesh["verts_lh_mano"]])
        hand_cam = part_camera(torch.cat([mesh["pred_cam_rh"], mesh["pred_cam_lh"]]))
        return {
            "body": project_points(self.mesh_sampler(mesh["verts"]), mesh["pred_cam"]),
            "hand": project_points(self.mano_sampler(hand_verts), hand_cam),
            "face": project_points(
                self.flame_sampler(mesh["verts_fa_flame"]), part_camera(mesh["pred_cam_fa"])
            ),
        }

    def grid_features(
        self, part: str, feature_map: torch.Tensor, probe: Tensors | None = None
    ) -> torch.Tensor:
        """Iteration 0: point MLP on the 21x21 grid -> [N, 5 * 441] (channel-major)."""
        grid = self.grid_points.transpose(1, 2).expand(feature_map.shape[0], -1, -1)
        reduced = self.maf_extractor[part][0](_sample(feature_map, grid))
        _record(probe, part, "maf_{}0_grid_points", grid)
        _record(probe, part, "maf_{}0_grid_feat", reduced)
        return reduced.reshape(reduced.shape[0], -1)

    def aligned_features(
        self,
        part: str,
        t: int,
        feature_map: torch.Tensor,
        points: torch.Tensor,
        probe: Tensors | None = None,
    ) -> torch.Tensor:
        """Iterations 1, 2: attention over [grid; mesh] point features, point MLP and fusion.

        feature_map [N, C, H, W], points [N, M, 2] -> [N, 2048 | 1024]. Grid and mesh points
        are sampled in one call; bilinear sampling is per point, so this equals two calls.
        """
        grid = self.grid_points.transpose(1, 2).expand(feature_map.shape[0], -1, -1)
        sampled = _sample(feature_map, torch.cat([grid, points], dim=1))  # [N, C, 441 + M]
        attended = self.align_attention[part][t - 1](sampled.transpose(1, 2))
        reduced = self.maf_extractor[part][t](attended.transpose(1, 2))
        fuse_in = reduced.reshape(reduced.shape[0], -1)
        fused = self.att_feat_reduce[part][t - 1](fuse_in)
        if probe is not None:
            for name, value in (
                (f"maf_{{}}{t}_grid_points", grid),
                (f"maf_{{}}{t}_mesh_points", points),
                (f"maf_{{}}{t}_grid_feat_chanmean", sampled[..., :GRID_POINTS].mean(-1)),
                (f"maf_{{}}{t}_mesh_feat_chanmean", sampled[..., GRID_POINTS:].mean(-1)),
                (f"att_{{}}{t - 1}_out", attended),
                (f"fuse_{{}}{t - 1}_in", fuse_in),
                (f"fuse_{{}}{t - 1}_out", fused),
            ):
                _record(probe, part, name, value)
        return fused

    def iteration_features(
        self,
        t: int,
        pyramids: dict[str, list[torch.Tensor]],
        points: dict[str, torch.Tensor] | None,
        probe: Tensors | None = None,
    ) -> dict[str, torch.Tensor]:
        """Regressor inputs of iteration t: ``body`` [B,F], ``hand`` [2B,F'] ([right; left]),
        ``face`` [B,F']. ``points`` (``mesh_points`` of the previous mesh) is unused at t = 0."""
        if t == 0:
            return {part: self.grid_features(part, pyramids[part][0], probe) for part in PARTS}
        if points is None:
            raise ValueError(f"iteration {t} samples mesh points: pass the previous mesh's")
        return {
            part: self.aligned_features(part, t, pyramids[part][t], points[part], probe)
            for part in PARTS
        }

    # ----------------------------------------------------------------- regression and decoding
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
        maps the names of ``regressor.STATE_NAMES`` (without ``init_``) to [B, D]; t = 2 also
        integrates the hands, with visibility from ``vis_*`` [B] when given, else predicted.
        """
        features = {"body": x, "hand": torch.cat([xc_rhand, xc_lhand]), "face": xc_face}
        return self._step(t, features, state, vis_lhand, vis_rhand, probe)

    def _step(
        self,
        t: int,
        features: dict[str, torch.Tensor],
        state: Tensors,
        vis_lhand: torch.Tensor | None,
        vis_rhand: torch.Tensor | None,
        probe: Tensors | None,
        smplx_expression: bool = False,
    ) -> Tensors:
        last = t == NUM_ITERATIONS - 1
        params, vis_pred = self._regress(t, features, state, vis_lhand, vis_rhand)
        regressor = self.regressor[t]
        if not last:
            return self.decode(params, regressor.init_rhand)
        if vis_lhand is not None:
            vis_scores, visible_l, visible_r = hand_visibility_from_scores(vis_lhand, vis_rhand)
        else:
            vis_scores = vis_pred
            visible_l, visible_r = hand_visibility_from_prediction(vis_pred)
        return self.decode(
            params,
            regressor.init_rhand,
            (visible_l, visible_r, vis_scores),
            probe=probe,
            smplx_expression=smplx_expression,
        )

    def _regress(
        self,
        t: int,
        features: dict[str, torch.Tensor],
        state: Tensors,
        vis_lhand: torch.Tensor | None,
        vis_rhand: torch.Tensor | None,
    ) -> tuple[Tensors, torch.Tensor | None]:
        """``regressor[t]`` -> (parameters, predicted visibility [B,2] at the last iteration
        when no detector scores are given, else None)."""
        _check_visibility(vis_lhand, vis_rhand)
        return self.regressor[t](
            features["body"],
            features["hand"],
            features["face"],
            state,
            predict_visibility=t == NUM_ITERATIONS - 1 and vis_lhand is None,
        )

    def decode(
        self,
        params: Tensors,
        mean_hand: torch.Tensor,
        visibility: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
        probe: Tensors | None = None,
        smplx_expression: bool = False,
    ) -> Tensors:
        """Parameters -> ``mesh_out``. Without ``visibility`` (iterations before the last, and
        the init mesh) SMPL-X gets the mean hand ``mean_hand`` [1, 90]; with (left visible [B],
        right visible [B], scores) the wrists are integrated and visible hands enter SMPL-X.
        ``smplx_expression``: SMPL-X applies the predicted expression (the release does not)."""
        body_rotmat = rot6d_to_rotmat(params["pose"].unflatten(1, (-1, 6)))
        mean = mean_hand.expand(params["pose"].shape[0], -1)
        if visibility is None:
            rotmat = body_rotmat
            fingers = mesh_decoding.finger_rotmats(params["lhand"], params["rhand"])
            smplx_hands = mesh_decoding.finger_rotmats(mean, mean)
        else:
            visible_l, visible_r, _ = visibility
            tpose = self.body_models.tpose_joints(params["shape"])
            rotmat, internals = integrate_hands(
                body_rotmat, tpose, params["orient_lh"], params["orient_rh"], visible_l, visible_r
            )
            # An invisible hand falls back to the mean right hand (mirrored if left) in SMPL-X.
            fingers = mesh_decoding.finger_rotmats(
                torch.where(visible_l[:, None], params["lhand"], mean),
                torch.where(visible_r[:, None], params["rhand"], mean),
            )
            smplx_hands = fingers
            if probe is not None:
                probe["integr_tpose_joints"] = tpose.detach()
                probe.update({f"integr_{k}": v.detach() for k, v in internals.items()})
        decoded = mesh_decoding.decode_parts(
            self.body_models, params, rotmat, smplx_hands, smplx_expression
        )
        out = mesh_decoding.summarise(params, decoded, rotmat, fingers)
        out["rotmat_preintegr"] = body_rotmat
        if visibility is not None:
            out["pred_vis_hands"] = visibility[2]
        return out

    # ----------------------------------------------------------------- full network
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
        and optional detector hand confidences [B] -> ``mesh_out`` [init, it. 1, 2, 3 (final)].

        ``probe``: an optional dict that receives intermediates under the parity fixture's
        ``A_feat_*`` names (without the prefix), for debugging.
        """
        return self._run(img_body, img_lhand, img_rhand, img_face, vis_lhand, vis_rhand, probe)

    def predict(
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor,
        img_rhand: torch.Tensor,
        img_face: torch.Tensor,
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        smplx_expression: bool = False,
    ) -> Tensors:
        """Only the final ``mesh_out``, computed without the meshes nothing else reads: the
        initial mesh is not decoded and iterations 0-1 skin only the vertices the next
        iteration samples (``LoopPoints``). Equal to ``forward(...)[-1]`` up to float rounding.

        ``smplx_expression=True`` applies the predicted expression to the final SMPL-X (mesh,
        joints, keypoints), which the release leaves neutral; the default reproduces it.
        """
        _check_crops(img_body, img_lhand, img_rhand, img_face)
        pyramids = self.encode(img_body, img_lhand, img_rhand, img_face)
        meshes = self.refine(
            pyramids, vis_lhand, vis_rhand, keep_all=False, smplx_expression=smplx_expression
        )
        return meshes[-1]

    def _run(
        self,
        img_body: torch.Tensor,
        img_lhand: torch.Tensor,
        img_rhand: torch.Tensor,
        img_face: torch.Tensor,
        vis_lhand: torch.Tensor | None,
        vis_rhand: torch.Tensor | None,
        probe: Tensors | None,
    ) -> list[Tensors]:
        _check_crops(img_body, img_lhand, img_rhand, img_face)
        pyramids = self.encode(img_body, img_lhand, img_rhand, img_face)
        if probe is not None:
            _probe_encoders(probe, pyramids)
        return self.refine(pyramids, vis_lhand, vis_rhand, probe)

    def refine(
        self,
        pyramids: dict[str, list[torch.Tensor]],
        vis_lhand: torch.Tensor | None = None,
        vis_rhand: torch.Tensor | None = None,
        probe: Tensors | None = None,
        keep_all: bool = True,
        smplx_expression: bool = False,
    ) -> list[Tensors]:
        """The feedback loop on encoder pyramids (see ``encode``) -> ``mesh_out`` list; only
        the final one unless ``keep_all`` (then the intermediate meshes are never decoded)."""
        state = self.regressor[0].init_state(pyramids["body"][0])
        outputs = [self.decode(state, self.regressor[0].init_rhand)] if keep_all else []
        points = None
        for t in range(NUM_ITERATIONS):
            features = self.iteration_features(t, pyramids, points, probe)
            _record(probe, "body", f"reg{t}_in_x", features["body"])
            _record(probe, "hand", f"reg{t}_in_xc_{{}}", features["hand"])
            _record(probe, "face", f"reg{t}_in_xc_{{}}", features["face"])
            if keep_all or t == NUM_ITERATIONS - 1:
                mesh = self._step(
                    t, features, state, vis_lhand, vis_rhand, probe, smplx_expression
                )
                state = {name: mesh[f"pred_{name}"] for name in STATE_NAMES}
                if t < NUM_ITERATIONS - 1:
                    points = self.mesh_points(mesh)
                outputs.append(mesh)
            else:
                params, _ = self._regress(t, features, state, vis_lhand, vis_rhand)
                state = {name: params[name] for name in STATE_NAMES}
                points = self.loop_points(params, self.regressor[t].init_rhand)
        return outputs if keep_all else outputs[-1:]


def _check_crops(*crops: torch.Tensor) -> None:
    shapes = {tuple(crop.shape) for crop in crops}
    if len(shapes) != 1:
        raise ValueError(
            "img_body, img_lhand, img_rhand and img_face must have one shape [B,3,224,224] "
            f"(the same person per row), got {[tuple(c.shape) for c in crops]}"
        )


def _check_visibility(vis_lhand: torch.Tensor | None, vis_rhand: torch.Tensor | None) -> None:
    if (vis_lhand is None) != (vis_rhand is None):
        raise ValueError(
            "give both vis_lhand and vis_rhand ([B] hand detector confidences) or neither "
            "(then the network predicts hand visibility)"
        )


def _probe_encoders(probe: Tensors, pyramids: dict[str, list[torch.Tensor]]) -> None:
    """Encoder maps under the fixture's names; the finest hand/face maps only in summary."""
    for part, levels in pyramids.items():
        for level, feature_map in enumerate(levels):
            name = f"enc_{part}_sfeat{level}"
            if part != "body" and level == len(levels) - 1:
                probe[f"{name}_ch0to31"] = feature_map[:, :32].detach()
                probe[f"{name}_chanmean"] = feature_map.mean(dim=(2, 3)).detach()
            else:
                probe[name] = feature_map.detach()
