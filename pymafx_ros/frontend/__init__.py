"""Person, hand and face detection front ends (no ROS)."""

from pymafx_ros.frontend.factory import DETECTOR_KINDS, create_detector
from pymafx_ros.frontend.types import PartBox, PersonDetection, PersonDetector

__all__ = ["DETECTOR_KINDS", "PartBox", "PersonDetection", "PersonDetector", "create_detector"]
