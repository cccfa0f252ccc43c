"""``kexue walk``: lattice random walks, Polya constants and path integrals from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kexue.console import JsonOpt, QuietOpt, SeedOpt, emit, quiet_if
from kexue.errors import UsageError

NAME = "walk"
app = typer.Typer(no_args_is_help=True, help=(
    "Lattice random walks (articles 01/02): exact n-step laws by the Fourier (contour) formula, "
    "Green functions and Polya return probabilities to any number of digits, the continuum (Gaussian) "
    "limit, path integrals (propagators, Feynman-Kac, ground-state energies, least-action paths).\n\n"
    "Examples:\n\n"
    "  kexue walk distribution --lattice sc --dim 1 --steps 1000 --plot law.png\n\n"
    "  kexue walk polya --lattice sc --dim 3 --digits 1000 --json\n\n"
    "  kexue walk polya --step-set '1;-1' --probs 0.7,0.3\n\n"
    "  kexue walk ground-state --potential 'x**4' --json"))

LatticeOpt = Annotated[str, typer.Option("--lattice", "-l", help="sc (simple cubic Z^d), bcc or fcc (3-D).")]
DimOpt = Annotated[int | None, typer.Option("--dim", "-d", help="Dimension d for sc (>= 1); bcc/fcc are 3-D.")]
StepSetOpt = Annotated[str | None, typer.Option(
    "--step-set", help="Custom steps instead of --lattice: vectors split by ';', e.g. '1;-1' or '1,0;-1,0;0,1;0,-1'.")]
ProbsOpt = Annotated[str | None, typer.Option(
    "--probs", help="Probabilities of the custom steps, e.g. '0.7,0.3' or '1/4,3/4' (default uniform).")]
PotentialOpt = Annotated[str, typer.Option(
    "--potential", "-V", help="V(x): numbers, x, + - * / ** (or ^) and abs cos cosh exp log sin sinh sqrt tan tanh.")]


def _walk(lattice: str, dim: int | None, step_set: str | None, probs: str | None):
    from .lattice import custom, named, parse_probs, parse_steps

    if step_set is not None:
        return custom(parse_steps(step_set), parse_probs(probs) if probs else None)
    if probs is not None:
        raise UsageError("--probs goes with --step-set (named lattices are uniform)")
    return named(lattice, dim)


def _site(text: str | None, d: int) -> tuple[int, ...]:
    if not text:
        return tuple([0] * d)
    try:
        vals = [int(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"site {text!r} must be integers separated by commas, e.g. 1,1,0") from None
    if len(vals) > d:
        raise UsageError(f"site {text!r} has more than d = {d} coordinates")
    return tuple(vals + [0] * (d - len(vals)))


@app.command()
def distribution(
    lattice: LatticeOpt = "sc", dim: DimOpt = None, step_set: StepSetOpt = None, probs: ProbsOpt = None,
    steps: Annotated[int, typer.Option("--steps", "-n", help="Number of steps n.")] = 100,
    at: Annotated[str | None, typer.Option("--at", help="Also print P(S_n = x) at this site, e.g. 0,0,0.")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Write a PNG: the law against its Gaussian limit.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Save the whole law (.npy array; origin in the JSON).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Exact law of S_n by the Fourier formula P(S_n=x) = (2pi)^-d Int phi^n e^{-ix.theta} (one FFT, no aliasing).

    Prints the support, mean and covariance, P(S_n = origin), the largest deviation from the
    article's Gaussian limit (local CLT) and, for the 1-D +-1 walk, the largest error against the
    exact binomial law.
    """
    import numpy as np

    from .law import gaussian_limit, n_step_law

    walk = _walk(lattice, dim, step_set, probs)
    law = n_step_law(walk, steps)
    import numpy as _np

    m = law.steps * _np.array([float(v) for v in walk.mean])
    C = law.steps * walk.covariance
    res = {"lattice": walk.name, "dim": walk.dim, "steps": steps, "origin": list(law.origin),
           "shape": list(law.pmf.shape), "total_probability": float(law.pmf.sum()),
           "mean": [float(v) for v in m], "covariance": C.tolist(),
           "p_origin": law.prob(tuple([0] * walk.dim))}
    if at:
        x = _site(at, walk.dim)
        res["site"] = list(x)
        res["p_site"] = law.prob(x)
    if steps >= 1 and np.linalg.matrix_rank(walk.covariance) == walk.dim:
        g = gaussian_limit(law, walk)
        res["max_abs_dev_from_gaussian"] = float(np.abs(law.pmf - g).max())
    if walk.dim == 1 and sorted(walk.steps) == [(-1,), (1,)] and walk.probs[0] == walk.probs[1] and steps <= 2_000_000:
        from scipy.stats import binom

        k = np.arange(steps + 1)
        res["max_abs_error_vs_binomial"] = float(np.abs(law.pmf[::2] - binom.pmf(k, steps, 0.5)).max())
    if law.pmf.size <= 1001 and walk.dim == 1:
        res["pmf"] = law.pmf.tolist()
    if out is not None:
        from kexue.utils import atomic_path

        with atomic_path(out) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, law.pmf)
        res["saved"] = str(out)
    if plot is not None:
        from .plots import plot_law

        plot_law(law, walk, plot)
        res["plot"] = str(plot)

    def human(r):
        lines = [f"{walk.describe()}, n = {steps}",
                 f"support box from {r['origin']} of shape {r['shape']}; "
                 f"total probability {r['total_probability']:.15f}",
                 f"mean {r['mean']}, covariance {r['covariance']} (exact: n m, n Sigma)",
                 f"P(S_n = 0) = {r['p_origin']:.15g}"]
        if "p_site" in r:
            lines.append(f"P(S_n = {tuple(r['site'])}) = {r['p_site']:.15g}")
        if "max_abs_dev_from_gaussian" in r:
            lines.append(f"max |P - Gaussian limit| = {r['max_abs_dev_from_gaussian']:.3g}")
        if "max_abs_error_vs_binomial" in r:
            lines.append(f"max |P - exact binomial| = {r['max_abs_error_vs_binomial']:.3g}")
        return "\n".join(lines)

    emit(res, json_out, human)


