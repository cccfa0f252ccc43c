"""Exact n-step laws: the Fourier (contour) formula, exact combinatorics, Monte Carlo, continuum limit.

The law of S_n is read off the generating function: P(S_n = x) is the coefficient of z^x in
phi(z)^n, i.e. the contour integral over the unit circle(s) z_j = e^{i theta_j}

    P(S_n = x) = (2 pi)^{-d} Int phi(theta)^n e^{-i x.theta} d theta.

On a grid of L_j >= n (max_j - min_j) + 1 points per axis the trapezoid rule is *exact* (the
integrand is a trigonometric polynomial whose support fits in the grid: no aliasing), so one
FFT gives the whole law to rounding error.

>>> from kexue.randomwalk.lattice import sc
>>> law = n_step_law(sc(1), 4)
>>> [round(float(p), 4) for p in law.pmf]
[0.0625, 0.0, 0.25, 0.0, 0.375, 0.0, 0.25, 0.0, 0.0625]
>>> law.origin
(-4,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from kexue.errors import UsageError

from .lattice import Walk

MAX_GRID = 60_000_000  # points in the FFT grid (about 1 GB of complex numbers at most)


@dataclass
class Law:
    """The law of S_n on a box: ``pmf[i]`` is P(S_n = origin + i) (i a d-index)."""

    pmf: np.ndarray
    origin: tuple[int, ...]
    steps: int

    def positions(self, axis: int = 0) -> np.ndarray:
        """The lattice coordinates along ``axis`` of the box."""
        return self.origin[axis] + np.arange(self.pmf.shape[axis])

    def prob(self, x) -> float:
        """P(S_n = x) (0 outside the box)."""
        idx = tuple(int(xi) - o for xi, o in zip(np.atleast_1d(x), self.origin, strict=True))
        if any(i < 0 or i >= n for i, n in zip(idx, self.pmf.shape, strict=True)):
            return 0.0
        return float(self.pmf[idx])

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance matrix of the law."""
        d = self.pmf.ndim
        grids = np.meshgrid(*[self.positions(a).astype(float) for a in range(d)], indexing="ij")
        X = np.stack([g.ravel() for g in grids], axis=1)
        p = self.pmf.ravel()
        m = p @ X
        C = (X - m).T @ ((X - m) * p[:, None])
        return m, C


def _fast_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return int(next_fast_len(n, real=True))


