#!/usr/bin/env bash
# Everything this repository checks on a CUDA GPU, in ONE call, printing every figure:
#   1. the GPU and the software (nvidia-smi, torch, CUDA, cuDNN, Torch-TensorRT if present);
#   2. the TensorRT engines (fp16 encoders, fp32 head; max_people 3; joints and mesh heads),
#      built with `pymafx-ros -v build-engines` (build time per engine and Torch-TensorRT's own
#      log, graph partitions included), skipped when Torch-TensorRT is missing;
#   3. the GPU tests (tests/gpu: CUDA vs CPU results, no synchronisation inside the model call
#      under CUDA's sync debug mode, one device-to-host copy per frame, a real out-of-memory
#      retried, a lost device rerun on a CPU rebuild; the engines against eager fp32, no visible
#      hand, no synchronisation in the engine call) and the CUDA crop test;
#   4. the model benchmark (eager fp32, eager fp16 encoders, TensorRT fp16; each with its
#      agreement against eager fp32 in mm and its NaN count; the issue's 8 ms / 3x targets);
#   5. the agreement check (benchmarks/tensorrt_agreement.py: joints and vertices in mm on the
#      fixture, photos, no visible hand, zero pose with loop points outside the maps);
#   6. the pipeline benchmark with the MediaPipe front end (frames per second, 1 and 3 people),
#      eager and TensorRT.
# A step that cannot run here (no Torch-TensorRT) says why and is not counted as a failure.
# Logs and JSON lines go to $OUT (or out/gpu_check) as well as to the terminal.
#
# On a machine with the project's own environment: `source scripts/env.sh && bash
# scripts/gpu_check.sh`. On a GPU machine that has torch but no registry, prepare the missing
# wheels first where pip works (`bash scripts/gpu_wheels.sh`) and carry .whl/ along: they are
# installed into /tmp/site and put on PYTHONPATH here. About 5 minutes on an H100 without
# TensorRT (an estimate); building the five engines adds minutes more (unmeasured).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/out/gpu_check}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
PYTHON="${PYTHON:-python3}"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
status=0
step() { echo; echo "=== $1"; }

step "GPU and software"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$OUT/gpu.txt"
"$PYTHON" - <<'PY' 2>&1 | tee -a "$OUT/gpu.txt"
import importlib.util, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
print("cuda available:", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device:", torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0))
for name in ("torch_tensorrt", "tensorrt", "smplx", "mediapipe"):
    found = importlib.util.find_spec(name) is not None
    print(f"{name}:", "installed" if found else "MISSING")
PY

# Runs a step; exit status 2 means "cannot run here" (named in its message), not a failure.
run_step() {
  local log="$1"; shift
  "$@" 2>&1 | tee "$OUT/$log"
  local rc="${PIPESTATUS[0]}"
  if [ "$rc" -eq 2 ]; then echo "(skipped: see the message above)"; elif [ "$rc" -ne 0 ]; then status=1; fi
}

step "TensorRT engines (pymafx-ros build-engines --precision fp16 --max-people 3)"
run_step build_engines.txt "$PYTHON" -m pymafx_ros.cli -v build-engines --precision fp16 \
  --max-people 3 --profiles joints,mesh

step "GPU tests (tests/gpu, CUDA crops)"
"$PYTHON" -m pytest -p no:cacheprovider -q -rs -s tests/gpu \
  "tests/pipeline/test_device_crops.py::test_cuda_crops_equal_cpu_crops" 2>&1 | tee "$OUT/tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "model benchmark (benchmarks/model_gpu.py)"
run_step model_gpu.jsonl "$PYTHON" benchmarks/model_gpu.py --repeats 50 --warmup 10 --max-people 3

step "TensorRT agreement (benchmarks/tensorrt_agreement.py)"
run_step tensorrt_agreement.jsonl "$PYTHON" benchmarks/tensorrt_agreement.py --max-people 3

step "pipeline benchmark, eager (benchmarks/pipeline_gpu.py)"
run_step pipeline_gpu.jsonl "$PYTHON" benchmarks/pipeline_gpu.py --repeats 30

step "pipeline benchmark, TensorRT fp16 (benchmarks/pipeline_gpu.py --backend tensorrt)"
run_step pipeline_gpu_tensorrt.jsonl "$PYTHON" benchmarks/pipeline_gpu.py --repeats 30 \
  --backend tensorrt

step "done: status $status (logs in $OUT)"
exit "$status"
