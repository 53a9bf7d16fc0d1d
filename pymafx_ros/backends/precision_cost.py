"""What a reduced precision costs: distances in millimetres between a backend's joints and
vertices and fp32's for the same inputs (model frame, metres in, mm out).

Used by ``pymafx-ros calibrate`` (recorded with the calibration, read by ``precision: auto``),
the parity command and ``benchmarks/precision_accuracy.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

# The kinematic joints of SMPL-X (the rest of ``smplx_joints`` are landmarks).
KINEMATIC_JOINTS = 55


def distances_mm(
    test: torch.Tensor | np.ndarray, reference: torch.Tensor | np.ndarray
) -> np.ndarray:
    """Per-point Euclidean distances [...] in mm between points [..., 3] given in metres."""
    a = np.asarray(test, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare points of shapes {a.shape} and {b.shape}")
    return np.linalg.norm(a - b, axis=-1) * 1000.0


@dataclass
class CostMeter:
    """Collects joint and vertex distances of many outputs; ``summary`` gives mean/max in mm."""

    joints: list[np.ndarray] = field(default_factory=list)
    vertices: list[np.ndarray] = field(default_factory=list)
    people: int = 0

    def add(self, test: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor]) -> None:
        """One ``BackendOutput.as_dict()`` of the ``mesh`` profile against fp32's."""
        joints = distances_mm(
            test["smplx_joints"][:, :KINEMATIC_JOINTS],
            reference["smplx_joints"][:, :KINEMATIC_JOINTS],
        )
        self.joints.append(joints.ravel())
        self.vertices.append(distances_mm(test["smplx_verts"], reference["smplx_verts"]).ravel())
        self.people += int(joints.shape[0])

    def summary(self) -> dict[str, float | int]:
        """joints / vertices mean and max in mm (rounded to the micrometre), and people."""
        if not self.joints:
            raise ValueError("no output was compared")
        joints, vertices = np.concatenate(self.joints), np.concatenate(self.vertices)
        return {
            "people": self.people,
            "joints_mm_mean": round(float(joints.mean()), 3),
            "joints_mm_max": round(float(joints.max()), 3),
            "vertices_mm_mean": round(float(vertices.mean()), 3),
            "vertices_mm_max": round(float(vertices.max()), 3),
        }
