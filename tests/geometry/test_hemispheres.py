"""Published quaternions keep their sign from frame to frame for each person."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from pymafx_ros.geometry.hemispheres import Hemispheres


def test_a_rotation_through_180_degrees_never_flips_sign():
    keeper = Hemispheres()
    previous = None
    for angle in np.linspace(170.0, 190.0, 21):  # w crosses 0 at 180 degrees
        canonical = Rotation.from_rotvec([0.0, 0.0, np.radians(angle)]).as_quat(canonical=True)
        kept = keeper.keep(("joints", "p1"), canonical[None])
        assert np.allclose(
            Rotation.from_quat(kept).as_matrix(), Rotation.from_quat(canonical[None]).as_matrix()
        )
        if previous is not None:
            assert float(kept[0] @ previous[0]) > 0.9
        previous = kept
        keeper.retain(["p1"])


def test_people_who_left_start_again_at_w_positive():
    keeper = Hemispheres()
    flipped = np.array([[0.0, 0.0, 0.0, 1.0]])
    keeper.keep(("joints", "p1"), flipped)
    keeper.keep(("joints", "p1"), -flipped)  # kept on the first one's side
    keeper.retain(["p2"])
    assert keeper.keep(("joints", "p1"), -flipped)[0, 3] == 1.0
