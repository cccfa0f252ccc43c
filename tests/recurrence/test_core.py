"""k to any precision: known constants, an independent mpmath computation, the tail bound, non-growth."""

from fractions import Fraction

import mpmath
import pytest

from kexue.errors import UsageError
from kexue.recurrence.core import (
    MAX_DIGITS,
    NotGrowingError,
    Quadratic,
    check_digits,
    growth,
    k_ball,
    k_decimal,
    parse_number,
    tail_bound,
)

K11 = "1.5028368010497564997529364237321694087388717439635793069906714243"


def mp_k(a0, b, c, dps):
    """Independent k: mpmath, direct root x_M^(2^-M) with M so large that the tail is far below 10^-dps."""
    a0, b, c = (Fraction(v) for v in (a0, b, c))
    with mpmath.workdps(dps + 40):
        def mp(v):
            return mpmath.mpf(v.numerator) / v.denominator

        x, cr, m = mp(a0 + b / 2), mp(c + b / 2 - b * b / 4), 0
        while not (x > mpmath.mpf(10) ** ((dps + 30) // 2 + 5)):
            x, m = x * x + cr, m + 1
        return mpmath.exp(mpmath.log(x) / mpmath.mpf(2) ** m)


def assert_truncation_of(s: str, value, digits: int):
    """s carries ``digits`` significant digits and s <= value < s + one unit in its last place."""
    sig = sum(ch.isdigit() for ch in s.lstrip("0."))
    assert sig == digits or ("." not in s and sig > digits)  # integer part longer than digits: zero padded
    with mpmath.workdps(digits + 40):
        v = mpmath.mpf(s)
        ulp = mpmath.mpf(10) ** (int(mpmath.floor(mpmath.log10(v))) - digits + 1)
        assert v <= value < v + ulp, (s[-20:], mpmath.nstr(value, 30))


def test_known_constant_a077496():
    assert k_decimal(Quadratic(1, 0, 1), len(K11) - 1) == K11


def test_oeis_decimals_9991_to_10000():
    s = k_decimal(Quadratic(1, 0, 1), 10_001)
    assert s[2 + 9990: 2 + 10_000] == "9919446154"  # A077496 b-file


@pytest.mark.parametrize("a0,b,c", [
    (1, 0, 1), (2, 0, 5), (2, -1, 1), (1, 3, -2), (5, -7, 4), ("3/2", 0, "1/4"), ("1.1", "0.5", "-0.3"),
    (0, 0, -3), (-3, 0, 1), (1000, 0, -999999), (1, 0, "1e-6"), (7, 0, -2), ("0.25", 0, 3),
])
def test_every_printed_digit_is_correct(a0, b, c):
    q = Quadratic(a0, b, c)
    for digits in (1, 17, 250):
        ref = mp_k(a0, b, c, digits + 20)
        for method in ("root", "series"):
            assert_truncation_of(k_decimal(q, digits, method), ref, digits)


def test_root_and_series_agree_to_5000_digits():
    for q in (Quadratic(1, 0, 1), Quadratic(2, -1, 1), Quadratic("1/3", 2, "5/7")):
        assert k_decimal(q, 5000, "root") == k_decimal(q, 5000, "series")


def test_exact_cases_print_exact_digits():
    assert k_decimal(Quadratic(3, -2, 2), 12) == "2.00000000000"  # Fermat: k = 2
    assert k_decimal(Quadratic("5/2", 0, -2), 8) == "2.0000000"  # 2 + 1/2: k = 2 exactly
    assert k_decimal(Quadratic(4, 0, -2), 20) == "3.7320508075688772935"  # 2 + sqrt 3


def test_ball_is_rigorous_and_tight():
    from flint import arb, ctx

    with ctx.workprec(400):
        k = k_ball(Quadratic(4, 0, -2), 300)
        exact = 2 + arb(3).sqrt()
        assert k.overlaps(exact)
        assert k.rel_accuracy_bits() >= 300


def test_tail_bound_holds_and_is_tight():
    """|T_M| <= bound(u_M, M) <= 2|T_M|, T_M summed directly with mpmath."""
    from flint import arb, ctx

    for a0, c in ((1, 1), (4, -1), (2, 5)):
        q = Quadratic(a0, 0, c)
        m0 = growth(q).regime_from
        with mpmath.workdps(60):
            xs = [mpmath.mpf(a0)]
            for _ in range(m0 + 8):
                xs.append(xs[-1] ** 2 + c)
            for m in range(m0, m0 + 3):
                t = sum(mpmath.log1p(c / xs[j] ** 2) / 2 ** (j + 1) for j in range(m, m + 6))
                with ctx.workprec(80):
                    bound = float(tail_bound(arb(abs(c)) / arb(str(xs[m])) ** 2, m).mid())
                assert abs(t) <= bound <= 2.5 * abs(t)


def test_growth_regime_and_non_growth():
    assert growth(Quadratic(1, 0, 1)).regime_from == 2
    assert growth(Quadratic(0, 0, -3)).grows  # c' < -2: 0 -> -3 -> 6 escapes
    for args, what in [((1, 0, -1), "cycle"), ((2, 0, -2), "cycle"), (("1/2", 0, 0), "converges"),
                       ((0, 0, "-3/2"), "bounded"), ((1, 0, "-1/2"), "converges"), ((0, -1, 1), "cycle"),
                       ((0, 0, "1/4"), "converges")]:
        g = growth(Quadratic(*args))
        assert not g.grows and g.behaviour == what, (args, g)
        with pytest.raises(NotGrowingError, match="no constant k"):
            k_decimal(Quadratic(*args), 10)


def test_slow_escape_near_the_parabolic_point():
    # c' slightly above 1/4: the orbit lingers near 1/2 for ~pi/sqrt(c' - 1/4) steps, then grows
    g = growth(Quadratic(0, 0, "0.2501"))
    assert g.grows and g.regime_from > 100
    assert_truncation_of(k_decimal(Quadratic(0, 0, "0.2501"), 30), mp_k(0, 0, "0.2501", 50), 30)


def test_parse_number_and_digit_limits():
    assert parse_number("1e-3") == Fraction(1, 1000)
    assert parse_number(" -7/3 ") == Fraction(-7, 3)
    for bad in ("abc", "nan", "inf", "1e99999", "", "1/0", "2**10"):
        with pytest.raises(UsageError):
            parse_number(bad)
    with pytest.raises(UsageError):
        check_digits(0)
    with pytest.raises(UsageError):
        check_digits(MAX_DIGITS + 1)


def test_terms_exact():
    assert Quadratic(2, -1, 1).terms(6) == [2, 3, 7, 43, 1807, 3263443]
    assert Quadratic(3, -2, 2).terms(5) == [3, 5, 17, 257, 65537]
    assert Quadratic(4, 0, -2).terms(4) == [4, 14, 194, 37634]
    assert Quadratic("1/2", 0, 1).terms(3) == [Fraction(1, 2), Fraction(5, 4), Fraction(41, 16)]


def test_long_digits_against_mpmath():
    """3000 digits of a b != 0, negative-c case against an independent mpmath run at higher precision."""
    assert_truncation_of(k_decimal(Quadratic(5, -3, -4), 3000), mp_k(5, -3, -4, 3040), 3000)


@pytest.mark.slow
def test_100000_digits_against_mpmath():
    import sys

    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # mpmath parses the 100,000-digit string through a Python int
    try:
        assert_truncation_of(k_decimal(Quadratic(1, 0, 1), 100_000), mp_k(1, 0, 1, 100_040), 100_000)
    finally:
        sys.set_int_max_str_digits(old)
