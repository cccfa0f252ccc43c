"""One call that answers everything about a recurrence: k, the closed form, its proof and checks.

:func:`constant` is what ``kexue recurrence constant`` prints; :func:`terms_table` is ``kexue
recurrence terms``. Both return plain dicts (JSON-ready; long numbers are strings).

>>> r = constant(Quadratic(1, 0, 1), 21, check_terms=8)
>>> r["k"], r["rule"], r["valid_from"], r["checked_terms"], r["closed_form"]
('1.50283680104975649975', 'floor', 0, 8, None)
"""

from __future__ import annotations

import time
from fractions import Fraction

from .algebraic import exact_closed_form, known, search_algebraic
from .closedform import RuleReport, _apply, rules, verify_terms
from .core import LOG2_10, Quadratic, check_digits, fmt_fraction, istr, k_decimal, require_growth

CROSS_CHECK_MAX_DIGITS = 20_000


def _value_text(a_n, g, sig_extra: int = 8) -> str:
    """a_n + g_n (= k^(2^n) - b/2) as decimal text with a few digits after the point."""
    from flint import arb, ctx

    a = Fraction(a_n)
    with ctx.workprec(max(64, int(abs(a).numerator.bit_length()) + 96)):
        v = arb(a.numerator) / a.denominator + g
        n_int = len(istr(abs(int(a)))) if abs(a) >= 1 else 1
        return v.mid().str(n_int + sig_extra, radius=False)


def _rule_value(rule: str, a_n: int, g):
    from flint import arb, ctx

    with ctx.workprec(max(64, abs(a_n).bit_length() + 96)):
        return _apply(rule, arb(a_n) + g)


def constant(q: Quadratic, digits: int = 30, check_terms: int = 20, method: str = "auto",
             recognise: bool = True, max_term_digits: int = 250_000) -> dict:
    """k to ``digits`` significant digits (all certified) and, for integer sequences, the closed form.

    ``method``: ``root`` (M square roots, fastest), ``series`` (the article's sum of logarithms) or
    ``auto`` (both, compared digit for digit, up to 20,000 digits; the root alone above) or ``both``.
    Raises :class:`~kexue.recurrence.core.NotGrowingError` with an explanation when the sequence does
    not grow.
    """
    t0 = time.perf_counter()
    check_digits(digits)
    if method not in ("auto", "root", "series", "both"):
        from ..errors import UsageError

        raise UsageError(f"--method must be auto, root, series or both, got {method!r}")
    if check_terms < 0 or check_terms > 64:
        from ..errors import UsageError

        raise UsageError(f"--check-terms must be between 0 and 64, got {check_terms}")
    g = require_growth(q)
    notes: list[str] = []
    if q.a0 <= 0:
        notes.append("a_0 <= 0 is outside the article's hypothesis (a_0 > 0); the terms are positive and grow "
                     f"from n = {g.regime_from}, so k = lim a_n^(2^-n) still exists, but the closed form can only "
                     "start where the terms are positive")
    if q.c_red < 0:
        notes.append("c' = c + b/2 - b^2/4 < 0: a_n + b/2 < k^(2^n), so the closed form rounds up (ceiling)")
    use = method
    if method == "auto":
        use = "both" if digits <= CROSS_CHECK_MAX_DIGITS else "root"
    tk = time.perf_counter()
    k = k_decimal(q, digits, "series" if use == "series" else "root", g)
    k_seconds = time.perf_counter() - tk
    cross = None
    if use == "both":
        k2 = k_decimal(q, digits, "series", g)
        if k2 != k:
            raise RuntimeError(f"the series and the direct root disagree for {q.describe()}: {k2[:40]} vs {k[:40]}")
        cross = f"the series and the direct root agree on all {digits} digits"
    out = {"recurrence": q.describe(), "a0": fmt_fraction(q.a0), "b": fmt_fraction(q.b), "c": fmt_fraction(q.c),
           "k": k, "digits": digits, "rule": None, "valid_from": None, "formula": None, "checked_terms": 0,
           "closed_form": None}
    # --- recognition
    cf = exact_closed_form(q)
    if cf is None and recognise:
        text = k if digits >= 130 else k_decimal(q, 130, "root", g)
        cf = search_algebraic(text)
    if cf is not None:
        out["closed_form"] = cf.expression
        out["closed_form_detail"] = cf.to_dict()
    kn = known(q)
    if kn:
        out["known_as"] = kn["name"]
        if kn["sqrt"]:
            out["sqrt_k"] = _sqrt_digits(q, digits, g)
    # --- the integer closed form
    if not q.integral:
        notes.append("a_0, b, c are not all integers, so the terms are not integers: k and a_n ~ k^(2^n) - b/2 are "
                     "defined, but no integer closed form (floor/nearest/ceiling) is claimed")
        rep = None
    else:
        rep = rules(q, max(check_terms, 1), g)
        ver = verify_terms(q, rep, check_terms, max_term_digits, g) if check_terms else None
        out.update(rule=rep.rule, valid_from=rep.valid_from, formula=rep.formula,
                   checked_terms=ver.checked_terms if ver else 0)
        out["rules"] = rep.per_rule
        out["proved_for_all_n_from"] = rep.proved_beyond
        out["first_failure"] = _first_failure(q, rep)
        if ver is not None:
            out["verification"] = {"agree": len(ver.agree), "disagree_at": ver.disagree,
                                   "consistent_with_gaps": ver.consistent,
                                   "k_digits_used": ver.precision_digits,
                                   "largest_term_digits": ver.largest_term_digits,
                                   "seconds": round(ver.seconds, 3)}
            if ver.note:
                notes.append(ver.note)
            if not ver.consistent:
                raise RuntimeError(f"direct check disagrees with the gap analysis for {q.describe()}: "
                                   f"{ver.disagree} vs {rep.per_rule[ver.rule]['fails_at']}")
    out.update({"shift": fmt_fraction(q.shift), "x0": fmt_fraction(q.x0), "c_reduced": fmt_fraction(q.c_red),
                "growth_regime_from": g.regime_from, "method": use, "cross_check": cross,
                "k_seconds": round(k_seconds, 4), "notes": notes, "seconds": round(time.perf_counter() - t0, 4)})
    return out


