"""The theory of "Designing GANs" as tests: argmax = ω(r), d convex with min at 1, JS and Hellinger identities."""

import math

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import integrate, optimize, stats

from kexue.errors import UsageError
from kexue.gan.losses import LossDesignError, make_loss, preset, preset_names

RECIPE = ["A", "B", "C", "D", "E", "F"]
R_GRID = np.logspace(-2.5, 2.5, 23)


def _argmax_t(loss, r):
    """Numerically maximise φ(t) + rψ(t) over (a safe bracket of) Ω, with no knowledge of ω."""
    lo, hi = loss.domain
    width = min(hi - lo, 10.0)
    a = lo + 1e-9 * width if math.isfinite(lo) else -40.0
    b = hi - 1e-9 * width if math.isfinite(hi) else 40.0
    f = lambda t: -(loss.phi_np(t) + r * loss.psi_np(t))  # noqa: E731
    grid = np.linspace(a, b, 8001)  # coarse search first (flat tails fool a bare golden-section search)
    i = int(np.argmin(f(grid)))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(f, bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-11, "maxiter": 500})
    return res.x


@pytest.mark.parametrize("name", RECIPE)
def test_argmax_of_inner_problem_is_omega(name):
    loss = preset(name)
    for r in R_GRID:
        assert _argmax_t(loss, r) == pytest.approx(float(loss.omega_np(r)), abs=2e-5, rel=1e-5), r


@pytest.mark.parametrize("name", RECIPE)
def test_d_is_convex_with_minimum_at_one(name):
    loss = preset(name)
    r = np.linspace(0.05, 6, 400)
    d = loss.d_np(r)
    slopes = np.diff(d) / np.diff(r)
    assert np.all(np.diff(slopes) > 0)  # strictly convex
    assert r[np.argmin(d)] == pytest.approx(1.0, abs=0.02)
    # d'(1) = ψ(ω(1)) = 0: the shift of ψ
    assert float(loss.psi_np(loss.omega_np(1.0))) == pytest.approx(0.0, abs=1e-12)
    # the generator's d (conclusion 2) is convex too
    dg = loss.d_gen_np(r)
    assert np.all(np.diff(np.diff(dg) / np.diff(r)) > -1e-9)


def test_rows_match_the_article_symbolically():
    t, r = sp.Symbol("t", real=True), sp.Symbol("r", positive=True)
    table = {  # (φ up to a constant, ψ before the shift, generator's d(r) where the blog gives it)
        "A": (-sp.log(1 + sp.exp(t)), sp.log(2) - sp.log(1 + sp.exp(-t)), None),
        "B": (sp.log(1 - t), sp.log(t), None),
        "C": (-sp.exp(t), -sp.exp(-t), (sp.sqrt(r) - 1) ** 2 - 1),
        "D": (None, None, r * sp.log(r)),
        "E": (None, None, (1 + r) * sp.log(1 + r)),
        "F": (-(t + 1) ** 2, -(t - 1) ** 2, (r - 1) ** 2 / (r + 1)),
    }
    for name, (phi, psi, d) in table.items():
        loss = preset(name)
        assert loss.method == "sympy"
        if phi is not None:
            assert sp.simplify(sp.diff(loss.phi - phi, t)) == 0, name
            assert sp.simplify(sp.diff(loss.psi - psi, t)) == 0, name
            # the shift makes ψ(ω(1)) = 0 exactly
            assert sp.simplify(loss.psi.subs(t, loss.omega.subs(r, 1))) == 0, name
        if d is not None:
            if loss.beta is not None:
                a = loss.alpha.subs(t, loss.omega) if loss.alpha is not None else 0
                got = a + r * loss.beta.subs(t, loss.omega)
            else:
                got = loss.phi.subs(t, loss.omega) + r * loss.psi.subs(t, loss.omega)
            diff = sp.simplify(sp.expand_log(got - d, force=True))
            if name in ("D",):  # α = 0: exactly r log r
                assert diff == 0
            else:  # equal up to a + b(r - 1): the free shift of φ/α, and ∫p·(q/p - 1) = 0 (same f-divergence)
                assert sp.simplify(sp.diff(diff, r, 2)) == 0, (name, diff)
    # E's α = β = log(1+e^t) = -log(1-σ(t)), the non-saturating loss
    e = preset("E")
    x = torch.linspace(-8, 8, 33, dtype=torch.float64)
    assert torch.allclose(e.beta_t(x), -torch.log(1 - torch.sigmoid(x)), atol=1e-10)


