"""OpenVINO (CPU plugin) on the exported programs. bf16 (``INFERENCE_PRECISION_HINT``) applies
to the encoder programs only, whose deconvolutions are then exported as convolutions (OpenVINO
has no bf16 deconvolution kernel without AMX, see ``phase_deconv``); the head always compiles in
fp32. int8 encoders are the ONNX programs quantized by NNCF on a calibration set
(``export.int8``), cached as OpenVINO IR keyed by the weights and the set's digest, and compiled
with an fp32 hint so that the operations NNCF left unquantized stay fp32. Compiled models are
cached (OpenVINO's ``CACHE_DIR``, one cache entry per program and precision), so a restart loads
them in seconds instead of compiling again."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pymafx_ros.backends.artefact_cache import ArtefactCache, EntryKey
from pymafx_ros.backends.calibration import CalibrationProvider, CalibrationSet
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.int8 import QUANTIZED_FILE, quantize_encoder, quantized_key
from pymafx_ros.backends.export.source import OnnxProgram
from pymafx_ros.backends.exported import ExportedBackend, Runner
from pymafx_ros.backends.requirements import import_optional
from pymafx_ros.model.pymafx_net import PyMAFX

# int8: the quantized operations run int8 whatever the hint; the rest stays fp32.
_HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}


class OpenVinoBackend(ExportedBackend):
    name = "openvino"

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        cache: ArtefactCache | None = None,
        num_threads: int = 0,
        calibration: CalibrationProvider | None = None,
    ) -> None:
        self.ov = import_optional("openvino", "openvino")
        if precision == "int8":
            import_optional("nncf", "nncf")
            if calibration is None:
                raise ValueError(
                    "precision int8 needs a calibration set: pass BackendOptions(calibration=...)"
                    " (pipeline.calibration.calibration_for gives the recorded or default one)"
                )
        super().__init__(model, precision, cpu, cache, num_threads)
        self.phase_deconvolutions = precision == "bf16"
        self.core = self.ov.Core()
        self._calibration_provider = calibration
        self._calibration: CalibrationSet | None = None

    @property
    def calibration(self) -> CalibrationSet:
        """The int8 encoders' calibration set for these weights (fetched once)."""
        if self._calibration is None:
            assert self._calibration_provider is not None  # checked in __init__ for int8
            self._calibration = self._calibration_provider(self.source.inputs["weights"])
        return self._calibration

    def _quantized(self, program: OnnxProgram) -> tuple[Path, EntryKey]:
        """(IR path, cache key) of ``program`` quantized on the calibration set."""
        calibration = self.calibration
        key = quantized_key(program, calibration.digest)

        def build(folder: Path) -> None:
            quantize_encoder(program, calibration, folder)

        describe = f"int8 {program.key.program} (calibration {calibration.digest})"
        folder = self.source.cache.get_or_build(key, build, describe)
        return folder / QUANTIZED_FILE, key

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
        path, source = program.path, program.key
        if precision == "int8":
            path, source = self._quantized(program)
        inputs = {
            **program.key.inputs,
            "onnx_entry": source.folder_name,
            "openvino": self.ov.__version__,
        }
        key = EntryKey("openvino", program.key.program, precision, inputs)

        def build(folder: Path) -> None:
            self.core.compile_model(str(path), "CPU", self._config(precision, folder))

        cache = self.source.cache
        folder = cache.get_or_build(key, build, f"OpenVINO {program.key.program} ({precision})")
        try:
            compiled = self.core.compile_model(str(path), "CPU", self._config(precision, folder))
        except RuntimeError as error:
            cache.discard(key, f"OpenVINO could not load it: {error}")
            if source is not program.key:  # the quantized IR may be what is broken
                cache.discard(source, f"OpenVINO could not load it: {error}")
            raise
        request = compiled.create_infer_request()
        outputs = [compiled.output(name) for name in program.outputs]

        def run(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
            results = request.infer(dict(zip(program.inputs, arrays, strict=True)))
            # The request reuses its output buffers on the next call: copy them out.
            return [np.array(results[output], copy=True) for output in outputs]

        return run

    def describe(self) -> dict[str, str]:
        values = {**super().describe(), "openvino": self.ov.__version__}
        if self.precision == "int8" and self._calibration is not None:
            values["int8_calibration"] = f"{self._calibration.digest} ({self._calibration.source})"
        return values
