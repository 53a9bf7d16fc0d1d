"""ONNX Runtime (CPU execution provider) on the exported programs, fp32 only: its CPU kernels
have no bf16 convolutions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.export.source import OnnxProgram
from pymafx_ros.backends.exported import ExportedBackend, Runner
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.requirements import import_optional
from pymafx_ros.model.pymafx_net import PyMAFX


class OnnxRuntimeBackend(ExportedBackend):
    name = "onnxruntime"

    def __init__(
        self,
        model: PyMAFX,
        precision: str,
        cpu: CpuFeatures,
        cache: ArtefactCache | None = None,
        num_threads: int = 0,
    ) -> None:
        if precision != "fp32":
            raise BackendUnavailableError(
                "the onnxruntime backend runs fp32 only (ONNX Runtime's CPU kernels have no "
                "bf16 convolution); use backend openvino or torch for bf16"
            )
        self.ort = import_optional("onnxruntime", "onnxruntime")
        super().__init__(model, precision, cpu, cache, num_threads)

    def load(self, program: OnnxProgram, precision: str) -> Runner:
        options = self.ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads must not spin: the front end and the next program share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = self.ort.InferenceSession(
            str(program.path), options, providers=["CPUExecutionProvider"]
        )

        def run(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
            return session.run(
                list(program.outputs), dict(zip(program.inputs, inputs, strict=True))
            )

        return run

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "onnxruntime": self.ort.__version__}
