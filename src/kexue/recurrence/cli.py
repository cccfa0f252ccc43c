"""``kexue recurrence``: the constant k of a quadratic recurrence and its closed form a_n = floor(k^(2^n))."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import JsonOpt, QuietOpt, emit, quiet_if

app = typer.Typer(no_args_is_help=True, help=(
    "Closed forms a_n = floor(k^(2^n)) for a(n+1) = a(n)^2 + b*a(n) + c (article 04). "
    "`constant` prints k to any number of certified digits and where the closed form holds; "
    "`terms` shows the terms beside k^(2^n); `fibonacci` is the article's warm-up."))

A0 = Annotated[str, typer.Option("--a0", help="a(0): an integer, a decimal (1.5) or a fraction (3/2).")]
B = Annotated[str, typer.Option("--b", help="Coefficient b of a(n) (default 0, the article's case).")]
C = Annotated[str, typer.Option("--c", help="Constant term c (for example 1 for 1, 2, 5, 26, 677, ...).")]


def _q(a0: str, b: str, c: str):
    from .core import Quadratic, parse_number

    return Quadratic(parse_number(a0, "--a0"), parse_number(b, "--b"), parse_number(c, "--c"))


def _human_constant(r: dict) -> str:
    lines = [r["recurrence"], f"k = {r['k']}", f"    ({r['digits']} significant digits, every one certified; "
             f"{r['cross_check'] or 'direct root with a rigorous tail bound'})"]
    if r.get("closed_form"):
        lines.append(f"closed form of k: {r['closed_form']} ({r['closed_form_detail']['status']})")
        aliases = r["closed_form_detail"].get("aliases")
        if aliases:
            lines.append(f"    = {', '.join(aliases)}")
    if r.get("sqrt_k"):
        lines.append(f"sqrt(k) = {r['sqrt_k'][:60]}{'...' if len(r['sqrt_k']) > 60 else ''}")
    if r.get("known_as"):
        lines.append(f"known as: {r['known_as']}")
    if r["rule"]:
        lines.append(f"{r['formula']} for every n >= {r['valid_from']}")
        lines.append(f"    proved for all n >= {r['proved_for_all_n_from']} by the gap bound; checked against the "
                     f"exact terms n = 0..{r['checked_terms'] - 1}"
                     + (f" (k to {r['verification']['k_digits_used']:,} digits)" if r.get("verification") else ""))
        others = []
        for rule, d in r["rules"].items():
            if rule != r["rule"]:
                others.append(f"{rule}: " + (f"from n = {d['valid_from']}" if d["valid_from"] is not None
                                             else "fails for all large n"))
        lines.append("    " + "; ".join(others))
        ff = r.get("first_failure")
        if ff:
            lines.append(f"    fails at n = {ff['n']}: a_n = {ff['a_n']} but k^(2^n) - b/2 = {ff['value']} "
                         f"gives {ff['rule_gives']}")
    elif r["rule"] is None and any("not all integers" in n for n in r["notes"]):
        pass
    for note in r["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


@app.command()
def constant(
    a0: A0,
    c: C,
    b: B = "0",
    digits: Annotated[int, typer.Option("--digits", "-d", help="Significant digits of k (at most 10,000,000).")] = 30,
    check_terms: Annotated[int, typer.Option("--check-terms", help="Compare the closed form with the exact terms "
                                                                   "a_0..a_{N-1} (0 to skip).")] = 20,
    method: Annotated[str, typer.Option("--method", help="root (fast), series (the article's sum), both, or auto "
                                                         "(both up to 20,000 digits).")] = "auto",
    recognise: Annotated[bool, typer.Option("--recognise/--no-recognise",
                                            help="Look for an algebraic closed form of k.")] = True,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the digits of k to this file "
                                                                       "(atomically).")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """k = lim a_n^(2^-n) to --digits certified digits, and where a_n = floor/nearest/ceiling(k^(2^n) - b/2).

    Example: `kexue recurrence constant --a0 1 --c 1 --digits 50` (1, 2, 5, 26, 677, ...: k = 1.50283...,
    a_n = floor(k^(2^n)) for every n >= 0). Sylvester's sequence: `--a0 2 --b -1 --c 1` (k = E^2, Vardi's E).
    Sequences that do not grow (a_0 = 1, c = -1 cycles 1, 0, -1, 0, ...) are explained and exit with code 2.
    """
    quiet_if(quiet, json_out)
    from ..utils import atomic_write
    from .analysis import constant as run

    r = run(_q(a0, b, c), digits, check_terms=check_terms, method=method, recognise=recognise)
    if output is not None:
        atomic_write(output, r["k"] + "\n")
        r["output"] = str(output)
    emit(r, json_out, _human_constant)


def _human_terms(t: dict):
    from rich.table import Table

    def short(s: str | None, row: dict) -> str:
        if s is None:
            return f"~{row['a_n_approx']}"
        return s if len(s) <= 40 else f"{s[:18]}...{s[-12:]} ({row['a_n_digits']} digits)"

    title = t["recurrence"] + (f" | {t['formula']} from n = {t['valid_from']}" if t["formula"] else
                               " | terms not integers: no integer closed form claimed")
    tab = Table("n", "a_n", "k^(2^n) - b/2", "gap", *(["floor", "nearest", "ceiling"] if t["integer_terms"] else []),
                title=title)
    mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "?"}
    for r in t["rows"]:
        cells = [str(r["n"]), short(r["a_n"], r), short(r["value"], r) if r["value"] else "", r["gap"]]
        if t["integer_terms"]:
            cells += [mark[r["floor"]], mark[r["nearest"]], mark[r["ceiling"]]]
        tab.add_row(*cells)
    return tab


@app.command()
def terms(
    a0: A0,
    c: C,
    b: B = "0",
    n: Annotated[int, typer.Option("-n", help="How many terms (1 to 64; huge terms are shown approximately).")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """The terms a_0..a_{n-1} beside k^(2^n) - b/2, the gap between them, and which rounding reproduces each.

    Example: `kexue recurrence terms --a0 1 --c 1 -n 8` (677 beside 677.000738...).
    """
    quiet_if(False, json_out)
    from .analysis import terms_table

    emit(terms_table(_q(a0, b, c), n), json_out, _human_terms)


@app.command()
def fibonacci(
    n: Annotated[int, typer.Option("-n", help="Number of Fibonacci numbers to fit (10 to 2000).")] = 60,
    json_out: JsonOpt = False,
) -> None:
    """The article's warm-up: F_n = round(alpha * beta^n), with alpha, beta fitted from the terms and recognised.

    Example: `kexue recurrence fibonacci -n 60` (beta = 1.6180339887..., root of b^2 - b - 1).
    """
    from dataclasses import asdict

    from ..errors import UsageError
    from .fibonacci import fibonacci_warmup

    if not 10 <= n <= 2000:
        raise UsageError(f"-n must be between 10 and 2000, got {n}")
    w = asdict(fibonacci_warmup(n))
    emit(w, json_out, lambda r: (f"beta  = {r['beta']}  ({r['beta_poly']}; error {r['beta_error']:.1e})\n"
                                 f"alpha = {r['alpha']}  ({r['alpha_poly']}; error {r['alpha_error']:.1e})\n"
                                 f"F_n = round(alpha * beta^n) for all n < {r['n_terms']}: {r['all_round_ok']}"))
