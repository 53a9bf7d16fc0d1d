"""Command-line entry points (offline processing, parity check, asset helpers)."""
