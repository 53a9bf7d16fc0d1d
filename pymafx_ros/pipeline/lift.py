"""The 3D lift: the body crop's weak-perspective camera -> metric translation in the camera frame.

The model predicts (s, tx, ty) for a 224 px crop seen through a 5000 px focal length (shared
README §4). Its joints are metric but positioned for that virtual camera; here they are placed
in front of the real one (x right, y down, z forward): a closed-form conversion gives a first
translation, then a weighted linear least-squares fit moves it so that the real camera's
projection of the joints lands on the model's own 2D keypoints mapped back to image pixels.
"""

from __future__ import annotations

import math

import numpy as np

from pymafx_ros.config import DEFAULT_FOV_DEG, PipelineConfig, check_value
from pymafx_ros.pipeline.crops import CROP_SIZE, crop_to_image
from pymafx_ros.pipeline.result import Intrinsics

MODEL_FOCAL_PX = 5000.0  # focal length of the model's virtual camera on the 224 px crop
# Joints closer than this to the camera plane count as behind it: the person is dropped.
MIN_DEPTH_M = 0.05
# Smallest camera scale accepted; below it the implied depth (2 * 5000 / (224 s)) exceeds ~45 km.
MIN_CAM_SCALE = 1e-3
_REFINE_ITERATIONS = 3  # Gauss-Newton steps after the linear solve


def default_intrinsics(width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG) -> Intrinsics:
    """Pinhole intrinsics for an uncalibrated camera: horizontal field of view ``fov_deg``.

    fx = fy = (width / 2) / tan(fov / 2), principal point at the image centre ((W-1)/2, (H-1)/2
    in pixel-centre coordinates); marked ``from_camera_info=False``.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    check_value(PipelineConfig, "default_fov_deg", fov_deg)
    focal = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return Intrinsics(focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, from_camera_info=False)


def project_points(points: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pinhole projection of camera-frame points (..., 3) in metres -> pixels (..., 2)."""
    points = np.asarray(points, dtype=np.float64)
    z = points[..., 2]
    u = intrinsics.fx * points[..., 0] / z + intrinsics.cx
    v = intrinsics.fy * points[..., 1] / z + intrinsics.cy
    return np.stack([u, v], axis=-1)


