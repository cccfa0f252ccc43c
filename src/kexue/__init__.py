"""kexue: the articles of *Scientific Spaces* (kexue.fm) as tested, fast tools.

Topics live in sub-packages (``kexue.unshred``, ``kexue.randomwalk``, ``kexue.recurrence``,
``kexue.nn``, ``kexue.gan``, ``kexue.vae``); ``kexue.data`` finds the data sets and
``kexue.report`` builds the ``kexue reproduce`` report.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kexue")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

TOPICS = ("unshred", "randomwalk", "recurrence", "nn", "gan", "vae")
