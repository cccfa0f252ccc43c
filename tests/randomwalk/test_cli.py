"""`kexue walk ...` end to end, in-process."""

import json

import pytest

from tests.conftest import run_cli


def test_polya_json_every_digit():
    code, out, err = run_cli("walk", "polya", "--lattice", "sc", "--dim", "3", "--digits", "1000", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert set(r) >= {"lattice", "dim", "digits", "return_probability", "expected_visits"}
    assert r["lattice"] == "sc" and r["dim"] == 3 and r["digits"] == 1000
    assert r["return_probability"].startswith("0.3405373295509991428262731844329028967106")
    assert len(r["return_probability"]) == 1002


def test_polya_bcc_fcc_and_recurrent():
    for lat in ("bcc", "fcc"):
        code, out, _ = run_cli("walk", "polya", "--lattice", lat, "--digits", "20", "--json")
        assert code == 0 and json.loads(out)["dim"] == 3
    code, out, _ = run_cli("walk", "polya", "--lattice", "sc", "--dim", "2", "--json")
    r = json.loads(out)
    assert code == 0 and r["return_probability"] == "1" and "recurrent" in r["reason"]
    code, out, _ = run_cli("walk", "polya", "--step-set", "1;-1", "--probs", "0.7,0.3", "--json")
    assert json.loads(out)["return_probability"] == "0.6"


def test_distribution_and_ground_state(tmp_path):
    png = tmp_path / "law.png"
    code, out, err = run_cli("walk", "distribution", "--lattice", "sc", "--dim", "1", "--steps", "200",
                             "--plot", str(png), "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["max_abs_error_vs_binomial"] < 1e-15 and png.stat().st_size > 1000
    code, out, err = run_cli("walk", "ground-state", "--potential", "x**4", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert abs(float(r["energy"]) - 0.6679862591557771) < 1e-8 and float(r["error"]) < 1e-8


def test_other_verbs_run():
    for args in (["green", "--lattice", "sc", "--dim", "3", "--site", "1,1,0", "--digits", "20"],
                 ["propagator", "--samples", "2000"], ["partition"], ["path"], ["limit"],
                 ["simulate", "--dim", "2", "--steps", "10", "--samples", "1000"]):
        code, out, err = run_cli("walk", *args, "--json")
        assert code == 0, (args, err)
        json.loads(out)


@pytest.mark.parametrize("args", [
    ["polya", "--lattice", "sc", "--dim", "0"],
    ["polya", "--step-set", ""],
    ["polya", "--step-set", "1.5;-1"],
    ["polya", "--step-set", "1;-1", "--probs", "0.5,0.6"],
    ["polya", "--lattice", "sc", "--dim", "3", "--digits", "99999999"],
    ["polya", "--lattice", "sc", "--dim", "4", "--digits", "50000"],
    ["ground-state", "--potential", "x**3"],
    ["ground-state", "--potential", "import os"],
    ["ground-state", "--potential", "-x**2"],
    ["distribution", "--steps", "-3"],
    ["polya", "--lattice", "kagome"],
])
def test_bad_input_exit_2_one_line(args):
    code, out, err = run_cli("walk", *args)
    assert code == 2, (args, out, err)
    assert "Traceback" not in err and err.strip()


def test_reproduce_quick_all_checks_pass(tmp_path):
    from kexue.randomwalk.reproduce import reproduce

    s = reproduce(tmp_path, quick=True)
    failed = [c.name for c in s.checks if not c.passed]
    assert not failed and s.passed >= 25
    assert all(f.path.exists() for f in s.figures)