def n_step_law(walk: Walk, n: int) -> Law:
    """P(S_n = x) for every reachable x, by the Fourier formula evaluated with one FFT.

    The structure function is evaluated at grid angles reduced exactly with integer arithmetic
    (s.k mod L), and raised to the n-th power in log form, so the error stays at rounding level
    even for n = 10^6 (max error below 1e-13 against exact binomials in 1-D).

    >>> from kexue.randomwalk.lattice import sc
    >>> law = n_step_law(sc(3), 20)
    >>> round(law.prob((0, 0, 0)), 15)  # = A002896(10) / 36^10
    0.007108354149087
    """
    if not isinstance(n, int | np.integer) or n < 0:
        raise UsageError(f"the number of steps must be an integer >= 0, got {n!r}")
    n = int(n)
    S = walk.steps_array
    p = walk.probs_array
    d = walk.dim
    lo, hi = S.min(axis=0), S.max(axis=0)
    # per axis, all positions are n*lo_j + g_j * integer (g_j = gcd of s_j - lo_j): compute on the coarser grid
    g = np.array([math.gcd(*[int(v) for v in (S[:, j] - lo[j])]) or 1 for j in range(d)], dtype=np.int64)
    span_full = n * (hi - lo) + 1
    span = n * (hi - lo) // g + 1
    L = [_fast_len(int(s)) for s in span]
    total = math.prod(L[:-1]) * (L[-1] // 2 + 1)
    if total > MAX_GRID:
        raise UsageError(f"the law of {n} steps in {d}-D needs a grid of {total:.3g} points (max {MAX_GRID:.0e}); "
                         "use fewer steps, or `simulate` for a Monte Carlo estimate")
    shifted = (S - lo) // g  # non-negative steps; S_n = n*lo + g * (sum of shifted steps)
    # angles theta_k = 2 pi k / L; use the rfft half-spectrum on the last axis
    axes_k = [np.arange(Lj, dtype=np.int64) for Lj in L[:-1]] + [np.arange(L[-1] // 2 + 1, dtype=np.int64)]
    log_phi = None
    # one-minus-phi accurately: 1 - phi = sum_s p_s (1 - e^{-i a_s}), a_s = 2 pi (s.k mod L) / L reduced to (-pi, pi]
    shape = [len(a) for a in axes_k]
    one_minus = np.zeros(shape, dtype=complex)
    for s, ps in zip(shifted, p, strict=True):
        # angle fraction (s.k mod L)/L per axis, summed as exact rationals in float: sum_j (s_j k_j mod L_j)/L_j
        frac = np.zeros(shape)
        for j in range(d):
            r = (int(s[j]) * axes_k[j]) % L[j]
            fj = r / L[j]
            fj = np.where(fj > 0.5, fj - 1.0, fj)
            sh = [1] * d
            sh[j] = -1
            frac = frac + fj.reshape(sh)
        frac = frac - np.round(frac)  # reduce the sum to [-1/2, 1/2]
        a = 2 * np.pi * frac
        # 1 - e^{-ia} = 2 sin^2(a/2) + i sin(a)
        one_minus += ps * (2 * np.sin(a / 2) ** 2 + 1j * np.sin(a))
    with np.errstate(divide="ignore"):
        log_phi = np.log1p(-one_minus) if np.all(np.abs(one_minus) < 1.5) else np.log(1 - one_minus)
    with np.errstate(invalid="ignore", over="ignore"):
        spec = np.exp(n * log_phi)
    spec[~np.isfinite(spec)] = 0.0
    from scipy.fft import irfftn

    pmf = irfftn(spec, s=L, axes=list(range(d)))
    pmf = pmf[tuple(slice(0, int(s)) for s in span)]
    if np.any(g > 1):
        full = np.zeros(tuple(int(v) for v in span_full))
        full[tuple(slice(0, None, int(gj)) for gj in g)] = pmf
        pmf = full
    law = Law(np.ascontiguousarray(pmf), tuple(int(v) for v in n * lo), n)
    law.pmf[~reachable_mask(law, walk)] = 0.0  # parity: exact zeros instead of rounding noise
    np.maximum(law.pmf, 0.0, out=law.pmf)  # probabilities are >= 0: clipping rounding noise only reduces the error
    return law


def binomial_law(n: int) -> list[Fraction]:
    """Exact 1-D law of the symmetric +-1 walk: P(S_n = 2k - n) = C(n, k) / 2^n, k = 0..n.

    >>> binomial_law(3)
    [Fraction(1, 8), Fraction(3, 8), Fraction(3, 8), Fraction(1, 8)]
    """
    return [Fraction(math.comb(n, k), 2**n) for k in range(n + 1)]


def exact_law(walk: Walk, n: int) -> dict[tuple[int, ...], Fraction]:
    """Exact law of S_n as fractions, by repeated convolution (polynomial power of the generating function).

    Cost grows like n^(d+1) * (number of steps): meant for small n and as an independent check.

    >>> from kexue.randomwalk.lattice import sc
    >>> exact_law(sc(2), 2)[(0, 0)]
    Fraction(1, 4)
    """
    if n < 0:
        raise UsageError("n must be >= 0")
    cur = {tuple([0] * walk.dim): Fraction(1)}
    for _ in range(n):
        nxt: dict[tuple[int, ...], Fraction] = {}
        for x, px in cur.items():
            for s, ps in zip(walk.steps, walk.probs, strict=True):
                y = tuple(a + b for a, b in zip(x, s, strict=True))
                nxt[y] = nxt.get(y, Fraction(0)) + px * ps
        cur = nxt
    return cur


def simulate(walk: Walk, n: int, samples: int, seed: int = 0) -> np.ndarray:
    """Monte Carlo end points S_n of ``samples`` independent walks (array samples x d), vectorised.

    Uses the exact multinomial representation S_n = sum_s N_s s with (N_s) ~ Multinomial(n, p):
    cost independent of n.

    >>> from kexue.randomwalk.lattice import sc
    >>> x = simulate(sc(1), 100, 20000, seed=1)
    >>> bool(abs(x.mean()) < 0.3 and abs(x.var() - 100) < 5)
    True
    """
    if samples < 1:
        raise UsageError("samples must be >= 1")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, walk.probs_array / walk.probs_array.sum(), size=samples)
    return counts @ walk.steps_array


def simulate_paths(walk: Walk, n: int, samples: int, seed: int = 0) -> np.ndarray:
    """Whole paths (samples x (n+1) x d), starting at the origin."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(walk.steps), size=(samples, n), p=walk.probs_array / walk.probs_array.sum())
    inc = walk.steps_array[idx]
    out = np.zeros((samples, n + 1, walk.dim), dtype=np.int64)
    np.cumsum(inc, axis=1, out=out[:, 1:])
    return out


def reachable_mask(law: Law, walk: Walk) -> np.ndarray:
    """Boolean mask of the box points x that S_n can reach as far as parity goes: x - n s_0 in the
    lattice generated by the differences of steps (s - s_0)."""
    from .lattice import hermite_basis

    d = walk.dim
    n = law.steps
    s0 = np.array(walk.steps[0])
    diffs = [tuple(a - b for a, b in zip(s, walk.steps[0], strict=True)) for s in walk.steps]
    grids = np.meshgrid(*[law.positions(a) for a in range(d)], indexing="ij")
    rem = [g - n * s0[j] for j, g in enumerate(grids)]
    B = hermite_basis(diffs) if any(any(v) for v in diffs) else []
    ok = np.ones(law.pmf.shape, dtype=bool)
    for b in B:
        pc = next(j for j in range(d) if b[j] != 0)
        ok &= rem[pc] % b[pc] == 0
        q = rem[pc] // b[pc]
        rem = [r - q * b[j] for j, r in enumerate(rem)]
    for r in rem:
        ok &= r == 0
    return ok


def gaussian_limit(law: Law, walk: Walk) -> np.ndarray:
    """The article's continuum limit on the law's box: the local-CLT Gaussian times the cell volume.

    For the +-1 walk this is 2 N(x; 0, n) on the points of the parity of n, 0 elsewhere (neighbours
    differ by 2). In general: N(x; n m, n Sigma) times the index of the lattice spanned by the
    step differences, on the reachable coset.

    >>> from kexue.randomwalk.lattice import sc
    >>> law = n_step_law(sc(1), 1000)
    >>> g = gaussian_limit(law, sc(1))
    >>> float(np.abs(law.pmf - g).max()) < 1e-5
    True
    """
    from .lattice import hermite_basis

    d = walk.dim
    n = max(law.steps, 1)
    m = np.array([float(v) for v in walk.mean])
    C = walk.covariance * n
    grids = np.meshgrid(*[law.positions(a).astype(float) for a in range(d)], indexing="ij")
    X = np.stack(grids, axis=-1) - n * m
    if np.linalg.matrix_rank(C) < d:
        raise UsageError("the steps do not span all d directions; the Gaussian limit is degenerate")
    q = np.einsum("...i,ij,...j->...", X, np.linalg.inv(C), X)
    dens = np.exp(-q / 2) / np.sqrt((2 * np.pi) ** d * np.linalg.det(C))
    diffs = [tuple(a - b for a, b in zip(s, walk.steps[0], strict=True)) for s in walk.steps]
    B = hermite_basis(diffs)
    vol = abs(round(np.linalg.det(np.array(B, dtype=float)))) if len(B) == d else 1
    return np.where(reachable_mask(law, walk), dens * vol, 0.0)


def characteristic_limit(omega: float, t: float, dt: float, alpha: float = 1.0) -> tuple[float, float, float]:
    """Article 01's limit: cos(omega ds)^(t/dt), ds = sqrt(alpha dt), against exp(-omega^2 alpha t / 2).

    Returns (discrete value, limit, predicted relative error -omega^4 alpha^2 t dt / 12).

    >>> v, lim, pred = characteristic_limit(1.0, 1.0, 0.01)
    >>> round(v, 7), round(lim, 7)
    (0.6060241, 0.6065307)
    """
    if dt <= 0 or t <= 0 or alpha <= 0:
        raise UsageError("t, dt and alpha must be > 0")
    N = t / dt
    ds = math.sqrt(alpha * dt)
    v = math.exp(N * math.log(abs(math.cos(omega * ds)))) * (1 if math.cos(omega * ds) > 0 or N % 2 == 0 else -1)
    lim = math.exp(-omega * omega * alpha * t / 2)
    return v, lim, -(omega**4) * alpha**2 * t * dt / 12


def return_series(walk: Walk, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """u_n = P(S_n = 0) and first-return probabilities f_n for n = 0..nmax (floats).

    F(z) = 1 - 1/U(z): f is obtained from u by the renewal equation u_n = sum_k f_k u_{n-k}.
    The cumulative sum of f is P(return by step n), which increases to Polya's p(d).

    >>> from kexue.randomwalk.lattice import sc
    >>> u, f = return_series(sc(1), 6)
    >>> [float(v) for v in f[:7]]
    [0.0, 0.0, 0.5, 0.0, 0.125, 0.0, 0.0625]
    """
    u = np.zeros(nmax + 1)
    u[0] = 1.0
    # P(S_n = 0) for all n <= nmax: one FFT law per n is wasteful; propagate the law on a grid instead
    from .lattice import reduced

    rw, _ = reduced(walk)
    S = rw.steps_array
    p = rw.probs_array
    d = rw.dim
    lo, hi = S.min(axis=0), S.max(axis=0)
    R = int(nmax * max(abs(lo).max(), abs(hi).max()))
    size = 2 * R + 1
    if size**d > MAX_GRID // 4:
        raise UsageError(f"return series to n = {nmax} in {d}-D needs {size**d:.3g} grid points; use a smaller n")
    cur = np.zeros([size] * d)
    centre = tuple([R] * d)
    cur[centre] = 1.0
    for n in range(1, nmax + 1):
        nxt = np.zeros_like(cur)
        for s, ps in zip(S, p, strict=True):
            nxt += ps * np.roll(cur, tuple(int(v) for v in s), axis=tuple(range(d)))
        cur = nxt
        u[n] = cur[centre]
    f = np.zeros(nmax + 1)
    for n in range(1, nmax + 1):
        f[n] = u[n] - np.dot(f[1:n], u[n - 1:0:-1])
    return u, f


def return_counts_sc3(nmax: int) -> list[int]:
    """Exact numbers of closed 2n-step walks on Z^3, A002896: 1, 6, 90, 1860, ... (recurrence).

    >>> return_counts_sc3(5)
    [1, 6, 90, 1860, 44730, 1172556]
    """
    a = [1, 6]
    for n in range(2, nmax + 1):
        v = 2 * (2 * n - 1) * (10 * n * n - 10 * n + 3) * a[-1] - 36 * (n - 1) * (2 * n - 1) * (2 * n - 3) * a[-2]
        assert v % n**3 == 0
        a.append(v // n**3)
    return a[: nmax + 1]
