"""GAN losses by the likelihood-ratio recipe of "Designing GANs" (Basioti & Moustakides; kexue.fm/archives/7210).

Conventions of the blog: ``p`` is the data, ``q`` the generator, ``t(x)`` the discriminator
output and ``r = q/p``. Choose a strictly increasing ``ω`` (the optimal output is ``t* = ω(r)``)
and a positive weight ``ρ`` on ``Ω = ω((0, ∞))``; then

    φ'(t) = -ω⁻¹(t)·ρ(t),   ψ'(t) = ρ(t),   ψ shifted so that ψ(ω(1)) = 0,

and ``min_q max_t E_p φ(t) + E_q ψ(t)`` is a consistent GAN: the inner maximum of
``φ(t) + rψ(t)`` is at ``t = ω(r)`` and ``d(r) = φ(ω(r)) + rψ(ω(r))`` is convex with its minimum
at ``r = 1``. The trained discriminator estimates the likelihood ratio as ``r̂ = ω⁻¹(t)``.
The generator may use another loss ``β`` (the blog's second conclusion) as long as
``α(ω(r)) + rβ(ω(r))`` is convex or minimal at ``r = 1``.

:func:`make_loss` builds a :class:`GanLoss` from (ω, ω⁻¹, ρ) given as sympy expressions, strings
or Python callables; φ and ψ are integrated by sympy where it can, by quadrature otherwise.
:func:`preset` gives the article's rows A–F and, for comparison, WGAN-GP and hinge.

>>> import sympy as sp
>>> gan = make_loss("log(r)", "exp(t)", "1/(1+exp(t))", name="mine")
>>> gan.phi
-log(exp(t) + 1)
>>> gan.psi
t - log(exp(t) + 1) + log(2)
>>> round(float(gan.d_np(1.0)), 6)  # -log 2
-0.693147
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError

__all__ = ["GanLoss", "make_loss", "preset", "preset_names", "PRESETS"]


class LossDesignError(UsageError):
    """(ω, ω⁻¹, ρ, β) do not satisfy the recipe's conditions."""


# ----------------------------------------------------------------------------- sympy helpers
def _sym():
    import sympy as sp

    return sp, sp.Symbol("t", real=True), sp.Symbol("r", positive=True)


