"""The rule (floor / nearest / ceiling), valid_from, the gap analysis and the exact-term check."""

import mpmath
import pytest

from kexue.recurrence.algebraic import exact_closed_form, known, search_algebraic
from kexue.recurrence.closedform import gaps, rules, verify_terms
from kexue.recurrence.core import Quadratic, istr, k_decimal
from kexue.recurrence.fibonacci import fibonacci_warmup


def brute_rules(q: Quadratic, n_terms: int, digits: int):
    """Independent: mpmath k to ``digits`` digits, apply each rule to the exact terms."""
    terms = q.terms(n_terms)
    ok = {"floor": [], "nearest": [], "ceiling": []}
    with mpmath.workdps(digits + 30):
        k = mpmath.mpf(k_decimal(q, digits + 20))
        y = k
        shift = mpmath.mpf(q.shift.numerator) / q.shift.denominator
        for a in terms:
            v = y - shift
            ok["floor"].append(int(mpmath.floor(v)) == a)
            ok["nearest"].append(int(mpmath.floor(v + mpmath.mpf(1) / 2)) == a)
            ok["ceiling"].append(int(mpmath.ceil(v)) == a)
            y = y * y
    return ok


# the anchors' table (exact check n = 0..12) and more, with b != 0 and a_0 <= 0
CASES = [
    ((1, 0, 1), "floor", 0), ((2, 0, 1), "floor", 0), ((1, 0, 3), "floor", 1), ((2, 0, 5), "floor", 1),
    ((2, 0, -1), "ceiling", 0), ((4, 0, -2), "ceiling", 0), ((3, 0, -2), "ceiling", 0),
    ((2, -1, 1), "floor", 0),  # Sylvester: a_n = floor(k^(2^n) + 1/2)
    ((3, -2, 2), "floor", 0),  # Fermat: exact
    ((0, 0, 1), "floor", 1),  # OEIS A003095 from n = 1
    ((0, 0, -3), "ceiling", 2), ((-3, 0, 1), "floor", 1), ((1, 3, -2), None, None), ((5, -7, 4), None, None),
    ((1000, 0, -999999), "ceiling", 3),
]


@pytest.mark.parametrize("args,rule,valid_from", CASES)
def test_rule_matches_brute_force(args, rule, valid_from):
    q = Quadratic(*args)
    rep = rules(q, 10)
    if rule is not None:
        assert (rep.rule, rep.valid_from) == (rule, valid_from)
    # whatever the rule: every per-n verdict agrees with an independent high-precision evaluation
    digits_needed = 2 * len(str(abs(q.terms(10)[-1]))) + 40
    brute = brute_rules(q, 10, digits_needed)
    for name, d in rep.per_rule.items():
        fails = [n for n in range(10) if not brute[name][n]]
        assert d["fails_at"][:len([f for f in d["fails_at"] if f < 10])] == fails, (name, d, fails)
        if d["valid_from"] is not None and d["valid_from"] < 10:
            assert all(brute[name][d["valid_from"]:])
    v = verify_terms(q, rep, 10)
    assert v.consistent and v.checked_terms == 10


def test_article_gap_table():
    g = gaps(Quadratic(1, 0, 1), 5)
    for n, ref in ((3, 0.0192379), (4, 7.38553e-4), (5, 1.090917e-6)):
        assert abs(float(g[n].mid()) / ref - 1) < 1e-5


def test_gap_sign_follows_c_reduced():
    for args, sign in (((1, 0, 2), 1), ((4, 0, -1), -1), ((2, -1, 1), 1)):
        q = Quadratic(*args)
        g = gaps(q, 12)
        start = rules(q).proved_beyond
        assert all((v > 0) if sign > 0 else (v < 0) for v in g[start:])


def test_precision_trap_needs_twice_the_digits():
    """(1, 5): a_12 has 1653 digits; the check needs k to about twice that, chosen automatically."""
    q = Quadratic(1, 0, 5)
    rep = rules(q, 13)
    v = verify_terms(q, rep, 13)
    assert v.consistent and v.disagree == [0] and v.largest_term_digits == 1653
    assert 2 * 1653 <= v.precision_digits <= 2 * 1653 + 200
    with mpmath.workdps(3000):  # what goes wrong without it (the anchors' measurement)
        k = mpmath.mpf(k_decimal(q, 3000))
        assert int(mpmath.floor(k ** 4096)) != q.terms(13)[-1]


def test_twenty_terms_verified():
    q = Quadratic(1, 0, 1)
    v = verify_terms(q, rules(q, 20), 20)
    assert v.checked_terms == 20 and not v.disagree and v.consistent
    assert v.largest_term_digits == len(istr(q.terms(20)[-1])) == 92_753
    assert v.precision_digits >= 2 * 92_753


def test_closed_forms_and_recognition():
    assert exact_closed_form(Quadratic(4, 0, -2)).expression == "2 + sqrt(3)"
    cf = exact_closed_form(Quadratic(3, 0, -2))
    assert cf.expression == "(3 + sqrt(5))/2" and "golden ratio squared" in cf.aliases
    assert exact_closed_form(Quadratic(3, -2, 2)).expression == "2"
    assert exact_closed_form(Quadratic(1, 0, 1)) is None
    # an integer-relation search finds the quadratic for c' = -2 from the digits alone, and nothing for (1, 1)
    assert search_algebraic(k_decimal(Quadratic(6, 0, -2), 200)).polynomial == [1, -6, 1]
    assert search_algebraic(k_decimal(Quadratic(1, 0, 1), 200)) is None
    assert "Vardi" in known(Quadratic(2, -1, 1))["name"]


def test_fibonacci_warmup():
    w = fibonacci_warmup(60)
    assert w.beta_poly == "b^2 - b - 1 = 0" and w.alpha_poly == "5*a^2 - 1 = 0"
    assert w.all_round_ok and w.beta_error < 1e-20
