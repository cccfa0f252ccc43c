"""Path integrals against closed forms (free, Mehler, exact finite-slice Z_P) and independent solvers."""

import math

import numpy as np
import pytest

from kexue.errors import UsageError
from kexue.randomwalk.pathint import (
    bridge_functional,
    dvr_energy,
    feynman_kac,
    free_kernel,
    ground_state,
    ho_partition,
    ho_partition_sliced,
    least_action_path,
    mehler_kernel,
    sliced_harmonic_exact,
    sliced_partition,
    sliced_propagator,
)
from kexue.randomwalk.potential import parse_potential


def test_closed_form_anchors():
    assert abs(free_kernel(0.0, 1.0, 1.0) - 0.24197072451914337) < 1e-16
    assert abs(mehler_kernel(0.0, 1.0, 1.0) - 0.19086749087772256) < 1e-16
    assert abs(bridge_functional(1.0) - mehler_kernel(0, 0, 1) / free_kernel(0, 0, 1)) < 1e-15
    Z, E = ho_partition(4.0)
    assert abs(Z - 0.137860282386) < 1e-12 and abs(E - 0.518657360364) < 1e-12


def test_exact_slice_partition_and_energy():
    table = {4: (0.149071198500, 0.4666666667), 16: (0.138602037757, 0.5148483510), 128: (0.137871919369, 0.5185971522)}
    for P, (Z, E) in table.items():
        zp, ep = ho_partition_sliced(4.0, P)
        assert abs(zp - Z) < 1e-12 and abs(ep - E) < 1e-10
        # E_P = -d ln Z_P / d beta
        h = 1e-5
        num = -(math.log(ho_partition_sliced(4 + h, P)[0]) - math.log(ho_partition_sliced(4 - h, P)[0])) / (2 * h)
        assert abs(num - ep) < 1e-8


def test_grid_transfer_matrix_reproduces_exact_z_p():
    xs = np.linspace(-8, 8, 801)
    for P in (8, 32):
        assert abs(sliced_partition("x**2/2", 4.0, P, xs) - ho_partition_sliced(4.0, P)[0]) < 1e-12


def test_free_kernel_exact_at_every_slicing():
    xs = np.linspace(-10, 10, 1601)
    for n in (1, 2, 5, 50):
        K = sliced_propagator("0", 0.3, 1.0, n, xs)
        assert np.abs(K - free_kernel(0.3, xs, 1.0)).max() < 5e-12  # rounding of n - 1 matrix products


def test_sliced_harmonic_propagator_converges_to_mehler():
    vals = {1: 0.188446989736, 2: 0.190446187128, 5: 0.190809850263, 50: 0.190866933774, 500: 0.190867485310}
    for n, v in vals.items():
        assert abs(sliced_harmonic_exact(0.0, 1.0, 1.0, n) - v) < 1e-12
    # the grid version agrees with the exact Gaussian integral; error vs Mehler is O(1/n^2)
    xs = np.linspace(-7, 7, 701)
    K = sliced_propagator("x**2/2", 0.0, 1.0, 20, xs)
    i = int(np.argmin(np.abs(xs - 1)))
    assert abs(K[i] - sliced_harmonic_exact(0.0, 1.0, 1.0, 20)) < 1e-10
    r = [(sliced_harmonic_exact(0, 1, 1, n) / mehler_kernel(0, 1, 1) - 1) * n * n for n in (100, 200)]
    assert abs(r[0] - r[1]) < 1e-4 and abs(r[1] + 0.0073) < 5e-4


@pytest.mark.parametrize("V,exact", [("x**2/2", 0.5), ("x**4", 0.66798625915577710827), ("2*x**2", 1.0)])
def test_ground_state_energies(V, exact):
    g = ground_state(V)
    assert abs(g.energy - exact) < 1e-8
    assert g.error < 1e-8
    assert abs(g.check - exact) < 1e-10


def test_double_well_against_independent_dvr():
    g = ground_state("(x**2-1)**2")
    xs = np.linspace(-6, 6, 601)
    ref = dvr_energy("(x**2-1)**2", xs)
    assert abs(g.energy - ref) < 1e-8
    assert g.energy > 0


def test_feynman_kac_monte_carlo_with_error_bars():
    k, se = feynman_kac("x**2/2", 0.0, 0.0, 1.0, n=400, samples=40000, seed=2)
    exact = mehler_kernel(0.0, 0.0, 1.0)
    assert abs(k - exact) < 4 * se + 2e-4
    assert se < 1e-3
    k2, _ = feynman_kac("x**2/2", 0.0, 0.0, 1.0, n=400, samples=40000, seed=2)
    assert k2 == k


def test_least_action_path_harmonic():
    t, x, S = least_action_path("x**2/2", -0.5, 1.0, 2.0, n=400)
    exact = (-0.5 * np.sinh(2 - t) + np.sinh(t)) / np.sinh(2.0)
    assert np.abs(x - exact).max() < 1e-5
    # classical Euclidean action of the oscillator
    Scl = ((0.25 + 1.0) * math.cosh(2.0) - 2 * (-0.5) * 1.0) / (2 * math.sinh(2.0))
    assert abs(S - Scl) < 1e-4


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "x.real", "lambda: 1", "open('f')",
                                  "x[0]", "x if x else 1", "", "sin(x, 2)", "y**2", "1 +", "'a'"])
def test_potential_parser_rejects(text):
    with pytest.raises(UsageError):
        parse_potential(text)


def test_potential_parser_accepts_and_computes():
    V = parse_potential("0.5*x^2 + exp(-x**2) - cosh(x)/10 + pi")
    x = np.array([0.0, 1.3])
    assert np.allclose(V(x), 0.5 * x**2 + np.exp(-(x**2)) - np.cosh(x) / 10 + np.pi, rtol=1e-15)
    assert V(np.array([2.0])).shape == (1,)


@pytest.mark.parametrize("V", ["-x**2", "x**3", "x", "exp(-x**2)", "-x**4 + x**2", "1/x"])
def test_ground_state_rejects_unbounded_or_unconfining(V):
    with pytest.raises(UsageError):
        ground_state(V)