def _gauss_integral(f):
    p, q = stats.norm(0, 1).pdf, stats.norm(1, 1.5).pdf
    return integrate.quad(lambda x: f(p(x), q(x)), -30, 30, limit=400, epsabs=1e-13)[0]


def test_row_A_outer_objective_is_2JS_minus_log2():
    loss = preset("A")
    outer = _gauss_integral(lambda p, q: p * float(loss.d_np(q / p)))
    js = _gauss_integral(lambda p, q: 0.5 * p * math.log(2 * p / (p + q)) + 0.5 * q * math.log(2 * q / (p + q)))
    assert outer == pytest.approx(2 * js - math.log(2), abs=1e-9)
    assert outer == pytest.approx(-0.4945670, abs=5e-8)  # the article summary's value


def test_row_C_outer_objective_is_squared_hellinger_minus_one():
    loss = preset("C")
    outer = _gauss_integral(lambda p, q: p * float(loss.d_np(q / p)))
    hell = _gauss_integral(lambda p, q: (math.sqrt(q) - math.sqrt(p)) ** 2)
    assert hell == pytest.approx(0.2207307, abs=5e-8)
    assert outer == pytest.approx(hell - 1, abs=1e-9)


def test_custom_sympy_loss_and_quadrature_loss_agree():
    # ω(r) = asinh(r - 1): Ω = (-asinh(1), ∞); ρ(t) = exp(-t²/2)
    sym = make_loss("asinh(r - 1)", "sinh(t) + 1", "exp(-t**2/2)", name="mine")
    num = make_loss(lambda r: np.arcsinh(r - 1), lambda t: np.sinh(t) + 1, lambda t: np.exp(-t**2 / 2), name="num")
    assert num.method == "quadrature"
    assert num.domain[0] == pytest.approx(-math.asinh(1), abs=1e-6) and num.domain[1] == math.inf
    for loss in (sym, num):
        for r in (0.05, 0.5, 1.0, 3.0, 20.0):
            assert _argmax_t(loss, r) == pytest.approx(math.asinh(r - 1), abs=1e-5)
    t = np.linspace(-0.8, 4, 50)
    assert np.allclose(num.psi_np(t), sym.psi_np(t), atol=1e-9)
    dphi = num.phi_np(t) - sym.phi_np(t)
    assert np.ptp(dphi) < 1e-9  # φ is defined up to a constant
    # the torch table is differentiable and agrees with the exact derivative -ω⁻¹ρ
    x = torch.tensor(t, requires_grad=True)
    num.phi_t(x).sum().backward()
    assert np.allclose(x.grad.numpy(), -(np.sinh(t) + 1) * np.exp(-t**2 / 2), atol=1e-6)


@pytest.mark.parametrize("name", RECIPE)
def test_torch_losses_match_numpy_and_stay_finite(name):
    loss = preset(name)
    u = torch.linspace(-60, 60, 241, dtype=torch.float64)
    t = loss.critic_output(u)
    assert torch.all(torch.isfinite(loss.phi_t(t))) or name in ("C",)
    mid = t[(t.abs() < 10)]
    assert np.allclose(loss.phi_t(mid).numpy(), loss.phi_np(mid.numpy()), atol=1e-10)
    assert np.allclose(loss.psi_t(mid).numpy(), loss.psi_np(mid.numpy()), atol=1e-10)
    r = loss.r_hat(loss.critic_output(torch.zeros(3, dtype=torch.float64)))
    assert torch.all(r >= 0)
    # at the optimum t = ω(r) the estimator returns r
    rr = torch.tensor([0.3, 1.0, 4.0], dtype=torch.float64)
    assert torch.allclose(loss.r_hat(torch.as_tensor(loss.omega_np(rr.numpy()))), rr, rtol=1e-9)


