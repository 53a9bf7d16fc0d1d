"""MediaPipe front ends on real photos: the person, the face, the unseen hands, the sides."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest

from pymafx_ros.frontend import PersonDetection, create_detector
from pymafx_ros.frontend.box_rules import VISIBILITY_GATE
from pymafx_ros.frontend.types import PartBox

# Where things are in the astronaut photo (512x512), read off the image: the face from brows
# to chin and jaw to jaw, and her shoulders. Both hands are out of view: her right hand below
# the frame's bottom edge (only the glove ring shows), her left one behind the helmet.
FACE_CENTRE = (226.0, 128.0)
FACE_EXTENT = 100.0
SHOULDERS_Y = 250.0
COCO_LEFT_SHOULDER, COCO_RIGHT_SHOULDER = 5, 6


@pytest.fixture(scope="module")
def holistic(private_cache, no_network):
    detector = create_detector("mediapipe", max_people=1)
    yield detector
    detector.close()


@pytest.fixture(scope="module")
def multi(private_cache, no_network):
    # The pose detector scores the astronaut pasted into a two-photo strip between 0.3 and 0.5.
    detector = create_detector("mediapipe", max_people=3, min_score=0.3)
    yield detector
    detector.close()


@pytest.fixture(scope="module")
def astronaut_people(holistic, astronaut):
    return holistic.detect(astronaut), holistic.detect(np.ascontiguousarray(astronaut[:, ::-1]))


def contains(box: PartBox, x: float, y: float) -> bool:
    return abs(x - box.cx) <= box.size / 2 and abs(y - box.cy) <= box.size / 2


def mirrored(box: PartBox, width: int) -> PartBox:
    return PartBox(cx=width - 1 - box.cx, cy=box.cy, size=box.size)


def assert_astronaut(person: PersonDetection, face_tolerance: float = 12.0) -> None:
    assert person.score > 0.5
    assert person.face.cx == pytest.approx(FACE_CENTRE[0], abs=face_tolerance)
    assert person.face.cy == pytest.approx(FACE_CENTRE[1], abs=face_tolerance)
    # release rule: 1.2 * extent * 1.4
    assert person.face.size == pytest.approx(1.68 * FACE_EXTENT, rel=0.15)
    for x, y in [FACE_CENTRE, (60, SHOULDERS_Y), (340, SHOULDERS_Y), (200, 500)]:
        assert contains(person.body, x, y)
    assert person.vis_lhand < VISIBILITY_GATE and person.vis_rhand < VISIBILITY_GATE


def test_holistic_finds_the_astronaut_her_face_and_no_hand(astronaut_people):
    people, _ = astronaut_people
    assert len(people) == 1
    person = people[0]
    assert_astronaut(person)
    assert person.vis_face > 0.5
    body = person.keypoints["body"]
    assert body.shape == (17, 3) and person.keypoints["face"].shape == (468, 3)
    # facing the camera, her own left shoulder is on the image's right
    assert body[COCO_LEFT_SHOULDER, 0] > 256 > body[COCO_RIGHT_SHOULDER, 0]
    # the guessed hand boxes sit on their own side, low in the frame, near the wrists
    assert person.left_hand.cx > 256 > person.right_hand.cx
    assert min(person.left_hand.cy, person.right_hand.cy) > 400


def mirrored_person(person: PersonDetection, width: int) -> PersonDetection:
    """What ``person`` found in a mirrored frame is in the original: x mirrored, sides swapped."""
    return PersonDetection(
        score=person.score,
        body=mirrored(person.body, width),
        left_hand=mirrored(person.right_hand, width),
        right_hand=mirrored(person.left_hand, width),
        face=mirrored(person.face, width),
        vis_lhand=person.vis_rhand,
        vis_rhand=person.vis_lhand,
        vis_face=person.vis_face,
    )


def test_the_mirrored_photo_swaps_left_and_right(astronaut_people):
    (person,), (flipped,) = astronaut_people
    width = 512
    back = mirrored_person(flipped, width)
    assert_astronaut(back)
    assert astuple(back.face) == pytest.approx(astuple(person.face), abs=4.0)
    assert astuple(back.body) == pytest.approx(astuple(person.body), abs=15.0)
    body, flipped_body = person.keypoints["body"], flipped.keypoints["body"]
    # the shoulder that was her left is the mirror image's right one, and the other way round
    for mine, theirs in [
        (COCO_RIGHT_SHOULDER, COCO_LEFT_SHOULDER),
        (COCO_LEFT_SHOULDER, COCO_RIGHT_SHOULDER),
    ]:
        assert flipped_body[mine, 0] == pytest.approx(width - 1 - body[theirs, 0], abs=15)
    # the unseen hands' guesses come from hidden arms, which the pose model places differently
    # in the mirror image: only their sides are asserted
    assert back.left_hand.cx > 256 > back.right_hand.cx
    assert person.left_hand.cx > 256 > person.right_hand.cx


@pytest.mark.parametrize("kind", ["black", "noise"])
def test_no_person_in_an_empty_frame(holistic, multi, kind):
    rng = np.random.default_rng(0)
    frame = (
        np.zeros((480, 640, 3), np.uint8)
        if kind == "black"
        else rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    )
    assert holistic.detect(frame) == []
    assert multi.detect(frame) == []


@pytest.mark.parametrize("detector_name", ["holistic", "multi"])
def test_bad_frames_are_refused(detector_name, request, astronaut):
    detector = request.getfixturevalue(detector_name)
    with pytest.raises(ValueError, match="grayscale"):
        detector.detect(astronaut[..., 0])
    with pytest.raises(ValueError, match="uint8"):
        detector.detect(astronaut.astype(np.float32) / 255)


def test_tracking_survives_missing_repeated_and_backward_stamps(holistic, multi, astronaut):
    for detector in (holistic, multi):
        counts = [len(detector.detect(astronaut, t)) for t in (0, 33, 66, 66, 10, None, 43)]
        assert counts == [1] * 7


def test_multi_person_path_finds_the_astronaut_with_her_face(multi, astronaut):
    (person,) = multi.detect(astronaut)
    assert_astronaut(person)
    assert person.vis_face > 0.5  # the face detector's own hit
    assert person.keypoints["face"].shape == (6, 3)


def test_multi_person_path_separates_two_people(multi, two_people):
    people = multi.detect(two_people)
    assert len(people) == 2
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    astronaut, hopper = sorted(people, key=lambda p: p.body.cx)
    assert astronaut.body.cx < 512 < hopper.body.cx
    assert_astronaut(astronaut, face_tolerance=20.0)
    # Grace Hopper's face (x 590..880 of the strip) is big enough for the face detector
    assert hopper.vis_face > 0.5 and 600 < hopper.face.cx < 880
    assert hopper.vis_lhand < VISIBILITY_GATE and hopper.vis_rhand < VISIBILITY_GATE
    assert multi.detect(two_people[:, :512]) != []  # capped work still finds one


def test_multi_person_path_reports_the_cameraman_once(multi):
    from skimage import data

    # the pose landmarker returns this man twice (same head) at this threshold
    (person,) = multi.detect(np.ascontiguousarray(np.stack([data.camera()] * 3, axis=-1)))
    assert contains(person.body, 240, 160) and contains(person.face, 240, 160)