def _sqrt_digits(q: Quadratic, digits: int, g) -> str:
    from .core import decimal_truncated, k_ball

    bits = int(digits * LOG2_10) + 40
    for _ in range(4):
        from flint import ctx

        with ctx.workprec(bits + 10):
            s = decimal_truncated(k_ball(q, bits, "root", g).sqrt(), digits)
        if s is not None:
            return s
        bits += bits // 4
    raise RuntimeError("could not certify sqrt(k)")


def _first_failure(q: Quadratic, rep: RuleReport) -> dict | None:
    if rep.rule is None or not rep.per_rule[rep.rule]["fails_at"]:
        return None
    n = rep.per_rule[rep.rule]["fails_at"][0]
    a_n = q.terms(n + 1)[-1]
    gball = rep.gap_balls[n]
    return {"n": n, "a_n": istr(a_n), "value": _value_text(a_n, gball),
            "rule_gives": istr(_rule_value(rep.rule, a_n, gball)), "gap": rep.gaps[n]}


def terms_table(q: Quadratic, n: int = 10, full_digits: int = 100_000) -> dict:
    """The first ``n`` terms beside k^(2^n) - b/2, the gap, and which rules reproduce each term.

    Terms with more than ``full_digits`` digits are shown approximately (``a_n_approx``).

    >>> t = terms_table(Quadratic(1, 0, 1), 5)
    >>> [(r["n"], r["a_n"], r["value"], r["floor"]) for r in t["rows"][:3]]
    [(0, '1', '1.50283680', True), (1, '2', '2.25851845', True), (2, '5', '5.10090559', True)]
    """
    from flint import ctx, fmpz

    from .closedform import _ok, gaps

    if n < 1 or n > 64:
        from ..errors import UsageError

        raise UsageError(f"-n must be between 1 and 64, got {n}")
    g = require_growth(q)
    balls = gaps(q, n - 1, g)
    integral = q.integral
    if integral:
        a, b, c = fmpz(int(q.a0)), fmpz(int(q.b)), fmpz(int(q.c))
    else:
        a = q.a0
    rows = []
    for i in range(n):
        row: dict = {"n": i}
        size = (a.bit_length() if integral else a.numerator.bit_length() + a.denominator.bit_length()) \
            if a is not None else None
        if a is not None and size / LOG2_10 <= full_digits:
            av = int(a) if integral else a
            row.update(a_n=istr(av) if integral else fmt_fraction(av),
                       a_n_digits=len(istr(abs(av))) if integral else None, value=_value_text(av, balls[i]))
            a = a * (a + b) + c if integral else q.step(a)
        else:
            a = None
            with ctx.workprec(128):
                x = _approx(q, i)
                row.update(a_n=None, a_n_digits=int(float(x.log().mid()) / 2.302585092994046) + 1,
                           a_n_approx=x.str(15, radius=False), value=None)
        row["gap"] = balls[i].mid().str(6, radius=False) if not balls[i].is_zero() else "0"
        if integral:
            with ctx.workprec(160):
                for rule in ("floor", "nearest", "ceiling"):
                    row[rule] = _ok(rule, balls[i])
        rows.append(row)
    out = {"recurrence": q.describe(), "integer_terms": integral, "shift": fmt_fraction(q.shift), "rows": rows,
           "rule": None, "valid_from": None, "formula": None}
    if integral:
        rep = rules(q, n, g)
        out.update(rule=rep.rule, valid_from=rep.valid_from, formula=rep.formula)
    return out


def _approx(q: Quadratic, n: int):
    from .core import _arb_q

    x = _arb_q(q.x0)
    c = _arb_q(q.c_red)
    for _ in range(n):
        x = x * x + c
    return x - _arb_q(q.shift)
