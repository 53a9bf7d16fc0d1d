"""The ``tensorrt`` backend: Torch-TensorRT engines of the exported programs, on a CUDA device.

Engines are built ahead of time (``pymafx-ros build-engines``) and only loaded here; a missing
one raises ``EngineUnavailableError`` naming the exact build command, so the caller can fall back
(``selection.open_backend``), unless ``EngineOptions.build`` asks to build it now (with progress
in the log). The compile step and the engine store are in ``tensorrt/``. Per call (the staged
call, ``staged``) the work stays on the device: the hands to run are chosen from host
visibilities, the encoders run on the crops, the head on their maps, and the outputs come back
as device tensors (the pipeline copies them to the host once).
"""

from __future__ import annotations

import logging
import time

import torch
from torch import Tensor

from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.programs import LEVEL_SIZES
from pymafx_ros.backends.export.source import ProgramSource
from pymafx_ros.backends.interface import check_profile
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.staged import Crops, StagedBackend
from pymafx_ros.backends.tensorrt.compiler import Engine, EngineCompiler, TorchTensorRTCompiler
from pymafx_ros.backends.tensorrt.input_shapes import engine_names
from pymafx_ros.backends.tensorrt.options import (
    ENGINE_PRECISIONS,
    EngineOptions,
    build_command,
)
from pymafx_ros.backends.tensorrt.store import EngineStore
from pymafx_ros.model.hand_rows import HandRows
from pymafx_ros.model.pymafx_net import PART_LEVEL_CHANNELS, PyMAFX

LOG = logging.getLogger(__name__)


class EngineUnavailableError(BackendUnavailableError):
    """The tensorrt backend cannot run here now (no CUDA, no Torch-TensorRT, no engine); the
    message says what is missing and how to get it."""


def default_compiler() -> EngineCompiler:
    """The compile step the backend uses when none is given (tests replace this)."""
    return TorchTensorRTCompiler()


