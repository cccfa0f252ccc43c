"""Lattice Green functions u(x) = sum_n P(S_n = x) and Polya return probabilities p = 1 - 1/u(0).

Methods, fastest first:

* **closed forms** (any number of digits, python-flint ball arithmetic): sc in 3-D (Watson's
  elliptic form through the AGM, cross-checked with the Gamma-function form), bcc
  (Gamma(1/4)^4 / (4 pi^3) = 1 / agm(1, 1/sqrt 2)^2), fcc (9 Gamma(1/3)^6 / (2^(14/3) pi^4));
* **one-dimensional Bessel integral** for sc in any d >= 3 and any site x:
  u_d(x) = d Int_0^oo prod_j e^{-s} I_{x_j}(s) ds, by rigorous Gauss-Legendre quadrature
  (``acb.integral``) on [0, S] plus the integrated asymptotic series on [S, oo); the result is
  computed twice (two cut points S and precisions) and the digits are printed only where the
  two agree and the error balls allow;
* **Fourier integral** u(x) = (2 pi)^{-d} Int e^{-i x.theta} / (1 - phi(theta)) d theta, to double
  precision, for any step set: biased walks by shifting the contour to theta + i eta (the
  exponential tilt that makes |phi| < 1 everywhere, so the trapezoid rule converges
  exponentially), unbiased walks by splitting off the singular point theta = 0 with a smooth
  partition of unity and integrating it in spherical coordinates.

Recurrent walks (unbiased, steps spanning d <= 2 dimensions) return p = 1 with the reason.

>>> r = polya("sc", 3, digits=30)
>>> r["return_probability"]
'0.340537329550999142826273184432'
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from kexue.errors import UsageError

from .lattice import Walk, coordinates, named, reduced

MAX_DIGITS_CLOSED = 1_000_000  # sc (3-D), bcc, fcc: AGM closed forms
MAX_DIGITS_BESSEL = 2000  # sc in d >= 4 or sites x != 0: quadrature
MAX_DIM_BESSEL = 64
GUARD = 15
R_IN_FRAC, R_OUT_FRAC = 0.05, 0.49  # partition of unity around theta = 0 (fractions of the shortest period)


# ----------------------------------------------------------------------------- digit strings
def truncated_digits(x, digits: int) -> str | None:
    """The decimal expansion of the arb ball ``x`` cut after ``digits`` decimals, or None when the ball
    is too wide to decide every one of those digits.

    >>> from flint import arb, ctx
    >>> ctx.dps = 30
    >>> truncated_digits(arb(2).sqrt(), 20)
    '1.41421356237309504880'
    """
    from flint import arb

    if not x.is_finite():
        return None
    neg = x < 0
    if neg:
        x = -x
    elif not x > 0 and not x.is_zero():
        return None
    y = (x * arb(10) ** digits).floor()
    n = y.unique_fmpz()
    if n is None:
        return None
    s = str(n).rjust(digits + 1, "0")
    out = s[:-digits] + "." + s[-digits:] if digits > 0 else s
    return ("-" if neg else "") + out


def _check_digits(digits: int, maximum: int) -> None:
    if not isinstance(digits, int | np.integer) or digits < 1:
        raise UsageError(f"--digits must be a positive integer, got {digits!r}")
    if digits > maximum:
        raise UsageError(f"--digits {digits} is above the maximum {maximum} for this method")


# ----------------------------------------------------------------------------- closed forms
def sc3_agm(digits: int):
    """u_3(0) for the simple cubic lattice by Watson's elliptic form, evaluated with the AGM (arb ball).

    u = (12/pi^2)(18 + 12 sqrt2 - 10 sqrt3 - 7 sqrt6) K(k)^2, k = (2 - sqrt3)(sqrt3 - sqrt2),
    K(k) = pi / (2 agm(1, sqrt(1 - k^2))).

    >>> from flint import ctx
    >>> ctx.dps = 25
    >>> print(sc3_agm(20).str(20, radius=False))
    1.5163860591519780182
    """
    from flint import arb, ctx

    ctx.dps = digits + GUARD
    s2, s3, s6 = arb(2).sqrt(), arb(3).sqrt(), arb(6).sqrt()
    k = (2 - s3) * (s3 - s2)
    K = arb.pi() / (2 * arb(1).agm((1 - k * k).sqrt()))
    return 12 / arb.pi() ** 2 * (18 + 12 * s2 - 10 * s3 - 7 * s6) * K**2


def sc3_gamma(digits: int):
    """u_3(0) by the Gamma-function form sqrt6/(32 pi^3) Gamma(1/24) Gamma(5/24) Gamma(7/24) Gamma(11/24)."""
    from flint import arb, ctx, fmpq

    ctx.dps = digits + GUARD
    g = arb(1)
    for a in (1, 5, 7, 11):
        g *= arb.gamma_fmpq(fmpq(a, 24))
    return arb(6).sqrt() / (32 * arb.pi() ** 3) * g


def bcc_agm(digits: int):
    """u(0) for the body-centred cubic walk: 1/agm(1, 1/sqrt2)^2 = Gamma(1/4)^4/(4 pi^3) (Watson)."""
    from flint import arb, ctx

    ctx.dps = digits + GUARD
    return 1 / arb(1).agm(1 / arb(2).sqrt()) ** 2


def bcc_gamma(digits: int):
    """u(0) for bcc by the Gamma form Gamma(1/4)^4 / (4 pi^3)."""
    from flint import arb, ctx, fmpq

    ctx.dps = digits + GUARD
    return arb.gamma_fmpq(fmpq(1, 4)) ** 4 / (4 * arb.pi() ** 3)


def fcc_agm(digits: int):
    """u(0) for the face-centred cubic walk: 3 sqrt3 K(k)^2 / pi^2 with k = sin(pi/12) (Watson)."""
    from flint import arb, ctx

    ctx.dps = digits + GUARD
    k = (arb(6).sqrt() - arb(2).sqrt()) / 4
    K = arb.pi() / (2 * arb(1).agm((1 - k * k).sqrt()))
    return 3 * arb(3).sqrt() * K**2 / arb.pi() ** 2


def fcc_gamma(digits: int):
    """u(0) for fcc by the Gamma form 9 Gamma(1/3)^6 / (2^(14/3) pi^4)."""
    from flint import arb, ctx, fmpq

    ctx.dps = digits + GUARD
    return 9 * arb.gamma_fmpq(fmpq(1, 3)) ** 6 / (arb(2) ** (arb(14) / 3) * arb.pi() ** 4)


CLOSED_FORMS = {"sc": (sc3_agm, sc3_gamma), "bcc": (bcc_agm, bcc_gamma), "fcc": (fcc_agm, fcc_gamma)}


# ----------------------------------------------------------------------------- Bessel integral (sc, any d)
def _asymptotic_coeffs(orders: dict[int, int], K: int):
    """Coefficients c_k of prod_j (2 pi s)^{1/2} e^{-s} I_{nu_j}(s) ~ sum_k c_k s^{-k} (arb)."""
    from flint import arb

    ser = [arb(1)] + [arb(0)] * K
    for nu, mult in orders.items():
        a = [arb(1)]
        for k in range(1, K + 1):
            a.append(-a[-1] * (4 * nu * nu - (2 * k - 1) ** 2) / (8 * k))
        # a^mult by J. C. P. Miller's recurrence (one O(K^2) pass instead of mult convolutions)
        b = [arb(1)]
        for k in range(1, K + 1):
            b.append(sum((((mult + 1) * j - k) * a[j] * b[k - j] for j in range(1, k + 1)), arb(0)) / k)
        ser = [sum((ser[i] * b[k - i] for i in range(k + 1)), arb(0)) for k in range(K + 1)] if len(orders) > 1 else b
    return ser


def _bessel_green_once(d: int, x: tuple[int, ...], digits: int, extra: int):
    """One evaluation of d Int_0^oo prod_j e^{-s} I_{x_j}(s) ds at ``digits + extra`` digits."""
    from flint import acb, arb, ctx

    dps = digits + GUARD + extra
    ctx.dps = dps
    orders: dict[int, int] = {}
    for v in list(x) + [0] * (d - len(x)):
        orders[abs(int(v))] = orders.get(abs(int(v)), 0) + 1
    # cut point: the asymptotic series of e^{-s} I(s) is good to about e^{-2S}
    S = math.ceil(dps * math.log(10) / 2 + 2 * max(orders) + 5)
    K = 2 * S
    c = _asymptotic_coeffs(orders, K)
    Sa, half_d = arb(S), arb(d) / 2
    tail = arb(0)
    for k in range(K + 1):
        tail += c[k] * Sa ** (1 - half_d - k) / (half_d + k - 1)
    tail *= (2 * arb.pi()) ** (-half_d)

    def f(z, analytic):
        e = (-z).exp()
        out = acb(1)
        for nu, mult in orders.items():
            out *= (e * acb.bessel_i(z, nu)) ** mult
        return out

    body = acb.integral(f, 0, S, rel_tol=arb(10) ** (-dps))
    return d * (body.real + tail)


def sc_green(d: int, x=(), digits: int = 30, _check: bool = True):
    """u_d(x) for the simple cubic walk in d >= 3 dimensions as an arb ball whose width covers the
    quadrature error and the difference of two independent runs (different cut points).

    >>> print(sc_green(4, digits=20).str(20, radius=False))
    1.2394671218484817127
    """
    from flint import arb, ctx

    if d < 3:
        raise UsageError(f"the simple cubic walk in {d}-D is recurrent: u(x) is infinite")
    if _check:
        _check_digits(digits, MAX_DIGITS_BESSEL)
    x = tuple(int(v) for v in x)
    if len(x) > d:
        raise UsageError(f"site {x} has more than d = {d} coordinates")
    if sum(abs(v) for v in x) > 200:
        raise UsageError("site too far from the origin (|x|_1 <= 200)")
    a = _bessel_green_once(d, x, digits, 0)
    b = _bessel_green_once(d, x, digits, 10)
    ctx.dps = digits + GUARD + 10
    diff = (a - b).mid().abs_upper() if hasattr(a - b, "mid") else 0
    return arb(b.mid(), b.rad() + a.rad() + diff)


# ----------------------------------------------------------------------------- Fourier integral (double precision)
def _tilt(walk: Walk) -> tuple[np.ndarray, float]:
    """The exponential tilt eta minimising M(eta) = sum_s p_s e^{-s.eta} (bounded |eta_i| <= 3); returns (eta, M)."""
    from scipy.optimize import minimize

    S = walk.steps_array.astype(float)
    p = walk.probs_array

    def fun(eta):
        w = p * np.exp(-S @ eta)
        return math.log(w.sum()), -(w @ S) / w.sum()

    res = minimize(fun, np.zeros(walk.dim), jac=True, method="L-BFGS-B", bounds=[(-3, 3)] * walk.dim,
                   options={"ftol": 1e-15, "gtol": 1e-12})
    eta = res.x
    return eta, float((p * np.exp(-S @ eta)).sum())


def _fourier_biased(walk: Walk, x: tuple[int, ...]) -> tuple[float, float]:
    """u(x) = e^{x.eta} G_tilted(x) with G the Green function of the killed walk p_s e^{-s.eta}, by the
    trapezoid rule (aliasing error ~ the Green function at distance N, exponentially small)."""
    eta, rho = _tilt(walk)
    if rho >= 1 - 1e-9:
        raise UsageError("the walk looks recurrent (no contour shift makes |phi| < 1)")
    S = walk.steps_array
    w = walk.probs_array * np.exp(-S.astype(float) @ eta)
    d = walk.dim
    prev = None
    N = 16
    max_pts = 2**24 if d <= 3 else 2**22
    while True:
        k = np.fft.fftfreq(N, 1.0 / N).astype(np.int64)
        grids = np.meshgrid(*([k] * d), indexing="ij")
        phase = np.zeros(grids[0].shape)
        val = np.zeros(grids[0].shape, dtype=complex)
        for s, ws in zip(S, w, strict=True):
            m = sum(int(s[j]) * grids[j] for j in range(d)) % N
            val += ws * np.exp(2j * np.pi * m / N)
        m = sum(int(x[j]) * grids[j] for j in range(d)) % N
        phase = np.exp(-2j * np.pi * m / N)
        est = float(np.real(np.mean(phase / (1 - val)))) * math.exp(float(np.dot(x, eta)))
        if prev is not None and abs(est - prev) <= 1e-14 * abs(est):
            return est, abs(est - prev)
        if 2 ** d * N**d > max_pts:
            return est, abs(est - prev) if prev is not None else float("nan")
        prev = est
        N *= 2


def _smooth_step(t: np.ndarray) -> np.ndarray:
    """C-infinity step: 1 for t <= 0, 0 for t >= 1."""
    t = np.clip(t, 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        f0 = np.where(t < 1, np.exp(-1.0 / np.maximum(1 - t, 1e-300)), 0.0)
        f1 = np.where(t > 0, np.exp(-1.0 / np.maximum(t, 1e-300)), 0.0)
    return f0 / (f0 + f1)


def _sphere_rule(d: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Product Gauss rule on the unit sphere S^{d-1} in hyperspherical coordinates (points, weights)."""
    pts = np.ones((1, 1))  # start with S^0 handled below
    # azimuth: trapezoid on [0, 2 pi)
    az = 2 * np.pi * np.arange(2 * n) / (2 * n)
    pts = np.stack([np.cos(az), np.sin(az)], axis=1)
    wts = np.full(2 * n, 2 * np.pi / (2 * n))
    xg, wg = np.polynomial.legendre.leggauss(n)
    for k in range(3, d + 1):
        # new polar angle psi in [0, pi]: x_new = cos psi, old coordinates scaled by sin psi; weight sin^{k-2} psi
        psi = (xg + 1) * np.pi / 2
        wpsi = wg * np.pi / 2 * np.sin(psi) ** (k - 2)
        P = np.concatenate([np.repeat(np.cos(psi), len(pts))[:, None],
                            (np.sin(psi)[:, None, None] * pts[None, :, :]).reshape(-1, k - 1)], axis=1)
        W = (wpsi[:, None] * wts[None, :]).ravel()
        pts, wts = P, W
    return pts, wts


