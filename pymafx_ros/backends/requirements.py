"""Optional engines: import them, or say exactly which pip package is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from pymafx_ros.backends.names import BackendUnavailableError

# Tested versions (constraints.txt pins them for `make setup`).
TESTED_VERSIONS = {"onnxruntime": "1.32.0", "openvino": "2026.4.0", "nncf": "3.4.0"}


def import_optional(module: str, package: str) -> ModuleType:
    """Import ``module``, or raise ``BackendUnavailableError`` naming the pip ``package``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        version = TESTED_VERSIONS.get(package)
        pin = f"=={version}" if version else ""
        raise BackendUnavailableError(
            f"the {module} backend needs the Python package '{package}', which is not "
            f"installed ({error}); install it with `pip install {package}{pin}` or choose "
            "another backend (torch needs nothing extra)"
        ) from error