def _softplus_fn():
    import sympy as sp

    return sp.Function("softplus")


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise TimeoutError after ``seconds`` of this process's CPU time (so a busy machine does not cut
    sympy short); main thread on POSIX only, elsewhere no limit."""
    usable = hasattr(signal, "SIGPROF") and threading.current_thread() is threading.main_thread()
    if not usable or signal.getitimer(signal.ITIMER_PROF)[0] > 0:  # not nested
        yield
        return

    def handler(signum, frame):
        raise TimeoutError

    old = signal.signal(signal.SIGPROF, handler)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def _as_expr(x: Any, var_name: str):
    """A sympy expression in ``t`` or ``r`` from an expression or a string; None for callables."""
    sp, t, r = _sym()
    if x is None or (callable(x) and not isinstance(x, sp.Basic)):
        return None
    if isinstance(x, str):
        try:
            x = sp.sympify(x, locals={"t": t, "r": r, "softplus": _softplus_fn()})
        except (sp.SympifyError, SyntaxError, TypeError) as e:
            raise UsageError(f"cannot read {var_name} = {x!r} as a formula ({e})") from None
    x = sp.sympify(x)
    # rename plain symbols t / r (made by the user without assumptions) to ours
    subs = {s: {"t": t, "r": r}[s.name] for s in x.free_symbols if s.name in ("t", "r")}
    x = x.xreplace(subs)
    want = r if var_name == "omega" else t
    extra = x.free_symbols - {want}
    if extra:
        raise UsageError(f"{var_name} may only depend on {want}, but it uses {', '.join(map(str, extra))}")
    return x


def _stable(expr):
    """Rewrite log(1 + exp(u)) as softplus(u) so torch/numpy never overflow on it."""
    sp, _, _ = _sym()
    softplus = _softplus_fn()

    def is_lse(e):
        if isinstance(e, sp.log) and isinstance(e.args[0], sp.Add) and len(e.args[0].args) == 2:
            a, b = e.args[0].args
            return (a == 1 and isinstance(b, sp.exp)) or (b == 1 and isinstance(a, sp.exp))
        return False

    def repl(e):
        a, b = e.args[0].args
        return softplus((b if a == 1 else a).args[0])

    return expr.replace(is_lse, repl)


def _np_fn(expr, var):
    """A numpy function of ``expr`` (float64, vectorised)."""
    sp, _, _ = _sym()
    f = sp.lambdify(var, _stable(expr).evalf(30), modules=[{"softplus": lambda u: np.logaddexp(0.0, u)}, "numpy"])

    def g(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(x), dtype=float), x.shape).copy()

    return g


def _torch_namespace() -> dict:
    import torch
    import torch.nn.functional as F

    ns = {name: getattr(torch, name) for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh",
                                                   "atan", "asin", "acos", "asinh", "acosh", "atanh", "sign",
                                                   "log1p", "expm1", "erf", "abs")}
    ns.update(softplus=F.softplus, Abs=torch.abs, sigmoid=torch.sigmoid,
              Max=lambda *a: _reduce_t(torch.maximum, a), Min=lambda *a: _reduce_t(torch.minimum, a))
    return ns


def _reduce_t(op, args):
    import torch

    ref = next(a for a in args if torch.is_tensor(a))
    out = torch.as_tensor(args[0], dtype=ref.dtype, device=ref.device)
    for a in args[1:]:
        out = op(out, torch.as_tensor(a, dtype=ref.dtype, device=ref.device))
    return out


def _torch_fn(expr, var):
    """A differentiable torch function of ``expr``."""
    import torch

    sp, _, _ = _sym()
    f = sp.lambdify(var, _stable(expr).evalf(30), modules=[_torch_namespace()])

    def g(x):
        y = f(x)
        if not torch.is_tensor(y):
            y = torch.full_like(x, float(y))
        return y

    return g


def _np_callable(fn: Callable, name: str) -> Callable:
    def g(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            try:
                y = fn(x)
            except Exception:  # a scalar-only callable: vectorise it
                y = np.vectorize(lambda v: float(fn(float(v))))(x)
            return np.broadcast_to(np.asarray(y, dtype=float), x.shape).copy()

    g.__name__ = name
    return g


def _fix_log_branches(F, t, t_mid):
    """sympy writes ∫dt/(t-1) as log(t-1); on Ω where t-1 < 0 the real antiderivative is log(1-t)."""
    sp, _, _ = _sym()

    def repl(e):
        a = e.args[0]
        try:
            v = complex(a.subs(t, t_mid).evalf())
        except (TypeError, ValueError):
            return e
        return sp.log(-a) if abs(v.imag) < 1e-12 and v.real < 0 else e

    return F.replace(lambda e: isinstance(e, sp.log), repl)


# ----------------------------------------------------------------------------- quadrature tables
class _HermiteTable:
    """φ or ψ tabulated on nodes of Ω by Gauss–Legendre quadrature, read by cubic Hermite interpolation.

    The exact derivative at each node makes the interpolant O(h⁴)-accurate; outside the nodes it
    continues linearly with the end slope.
    """

    def __init__(self, deriv: Callable[[np.ndarray], np.ndarray], nodes: np.ndarray, t0: float):
        xg, wg = np.polynomial.legendre.leggauss(10)
        a, b = nodes[:-1], nodes[1:]
        mid, half = (a + b) / 2, (b - a) / 2
        pts = mid[:, None] + half[:, None] * xg[None, :]
        seg = (deriv(pts) * wg[None, :]).sum(axis=1) * half
        vals = np.concatenate([[0.0], np.cumsum(seg)])
        self.x, self.dy = nodes, deriv(nodes)
        self.y = vals - self._eval_np(np.array([t0]), vals)[0]

    def _eval_np(self, t, y=None):
        y = self.y if y is None else y
        x, dy = self.x, self.dy
        t = np.asarray(t, dtype=float)
        i = np.clip(np.searchsorted(x, t) - 1, 0, len(x) - 2)
        h = x[i + 1] - x[i]
        s = (np.clip(t, x[0], x[-1]) - x[i]) / h
        h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
        out = h00 * y[i] + h10 * h * dy[i] + h01 * y[i + 1] + h11 * h * dy[i + 1]
        out = np.where(t < x[0], y[0] + dy[0] * (t - x[0]), out)
        return np.where(t > x[-1], y[-1] + dy[-1] * (t - x[-1]), out)

    def numpy(self, t):
        return self._eval_np(t)

    def torch(self, t):
        import torch

        x = torch.as_tensor(self.x, dtype=t.dtype, device=t.device)
        y = torch.as_tensor(self.y, dtype=t.dtype, device=t.device)
        dy = torch.as_tensor(self.dy, dtype=t.dtype, device=t.device)
        i = torch.clamp(torch.searchsorted(x, t.detach().contiguous()) - 1, 0, len(self.x) - 2)
        h = x[i + 1] - x[i]
        tc = torch.minimum(torch.maximum(t, x[0]), x[-1])
        s = (tc - x[i]) / h
        out = ((2 * s**3 - 3 * s**2 + 1) * y[i] + (s**3 - 2 * s**2 + s) * h * dy[i]
               + (-2 * s**3 + 3 * s**2) * y[i + 1] + (s**3 - s**2) * h * dy[i + 1])
        out = torch.where(t < x[0], y[0] + dy[0] * (t - x[0]), out)
        return torch.where(t > x[-1], y[-1] + dy[-1] * (t - x[-1]), out)


# ----------------------------------------------------------------------------- the loss object
@dataclass
class GanLoss:
    """A GAN loss pair with its theory: φ, ψ (and β), the domain Ω, the ratio estimator r̂ = ω⁻¹(t).

    Made by :func:`make_loss` or :func:`preset`. The discriminator's raw output ``u`` is mapped
    into Ω by :meth:`critic_output`; :meth:`d_loss` and :meth:`g_loss` are the torch losses to
    *minimise*; :meth:`r_hat` estimates q/p.
    """

    name: str
    title: str = ""
    omega: Any = None          # sympy expression in r (None when given as a callable or outside the recipe)
    omega_inv: Any = None      # sympy expression in t
    rho: Any = None
    phi: Any = None            # sympy expression in t, or None when tabulated
    psi: Any = None
    beta: Any = None           # generator loss (None: the generator minimises E_q ψ(t), the same min-max)
    alpha: Any = None
    domain: tuple[float, float] = (-math.inf, math.inf)
    output: str = "identity"   # how the raw output u becomes t: identity | sigmoid | softplus
    method: str = "sympy"      # how φ, ψ were obtained: sympy | quadrature | given
    in_recipe: bool = True
    note: str = ""
    gp: float = 0.0            # gradient-penalty weight the loss needs (WGAN-GP)
    shift: float = 0.0         # the constant subtracted from ψ so that ψ(ω(1)) = 0
    phi_np: Callable = field(default=None, repr=False)
    psi_np: Callable = field(default=None, repr=False)
    beta_np: Callable | None = field(default=None, repr=False)
    alpha_np: Callable | None = field(default=None, repr=False)
    omega_np: Callable | None = field(default=None, repr=False)
    omega_inv_np: Callable | None = field(default=None, repr=False)
    rho_np: Callable | None = field(default=None, repr=False)
    phi_t: Callable = field(default=None, repr=False)
    psi_t: Callable = field(default=None, repr=False)
    beta_t: Callable | None = field(default=None, repr=False)

    # -- theory (numpy) --------------------------------------------------------------
    def d_np(self, r):
        """d(r) = φ(ω(r)) + rψ(ω(r)): the inner maximum, convex with its minimum at r = 1."""
        r = np.asarray(r, dtype=float)
        w = self.omega_np(r)
        return self.phi_np(w) + r * self.psi_np(w)

    def d_gen_np(self, r):
        """The generator's d(r) = α(ω(r)) + rβ(ω(r)) (β = ψ, α = φ when no β is given)."""
        if self.beta_np is None:
            return self.d_np(r)
        r = np.asarray(r, dtype=float)
        w = self.omega_np(r)
        a = self.alpha_np(w) if self.alpha_np is not None else 0.0
        return a + r * self.beta_np(w)

    # -- torch -----------------------------------------------------------------------
    def critic_output(self, u):
        """Map the network's raw output ``u`` (any real) into Ω."""
        import torch
        import torch.nn.functional as F

        lo, hi = self.domain
        if self.output == "identity":
            return u
        if self.output == "sigmoid":
            w = hi - lo
            return torch.clamp(lo + w * torch.sigmoid(u), lo + 1e-6 * w, hi - 1e-6 * w)
        if self.output == "softplus":
            if math.isfinite(lo):
                return lo + F.softplus(u) + 1e-12
            return hi - F.softplus(-u) - 1e-12
        raise ValueError(self.output)

    def d_loss(self, t_real, t_fake):
        """Discriminator loss to minimise: -(E_p φ(t) + E_q ψ(t))."""
        return -(self.phi_t(t_real).mean() + self.psi_t(t_fake).mean())

    def g_loss(self, t_fake):
        """Generator loss to minimise: E_q β(t), or E_q ψ(t) (the min-max game) without β."""
        return (self.beta_t if self.beta_t is not None else self.psi_t)(t_fake).mean()

    def r_hat(self, t):
        """The likelihood-ratio estimate r̂ = ω⁻¹(t) of q/p (None outside the recipe)."""
        import torch

        if self.omega_inv_np is None:
            return None
        with torch.no_grad():
            lo, hi = self.domain
            dtype = t.dtype
            w = hi - lo if math.isfinite(hi - lo) else 1.0
            # an unconstrained output (LSGAN) may leave Ω: read it at the edge, just inside (a finite r̂)
            t = torch.clamp(t.detach().double(), lo + 1e-9 * w, hi - 1e-9 * w)
            if self.omega_inv is not None:
                return _torch_fn(self.omega_inv, _sym()[1])(t).to(dtype)
            return torch.as_tensor(self.omega_inv_np(t.cpu().numpy()), dtype=dtype)

    def describe(self) -> dict:
        """Plain strings of everything a user wants to see (for ``kexue gan losses``)."""
        sp, t, r = _sym()

        def s(e):
            return None if e is None else str(e)

        d_expr = None
        if self.in_recipe and self.omega is not None and self.phi is not None:
            if self.beta is not None:
                a = self.alpha.subs(t, self.omega) if self.alpha is not None else 0
                d_expr = a + r * self.beta.subs(t, self.omega)
            else:
                d_expr = self.phi.subs(t, self.omega) + r * self.psi.subs(t, self.omega)
            try:
                with _time_limit(5):
                    d_expr = sp.expand_log(sp.simplify(sp.expand_log(d_expr, force=True)), force=True)
                    if not d_expr.has(sp.log):
                        d_expr = sp.factor(d_expr)
            except TimeoutError:
                pass
        return {"name": self.name, "title": self.title, "omega": s(self.omega), "omega_inv": s(self.omega_inv),
                "rho": s(self.rho), "phi": s(self.phi), "psi": s(self.psi), "beta": s(self.beta),
                "alpha": s(self.alpha), "d": s(d_expr) if d_expr is not None else self.note_d,
                "domain": [str(x) for x in self.domain], "output": self.output, "method": self.method,
                "in_recipe": self.in_recipe, "generator_increasing": self.generator_increasing,
                "gradient_penalty": self.gp, "note": self.note}

    note_d: str | None = None
    generator_increasing: bool | None = None  # is the generator's per-sample loss non-decreasing on Ω (see preset)


