"""CPU backends that run the exported programs (``export.programs``) as cached ONNX files in
another engine (ONNX Runtime, OpenVINO), through the staged call (``staged``). Engines only
implement loading a program and running it on numpy arrays.
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
from pymafx_ros.backends.export.programs import ENCODER_PARTS, LEVEL_SIZES
from pymafx_ros.backends.export.source import OnnxProgram, ProgramSource
from pymafx_ros.backends.interface import check_profile
from pymafx_ros.backends.mapped_weights import releasing_after_new_shapes
from pymafx_ros.backends.staged import Crops, StagedBackend
from pymafx_ros.model.hand_rows import HandRows
from pymafx_ros.model.pymafx_net import PART_LEVEL_CHANNELS, PyMAFX

LOG = logging.getLogger(__name__)

# A loaded program: numpy inputs in the program's input order -> numpy outputs in its order.
Runner = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


class ExportedBackend(StagedBackend):
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
            # The engine's mapped weights are dead weight once packed (``mapped_weights``).
            runner = releasing_after_new_shapes(runner, self.source.cache.root)
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
            return self.no_face_maps(0)
        runner, _ = self._runner(f"{part}_encoder")
        return runner([_numpy(images)])

    def no_face_maps(self, people: int) -> list[np.ndarray]:
        """Zero part maps [people,C,S,S] (hand and face maps have the same shapes)."""
        return [
            np.zeros((people, channels, size, size), np.float32)
            for channels, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
        ]

    def no_hand_maps(self, hands: HandRows) -> tuple[list[np.ndarray], Tensor]:
        """Empty hand maps [0,C,S,S] and the rows as they are (every hand "not run")."""
        return self.encode("hand", hands.images), hands.rows

    def run_head(self, profile: str, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run the head of ``profile`` on inputs in ``programs.HEAD_INPUTS`` order."""
        runner, _ = self._runner(f"head_{profile}")
        return runner(inputs)

    def head_names(self, profile: str) -> tuple[tuple[str, ...], dict[str, str]]:
        _, program = self._runner(f"head_{profile}")
        return program.outputs, program.aliases

    def place_crops(self, crops: Crops) -> Crops:
        """The crops on the host, after checking they are four [B,3,224,224] batches."""
        shapes = {tuple(crop.shape) for crop in crops}
        if len(shapes) != 1 or crops[0].dim() != 4 or crops[0].shape[1:] != (3, 224, 224):
            raise ValueError(
                "img_body, img_lhand, img_rhand and img_face must all be [B,3,224,224], got "
                f"{[tuple(c.shape) for c in crops]}"
            )
        body, lhand, rhand, face = crops
        return body, lhand.cpu(), rhand.cpu(), face

    def engine_inputs(self, *tensors: Tensor) -> list[np.ndarray]:
        return [_numpy(tensor) for tensor in tensors]

    def output_tensor(self, value: np.ndarray) -> Tensor:
        return torch.from_numpy(np.asarray(value))


def _numpy(tensor: Tensor) -> np.ndarray:
    """A C-contiguous numpy view or copy that keeps 0-d arrays 0-d (ascontiguousarray would
    make them [1])."""
    return np.require(tensor.detach().cpu().numpy(), requirements="C")
