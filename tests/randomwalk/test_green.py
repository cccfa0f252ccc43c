"""Polya constants and Green functions against closed forms, independent methods and published digits."""

import math

import mpmath
import pytest
from flint import arb, ctx

from kexue.errors import UsageError
from kexue.randomwalk.green import (
    bcc_agm,
    bcc_gamma,
    fcc_agm,
    fcc_gamma,
    fourier_green,
    green,
    polya,
    sc3_agm,
    sc3_gamma,
    sc_green,
    truncated_digits,
)
from kexue.randomwalk.lattice import bcc, custom, fcc, sc
from kexue.randomwalk.law import n_step_law

# anchors (OEIS A086230/A086231, A242812, A242814-6; computed values in anchors-math.md)
P = {3: "0.34053732955099914282627318443290289671060821712430",
     4: "0.1932016732249839373418709733293691605759",
     5: "0.1351786098206552910472624295693158796917",
     6: "0.1047154956288220108261358511068215465664",
     7: "0.0858449341133790091881081347851735566407",
     8: "0.07291264995938399846974535538830736960161"}
M = {3: "1.51638605915197801815601215968142077995538704445226",
     4: "1.239467121848481712678697664859000710153289069161",
     5: "1.156308124840231178707135121938566985545427348505",
     6: "1.116963373226671843685644331968613252656192622393",
     7: "1.093906315587847996683271823559019863711289977164",
     8: "1.078647012016925558642684480027415061150331998723"}


@pytest.mark.parametrize("d", [3, 4, 5, 6, 7, 8])
def test_polya_sc_matches_published_digits(d):
    r = polya("sc", d, digits=60)
    mpmath.mp.dps = 80
    # the published strings are rounded in their last place; ours are truncated (every digit a true digit)
    for ours, ref in ((r["return_probability"], P[d]), (r["expected_visits"], M[d])):
        k = len(ref)
        assert ours[:k - 1] == ref[:k - 1]
        assert abs(mpmath.mpf(ours) - mpmath.mpf(ref)) <= mpmath.mpf(10) ** (2 - k)  # one unit in the last place
    assert len(r["return_probability"]) == 62  # "0." + 60 digits


def test_sc3_closed_forms_agree_to_2000_digits():
    a, b = sc3_agm(2000), sc3_gamma(2000)
    ctx.dps = 2030
    assert truncated_digits(a, 2000) == truncated_digits(b, 2000)
    assert a.overlaps(b)


def test_sc3_spot_digits_9991_to_10000():
    r = polya("sc", 3, digits=10000)
    assert r["return_probability"][2 + 9990:2 + 10000] == "2035315963"
    assert r["expected_visits"][2 + 9990:2 + 10000] == "1312368673"


def test_bessel_quadrature_equals_closed_form_sc3():
    u = sc_green(3, (), digits=80)
    ctx.dps = 100
    assert u.overlaps(sc3_agm(80))
    assert u.rad() < arb(10) ** -80


def test_bcc_fcc_forms_and_independent_integral():
    ctx.dps = 90
    assert bcc_agm(60).overlaps(bcc_gamma(60)) and fcc_agm(60).overlaps(fcc_gamma(60))
    # bcc: u = (2/pi^2) Int_0^pi K(cos^2 t) dt (integrate the 1/(1 - c1 c2 c3) form twice analytically)
    mpmath.mp.dps = 30
    # K(cos^2 t) = pi / (2 agm(1, |sin t|)): no cancellation near t = 0
    ind = 1 / mpmath.pi * mpmath.quad(lambda t: 1 / mpmath.agm(1, mpmath.sin(t)), [0, mpmath.pi / 2, mpmath.pi])
    assert polya("bcc", digits=25)["expected_visits"] == mpmath.nstr(ind, 30, strip_zeros=False)[:27]
    # bcc also = sum_n (C(2n,n)/4^n)^3 = 3F2(1/2,1/2,1/2;1,1;1)
    assert abs(mpmath.hyp3f2(0.5, 0.5, 0.5, 1, 1, 1) - ind) < mpmath.mpf(10) ** -25


def test_fourier_method_reproduces_closed_form_fcc():
    r = fourier_green(fcc())
    assert abs(r["value"] - float(fcc_agm(20).mid())) < 1e-9 and r["error"] < 1e-7


@pytest.mark.slow
def test_fourier_method_reproduces_closed_forms():
    for walk, exact in ((sc(3), sc3_agm(20)), (bcc(), bcc_agm(20)), (fcc(), fcc_agm(20))):
        r = fourier_green(walk)
        assert abs(r["value"] - float(exact.mid())) < 1e-9
        assert r["error"] < 1e-7


def test_site_values_exact_forms():
    mpmath.mp.dps = 50
    g = mpmath.mpf(M[3])
    pg = mpmath.pi**2 * g
    forms = {(1, 0, 0): g - 1, (1, 1, 0): 5 * g / 12 - 9 / (2 * pg), (1, 1, 1): -g / 8 + 27 / (4 * pg),
             (2, 0, 0): 10 * g / 3 - 6 + 18 / pg, (3, 0, 0): 35 * g / 2 - 39 + 189 / pg}
    for x, v in forms.items():
        s = green("sc", 3, x, digits=40)["value"]
        assert abs(mpmath.mpf(s) - v) < mpmath.mpf(10) ** -40, x
    # neighbour visits: u(e1) = u(0) - 1 in every dimension (first-step argument)
    for d in (4, 6):
        u0 = sc_green(d, (), 30)
        u1 = sc_green(d, (1,), 30)
        ctx.dps = 50
        assert (u0 - 1 - u1).abs_upper() < arb(10) ** -30