# ----------------------------------------------------------------------------- the factory
_R_GRID = np.concatenate([np.logspace(-6, 6, 241), [1.0]])


def _numeric_limit(f: Callable, towards_zero: bool) -> float:
    ks = np.arange(4, 16)
    xs = 10.0 ** (-ks) if towards_zero else 10.0 ** ks
    v = f(xs)
    if not np.all(np.isfinite(v)):
        return -math.inf if towards_zero else math.inf
    tail = np.abs(np.diff(v[-4:]))
    if tail.max() < 1e-6 * max(1.0, abs(v[-1])):
        return float(v[-1])
    return -math.inf if towards_zero else math.inf


def make_loss(omega: Any, omega_inv: Any, rho: Any, *, beta: Any = None, alpha: Any = None,
              name: str = "custom", title: str = "", domain: tuple[float, float] | None = None,
              output: str = "auto", method: str = "auto", note: str = "") -> GanLoss:
    """Build a GAN loss from the optimal output ω(r), its inverse ω⁻¹(t) and a weight ρ(t) > 0.

    Each of ``omega`` (in ``r``), ``omega_inv`` and ``rho`` (in ``t``), and the optional generator
    loss ``beta`` and its partner ``alpha`` (in ``t``), is a sympy expression, a string such as
    ``"log(r)"`` or a Python callable on numpy arrays. With formulas φ and ψ are integrated by
    sympy (``method="sympy"``) and checked by differentiation; with callables, or when sympy
    fails, by quadrature tables (``method="quadrature"``). ψ is shifted so that ψ(ω(1)) = 0.

    ``output`` maps the raw network output into Ω: ``identity`` (Ω = ℝ, or to drop a
    constraint the optimum respects anyway, like LSGAN), ``sigmoid`` (bounded Ω), ``softplus``
    (half-line); ``auto`` picks from Ω. Raises :class:`LossDesignError` when ω is not strictly
    increasing, ω⁻¹ is not its inverse, ρ is not positive on Ω, ω(1) is outside Ω (ψ cannot be
    shifted), or β gives a generator divergence that is neither convex nor minimal at r = 1.

    >>> gan = make_loss("log(r)/2", "exp(2*t)", "exp(-t)", name="C")
    >>> gan.phi, gan.psi
    (-exp(t), 1 - exp(-t))
    >>> round(float(gan.d_np(4.0)), 12)  # (sqrt(r) - 1)**2 - 1
    0.0
    """
    sp, t, r = _sym()
    if method not in ("auto", "sympy", "quadrature"):
        raise UsageError(f"method must be auto, sympy or quadrature, not {method!r}")
    e_omega, e_inv, e_rho = _as_expr(omega, "omega"), _as_expr(omega_inv, "omega_inv"), _as_expr(rho, "rho")
    e_beta, e_alpha = _as_expr(beta, "beta"), _as_expr(alpha, "alpha")
    if omega_inv is None and e_omega is not None:  # try to invert ω symbolically
        sols = [s for s in sp.solve(sp.Eq(sp.Symbol("t_"), e_omega), r)]
        if len(sols) == 1:
            e_inv = sols[0].xreplace({sp.Symbol("t_"): t})
    if e_inv is None and omega_inv is None:
        raise UsageError("give omega_inv: sympy could not invert omega")

    f_omega = _np_fn(e_omega, r) if e_omega is not None else _np_callable(omega, "omega")
    f_inv = _np_fn(e_inv, t) if e_inv is not None else _np_callable(omega_inv, "omega_inv")
    f_rho = _np_fn(e_rho, t) if e_rho is not None else _np_callable(rho, "rho")

    # -- the conditions of the recipe, checked on a grid of r ---------------------------
    w = f_omega(_R_GRID[:-1])
    if not np.all(np.isfinite(w)):
        bad = _R_GRID[:-1][~np.isfinite(w)][0]
        raise LossDesignError(f"ω(r) is not finite at r = {bad:.3g}: ω must map (0, ∞) into the reals")
    dw = np.diff(w)
    if np.any(dw <= 0):
        i = int(np.argmax(dw <= 0))
        raise LossDesignError(f"ω is not strictly increasing on (0, ∞): ω({_R_GRID[i]:.3g}) = {w[i]:.6g} "
                              f">= ω({_R_GRID[i + 1]:.3g}) = {w[i + 1]:.6g}; the recipe needs an increasing ω")
    back = f_inv(w)
    rel = np.abs(back - _R_GRID[:-1]) / _R_GRID[:-1]
    ok = np.isfinite(back) & ((rel < 1e-6) | (np.abs(w) > 30))  # far tails lose digits in float64
    if not np.all(ok):
        i = int(np.argmax(~ok))
        raise LossDesignError(f"ω⁻¹ is not the inverse of ω: ω⁻¹(ω({_R_GRID[i]:.3g})) = {back[i]:.6g}")
    rho_w = f_rho(w)
    if not np.all(rho_w > 0):
        i = int(np.argmax(~(rho_w > 0)))
        raise LossDesignError(f"ρ must be positive on Ω, but ρ({w[i]:.6g}) = {rho_w[i]:.6g}")

    if domain is None:
        if e_omega is not None:
            try:
                with _time_limit(10):
                    lo = sp.limit(e_omega, r, 0, "+")
                    hi = sp.limit(e_omega, r, sp.oo)
                domain = (float(lo), float(hi))
            except (TimeoutError, TypeError, ValueError, NotImplementedError):
                domain = None
        if domain is None:
            domain = (_numeric_limit(f_omega, True), _numeric_limit(f_omega, False))
    lo, hi = float(domain[0]), float(domain[1])
    t1 = float(f_omega(np.array([1.0]))[0])
    if not (math.isfinite(t1) and lo < t1 < hi):
        raise LossDesignError(f"ψ cannot be shifted: ω(1) = {t1} is not inside Ω = ({lo}, {hi})")

    if output == "auto":
        output = ("identity" if not (math.isfinite(lo) or math.isfinite(hi))
                  else "sigmoid" if math.isfinite(lo) and math.isfinite(hi) else "softplus")
    if output not in ("identity", "sigmoid", "softplus"):
        raise UsageError(f"output must be auto, identity, sigmoid or softplus, not {output!r}")

    loss = GanLoss(name=name, title=title, omega=e_omega, omega_inv=e_inv, rho=e_rho, domain=(lo, hi),
                   output=output, note=note, omega_np=f_omega, omega_inv_np=f_inv, rho_np=f_rho)

    # -- φ and ψ ----------------------------------------------------------------------
    symbolic = None
    if method in ("auto", "sympy") and e_inv is not None and e_rho is not None:
        t1_exact = sp.simplify(e_omega.subs(r, 1)) if e_omega is not None else sp.Float(t1, 30)
        symbolic = _integrate_symbolic(e_inv, e_rho, f_inv, f_rho, w, t1_exact, lo, hi)
        if symbolic is None and method == "sympy":
            raise LossDesignError("sympy could not integrate φ' = -ω⁻¹ρ and ψ' = ρ; use method='quadrature'")
    if symbolic is not None:
        phi, psi, shift = symbolic
        loss.phi, loss.psi, loss.shift, loss.method = phi, psi, shift, "sympy"
        loss.phi_np, loss.psi_np = _np_fn(phi, t), _np_fn(psi, t)
        loss.phi_t, loss.psi_t = _torch_fn(phi, t), _torch_fn(psi, t)
    else:
        nodes = _table_nodes(f_omega, lo, hi)
        tab_phi = _HermiteTable(lambda x: -f_inv(x) * f_rho(x), nodes, t1)
        tab_psi = _HermiteTable(f_rho, nodes, t1)
        loss.method = "quadrature"
        loss.phi_np, loss.psi_np = tab_phi.numpy, tab_psi.numpy
        loss.phi_t, loss.psi_t = tab_phi.torch, tab_psi.torch

    # -- the generator's loss β (conclusion 2) -------------------------------------------
    # (after β is read, below) the potential the generator descends with the critic held fixed is β(ω(r))
    # (ψ(ω(r)) in the min-max game); it has to increase with r so that fakes flow from where q > p
    # towards where q < p. Conclusion 2 only constrains d(r) at the optimum, not this.
    if beta is not None:
        loss.beta, loss.alpha = e_beta, e_alpha
        loss.beta_np = _np_fn(e_beta, t) if e_beta is not None else _np_callable(beta, "beta")
        if alpha is not None:
            loss.alpha_np = _np_fn(e_alpha, t) if e_alpha is not None else _np_callable(alpha, "alpha")
        if e_beta is not None:
            loss.beta_t = _torch_fn(e_beta, t)
        else:
            def beta_t(x):
                raise UsageError("a generator loss β given as a Python callable cannot be trained through; "
                                 "give β as a formula (sympy expression or string)")
            loss.beta_t = beta_t
        rr = np.logspace(-3, 3, 301)
        dg = loss.d_gen_np(rr)
        if not np.all(np.isfinite(dg)):
            raise LossDesignError("β(ω(r)) is not finite for some r in (0, ∞)")
        slopes = np.diff(dg) / np.diff(rr)
        convex = np.all(np.diff(slopes) >= -1e-9 * (1 + np.abs(slopes).max()))
        at_one = abs(rr[int(np.argmin(dg))] - 1.0) < 0.05
        if not (convex or at_one):
            raise LossDesignError("with this β the generator's d(r) = α(ω(r)) + rβ(ω(r)) is neither convex nor "
                                  f"minimal at r = 1 (its minimum is at r ≈ {rr[int(np.argmin(dg))]:.3g})")
    _check_generator_potential(loss)
    return loss


