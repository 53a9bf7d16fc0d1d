"""Output profile names and the error for an impossible choice, importable without torch (the
backend and precision names are options: ``pymafx_ros.config``; the output profile names are the
model's, ``model.output_profile``, re-exported here)."""

from pymafx_ros.model.output_profile import PROFILE_NAMES

__all__ = ["PROFILE_NAMES", "BackendUnavailableError"]


class BackendUnavailableError(RuntimeError):
    """The requested backend or precision cannot run here; the message says why and what to
    install or choose instead."""
