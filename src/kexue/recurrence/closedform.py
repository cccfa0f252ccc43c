"""Which integer map of k^(2^n) - b/2 gives a_n (floor, nearest, ceiling), from which n, and the proof.

Write g_n = k^(2^n) - x_n for the gap (x_n = a_n + b/2). For integer terms

    a_n = floor(k^(2^n) - b/2)    iff  0 <= g_n < 1,
    a_n = nearest(k^(2^n) - b/2)  iff  -1/2 <= g_n < 1/2   (nearest(y) = floor(y + 1/2)),
    a_n = ceil(k^(2^n) - b/2)     iff  -1 < g_n <= 0.

In the growth regime (x_n >= 1 + sqrt(1 + |c'|)) g_n = x_n expm1(eps_n) with
eps_n = sum_{m >= n} 2^(n-m-1) ln(1 + c'/x_m^2): its sign is the sign of c' and
|g_n| <= x_n expm1((4/7) u_n/(1 - u_n)), u_n = |c'|/x_n^2, a bound that at least halves at each step.
So g_n is computed to a few dozen bits for every n (no high precision needed), and once the bound
is below 1/2 the rule is proved for all larger n. Independently, :func:`verify_terms` computes k to
the precision each check needs and compares floor/round/ceil(k^(2^n) - b/2) with the exact
big-integer a_n.

>>> from kexue.recurrence.core import Quadratic
>>> r = rules(Quadratic(1, 0, 1))
>>> r.rule, r.valid_from, r.per_rule["nearest"]["valid_from"]
('floor', 0, 1)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

from .core import LOG2_10, Growth, Quadratic, _arb_q, fmt_fraction, k_ball, require_growth, tail_bound

RULES = ("floor", "nearest", "ceiling")


def _gap_in_regime(q: Quadratic, xs: list, n: int):
    """g_n for n >= regime from the tail series (relative accuracy ~ the working precision)."""
    from flint import arb

    c = _arb_q(q.c_red)
    eps = arb(0)
    m = n
    while True:
        while m + 1 >= len(xs):
            xs.append(xs[-1] * xs[-1] + c)
        eps = eps + (c / (xs[m] * xs[m])).log1p() / arb(2) ** (m - n + 1)
        m += 1
        tb = tail_bound(abs(c) / (xs[m] * xs[m]), m) * arb(2) ** n  # the rest of the sum, rescaled by 2^n
        if m - n > 60 or (not eps.contains(0) and (tb / abs(eps)).upper() < arb(2) ** -70):
            up = tb.upper()
            return xs[n] * (eps + up.union(-up)).expm1()


def _gap_bound(q: Quadratic, x, n: int = 0):
    """Rigorous upper bound of |g_n| in the growth regime (x = x_n as arb)."""
    from flint import arb

    u = abs(_arb_q(q.c_red)) / (x * x)
    return (x * (arb(4) / 7 * u / (1 - u)).expm1()).upper()


def _ok(rule: str, g) -> bool | None:
    """Whether the rule gives a_n for gap ball g: True, False, or None (undecided)."""
    lo, hi = {"floor": (0, 1), "nearest": (Fraction(-1, 2), Fraction(1, 2)), "ceiling": (-1, 0)}[rule]
    lo_a, hi_a = _arb_q(Fraction(lo)), _arb_q(Fraction(hi))
    if rule == "ceiling":  # -1 < g <= 0
        if g > lo_a and g <= hi_a:
            return True
        if g <= lo_a or g > hi_a:
            return False
        return None
    if g >= lo_a and g < hi_a:  # lo <= g < hi
        return True
    if g < lo_a or g >= hi_a:
        return False
    return None


@dataclass
class RuleReport:
    """The closed form's rule and range of validity (for integer sequences)."""

    rule: str | None
    valid_from: int | None
    formula: str | None
    per_rule: dict
    proved_beyond: int | None  # the rule is proved for every n >= this (bound argument)
    gaps: list  # g_n as short strings, n = 0 .. horizon
    gap_balls: list = field(repr=False, default_factory=list)
    horizon: int = 0


