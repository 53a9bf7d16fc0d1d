"""OpenVINO (CPU plugin) on the exported programs. bf16 (``INFERENCE_PRECISION_HINT``) applies
to the encoder programs only, whose deconvolutions are then exported as convolutions (OpenVINO
has no bf16 deconvolution kernel without AMX, see ``phase_deconv``); the head always compiles in
fp32. Compiled models are cached
(OpenVINO's ``CACHE_DIR``, one cache entry per program and precision), so a restart loads them
in seconds instead of compiling again."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pymafx_ros.backends.artefact_cache import ArtefactCache, EntryKey
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.source import OnnxProgram
from pymafx_ros.backends.exported import ExportedBackend, Runner
from pymafx_ros.backends.requirements import import_optional
from pymafx_ros.model.pymafx_net import PyMAFX

_HINTS = {"fp32": "f32", "bf16": "bf16"}


class OpenVinoBackend(ExportedBackend):
    name = "openvino"

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        cache: ArtefactCache | None = None,
        num_threads: int = 0,
    ) -> None:
        self.ov = import_optional("openvino", "openvino")
        super().__init__(model, precision, cpu, cache, num_threads)
        self.phase_deconvolutions = precision == "bf16"
        self.core = self.ov.Core()

    def _config(self, precision: str, cache_dir: Path) -> dict[str, str]:
        config = {
            "INFERENCE_PRECISION_HINT": _HINTS[precision],
            "PERFORMANCE_HINT": "LATENCY",
            "CACHE_DIR": str(cache_dir),
        }
        if self.num_threads:
            config["INFERENCE_NUM_THREADS"] = str(self.num_threads)
        return config

    def load(self, program: OnnxProgram, precision: str) -> Runner:
        inputs = {
            **program.key.inputs,
            "onnx_entry": program.key.folder_name,
            "openvino": self.ov.__version__,
        }
        key = EntryKey("openvino", program.key.program, precision, inputs)

        def build(folder: Path) -> None:
            self.core.compile_model(str(program.path), "CPU", self._config(precision, folder))

        cache = self.source.cache
        folder = cache.get_or_build(key, build, f"OpenVINO {program.key.program} ({precision})")
        try:
            compiled = self.core.compile_model(
                str(program.path), "CPU", self._config(precision, folder)
            )
        except RuntimeError as error:
            cache.discard(key, f"OpenVINO could not load it: {error}")
            raise
        request = compiled.create_infer_request()
        outputs = [compiled.output(name) for name in program.outputs]

        def run(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
            results = request.infer(dict(zip(program.inputs, arrays, strict=True)))
            # The request reuses its output buffers on the next call: copy them out.
            return [np.array(results[output], copy=True) for output in outputs]

        return run

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "openvino": self.ov.__version__}
