"""Front end for a known framing: the whole image is one person (a teleoperation operator
facing the camera). No model runs; hand and face boxes are placeholders with visibility 0."""

from __future__ import annotations

import numpy as np

from pymafx_ros.frontend.box_rules import whole_image_box
from pymafx_ros.frontend.default_parts import default_parts
from pymafx_ros.frontend.image_input import check_rgb
from pymafx_ros.frontend.types import PersonDetection


class FullFrameDetector:
    """Always one person, score 1, body box = the square around the whole image."""

    def detect(self, rgb: np.ndarray, timestamp_ms: int | None = None) -> list[PersonDetection]:
        """One person covering ``rgb`` (H,W,3) uint8; ``timestamp_ms`` is not needed."""
        height, width = check_rgb(rgb).shape[:2]
        body = whole_image_box(width, height)
        placeholders = default_parts(body)
        return [
            PersonDetection(
                score=1.0,
                body=body,
                left_hand=placeholders["left_hand"],
                right_hand=placeholders["right_hand"],
                face=placeholders["face"],
                vis_lhand=0.0,
                vis_rhand=0.0,
                vis_face=0.0,
            )
        ]

    def close(self) -> None:
        """Nothing to release."""
