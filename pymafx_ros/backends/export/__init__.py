"""Export time: PyMAF-X as ``torch.export`` programs (``programs``), their ONNX files cached per
weights and code (``source``), and the graph rewrites some engines need (``phase_deconv`` for
bf16 CPUs, ``typed_programs`` for fp16 TensorRT encoders). The run-time engines one level up
load what is built here."""