def _check_generator_potential(loss: GanLoss) -> None:
    """Set ``loss.generator_increasing``: is the generator's per-sample loss β(t) (ψ without β) non-decreasing
    on Ω? If not, add a note saying where it turns (on Ω, at t = ω(r))."""
    w = loss.omega_np(_R_GRID[:-1])
    w = w[np.isfinite(w) & (np.abs(w) < 50)]
    pot = (loss.beta_np if loss.beta_np is not None else loss.psi_np)(w)
    ok = np.isfinite(pot)
    w, pot = w[ok], pot[ok]
    drops = np.diff(pot) < -1e-9 * (1 + np.abs(pot[:-1]))
    loss.generator_increasing = not bool(np.any(drops))
    if not loss.generator_increasing:
        t_min = float(w[int(np.argmin(pot))])
        r_min = float(_R_GRID[:-1][np.argmin(np.abs(loss.omega_np(_R_GRID[:-1]) - t_min))])
        msg = (f"the generator's loss is not increasing on Ω (smallest at t ≈ {t_min:.3g}, r ≈ {r_min:.3g}): with "
               f"the critic held fixed, fakes where the critic sees r < {r_min:.3g} are pushed back towards "
               "it instead of into the regions q under-covers, which tends to drop modes")
        loss.note = f"{loss.note}; {msg}" if loss.note else msg


