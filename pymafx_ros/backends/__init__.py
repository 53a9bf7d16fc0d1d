"""Ways of running PyMAF-X behind one interface: eager ``torch``, ``onnxruntime`` and
``openvino`` on the exported programs, ``tensorrt`` (Torch-TensorRT engines of those programs,
CUDA), ``auto``. No ROS here.

Run time (this folder): ``interface`` (the call, ``Backend``), ``output`` (``BackendOutput``,
what ``predict`` returns), ``options`` (``BackendOptions``), ``selection`` (``create_backend``,
``open_backend`` and the ``auto`` rules), ``staged`` (the staged call the exported engines
share), one module per engine, ``artefact_cache`` (where built programs are kept).
``export/``: what is exported and how; ``tensorrt/``: TensorRT's compile step and engine store.
Nothing is imported here, so that ``names`` and ``options`` stay importable without torch.
"""
