"""Small shared helpers: atomic writes, progress bars, seeding, per-stage timing.

They keep every topic's output safe (a file is either the old one or the complete new one),
quiet when it should be (not a terminal, or ``--quiet``) and reproducible (one ``seed``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_QUIET = os.environ.get("KEXUE_QUIET", "") not in ("", "0")


# ----------------------------------------------------------------------------- atomic output
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    Use it for writers that want a file name (``savefig``, ``torch.save``, PIL). If the block
    raises, the temporary file is removed and ``path`` is untouched.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "x.txt").read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp makes 0600 files; give the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically and return the path.

    >>> import tempfile, pathlib
    >>> p = atomic_write(pathlib.Path(tempfile.mkdtemp()) / "a" / "b.csv", "1,2\\n")
    >>> p.read_text()
    '1,2\\n'
    """
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    >>> import tempfile, pathlib, json
    >>> p = atomic_write_json(pathlib.Path(tempfile.mkdtemp()) / "r.json", {"k": 1})
    >>> json.loads(p.read_text())
    {'k': 1}
    """
    return atomic_write(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# ----------------------------------------------------------------------------- progress
def set_quiet(quiet: bool = True) -> None:
    """Silence (or re-enable) every progress bar of this process."""
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    """True when progress output is off: ``--quiet``/``KEXUE_QUIET`` or stderr not a terminal."""
    return _QUIET or not sys.stderr.isatty()


def progress(iterable: Iterable, total: int | None = None, desc: str = "", quiet: bool | None = None):
    """Iterate over ``iterable`` with a progress bar on stderr, or silently.

    The bar is shown only on a terminal and when not quiet, so logs and pipes stay clean.

    >>> sum(progress(range(5), desc="adding"))
    10
    """
    if quiet if quiet is not None else is_quiet():
        yield from iterable
        return
    from rich.progress import Progress

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(desc or "working", total=total)
        for item in iterable:
            yield item
            bar.advance(task)


class ProgressBar:
    """A manually advanced progress bar (for byte counts, training steps...); no-op when quiet.

    >>> with ProgressBar(total=3, desc="steps", quiet=True) as bar:
    ...     for _ in range(3):
    ...         bar.update(1, loss=0.5)
    """

    def __init__(self, total: float | None, desc: str = "", quiet: bool | None = None):
        self.enabled = not (quiet if quiet is not None else is_quiet())
        self.total, self.desc = total, desc
        self._progress = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeRemainingColumn(),
                                      TextColumn("{task.fields[info]}"),
                                      transient=True, console=_stderr_console())
            self._progress.__enter__()
            self._task = self._progress.add_task(self.desc, total=self.total, info="")
        return self

    def update(self, advance: float = 1, **info: Any) -> None:
        """Advance by ``advance`` and show ``info`` (e.g. ``loss=0.3``) after the bar."""
        if self._progress is not None:
            text = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in info.items())
            self._progress.update(self._task, advance=advance, info=text)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


# ----------------------------------------------------------------------------- seeds, timing
def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and (if imported) torch's random generators.

    >>> import numpy as np
    >>> seed_everything(3); a = np.random.rand()
    >>> seed_everything(3); a == np.random.rand()
    True
    """
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


class Timer:
    """Collect wall times per named stage.

    >>> t = Timer()
    >>> with t("load"):
    ...     pass
    >>> list(t.times)
    ['load']
    """

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times[stage] = self.times.get(stage, 0.0) + time.perf_counter() - start

    @property
    def total(self) -> float:
        """Sum of all stage times, in seconds."""
        return sum(self.times.values())
