"""A stand-in for ``Pipeline`` in node tests: placeholder SMPL-X people, posed per frame.

The node under test only needs ``model_info``, ``process`` and ``close``; this one runs the real
``smplx.SMPLX`` layer on the vendored placeholder model, so its people are internally exact
(parameters reproduce joints, rotations follow the kinematic tree) and deterministic, with an
optional delay to play a slow model. Environment knobs (set by the tests):
PYMAFX_TEST_DELAY_S (seconds per frame), PYMAFX_TEST_PEOPLE (people per frame),
PYMAFX_TEST_FAIL_LOAD (non-empty: loading raises FileNotFoundError; 'runtime': RuntimeError),
PYMAFX_TEST_LOAD_S (seconds loading takes),
PYMAFX_TEST_FAULTS (non-empty: a frame of one uniform colour injects a fault, see ``FAULTS``,
so a test reaches every failure path over DDS as a camera would), PYMAFX_TEST_DEVICE (the device
the double claims to run on, default cpu: its frames go through the real ``DeviceGuard``, so
the injected GPU faults take the real recovery path; a move to the CPU only relabels it). Ids,
smoothing and track quality come from the real tracking stage (``PeopleOverTime``), fed with
the people's boxes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time

import numpy as np
import smplx
import torch
from scipy.spatial.transform import Rotation
from smplx_doubles import placeholder_model_info, placeholder_smplx

from pymafx_ros.config import PipelineConfig
from pymafx_ros.frontend.types import PartBox, PersonDetection
from pymafx_ros.geometry.camera import Intrinsics
from pymafx_ros.geometry.person import Box, PersonResult
from pymafx_ros.pipeline.body_forward import BodyForward, posed_person
from pymafx_ros.pipeline.device_recovery import DeviceGuard
from pymafx_ros.pipeline.result import FrameResult, ModelInfo
from pymafx_ros.tracking.people import PeopleOverTime

UPRIGHT = np.array([math.pi, 0.0, 0.0])  # SMPL-X y-up turned into the camera's y-down

# Uniform RGB colour of a frame -> the fault it injects (with PYMAFX_TEST_FAULTS set).
FAULTS = {
    (255, 0, 0): "raise",  # the pipeline raises on this frame
    (0, 255, 0): "unpublishable",  # a malformed result: the node's own code fails on it
    (0, 0, 255): "exit_thread",  # SystemExit: ends the inference thread
    (255, 0, 255): "nan_one",  # the second of two people has a NaN joint
    (255, 255, 0): "nan_all",  # every person has a NaN joint
    (0, 255, 255): "oom_once",  # CUDA out of memory on the first try of this frame
    (255, 128, 0): "oom_twice",  # out of memory on the retry too: the frame is lost
    (128, 0, 255): "device_lost",  # a CUDA launch failure while on the GPU
}


def fault_of(rgb: np.ndarray) -> str | None:
    """The fault a uniformly coloured frame asks for (see ``FAULTS``), else None."""
    first = tuple(int(v) for v in rgb[0, 0])
    if first not in FAULTS or not (rgb == rgb[0, 0]).all():
        return None
    return FAULTS[first]


def global_rotations(local_axis_angle: np.ndarray, parents: list[int]) -> np.ndarray:
    """(J, 3) local axis-angle -> (J, 3, 3) global rotations along the tree."""
    local = Rotation.from_rotvec(local_axis_angle).as_matrix()
    out = np.empty_like(local)
    for joint, parent in enumerate(parents):
        out[joint] = local[joint] if parent < 0 else out[parent] @ local[joint]
    return out


def default_k(width: int, height: int, fov_deg: float) -> Intrinsics:
    fx = 0.5 * width / math.tan(math.radians(fov_deg) / 2.0)
    return Intrinsics(fx, fx, width / 2.0, height / 2.0, from_camera_info=False)


def make_person(
    layer: smplx.SMPLX,
    k: Intrinsics,
    width: int,
    height: int,
    seed: int,
    x_offset: float = 0.0,
    with_vertices: bool = True,
) -> PersonResult:
    """One exact SMPL-X person about 3 m in front of the camera, pose drawn from ``seed``, with
    the track id ``p<seed>`` (the fake pipeline replaces it with its tracker's)."""
    rng = np.random.default_rng(seed)
    pose = {
        "global_orient": UPRIGHT + rng.normal(0.0, 0.1, 3),
        "body_pose": rng.normal(0.0, 0.2, 63),
        "jaw_pose": rng.normal(0.0, 0.05, 3),
        "leye_pose": np.zeros(3),
        "reye_pose": np.zeros(3),
        "left_hand_pose": rng.normal(0.0, 0.2, 45),
        "right_hand_pose": rng.normal(0.0, 0.2, 45),
        "betas": rng.normal(0.0, 0.5, 10),
        "expression": rng.normal(0.0, 0.5, 50),
        "transl": np.array([x_offset, 0.2, 3.0]) + rng.normal(0.0, 0.02, 3),
    }
    with torch.no_grad():
        out = layer(**{k_: torch.tensor(v[None], dtype=torch.float32) for k_, v in pose.items()})
    joints = out.joints[0, :55].double().numpy()
    vertices = out.vertices[0].double().numpy()
    local = np.concatenate(
        [pose[n].reshape(-1, 3) for n in ("global_orient", "body_pose", "jaw_pose", "leye_pose",
                                          "reye_pose", "left_hand_pose", "right_hand_pose")]
    )  # fmt: skip
    rotations = global_rotations(local, [int(p) for p in layer.parents[:55]])
    uv = np.stack([k.fx * joints[:, 0] / joints[:, 2] + k.cx,
                   k.fy * joints[:, 1] / joints[:, 2] + k.cy], axis=1)  # fmt: skip
    corners = np.stack([k.fx * vertices[:, 0] / vertices[:, 2] + k.cx,
                        k.fy * vertices[:, 1] / vertices[:, 2] + k.cy], axis=1)  # fmt: skip
    body = Box(*corners.min(axis=0), *corners.max(axis=0)).clipped(width, height)
    return PersonResult(
        detection_score=0.9,
        body_box=body,
        left_hand_box=None,
        right_hand_box=Box(10, 10, 40, 40),
        face_box=None,
        left_hand_visibility=0.0,
        right_hand_visibility=0.8,
        face_visibility=0.5,
        left_hand_valid=False,
        right_hand_valid=True,
        face_valid=True,
        joints=joints,
        joint_rotations=rotations,
        keypoints_2d=uv,
        vertices=vertices if with_vertices else None,
        fingertips=out.joints[0, 66:76].double().numpy(),
        track_id=f"p{seed}",
        **{name: value.astype(np.float64) for name, value in pose.items()},
    )


class FakePipeline:
    """``Pipeline``'s interface over placeholder SMPL-X people (see the module docstring)."""

    def __init__(self, config: PipelineConfig) -> None:
        failure = os.environ.get("PYMAFX_TEST_FAIL_LOAD")
        if failure == "runtime":
            raise RuntimeError("test double told to fail: CUDA out of memory")
        if failure:
            raise FileNotFoundError("test double told to fail: no SMPLX_NEUTRAL_2020.npz")
        time.sleep(float(os.environ.get("PYMAFX_TEST_LOAD_S", "0")))
        torch.set_num_threads(1)
        self.config = config
        self.faults = bool(os.environ.get("PYMAFX_TEST_FAULTS"))
        self.delay_s = float(os.environ.get("PYMAFX_TEST_DELAY_S", "0"))
        self.front_delay_s = float(os.environ.get("PYMAFX_TEST_FRONT_S", "0"))
        self.people = int(os.environ.get("PYMAFX_TEST_PEOPLE", "1"))
        self.layer = placeholder_smplx()
        self._info = placeholder_model_info()
        self.frames = 0
        self.tracking = config.tracking
        # As the real pipeline: filtered parameters, everything else recomputed from them.
        forward = BodyForward.from_smplx_layer(self.layer)
        self.over_time = PeopleOverTime(
            self.tracking, lambda person, k: posed_person(forward, person, k, with_mesh=False)
        )
        # Core code logs through Python logging; the node forwards it to /rosout.
        logging.getLogger("pymafx_ros.test_double").warning("test double loaded (fake people)")
        device = torch.device(os.environ.get("PYMAFX_TEST_DEVICE", "cpu"))
        self.guard = DeviceGuard(device, move_to_cpu=lambda why: None)

    def device_health(self) -> dict[str, str]:
        return self.guard.health.as_values()

    @property
    def model_info(self) -> ModelInfo:
        return self._info

    def front_end(self, rgb: np.ndarray, intrinsics=None, timestamp_ms=None, boxes=None):
        """The front-end stage: PYMAFX_TEST_FRONT_S seconds, then the arguments for
        ``back_end`` (this double reads no tracks before its model stage)."""
        time.sleep(self.front_delay_s)
        return rgb, intrinsics, timestamp_ms, boxes

    def back_end(self, front, tracked=None):
        if tracked is not None:
            tracked()
        return self.process(*front)

    def process(self, rgb: np.ndarray, intrinsics=None, timestamp_ms=None, boxes=None):
        start = time.perf_counter()
        height, width = rgb.shape[:2]
        k = intrinsics or default_k(width, height, self.config.default_fov_deg)
        fault = fault_of(rgb) if self.faults else None
        attempts = []

        def device_step() -> None:
            attempts.append(self.guard.device)
            if (fault == "oom_once" and len(attempts) == 1) or fault == "oom_twice":
                raise torch.OutOfMemoryError("CUDA out of memory (test double)")
            if fault == "device_lost" and self.guard.device.type != "cpu":
                raise torch.AcceleratorError("CUDA error: unspecified launch failure (test)")

        self.guard.run(device_step)
        if fault == "raise":
            raise RuntimeError("test double told to fail on this frame")
        if fault == "exit_thread":
            raise SystemExit("test double told to end the inference thread")
        # A black image has nobody in it: lets tests check the empty-people message.
        count = self.people if rgb.max() > 0 else 0
        if fault in ("nan_one", "nan_all"):
            count = 2
        people = [
            make_person(self.layer, k, width, height, seed=self.frames * 10 + i,
                        x_offset=0.8 * i, with_vertices=self.config.with_vertices)
            for i in range(count)
        ]  # fmt: skip
        self.frames += 1
        for index in {"nan_one": [1], "nan_all": [0, 1]}.get(fault, []):
            people[index].joints[5, 0] = np.nan
        people = self._tracked(people, k, timestamp_ms)
        time.sleep(max(0.0, self.delay_s - (time.perf_counter() - start)))
        total = 1e3 * (time.perf_counter() - start)
        if fault == "unpublishable":
            return None
        return FrameResult(
            people=people,
            intrinsics=k,
            image_width=width,
            image_height=height,
            placeholder_assets=True,
            placeholder_weights=True,
            timings_ms={"model": total, "total": total},
            smoothing=self.tracking.smoothing.enable,
            tracks=self.over_time.quality(),
        )

    def _tracked(self, people: list[PersonResult], k: Intrinsics, timestamp_ms) -> list:
        """The real tracking stage on these people: ids for confirmed tracks, then the filter
        (for finite people only, as the real pipeline drops the others before it)."""
        detections = []
        for person in people:
            box = person.body_box
            body = PartBox(
                0.5 * (box.x0 + box.x1), 0.5 * (box.y0 + box.y1), max(box.width, box.height, 1.0)
            )
            detections.append(PersonDetection(0.9, body, body, body, body, 0.0, 0.8, 0.5))
        stamp_s = None if timestamp_ms is None else timestamp_ms / 1e3
        tracked = self.over_time.begin_frame(detections, stamp_s, parts_from_body=False)
        kept = [
            dataclasses.replace(people[index], track_id=track_id)
            for index, track_id in zip(tracked.indices, tracked.ids, strict=True)
        ]
        finite = [p for p in kept if p.is_finite()]
        filtered = iter(self.over_time.finish(finite, stamp_s, k))
        return [next(filtered) if p.is_finite() else p for p in kept]

    def close(self) -> None:
        self.frames = -1
