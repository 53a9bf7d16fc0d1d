"""One refinement step (feature fusion + regressor) folded into a single affine map per part.

From the reduced point features to the new state, a step is linear: the fusion ``Linear``, the
regressor's fc stacks (the release has no activation between them), its decoders and the
residual additions. Run layer by layer, the head reads ~300 MB of fc weights per frame, and on
a CPU those reads are its largest cost (17 of ~48 ms at 2 threads); folded, the body step of
iterations 1-2 is a [157 x 4521] matrix instead of ~49 MB of layers. The maps are the exact
Jacobians, computed in float64 (``torch.func.jacrev``) from the loaded weights, so they follow
whatever checkpoint is loaded; results differ from the layered step only by float rounding.
The exported head uses them; eager inference and the parity probes keep the layers.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from pymafx_ros.model.regressor import (
    CAM_DIM,
    EXPRESSION_DIM,
    FACE_POSE_DIM,
    HAND_POSE_DIM,
    IWP_CAMERA_FEATURES,
    POSE_DIM,
    SHAPE_DIM,
    Regressor,
)

Tensors = dict[str, Tensor]

# Per part: the state entries it reads after its features (in this order), and the outputs of
# ``Regressor.forward`` it produces (``hidden``: the hidden features the visibility head reads).
_BODY_STATE = ("pose", "shape", "cam")
_BODY_OUT = ("cam", "pose", "shape")
_FACE_STATE = ("face", "shape_fa", "orient_fa", "cam_fa")
_FACE_OUT = ("face", "exp", "shape_fa", "orient_fa", "cam_fa")
_HAND_STATE = ("hand", "shape", "orient", "cam")
_HAND_OUT = ("hand", "shape", "orient", "cam")


class _AffinePart(nn.Module):
    """inputs [R, sum(widths)] -> named outputs: ``inputs @ matrix.T + bias`` split by width."""

    def __init__(self, matrix: Tensor, bias: Tensor, names: tuple[str, ...], widths: list[int]):
        super().__init__()
        self.register_buffer("matrix", matrix.to(torch.float32).contiguous())
        self.register_buffer("bias", bias.to(torch.float32).contiguous())
        self.names = names
        self.widths = widths

    def forward(self, inputs: list[Tensor]) -> Tensors:
        values = torch.cat(inputs, 1) @ self.matrix.T + self.bias
        return dict(zip(self.names, values.split(self.widths, 1), strict=True))


class FoldedStep(nn.Module):
    """``fusions`` (per part the fusion Linear, or none at iteration 0) followed by
    ``regressor``, as three affine maps. ``with_hidden``: also produce the body and hand hidden
    features (the last iteration's visibility head reads them)."""

    def __init__(
        self,
        regressor: Regressor,
        fusions: dict[str, nn.Linear] | None,
        with_hidden: bool,
    ) -> None:
        super().__init__()
        exact = copy.deepcopy(regressor).to("cpu", torch.float64)
        # Feature widths: each fc1's input less the state it appends.
        body_state = POSE_DIM + SHAPE_DIM + CAM_DIM + len(IWP_CAMERA_FEATURES)
        dims = {
            "body": exact.fc1.in_features - body_state,
            "hand": exact.fc1_hand.in_features - HAND_POSE_DIM,
            "face": exact.fc1_face.in_features - FACE_POSE_DIM - EXPRESSION_DIM,
        }
        parts = {}
        for part, state_names, out_names in (
            ("body", _BODY_STATE, _BODY_OUT),
            ("hand", _HAND_STATE, _HAND_OUT),
            ("face", _FACE_STATE, _FACE_OUT),
        ):
            hidden = with_hidden and part != "face"
            names = out_names + (("hidden",) if hidden else ())
            matrix, bias, widths = _jacobian(exact, dims, part, state_names, names)
            fusion = None if fusions is None else fusions[part]
            if fusion is not None:  # compose with the fusion Linear that feeds the features
                weight = fusion.weight.detach().to("cpu", torch.float64)
                feature = matrix[:, : dims[part]]
                bias = bias + feature @ fusion.bias.detach().to("cpu", torch.float64)
                matrix = torch.cat([feature @ weight, matrix[:, dims[part] :]], 1)
            parts[part] = _AffinePart(matrix, bias, names, widths)
        self.parts = nn.ModuleDict(parts)

    def forward(
        self, features: Tensors, state: Tensors, hand_state: Tensors
    ) -> tuple[Tensors, Tensors, Tensor | None, Tensor | None]:
        """Like ``Regressor.forward`` on the fusion's inputs ``features`` (per part, [R, F])
        -> (person state, hand-row state, body hidden or None, hand hidden or None)."""
        body = self.parts["body"]([features["body"], *(state[n] for n in _BODY_STATE)])
        face = self.parts["face"]([features["face"], *(state[n] for n in _FACE_STATE)])
        hands = self.parts["hand"]([features["hand"], *(hand_state[n] for n in _HAND_STATE)])
        body_hidden = body.pop("hidden", None)
        hand_hidden = hands.pop("hidden", None)
        return {**body, **face}, hands, body_hidden, hand_hidden


def fold_steps(
    regressors: nn.ModuleList, fusions: dict[str, nn.ModuleList], device: torch.device
) -> nn.ModuleList:
    """The ``FoldedStep`` of every iteration t (fusion ``fusions[part][t - 1]`` from t = 1; the
    last one with the hidden features), on ``device``."""
    count = len(regressors)
    steps = [
        FoldedStep(
            regressors[t],
            None if t == 0 else {part: layers[t - 1] for part, layers in fusions.items()},
            with_hidden=t == count - 1,
        )
        for t in range(count)
    ]
    return nn.ModuleList(steps).to(device)


def _jacobian(
    regressor: Regressor,
    dims: dict[str, int],
    part: str,
    state_names: tuple[str, ...],
    out_names: tuple[str, ...],
) -> tuple[Tensor, Tensor, list[int]]:
    """(matrix [O, I], bias [O], output widths) of one part of ``regressor`` (float64): its
    outputs ``out_names`` as a function of its features and ``state_names``, at zero."""
    base_state = {name: torch.zeros_like(v) for name, v in regressor.init_state(1).items()}
    base_hands = {name: torch.zeros_like(v) for name, v in regressor.init_hand_state(1).items()}
    features = {name: torch.zeros(1, width, dtype=torch.float64) for name, width in dims.items()}
    source = base_hands if part == "hand" else base_state
    inputs = (features[part], *(source[name] for name in state_names))

    def named_outputs(*values: Tensor) -> list[Tensor]:
        given = dict(zip(state_names, values[1:], strict=True))
        feats = {**features, part: values[0]}
        state = {**base_state, **(given if part != "hand" else {})}
        hand_state = {**base_hands, **(given if part == "hand" else {})}
        out, hands, body_hidden, hand_hidden = regressor(
            feats["body"], feats["hand"], feats["face"], state, hand_state
        )
        named = {**(hands if part == "hand" else out)}
        named["hidden"] = hand_hidden if part == "hand" else body_hidden
        return [named[name] for name in out_names]

    def outputs(*values: Tensor) -> Tensor:
        return torch.cat(named_outputs(*values), 1)

    with torch.no_grad():
        widths = [value.shape[1] for value in named_outputs(*inputs)]
        bias = outputs(*inputs)[0]
    jacobians = torch.func.jacrev(outputs, argnums=tuple(range(len(inputs))))(*inputs)
    matrix = torch.cat([j.reshape(bias.shape[0], -1) for j in jacobians], 1)
    return matrix.detach(), bias.detach(), widths