def gaps(q: Quadratic, n_max: int, growth_info: Growth | None = None, prec: int = 160) -> list:
    """g_n = k^(2^n) - (a_n + b/2) for n = 0 .. n_max as arb balls (relative accuracy ~ 100 bits).

    >>> from kexue.recurrence.core import Quadratic
    >>> g = gaps(Quadratic(1, 0, 1), 5)
    >>> [round(float(v.mid()), 7) for v in g[3:]]
    [0.0192379, 0.0007386, 1.1e-06]
    """
    from flint import ctx

    g = growth_info or require_growth(q)
    start = g.regime_from
    out = []
    with ctx.workprec(prec):
        c = _arb_q(q.c_red)
        x = _arb_q(q.x0)
        xs = [x]
        for _ in range(max(n_max, start) + 2):
            xs.append(xs[-1] * xs[-1] + c)
        if q.c_red == 0:
            return [abs(xs[n]) - xs[n] for n in range(n_max + 1)]
    # before the regime: from k directly, with precision for the size of the terms
    if start > 0:
        with ctx.workprec(prec):
            big = max(float((abs(xs[n]) + 1).upper().log().mid()) for n in range(min(start, n_max + 1))) / math.log(2)
        p = prec + 2 * max(0, int(big)) + start + 64
        for _attempt in range(4):
            k = k_ball(q, p, "root", g)
            with ctx.workprec(p + 64):
                pre = []
                y = k
                c = _arb_q(q.c_red)
                x = _arb_q(q.x0)  # the orbit in balls (exact for integer terms at this precision)
                for _n in range(min(start, n_max + 1)):
                    pre.append(y - x)
                    y = y * y
                    x = x * x + c
            if all(v.rel_accuracy_bits() > 40 or v.is_zero() for v in pre):
                break
            p = 2 * p
        out.extend(pre)
    with ctx.workprec(prec):
        for n in range(start, n_max + 1):
            out.append(_gap_in_regime(q, xs, n))
    return out


def _fmt_gap(v) -> str:
    if v.is_zero():
        return "0"
    m = float(v.mid())
    return f"{m:.6g}" if m != 0 else v.str(5)


def rules(q: Quadratic, horizon: int = 20, growth_info: Growth | None = None) -> RuleReport:
    """Decide floor / nearest / ceiling for an integer sequence, with ``valid_from`` and failures.

    Gaps are computed for n = 0 .. max(horizon - 1, the first n where the bound proves the rule
    forever); beyond that the bound argument covers every n.

    >>> from kexue.recurrence.core import Quadratic
    >>> rules(Quadratic(4, 0, -1)).rule, rules(Quadratic(1, 0, 3)).valid_from
    ('ceiling', 1)
    """
    from flint import arb, ctx

    g = growth_info or require_growth(q)
    cr = q.c_red
    start = g.regime_from
    # the first n >= start whose bound is < 1/2 (then both nearest and the one-sided rule hold onwards)
    with ctx.workprec(160):
        c = _arb_q(cr)
        x = _arb_q(q.x0)
        n = 0
        proved = None
        while True:
            if n >= start and (cr == 0 or _gap_bound(q, x) < arb(1) / 2):
                proved = n
                break
            x = x * x + c
            n += 1
    h = max(horizon - 1, proved)
    balls = gaps(q, h, g)
    per_rule = {}
    with ctx.workprec(160):
        for rule in RULES:
            ok = [_ok(rule, v) for v in balls]
            if cr == 0:
                beyond = True
            elif rule == "nearest":
                beyond = True
            else:
                beyond = (rule == "floor") == (cr > 0)
            fails = [i for i, v in enumerate(ok) if v is False]
            undecided = [i for i, v in enumerate(ok) if v is None]
            if not beyond:
                vf = None
            else:
                vf = 0
                for i, v in enumerate(ok):
                    if v is not True:
                        vf = i + 1
            per_rule[rule] = {"valid_from": vf, "fails_at": fails[:50], "undecided": undecided,
                              "holds_for_all_large_n": beyond}
    prefer = ["ceiling", "nearest", "floor"] if cr < 0 else ["floor", "nearest", "ceiling"]
    cands = [r for r in prefer if per_rule[r]["valid_from"] is not None]
    best = min(cands, key=lambda r: (per_rule[r]["valid_from"], prefer.index(r))) if cands else None
    vf = per_rule[best]["valid_from"] if best else None
    return RuleReport(best, vf, formula(q, best) if best else None, per_rule, proved,
                      [_fmt_gap(v) for v in balls], balls, h)


def formula(q: Quadratic, rule: str) -> str:
    """The closed form as text, e.g. ``a_n = floor(k^(2^n) + 1/2)``."""
    s = q.shift
    inner = "k^(2^n)" + ("" if s == 0 else (f" - {fmt_fraction(s)}" if s > 0 else f" + {fmt_fraction(-s)}"))
    return f"a_n = {rule}({inner})"