@app.command()
def polya(
    lattice: LatticeOpt = "sc", dim: DimOpt = None, step_set: StepSetOpt = None, probs: ProbsOpt = None,
    digits: Annotated[int, typer.Option("--digits", "-D", help="Decimals to print (all correct, truncated). "
                                        "sc 3-D/bcc/fcc: up to 1,000,000; sc d >= 4: up to 2000.")] = 30,
    json_out: JsonOpt = False,
) -> None:
    """Polya's return probability p = 1 - 1/u(0) and the expected number of visits u(0) to the origin.

    sc in 3-D, bcc and fcc use closed forms (AGM, python-flint), sc in d >= 4 a rigorous Bessel
    integral, custom step sets the Fourier integral (double precision; biased 1-D nearest-neighbour
    walks exactly: p = 1 - |p_right - p_left|). Recurrent walks answer p = 1 with the reason.
    """
    from .green import polya as _polya

    walk = _walk(lattice, dim, step_set, probs)
    res = _polya(walk if step_set else walk.name, walk.dim, digits)

    def human(r):
        if r.get("recurrent"):
            return f"p = 1: {r['reason']}"
        return (f"{r['lattice']} (d = {r['dim']}), {r['digits']} digits, method: {r['method']}\n"
                f"return probability p = {r['return_probability']}\n"
                f"expected visits  u(0) = {r['expected_visits']}")

    emit(res, json_out, human)


