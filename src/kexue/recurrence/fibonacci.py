"""The article's warm-up: Fibonacci numbers are the rounding of a geometric sequence, F_n = round(alpha beta^n).

Pretend Binet's formula is unknown: estimate beta from the ratio of consecutive terms and alpha from
F_n / beta^n, recognise both as algebraic numbers (an integer-relation search), and check the
rounding closed form on every term.

>>> w = fibonacci_warmup(60)
>>> w.beta_poly, w.alpha_poly, w.all_round_ok
('b^2 - b - 1 = 0', '5*a^2 - 1 = 0', True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FibonacciWarmup:
    """Estimated alpha, beta (as text), their recognised minimal polynomials, and the rounding check."""

    n_terms: int
    beta: str
    alpha: str
    beta_poly: str | None
    alpha_poly: str | None
    beta_error: float  # |estimate - (1 + sqrt 5)/2|
    alpha_error: float  # |estimate - 1/sqrt 5|
    all_round_ok: bool
    max_rounding_error: float  # max_n |alpha beta^n - F_n| (tends to 0)


def _poly(coeffs: list[int], var: str) -> str:
    from .algebraic import _poly_text

    if coeffs[0] < 0:
        coeffs = [-c for c in coeffs]
    return _poly_text(coeffs).replace("k", var)


def fibonacci_warmup(n_terms: int = 60, digits: int = 30) -> FibonacciWarmup:
    """Fit F_n ~ alpha beta^n from the first ``n_terms`` Fibonacci numbers (F_0 = 0, F_1 = 1).

    The ratio F_N/F_{N-1} converges to beta with error ~ beta^(-2N), so ``n_terms`` = 60 gives
    about 25 correct digits; alpha = F_N / beta^N.
    """
    import mpmath

    f = [0, 1]
    while len(f) < n_terms:
        f.append(f[-1] + f[-2])
    big = len(f) - 1
    with mpmath.workdps(digits + 10):
        beta = mpmath.mpf(f[big]) / f[big - 1]
        alpha = f[big] / beta ** big
        good = max(16, min(digits, int(big * 2 * 0.20898) - 4))  # log10(beta) = 0.20898
        with mpmath.workdps(good):
            pb = mpmath.findpoly(+beta, 2, maxcoeff=100)
            pa = mpmath.findpoly(+alpha, 2, maxcoeff=100)
        errs = [abs(alpha * beta ** n - f[n]) for n in range(len(f))]
        ok = all(int(mpmath.nint(alpha * beta ** n)) == f[n] for n in range(len(f)))
        be = abs(beta - (1 + mpmath.sqrt(5)) / 2)
        ae = abs(alpha - 1 / mpmath.sqrt(5))
        return FibonacciWarmup(len(f), mpmath.nstr(beta, good), mpmath.nstr(alpha, good),
                               _poly([int(c) for c in pb], "b") if pb else None,
                               _poly([int(c) for c in pa], "a") if pa else None,
                               float(be), float(ae), ok, float(max(errs)))
