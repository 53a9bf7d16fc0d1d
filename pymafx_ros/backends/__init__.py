"""Ways of running PyMAF-X behind one interface: eager ``torch``, ``onnxruntime`` and
``openvino`` on the exported programs, ``tensorrt`` (Torch-TensorRT engines of those programs,
CUDA), ``auto``.
No ROS here. ``interface``: the call; ``selection``: ``create_backend`` and the ``auto`` rules;
``programs``: what is exported; ``artefact_cache``: where it is kept. Nothing is imported here,
so that ``names`` stays importable without torch.
"""