@app.command()
def green(
    lattice: LatticeOpt = "sc", dim: DimOpt = None, step_set: StepSetOpt = None, probs: ProbsOpt = None,
    site: Annotated[str | None, typer.Option("--site", "-x", help="Site x, e.g. 1,1,0 (default origin).")] = None,
    digits: Annotated[int, typer.Option("--digits", "-D", help="Decimals for sc (d >= 3).")] = 30,
    json_out: JsonOpt = False,
) -> None:
    """Lattice Green function u(x) = sum_n P(S_n = x): the expected number of visits to x.

    sc (d >= 3): any site to --digits decimals (Bessel integral d Int prod e^-s I_{x_j}(s) ds);
    other walks: the Fourier integral to double precision.
    """
    from .green import green as _green

    walk = _walk(lattice, dim, step_set, probs)
    res = _green(walk, walk.dim, _site(site, walk.dim), digits)
    emit(res, json_out, lambda r: f"u{tuple(r['site'])} = {r['value']}" + (f"  ({r['reason']})" if r.get("reason") else
                                                                          f"  [{r.get('method', '')}]"))


@app.command()
def simulate(
    lattice: LatticeOpt = "sc", dim: DimOpt = None, step_set: StepSetOpt = None, probs: ProbsOpt = None,
    steps: Annotated[int, typer.Option("--steps", "-n", help="Number of steps n.")] = 100,
    samples: Annotated[int, typer.Option("--samples", help="Number of simulated walks.")] = 100_000,
    seed: SeedOpt = 0, json_out: JsonOpt = False,
) -> None:
    """Monte Carlo end points of n-step walks (vectorised, multinomial), compared with the exact law."""
    import numpy as np

    from .law import n_step_law
    from .law import simulate as _sim

    if samples < 1 or samples > 50_000_000:
        raise UsageError("--samples must be between 1 and 50,000,000")
    walk = _walk(lattice, dim, step_set, probs)
    X = _sim(walk, steps, samples, seed)
    res = {"lattice": walk.name, "dim": walk.dim, "steps": steps, "samples": samples, "seed": seed,
           "mean": X.mean(axis=0).tolist(), "covariance": np.atleast_2d(np.cov(X.T)).tolist(),
           "p_origin_mc": float(np.mean(np.all(X == 0, axis=1)))}
    try:
        law = n_step_law(walk, steps)
        p0 = law.prob(tuple([0] * walk.dim))
        res["p_origin_exact"] = p0
        res["p_origin_se"] = float(np.sqrt(p0 * (1 - p0) / samples))
    except UsageError:
        pass
    emit(res, json_out, lambda r: "\n".join(f"{k}: {v}" for k, v in r.items()))


@app.command()
def limit(
    omega: Annotated[float, typer.Option(help="Frequency omega.")] = 1.0,
    time: Annotated[float, typer.Option("--time", "-t", help="Time t.")] = 1.0,
    alpha: Annotated[float, typer.Option(help="Diffusion constant alpha (ds^2 = alpha dt).")] = 1.0,
    json_out: JsonOpt = False,
) -> None:
    """Article 01's continuum limit: cos(omega ds)^(t/dt) -> exp(-omega^2 alpha t/2).

    The relative error is -omega^4 alpha^2 t dt/12 to leading order (printed as "predicted")."""
    from .law import characteristic_limit

    rows = []
    for dt in (1e-1, 1e-2, 1e-3, 1e-4):
        v, lim, pred = characteristic_limit(omega, time, dt, alpha)
        rows.append({"dt": dt, "value": v, "limit": lim, "relative_error": v / lim - 1, "predicted": pred})
    emit({"omega": omega, "t": time, "alpha": alpha, "rows": rows}, json_out,
         lambda r: "\n".join(f"dt={x['dt']:<7g} {x['value']:.10f}  limit {x['limit']:.10f}  "
                             f"rel.err {x['relative_error']:+.3e}  predicted {x['predicted']:+.3e}" for x in r["rows"]))


def _harmonic_w(V) -> float | None:
    """w if V(x) = w^2 x^2 / 2 exactly (numerically), else None; 0.0 for V = 0."""
    import numpy as np

    xs = np.linspace(-3, 3, 13)
    v = V(xs)
    c = v[-1] / 9.0
    if np.allclose(v, c * xs**2, rtol=1e-13, atol=1e-13):
        return 0.0 if abs(c) < 1e-15 else (float(np.sqrt(2 * c)) if c > 0 else None)
    return None


