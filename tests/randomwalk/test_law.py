"""n-step laws: FFT (Fourier formula) against exact combinatorics, Monte Carlo and the Gaussian limit."""

import math
from fractions import Fraction

import numpy as np
import pytest

from kexue.errors import UsageError
from kexue.randomwalk.lattice import bcc, custom, fcc, sc
from kexue.randomwalk.law import (
    binomial_law,
    characteristic_limit,
    exact_law,
    gaussian_limit,
    n_step_law,
    return_counts_sc3,
    return_series,
    simulate,
)


@pytest.mark.parametrize("n", [0, 1, 7, 100, 1000])
def test_fft_law_equals_binomial(n):
    law = n_step_law(sc(1), n)
    exact = np.array([float(p) for p in binomial_law(n)])
    assert law.origin == (-n,)
    assert np.abs(law.pmf[::2] - exact).max() < 1e-15
    assert np.all(law.pmf[1::2] == 0)  # wrong parity: exactly zero


@pytest.mark.parametrize("n", [10**5, pytest.param(10**6, marks=pytest.mark.slow)])
def test_many_steps_against_exact_integers(n):
    law = n_step_law(sc(1), n)
    for x in (0, 2, 100, 1000, -1500):
        k = (n + x) // 2
        exact = math.comb(n, k) / 2**n  # int / int is correctly rounded
        assert abs(law.prob((x,)) - exact) < 1e-13
    assert abs(law.pmf.sum() - 1) < 1e-9


def test_3d_return_probabilities_match_a002896():
    counts = return_counts_sc3(10)
    for m in (1, 5, 10):
        law = n_step_law(sc(3), 2 * m)
        assert abs(law.prob((0, 0, 0)) - counts[m] / 36**m) < 1e-16


@pytest.mark.parametrize("walk", [custom([(1, 0), (0, 1), (-1, -1), (0, 0)], ["0.1", "0.2", "0.3", "0.4"]),
                                  bcc(), fcc(), custom([(2,), (-1,)], ["1/3", "2/3"])])
def test_fft_law_equals_exact_convolution(walk):
    n = 6
    exact = exact_law(walk, n)
    law = n_step_law(walk, n)
    assert sum(exact.values()) == 1
    err = max(abs(law.prob(x) - float(p)) for x, p in exact.items())
    assert err < 1e-15
    assert abs(law.pmf.sum() - 1) < 1e-13


def test_moments_exact_for_biased_walk():
    w = custom([(1,), (-1,)], ["0.7", "0.3"])
    m, C = n_step_law(w, 50).moments()
    assert abs(m[0] - 20) < 1e-10 and abs(C[0, 0] - 50 * 0.84) < 1e-9


def test_simulation_agrees_and_is_reproducible():
    w = custom([(1, 0), (-1, 0), (0, 1), (0, -1)], ["0.4", "0.1", "0.25", "0.25"])
    a = simulate(w, 30, 40000, seed=3)
    b = simulate(w, 30, 40000, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, simulate(w, 30, 40000, seed=4))
    law = n_step_law(w, 30)
    p0 = law.prob((10, 0))
    assert p0 > 0.001
    mc = np.mean((a[:, 0] == 10) & (a[:, 1] == 0))
    assert abs(mc - p0) < 5 * math.sqrt(p0 * (1 - p0) / len(a))
    assert abs(a[:, 0].mean() - 9) < 0.1


def test_gaussian_limit_error_scales_like_n_to_minus_three_halves():
    errs = []
    for n in (100, 1000, 10000):
        law = n_step_law(sc(1), n)
        errs.append(np.abs(law.pmf - gaussian_limit(law, sc(1))).max() * n**1.5)
    # anchors: error * n^{3/2} -> 0.199 ~ 1/(2 sqrt(2 pi))
    assert all(abs(e - 1 / (2 * math.sqrt(2 * math.pi))) < 0.01 for e in errs)


def test_characteristic_function_limit_matches_article_values():
    vals = [characteristic_limit(1.0, 1.0, dt)[0] for dt in (0.1, 0.01, 0.001)]
    assert [round(v, 7) for v in vals] == [0.6013594, 0.6060241, 0.6064801]
    v, lim, pred = characteristic_limit(1.0, 1.0, 1e-4)
    assert abs((v / lim - 1) / pred - 1) < 1e-3  # relative error is -dt/12 to leading order


def test_first_return_probabilities_exact():
    _, f1 = return_series(sc(1), 14)
    exact1 = [Fraction(math.comb(2 * n, n), (2 * n - 1) * 4**n) for n in range(1, 8)]
    assert np.allclose(f1[2::2], [float(q) for q in exact1], rtol=1e-13, atol=0)
    _, f3 = return_series(sc(3), 14)
    counts = [6, 54, 996, 22734, 577692, 15680628, 445162392]
    assert np.allclose(f3[2::2] * 36.0 ** np.arange(1, 8), counts, rtol=1e-12)


def test_law_rejects_bad_input():
    with pytest.raises(UsageError):
        n_step_law(sc(1), -1)
    with pytest.raises(UsageError):
        n_step_law(sc(3), 10**5)  # grid too large: a clear message, not a memory error
