"""A synthetic track for smoothing figures: a placeholder SMPL-X person swaying 20 cm at 0.5 Hz
and turning, 30 Hz, with 1 cm noise on the root translation and 2 degrees on the root rotation
(the filters act on the SMPL-X parameters; joints follow from them by ``posing``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from fake_pipeline import default_k, make_person
from scipy.spatial.transform import Rotation
from smplx_doubles import placeholder_smplx

from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import PersonResult
from pymafx_ros.pipeline.body_forward import BodyForward, posed_person


@dataclasses.dataclass
class SwayingTrack:
    """T frames: stamps (T,) s, the noise-free joints (T, 55, 3) m, the noisy people, their
    intrinsics and the posing that recomputes joints from parameters."""

    stamps_s: np.ndarray
    truth: np.ndarray
    noisy: list[PersonResult]
    intrinsics: Intrinsics
    posing: Callable[[PersonResult, Intrinsics], PersonResult]


def swaying_track(frames: int = 90, seed: int = 0) -> SwayingTrack:
    """The clip described in the module doc, deterministic for ``seed``."""
    k = default_k(64, 48, 60.0)
    layer = placeholder_smplx()
    forward = BodyForward.from_smplx_layer(layer)

    def posing(person: PersonResult, intrinsics: Intrinsics) -> PersonResult:
        return posed_person(forward, person, intrinsics, with_mesh=False)

    base = make_person(layer, k, 64, 48, seed=0)
    rng = np.random.default_rng(seed)
    stamps = np.arange(frames) / 30.0
    truth, noisy = [], []
    for t in stamps:
        sway = np.array([0.2 * np.sin(np.pi * t), 0.0, 0.0])
        turn = Rotation.from_rotvec([0.0, 0.3 * np.sin(np.pi * t), 0.0])
        root = turn * Rotation.from_rotvec(base.global_orient)
        clean = dataclasses.replace(
            base, transl=base.transl + sway, global_orient=root.as_rotvec()
        )
        truth.append(posing(clean, k).joints)
        wobble = Rotation.from_rotvec(rng.normal(0.0, np.radians(2.0), 3))
        noisy.append(
            posing(
                dataclasses.replace(
                    clean,
                    transl=clean.transl + rng.normal(0.0, 0.01, 3),
                    global_orient=(wobble * root).as_rotvec(),
                ),
                k,
            )
        )
    return SwayingTrack(stamps, np.stack(truth), noisy, k, posing)