class TensorRTBackend(StagedBackend):
    """``PyMAFX.predict`` through TensorRT engines: encoders in ``precision`` (fp16 or fp32),
    the head in fp32."""

    name = "tensorrt"

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        device: str | torch.device = "cuda",
        cache: ArtefactCache | None = None,
        engines: EngineOptions | None = None,
        compiler: EngineCompiler | None = None,
    ) -> None:
        if precision not in ENGINE_PRECISIONS:
            raise BackendUnavailableError(
                f"the tensorrt backend builds fp16 or fp32 engines, not {precision}"
            )
        super().__init__(precision, cpu)
        self.device = torch.device(device)
        self.options = engines or EngineOptions()
        self.compiler = compiler or default_compiler()
        missing = self.compiler.missing(self.device)
        if missing:
            raise EngineUnavailableError(
                "backend tensorrt cannot run here: missing " + "; ".join(missing)
            )
        source = ProgramSource(model, cache or ArtefactCache())
        self.store = EngineStore(
            source, self.compiler, self.device, precision, self.options.max_people
        )
        self._engines: dict[str, tuple[Engine, tuple[str, ...], dict[str, str]]] = {}

    def build_command(self) -> str:
        """The exact ``pymafx-ros build-engines`` command for this backend's engines."""
        return build_command(self.options, self.precision, str(self.device))

    def prepare(self, profile: str) -> None:
        names = engine_names(check_profile(profile))
        missing = {name: self.store.problem(name) for name in names if name not in self._engines}
        missing = {name: why for name, why in missing.items() if why is not None}
        if missing and not self.options.build:
            which = ", ".join(f"{name} ({why})" for name, why in missing.items())
            raise EngineUnavailableError(
                f"no usable TensorRT engine for {which} in {self.store.cache.root} for "
                f"{self.store.identity.get('gpu', self.device)}, precision {self.precision}, "
                f"max_people {self.options.max_people}; build them once with: "
                f"`{self.build_command()}`, or set "
                "build_engines_on_start: true"
            )
        for step, name in enumerate(names, start=1):
            if name not in self._engines:
                self._engines[name] = self._open(name, step, len(names), name in missing)

    def _open(
        self, name: str, step: int, steps: int, build: bool
    ) -> tuple[Engine, tuple[str, ...], dict[str, str]]:
        """Build (when asked) and load one engine; any failure is an EngineUnavailableError
        naming the engine, so the caller falls back instead of stopping."""
        start = time.perf_counter()
        try:
            if build:
                # Formatted here: the node throttles forwarded records per template, and every
                # step of the progress must show.
                LOG.info(f"[{step}/{steps}] building the TensorRT engine {name}")
                self.store.build(name)
            engine = self.store.load(name)
        except EngineUnavailableError:
            raise
        except Exception as error:
            what = "building" if build else "loading"
            raise EngineUnavailableError(
                f"{what} the TensorRT engine {name} failed ({type(error).__name__}: {error}); "
                f"a damaged engine was discarded, build it again with: "
                f"`{self.build_command()}`"
            ) from error
        seconds, folder = time.perf_counter() - start, self.store.folder(name)
        LOG.info(f"[{step}/{steps}] TensorRT engine {name} ready in {seconds:.1f} s ({folder})")
        return engine

    def release_model(self) -> None:
        self.store.source.release_model()

    def _run(self, name: str, *inputs: Tensor) -> tuple[Tensor, ...]:
        if name not in self._engines:
            raise RuntimeError(f"TensorRT engine {name} is not loaded: call prepare() first")
        engine = self._engines[name][0]
        result = engine(*inputs)
        return tuple(result) if isinstance(result, list | tuple) else (result,)

    def place_crops(self, crops: Crops) -> Crops:
        """The crops on the engines' device, after checking the batch fits ``max_people``."""
        body, lhand, rhand, face = (c.to(self.device, non_blocking=True) for c in crops)
        if body.shape[0] > self.options.max_people:
            raise ValueError(
                f"the TensorRT engines take at most {self.options.max_people} people "
                f"(max_people), got {body.shape[0]}: rebuild them with a larger --max-people"
            )
        return body, lhand, rhand, face

    def encode(self, part: str, images: Tensor) -> list[Tensor]:
        return list(self._run(f"{part}_encoder", images))

    def no_hand_maps(self, hands: HandRows) -> tuple[list[Tensor], Tensor]:
        return no_hand_inputs(hands.rows)

    def no_face_maps(self, people: int) -> list[Tensor]:
        return [
            torch.zeros(people, width, size, size, device=self.device)
            for width, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
        ]

    def run_head(self, profile: str, inputs: list[Tensor]) -> tuple[Tensor, ...]:
        return self._run(f"head_{profile}", *inputs)

    def head_names(self, profile: str) -> tuple[tuple[str, ...], dict[str, str]]:
        _, outputs, aliases = self._engines[f"head_{profile}"]
        return outputs, aliases

    def describe(self) -> dict[str, str]:
        identity = self.store.identity
        return {
            **super().describe(),
            "device": str(self.device),
            "gpu": f"{identity.get('gpu', '')} ({identity.get('compute_capability', '')})",
            "engines": f"TensorRT {identity.get('tensorrt', '?')}, Torch-TensorRT "
            f"{identity.get('torch_tensorrt', '?')}, max_people {self.options.max_people}, "
            f"in {self.store.cache.root}",
        }


def no_hand_inputs(hand_rows: Tensor) -> tuple[list[Tensor], Tensor]:
    """Head inputs for a batch whose hands all skip the expert, for an engine that needs at
    least one hand row (TensorRT clamps a 0 minimum batch to 1): one zero row per hand map
    [1,C,S,S], and every person's rows [B,2] pointing past it (the index of "not run": those
    hands keep their initial state, as with no rows at all)."""
    device = hand_rows.device
    maps = [
        torch.zeros(1, width, size, size, device=device)
        for width, size in zip(PART_LEVEL_CHANNELS, LEVEL_SIZES, strict=True)
    ]
    return maps, hand_rows + 1
