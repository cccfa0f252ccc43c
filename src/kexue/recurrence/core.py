"""Quadratic recurrences a_{n+1} = a_n^2 + b a_n + c: growth, the constant k, exact terms.

Completing the square with x_n = a_n + b/2 gives x_{n+1} = x_n^2 + c' with
c' = c + b/2 - b^2/4, so every case reduces to the article's b = 0 form. When x_n grows,
k = lim x_n^(2^-n) = lim a_n^(2^-n) exists and

    ln k = 2^-M ln x_M + T_M,   T_M = sum_{m >= M} 2^-(m+1) ln(1 + c'/x_m^2),

with the rigorous tail bound |T_M| <= 2^-(M+1) (8/7) u_M / (1 - u_M), u_M = |c'|/x_M^2, valid
once x_M >= 1 + sqrt(1 + |c'|) (then x_{m+1} >= 2 x_m, so u falls at least 4-fold per step).
Two independent evaluations use it: the *direct root* (M square roots of x_M, fast) and the
*series* (the article's sum of logarithms). Both are ball computations in python-flint's arb,
so every printed digit is certified.

>>> q = Quadratic(1, 0, 1)
>>> q.terms(6)
[1, 2, 5, 26, 677, 458330]
>>> k_decimal(q, 30)
'1.50283680104975649975293642373'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import KexueError, UsageError

MAX_DIGITS = 10_000_000
LOG2_10 = math.log2(10)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$")
_RATIO = re.compile(r"^[+-]?\d+\s*/\s*[+-]?\d+$")


class NotGrowingError(KexueError):
    """The sequence stays bounded (cycles, converges, oscillates): k and the closed form do not exist."""


def parse_number(value, name: str = "value") -> Fraction:
    """An exact rational from an int, a Fraction, a float or a string such as ``"1.5"``, ``"3/2"``, ``"1e-3"``.

    >>> parse_number("3/2"), parse_number("-0.25"), parse_number(2)
    (Fraction(3, 2), Fraction(-1, 4), Fraction(2, 1))
    >>> parse_number("two")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kexue.errors.UsageError: two is not a number for value (write an integer, a decimal such as 1.5, ...)
    """
    if isinstance(value, bool):
        raise UsageError(f"{value!r} is not a number for {name}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{name} must be finite, got {value}")
        return Fraction(repr(value))
    s = str(value).strip()
    if len(s) > 5000 or not (_NUMBER.match(s) or _RATIO.match(s)):
        raise UsageError(f"{s[:40]} is not a number for {name} (write an integer, a decimal such as 1.5, "
                         "or a fraction such as 3/2)")
    try:
        return Fraction(s.replace(" ", ""))
    except (ValueError, ZeroDivisionError) as e:
        raise UsageError(f"{s[:40]} is not a number for {name}: {e}") from None


def istr(n) -> str:
    """Decimal text of an integer of any size (Python's own ``str`` stops at 4300 digits)."""
    from flint import fmpz

    return str(fmpz(n))


def fmt_fraction(x: Fraction) -> str:
    """``3/2`` or ``5`` (an exact rational as text)."""
    return istr(x.numerator) if x.denominator == 1 else f"{istr(x.numerator)}/{istr(x.denominator)}"


@dataclass(frozen=True)
class Quadratic:
    """The recurrence a_{n+1} = a_n^2 + b a_n + c from a_0 (exact rationals).

    ``x0`` and ``c_red`` are the completed-square form x_{n+1} = x_n^2 + c_red, x_n = a_n + b/2.

    >>> q = Quadratic(2, -1, 1)           # Sylvester's sequence 2, 3, 7, 43, ...
    >>> q.x0, q.c_red
    (Fraction(3, 2), Fraction(1, 4))
    """

    a0: Fraction
    b: Fraction = Fraction(0)
    c: Fraction = Fraction(0)

    def __post_init__(self):
        for name in ("a0", "b", "c"):
            object.__setattr__(self, name, parse_number(getattr(self, name), name))

    @property
    def shift(self) -> Fraction:
        """b/2: x_n = a_n + shift satisfies x_{n+1} = x_n^2 + c_red."""
        return self.b / 2

    @property
    def x0(self) -> Fraction:
        return self.a0 + self.b / 2

    @property
    def c_red(self) -> Fraction:
        return self.c + self.b / 2 - self.b * self.b / 4

    @property
    def integral(self) -> bool:
        """True when a_0, b, c are integers, so every a_n is an integer."""
        return all(v.denominator == 1 for v in (self.a0, self.b, self.c))

    def step(self, a):
        return a * a + self.b * a + self.c

    def terms(self, n: int) -> list:
        """The exact terms a_0 .. a_{n-1} (ints when integral, else Fractions)."""
        if self.integral:
            from flint import fmpz

            a, b, c = fmpz(int(self.a0)), fmpz(int(self.b)), fmpz(int(self.c))
            out = []
            for _ in range(n):
                out.append(int(a))
                a = a * (a + b) + c
            return out
        out, a = [], self.a0
        for _ in range(n):
            out.append(a)
            a = self.step(a)
        return out

    def describe(self) -> str:
        """The recurrence as text, e.g. ``a(n+1) = a(n)^2 - a(n) + 1, a(0) = 2``."""
        parts = ["a(n)^2"]
        if self.b:
            mag = abs(self.b)
            parts.append(("- " if self.b < 0 else "+ ") + ("" if mag == 1 else f"{fmt_fraction(mag)}*") + "a(n)")
        if self.c:
            parts.append(("- " if self.c < 0 else "+ ") + fmt_fraction(abs(self.c)))
        return f"a(n+1) = {' '.join(parts)}, a(0) = {fmt_fraction(self.a0)}"


# ----------------------------------------------------------------------------- growth
@dataclass
class Growth:
    """Whether x_n = a_n + b/2 escapes to infinity, and from which n the fast-growth regime holds.

    ``regime_from`` is the first n with x_n >= 1 + sqrt(1 + |c'|): from there on x_{m+1} >= 2 x_m,
    all later x_m are positive and the tail bounds of this module apply.
    """

    grows: bool
    regime_from: int | None
    behaviour: str  # grows | cycle | converges | bounded | undecided
    explanation: str


def _exact_ge_threshold(x: Fraction, cabs: Fraction) -> bool:
    """x >= 1 + sqrt(1 + |c'|), exactly."""
    return x >= 1 and (x - 1) ** 2 >= 1 + cabs


def _exact_within_beta(x: Fraction, cr: Fraction) -> bool:
    """|x| <= beta = (1 + sqrt(1 - 4c'))/2 (c' <= 1/4), exactly."""
    t = 2 * abs(x) - 1
    return t <= 0 or t * t <= 1 - 4 * cr


def _show_terms(q: Quadratic, n: int = 8) -> str:
    out = []
    for a in q.terms(n):
        a = Fraction(a)
        if a.numerator.bit_length() + a.denominator.bit_length() > 160:
            out.append(f"{float(a):.6g}" if abs(a) < 10 ** 300 else f"(a {len(istr(int(a)))}-digit number)")
        elif a.denominator == 1 or len(str(a)) <= 14:
            out.append(fmt_fraction(a))
        else:
            out.append(f"{float(a):.6g}")
    return ", ".join(out) + ", ..."


def growth(q: Quadratic, max_steps: int = 100_000) -> Growth:
    """Decide whether the sequence grows (x_n -> +inf) or stays bounded, with an explanation.

    Exact for rational inputs while the numbers stay small, then in arb balls. For c' in
    [-2, 1/4] the interval |x| <= beta = (1 + sqrt(1 - 4c'))/2 is invariant (bounded forever);
    |x| > beta means escape; for c' > 1/4 the sequence always grows.

    >>> growth(Quadratic(1, 0, -1)).behaviour
    'cycle'
    >>> growth(Quadratic(1, 0, 1)).regime_from
    2
    """
    cr, cabs = q.c_red, abs(q.c_red)
    x = q.x0
    seen: dict[Fraction, int] = {}
    n = 0
    while n < max_steps and x.numerator.bit_length() + x.denominator.bit_length() < 4000:
        if _exact_ge_threshold(x, cabs):
            return Growth(True, n, "grows", "")
        if cr <= Fraction(1, 4) and cr >= -2 and _exact_within_beta(x, cr):
            return _bounded(q, n)
        if x in seen:
            start = seen[x]
            cyc = q.terms(n)[start:]
            shown = ", ".join(fmt_fraction(Fraction(v)) for v in cyc)
            return Growth(False, None, "cycle", f"the terms enter the cycle {shown} "
                          f"from n = {start} ({_show_terms(q)}); a bounded sequence has no k > 1, so "
                          "a_n^(2^-n) -> 1 and there is no closed form a_n = [k^(2^n)]")
        seen[x] = n
        x = x * x + cr
        n += 1
    return _growth_arb(q, x, n, max_steps)


def _bounded(q: Quadratic, n: int) -> Growth:
    cr = q.c_red
    beta = (1 + math.sqrt(1 - 4 * float(cr))) / 2
    base = (f"from n = {n} on, x_n = a_n + b/2 stays in [-{beta:.6g}, {beta:.6g}] "
            f"(x -> x^2 + c' with c' = {fmt_fraction(cr)} maps that interval into itself)")
    tail = (f"; terms {_show_terms(q)}. A bounded sequence does not grow like k^(2^n): a_n^(2^-n) -> 1, so "
            "there is no constant k > 1 and no closed form a_n = [k^(2^n)] (the article needs a_0 > 0, c > 0 "
            "and growing terms)")
    # exact short cycles (fixed points, 2-cycles) are worth naming
    vals = [Fraction(v) + q.shift for v in q.terms(n + 12)]
    for i in range(len(vals)):
        for j in range(i + 1, len(vals)):
            if vals[i] == vals[j]:
                cyc = [fmt_fraction(v - q.shift) for v in vals[i:j]]
                what = "stay at the fixed point" if len(cyc) == 1 else "enter the cycle"
                return Growth(False, None, "cycle", f"the terms {what} {', '.join(cyc)} from n = {i}; " + base + tail)
    if cr == 0:
        return Growth(False, None, "converges", "the terms shrink: c' = 0 and |a_0 + b/2| < 1, so a_n + b/2 = "
                      "(a_0 + b/2)^(2^n) converges to 0; " + base + tail)
    if cr > Fraction(-3, 4):
        alpha = (1 - math.sqrt(1 - 4 * float(cr))) / 2 - float(q.shift)
        return Growth(False, None, "converges", f"the terms converge to the attracting fixed point {alpha:.10g}; "
                      + base + tail)
    return Growth(False, None, "bounded", "the terms oscillate without settling (period doubling / chaos for "
                  "-2 <= c' < -3/4); " + base + tail)


def _growth_arb(q: Quadratic, x_exact: Fraction, n0: int, max_steps: int) -> Growth:
    from flint import arb, ctx, fmpq

    cr = q.c_red
    for prec in (512, 4096, 32768):
        with ctx.workprec(prec):
            x = arb(fmpq(x_exact.numerator, x_exact.denominator))
            c = arb(fmpq(cr.numerator, cr.denominator))
            thr = 1 + (1 + abs(c)).sqrt()
            beta = (1 + (1 - 4 * c).sqrt()) / 2 if cr <= Fraction(1, 4) else None
            undecided = False
            for n in range(n0, max_steps):
                if x >= thr:
                    return Growth(True, n, "grows", "")
                if beta is not None and -2 <= cr and abs(x) <= beta:
                    return _bounded(q, n)
                if not x.is_finite() or x.rel_accuracy_bits() < 20:
                    undecided = True
                    break
                x = x * x + c
            if not undecided:
                break
    return Growth(False, None, "undecided", f"after {max_steps} steps the terms ({_show_terms(q)}) have not "
                  "reached the growth regime x_n >= 1 + sqrt(1 + |c'|); no constant k can be certified")


def require_growth(q: Quadratic) -> Growth:
    """``growth(q)``, raising :class:`NotGrowingError` with the explanation when it does not grow."""
    g = growth(q)
    if not g.grows:
        raise NotGrowingError(f"{q.describe()}: no constant k. {g.explanation[0].upper()}{g.explanation[1:]}.")
    return g


# ----------------------------------------------------------------------------- the constant k
def _arb_q(v: Fraction):
    from flint import arb, fmpq

    return arb(fmpq(v.numerator, v.denominator))


def _orbit(q: Quadratic, n: int):
    """x_0 .. x_n as arb balls at the current precision (exact while they fit)."""
    c = _arb_q(q.c_red)
    x = _arb_q(q.x0)
    out = [x]
    for _ in range(n):
        x = x * x + c
        out.append(x)
    return out


def tail_bound(u, m: int):
    """Rigorous bound on |sum_{j >= m} 2^-(j+1) ln(1 + c'/x_j^2)| given u = |c'|/x_m^2 (arb), m >= regime."""
    from flint import arb

    return u / (1 - u) * arb(8) / 7 / arb(2) ** (m + 1)


def _choose_m(q: Quadratic, start: int, bits: int) -> int:
    """Smallest M >= start (start = growth regime) whose tail bound is below 2^-bits."""
    from flint import arb, ctx

    if q.c_red == 0:
        return start
    with ctx.workprec(64):
        c = abs(_arb_q(q.c_red))
        x = _orbit(q, start)[-1]
        eps = arb(2) ** (-bits)
        m = start
        while True:
            b = tail_bound(c / (x * x), m)
            if b.upper() < eps:
                return m
            x = x * x + _arb_q(q.c_red)
            m += 1


def _ball(lo_hi):
    """The ball [-B, B] for an arb upper bound B."""
    b = lo_hi.upper()
    return b.union(-b)


def k_ball(q: Quadratic, bits: int, method: str = "root", growth_info: Growth | None = None):
    """k = lim a_n^(2^-n) as an arb ball with relative accuracy at least ``bits`` bits.

    ``method="root"``: k = x_M^(2^-M) exp(T_M) by M square roots (fast);
    ``method="series"``: ln k = 2^-N ln x_N + sum_m 2^-(m+1) log1p(c'/x_m^2) + T_M (the article's series,
    each term at the precision it needs; N is the start of the growth regime). Both include the rigorous tail bound.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(256):
    ...     k = k_ball(Quadratic(4, 0, -2), 200)
    ...     bool((k - (2 + arb(3).sqrt())).abs_upper() < arb(2) ** -190)
    True
    """
    from flint import arb, ctx

    g = growth_info or require_growth(q)
    cr = q.c_red
    if cr == 0:  # x_n = x_0^(2^n): k = |x_0| exactly
        with ctx.workprec(bits + 20):
            return abs(_arb_q(q.x0))
    start = g.regime_from
    extra = 64
    for _ in range(6):
        m = _choose_m(q, start, bits + 16)
        wp = bits + extra + 2 * m
        with ctx.workprec(wp):
            xs = _orbit(q, m)
            xm = xs[m]
            c = _arb_q(cr)
            tail = _ball(tail_bound(abs(c) / (xm * xm), m))
            if method == "root":
                k = xm
                for _ in range(m):
                    k = k.sqrt()
                k = k * tail.exp()
            elif method == "series":
                lk = arb(0)  # ln k - 2^-start ln x_start: the article's series of corrections
                for j in range(start, m):
                    # term ~ 2^-(j+1) |c'|/x_j^2: relative precision it needs for absolute 2^-(wp)
                    with ctx.workprec(64):
                        size = -(j + 1) + float((abs(c) / (xs[j] * xs[j])).log().mid()) / math.log(2)
                    p = max(64, int(wp + 8 + size))
                    with ctx.workprec(p):
                        t = (c / (xs[j] * xs[j])).log1p() / arb(2) ** (j + 1)
                    lk = lk + t
                k0 = xs[start]
                for _ in range(start):  # x_start^(2^-start) by square roots (no full-precision log)
                    k0 = k0.sqrt()
                k = k0 * (lk + tail).exp()
            else:
                raise UsageError(f"method must be 'root' or 'series', got {method!r}")
        if k.rel_accuracy_bits() >= bits:
            return k
        extra = extra * 2 + bits // 4  # cancellation before the growth regime ate precision: retry
    raise RuntimeError(f"could not reach {bits} bits for k of {q.describe()}")


def decimal_truncated(x, digits: int) -> str | None:
    """The first ``digits`` significant digits of the positive arb ``x`` (truncated, not rounded), or
    None when the ball is too wide to decide them. Every digit returned is a digit of every point of x.

    >>> from flint import arb, ctx
    >>> with ctx.workprec(100):
    ...     decimal_truncated(arb(2).sqrt(), 10)
    '1.414213562'
    """
    from flint import ctx

    if not x > 0:
        return None
    with ctx.workprec(max(x.rel_accuracy_bits(), 0) + int(digits * LOG2_10) + 64):
        return _decimal_truncated(x, digits)


def _decimal_truncated(x, digits: int) -> str | None:
    from flint import ctx, fmpz

    with ctx.workprec(64):
        e = int(math.floor(float(x.mid().log().mid()) / math.log(10)))
    for guess in (e, e - 1, e + 1):
        s = digits - 1 - guess
        scaled = x * fmpz(10) ** s if s >= 0 else x / fmpz(10) ** (-s)
        f = scaled.floor()
        if not f.is_exact():
            return None
        t = str(f.unique_fmpz())
        if len(t) == digits and t[0] != "-":
            point = guess + 1
            if point <= 0:
                return "0." + "0" * (-point) + t
            if point >= digits:
                return t + "0" * (point - digits)
            return t[:point] + "." + t[point:]
    return None


def decimal_of_fraction(v: Fraction, digits: int) -> str:
    """The first ``digits`` significant digits of the positive rational v (truncated)."""
    if v <= 0:
        raise ValueError("positive values only")
    e = len(istr(v.numerator // v.denominator)) - 1 if v >= 1 else -len(istr(v.denominator // v.numerator))
    for guess in (e, e - 1, e + 1):
        s = digits - 1 - guess
        z = (v.numerator * 10 ** s) // v.denominator if s >= 0 else v.numerator // (v.denominator * 10 ** (-s))
        if 10 ** (digits - 1) <= z < 10 ** digits:
            t, point = istr(z), guess + 1
            if point <= 0:
                return "0." + "0" * (-point) + t
            if point >= digits:
                return t + "0" * (point - digits)
            return t[:point] + "." + t[point:]
    raise RuntimeError("unreachable")


def check_digits(digits: int) -> int:
    """Validate a requested number of significant digits."""
    if not isinstance(digits, int) or digits < 1:
        raise UsageError(f"--digits must be a positive integer, got {digits}")
    if digits > MAX_DIGITS:
        raise UsageError(f"--digits {digits} is above the maximum {MAX_DIGITS:,} (10^6 digits take about a second)")
    return digits


def k_decimal(q: Quadratic, digits: int, method: str = "root", growth_info: Growth | None = None) -> str:
    """k to ``digits`` significant digits, every one certified (guard bits, retried when undecided).

    >>> k_decimal(Quadratic(2, -1, 1), 20)   # Sylvester's sequence: k = E^2, Vardi's E = 1.26408...
    '1.5979102180318731783'
    """
    check_digits(digits)
    g = growth_info or require_growth(q)
    if q.c_red == 0:
        return decimal_of_fraction(abs(q.x0), digits)
    if q.c_red == -2:  # exact: k = (|x0| + sqrt(x0^2 - 4))/2; rational when x0^2 - 4 is a square
        from .algebraic import exact_k_rational

        r = exact_k_rational(q)
        if r is not None:
            return decimal_of_fraction(r, digits)
    bits = int(digits * LOG2_10) + 24
    for _ in range(6):
        k = k_ball(q, bits, method, g)
        s = decimal_truncated(k, digits)
        if s is not None:
            return s
        bits = bits + bits // 8 + 64
    raise RuntimeError("could not certify the last digit (is k rational?)")
