"""The command line: one JSON object, the issue's fields, clear errors (exit 2) for bad input."""

import json

import pytest

from tests.conftest import run_cli


def constant(*args):
    code, out, err = run_cli("recurrence", "constant", *args, "--json")
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1
    return json.loads(lines[0])


def test_constant_json_fields():
    r = constant("--a0", "1", "--c", "1", "--digits", "100")
    assert r["k"].startswith("1.50283680104975649975") and len(r["k"]) == 101
    got = (r["digits"], r["rule"], r["valid_from"], r["checked_terms"], r["closed_form"])
    assert got == (100, "floor", 0, 20, None)
    assert r["cross_check"] and r["verification"]["consistent_with_gaps"]


def test_constant_b_shift_negative_c_and_non_integer():
    r = constant("--a0", "2", "--b", "-1", "--c", "1", "--digits", "40")
    assert r["sqrt_k"].startswith("1.264084735305301113079599584164669491114")  # Vardi's E
    assert r["formula"] == "a_n = floor(k^(2^n) + 1/2)" and r["valid_from"] == 0
    r = constant("--a0", "4", "--c", "-2", "--digits", "30")
    assert r["closed_form"] == "2 + sqrt(3)" and r["rule"] == "ceiling"
    r = constant("--a0", "3", "--c", "-2", "--digits", "30")
    assert r["closed_form"] == "(3 + sqrt(5))/2" and "golden ratio squared" in r["closed_form_detail"]["aliases"]
    r = constant("--a0", "1.5", "--c", "0.25", "--digits", "30")
    assert r["rule"] is None and r["valid_from"] is None and r["k"].startswith("1.5979102180318731783")
    r = constant("--a0", "3", "--b", "-2", "--c", "2", "--digits", "10")  # Fermat
    assert r["closed_form"] == "2" and r["k"] == "2.000000000"


def test_constant_reports_first_failure():
    r = constant("--a0", "1", "--c", "3", "--digits", "20")
    assert r["valid_from"] == 1
    assert r["first_failure"]["n"] == 0 and r["first_failure"]["rule_gives"] == "2" and r["first_failure"]["a_n"] == "1"


def test_terms_table():
    code, out, err = run_cli("recurrence", "terms", "--a0", "1", "--c", "1", "-n", "8", "--json")
    assert code == 0, err
    t = json.loads(out)
    assert [r["a_n"] for r in t["rows"][:5]] == ["1", "2", "5", "26", "677"]
    assert t["rows"][4]["value"].startswith("677.000738")
    assert t["rule"] == "floor" and all(r["floor"] for r in t["rows"])
    code, out, err = run_cli("recurrence", "terms", "--a0", "1", "--c", "1", "-n", "6")
    assert code == 0 and "458330" in out


def test_fibonacci_command():
    code, out, err = run_cli("recurrence", "fibonacci", "--json")
    assert code == 0 and json.loads(out)["all_round_ok"] is True


@pytest.mark.parametrize("args,message", [
    (["--a0", "1", "--c", "-1"], "cycle"),
    (["--a0", "0.5", "--c", "0"], "converge"),
    (["--a0", "0", "--c", "-1.5"], "oscillate"),
    (["--a0", "abc", "--c", "1"], "not a number"),
    (["--a0", "1", "--c", "1", "--digits", "100000000"], "maximum"),
    (["--a0", "1", "--c", "1", "--digits", "0"], "positive"),
    (["--a0", "1", "--c", "1", "--method", "magic"], "method"),
    (["--c", "1"], "Missing option"),
])
def test_bad_input_exit_2(args, message):
    code, out, err = run_cli("recurrence", "constant", *args, "--json")
    assert code == 2 and message in err and out == ""
    assert "Traceback" not in err


def test_terms_bad_input():
    code, out, err = run_cli("recurrence", "terms", "--a0", "1", "--c", "-1")
    assert code == 2 and "cycle" in err
    code, out, err = run_cli("recurrence", "terms", "--a0", "1", "--c", "1", "-n", "1000")
    assert code == 2


def test_output_file(tmp_path):
    p = tmp_path / "k.txt"
    r = constant("--a0", "1", "--c", "1", "--digits", "1000", "-o", str(p))
    assert p.read_text().strip() == r["k"] and len(r["k"]) == 1001


def test_terms_huge_and_rational_rows():
    code, out, err = run_cli("recurrence", "terms", "--a0", "1", "--c", "1", "-n", "24", "--json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert rows[19]["a_n_digits"] == 92_753 and rows[19]["a_n"] is not None
    assert rows[23]["a_n"] is None and rows[23]["a_n_digits"] == 1_484_044  # shown approximately
    assert all(r["floor"] for r in rows)
    code, out, err = run_cli("recurrence", "terms", "--a0", "3/2", "--c", "1/4", "-n", "5", "--json")
    t = json.loads(out)
    assert not t["integer_terms"] and t["rule"] is None
    assert [r["a_n"] for r in t["rows"]] == ["3/2", "5/2", "13/2", "85/2", "3613/2"]
    assert t["rows"][4]["value"].startswith("1806.5000691")  # E^(2^5) = 1807 - 1/2 + tiny (anchors)


def test_non_positive_a0_that_grows_is_explained():
    r = constant("--a0", "-1", "--c", "1", "--digits", "30")
    assert r["k"] == "1.50283680104975649975293642373" and r["valid_from"] == 1
    assert any("a_0 <= 0" in n for n in r["notes"])
