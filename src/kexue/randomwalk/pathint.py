"""Path integrals for the diffusion equation with killing, dpsi/dt = (1/2) psi'' - V(x) psi.

Article 02 reads the Gaussian kernel of the random walk as a sum over paths with weight
exp(-(1/2) Int xdot^2 dt); a potential adds exp(-Int V(x(t)) dt) (Feynman-Kac). Here:

* closed forms: free kernel, Mehler (harmonic) kernel, Brownian-bridge and Cameron-Martin
  functionals, oscillator partition function Z(beta) and its exact P-slice version Z_P;
* time slicing on a grid (products of symmetric short-time kernels): propagators, Z_P, and
  the ground-state energy from the long-time decay (largest eigenvalue of the transfer matrix,
  Richardson-extrapolated in the time step);
* Monte Carlo over Brownian bridges (Feynman-Kac) with error bars;
* the most probable (least-action) path.

Units: alpha = hbar = m = 1 (standard Brownian motion) unless an ``alpha`` argument says otherwise.

>>> round(float(free_kernel(0.0, 1.0, 1.0)), 12)
0.241970724519
>>> round(float(mehler_kernel(0.0, 1.0, 1.0, 1.0)), 12)
0.190867490878
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kexue.errors import UsageError

from .potential import as_potential


# ----------------------------------------------------------------------------- closed forms
def free_kernel(x0, x, t: float, alpha: float = 1.0):
    """Gaussian kernel (2 pi alpha t)^{-1/2} exp(-(x - x0)^2 / (2 alpha t)) (article 01's limit law)."""
    x = np.asarray(x, dtype=float)
    return np.exp(-((x - x0) ** 2) / (2 * alpha * t)) / np.sqrt(2 * np.pi * alpha * t)


def mehler_kernel(x0, x, t: float, w: float = 1.0):
    """Propagator of dpsi/dt = psi''/2 - (w^2 x^2/2) psi (Mehler's formula)."""
    x = np.asarray(x, dtype=float)
    s, c = math.sinh(w * t), math.cosh(w * t)
    return np.sqrt(w / (2 * np.pi * s)) * np.exp(-w * ((x0**2 + x**2) * c - 2 * x0 * x) / (2 * s))


def bridge_functional(T: float, w: float = 1.0) -> float:
    """E[exp(-(w^2/2) Int_0^T b^2 dt)] over Brownian bridges b from 0 to 0: sqrt(wT / sinh wT)."""
    return math.sqrt(w * T / math.sinh(w * T))


def cameron_martin(T: float, w: float = 1.0) -> float:
    """E[exp(-(w^2/2) Int_0^T B^2 dt)] over Brownian motion from 0 (free end): cosh(wT)^{-1/2}."""
    return 1 / math.sqrt(math.cosh(w * T))


def ho_partition(beta: float, w: float = 1.0) -> tuple[float, float]:
    """Harmonic oscillator Z(beta) = 1/(2 sinh(beta w/2)) and energy E = (w/2) coth(beta w/2)."""
    return 1 / (2 * math.sinh(beta * w / 2)), w / 2 / math.tanh(beta * w / 2)


def ho_partition_sliced(beta: float, P: int, w: float = 1.0) -> tuple[float, float]:
    """Exact P-slice (primitive Trotter) oscillator Z_P = 1/(q1^P - q2^P) and energy E_P.

    q_{1,2} = sqrt(1 + a^2) +- a, a = beta w / (2P) (Schweizer et al. 1981; Takahashi-Imada 1984).

    >>> round(ho_partition_sliced(4.0, 16)[0], 12)
    0.138602037757
    """
    a = beta * w / (2 * P)
    q1, q2 = math.sqrt(1 + a * a) + a, math.sqrt(1 + a * a) - a
    Z = 1 / (q1**P - q2**P)
    E = w * (q1**P + q2**P) / ((q1**P - q2**P) * (q1 + q2)) * 1.0
    return Z, E


def sliced_harmonic_exact(x0: float, x1: float, T: float, n: int, w: float = 1.0) -> float:
    """Article 02's n-slice propagator for V = w^2 x^2/2 with the symmetric split, as the exact
    (n-1)-dimensional Gaussian integral (tridiagonal determinant), no quadrature.

    >>> round(sliced_harmonic_exact(0.0, 1.0, 1.0, 50), 12)
    0.190866933774
    """
    dt = T / n
    m = n - 1
    c = dt * w * w / 4  # weight exp(-c (x_k^2 + x_{k+1}^2)) per step
    # exponent = -sum (x_{k+1}-x_k)^2/(2dt) - c sum (x_k^2 + x_{k+1}^2) = -(1/2) y^T A y + b^T y - const
    const = c * (x0**2 + x1**2)
    if m == 0:
        return float(math.exp(-((x1 - x0) ** 2) / (2 * dt) - const) / math.sqrt(2 * math.pi * dt))
    diag = np.full(m, 2 / dt + 4 * c)
    off = np.full(m - 1, -1 / dt)
    b = np.zeros(m)
    b[0] += x0 / dt
    b[-1] += x1 / dt
    const += (x0**2 + x1**2) / (2 * dt)
    from scipy.linalg import solve_banded

    ab = np.zeros((3, m))
    ab[0, 1:] = off
    ab[1] = diag
    ab[2, :-1] = off
    y = solve_banded((1, 1), ab, b)
    logdet = _tridiag_logdet(diag, off)
    logI = 0.5 * m * math.log(2 * math.pi) - 0.5 * logdet + 0.5 * float(b @ y) - const
    return float(math.exp(logI - 0.5 * n * math.log(2 * math.pi * dt)))


def _tridiag_logdet(diag: np.ndarray, off: np.ndarray) -> float:
    """log det of a symmetric positive tridiagonal matrix (LDL^T pivots)."""
    logdet = 0.0
    d_prev = None
    for k in range(len(diag)):
        dk = diag[k] if d_prev is None else diag[k] - off[k - 1] ** 2 / d_prev
        logdet += math.log(dk)
        d_prev = dk
    return logdet


# ----------------------------------------------------------------------------- grids and transfer matrices
def _one_blas_thread():
    """Small dense eigenproblems run fastest on one BLAS thread; with several threads on a busy
    machine OpenBLAS can be 100x slower (measured). Uses threadpoolctl when installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _transfer(V, xs: np.ndarray, dt: float) -> np.ndarray:
    """Symmetric short-time kernel on the grid, with the trapezoid weight h:
    M_ij = h (2 pi dt)^{-1/2} exp(-(x_i - x_j)^2/(2 dt)) exp(-dt (V_i + V_j)/2)."""
    h = xs[1] - xs[0]
    v = V(xs)
    D = xs[:, None] - xs[None, :]
    half = np.exp(-dt * v / 2)
    return h * np.exp(-(D**2) / (2 * dt)) / math.sqrt(2 * math.pi * dt) * half[:, None] * half[None, :]


def sliced_propagator(V, x0: float, T: float, n: int, xs: np.ndarray) -> np.ndarray:
    """K_n(x0 -> x; T) at the grid points ``xs`` by n time slices (n - 1 intermediate integrals on the
    grid, trapezoid rule). With V = 0 every n gives the free kernel (Chapman-Kolmogorov), up to the
    quadrature error of the grid.

    >>> xs = np.linspace(-8, 8, 641)
    >>> K = sliced_propagator("0", 0.0, 1.0, 5, xs)
    >>> float(np.abs(K - free_kernel(0.0, xs, 1.0)).max()) < 1e-13
    True
    """
    V = as_potential(V)
    if n < 1 or T <= 0:
        raise UsageError("need n >= 1 slices and T > 0")
    xs = np.asarray(xs, dtype=float)
    dt = T / n
    v0 = float(V(np.array([x0]))[0])
    vec = free_kernel(x0, xs, dt) * np.exp(-dt * (v0 + V(xs)) / 2)
    if n > 1:
        M = _transfer(V, xs, dt)
        for _ in range(n - 1):
            vec = M @ vec
    return vec


def sliced_partition(V, beta: float, P: int, xs: np.ndarray) -> float:
    """Z_P = Tr(M^P) for the P-slice transfer matrix on the grid ``xs`` (eigenvalues of a symmetric matrix).

    >>> xs = np.linspace(-8, 8, 401)
    >>> abs(sliced_partition("x**2/2", 4.0, 16, xs) - ho_partition_sliced(4.0, 16)[0]) < 1e-12
    True
    """
    V = as_potential(V)
    with _one_blas_thread():
        lam = np.linalg.eigvalsh(_transfer(V, np.asarray(xs, dtype=float), beta / P))
    return float(np.sum(lam**P))


# ----------------------------------------------------------------------------- ground states
@dataclass
class GroundState:
    """Result of :func:`ground_state`: energy, error estimate, the grid and the ground-state wave function."""

    energy: float
    error: float
    domain: tuple[float, float]
    points: int
    steps: list[float]
    estimates: list[float]
    x: np.ndarray
    psi: np.ndarray
    check: float | None = None

    def to_dict(self) -> dict:
        return {"energy": f"{self.energy:.12g}", "error": f"{self.error:.2g}",
                "domain": [round(self.domain[0], 4), round(self.domain[1], 4)], "points": self.points,
                "time_steps": self.steps, "estimates": [f"{e:.12g}" for e in self.estimates],
                **({"dvr_check": f"{self.check:.12g}"} if self.check is not None else {})}


def _domain(V) -> tuple[float, float, float]:
    """An interval outside which the ground state is negligible (< ~1e-10), from the Agmon distance.

    Raises UsageError when V is not bounded below / not confining."""
    X = np.linspace(-60, 60, 24001)
    v = V(X)
    if not np.all(np.isfinite(v)):
        bad = X[~np.isfinite(v)][0]
        raise UsageError(f"the potential is not finite at x = {bad:.4g}; it must be a finite function of x")
    imin = int(np.argmin(v))
    vmin = float(v[imin])
    if imin in (0, len(X) - 1) or v[0] < vmin + 20 or v[-1] < vmin + 20:
        raise UsageError("the potential is not bounded below or not confining (V must grow to +infinity at both "
                         "ends, e.g. x**2/2, x**4, (x**2-1)**2); no bound ground state to compute")
    # crude energy bound from a coarse finite-difference solve on the region V < vmin + 60
    inside = np.where(v < vmin + 60)[0]
    a, b = X[max(inside[0] - 40, 0)], X[min(inside[-1] + 40, len(X) - 1)]
    xs = np.linspace(a, b, 400)
    E0 = float(dvr_energy(V, xs))
    # extend until the Agmon distance int sqrt(2 (V - E)) dx from the turning point reaches 23 on both sides
    E = E0 + 0.5
    lo = hi = None
    dx = X[1] - X[0]
    k = np.sqrt(2 * np.clip(v - E, 0, None))
    cum_r = np.cumsum(k[imin:]) * dx
    cum_l = np.cumsum(k[imin::-1]) * dx
    if cum_r[-1] < 23 or cum_l[-1] < 23:
        raise UsageError("the potential grows too slowly to hold a bound state in |x| < 60")
    hi = float(X[imin + int(np.searchsorted(cum_r, 23))])
    lo = float(X[imin - int(np.searchsorted(cum_l, 23))])
    return lo, hi, E0


def dvr_energy(V, xs: np.ndarray, k: int = 0) -> float:
    """k-th eigenvalue of H = -(1/2) d^2/dx^2 + V on the uniform grid ``xs`` by the sinc-DVR
    (Colbert-Miller): an independent, spectrally accurate check of the path-integral energies.

    >>> xs = np.linspace(-10, 10, 201)
    >>> round(dvr_energy("x**2/2", xs), 12)
    0.5
    """
    from scipy.linalg import eigh

    V = as_potential(V)
    xs = np.asarray(xs, dtype=float)
    h = xs[1] - xs[0]
    i = np.arange(len(xs))
    D = i[:, None] - i[None, :]
    with np.errstate(divide="ignore"):
        T = np.where(D == 0, np.pi**2 / 3, 2.0 * (-1.0) ** D / np.where(D == 0, 1, D) ** 2) / (2 * h * h)
    H = T + np.diag(V(xs))
    with _one_blas_thread():
        return float(eigh(H, eigvals_only=True, subset_by_index=[k, k])[0])


def ground_state(V, dt0: float = 0.1, levels: int = 4, check: bool = True) -> GroundState:
    """Ground-state energy of H = -(1/2) d^2/dx^2 + V(x) from the long-time decay of the path integral.

    For each time step dt the symmetric transfer matrix M = e^{-dt V/2} K_dt e^{-dt V/2} is built on a
    grid fine enough to resolve K_dt; Z(T) = Tr M^{T/dt} decays like lambda_max^{T/dt}, so
    E(dt) = -ln(lambda_max)/dt = E0 + c2 dt^2 + c4 dt^4 + ... (even powers: symmetric splitting).
    E(dt0), E(dt0/2), ... are Richardson-extrapolated; the error is the last correction. With
    ``check`` the sinc-DVR eigenvalue on the same domain is returned too.

    >>> g = ground_state("x**2/2")
    >>> abs(g.energy - 0.5) < 1e-9
    True
    """
    from scipy.linalg import eigh

    V = as_potential(V)
    if dt0 <= 0 or levels < 2:
        raise UsageError("need dt0 > 0 and at least 2 levels")
    lo, hi, E0 = _domain(V)
    dts = [dt0 / 2**k for k in range(levels)]
    h = min(0.45 * math.sqrt(dts[-1]), (hi - lo) / 60)
    N = int(math.ceil((hi - lo) / h)) + 1
    if N > 3000:
        raise UsageError(f"the ground state needs {N} grid points (potential too wide or too steep); max 3000")
    xs = np.linspace(lo, hi, N)
    est, psi = [], None
    for dt in dts:
        with _one_blas_thread():
            w, vec = eigh(_transfer(V, xs, dt), subset_by_index=[N - 1, N - 1])
        est.append(-math.log(float(w[0])) / dt)
        psi = vec[:, 0]
    # Richardson on even powers of dt
    table = [est[:]]
    for j in range(1, levels):
        prev = table[-1]
        f = 4**j
        table.append([(f * prev[i + 1] - prev[i]) / (f - 1) for i in range(len(prev) - 1)])
    best = table[-1][-1]
    err = abs(table[-1][-1] - table[-2][-1])
    psi = psi / math.sqrt(float(np.sum(psi**2) * (xs[1] - xs[0])))
    psi = psi * np.sign(psi[np.argmax(np.abs(psi))])
    chk = dvr_energy(V, xs) if check else None
    return GroundState(best, err, (lo, hi), N, dts, est, xs, psi, chk)


# ----------------------------------------------------------------------------- Monte Carlo (Feynman-Kac)
def brownian_bridges(x0: float, x1: float, T: float, n: int, samples: int, seed: int = 0) -> np.ndarray:
    """Brownian bridges from x0 at t = 0 to x1 at t = T on n steps: array samples x (n + 1)."""
    rng = np.random.default_rng(seed)
    dt = T / n
    W = np.zeros((samples, n + 1))
    W[:, 1:] = np.cumsum(rng.standard_normal((samples, n)) * math.sqrt(dt), axis=1)
    t = np.linspace(0, T, n + 1)
    return x0 + W - (t / T)[None, :] * (W[:, -1:] - (x1 - x0))


def feynman_kac(V, x0: float, x1: float, T: float, n: int = 200, samples: int = 20000, seed: int = 0,
                chunk: int = 5000) -> tuple[float, float]:
    """K(x0 -> x1; T) = K_free * E_bridge[exp(-Int V(b(t)) dt)] by Monte Carlo: (estimate, standard error).

    >>> k, se = feynman_kac("x**2/2", 0.0, 1.0, 1.0, n=200, samples=20000, seed=1)
    >>> bool(abs(k - mehler_kernel(0.0, 1.0, 1.0)) < 4 * se + 1e-3)
    True
    """
    V = as_potential(V)
    if samples < 2 or n < 1:
        raise UsageError("need samples >= 2 and n >= 1")
    vals = []
    dt = T / n
    done = 0
    k = 0
    while done < samples:
        m = min(chunk, samples - done)
        b = brownian_bridges(x0, x1, T, n, m, seed=seed * 100003 + k)
        v = V(b)
        integral = dt * (v[:, 1:-1].sum(axis=1) + (v[:, 0] + v[:, -1]) / 2)
        vals.append(np.exp(-integral))
        done += m
        k += 1
    w = np.concatenate(vals)
    kf = float(free_kernel(x0, x1, T))
    return kf * float(w.mean()), kf * float(w.std(ddof=1) / math.sqrt(len(w)))


# ----------------------------------------------------------------------------- least action
def least_action_path(V, x0: float, x1: float, T: float, n: int = 200) -> tuple[np.ndarray, np.ndarray, float]:
    """The most probable path from x0 to x1 in time T: minimiser of the discrete Euclidean action
    S = sum (x_{k+1} - x_k)^2/(2 dt) + dt sum V(x_k) (Euler-Lagrange: xddot = V'(x)).
    Returns (t, x, S).

    >>> t, x, S = least_action_path("x**2/2", 0.0, 1.0, 1.0, n=100)
    >>> exact = np.sinh(t) / np.sinh(1.0)
    >>> float(np.abs(x - exact).max()) < 1e-4
    True
    """
    from scipy.linalg import solve_banded

    V = as_potential(V)
    if n < 2 or T <= 0:
        raise UsageError("need n >= 2 time steps and T > 0")
    dt = T / n
    t = np.linspace(0, T, n + 1)

    def dV(y):
        e = 1e-5 * np.maximum(1, np.abs(y))
        return (V(y + e) - V(y - e)) / (2 * e)

    def d2V(y):
        e = 1e-4 * np.maximum(1, np.abs(y))
        return (V(y + e) - 2 * V(y) + V(y - e)) / (e * e)

    def action(y):
        x = np.concatenate([[x0], y, [x1]])
        dx = np.diff(x)
        return float(np.sum(dx**2) / (2 * dt) + dt * (np.sum(V(y)) + (V(np.array([x0]))[0] + V(np.array([x1]))[0]) / 2))

    def grad(y):
        dx = np.diff(np.concatenate([[x0], y, [x1]]))
        return (dx[:-1] - dx[1:]) / dt + dt * dV(y)

    # Newton on the tridiagonal Euler-Lagrange system, damped by a backtracking line search
    y = x0 + (x1 - x0) * t[1:-1] / T
    S = action(y)
    for _ in range(200):
        g = grad(y)
        ab = np.zeros((3, n - 1))
        ab[0, 1:] = -1 / dt
        ab[1] = 2 / dt + dt * np.maximum(d2V(y), -1.9 / dt**2)  # keep the Hessian positive
        ab[2, :-1] = -1 / dt
        step = solve_banded((1, 1), ab, -g)
        lam = 1.0
        while lam > 1e-8:
            y_new = y + lam * step
            S_new = action(y_new)
            if S_new <= S + 1e-4 * lam * float(g @ step):
                break
            lam /= 2
        y, S_old, S = y_new, S, S_new
        if np.abs(lam * step).max() < 1e-13 * max(1.0, np.abs(y).max()) or abs(S_old - S) < 1e-16 * max(1.0, abs(S)):
            break
    x = np.concatenate([[x0], y, [x1]])
    return t, x, float(S)