def test_A_losses_are_the_usual_cross_entropies():
    loss = preset("A")
    u = torch.randn(64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 5
    real, fake = u[:32], u[32:]
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    # max E_p log(1-σ(t)) + E_q log σ(t) with labels real 0, fake 1
    ref = bce(real, torch.zeros(32, dtype=torch.float64)) + bce(fake, torch.ones(32, dtype=torch.float64))
    assert float(loss.d_loss(real, fake)) == pytest.approx(float(ref) - math.log(2), abs=1e-10)


def test_outside_the_recipe():
    for name in ("wgan-gp", "hinge"):
        loss = preset(name)
        assert not loss.in_recipe and loss.note and loss.r_hat(torch.zeros(2)) is None
    assert preset("wgan-gp").gp == 10.0
    # hinge's inner optimum is a step in r: t* = -1 for r < 1, +1 for r > 1
    h = preset("hinge")
    assert _argmax_t(h, 0.5) == pytest.approx(-1, abs=1e-4) and _argmax_t(h, 2.0) == pytest.approx(1, abs=1e-4)


def test_presets_and_aliases():
    assert preset_names() == ["A", "B", "C", "D", "E", "F", "wgan-gp", "hinge"]
    assert preset("lsgan").name == "F" and preset("a").name == "A" and preset("WGAN").name == "wgan-gp"
    with pytest.raises(UsageError, match="unknown loss"):
        preset("nope")


@pytest.mark.parametrize("args, match", [
    (("-log(r)", "exp(-t)", "1"), "not strictly increasing"),
    (("log(r)", "exp(t)", "-1/(1+exp(t))"), "positive"),
    (("log(r)", "exp(2*t)", "1/(1+exp(t))"), "not the inverse"),
    (("log(r - 1 + 1) - log(r)*0 + 5*(r > 0)", "exp(t)", "1"), None),
])
def test_bad_designs_are_refused(args, match):
    if match is None:  # sympy refuses a relational inside ω: a clear user error, not a traceback
        with pytest.raises(UsageError):
            make_loss(*args)
        return
    with pytest.raises(LossDesignError, match=match):
        make_loss(*args)


def test_psi_that_cannot_be_shifted():
    # ω(r) = log(r - 1) is not finite at r = 1: no shift can make ψ(ω(1)) = 0
    with pytest.raises(LossDesignError):
        make_loss(lambda r: np.log(np.abs(r - 1)) + 1e-3 * r, lambda t: t, lambda t: 1 + 0 * t)
    with pytest.raises(LossDesignError, match="cannot be shifted"):
        make_loss("log(r)", "exp(t)", "1/(1+exp(t))", domain=(1.0, 10.0))


def test_bad_generator_loss_is_refused():
    # β(t) = -t: d(r) = -r·log r is concave, max (not min) near r = 1/e
    with pytest.raises(LossDesignError, match="neither convex"):
        make_loss("log(r)", "exp(t)", "1/(1+exp(t))", beta="-t")


def test_lsgan_generator_loss_and_the_blogs_midpoint_variant():
    t, r = sp.Symbol("t", real=True), sp.Symbol("r", positive=True)
    f, mid = preset("F"), preset("F-mid")
    # the blog's literal row F: β = ((2t - a - b)/(b - a))² = t² with a = -1, b = 1; d = (r-1)²/(r+1) exactly
    assert sp.simplify(mid.beta - t**2) == 0
    got = mid.alpha.subs(t, mid.omega) + r * mid.beta.subs(t, mid.omega)
    assert sp.simplify(got - (r - 1) ** 2 / (r + 1)) == 0
    # its per-sample generator loss turns at the midpoint: flagged; every trained preset's loss increases on Ω
    assert mid.generator_increasing is False and "not increasing" in mid.note
    assert all(preset(n).generator_increasing for n in RECIPE)
    # F's generator loss (t + 1)² gives 4r²/(1+r) = (r-1)²/(r+1) + 2 + 3(r-1): the same divergence
    got = f.alpha.subs(t, f.omega) + r * f.beta.subs(t, f.omega)
    assert sp.simplify(got - (r - 1) ** 2 / (r + 1) - 2 - 3 * (r - 1)) == 0
    # LSGAN's critic output is unconstrained: outside Ω = (-1, 1) r̂ is read at the edge, finite and monotone
    r_out = f.r_hat(torch.tensor([-5.0, -1.0, 0.0, 1.0, 7.0]))
    assert torch.all(torch.isfinite(r_out)) and torch.all(r_out[1:] >= r_out[:-1]) and r_out[2] == 1
    # a decreasing generator loss of our own is flagged too
    own = make_loss("log(r)", "exp(t)", "1/(1+exp(t))", beta="t**2")  # d = r log²r: minimal at r = 1
    assert own.generator_increasing is False
