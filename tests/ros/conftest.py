"""ROS test set-up: support helpers on the path, and an isolated DDS domain per test session.

Run after `source scripts/env.sh` (the project's messages need its library path). A session
started on the default domain 0 moves to a random one so parallel runs never see each other.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "support"))

if os.environ.get("ROS_DOMAIN_ID", "0") in ("", "0"):
    os.environ["ROS_DOMAIN_ID"] = str(random.randint(1, 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
