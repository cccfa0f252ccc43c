"""Recognising k: exact closed forms (c' = 0, c' = -2), integer-relation search, and known constants.

After completing the square (x_n = a_n + b/2, x_{n+1} = x_n^2 + c') two cases are solvable:

* c' = 0: x_n = x_0^(2^n), so k = |x_0| (Fermat numbers: F_n - 1 = 2^(2^n), k = 2);
* c' = -2: with t + 1/t = x_0 (t > 1), x_n = t^(2^n) + t^(-2^n), so k = t = (|x_0| + sqrt(x_0^2 - 4))/2,
  a quadratic irrational (Lucas-Lehmer 4, 14, 194, ...: 2 + sqrt(3); 3, 7, 47, ...: the golden ratio squared).

For other c' no closed form is known (Aho & Sloane 1973); :func:`search_algebraic` looks for a
small integer polynomial with mpmath's PSLQ and confirms a candidate at much higher precision.

>>> from kexue.recurrence.core import Quadratic
>>> exact_closed_form(Quadratic(4, 0, -2)).expression
'2 + sqrt(3)'
>>> exact_closed_form(Quadratic(3, 0, -2)).expression
'(3 + sqrt(5))/2'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from .core import Quadratic, fmt_fraction


@dataclass
class ClosedForm:
    """An exact (or conjectured) closed form of k."""

    expression: str
    polynomial: list[int]  # integer coefficients, highest degree first, k is a root
    status: str  # "proved" or "integer relation ..." (numerical)
    explanation: str
    aliases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _square_part(d: int) -> tuple[int, int]:
    """d = s^2 r with r squarefree (r = d when d is too large to factor quickly)."""
    r = math.isqrt(d)
    if r * r == d:
        return r, 1
    if d.bit_length() > 160:
        return 1, d
    from flint import fmpz

    s, r = 1, 1
    for p, e in fmpz(d).factor():
        s *= int(p) ** (e // 2)
        r *= int(p) ** (e % 2)
    return s, r


def exact_k_rational(q: Quadratic) -> Fraction | None:
    """k as an exact rational when it is one (c' = 0, or c' = -2 with x_0^2 - 4 a rational square)."""
    x = abs(q.x0)
    if q.c_red == 0 and x > 1:
        return x
    if q.c_red == -2 and x > 2:
        d = x * x - 4
        sn, sd = math.isqrt(d.numerator), math.isqrt(d.denominator)
        if sn * sn == d.numerator and sd * sd == d.denominator:
            return (x + Fraction(sn, sd)) / 2
    return None


def _phi_power(p: int, s: int, r: int, den: int) -> int | None:
    """m when (p + s sqrt(r))/den = phi^m = (L_m + F_m sqrt 5)/2, else None."""
    if r != 5:
        return None
    lm, fm = 1, 1  # m = 1
    for m in range(1, 200):
        if p * 2 == lm * den and s * 2 == fm * den:
            return m
        lm, fm = (lm + 5 * fm) // 2, (lm + fm) // 2
    return None


def exact_closed_form(q: Quadratic) -> ClosedForm | None:
    """The proven closed form of k for c' = 0 and c' = -2 (None otherwise or when not growing).

    >>> exact_closed_form(Quadratic(3, -2, 2)).expression   # Fermat numbers 3, 5, 17, 257, ...
    '2'
    """
    x = abs(q.x0)
    shift = fmt_fraction(-q.shift) if q.shift else ""
    plus = "" if not shift else (f" + {shift}" if q.shift < 0 else f" - {fmt_fraction(q.shift)}")
    if q.c_red == 0 and x > 1:
        return ClosedForm(fmt_fraction(x), [x.denominator, -x.numerator], "proved",
                          f"c' = 0 after the shift, so a_n = k^(2^n){plus} exactly (n >= 1; n >= 0 when a_0 + b/2 > 0)")
    if q.c_red != -2 or x <= 2:
        return None
    p, qd = x.numerator, x.denominator
    d = p * p - 4 * qd * qd
    s, r = _square_part(d)
    den = 2 * qd
    if r == 1:
        v = Fraction(p + s, den)
        return ClosedForm(fmt_fraction(v), [v.denominator, -v.numerator], "proved",
                          f"c' = -2: a_n = k^(2^n) + k^(-2^n){plus}, with k + 1/k = a_0 + b/2")
    g = math.gcd(math.gcd(p, s), den)
    p, s, den = p // g, s // g, den // g
    root = f"sqrt({r})" if s == 1 else f"{s}*sqrt({r})"
    expr = f"{p} + {root}" if den == 1 else f"({p} + {root})/{den}"
    aliases = []
    m = _phi_power(p, s, r, den)
    if m is not None:
        aliases.append("golden ratio squared" if m == 2 else f"golden ratio to the power {m}")
    # minimal polynomial of t with t + 1/t = x: qd t^2 - pn t + qd = 0
    return ClosedForm(expr, [qd, -x.numerator, qd], "proved",
                      f"c' = -2: a_n = k^(2^n) + k^(-2^n){plus}, with k + 1/k = a_0 + b/2 "
                      f"(k is the larger root of {qd}*t^2 - {x.numerator}*t + {qd})", aliases)


def _poly_text(coeffs: list[int]) -> str:
    deg = len(coeffs) - 1
    out = []
    for i, a in enumerate(coeffs):
        if a == 0:
            continue
        e = deg - i
        mono = "" if e == 0 else ("k" if e == 1 else f"k^{e}")
        mag = abs(a)
        body = (str(mag) if (mag != 1 or not mono) else "") + ("*" if mag != 1 and mono else "") + mono
        out.append(("- " if a < 0 else "+ ") + body)
    text = " ".join(out)
    return (text[2:] if text.startswith("+ ") else "-" + text[2:]) + " = 0"


def search_algebraic(k_text: str, max_degree: int = 4, max_coeff: int = 10_000,
                     search_digits: int = 60) -> ClosedForm | None:
    """Look for an integer polynomial of degree <= ``max_degree`` with root k (PSLQ), confirmed on all
    the digits of ``k_text`` (which must carry at least 2 * ``search_digits`` digits to count).

    >>> import mpmath
    >>> with mpmath.workdps(150):
    ...     text = mpmath.nstr(mpmath.sqrt(2), 140)
    >>> search_algebraic(text).expression
    'k^2 - 2 = 0'
    >>> with mpmath.workdps(150):
    ...     text = mpmath.nstr(mpmath.pi, 140)
    >>> search_algebraic(text) is None
    True
    """
    import mpmath

    k_text = k_text[:2000]  # enough to confirm a small relation; keeps 10^6-digit inputs cheap
    digits = sum(ch.isdigit() for ch in k_text)
    if digits < 2 * search_digits:
        return None
    with mpmath.workdps(search_digits):
        k = mpmath.mpf(k_text)
        for deg in range(1, max_degree + 1):
            poly = mpmath.findpoly(k, deg, maxcoeff=max_coeff)
            if poly:
                break
        else:
            return None
    g = 0
    for a in poly:
        g = math.gcd(g, int(a))
    poly = [int(a) // g for a in poly]
    if poly[0] < 0:
        poly = [-a for a in poly]
    # confirm with all the digits we have: |P(k)| must be below the truncation error of k
    with mpmath.workdps(digits + 10):
        k = mpmath.mpf(k_text)
        value = abs(mpmath.polyval(poly, k))
        slope = abs(mpmath.polyval([a * (len(poly) - 1 - i) for i, a in enumerate(poly[:-1])], k)) + 1
        if value > slope * mpmath.mpf(10) ** (-(digits - 2 - int(mpmath.log10(abs(k)) + 1))):
            return None
    return ClosedForm(_poly_text(poly), poly, f"integer relation found with {search_digits} digits, "
                      f"confirmed on all {digits} digits (numerical evidence, not a proof)",
                      f"k appears to be algebraic of degree {len(poly) - 1}")


# ----------------------------------------------------------------------------- known constants
# (x_0, c') after the shift -> what the literature calls it. "sqrt" marks constants quoted as sqrt(k).
KNOWN: dict[tuple[Fraction, Fraction], dict] = {
    (Fraction(1), Fraction(1)): {"name": "1, 2, 5, 26, 677, ... (OEIS A003095 from n = 1); k is OEIS A077496 "
                                         "(Aho & Sloane 1973), sqrt(k) = 1.2259... is OEIS A076949", "sqrt": True},
    (Fraction(0), Fraction(1)): {"name": "OEIS A003095 0, 1, 2, 5, 26, ...; k = 1.2259... is OEIS A076949 "
                                         "(k^2 = A077496)", "sqrt": False},
    (Fraction(2), Fraction(1)): {"name": "2, 5, 26, 677, ... (A003095 shifted): k is the square of A077496",
                                 "sqrt": False},
    (Fraction(3, 2), Fraction(1, 4)): {"name": "Sylvester's sequence 2, 3, 7, 43, 1807, ... (OEIS A000058); "
                                               "sqrt(k) = E = 1.26408... is Vardi's constant (OEIS A076393)",
                                       "sqrt": True},
    (Fraction(1), Fraction(2)): {"name": "1, 3, 11, 123, 15131, ... (OEIS A102847 constant)", "sqrt": False},
    (Fraction(3), Fraction(1)): {"name": "3, 10, 101, 10202, ... (OEIS A062013); sqrt(k) = 1.7805... is the "
                                         "constant quoted there", "sqrt": True},
    (Fraction(2), Fraction(-1)): {"name": "2, 3, 8, 63, 3968, ... (OEIS A003096); sqrt(k) = 1.29555... is "
                                          "OEIS A077124", "sqrt": True},
    (Fraction(4), Fraction(-1)): {"name": "4, 15, 224, 50175, ... (OEIS A139244); sqrt(k) = 1.96689... is "
                                          "OEIS A260315", "sqrt": True},
    (Fraction(4), Fraction(-2)): {"name": "Lucas-Lehmer sequence 4, 14, 194, 37634, ... (OEIS A003010)",
                                  "sqrt": False},
    (Fraction(3), Fraction(-2)): {"name": "3, 7, 47, 2207, ... = Lucas numbers L(2^(n+1)) (OEIS A001566)",
                                  "sqrt": False},
    (Fraction(2), Fraction(0)): {"name": "Fermat numbers F_n = 2^(2^n) + 1 when b = -2, c = 2 (a_0 = 3)",
                                 "sqrt": False},
}


def known(q: Quadratic) -> dict | None:
    """What the literature calls this recurrence (matched after the shift), or None.

    >>> known(Quadratic(2, -1, 1))["name"].split(" (")[0]
    "Sylvester's sequence 2, 3, 7, 43, 1807, ..."
    """
    return KNOWN.get((q.x0, q.c_red))
