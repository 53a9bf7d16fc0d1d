"""``BackendOptions``: everything ``selection.create_backend`` / ``open_backend`` are asked for
beyond the model, in one value (the node, the CLIs and the benchmarks build one). Importable
without torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from pymafx_ros.backends.artefact_cache import ArtefactCache
from pymafx_ros.backends.calibration import CalibrationProvider
from pymafx_ros.backends.cpu_features import CpuFeatures
from pymafx_ros.backends.tensorrt.options import EngineOptions


@dataclass(frozen=True)
class BackendOptions:
    """Which backend runs the model and how.

    ``backend`` / ``precision``: names from ``names`` (``auto`` resolved by ``selection``'s
    rules); ``device``: torch device string; ``num_threads``: CPU engines' thread count (0: the
    engine's default); ``cache``: where exported programs and engines are kept (None: the
    default cache); ``cpu``: the CPU facts the ``auto`` rules read (None: detected); ``engines``:
    the tensorrt backend's batch limit and whether it builds missing engines; ``calibration``:
    the int8 encoders' calibration set for a weights fingerprint (None: int8 is refused;
    ``pipeline.calibration.calibration_for`` gives the recorded or built-in set).
    """

    backend: str = "auto"
    precision: str = "fp32"
    device: str = "cpu"
    num_threads: int = 0
    cache: ArtefactCache | None = None
    cpu: CpuFeatures | None = None
    engines: EngineOptions = field(default_factory=EngineOptions)
    calibration: CalibrationProvider | None = None
