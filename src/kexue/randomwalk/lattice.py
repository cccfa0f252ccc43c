"""Lattice walks: a finite set of integer steps in Z^d with probabilities.

A :class:`Walk` is the object every other module of :mod:`kexue.randomwalk` takes. Named lattices
are ``sc`` (simple cubic Z^d, any d >= 1), ``bcc`` and ``fcc`` (3-D); custom walks are built from
a step list, with uniform or given (biased) probabilities. Probabilities are kept as exact
fractions when they were given as decimals or fractions, so sums and means are exact.

>>> w = sc(3)
>>> w.dim, len(w.steps), w.is_unbiased
(3, 6, True)
>>> b = custom([(1,), (-1,)], ["0.7", "0.3"])
>>> float(b.mean[0])
0.4
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from kexue.errors import UsageError

LATTICES = ("sc", "bcc", "fcc")
MAX_DIM = 64


@dataclass(frozen=True)
class Walk:
    """A random walk on Z^d: ``steps`` (k x d integers) taken with probabilities ``probs`` (exact fractions)."""

    steps: tuple[tuple[int, ...], ...]
    probs: tuple[Fraction, ...]
    name: str = "custom"

    @property
    def dim(self) -> int:
        """The dimension d of the lattice Z^d the walk lives on."""
        return len(self.steps[0])

    @property
    def steps_array(self) -> np.ndarray:
        """Steps as a (k, d) int64 array."""
        return np.array(self.steps, dtype=np.int64).reshape(len(self.steps), self.dim)

    @property
    def probs_array(self) -> np.ndarray:
        """Probabilities as a float64 array."""
        return np.array([float(p) for p in self.probs])

    @property
    def mean(self) -> tuple[Fraction, ...]:
        """The exact mean step E[s] (zero for an unbiased walk)."""
        return tuple(sum((p * s[j] for s, p in zip(self.steps, self.probs, strict=True)), Fraction(0))
                     for j in range(self.dim))

    @property
    def is_unbiased(self) -> bool:
        """True when the mean step is exactly zero."""
        return all(m == 0 for m in self.mean)

    @property
    def covariance(self) -> np.ndarray:
        """Covariance matrix of one step (float)."""
        s, p = self.steps_array.astype(float), self.probs_array
        m = p @ s
        return (s - m).T @ ((s - m) * p[:, None])

    def phi(self, theta: np.ndarray) -> np.ndarray:
        """Structure function phi(theta) = sum_s p_s exp(i s.theta) for theta of shape (..., d).

        >>> float(sc(1).phi(np.array([np.pi / 3])).real)  # cos(pi/3)
        0.5000000000000001
        """
        theta = np.asarray(theta, dtype=float)
        arg = theta @ self.steps_array.T.astype(float)
        return np.exp(1j * arg) @ self.probs_array

    def describe(self) -> str:
        """One line: name, dimension, number of steps, mean."""
        mean = tuple(float(m) for m in self.mean)
        return f"{self.name} walk on Z^{self.dim}: {len(self.steps)} steps, mean step {mean}"


def _frac(p) -> Fraction:
    """Parse a probability: a Fraction, int, float, or a string such as '0.3' or '1/3'."""
    if isinstance(p, Fraction):
        return p
    if isinstance(p, int | np.integer):
        return Fraction(int(p))
    if isinstance(p, float | np.floating):
        if not np.isfinite(p):
            raise UsageError(f"probability {p} is not a finite number")
        return Fraction(str(float(p)))
    try:
        return Fraction(str(p).strip())
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"probability {p!r} is not a number (write 0.25 or 1/4)") from None


def custom(steps, probs=None, name: str = "custom") -> Walk:
    """A walk with the given integer ``steps`` (list of d-tuples) and probabilities (uniform if None).

    Duplicate steps are merged, zero-probability steps dropped. Raises :class:`UsageError` for an
    empty step list, non-integer steps, mixed dimensions, negative probabilities or a sum != 1.

    >>> custom([(1, 0), (0, 1)]).probs
    (Fraction(1, 2), Fraction(1, 2))
    """
    steps = list(steps) if steps is not None else []
    if not steps:
        raise UsageError("the step set is empty: give at least one step, e.g. '1;-1'")
    clean = []
    for s in steps:
        s = (s,) if np.isscalar(s) else tuple(s)
        out = []
        for c in s:
            if isinstance(c, bool) or not (isinstance(c, int | np.integer)
                                           or (isinstance(c, float | np.floating) and float(c).is_integer())):
                raise UsageError(f"step {s!r} is not a vector of integers (lattice walks take integer steps)")
            out.append(int(c))
        clean.append(tuple(out))
    dims = {len(s) for s in clean}
    if len(dims) != 1 or 0 in dims:
        raise UsageError(f"steps must all have the same (non-zero) dimension, got dimensions {sorted(dims)}")
    d = dims.pop()
    if d > MAX_DIM:
        raise UsageError(f"dimension {d} is above the maximum {MAX_DIM}")
    if probs is None:
        probs = [Fraction(1, len(clean))] * len(clean)
    probs = [_frac(p) for p in probs]
    if len(probs) != len(clean):
        raise UsageError(f"{len(clean)} steps but {len(probs)} probabilities")
    if any(p < 0 for p in probs):
        raise UsageError("probabilities must be >= 0")
    total = sum(probs)
    if total != 1:
        if abs(float(total) - 1) < 1e-12:  # e.g. 1/3 written as 0.333333333333333
            probs = [p / total for p in probs]
        else:
            raise UsageError(f"probabilities sum to {float(total):.12g}, not 1")
    merged: dict[tuple[int, ...], Fraction] = {}
    for s, p in zip(clean, probs, strict=True):
        if p > 0:
            merged[s] = merged.get(s, Fraction(0)) + p
    return Walk(tuple(merged), tuple(merged.values()), name)


def sc(d: int) -> Walk:
    """Simple (hyper)cubic walk on Z^d: each of the 2d neighbours with probability 1/(2d).

    >>> sc(2).steps
    ((1, 0), (-1, 0), (0, 1), (0, -1))
    """
    if not isinstance(d, int | np.integer) or d < 1:
        raise UsageError(f"dimension must be an integer >= 1, got {d!r}")
    if d > MAX_DIM:
        raise UsageError(f"dimension {d} is above the maximum {MAX_DIM}")
    steps = []
    for j in range(d):
        for sign in (1, -1):
            e = [0] * d
            e[j] = sign
            steps.append(tuple(e))
    return Walk(tuple(steps), tuple([Fraction(1, 2 * d)] * (2 * d)), "sc")


def bcc() -> Walk:
    """Body-centred cubic walk: the 8 steps (+-1, +-1, +-1), each with probability 1/8."""
    steps = tuple(itertools.product((1, -1), repeat=3))
    return Walk(steps, tuple([Fraction(1, 8)] * 8), "bcc")


def fcc() -> Walk:
    """Face-centred cubic walk: the 12 steps (+-1, +-1, 0) and permutations, each 1/12."""
    steps = []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        for a, b in itertools.product((1, -1), repeat=2):
            e = [0, 0, 0]
            e[i], e[j] = a, b
            steps.append(tuple(e))
    return Walk(tuple(steps), tuple([Fraction(1, 12)] * 12), "fcc")


def named(lattice: str, dim: int | None = None) -> Walk:
    """A named lattice walk: ``sc`` (needs ``dim``), ``bcc``, ``fcc`` (3-D).

    >>> named("fcc").dim
    3
    """
    lattice = lattice.lower()
    if lattice == "sc":
        return sc(3 if dim is None else dim)
    if lattice in ("bcc", "fcc"):
        if dim not in (None, 3):
            raise UsageError(f"{lattice} is a 3-D lattice; leave out --dim or give --dim 3")
        return bcc() if lattice == "bcc" else fcc()
    raise UsageError(f"unknown lattice {lattice!r}; choose one of {', '.join(LATTICES)} or give --steps")


def parse_steps(text: str) -> list[tuple[int, ...]]:
    """Parse a step list such as ``"1;-1"`` or ``"1,0;-1,0;0,1;0,-1"`` (steps split by ';').

    >>> parse_steps("1,0; 0,-1")
    [(1, 0), (0, -1)]
    """
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            vals = [float(c) for c in part.replace(" ", "").split(",")]
        except ValueError:
            raise UsageError(f"step {part!r} is not a comma-separated list of integers") from None
        if not all(v.is_integer() for v in vals):
            raise UsageError(f"step {part!r} is not a vector of integers")
        out.append(tuple(int(v) for v in vals))
    if not out:
        raise UsageError("the step set is empty: give steps like '1;-1' or '1,0;-1,0;0,1;0,-1'")
    return out


def parse_probs(text: str) -> list[Fraction]:
    """Parse probabilities such as ``"0.3,0.7"`` or ``"1/4,3/4"``."""
    return [_frac(p) for p in text.replace(";", ",").split(",") if p.strip()]


# ------------------------------------------------------------------ the lattice the steps generate
def hermite_basis(vectors) -> list[list[int]]:
    """Row-echelon integer basis (Hermite form) of the subgroup of Z^d generated by ``vectors``.

    >>> hermite_basis([(1, 1, 1), (1, -1, 1), (1, 1, -1), (-1, 1, 1)])
    [[1, 1, 1], [0, 2, 0], [0, 0, 2]]
    """
    rows = [list(map(int, v)) for v in vectors if any(v)]
    d = len(vectors[0]) if len(vectors) else 0
    basis = []
    col = 0
    while rows and col < d:
        nz = [r for r in rows if r[col] != 0]
        if not nz:
            col += 1
            continue
        while len([r for r in rows if r[col] != 0]) > 1:
            nz = sorted((r for r in rows if r[col] != 0), key=lambda r: abs(r[col]))
            piv = nz[0]
            for r in nz[1:]:
                q = r[col] // piv[col]
                for j in range(d):
                    r[j] -= q * piv[j]
            rows = [r for r in rows if any(r)]
        piv = next(r for r in rows if r[col] != 0)
        if piv[col] < 0:
            piv[:] = [-c for c in piv]
        rows = [r for r in rows if r is not piv]
        basis.append(piv)
        col += 1
    # reduce entries above the pivots (canonical form)
    for i, b in enumerate(basis):
        pc = next(j for j in range(d) if b[j] != 0)
        for a in basis[:i]:
            q = a[pc] // b[pc]
            if q:
                for j in range(d):
                    a[j] -= q * b[j]
    return basis


def coordinates(basis: list[list[int]], x) -> tuple[int, ...] | None:
    """Integer coordinates c with x = sum_i c_i basis_i, or None when x is not in the lattice.

    >>> coordinates([[1, 1, 1], [0, 2, 0], [0, 0, 2]], (2, 0, 2))
    (2, -1, 0)
    >>> coordinates([[1, 1, 1], [0, 2, 0], [0, 0, 2]], (1, 0, 0)) is None
    True
    """
    rem = [int(v) for v in x]
    d = len(rem)
    c = []
    for b in basis:
        pc = next(j for j in range(d) if b[j] != 0)
        if rem[pc] % b[pc]:
            return None
        q = rem[pc] // b[pc]
        c.append(q)
        rem = [r - q * bj for r, bj in zip(rem, b, strict=True)]
    return tuple(c) if not any(rem) else None


def reduced(walk: Walk) -> tuple[Walk, list[list[int]]]:
    """The same walk written in a basis of the lattice its steps generate (rank r <= d).

    Returns the walk on Z^r (whose steps generate all of Z^r) and the basis (r rows in Z^d).

    >>> w, B = reduced(bcc())
    >>> w.dim, sorted(w.steps)[0]
    (3, (-1, 0, 0))
    """
    basis = hermite_basis(walk.steps)
    if not basis:  # only the zero step
        return Walk(((0,),), (Fraction(1),), walk.name), [[0] * walk.dim]
    steps = tuple(coordinates(basis, s) for s in walk.steps)
    return Walk(steps, walk.probs, walk.name), basis
