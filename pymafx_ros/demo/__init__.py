"""The `make demo` harness: a sample camera publishing a generated clip, the node in a child
process, a recorder of its output and a run report (overlay video, latency plot)."""
