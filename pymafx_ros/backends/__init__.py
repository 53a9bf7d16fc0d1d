"""Ways of running PyMAF-X behind one interface: eager ``torch``, ``onnxruntime`` and
``openvino`` on the exported programs, ``auto`` (``tensorrt`` is reserved for the GPU backend).
No ROS here. See ``interface`` for the call, ``selection`` for the ``auto`` rules."""

from pymafx_ros.backends.cpu_features import CpuFeatures, detect_cpu_features
from pymafx_ros.backends.interface import (
    BACKEND_CHOICES,
    PRECISION_CHOICES,
    PROFILE_NAMES,
    Backend,
    BackendUnavailableError,
)
from pymafx_ros.backends.selection import BackendChoice, choose_backend, create_backend

__all__ = [
    "BACKEND_CHOICES",
    "PRECISION_CHOICES",
    "PROFILE_NAMES",
    "Backend",
    "BackendChoice",
    "BackendUnavailableError",
    "CpuFeatures",
    "choose_backend",
    "create_backend",
    "detect_cpu_features",
]