def _fourier_unbiased(walk: Walk, x: tuple[int, ...], n_grid: int = 64, n_ang: int = 20) -> tuple[float, float]:
    """u(x) for an unbiased transient walk whose steps generate Z^d.

    Smooth partition of unity chi around the singular point theta = 0, in the metric of the step
    covariance Sigma (ellipsoids, so skewed lattices are as easy as the cubic one): the part
    chi/(1 - phi) is integrated in spherical coordinates (where r^(d-1)/(1 - phi) is smooth), the
    rest by the trapezoid rule over the torus (periodised partition). Two resolutions give the
    error estimate.
    """
    d = walk.dim
    S = walk.steps_array.astype(float)
    p = walk.probs_array
    Sig = walk.covariance
    evals, evecs = np.linalg.eigh(Sig)
    A = evecs @ np.diag(evals**-0.5) @ evecs.T  # theta = A eta, eta^T eta = theta^T Sigma theta
    # shortest non-zero period 2 pi k in the Sigma metric
    rng = range(-2, 3)
    import itertools

    ks = np.array([k for k in itertools.product(rng, repeat=d) if any(k)], dtype=float) * 2 * np.pi
    shortest = float(np.sqrt(np.einsum("ki,ij,kj->k", ks, Sig, ks)).min())
    R_out = R_OUT_FRAC * shortest
    R_in = R_IN_FRAC * shortest
    xv = np.array(x, dtype=float)
    detA = abs(np.linalg.det(A))

    def g_accurate(th):
        arg = th @ S.T
        return np.exp(-1j * th @ xv) / ((2 * np.sin(arg / 2) ** 2 - 1j * np.sin(arg)) @ p)

    def part_ball(n_ang, n_rad):
        pts, wts = _sphere_rule(d, n_ang)
        total = 0.0
        for lo, hi, nr in ((0.0, R_in, n_rad), (R_in, R_out, 2 * n_rad)):
            xr, wr = np.polynomial.legendre.leggauss(nr)
            r = (xr + 1) * (hi - lo) / 2 + lo
            wr = wr * (hi - lo) / 2
            chi = _smooth_step((r - R_in) / (R_out - R_in))
            th = (r[:, None, None] * pts[None, :, :]) @ A.T
            total += np.real(np.einsum("r,a,ra->", wr * chi * r ** (d - 1), wts, g_accurate(th)))
        return total * detA

    def part_grid(N):
        k = (np.arange(N) - N // 2) * (2 * np.pi / N)
        th = np.stack(np.meshgrid(*([k] * d), indexing="ij"), axis=-1).reshape(-1, d)
        thS = th @ Sig
        q = np.einsum("ij,ij->i", thS, th)
        w = np.ones(len(th))
        for shift in itertools.product((-1, 0, 1), repeat=d):
            sv = 2 * np.pi * np.array(shift, dtype=float)
            r2 = q + 2 * thS @ sv + sv @ Sig @ sv  # |A^{-1}(theta + 2 pi s)|^2 = (theta + 2 pi s)^T Sigma (...)
            near = r2 < R_out**2
            if near.any():
                w[near] -= _smooth_step((np.sqrt(r2[near]) - R_in) / (R_out - R_in))
        keep = w > 0
        th, w = th[keep], w[keep]
        val = np.exp(1j * th @ S.T) @ p
        g = w * np.exp(-1j * th @ xv) / (1 - val)
        return float(np.real(g.sum())) * (2 * np.pi / N) ** d

    A1, A2 = part_ball(n_ang, 24), part_ball(n_ang + 6, 32)
    B1, B2 = part_grid(n_grid), part_grid(n_grid + 16)
    vol = (2 * np.pi) ** d
    est = (A2 + B2) / vol
    err = (abs(A2 - A1) + abs(B2 - B1)) / vol
    return est, err


def fourier_green(walk: Walk, x=None) -> dict:
    """u(x) for any step set to double precision by the Fourier integral; dict with value, error, method.

    >>> from kexue.randomwalk.lattice import sc
    >>> r = fourier_green(sc(3))
    >>> bool(abs(r["value"] - 1.5163860591519780) < 1e-10)
    True
    """
    x = tuple([0] * walk.dim) if x is None else tuple(int(v) for v in x)
    if len(x) != walk.dim:
        raise UsageError(f"site {x} must have {walk.dim} coordinates")
    rw, basis = reduced(walk)
    if not any(any(s) for s in walk.steps):
        return {"value": float("inf") if not any(x) else 0.0, "error": 0.0, "method": "the walk never moves"}
    c = coordinates(basis, x)
    if c is None:
        return {"value": 0.0, "error": 0.0, "method": "site not in the lattice the steps generate"}
    if rw.is_unbiased:
        if rw.dim <= 2:
            return {"value": float("inf"), "error": 0.0, "method": "recurrent"}
        if rw.dim > 4:
            raise UsageError("unbiased custom walks spanning more than 4 dimensions are not supported by the "
                             "Fourier method; for the simple cubic walk use --lattice sc")
        from .pathint import _one_blas_thread

        with _one_blas_thread():
            v, e = _fourier_unbiased(rw, c, *((64, 20) if rw.dim == 3 else (24, 12)))
        return {"value": v, "error": e, "method": "Fourier integral, singular point split off (spherical + trapezoid)"}
    from .pathint import _one_blas_thread

    with _one_blas_thread():
        v, e = _fourier_biased(rw, c)
    return {"value": v, "error": e, "method": "Fourier integral on the shifted contour theta + i eta (tilted walk)"}


# ----------------------------------------------------------------------------- Polya
def recurrence_reason(walk: Walk) -> str | None:
    """Why the walk is recurrent (a sentence), or None when it is transient.

    >>> from kexue.randomwalk.lattice import sc
    >>> recurrence_reason(sc(2))
    'unbiased walk whose steps span 2 dimensions: recurrent (Polya 1921), u(0) is infinite'
    """
    if not any(any(s) for s in walk.steps):
        return "the walk never moves: it is at the origin at every step"
    rw, _ = reduced(walk)
    if rw.is_unbiased and rw.dim <= 2:
        return (f"unbiased walk whose steps span {rw.dim} dimension{'s' if rw.dim > 1 else ''}: "
                "recurrent (Polya 1921), u(0) is infinite")
    return None


def _one_d_nearest(walk: Walk) -> tuple[Fraction, Fraction] | None:
    """(p_right, p_left) when the walk is a 1-D walk with steps in {-1, 0, +1}, else None."""
    if walk.dim != 1 or any(abs(s[0]) > 1 for s in walk.steps):
        return None
    pr = sum((p for s, p in zip(walk.steps, walk.probs, strict=True) if s[0] == 1), Fraction(0))
    pl = sum((p for s, p in zip(walk.steps, walk.probs, strict=True) if s[0] == -1), Fraction(0))
    return pr, pl


def polya(lattice: str | Walk = "sc", dim: int | None = None, digits: int = 30) -> dict:
    """Polya's return probability p = 1 - 1/u(0) and the expected visits u(0), as digit strings.

    ``lattice`` is ``sc``/``bcc``/``fcc`` or a :class:`Walk`. Named lattices are computed to
    ``digits`` decimals (every printed digit correct: truncated, never rounded up); custom walks
    to double precision (15 significant digits at most) unless they are 1-D nearest-neighbour walks
    (exact: p = 1 - |p_right - p_left|).

    >>> polya("sc", 2)["return_probability"]
    '1'
    >>> polya("bcc", digits=20)["return_probability"]
    '0.28222998895387000217'
    """
    if isinstance(lattice, Walk):
        walk = lattice
        name = walk.name
    else:
        walk = named(lattice, dim)
        name = lattice.lower()
    d = walk.dim
    out = {"lattice": name, "dim": d}
    reason = recurrence_reason(walk)
    if reason is not None:
        return out | {"digits": digits, "return_probability": "1", "expected_visits": "inf", "recurrent": True,
                      "reason": reason, "method": "Polya's theorem"}
    if name in CLOSED_FORMS and walk.name == name and (name != "sc" or d == 3):
        _check_digits(digits, MAX_DIGITS_CLOSED)

        u = CLOSED_FORMS[name][0](digits)
        method = {"sc": "Watson's elliptic closed form via the AGM (python-flint)",
                  "bcc": "1/agm(1, 1/sqrt2)^2 = Gamma(1/4)^4/(4 pi^3) (python-flint)",
                  "fcc": "3 sqrt3 K(sin 15 deg)^2/pi^2 = 9 Gamma(1/3)^6/(2^(14/3) pi^4) (python-flint)"}[name]
    elif name == "sc" and walk.name == "sc":
        _check_digits(digits, MAX_DIGITS_BESSEL)

        u = sc_green(d, (), digits)
        method = "Bessel integral d Int (e^-s I0(s))^d ds, rigorous quadrature + asymptotic tail (python-flint)"
    else:
        nn = _one_d_nearest(walk)
        if nn is not None:
            pr, pl = nn
            pret = 1 - abs(pr - pl)
            return out | {"digits": digits, "return_probability": _frac_digits(pret, digits),
                          "expected_visits": _frac_digits(1 / abs(pr - pl), digits), "recurrent": False,
                          "exact": f"p = 1 - |p_right - p_left| = {pret}", "method": "exact (1-D nearest neighbour)"}
        r = fourier_green(walk)
        u_f, err = r["value"], r["error"]
        p_f = 1 - 1 / u_f
        # p = 1 - 1/u has absolute error err/u^2 <= err (u >= 1)
        good = _decimals(err, u_f)
        return out | {"digits": good, "return_probability": _float_digits(p_f, good),
                      "expected_visits": _float_digits(u_f, good), "recurrent": False,
                      "error_estimate": f"{err:.2g}", "method": r["method"]}
    for attempt in range(1, 5):
        p = 1 - 1 / u
        ps, us = truncated_digits(p, digits), truncated_digits(u, digits)
        if ps is not None and us is not None:
            break
        # the value lies within the error ball of a digit boundary: recompute with more digits
        more = digits + 20 * attempt
        if name in CLOSED_FORMS and d == 3:
            u = CLOSED_FORMS[name][0](more)
        else:
            u = sc_green(d, (), min(more, MAX_DIGITS_BESSEL + 100), _check=False)
    else:
        raise UsageError("could not decide every digit (the value sits on a digit boundary); try other --digits")
    return out | {"digits": digits, "return_probability": ps, "expected_visits": us, "recurrent": False,
                  "method": method}


def _decimals(err: float, value: float) -> int:
    """Decimals worth printing for a double-precision value with error estimate ``err`` (one guard digit)."""
    floor = 4e-16 * max(1.0, abs(value))  # rounding level of the double result
    e = max(float(err), floor)
    return max(1, min(15, int(math.floor(-math.log10(e))) - 1))


def _float_digits(v: float, decimals: int) -> str:
    """Truncated decimal expansion of a float (not rounded), like the high-precision outputs.

    >>> _float_digits(0.3405373295517, 8)
    '0.34053732'
    """
    if math.isinf(v):
        return "inf"
    return _frac_digits(Fraction(float(v)), decimals) if v >= 0 else "-" + _frac_digits(Fraction(-float(v)), decimals)


def _frac_digits(q: Fraction, digits: int) -> str:
    """Exact truncated decimal expansion of a fraction."""
    n = (q.numerator * 10**digits) // q.denominator
    s = str(n).rjust(digits + 1, "0")
    return (s[:-digits] + "." + s[-digits:]).rstrip("0").rstrip(".") if digits else s


def green(lattice: str | Walk = "sc", dim: int | None = None, x=(0,), digits: int = 30) -> dict:
    """The lattice Green function u(x) (expected number of visits to x) as a digit string.

    sc in d >= 3: any site, ``digits`` decimals (Bessel integral). Other walks: the closed form at
    x = 0 for bcc/fcc, else the Fourier integral to double precision.

    >>> green("sc", 3, (1, 1, 0), digits=25)["value"]
    '0.3311486021264239020992696'
    """
    walk = lattice if isinstance(lattice, Walk) else named(lattice, dim)
    name = walk.name
    x = tuple(int(v) for v in x)
    x = x + (0,) * (walk.dim - len(x))
    if len(x) != walk.dim:
        raise UsageError(f"site {x} has more than {walk.dim} coordinates")
    out = {"lattice": name, "dim": walk.dim, "site": list(x)}
    reason = recurrence_reason(walk)
    if reason is not None:
        return out | {"value": "inf", "recurrent": True, "reason": reason}
    if name == "sc" and walk.dim >= 3:
        u = sc_green(walk.dim, x, digits)
        s = truncated_digits(u, digits)
        if s is None:
            raise UsageError("could not decide every digit; try other --digits")
        return out | {"digits": digits, "value": s, "method": "Bessel integral (python-flint)"}
    if name in ("bcc", "fcc") and not any(x):
        r = polya(name, 3, digits)
        return out | {"digits": digits, "value": r["expected_visits"], "method": r["method"]}
    r = fourier_green(walk, x)
    good = _decimals(r["error"], r["value"])
    return out | {"digits": good, "value": _float_digits(r["value"], good), "error_estimate": f"{r['error']:.2g}",
                  "method": r["method"]}


__all__ = ["polya", "green", "sc_green", "fourier_green", "truncated_digits", "sc3_agm", "sc3_gamma",
           "bcc_agm", "bcc_gamma", "fcc_agm", "fcc_gamma", "recurrence_reason"]
