"""``kexue nn``: demos, gradcheck, train/evaluate end to end, and clear errors for bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kexue import data as kdata
from tests.conftest import run_cli

needs_fashion = pytest.mark.skipif(kdata.locate("fashion-mnist").status == "missing", reason="needs fashion-mnist")


def test_demo_logic_json():
    code, out, err = run_cli("nn", "demo", "logic", "--json")
    r = json.loads(out)
    assert code == 0 and r["demo"] == "logic" and r["gates"]["XOR"]["correct"] and not r["linearly_separable"]["XOR"]


def test_demo_xor_plot(tmp_path):
    code, out, _ = run_cli("nn", "demo", "xor", "--plot", str(tmp_path / "x.png"), "--json")
    r = json.loads(out)
    assert code == 0 and r["one_layer"]["best_accuracy"] <= 0.75 and r["two_layer"]["best_accuracy"] == 1.0
    assert (tmp_path / "x.png").stat().st_size > 2000


def test_demo_human_output_and_unknown_demo():
    code, out, _ = run_cli("nn", "demo", "features")
    assert code == 0 and "R² = 1.000000000000" in out
    code, _, err = run_cli("nn", "demo", "sudoku")
    assert code == 2 and "choose from" in err and len(err.strip().splitlines()) == 1


def test_gradcheck_json():
    code, out, _ = run_cli("nn", "gradcheck", "--hidden", "sigmoid", "--loss", "mse", "--json")
    assert code == 0 and json.loads(out)["max_relative_error"] < 1e-6
    code, _, err = run_cli("nn", "gradcheck", "--hidden", "step")
    assert code == 2 and "step" in err


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    code, stdout, err = run_cli("nn", "train", "--data", "fashion-mnist", "--epochs", "1", "--out", str(out), "--json")
    assert code == 0, err
    return json.loads(stdout), out


@needs_fashion
def test_train_one_epoch_reaches_87_percent(one_epoch):
    r, out = one_epoch
    assert r["test_accuracy"] >= 0.87 and r["epochs"] == 1
    assert r["train_seconds"] > 0 and r["images_per_second"] > 100
    assert (out / "last.pt").is_file() and (out / "confusion.png").stat().st_size > 5000
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[0])["epoch"] == 1


@needs_fashion
def test_evaluate_checkpoint_and_refuse_to_overwrite(one_epoch, tmp_path):
    r, out = one_epoch
    code, stdout, _ = run_cli("nn", "evaluate", str(out / "last.pt"), "--plot", str(tmp_path / "cm.png"), "--json")
    ev = json.loads(stdout)
    assert code == 0 and ev["test_accuracy"] == pytest.approx(r["test_accuracy"], abs=1e-12)
    assert sum(map(sum, ev["confusion"])) == 10000 and (tmp_path / "cm.png").is_file()
    code, _, err = run_cli("nn", "train", "--epochs", "1", "--out", str(out))
    assert code == 2 and "--resume" in err
    code, _, err = run_cli("nn", "train", "--epochs", "0", "--out", str(tmp_path / "x"))
    assert code == 2 and "--epochs" in err


def test_unreadable_checkpoint_exits_2(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run_cli("nn", "evaluate", str(tmp_path / "bad.pt"))
    assert code == 2 and "not a readable checkpoint" in err
    code, _, err = run_cli("nn", "evaluate", str(tmp_path / "missing.pt"))
    assert code == 2 and "no checkpoint" in err


def test_missing_data_set_says_how_to_get_it(tmp_path, monkeypatch, isolated_cache):
    from kexue.nn import classifier

    classifier._read_split.cache_clear()
    monkeypatch.setenv("KEXUE_DATA", str(tmp_path / "empty"))
    code, _, err = run_cli("nn", "train", "--data", "mnist", "--out", str(tmp_path / "r"))
    assert code == 2 and "kexue data get mnist" in err
    assert not (tmp_path / "r" / "last.pt").exists()


@pytest.mark.skipif(kdata.locate("mnist").status == "missing", reason="needs mnist")
def test_corrupt_idx_file_exits_2(tmp_path, monkeypatch, isolated_cache):
    from kexue.nn import classifier

    classifier._read_split.cache_clear()
    src = kdata.locate("mnist").root
    dst = tmp_path / "data" / "mnist"
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).symlink_to(f)
    (dst / "train-images-idx3-ubyte.gz").unlink()
    (dst / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    monkeypatch.setenv("KEXUE_DATA", str(tmp_path / "data"))
    code, _, err = run_cli("nn", "train", "--data", "mnist", "--out", str(tmp_path / "r"))
    classifier._read_split.cache_clear()
    assert code == 2 and "corrupt" in err and "train-images" in err


@pytest.mark.slow
@needs_fashion
def test_kill_mid_epoch_then_resume_subprocess(tmp_path):
    """A real SIGKILL during the second epoch; --resume finishes the run."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    cmd = [sys.executable, "-m", "kexue", "nn", "train", "--subset", "20000", "--epochs", "3", "--out",
           str(tmp_path), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (tmp_path / "metrics.jsonl").is_file() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from kexue.train import load_checkpoint

    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    out = subprocess.run(cmd + ["--resume", "--json"], env=env, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    assert r["epochs"] == 3 and [h["epoch"] for h in r["history"]] == [1, 2, 3]