def crop_camera_keypoints(joints: np.ndarray, cams: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Where the model's own camera puts the joints, in image pixels.

    joints (B, K, 3) in the model frame, cams (B, 3) = (s, tx, ty), boxes (B, 3) = (cx, cy, size)
    of the body crops -> (B, K, 2). Same projection as the model's keypoints (README §4).
    """
    joints = np.asarray(joints, dtype=np.float64)
    cams = np.asarray(cams, dtype=np.float64)
    scale = np.maximum(cams[:, 0], MIN_CAM_SCALE)
    tz = 2.0 * MODEL_FOCAL_PX / (CROP_SIZE * scale)
    shift = np.stack([cams[:, 1], cams[:, 2], tz], axis=-1)[:, None, :]
    shifted = joints + shift
    normalised = shifted[..., :2] / shifted[..., 2:3] * (MODEL_FOCAL_PX / (CROP_SIZE / 2.0))
    return crop_to_image(normalised, boxes)


def initial_translation(cams: np.ndarray, boxes: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Closed-form translation (B, 3) from crop cams (B, 3) and body boxes (B, 3).

    Exact when the real focal length equals the crop's effective one (5000 px * size / 224) and
    the principal point sits at the box centre; otherwise the depth is scaled by the focal ratio
    and the root is placed on the same image ray as in the crop.
    """
    cams = np.asarray(cams, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    scale = np.maximum(cams[:, 0], MIN_CAM_SCALE)
    tz_crop = 2.0 * MODEL_FOCAL_PX / (CROP_SIZE * scale)
    crop_focal = MODEL_FOCAL_PX * boxes[:, 2] / CROP_SIZE
    focal = 0.5 * (intrinsics.fx + intrinsics.fy)
    depth = tz_crop * focal / crop_focal
    # Image position of the model-frame origin under the crop camera.
    root_u = boxes[:, 0] + crop_focal * cams[:, 1] / tz_crop
    root_v = boxes[:, 1] + crop_focal * cams[:, 2] / tz_crop
    tx = (root_u - intrinsics.cx) * depth / intrinsics.fx
    ty = (root_v - intrinsics.cy) * depth / intrinsics.fy
    return np.stack([tx, ty, depth], axis=-1)


def _solve_3x3(normal: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched solve of (B, 3, 3) systems -> (solution (B, 3), solvable (B,)); others give 0."""
    solvable = np.isfinite(normal).all(axis=(1, 2)) & np.isfinite(rhs).all(axis=1)
    safe = np.where(solvable[:, None, None], normal, np.eye(3))
    # Relative conditioning test: the entries scale with focal length and joint count.
    scale = np.trace(safe, axis1=1, axis2=2) / 3.0
    solvable &= np.abs(np.linalg.det(safe)) > 1e-12 * np.abs(scale) ** 3
    safe = np.where(solvable[:, None, None], safe, np.eye(3))
    solution = np.linalg.solve(safe, np.where(solvable[:, None], rhs, 0.0)[..., None])[..., 0]
    return np.where(solvable[:, None], solution, 0.0), solvable


def _depth_ok(joints: np.ndarray, translation: np.ndarray) -> np.ndarray:
    depth = joints[..., 2] + translation[:, 2:3]
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth).all(axis=1) & (depth > MIN_DEPTH_M).all(axis=1)


def _linear_fit(
    joints: np.ndarray, keypoints: np.ndarray, intrinsics: Intrinsics, initial: np.ndarray
) -> np.ndarray:
    """Depth-weighted linear least squares for T (B, 3); unsolvable rows keep ``initial``."""
    fx, fy, cx, cy = intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy
    du = cx - keypoints[..., 0]
    dv = cy - keypoints[..., 1]
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    zeros = np.zeros_like(du)
    # fx (X + Tx) + (cx - u)(Z + Tz) = 0 and fy (Y + Ty) + (cy - v)(Z + Tz) = 0, per joint,
    # divided by the depth of the starting point so each row is (nearly) a pixel error.
    rows_u = np.stack([np.full_like(du, fx), zeros, du], axis=-1)
    rows_v = np.stack([zeros, np.full_like(dv, fy), dv], axis=-1)
    design = np.concatenate([rows_u, rows_v], axis=1)  # (B, 2K, 3)
    target = np.concatenate([-fx * x - du * z, -fy * y - dv * z], axis=1)  # (B, 2K)
    usable = _depth_ok(joints, initial)
    depth = np.where(usable[:, None], z + np.where(usable, initial[:, 2], 0.0)[:, None], 1.0)
    weights = np.concatenate([1.0 / depth, 1.0 / depth], axis=1)
    weighted = design * weights[..., None]
    normal = np.einsum("bki,bkj->bij", weighted, weighted)
    rhs = np.einsum("bki,bk->bi", weighted, target * weights)
    solution, solvable = _solve_3x3(normal, rhs)
    return np.where(solvable[:, None], solution, initial)


def _pixel_residual(
    joints: np.ndarray, translation: np.ndarray, keypoints: np.ndarray, intrinsics: Intrinsics
) -> tuple[np.ndarray, np.ndarray]:
    """Reprojection residual (B, 2K) in pixels and its Jacobian (B, 2K, 3) w.r.t. T."""
    placed = joints + translation[:, None, :]
    x, y, z = placed[..., 0], placed[..., 1], placed[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_z = 1.0 / z
        res_u = intrinsics.fx * x * inv_z + intrinsics.cx - keypoints[..., 0]
        res_v = intrinsics.fy * y * inv_z + intrinsics.cy - keypoints[..., 1]
        zeros = np.zeros_like(x)
        jac_u = np.stack([intrinsics.fx * inv_z, zeros, -intrinsics.fx * x * inv_z**2], axis=-1)
        jac_v = np.stack([zeros, intrinsics.fy * inv_z, -intrinsics.fy * y * inv_z**2], axis=-1)
    return np.concatenate([res_u, res_v], axis=1), np.concatenate([jac_u, jac_v], axis=1)


def _cost(joints, translation, keypoints, intrinsics) -> np.ndarray:
    residual, _ = _pixel_residual(joints, translation, keypoints, intrinsics)
    cost = (residual**2).sum(axis=1)
    return np.where(_depth_ok(joints, translation) & np.isfinite(cost), cost, np.inf)


def refine_translation(
    joints: np.ndarray,
    keypoints: np.ndarray,
    intrinsics: Intrinsics,
    initial: np.ndarray,
    iterations: int = _REFINE_ITERATIONS,
) -> np.ndarray:
    """Translation (B, 3) whose projection of ``joints + T`` best fits ``keypoints`` in pixels.

    joints (B, K, 3) model frame, keypoints (B, K, 2) image pixels, initial (B, 3). The pinhole
    equations are linear in T once multiplied by the depth: a weighted linear least-squares
    solve lands next to the optimum, a few Gauss-Newton steps on the pixel error finish it.
    A step is only taken where it lowers the error; rows that cannot be solved keep ``initial``.
    """
    joints = np.asarray(joints, dtype=np.float64)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    best = initial.copy()
    best_cost = _cost(joints, best, keypoints, intrinsics)
    candidate = _linear_fit(joints, keypoints, intrinsics, initial)
    for _ in range(iterations + 1):
        cost = _cost(joints, candidate, keypoints, intrinsics)
        better = cost < best_cost
        best = np.where(better[:, None], candidate, best)
        best_cost = np.where(better, cost, best_cost)
        residual, jacobian = _pixel_residual(joints, best, keypoints, intrinsics)
        normal = np.einsum("bki,bkj->bij", jacobian, jacobian)
        step, _ = _solve_3x3(normal, -np.einsum("bki,bk->bi", jacobian, residual))
        candidate = best + step
    return best


def in_front_of_camera(joints: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """(B,) True where all of ``joints + translation`` is finite and in front of the lens."""
    placed = np.asarray(joints) + np.asarray(translation)[:, None, :]
    finite = np.isfinite(placed).all(axis=(1, 2))
    with np.errstate(invalid="ignore"):
        return finite & (placed[..., 2] > MIN_DEPTH_M).all(axis=1)


def lift_translation(
    joints: np.ndarray, cams: np.ndarray, boxes: np.ndarray, intrinsics: Intrinsics
) -> tuple[np.ndarray, np.ndarray]:
    """Metric translation (B, 3) for model-frame joints (B, K, 3), cams (B, 3), boxes (B, 3).

    Returns (translation, ok): ``ok`` (B,) is False where the result is unusable (non-finite or
    a joint behind the camera); such people must be dropped.
    """
    targets = crop_camera_keypoints(joints, cams, boxes)
    initial = initial_translation(cams, boxes, intrinsics)
    translation = refine_translation(joints, targets, intrinsics, initial)
    degenerate_cam = ~np.isfinite(np.asarray(cams, dtype=np.float64)).all(axis=1)
    degenerate_cam |= np.asarray(cams, dtype=np.float64)[:, 0] <= 0
    ok = in_front_of_camera(joints, translation) & ~degenerate_cam
    return translation, ok
