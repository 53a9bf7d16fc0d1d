"""PyMAF-X network: encoders, feedback loop, regressors, integration (torch only, no ROS)."""
