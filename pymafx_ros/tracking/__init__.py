"""People over time (no ROS): track ids, part boxes from tracks, hand-visibility hysteresis,
causal per-track filtering and quality figures."""
