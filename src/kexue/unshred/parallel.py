"""Independent stages of the solver on both (all) CPU cores.

The solver's search is many small numpy operations driven from Python: threads would only wait
on each other (the GIL), so independent stages (two seam directions, two opinions of a page)
run in forked child processes that inherit every array without copying and send back only
their result. The results are exactly what a serial run gives; where ``fork`` is not available
(Windows, macOS, where forking is unsafe), on one core, with ``KEXUE_JOBS=1``, inside a child,
or if a child fails, the work runs here, serially.
"""

from __future__ import annotations

import os
import pickle
import select
import sys
import warnings
from collections.abc import Callable
from typing import Any

_IN_CHILD = False  # set in a forked child: it never forks again


def jobs() -> int:
    """How many processes :func:`run_all` may use at once: the CPUs this process may run on,
    ``KEXUE_JOBS`` if set (1 = serial), and 1 where forking is not safe.

    >>> jobs() >= 1
    True
    """
    if _IN_CHILD or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux always has it
        n = os.cpu_count() or 1
    env = os.environ.get("KEXUE_JOBS", "").strip()
    if env:
        try:
            n = min(n, max(1, int(env)))
        except ValueError:
            pass
    return max(1, n)


def _fork(task: Callable[[], Any]) -> tuple[int, int]:
    """Start ``task`` in a forked child; returns (pid, read end of the pipe its result comes on)."""
    global _IN_CHILD
    r, w = os.pipe()
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking a process with threads
        # (the BLAS's idle pool); the child runs only numpy code and leaves with os._exit
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (coverage does not follow it)
        os.close(r)
        _IN_CHILD = True
        try:
            try:
                data = pickle.dumps((True, task()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # the parent redoes the task and sees the error itself
                data = pickle.dumps((False, None))
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
        finally:
            os._exit(0)
    os.close(w)
    return pid, r


def _collect(pid: int, r: int) -> tuple[bool, Any]:
    try:
        with os.fdopen(r, "rb") as fh:
            data = fh.read()
    finally:
        os.waitpid(pid, 0)
    try:
        return pickle.loads(data) if data else (False, None)
    except Exception:  # pragma: no cover - a child killed mid-write
        return False, None


def run_all(*tasks: Callable[[], Any], idle: Callable[[], Any] | None = None) -> list[Any]:
    """Run the argument-free ``tasks`` and return their results in order: the first here, the
    others in forked children (at most :func:`jobs` processes at once). Each task must be
    independent of the others (a child's side effects stay in the child) and return a picklable
    value. The results equal a serial run's; a child that fails has its task redone here, so an
    error surfaces as it would serially. ``idle``: optional work for this process (warming a
    cache, an import) done after its own task only while a child is still at work, so that it
    costs no time.

    >>> run_all(lambda: 2 + 2, lambda: "x" * 3)
    [4, 'xxx']
    """
    n = jobs()
    if n < 2 or len(tasks) < 2:
        return [t() for t in tasks]
    out: list[Any] = [None] * len(tasks)
    k = 0
    while k < len(tasks):
        batch = list(range(k, min(len(tasks), k + n)))
        kids = []
        try:
            for i in batch[1:]:
                try:
                    kids.append((i, *_fork(tasks[i])))
                except OSError:  # no process to be had: the task is done here below
                    pass
            out[batch[0]] = tasks[batch[0]]()
            if idle is not None and kids:
                ready, _, _ = select.select([r for _, _, r in kids], [], [], 0)
                if len(ready) < len(kids):  # a child is still at work: this process is free
                    idle()
                    idle = None
        finally:  # collect every child, also when the task here failed
            got = {i: _collect(pid, r) for i, pid, r in kids}
        for i in batch[1:]:
            ok, val = got.get(i, (False, None))
            out[i] = val if ok else tasks[i]()
        k += len(batch)
    return out