def _table_nodes(f_omega, lo, hi) -> np.ndarray:
    nodes = f_omega(np.logspace(-8, 8, 4001))  # dense where r is small or large ...
    nodes = nodes[np.isfinite(nodes) & (nodes > lo) & (nodes < hi)]
    a, b = max(nodes.min(), -60.0), min(nodes.max(), 60.0)  # ... and evenly spread in t in between
    return np.unique(np.concatenate([nodes, np.linspace(a, b, 4001)[1:-1]]))


def _integrate_symbolic(e_inv, e_rho, f_inv, f_rho, w, t1, lo, hi):
    """(φ, ψ shifted, shift) by sympy, verified numerically; None if sympy cannot do it."""
    sp, t, _ = _sym()
    t_mid = float(w[len(w) // 2])
    out = []
    try:
        with _time_limit(3):
            for integrand in (-e_inv * e_rho, e_rho):
                F = sp.integrate(sp.simplify(integrand), t)
                if F.has(sp.Integral):
                    return None
                F = _fix_log_branches(F, t, t_mid)
                out.append(F)
            phi, psi = out
            shift = sp.simplify(psi.subs(t, t1))
            psi = psi - shift if shift != 0 else psi
    except (TimeoutError, NotImplementedError, ValueError, TypeError):
        return None
    # verify: real, finite, and the derivatives are right at points of Ω
    ts = w[(np.abs(w) < 20) & (_R_GRID[:-1] >= 1e-3) & (_R_GRID[:-1] <= 1e3)][::5]
    h = 1e-4 * np.minimum(np.maximum(1.0, np.abs(ts)), np.minimum(ts - lo, hi - ts))
    fphi, fpsi = _np_fn(phi, t), _np_fn(psi, t)
    for f, deriv in ((fphi, lambda x: -f_inv(x) * f_rho(x)), (fpsi, f_rho)):
        num = (f(ts + h) - f(ts - h)) / (2 * h)
        ref = deriv(ts)
        if not np.all(np.isfinite(num)) or np.any(np.abs(num - ref) > 1e-5 * (1 + np.abs(ref))):
            return None
    if abs(float(fpsi(np.array([float(t1)]))[0])) > 1e-9:
        return None
    try:
        shift_f = float(shift)
    except TypeError:
        return None
    return phi, psi, shift_f


# ----------------------------------------------------------------------------- presets
PRESETS: dict[str, dict] = {
    "A": dict(omega="log(r)", omega_inv="exp(t)", rho="1/(1+exp(t))",
              title="original GAN (real 0, fake 1): max E_p log(1-σ(t)) + E_q log σ(t)"),
    "B": dict(omega="r/(r+1)", omega_inv="t/(1-t)", rho="1/t",
              title="original GAN without the explicit sigmoid, t in (0, 1)"),
    "C": dict(omega="log(r)/2", omega_inv="exp(2*t)", rho="exp(-t)",
              title="exponential GAN: max E_p[-e^t] + E_q[-e^-t]"),
    "D": dict(omega="log(r)", omega_inv="exp(t)", rho="1/(1+exp(t))", beta="t", alpha="0",
              title="A's discriminator, generator minimises E_q[t] (d = r log r)"),
    "E": dict(omega="log(r)", omega_inv="exp(t)", rho="1/(1+exp(t))", beta="log(1+exp(t))",
              alpha="log(1+exp(t))", title="non-saturating GAN: generator minimises E_q[-log(1-σ(t))]"),
    "F": dict(omega="(r-1)/(r+1)", omega_inv="(t+1)/(1-t)", rho="2*(1-t)", beta="(t+1)**2", alpha="(t+1)**2",
              output="identity",
              title="LSGAN (real a = -1, fake b = 1): generator minimises E_q[(t - a)²] (fakes pulled to a)",
              note="the blog's generator loss ((2t-a-b)/(b-a))² = t² (the midpoint, preset 'F-mid') gives the same "
                   "divergence up to an affine term (4r²/(1+r) = (r-1)²/(r+1) + 2 + 3(r-1)), but its potential t² "
                   "is not increasing on Ω: fakes are pushed away from regions the critic calls real (t < 0), so "
                   "uncovered modes repel them (2/8 modes on the 2-D toy, against 7-8/8 with (t - a)²)"),
}
# Variants kept for comparison (not in preset_names(): the benchmark tables run preset_names()).
VARIANTS: dict[str, dict] = {
    "F-mid": dict(omega="(r-1)/(r+1)", omega_inv="(t+1)/(1-t)", rho="2*(1-t)", beta="t**2", alpha="t**2",
                  output="identity", title="LSGAN exactly as the blog's row F: generator minimises E_q[t²] (midpoint)"),
}
_ALIASES = {"gan": "A", "mm": "A", "minimax": "A", "sigmoid-free": "B", "exp": "C", "exponential": "C",
            "t": "D", "ns": "E", "nsgan": "E", "non-saturating": "E", "ls": "F", "lsgan": "F",
            "wgan": "wgan-gp", "wgangp": "wgan-gp"}
_OUTSIDE = {
    "wgan-gp": ("WGAN with a one-sided gradient penalty (the Fashion-MNIST toy's loss)",
                "outside the recipe: φ(t) = -t, ψ(t) = t give φ' + rψ' = r - 1, which has no stationary point, "
                "so the inner max is unbounded (no ω, no r̂); the critic is held by a Lipschitz penalty "
                "instead and the game estimates the Wasserstein-1 distance, an IPM, not an f-divergence"),
    "hinge": ("hinge loss (SNGAN/BigGAN style), written with fakes high",
              "outside the recipe: the inner optimum of -relu(1+t) - r·relu(1-t) jumps from t = -1 (r < 1) to "
              "t = 1 (r > 1); ω is a step, not strictly increasing, so there is no inverse and no r̂; "
              "d(r) = -2·min(1, r) is total variation"),
}


def preset_names() -> list[str]:
    """The names of the built-in losses (rows A–F of the article, then wgan-gp and hinge).

    >>> preset_names()
    ['A', 'B', 'C', 'D', 'E', 'F', 'wgan-gp', 'hinge']
    """
    return [*PRESETS, *_OUTSIDE]


def preset(name: str, gp: float | None = None) -> GanLoss:
    """A named loss: ``A``–``F`` (the article's rows, built by :func:`make_loss`), ``wgan-gp``, ``hinge``.

    Row ``F`` (LSGAN) uses the generator loss (t - a)² (fakes pulled to the real label); ``F-mid`` is
    the blog's literal choice t² (the midpoint), kept for comparison: see :attr:`GanLoss.generator_increasing`.

    Aliases: gan/mm → A, exp → C, ns/nsgan → E, lsgan → F, wgan → wgan-gp (case-insensitive).

    >>> preset("ns").name, str(preset("ns").beta)
    ('E', 'log(exp(t) + 1)')
    >>> preset("hinge").in_recipe
    False
    """
    key = str(name).strip()
    key = {k.lower(): k for k in [*preset_names(), *VARIANTS]}.get(key.lower(), _ALIASES.get(key.lower(), key))
    if key in PRESETS or key in VARIANTS:
        kw = dict(PRESETS.get(key) or VARIANTS[key])
        loss = make_loss(kw.pop("omega"), kw.pop("omega_inv"), kw.pop("rho"), name=key, **kw)
        if gp:
            loss.gp = float(gp)
        return loss
    if key in _OUTSIDE:
        return _outside(key, gp)
    raise UsageError(f"unknown loss {name!r}; known: {', '.join([*preset_names(), *VARIANTS])} "
                     f"(aliases: {', '.join(sorted(_ALIASES))})")


def _outside(key: str, gp: float | None) -> GanLoss:
    import torch

    sp, t, _ = _sym()
    title, note = _OUTSIDE[key]
    if key == "wgan-gp":
        phi, psi, beta, d = -t, t, None, "sup over 1-Lipschitz t of E_q t - E_p t (Wasserstein-1)"
        phi_t, psi_t, beta_t = (lambda x: -x), (lambda x: x), None
        gp_default = 10.0
    else:
        phi = -sp.Max(0, 1 + t)
        psi = -sp.Max(0, 1 - t)
        beta, d = t, "-2*min(1, r) (total variation)"
        phi_t, psi_t, beta_t = (lambda x: -torch.relu(1 + x)), (lambda x: -torch.relu(1 - x)), (lambda x: x)
        gp_default = 0.0
    f_phi, f_psi = _np_fn(phi, t), _np_fn(psi, t)
    return GanLoss(name=key, title=title, phi=phi, psi=psi, beta=beta, in_recipe=False, note=note, method="given",
                   gp=float(gp) if gp is not None else gp_default, phi_np=f_phi, psi_np=f_psi,
                   beta_np=_np_fn(beta, t) if beta is not None else None, phi_t=phi_t, psi_t=psi_t,
                   beta_t=beta_t, note_d=d)
