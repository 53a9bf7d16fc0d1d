"""A stamp going back (a bag played in a loop) starts a new sequence: the video graphs forget
their people, as new graphs would, without being recreated (MediaPipe never gives a closed
graph's memory back), so memory stays flat over any number of resets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple

import numpy as np
import pytest

from pymafx_ros.frontend import PersonDetection, create_detector
from pymafx_ros.pipeline.memory import resident_mb, return_freed_memory

# Allowed growth of resident memory over the resets (each recreated set of Tasks models kept
# about 20 MB before).
RESET_GROWTH_MB = 50.0
RESETS = 100


@pytest.fixture()
def created(monkeypatch) -> list[str]:
    """The MediaPipe graphs created from now on, by kind."""
    from mediapipe.python.solutions import holistic
    from mediapipe.tasks.python import vision

    names: list[str] = []
    for task in (vision.PoseLandmarker, vision.HandLandmarker, vision.FaceDetector):
        original = task.create_from_options

        def counted(options, original=original, name=task.__name__):
            names.append(name)
            return original(options)

        monkeypatch.setattr(task, "create_from_options", counted)
    original_reset = holistic.Holistic.reset

    def counted_reset(self):
        names.append("Holistic.reset")
        original_reset(self)

    monkeypatch.setattr(holistic.Holistic, "reset", counted_reset)
    return names


def shifted(frame: np.ndarray, pixels: int) -> np.ndarray:
    return np.ascontiguousarray(np.roll(frame, pixels, axis=1))


def values(person: PersonDetection) -> list[np.ndarray]:
    """Score, boxes, visibilities and keypoints as arrays."""
    boxes = [np.asarray(value, dtype=float) for value in astuple(person)[:-1]]
    return boxes + [person.keypoints[name] for name in sorted(person.keypoints)]


def same_people(a: list[PersonDetection], b: list[PersonDetection]) -> bool:
    """The same people, to MediaPipe's float noise."""
    if len(a) != len(b):
        return False
    for one, other in zip(a, b, strict=True):
        mine, theirs = values(one), values(other)
        if len(mine) != len(theirs) or not all(
            np.allclose(x, y, atol=1e-3) for x, y in zip(mine, theirs, strict=True)
        ):
            return False
    return True


def mediapipe_detector(max_people: int):
    """The MediaPipe front end for ``max_people``; the Tasks one without its window search
    (the whole-frame pass is what keeps tracking state)."""
    options = {} if max_people == 1 else {"region_search": False}
    return create_detector("mediapipe", max_people=max_people, **options)


@pytest.fixture(params=[1, 2], ids=["holistic", "tasks"])
def detector_kind(request, private_cache, no_network) -> Iterator[int]:
    yield request.param


def test_after_a_reset_the_graphs_find_what_new_graphs_find(detector_kind, astronaut, created):
    sequence = [shifted(astronaut, 6 * i) for i in range(3)]
    fresh = mediapipe_detector(detector_kind)
    expected = [fresh.detect(frame, 1000 + 33 * i) for i, frame in enumerate(sequence)]
    fresh.close()
    kept = mediapipe_detector(detector_kind)
    for i in range(3):  # another sequence first: people tracked elsewhere in the frame
        kept.detect(shifted(astronaut, 60 + 6 * i), 5000 + 33 * i)
    created.clear()
    found = [kept.detect(frame, 1000 + 33 * i) for i, frame in enumerate(sequence)]
    kept.close()
    assert created == []  # nothing recreated, nothing reset by rebuilding the graph
    assert all(found) and all(same_people(f, e) for f, e in zip(found, expected, strict=True))


def test_memory_stays_flat_over_many_resets(detector_kind, astronaut, created):
    detector = mediapipe_detector(detector_kind)
    frames = [shifted(astronaut, 6 * i) for i in range(2)]
    for i, frame in enumerate(frames):  # warm-up: every graph created once
        detector.detect(frame, 1000 + 33 * i)
    created.clear()
    return_freed_memory()
    warm = resident_mb()
    for reset in range(RESETS):  # the same stamp again: every frame starts a new sequence
        assert len(detector.detect(frames[reset % 2], 1000)) == 1
    return_freed_memory()
    grown = resident_mb() - warm
    detector.close()
    assert created == []
    assert grown < RESET_GROWTH_MB, f"{grown:.0f} MB more after {RESETS} stamp resets"