# ----------------------------------------------------------------------------- direct verification
@dataclass
class Verification:
    """floor/nearest/ceiling(k^(2^n) - b/2) compared with the exact a_n, k at the precision each n needs."""

    rule: str
    checked_terms: int
    agree: list[int]
    disagree: list[int]
    consistent: bool  # the disagreements are exactly the n the gap analysis predicts
    precision_digits: int
    largest_term_digits: int
    seconds: float
    note: str = ""


def _apply(rule: str, y):
    from flint import arb

    if rule == "floor":
        f = y.floor()
    elif rule == "ceiling":
        f = y.ceil()
    else:
        f = (y + arb(1) / 2).floor()
    return int(f.unique_fmpz()) if f.is_exact() else None


def verify_terms(q: Quadratic, report: RuleReport, n_terms: int = 20, max_term_digits: int = 250_000,
                 growth_info: Growth | None = None) -> Verification:
    """Check rule(k^(2^n) - b/2) == a_n against the exact terms for n < ``n_terms``.

    The precision of k is chosen per check: a_n has L bits and the gap g_n sits at distance d from the
    rule's boundary, so k needs about L + n + log2(1/d) bits (twice the digits of a_n in the usual case).
    Terms with more than ``max_term_digits`` digits are not checked (the bound argument covers them).

    >>> from kexue.recurrence.core import Quadratic
    >>> q = Quadratic(1, 0, 1)
    >>> v = verify_terms(q, rules(q), 12)
    >>> v.checked_terms, v.disagree, v.consistent
    (12, [], True)
    """
    from flint import arb, ctx, fmpq, fmpz

    t0 = time.perf_counter()
    g = growth_info or require_growth(q)
    rule = report.rule or "floor"
    a = fmpz(int(q.a0))
    b, c = fmpz(int(q.b)), fmpz(int(q.c))
    terms = []
    note = ""
    for n in range(n_terms):
        if len(terms) and a.bit_length() / LOG2_10 > max_term_digits:
            note = (f"terms from n = {n} on have more than {max_term_digits:,} digits and were not checked "
                    "directly; the gap bound covers them")
            break
        terms.append(a)
        a = a * (a + b) + c
    n_chk = len(terms)
    # precision: bits of x_n + n + log2(1 / distance of g_n to the rule's boundary) + guard
    need = 64
    with ctx.workprec(160):
        for n, v in enumerate(report.gap_balls[:n_chk]):
            lo, hi = {"floor": (0, 1), "nearest": (-0.5, 0.5), "ceiling": (-1, 0)}[rule]
            d = min(abs(v - lo), abs(hi - v))
            dist_bits = 0 if d.is_zero() or not d > 0 else max(0.0, -float(d.lower().log().mid()) / math.log(2))
            need = max(need, int(abs(terms[n]).bit_length() + n + dist_bits + 64))
    expected_fail = set(report.per_rule[rule]["fails_at"])
    agree, disagree = [], []
    shift = fmpq(q.shift.numerator, q.shift.denominator)
    if q.c_red == 0:  # k rational, k^(2^n) exact: compare exactly
        x = fmpq(abs(q.x0).numerator, abs(q.x0).denominator)
        for n in range(n_chk):
            val = x - shift
            ok = val.floor() == terms[n] if rule == "floor" else (
                val.ceil() == terms[n] if rule == "ceiling" else (val + fmpq(1, 2)).floor() == terms[n])
            (agree if ok else disagree).append(n)
            x = x * x
    else:
        for _attempt in range(3):
            k = k_ball(q, need, "root", g)
            agree, disagree, undecided = [], [], False
            with ctx.workprec(need + 64):
                y = k
                for n in range(n_chk):
                    got = _apply(rule, y - arb(shift))
                    if got is None:
                        undecided = True
                        break
                    (agree if got == terms[n] else disagree).append(n)
                    y = y * y
            if not undecided:
                break
            need = need * 2
    consistent = set(disagree) == {n for n in expected_fail if n < n_chk} and len(agree) + len(disagree) == n_chk
    return Verification(rule, len(agree) + len(disagree), agree, disagree, consistent, int(need / LOG2_10),
                        int(terms[-1].bit_length() / LOG2_10) + 1 if terms else 0, time.perf_counter() - t0, note)
