"""The staged call shared by every backend that runs exported programs (ONNX Runtime, OpenVINO,
TensorRT): choose the hands to run, run the body, hand and face encoders, then the head of the
output profile, and name its outputs as the release does.

``PyMAFX.predict`` does the same in one module; here each stage is a separate program, so an
engine only says how it places the crops, runs one encoder or the head, and what it passes when
no hand or no face is run (``StagedBackend``'s abstract methods). Hands at or below the
visibility gate are not encoded at all (OpenVINO rejects an empty batch, and it is wasted work),
nor are faces without face crops (``face_expert``: zero maps, ``run_face`` False).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from pymafx_ros.backends.interface import Backend, check_profile
from pymafx_ros.backends.output import BackendOutput
from pymafx_ros.model.hand_rows import (
    HandRows,
    hands_to_run,
    release_visibility,
    select_hands,
    visibility_inputs,
    without_hands,
)

# The four crop batches [B,3,224,224]: body, left hand (as cropped), right hand, face.
Crops = tuple[Tensor, Tensor, Tensor, Tensor]


class StagedBackend(Backend):
    """A backend whose engine runs ``export.programs``' encoders and head one after another."""

    @abstractmethod
    def place_crops(self, crops: Crops) -> Crops:
        """The crops checked and moved to where the engine reads them."""

    @abstractmethod
    def encode(self, part: str, images: Tensor) -> list[Any]:
        """One encoder on crops [N,3,224,224] -> its three pyramid maps, in the engine's type."""

    @abstractmethod
    def no_hand_maps(self, hands: HandRows) -> tuple[list[Any], Tensor]:
        """(hand maps, hand_rows [B,2]) for a batch whose hands all skip the expert."""

    @abstractmethod
    def no_face_maps(self, people: int) -> list[Any]:
        """Zero face maps [people,C,S,S] for a batch whose faces skip the expert."""

    @abstractmethod
    def run_head(self, profile: str, inputs: list[Any]) -> Sequence[Any]:
        """The head of ``profile`` on inputs in ``programs.HEAD_INPUTS`` order -> its outputs."""

    @abstractmethod
    def head_names(self, profile: str) -> tuple[tuple[str, ...], Mapping[str, str]]:
        """(output names, aliases {alias: output}) of the head of a prepared ``profile``."""

    def engine_inputs(self, *tensors: Tensor) -> list[Any]:
        """Control tensors (hand rows, visibilities) as the engine takes them (as they are)."""
        return list(tensors)

    def output_tensor(self, value: Any) -> Tensor:
        """One head output as a torch tensor (it already is one unless overridden)."""
        return value

    def predict(
        self,
        img_body: Tensor,
        img_lhand: Tensor | None,
        img_rhand: Tensor | None,
        img_face: Tensor | None,
        vis_lhand: Tensor | None = None,
        vis_rhand: Tensor | None = None,
        profile: str = "joints",
        run_hidden_hands: bool = False,
    ) -> BackendOutput:
        check_profile(profile)
        if img_lhand is None or img_rhand is None:  # no hand expert (``PyMAFX.predict``)
            img_lhand, img_rhand, vis_lhand, vis_rhand = without_hands(
                img_body, img_lhand, img_rhand
            )
            run_hidden_hands = False
        face_given = img_face is not None
        # Without face crops the body crops stand in for the shape check and are never encoded.
        crops = (img_body, img_lhand, img_rhand, img_face if face_given else img_body)
        body, lhand, rhand, face = self.place_crops(crops)
        given = vis_lhand is not None
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, body)
        run = hands_to_run(vis_lhand, vis_rhand, body.shape[0], everyone=run_hidden_hands)
        with torch.inference_mode():
            hands = select_hands(lhand, rhand, run)
            maps = self.encode("body", body)
            if hands.images.shape[0] == 0:  # known on the host: no synchronisation
                hand_maps, rows = self.no_hand_maps(hands)
            else:
                hand_maps, rows = self.encode("hand", hands.images), hands.rows
            people = body.shape[0]
            maps += hand_maps
            maps += self.encode("face", face) if face_given else self.no_face_maps(people)
            run_face = torch.full((people,), face_given, dtype=torch.bool, device=body.device)
            control = self.engine_inputs(rows, vis_hands, predict_visibility, run_face)
            results = self.run_head(profile, maps + control)
        # Outside inference mode: the exported engines' numpy outputs become ordinary tensors.
        outputs, aliases = self.head_names(profile)
        out = {name: self.output_tensor(v) for name, v in zip(outputs, results, strict=True)}
        out.update({alias: out[name] for alias, name in aliases.items()})
        release_visibility(out, given)
        return BackendOutput.from_mesh(out)
