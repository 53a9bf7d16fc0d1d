#!/usr/bin/env bash
# `make demo`: a generated sample clip is published as Image + CameraInfo, the pymafx node turns it
# into SMPL-X people, TF, markers and diagnostics, the outputs are recorded into an MCAP rosbag2
# (out/demo/outputs_bag) and summarised. Real model files: PYMAFX_DATA_DIR=... PYMAFX_CHECKPOINT=...
# Extra arguments go to the demo runner (`scripts/demo.sh --help` lists them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck disable=SC1091
source scripts/env.sh

if ! python -c 'import pymafx_ros.msg, pymafx_ros.demo.harness' 2>/dev/null; then
  echo "demo: the ROS package is not built (pymafx_ros.msg missing): run 'make setup'" >&2
  echo "demo summary: frames in 0, frames processed 0 (nothing ran)"
  exit 1
fi
exec python -m pymafx_ros.demo.harness "$@"
