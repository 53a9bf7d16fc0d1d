"""The ROS 2 adapter: node, parameters, conversions, TF/marker/diagnostic builders."""
