"""Recorded data in, SMPL-X out: ``process-bag`` (one bag) and ``process-bags`` (many, on Ray)."""
