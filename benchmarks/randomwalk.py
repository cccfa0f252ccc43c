"""Benchmark of kexue.randomwalk against the targets of issue 4 and the anchors (anchors-math.md).

Run: python benchmarks/randomwalk.py [--quick]
Prints a table and writes benchmarks/results/randomwalk.json. Speeds are ratios to baselines
measured in the same run (mpmath closed forms / quadrature, scipy binomial pmf, sinc-DVR).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kexue.randomwalk.reproduce import P_ANCHOR  # noqa: E402  (anchors live once, in reproduce)
from kexue.randomwalk.reproduce import X4_ENERGY as X4  # noqa: E402


def best_of(f, repeat=3):
    ts, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def agree(ours: str, ref: str) -> bool:
    from mpmath import mp, mpf

    mp.dps = len(ref) + 10
    return ours[: len(ref) - 1] == ref[: len(ref) - 1] and abs(mpf(ours) - mpf(ref)) <= mpf(10) ** (2 - len(ref))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller baselines (for a smoke run)")
    ap.parse_args()
    sys.set_int_max_str_digits(0)
    import flint
    import mpmath
    import scipy

    from kexue.randomwalk.green import polya, sc3_gamma, truncated_digits
    from kexue.randomwalk.lattice import sc
    from kexue.randomwalk.law import n_step_law
    from kexue.randomwalk.pathint import dvr_energy, ground_state

    rows, res = [], {}

    # 1. p(3) to 100,000 digits (target < 1 s); baseline mpmath Gamma form at 1000 digits and mpmath AGM at 100k
    t_agm, r = best_of(lambda: polya("sc", 3, digits=100_000))
    ok_spot = r["return_probability"][9992:10002] == "2035315963"
    t_1k, r1k = best_of(lambda: polya("sc", 3, digits=1000))

    def mp_gamma(D):
        mpmath.mp.dps = D + 15
        g = mpmath.gamma(mpmath.mpf(1) / 24) * mpmath.gamma(mpmath.mpf(5) / 24) * \
            mpmath.gamma(mpmath.mpf(7) / 24) * mpmath.gamma(mpmath.mpf(11) / 24)
        return 1 - 1 / (mpmath.sqrt(6) / (32 * mpmath.pi**3) * g)

    def mp_agm(D):
        mpmath.mp.dps = D + 15
        s2, s3, s6 = mpmath.sqrt(2), mpmath.sqrt(3), mpmath.sqrt(6)
        k = (2 - s3) * (s3 - s2)
        return 1 - 1 / (12 / mpmath.pi**2 * (18 + 12 * s2 - 10 * s3 - 7 * s6) * mpmath.ellipk(k * k) ** 2)

    t_mpg, vg = best_of(lambda: mp_gamma(1000), 1)
    t_mpa, va = best_of(lambda: mp_agm(100_000), 1)

    def truncated(v, D):  # the D-decimal truncation of an mpmath value, as digits
        mpmath.mp.dps = D + 15
        return str(int(mpmath.floor(v * mpmath.mpf(10) ** D)))

    same_1k = truncated(vg, 1000) == r1k["return_probability"][2:]
    same_100k = truncated(va, 100_000) == r["return_probability"][2:]
    res["p3_100k"] = {"seconds": t_agm, "target_s": 1.0, "digits_9991_10000": r["return_probability"][9992:10002],
                      "anchor_9991_10000": "2035315963", "spot_ok": ok_spot,
                      "agrees_with_mpmath_agm_100k": bool(same_100k), "mpmath_agm_100k_s": t_mpa,
                      "speedup_vs_mpmath_agm_100k": t_mpa / t_agm,
                      "p3_1000_s": t_1k, "mpmath_gamma_1000_s": t_mpg, "speedup_vs_mpmath_gamma_1000": t_mpg / t_1k,
                      "agrees_with_mpmath_gamma_1000": bool(same_1k)}
    rows.append(["p(3), 100,000 digits", f"{t_agm:.3f} s", "< 1 s", f"x{t_mpa / t_agm:.1f} vs mpmath AGM",
                 "ok" if ok_spot and same_100k and t_agm < 1 else "MISS"])
    rows.append(["p(3), 1000 digits", f"{t_1k * 1e3:.2f} ms", "", f"x{t_mpg / t_1k:.0f} vs mpmath Gamma form",
                 "ok" if same_1k else "MISS"])
    # Gamma form in flint at 10,000 digits equals the AGM digits
    from flint import ctx

    tg, ug = best_of(lambda: sc3_gamma(10_000), 1)
    ctx.dps = 10_020
    res["sc3_gamma_vs_agm_10k_equal"] = truncated_digits(ug, 10_000) == polya("sc", 3, digits=10_000)["expected_visits"]

    # 2. p(d), d = 4..8, 50 digits (target < 5 s each), baseline: mpmath quad of the same Bessel integral (d = 4)
    res["pd_50"] = {}
    for d in range(4, 9):
        t, r = best_of(lambda d=d: polya("sc", d, digits=50), 1)
        ok = agree(r["return_probability"], P_ANCHOR[d])
        res["pd_50"][d] = {"seconds": t, "p": r["return_probability"], "anchor": P_ANCHOR[d], "agrees": ok}
        rows.append([f"p({d}), 50 digits", f"{t:.2f} s", "< 5 s", "", "ok" if ok and t < 5 else "MISS"])
    for d in (12, 20):
        t, r = best_of(lambda d=d: polya("sc", d, digits=50), 1)
        res["pd_50"][d] = {"seconds": t, "p": r["return_probability"]}
        rows.append([f"p({d}), 50 digits", f"{t:.2f} s", "< 5 s", "", "ok" if t < 5 else "MISS"])

    def mp_bessel(d, D=50):
        mpmath.mp.dps = D + 15
        S = math.ceil((D + 15) * math.log(10) / 2 + 5)
        body = mpmath.quad(lambda s: (mpmath.exp(-s) * mpmath.besseli(0, s)) ** d, mpmath.linspace(0, S, 9))
        K = 2 * S
        a = [mpmath.mpf(1)]
        for k in range(1, K + 1):
            a.append(-a[-1] * (0 - (2 * k - 1) ** 2) / (8 * k))
        ser = [mpmath.mpf(1)] + [mpmath.mpf(0)] * K
        for _ in range(d):
            ser = [mpmath.fsum(ser[i] * a[k - i] for i in range(k + 1)) for k in range(K + 1)]
        tail = mpmath.fsum(ser[k] * mpmath.mpf(S) ** (1 - d / mpmath.mpf(2) - k) / (d / mpmath.mpf(2) + k - 1)
                           for k in range(K + 1)) * (2 * mpmath.pi) ** (-d / mpmath.mpf(2))
        return 1 - 1 / (d * (body + tail))

    t_mb, vb = best_of(lambda: mp_bessel(4), 1)
    res["pd_50"]["mpmath_quad_baseline_d4_s"] = t_mb
    res["pd_50"]["speedup_vs_mpmath_quad_d4"] = t_mb / res["pd_50"][4]["seconds"]
    mpmath.mp.dps = 60
    res["pd_50"]["mpmath_quad_d4_agrees"] = bool(abs(vb - mpmath.mpf(res["pd_50"][4]["p"])) < mpmath.mpf(10) ** -49)
    rows.append(["  baseline mpmath quad d=4", f"{t_mb:.2f} s", "",
                 f"flint x{t_mb / res['pd_50'][4]['seconds']:.1f} faster", "ok" if res["pd_50"]["mpmath_quad_d4_agrees"]
                 else "MISS"])

    # 3. 1-D law, n = 10^6 (target < 1 s, max error < 1e-12)
    n = 10**6
    t_law, law = best_of(lambda: n_step_law(sc(1), n))
    from scipy.stats import binom

    k = np.arange(n + 1)
    t_binom, ref = best_of(lambda: binom.pmf(k, n, 0.5), 1)
    max_err = float(np.abs(law.pmf[::2] - ref).max())
    spot = max(abs(law.prob((x,)) - math.comb(n, (n + x) // 2) / 2**n) for x in (0, 2, 1000, -3000))
    res["law_1e6"] = {"seconds": t_law, "target_s": 1.0, "max_abs_err_vs_scipy_binom": max_err,
                      "max_abs_err_vs_exact_integers_spot": spot, "target_err": 1e-12,
                      "scipy_binom_pmf_s": t_binom, "ratio_to_scipy_binom": t_binom / t_law}
    rows.append(["1-D law, n = 10^6", f"{t_law:.3f} s", "< 1 s", f"x{t_binom / t_law:.2f} vs scipy binom.pmf",
                 "ok" if t_law < 1 and max_err < 1e-12 else "MISS"])
    rows.append(["  max |error| (all k / exact spots)", f"{max_err:.1e} / {spot:.1e}", "< 1e-12", "", ""])

    # 4. ground state of x^4 to 1e-8 (target < 5 s); baseline sinc-DVR on the same grid
    t_gs, g = best_of(lambda: ground_state("x**4", check=False))
    t_dvr, e_dvr = best_of(lambda: dvr_energy("x**4", g.x))
    res["x4"] = {"seconds": t_gs, "target_s": 5.0, "energy": g.energy, "error_vs_literature": abs(g.energy - X4),
                 "error_estimate": g.error, "anchor": X4, "dvr_same_grid_s": t_dvr, "dvr_energy": e_dvr}
    rows.append(["E0 of V = x^4", f"{t_gs:.3f} s", "< 5 s", f"err {abs(g.energy - X4):.1e}",
                 "ok" if abs(g.energy - X4) < 1e-8 and t_gs < 5 else "MISS"])
    dw_t, dw = best_of(lambda: ground_state("(x**2-1)**2"))
    res["double_well"] = {"seconds": dw_t, "energy": dw.energy, "dvr": dw.check}

    # 5. custom (Fourier) Green function for fcc, double precision vs closed form
    from kexue.randomwalk.green import fourier_green
    from kexue.randomwalk.lattice import fcc

    t_f, fr = best_of(lambda: fourier_green(fcc()), 1)
    exact = float(polya("fcc", digits=20)["expected_visits"])
    res["fcc_fourier"] = {"seconds": t_f, "value": fr["value"], "error_estimate": fr["error"],
                          "abs_error_vs_closed_form": abs(fr["value"] - exact)}
    rows.append(["u_fcc(0) by Fourier (custom)", f"{t_f:.2f} s", "", f"err {abs(fr['value'] - exact):.1e}", ""])

    w = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{w}}  {'measured':>14}  {'target':>8}  {'comparison':<34} status")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:>14}  {r[2]:>8}  {r[3]:<34} {r[4]}")
    load = os.getloadavg()
    res["machine"] = {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                      "numpy": np.__version__, "scipy": scipy.__version__, "mpmath": mpmath.__version__,
                      "mpmath_backend": mpmath.libmp.BACKEND, "python-flint": flint.__version__,
                      "loadavg_1_5_15": load, "note": "shared machine, other jobs running; times are best of 1-3 runs"}
    res["anchors"] = "spec/anchors/anchors-math.md: OEIS A086230/A242812/A242814-6 digits, 10k-digit spot digits, "\
                     "flint AGM 53 ms at 100k digits, x^4 energy 0.667986259155777"
    out = ROOT / "benchmarks" / "results" / "randomwalk.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1, default=str))
    tmp.replace(out)
    print(f"wrote {out} (load average {load[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