def test_truncation_never_rounds_up():
    ctx.dps = 40
    assert truncated_digits(arb(2) / 3, 5) == "0.66666"
    assert truncated_digits(arb("0.1999999999999") , 3) == "0.199"
    ctx.dps = 10
    assert truncated_digits(arb(1) / 3 + arb(0, 1e-3), 5) is None  # ball too wide: refuse


def test_recurrent_and_biased_walks():
    for d in (1, 2):
        r = polya("sc", d)
        assert r["return_probability"] == "1" and r["recurrent"] and "recurrent" in r["reason"]
    # p = 1 - |p_right - p_left|
    for pr, pl in (("0.7", "0.3"), ("0.5", "0.25"), ("1/3", "2/3")):
        hold = 1 - float(eval(pr.replace("/", "/1.0/")) if False else 0)
        probs = [pr, pl] if hold else [pr, pl]
        from fractions import Fraction

        rest = 1 - Fraction(pr) - Fraction(pl)
        steps, ps = [(1,), (-1,)], [Fraction(pr), Fraction(pl)]
        if rest:
            steps.append((0,))
            ps.append(rest)
        w = custom(steps, ps)
        exact = 1 - abs(Fraction(pr) - Fraction(pl))
        r = polya(w, digits=20)
        assert abs(float(r["return_probability"]) - float(exact)) < 1e-15
        # the Fourier integral on the shifted contour finds the same number independently
        f = fourier_green(w)
        assert abs(1 - 1 / f["value"] - float(exact)) < 1e-12
        del probs


def test_biased_custom_walk_against_series_of_exact_laws():
    w = custom([(1,), (-1,), (2,)], ["0.5", "0.3", "0.2"])
    r = fourier_green(w)
    # u(0) = sum_n P(S_n = 0); terms decay geometrically for a biased walk
    total = 1.0 + sum(n_step_law(w, n).prob((0,)) for n in range(1, 400))
    assert abs(r["value"] - total) < 1e-12
    # a biased planar walk is transient although d = 2
    w2 = custom([(1, 0), (-1, 0), (0, 1), (0, -1)], ["0.5", "0.1", "0.2", "0.2"])  # rho = 0.85: fast series
    r2 = polya(w2)
    assert not r2["recurrent"] and 0 < float(r2["return_probability"]) < 1
    total2 = 1.0 + sum(n_step_law(w2, n).prob((0, 0)) for n in range(2, 300, 2))
    assert abs(float(r2["expected_visits"]) - total2) < 1e-8


def test_digit_limits():
    with pytest.raises(UsageError):
        polya("sc", 3, digits=10**7)
    with pytest.raises(UsageError):
        polya("sc", 5, digits=5000)
    with pytest.raises(UsageError):
        polya("sc", 3, digits=0)


def test_float_sanity():
    assert math.isclose(float(polya("fcc", digits=12)["return_probability"]), 0.256318236504, abs_tol=1e-12)
    # sc in d = 20 against an independent sum: u(0) = sum_n P(S_2n = 0), P(S_2n = 0) = (2n)!/(2d)^(2n) *
    # [x^n] (sum_k x^k / k!^2)^d; the terms fall like 2 (d/(4 pi n))^(d/2): the partial sum to n = 160 is
    # a lower bound within ~4e-19 of u(0)
    d, N = 20, 160
    mpmath.mp.dps = 40
    base = [1 / mpmath.factorial(k) ** 2 for k in range(N + 1)]
    poly = [mpmath.mpf(1)] + [mpmath.mpf(0)] * N
    for _ in range(d):
        poly = [mpmath.fsum(poly[i] * base[k - i] for i in range(k + 1)) for k in range(N + 1)]
    u = mpmath.fsum(mpmath.factorial(2 * n) / mpmath.mpf(2 * d) ** (2 * n) * poly[n] for n in range(N + 1))
    r = polya("sc", d, digits=25)
    gap = mpmath.mpf(r["expected_visits"]) - u
    assert 0 < gap < mpmath.mpf(10) ** -18


def test_fourier_neighbour_identity_and_truncated_output():
    # u(s) = u(0) - 1 for every step s of a symmetric walk (first-step decomposition), here fcc by Fourier
    r = green("fcc", 3, (1, 0, 1))
    u0 = float(polya("fcc", digits=20)["expected_visits"])
    assert abs(float(r["value"]) - (u0 - 1)) < 10.0 ** -r["digits"]
    # printed digits are truncated, never rounded up
    assert str(u0 - 1)[: r["digits"] + 2] == r["value"][: r["digits"] + 2]
    # sites outside the lattice the steps generate are never visited
    assert green("fcc", 3, (1, 0, 0))["value"] == "0"