@app.command()
def propagator(
    potential: PotentialOpt = "x**2/2",
    x0: Annotated[float, typer.Option("--x0", help="Start point.")] = 0.0,
    x1: Annotated[float, typer.Option("--x1", help="End point.")] = 1.0,
    time: Annotated[float, typer.Option("--time", "-t", help="Time T > 0.")] = 1.0,
    slices: Annotated[int, typer.Option("--slices", help="Time slices n for the grid path integral.")] = 64,
    samples: Annotated[int, typer.Option(
        "--samples", help="Brownian bridges for the Monte Carlo estimate (0: skip).")] = 20000,
    seed: SeedOpt = 0, json_out: JsonOpt = False, quiet: QuietOpt = False,
) -> None:
    """Propagator K(x0 -> x1; T) of dpsi/dt = psi''/2 - V psi: time slicing on a grid and Feynman-Kac Monte Carlo.

    For V = 0 and V = w^2 x^2/2 the closed forms (Gaussian, Mehler) are printed too.
    """
    import numpy as np

    from .pathint import feynman_kac, free_kernel, mehler_kernel
    from .potential import parse_potential

    quiet_if(quiet, json_out)
    if time <= 0 or slices < 1 or slices > 100_000:
        raise UsageError("need --time > 0 and 1 <= --slices <= 100000")
    V = parse_potential(potential)
    dt = time / slices
    span = max(abs(x0), abs(x1)) + 10 * np.sqrt(time) + 2
    h = min(0.3 * np.sqrt(dt), 0.05)
    N = int(2 * span / h) + 1
    if N > 4000:
        raise UsageError(f"the grid would need {N} points; use fewer --slices or a shorter --time")
    xs = np.linspace(-span, span, N)
    res = {"potential": potential, "x0": x0, "x1": x1, "T": time, "slices": slices,
           "sliced": f"{_at_point(xs, x1, V, x0, time, slices):.12g}"}
    w = _harmonic_w(V)
    if w == 0.0:
        res["exact"] = f"{float(free_kernel(x0, x1, time)):.12g}"
    elif w is not None:
        res["exact"] = f"{float(mehler_kernel(x0, x1, time, w)):.12g}"
    if samples:
        k, se = feynman_kac(V, x0, x1, time, n=max(slices, 100), samples=samples, seed=seed)
        res["monte_carlo"] = f"{k:.6g}"
        res["monte_carlo_se"] = f"{se:.2g}"
    emit(res, json_out, lambda r: "\n".join(f"{k}: {v}" for k, v in r.items()))


def _at_point(xs, x1, V, x0, T, n):
    """The sliced propagator at x1 exactly: last slice integrated against the kernel to x1."""
    import numpy as np

    from .pathint import free_kernel, sliced_propagator

    if n == 1:
        return float(sliced_propagator(V, x0, T, 1, np.array([x1]))[0])
    dt = T / n
    prev = sliced_propagator(V, x0, T - dt, n - 1, xs)
    h = xs[1] - xs[0]
    v1 = float(V(np.array([x1]))[0])
    last = free_kernel(xs, x1, dt) * np.exp(-dt * (V(xs) + v1) / 2)
    return float(h * np.sum(prev * last))


