"""Backend and precision names and the error for an impossible choice, importable without
torch (the node checks its parameters against them before loading anything heavy)."""

BACKEND_NAMES = ("torch", "onnxruntime", "openvino", "tensorrt")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)
# fp16: the tensorrt backend's encoders (CUDA); bf16: the CPU engines' encoders.
PRECISIONS = ("fp32", "bf16", "fp16")
PRECISION_CHOICES = ("auto", *PRECISIONS)
PROFILE_NAMES = ("joints", "mesh", "release")


class BackendUnavailableError(RuntimeError):
    """The requested backend or precision cannot run here; the message says why and what to
    install or choose instead."""
