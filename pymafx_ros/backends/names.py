"""Output profile names and the error for an impossible choice, importable without torch (the
backend and precision names are options: ``pymafx_ros.config``)."""

PROFILE_NAMES = ("joints", "mesh", "release")


class BackendUnavailableError(RuntimeError):
    """The requested backend or precision cannot run here; the message says why and what to
    install or choose instead."""
