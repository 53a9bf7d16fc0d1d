"""Person, hand and face detection front ends (no ROS)."""

from pymafx_ros.frontend.factory import create_detector
from pymafx_ros.frontend.types import PartBox, PersonDetection, PersonDetector

__all__ = ["PartBox", "PersonDetection", "PersonDetector", "create_detector"]