@app.command("ground-state")
def ground_state(
    potential: PotentialOpt = "x**4",
    dt: Annotated[float, typer.Option("--dt", help="Largest time step; halved --levels - 1 times.")] = 0.1,
    levels: Annotated[int, typer.Option("--levels", help="Time steps used in the Richardson extrapolation.")] = 4,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a PNG of V and the ground state.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Ground-state energy of H = -(1/2) d^2/dx^2 + V(x) from the long-time decay of the path integral.

    E(dt) = -ln(lambda_max)/dt for the symmetric transfer matrix, Richardson-extrapolated in dt^2;
    "error" is the last correction, "dvr_check" an independent sinc-DVR eigenvalue.
    V = x**2/2 gives 1/2; V = x**4 gives 0.667986259155777...
    """
    from .pathint import ground_state as _gs

    if not (0 < dt <= 1) or not (2 <= levels <= 8):
        raise UsageError("need 0 < --dt <= 1 and 2 <= --levels <= 8")
    g = _gs(potential, dt, levels)
    res = {"potential": potential} | g.to_dict()
    if plot is not None:
        from .plots import plot_ground_state

        plot_ground_state(g, potential, plot)
        res["plot"] = str(plot)
    emit(res, json_out, lambda r: f"E0 = {r['energy']} +- {r['error']}  (sinc-DVR check {r.get('dvr_check')})")


@app.command()
def path(
    potential: PotentialOpt = "x**2/2",
    x0: Annotated[float, typer.Option("--x0", help="Start point.")] = 0.0,
    x1: Annotated[float, typer.Option("--x1", help="End point.")] = 1.0,
    time: Annotated[float, typer.Option("--time", "-t", help="Time T > 0.")] = 1.0,
    points: Annotated[int, typer.Option("--points", help="Time points of the discrete path.")] = 200,
    json_out: JsonOpt = False,
) -> None:
    """The most probable (least-action) path x0 -> x1: minimises Int (xdot^2/2 + V(x)) dt; xddot = V'(x)."""
    from .pathint import least_action_path
    from .potential import parse_potential

    if time <= 0 or not (2 <= points <= 100_000):
        raise UsageError("need --time > 0 and 2 <= --points <= 100000")
    t, x, S = least_action_path(parse_potential(potential), x0, x1, time, points)
    res = {"potential": potential, "x0": x0, "x1": x1, "T": time, "action": f"{S:.10g}",
           "t": t[:: max(1, points // 20)].tolist(), "x": x[:: max(1, points // 20)].tolist()}
    emit(res, json_out, lambda r: f"least action S = {r['action']}\n" + "\n".join(
        f"t = {a:.4f}  x = {b:.6f}" for a, b in zip(r["t"], r["x"], strict=True)))


@app.command()
def partition(
    potential: PotentialOpt = "x**2/2",
    beta: Annotated[float, typer.Option("--beta", help="Inverse temperature beta > 0.")] = 4.0,
    slices: Annotated[int, typer.Option("--slices", "-P", help="Number of slices P.")] = 16,
    json_out: JsonOpt = False,
) -> None:
    """Discretised path-integral partition function Z_P = Tr M^P (grid transfer matrix).

    For V = w^2 x^2/2 the exact P-slice Z_P, its energy E_P and the continuum Z are printed too."""
    import numpy as np

    from .pathint import _domain, ho_partition, ho_partition_sliced, sliced_partition
    from .potential import parse_potential

    if beta <= 0 or not (1 <= slices <= 100_000):
        raise UsageError("need --beta > 0 and 1 <= --slices <= 100000")
    V = parse_potential(potential)
    lo, hi, _ = _domain(V)
    pad = 3 * np.sqrt(beta)
    xs = np.linspace(lo - pad, hi + pad, int(min(2500, max(200, (hi - lo + 2 * pad) / (0.3 * np.sqrt(beta / slices))))))
    res = {"potential": potential, "beta": beta, "P": slices, "Z_P": f"{sliced_partition(V, beta, slices, xs):.12g}"}
    w = _harmonic_w(V)
    if w:
        res["Z_P_exact"] = f"{ho_partition_sliced(beta, slices, w)[0]:.12g}"
        res["E_P_exact"] = f"{ho_partition_sliced(beta, slices, w)[1]:.12g}"
        res["Z_exact"] = f"{ho_partition(beta, w)[0]:.12g}"
    emit(res, json_out, lambda r: "\n".join(f"{k}: {v}" for k, v in r.items()))
