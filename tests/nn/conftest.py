"""nn tests: OpenMP threads sleep instead of spinning while they wait (much faster on a busy machine).

Set before torch is first imported; it changes no result, only how idle threads wait.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
