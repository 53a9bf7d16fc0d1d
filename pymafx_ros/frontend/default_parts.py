"""Placeholder hand and face boxes inside a body box, for front ends that see no parts.

They assume an upright person facing the camera, arms down, filling the body box, and always
come with visibility 0: the pipeline can replace them with the body expert's own projection.
"""

from __future__ import annotations

from pymafx_ros.frontend.types import PartBox

# (centre x, centre y, side) as fractions of the body box side, relative to its centre. The
# person's left hand appears on the image's right for a person facing the camera.
FACE_IN_BODY = (0.0, -0.37, 0.17)
LEFT_HAND_IN_BODY = (0.12, 0.0, 0.12)
RIGHT_HAND_IN_BODY = (-0.12, 0.0, 0.12)


def part_in_body(body: PartBox, layout: tuple[float, float, float]) -> PartBox:
    """The box at ``layout`` (dx, dy, side as fractions of the body side) inside ``body``."""
    dx, dy, side = layout
    return PartBox(cx=body.cx + dx * body.size, cy=body.cy + dy * body.size, size=side * body.size)


def default_parts(body: PartBox) -> dict[str, PartBox]:
    """Placeholder 'left_hand', 'right_hand' and 'face' boxes inside ``body``."""
    return {
        "left_hand": part_in_body(body, LEFT_HAND_IN_BODY),
        "right_hand": part_in_body(body, RIGHT_HAND_IN_BODY),
        "face": part_in_body(body, FACE_IN_BODY),
    }
