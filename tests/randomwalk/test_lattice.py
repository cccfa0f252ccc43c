"""Walk construction, validation and lattice reduction."""

from fractions import Fraction

import numpy as np
import pytest

from kexue.errors import UsageError
from kexue.randomwalk.lattice import coordinates, custom, fcc, hermite_basis, named, parse_steps, reduced, sc


@pytest.mark.parametrize("steps,probs", [
    ([], None), ([(1.5,)], None), ([(1,), (1, 0)], None), ([(1,), (-1,)], ["0.5", "0.6"]),
    ([(1,), (-1,)], ["1.2", "-0.2"]), ([(1,), (-1,)], ["a", "b"]), ([(1,), (-1,)], ["1"]),
])
def test_bad_walks_raise_usage_error(steps, probs):
    with pytest.raises(UsageError):
        custom(steps, probs)


def test_bad_dimensions():
    for d in (0, -1, 2.5):
        with pytest.raises(UsageError):
            sc(d)
    with pytest.raises(UsageError):
        named("fcc", 2)
    with pytest.raises(UsageError):
        named("hexagonal")
    with pytest.raises(UsageError):
        parse_steps("1,x;2")


def test_probabilities_exact_and_merged():
    w = custom([(1,), (1,), (-1,), (0,)], ["1/4", "1/4", "1/2", "0"])
    assert w.steps == ((1,), (-1,)) and w.probs == (Fraction(1, 2), Fraction(1, 2))
    assert w.is_unbiased


def test_structure_function():
    w = fcc()
    th = np.array([0.3, -0.7, 1.1])
    c = np.cos(th)
    assert abs(w.phi(th) - (c[0] * c[1] + c[1] * c[2] + c[0] * c[2]) / 3) < 1e-15
    assert abs(sc(4).phi(np.zeros(4)) - 1) < 1e-15


def test_hermite_basis_and_coordinates():
    B = hermite_basis(fcc().steps)
    assert round(abs(np.linalg.det(np.array(B, dtype=float)))) == 2  # fcc: index 2 (even coordinate sum)
    assert coordinates(B, (1, 1, 0)) is not None and coordinates(B, (1, 0, 0)) is None
    w, B = reduced(custom([(2, 0), (-2, 0), (0, 2), (0, -2)]))
    assert w.dim == 2 and B == [[2, 0], [0, 2]]
    w, B = reduced(custom([(1, 1, 0), (-1, -1, 0)]))
    assert w.dim == 1
    for s, c in zip(custom([(1, 1, 0), (-1, -1, 0)]).steps, w.steps, strict=True):
        assert tuple(c[0] * b for b in B[0]) == s
