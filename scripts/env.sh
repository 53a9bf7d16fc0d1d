# Activate the environment that `make setup` built (source it: `source scripts/env.sh`):
#   - the .venv with the ROS 2 Kilted wheels and the Python libraries;
#   - ros2_ws/install (this package's messages, Python package and executables; tf2_msgs);
#   - AMENT_PREFIX_PATH also naming the venv, so ament_index finds the wheels' packages;
#   - DDS discovery kept on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST unless set) and a
#     ROS_DOMAIN_ID (0 unless already set).
# Set PYMAFX_ROS_INSTALL_BASE to use another colcon install tree than ros2_ws/install.
# The order matters: the venv first, because the workspace's setup files and executables run the
# `python3` they find on PATH.

_pymafx_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_pymafx_install="${PYMAFX_ROS_INSTALL_BASE:-$_pymafx_root/ros2_ws/install}"

if [[ ! -f "$_pymafx_root/.venv/bin/activate" || ! -f "$_pymafx_install/setup.bash" ]]; then
  echo "scripts/env.sh: no environment at $_pymafx_root/.venv and $_pymafx_install;" \
    "run 'make setup' first" >&2
  unset _pymafx_root _pymafx_install
  return 1 2>/dev/null || exit 1
fi

# colcon's setup files read unset variables; tolerate them even in a `set -u` caller.
case $- in *u*) _pymafx_nounset=1 ;; *) _pymafx_nounset=0 ;; esac
set +u
# shellcheck disable=SC1091
source "$_pymafx_root/.venv/bin/activate"
# shellcheck disable=SC1091
source "$_pymafx_install/setup.bash"
[[ $_pymafx_nounset == 1 ]] && set -u

case ":${AMENT_PREFIX_PATH:-}:" in
  *":$VIRTUAL_ENV:"*) ;;
  *) export AMENT_PREFIX_PATH="${AMENT_PREFIX_PATH:+$AMENT_PREFIX_PATH:}$VIRTUAL_ENV" ;;
esac
# An empty LD_LIBRARY_PATH entry (colcon leaves one when it was unset) means the current directory.
LD_LIBRARY_PATH="$(printf '%s' "${LD_LIBRARY_PATH:-}" | tr -s ':' | sed 's/^://; s/:$//')"
export LD_LIBRARY_PATH
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-0}"

unset _pymafx_root _pymafx_install _pymafx_nounset
