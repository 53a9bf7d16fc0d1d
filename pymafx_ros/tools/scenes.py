"""Multi-person scenes and a moving, noisy video, composed from photos inside installed wheels.

Nothing is downloaded: the people are scikit-image's astronaut and cameraman and matplotlib's
Grace Hopper portrait. Each scene records where every person's nose is, so a detector's hits
can be counted (:func:`count_found`). Used by the tests and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pymafx_ros.frontend.part_matching import match_by_distance
from pymafx_ros.frontend.types import PersonDetection

# Nose of each photo's person in the photo's own pixels, measured once with the Holistic front
# end on the photo alone (and checked by eye).
PHOTO_NOSES = {"astronaut": (223.0, 128.0), "cameraman": (247.0, 170.0), "hopper": (270.0, 225.0)}


@dataclass
class Scene:
    """An RGB frame (H, W, 3) uint8 and the nose of every person in it (P, 2) pixels."""

    name: str
    rgb: np.ndarray
    noses: np.ndarray


def photo(name: str) -> np.ndarray:
    """One of the bundled people photos as (H, W, 3) uint8 RGB; ``name`` ends in ``_mirror``
    for its mirror image."""
    base = name.removesuffix("_mirror")
    if base == "astronaut":
        from skimage import data

        image = data.astronaut()
    elif base == "cameraman":
        from skimage import data

        image = np.repeat(data.camera()[..., None], 3, axis=-1)
    elif base == "hopper":
        from matplotlib import cbook

        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    else:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(PHOTO_NOSES)}")
    return np.ascontiguousarray(image[:, ::-1] if name.endswith("_mirror") else image)


def _nose(name: str, scale: float, x0: float, y0: float, width: int) -> tuple[float, float]:
    x, y = PHOTO_NOSES[name.removesuffix("_mirror")]
    if name.endswith("_mirror"):
        x = width - 1 - x
    return x0 + x * scale, y0 + y * scale


def compose(
    name: str,
    size: tuple[int, int],
    placements: list[tuple[str, int, int, int]],
    background: int = 110,
) -> Scene:
    """A ``size`` (width, height) canvas with photos pasted at (photo, x0, y0, height px)."""
    width, height = size
    canvas = np.full((height, width, 3), background, np.uint8)
    noses = []
    for photo_name, x0, y0, person_height in placements:
        image = photo(photo_name)
        scale = person_height / image.shape[0]
        resized = cv2.resize(
            image,
            (round(image.shape[1] * scale), person_height),
            interpolation=cv2.INTER_AREA,
        )
        x1, y1 = min(width, x0 + resized.shape[1]), min(height, y0 + resized.shape[0])
        canvas[y0:y1, x0:x1] = resized[: y1 - y0, : x1 - x0]
        noses.append(_nose(photo_name, scale, x0, y0, image.shape[1]))
    return Scene(name, canvas, np.array(noses, dtype=np.float64))


def multi_person_scenes() -> list[Scene]:
    """The README's scenes: two to five people side by side, overlapping or at two sizes."""
    return [
        compose("1 astronaut (control)", (512, 512), [("astronaut", 0, 0, 512)]),
        compose("2 side by side", (890, 480), [("astronaut", 0, 0, 480), ("hopper", 480, 0, 480)]),
        compose(
            "2 twins (mirrored)",
            (960, 480),
            [("astronaut", 0, 0, 480), ("astronaut_mirror", 480, 0, 480)],
        ),
        compose(
            "3 in a row",
            (1370, 480),
            [("cameraman", 0, 0, 480), ("astronaut", 480, 0, 480), ("hopper", 960, 0, 480)],
        ),
        compose(
            "4 in a row, 300 px",
            (1156, 300),
            [
                ("cameraman", 0, 0, 300),
                ("astronaut", 300, 0, 300),
                ("hopper", 600, 0, 300),
                ("astronaut_mirror", 856, 0, 300),
            ],
        ),
        compose(
            "5 at 200-360 px, HD",
            (1280, 720),
            [
                ("hopper", 20, 360, 360),
                ("cameraman", 330, 420, 300),
                ("astronaut_mirror", 640, 300, 360),
                ("astronaut", 980, 80, 240),
                ("cameraman", 200, 40, 200),
            ],
        ),
    ]


def count_found(scene: Scene, people: list[PersonDetection]) -> tuple[int, int]:
    """(people of ``scene`` found, detections that are nobody): a detection finds the person
    whose nose lies within half its face box of the face box's centre, one to one."""
    if not people:
        return 0, 0
    centres = np.array([[p.face.cx, p.face.cy] for p in people])
    radii = np.array([p.face.size / 2 for p in people])
    matched = match_by_distance(scene.noses, centres, radii)
    return len(matched), len(people) - len(matched)


def noisy_walk(
    frames: int,
    size: tuple[int, int] = (640, 480),
    speed_px: float = 3.0,
    noise_sigma: float = 12.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """A video of the astronaut sliding right by ``speed_px`` per frame over a ``size`` canvas,
    with fresh Gaussian pixel noise (``noise_sigma`` grey levels) in every frame: the motion is
    real and so is the frame-to-frame jitter it causes in any estimator."""
    width, height = size
    person = cv2.resize(photo("astronaut"), (height, height), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    video = []
    for index in range(frames):
        canvas = np.full((height, width, 3), 110.0)
        x0 = round(index * speed_px)
        x1 = min(width, x0 + height)
        canvas[:, x0:x1] = person[:, : x1 - x0]
        canvas += rng.normal(0.0, noise_sigma, canvas.shape)
        video.append(np.clip(canvas, 0, 255).astype(np.uint8))
    return video


def write_video(path: str, frames: list[np.ndarray], fps: float) -> None:
    """RGB frames into an mp4 file (OpenCV's mp4v codec)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write an mp4 video here")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def drifting_people(
    placements: list[tuple[str, int, int, int]],
    frames: int,
    size: tuple[int, int],
    speed_px: float = 2.0,
    noise_sigma: float = 3.0,
    seed: int = 0,
) -> list[Scene]:
    """A video of photos pasted at (photo, x0, y0, height px), all sliding right by ``speed_px``
    per frame, with fresh Gaussian pixel noise in every frame; each frame records the noses."""
    rng = np.random.default_rng(seed)
    video = []
    for index in range(frames):
        shift = round(index * speed_px)
        moved = [(name, x0 + shift, y0, h) for name, x0, y0, h in placements]
        scene = compose(f"frame {index}", size, moved)
        noisy = scene.rgb + rng.normal(0.0, noise_sigma, scene.rgb.shape)
        video.append(Scene(scene.name, np.clip(noisy, 0, 255).astype(np.uint8), scene.noses))
    return video


def people_clips(frames: int = 24) -> dict[str, list[Scene]]:
    """Clips of people side by side over time (docs/people_over_time_figures.md): the issue's
    astronaut and cameraman, and a pairing and a trio the tests had not used (the installed
    packages hold no other photos of people: scikit-image's lfw_subset faces are 25 px)."""
    return {
        "astronaut + cameraman": drifting_people(
            [("astronaut", 0, 0, 512), ("cameraman", 600, 0, 512)], frames, (1152, 512)
        ),
        "hopper + cameraman (mirrored)": drifting_people(
            [("hopper", 20, 0, 480), ("cameraman_mirror", 600, 0, 480)], frames, (1120, 480)
        ),
        "3: astronaut (mirrored), hopper, astronaut": drifting_people(
            [("astronaut_mirror", 0, 0, 480), ("hopper", 490, 0, 480), ("astronaut", 920, 0, 480)],
            frames,
            (1420, 480),
        ),
    }
