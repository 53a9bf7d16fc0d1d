"""The real node's ``main`` with the test-double pipeline (fast, deterministic start-up)."""

import faulthandler
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fake_pipeline import FakePipeline  # noqa: E402

from pymafx_ros.ros.node import main  # noqa: E402

faulthandler.register(signal.SIGUSR1)  # lets a hung test dump every thread

if __name__ == "__main__":
    sys.exit(main(sys.argv, pipeline_factory=FakePipeline))
