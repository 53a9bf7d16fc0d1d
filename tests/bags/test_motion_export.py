"""AMASS motion files: SMPL-X fed the exported parameters gives the world bodies' joints (the
root re-expressed about the pelvis, not the origin), and offline smoothing has no lag."""

from __future__ import annotations

import numpy as np
import torch
from fake_pipeline import default_k, make_person
from smplx_doubles import placeholder_smplx
from swaying_track import swaying_track

from pymafx_ros.config import SmoothingConfig
from pymafx_ros.pipeline.world_body import body_in_world
from pymafx_ros.tools.motion_export import AmassExporter, camera_pose
from pymafx_ros.tracking.offline_smoothing import (
    smooth_track_offline,
    track_jitter_mm,
    track_lag_ms,
)
from pymafx_ros.tracking.person_filter import PersonFilter


def _track(frames: int = 5):
    layer = placeholder_smplx()
    k = default_k(64, 48, 60.0)
    people = []
    betas = make_person(layer, k, 64, 48, seed=99).betas
    for index in range(frames):
        person = make_person(layer, k, 64, 48, seed=index)
        # One person: one shape. Re-pose with the track's betas so joints follow from them.
        params = {n: getattr(person, n) for n in ("global_orient", "body_pose", "jaw_pose",
                  "leye_pose", "reye_pose", "left_hand_pose", "right_hand_pose", "expression",
                  "transl")}  # fmt: skip
        tensors = {n: torch.tensor(v[None], dtype=torch.float32) for n, v in params.items()}
        with torch.no_grad():
            out = layer(betas=torch.tensor(betas[None], dtype=torch.float32), **tensors)
        person.betas, person.joints = betas.copy(), out.joints[0, :55].double().numpy()
        person.track_id = "p1"
        people.append(person)
    return layer, people


def test_smplx_fed_the_export_gives_the_world_joints_within_1mm(tmp_path):
    layer, people = _track()
    rotation, translation = camera_pose("0.3,-0.2,1.5,0.1,0.2,0.7")
    exporter = AmassExporter("world")
    for index, person in enumerate(people):
        exporter.add(index * 10**8, [person], rotation, translation)
    (path,) = exporter.write(tmp_path)
    motion = np.load(path)
    assert motion["betas"].shape == (16,) and str(motion["gender"]) == "neutral"
    frames = len(people)
    with torch.no_grad():
        out = layer(
            betas=torch.tensor(motion["betas"][None, :10], dtype=torch.float32).expand(frames, -1),
            global_orient=torch.tensor(motion["root_orient"], dtype=torch.float32),
            body_pose=torch.tensor(motion["pose_body"], dtype=torch.float32),
            left_hand_pose=torch.tensor(motion["pose_hand"][:, :45], dtype=torch.float32),
            right_hand_pose=torch.tensor(motion["pose_hand"][:, 45:], dtype=torch.float32),
            jaw_pose=torch.tensor(motion["pose_jaw"], dtype=torch.float32),
            leye_pose=torch.tensor(motion["pose_eye"][:, :3], dtype=torch.float32),
            reye_pose=torch.tensor(motion["pose_eye"][:, 3:], dtype=torch.float32),
            expression=torch.tensor(np.stack([p.expression for p in people]), dtype=torch.float32),
            transl=torch.tensor(motion["trans"], dtype=torch.float32),
        )
    joints = out.joints[:, :55].double().numpy()
    world = np.stack([body_in_world(p, rotation, translation).positions for p in people])
    assert np.abs(joints - world).max() < 1e-3


def test_default_camera_pose_is_level_at_1_5_m_looking_along_x():
    rotation, translation = camera_pose("0,0,1.5,0,0,0")
    np.testing.assert_allclose(translation, [0, 0, 1.5])
    np.testing.assert_allclose(rotation @ [0, 0, 1], [1, 0, 0], atol=1e-12)  # optical z -> +x
    np.testing.assert_allclose(rotation @ [0, 1, 0], [0, 0, -1], atol=1e-12)  # image down


def test_offline_smoothing_has_no_lag_and_less_jitter_than_causal():
    track = swaying_track()
    config = SmoothingConfig()
    causal_filter = PersonFilter(config)
    steps = [None] + [1 / 30.0] * (len(track.stamps_s) - 1)
    causal = np.stack(
        [
            track.posing(causal_filter(p, dt), track.intrinsics).joints
            for p, dt in zip(track.noisy, steps, strict=True)
        ]
    )
    smoothed = smooth_track_offline(
        track.noisy, list(track.stamps_s), [track.intrinsics] * len(steps), config, track.posing
    )
    offline = np.stack([p.joints for p in smoothed])
    raw = np.stack([p.joints for p in track.noisy])
    stamps = track.stamps_s
    assert track_jitter_mm(stamps, offline) < track_jitter_mm(stamps, causal)
    assert track_jitter_mm(stamps, causal) < track_jitter_mm(stamps, raw)
    assert track_lag_ms(stamps, track.truth, causal) > 15.0
    assert abs(track_lag_ms(stamps, track.truth, offline)) < 10.0
