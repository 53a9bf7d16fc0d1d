"""Frame -> people: crops, batched experts, metric 3D lift, per-stage timings (no ROS)."""
