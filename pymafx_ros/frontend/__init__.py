"""Person, hand and face detection front ends (no ROS)."""
