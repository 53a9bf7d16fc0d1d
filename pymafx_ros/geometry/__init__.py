"""What the pipeline, tracking and the publishers all speak (numpy only): a person as metric
SMPL-X, camera intrinsics and projection, the SMPL-X skeleton, REP-155 body frames,
sign-stable quaternions and mesh decimation."""
