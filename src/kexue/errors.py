"""User-facing errors.

Anything a user can cause (a missing folder, a corrupt data file, a parameter out of range)
raises a :class:`KexueError` subclass whose message says what is wrong and what to do. The
command line prints that message on one line and exits with code 2; any other exception is a
bug (exit 1, with a traceback).

>>> try:
...     raise UsageError("--digits must be positive, got -3")
... except KexueError as e:
...     print(e)
--digits must be positive, got -3
"""


class KexueError(Exception):
    """Base class of every error that is the user's to fix (exit code 2)."""

    exit_code = 2


class UsageError(KexueError):
    """A parameter or an argument is out of range or inconsistent."""


class InputError(KexueError):
    """An input file or folder is missing, unreadable or malformed."""


class DataError(KexueError):
    """A data set file is corrupt, truncated or of the wrong format."""


class DataMissingError(DataError):
    """A data set is not on this machine (and could not, or was not asked to, be downloaded)."""
