"""Shared test set-up: data come from $KEXUE_DATA (../shared/data in CI); nothing is downloaded."""

import os
from pathlib import Path

import pytest

os.environ["KEXUE_OFFLINE"] = "1"  # tests never download
os.environ.setdefault("KEXUE_QUIET", "1")
if not os.environ.get("KEXUE_DATA"):
    guess = Path(__file__).resolve().parents[2] / "shared" / "data"
    if guess.is_dir():
        os.environ["KEXUE_DATA"] = str(guess)


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty user cache, so tests do not see (or fill) the real one."""
    monkeypatch.setenv("KEXUE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def run_cli(*args: str):
    """Run ``kexue ARGS`` in-process; return (exit code, stdout, stderr)."""
    import contextlib
    import io

    from kexue.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def spawn_two(worker, path: str) -> None:
    """Run ``worker(rank, port, path)`` in two processes on a free loopback port (gloo DDP tests).

    The port we probe can be taken by another process before gloo binds it (seen on a busy
    machine), so a failed start is tried once more on a fresh port; a real DDP bug fails both.
    """
    import socket

    import torch.multiprocessing as mp

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    try:
        mp.spawn(worker, args=(free_port(), path), nprocs=2, join=True)
    except mp.ProcessRaisedException:
        mp.spawn(worker, args=(free_port(), path), nprocs=2, join=True)
