"""The real node's ``main`` with the test-double pipeline (fast, deterministic start-up)."""

import faulthandler
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "support"))  # smplx_doubles

from pymafx_ros.ros.node import main


def fake_pipeline(config):
    # Imported here (torch, smplx): a node refused for its parameters never pays for them.
    from fake_pipeline import FakePipeline

    return FakePipeline(config)


faulthandler.register(signal.SIGUSR1)  # lets a hung test dump every thread

if __name__ == "__main__":
    sys.exit(main(sys.argv, pipeline_factory=fake_pipeline))
