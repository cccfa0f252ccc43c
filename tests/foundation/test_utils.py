"""Shared helpers: atomic writes keep the old file on failure; seeds; timers; quiet progress."""

import json

import numpy as np
import pytest

from kexue.utils import Timer, atomic_path, atomic_write, atomic_write_json, progress, seed_everything


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    target = atomic_write(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new cont")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind


def test_atomic_files_get_the_umask_mode(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        p = atomic_write(tmp_path / "m.txt", "x")
    finally:
        os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o644


def test_atomic_json_round_trip(tmp_path):
    p = atomic_write_json(tmp_path / "sub" / "r.json", {"a": np.arange(3), "b": 1.5})
    assert json.loads(p.read_text()) == {"a": [0, 1, 2], "b": 1.5}


def test_seed_everything_repeats():
    import torch

    seed_everything(7)
    a = (np.random.rand(3), torch.rand(3))
    seed_everything(7)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_timer_and_quiet_progress():
    t = Timer()
    with t("a"):
        sum(progress(range(1000), quiet=True))
    with t("a"):
        pass
    assert list(t.times) == ["a"] and t.total >= 0
