"""The `kexue vae` commands in-process: JSON output, the run folder, generation, and user errors (exit 2)."""

import json

from tests.conftest import run_cli

SMALL = ["--preset", "tiny", "--max-train", "160", "--max-eval", "64", "--iw-samples", "5", "--nll-limit", "8",
         "--quiet"]


def test_train_generate_interpolate(tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr = run_cli("vae", "train", "--data", "ptb", "--head", "bn", "--gamma", "0.6", "--epochs", "1",
                                   "--out", str(out), "--json", *SMALL)
    assert code == 0, stderr
    r = json.loads(stdout)
    for k in ("nll", "kl", "mi", "au", "ppl", "epochs"):
        assert k in r
    assert r["epochs"] == 1 and r["kl_bound"] == 5.76 and r["au"] == 32
    assert (out / "last.pt").is_file() and (out / "summary.json").is_file()
    code, stdout, _ = run_cli("vae", "generate", str(out), "--n", "3", "--json")
    assert code == 0 and len(json.loads(stdout)["sentences"]) == 3
    code, stdout, _ = run_cli("vae", "interpolate", str(out), "the market fell", "the company said", "--steps", "3",
                              "--json")
    assert code == 0 and len(json.loads(stdout)["sentences"]) == 3


def test_text_file_and_bound(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("\n".join(f"sentence number {i % 7} with words" for i in range(40)))
    code, stdout, stderr = run_cli("vae", "train", "--data", str(f), "--head", "plain", "--epochs", "1", "--json",
                                   *SMALL)
    assert code == 0, stderr
    assert json.loads(stdout)["eval_size"] == 4
    code, stdout, _ = run_cli("vae", "bound", "--latent", "32", "--tau", "0.5", "--json")
    assert code == 0 and json.loads(stdout)["kl_bound"] == 8.0


def test_user_errors_exit_2(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    cases = [["--gamma", "0"], ["--gamma", "-1"], ["--head", "bn-scaler", "--tau", "1.0"],
             ["--head", "bn-scaler", "--tau", "0"], ["--head", "bn-scaler", "--var-floor", "1"],
             ["--latent", "0"], ["--data", str(empty)],
             ["--data", str(tmp_path / "missing.txt")], ["--objective", "magic"], ["--head", "ln"],
             ["--batching", "sorted"], ["--resume"]]
    for extra in cases:
        code, stdout, stderr = run_cli("vae", "train", "--epochs", "1", *SMALL, *extra)
        assert code == 2, (extra, stderr)
        assert stderr.startswith("kexue: error:") and "Traceback" not in stderr and stdout == ""
    code, _, stderr = run_cli("vae", "generate", str(tmp_path / "nowhere"))
    assert code == 2 and "no checkpoint" in stderr
