"""The solver's speed machinery: stages on several cores (parallel.py) and the vectorised local
searches give what the plain serial, one-candidate-at-a-time versions give."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from kexue.unshred import parallel, shred, solve, text_page
from kexue.unshred.paths import improve_path, path_cost
from kexue.unshred.solver import _refine_2d, _row_energy

forks = pytest.mark.skipif(parallel.jobs() < 2, reason="one CPU (or no fork): run_all is serial here")


def test_run_all_keeps_order_over_several_batches():
    tasks = [lambda k=k: (k, k * k) for k in range(7)]  # more tasks than cores: run in batches
    assert parallel.run_all(*tasks) == [(k, k * k) for k in range(7)]


@forks
def test_run_all_uses_other_processes_and_runs_the_first_task_here():
    seen: dict = {}

    def here():
        seen["pid"] = os.getpid()
        return os.getpid()

    pids = parallel.run_all(here, os.getpid)
    assert pids[0] == os.getpid() == seen["pid"]  # the first task's side effects stay with us
    assert pids[1] != os.getpid()


@forks
def test_run_all_does_idle_work_only_while_a_child_is_still_at_work():
    done: list = []
    parallel.run_all(lambda: None, lambda: time.sleep(0.5), idle=lambda: done.append(1))
    assert done == [1]
    done.clear()
    parallel.run_all(lambda: time.sleep(0.5), lambda: None, idle=lambda: done.append(1))
    assert done == []  # the child was done first: nothing to wait for, no idle work


def test_run_all_error_in_a_task_surfaces_as_it_would_serially():
    def bad():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        parallel.run_all(lambda: 1, bad)


def test_kexue_jobs_1_means_serial(monkeypatch):
    monkeypatch.setenv("KEXUE_JOBS", "1")
    assert parallel.jobs() == 1
    assert parallel.run_all(os.getpid, os.getpid) == [os.getpid()] * 2


def test_solve_is_the_same_on_one_core_and_on_several(monkeypatch):
    s = shred(text_page(720, 1000, seed=21), 5, 7, seed=21)
    both = solve(s.pieces, 5, 7)
    monkeypatch.setenv("KEXUE_JOBS", "1")
    one = solve(s.pieces, 5, 7)
    assert one.grid == both.grid


def _or_opt_gain(o, c, st, en):
    """The best gain of one Or-opt move (a segment of 1-3 nodes put elsewhere) or one swap of
    two non-adjacent nodes, by brute force."""
    base = path_cost(o, c, st, en)
    best = 0.0
    n = len(o)
    for seg in (1, 2, 3):
        for i in range(n - seg + 1):
            rest = o[:i] + o[i + seg:]
            for k in range(len(rest) + 1):
                if k != i:
                    best = max(best, base - path_cost(rest[:k] + o[i:i + seg] + rest[k:], c, st, en))
    for i in range(n):
        for j in range(i + 2, n):
            q = list(o)
            q[i], q[j] = q[j], q[i]
            best = max(best, base - path_cost(q, c, st, en))
    return best


def test_improve_path_ends_where_no_move_gains():
    rng = np.random.default_rng(3)
    for n in (5, 9, 14):
        c = rng.random((n, n)) * 10
        st, en = rng.random(n), rng.random(n)
        start = [int(x) for x in rng.permutation(n)]
        o = improve_path(start, c, st, en)
        assert sorted(o) == list(range(n))
        assert path_cost(o, c, st, en) <= path_cost(start, c, st, en)
        assert _or_opt_gain(o, c, st, en) < 1e-9


def test_refine_2d_ends_where_no_swap_or_move_in_a_row_gains():
    rng = np.random.default_rng(4)
    R, C = 3, 6
    n = R * C
    D, T = rng.random((n, n)) * 5, rng.random((n, n)) * 5
    st, en = rng.random(n), rng.random(n)
    g = _refine_2d(rng.permutation(n).reshape(R, C), D, T, st, en, sweeps=50)
    for r in range(R):
        row = list(g[r])
        e0 = _row_energy(np.array(row), r, g, D, T, st, en)
        for i in range(C):
            for j in range(C):
                sw = list(row)
                sw[i], sw[j] = sw[j], sw[i]
                mv = row[:i] + row[i + 1:]
                mv.insert(j, row[i])
                for cand in (sw, mv):
                    assert _row_energy(np.array(cand), r, g, D, T, st, en) >= e0 - 1e-9
