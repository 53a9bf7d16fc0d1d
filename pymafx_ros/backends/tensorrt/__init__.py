"""TensorRT's build side: the engine options and build command (``options``, torch-free),
the engines' input shapes (``input_shapes``), the compile step (``compiler``), the engine store
in the artefact cache (``store``) and the compile inputs written for another machine
(``compile_inputs``). The run time is ``backends.tensorrt_backend``."""
