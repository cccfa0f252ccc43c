"""Benchmark for the recurrence topic: k(1, 1) to 10^3..10^6 digits, the 20-term check, OEIS agreement.

Run: ``python benchmarks/recurrence.py`` (add ``--full`` for the series and the mpmath baseline at 10^6
digits, which take minutes). Speed is reported as a ratio against mpmath's direct root
x_M^(2^-M) (with gmpy2), measured in the same run. Writes benchmarks/results/recurrence.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kexue.recurrence.closedform import rules, verify_terms  # noqa: E402
from kexue.recurrence.core import Quadratic, k_decimal  # noqa: E402
from kexue.utils import atomic_write_json  # noqa: E402


def mpmath_direct_root(digits: int) -> str:
    """Baseline: mpmath, k = x_M^(2^-M) with x_M^2 > 10^(digits + 20) (the anchors' 'mpmath direct root')."""
    import mpmath

    with mpmath.workdps(digits + 20):
        x, m = 1, 0
        while x * x < 10 ** (digits + 20):
            x, m = x * x + 1, m + 1
        k = mpmath.exp(mpmath.log(mpmath.mpf(x)) / 2 ** m)
        return mpmath.nstr(k, digits + 10, strip_zeros=False)


def best_of(fn, *args, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="also the series and mpmath at 10^6 digits")
    args = ap.parse_args()
    import flint
    import gmpy2
    import mpmath

    q = Quadratic(1, 0, 1)
    rows = []
    for d in (1_000, 10_000, 100_000, 1_000_000):
        rep = 5 if d <= 100_000 else 1
        t_root, k_root = best_of(k_decimal, q, d, "root", repeat=rep)
        t_ser = k_ser = t_mp = None
        if d <= 100_000 or args.full:
            t_ser, k_ser = best_of(k_decimal, q, d, "series", repeat=rep)
            t_mp, k_mp = best_of(mpmath_direct_root, d, repeat=rep)
            assert k_mp[:d - 2] == k_root[:d - 2], "mpmath baseline disagrees"
        if k_ser is not None:
            assert k_ser == k_root, "series and root disagree"
        rows.append({"digits": d, "root_s": round(t_root, 4), "series_s": None if t_ser is None else round(t_ser, 4),
                     "mpmath_direct_root_s": None if t_mp is None else round(t_mp, 4),
                     "speedup_root_vs_mpmath": None if t_mp is None else round(t_mp / t_root, 1),
                     "series_agrees": k_ser == k_root if k_ser is not None else None,
                     "last_10_digits": k_root[-10:]})
        print(f"{d:>9,} digits  root {t_root:8.4f} s   series {'-' if t_ser is None else f'{t_ser:8.4f}'} s   "
              f"mpmath {'-' if t_mp is None else f'{t_mp:8.4f}'} s   "
              f"ratio {'-' if t_mp is None else f'{t_mp / t_root:6.1f}x'}")

    # the closed form verified on the first 20 (n = 0..19) and 21 (n = 0..20, a_20 ~ 185,000 digits) terms
    checks = []
    for n in (20, 21):
        t = time.perf_counter()
        rep = rules(q, n)
        v = verify_terms(q, rep, n, max_term_digits=400_000)
        secs = time.perf_counter() - t
        checks.append({"terms": n, "seconds": round(secs, 3), "all_agree": not v.disagree and v.consistent,
                       "largest_term_digits": v.largest_term_digits, "k_digits_used": v.precision_digits})
        print(f"closed form checked on {n} terms: {secs:.3f} s (a_{n - 1} has {v.largest_term_digits:,} digits, "
              f"k to {v.precision_digits:,} digits), all agree: {not v.disagree and v.consistent}")

    # OEIS agreement at 10,000 digits (decimals 9,991-10,000 as quoted in the anchors)
    k10 = k_decimal(q, 10_001)
    from kexue.recurrence.analysis import _sqrt_digits
    from kexue.recurrence.core import growth

    syl = Quadratic(2, -1, 1)
    e10 = _sqrt_digits(syl, 10_001, growth(syl))
    oeis = {"A077496_decimals_9991_10000": k10[2 + 9990: 2 + 10_000],
            "A077496_expected": "9919446154",
            "A076393_decimals_9991_10000": e10[2 + 9990: 2 + 10_000],
            "A076393_expected": "9131027080"}
    oeis["agree"] = (oeis["A077496_decimals_9991_10000"] == oeis["A077496_expected"]
                     and oeis["A076393_decimals_9991_10000"] == oeis["A076393_expected"])
    print(f"OEIS A077496 / A076393 decimals 9991-10000 agree: {oeis['agree']}")

    out = {"topic": "recurrence", "k": rows, "closed_form_check": checks, "oeis": oeis,
           "targets": {"k_100000_digits_under_1s": rows[2]["root_s"] < 1.0,
                       "k_1000000_digits_seconds": rows[3]["root_s"],
                       "20_terms_under_10s": checks[0]["seconds"] < 10 and checks[0]["all_agree"]},
           "anchor": "anchors-math.md 2.3: mpmath direct root 0.44 s and flint series ~1 s at 100,000 digits; "
                     "OEIS A077496 (b-file) and A076393",
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "python-flint": flint.__version__,
                       "mpmath": mpmath.__version__, "mpmath_backend": mpmath.libmp.BACKEND,
                       "gmpy2": gmpy2.version(), "load_average": os.getloadavg(), "platform": platform.platform()}}
    path = atomic_write_json(ROOT / "benchmarks" / "results" / "recurrence.json", out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
