"""kexue: the articles of *Scientific Spaces* (kexue.fm) as tested, fast tools.

Topics live in sub-packages (``kexue.unshred``, ``kexue.randomwalk``, ``kexue.recurrence``,
``kexue.nn``, ``kexue.gan``, ``kexue.vae``); ``kexue.data`` finds the data sets and
``kexue.report`` builds the ``kexue reproduce`` report.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# Idle OpenMP threads that spin (torch's default) slow training 10x on a busy machine; let them sleep.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    __version__ = version("kexue")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

TOPICS = ("unshred", "randomwalk", "recurrence", "nn", "gan", "vae")
