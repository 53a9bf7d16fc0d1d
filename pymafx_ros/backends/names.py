"""Backend and precision names and the error for an impossible choice, importable without
torch (the node checks its parameters against them before loading anything heavy). The output
profile names are the model's (``model.output_profile``), re-exported here."""

from pymafx_ros.model.output_profile import PROFILE_NAMES

__all__ = [
    "BACKEND_CHOICES",
    "BACKEND_NAMES",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "PROFILE_NAMES",
    "BackendUnavailableError",
]

BACKEND_NAMES = ("torch", "onnxruntime", "openvino", "tensorrt")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)
# fp16: the tensorrt backend's encoders (CUDA); bf16: the CPU engines' encoders.
PRECISIONS = ("fp32", "bf16", "fp16")
PRECISION_CHOICES = ("auto", *PRECISIONS)


class BackendUnavailableError(RuntimeError):
    """The requested backend or precision cannot run here; the message says why and what to
    install or choose instead."""
