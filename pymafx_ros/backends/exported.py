"""Backends that run the exported programs (``programs.py``) in another engine.

Per call: choose the hands to run, run the body and face encoders and (when any hand is
visible) the hand encoder on the hand rows, then the head with the profile's outputs. Engines
only implement loading a program and running it on numpy arrays.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.interface import Backend, Tensors, check_profile
from pymafx_ros.backends.program_source import OnnxProgram, ProgramSource
from pymafx_ros.backends.programs import ENCODER_PARTS, LEVEL_SIZES
from pymafx_ros.model.hand_rows import (
    hands_to_run,
    release_visibility,
    select_hands,
    visibility_inputs,
)
from pymafx_ros.model.pymafx_net import PART_LEVEL_CHANNELS, PyMAFX

LOG = logging.getLogger(__name__)

# A loaded program: numpy inputs in the program's input order -> numpy outputs in its order.
Runner = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


class ExportedBackend(Backend):
    """Runs ``ProgramSource`` programs; subclasses load one program into their engine."""

    # Whether the encoders are exported with ``PhaseDeconvolution``s (see ``phase_deconv``).
    phase_deconvolutions = False

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        cache: ArtefactCache | None = None,
        num_threads: int = 0,
    ) -> None:
        super().__init__(precision, cpu)
        self.num_threads = num_threads
        self.source = ProgramSource(model, cache or ArtefactCache())
        self._runners: dict[str, tuple[Runner, OnnxProgram]] = {}

    @abstractmethod
    def load(self, program: OnnxProgram, precision: str) -> Runner:
        """Load a cached ONNX program for this engine at ``precision`` (the head always fp32)."""

    def _runner(self, name: str) -> tuple[Runner, OnnxProgram]:
        if name not in self._runners:
            precision = self.precision if name.endswith("_encoder") else "fp32"
            start = time.perf_counter()
            program = self.source.onnx(name, self.phase_deconvolutions)
            try:
                runner = self.load(program, precision)
            except Exception as error:
                # A damaged cached file: rebuild it once; a second failure is a real error.
                self.source.cache.discard(program.key, f"{self.name} could not load it: {error}")
                program = self.source.onnx(name, self.phase_deconvolutions)
                runner = self.load(program, precision)
            LOG.info(
                "%s ready: %s (%s) in %.1f s",
                self.name,
                name,
                precision,
                time.perf_counter() - start,
            )
            self._runners[name] = (runner, program)
        return self._runners[name]

    def prepare(self, profile: str) -> None:
        for part in ENCODER_PARTS:
            self._runner(f"{part}_encoder")
        self._runner(f"head_{check_profile(profile)}")

    def release_model(self) -> None:
        self.source.release_model()

    def encode(self, part: str, images: Tensor) -> list[np.ndarray]:
        """One encoder program on crops [N,3,224,224] -> its three maps (numpy)."""
        if images.shape[0] == 0:  # no hand to run: empty maps, the encoder is never called
            return [
                np.zeros((0, channels, size, size), np.float32)
                for channels, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
            ]
        runner, _ = self._runner(f"{part}_encoder")
        return runner([_numpy(images)])

    def run_head(self, profile: str, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run the head of ``profile`` on inputs in ``programs.HEAD_INPUTS`` order."""
        runner, _ = self._runner(f"head_{profile}")
        return runner(inputs)

    def predict(
        self,
        img_body: Tensor,
        img_lhand: Tensor,
        img_rhand: Tensor,
        img_face: Tensor,
        vis_lhand: Tensor | None = None,
        vis_rhand: Tensor | None = None,
        profile: str = "joints",
        run_hidden_hands: bool = False,
    ) -> Tensors:
        check_profile(profile)
        shapes = {tuple(crop.shape) for crop in (img_body, img_lhand, img_rhand, img_face)}
        if len(shapes) != 1 or img_body.dim() != 4 or img_body.shape[1:] != (3, 224, 224):
            raise ValueError(
                "img_body, img_lhand, img_rhand and img_face must all be [B,3,224,224], got "
                f"{[tuple(c.shape) for c in (img_body, img_lhand, img_rhand, img_face)]}"
            )
        given = vis_lhand is not None
        vis_hands, predict_visibility = visibility_inputs(vis_lhand, vis_rhand, img_body)
        run = hands_to_run(vis_lhand, vis_rhand, img_body.shape[0], everyone=run_hidden_hands)
        with torch.inference_mode():
            hands = select_hands(img_lhand.cpu(), img_rhand.cpu(), run.cpu())
        maps = self.encode("body", img_body) + self.encode("hand", hands.images)
        maps += self.encode("face", img_face)
        control = [_numpy(hands.rows), _numpy(vis_hands), _numpy(predict_visibility)]
        results = self.run_head(profile, maps + control)
        _, program = self._runner(f"head_{profile}")
        pairs = zip(program.outputs, results, strict=True)
        out = {name: torch.from_numpy(np.asarray(value)) for name, value in pairs}
        out.update({alias: out[name] for alias, name in program.aliases.items()})
        release_visibility(out, given)
        return out


def _numpy(tensor: Tensor) -> np.ndarray:
    """A C-contiguous numpy view or copy that keeps 0-d arrays 0-d (ascontiguousarray would
    make them [1])."""
    return np.require(tensor.detach().cpu().numpy(), requirements="C")
