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
