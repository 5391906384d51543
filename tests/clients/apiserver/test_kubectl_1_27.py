"""kubectl 1.27 against the fake (see kubectl_common.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubectl_common import run  # noqa: E402

sys.exit(run("1.27", sys.argv[1]))
