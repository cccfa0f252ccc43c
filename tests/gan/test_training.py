"""Training: the toy learns, resume is exact, NaN stops with the checkpoint kept, CLI end to end."""

import json

import numpy as np
import pytest
import torch

from kexue.errors import UsageError
from kexue.gan.models import DCCritic, DCGenerator, MLPCritic, MLPGenerator, build_models
from kexue.gan.toy import mode_metrics, ring_centers, sample_ring
from kexue.gan.training import GanConfig, TrainingDiverged, generate, load_generator, make_step, train_gan
from kexue.train import load_checkpoint
from tests.conftest import run_cli, spawn_two


def test_ring_and_mode_metrics():
    x = sample_ring(8000, seed=3)
    m = mode_metrics(x)
    assert m["modes_covered"] == 8 and m["mode_kl"] < 0.01
    assert m["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.005)  # P(chi_2 <= 3)
    assert np.array_equal(x, sample_ring(8000, seed=3))
    # a generator that collapsed onto 3 modes
    c = ring_centers()[:3]
    y = c[np.arange(3000) % 3] + 0.01 * np.random.default_rng(0).standard_normal((3000, 2))
    m = mode_metrics(y)
    assert m["modes_covered"] == 3 and m["high_quality"] == 1.0 and m["mode_kl"] == pytest.approx(np.log(8 / 3))
    # blurry samples (10x the std) are not high quality
    assert mode_metrics(ring_centers()[np.arange(4000) % 8] + 0.2 * np.random.default_rng(1).standard_normal(
        (4000, 2)))["high_quality"] < 0.2


def test_article_toy_architecture():
    g, d = MLPGenerator(), MLPCritic()
    assert [m.out_features for m in g.modules() if isinstance(m, torch.nn.Linear)] == [32, 128, 784]
    assert [m.out_features for m in d.modules() if isinstance(m, torch.nn.Linear)] == [128, 32, 1]
    z = g.noise(1000, "cpu")
    assert z.shape == (1000, 10) and z.min() >= -1 and z.max() <= 1 and z.min() < -0.9
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, torch.nn.Linear)])
    assert w.abs().max() <= 0.05
    x = g(z)
    assert x.min() >= 0 and x.max() <= 1  # sigmoid output
    gd, dd = DCGenerator(), DCCritic()
    assert gd(gd.noise(2, "cpu")).shape == (2, 1, 28, 28) and dd(torch.rand(2, 1, 28, 28)).shape == (2,)
    with pytest.raises(UsageError):
        build_models("toy2d", "dcgan")


def test_one_sided_penalty_is_relu_of_norm_minus_one():
    torch.manual_seed(0)
    from kexue.gan.losses import preset

    G, D = build_models("mnist", "mlp")
    with torch.no_grad():  # a steep critic: gradient norms well above 1
        for p in D.parameters():
            p.mul_(30)
    step = make_step(G, D, preset("wgan-gp"), torch.optim.SGD(G.parameters(), lr=0), torch.optim.SGD(
        D.parameters(), lr=0), gp=10.0, gp_kind="one-sided", device=torch.device("cpu"))
    real = torch.rand(1, 8, 1, 28, 28)
    torch.manual_seed(1)
    out = step(real)
    # recompute the penalty by hand with the same random draws
    torch.manual_seed(1)
    with torch.no_grad():
        fake = G(G.noise(8, "cpu"))
    eps = torch.rand(8, 1, 1, 1)
    xh = (eps * real[0] + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(D(xh).sum(), xh)
    assert float(out["gp"]) == pytest.approx(float(torch.relu(g.flatten(1).norm(dim=1) - 1).mean()), rel=1e-5)
    assert float(out["gp"]) > 0


def test_toy2d_learns_the_ring_and_monitor_moves_towards_one(tmp_path):
    res = train_gan(GanConfig(data="toy2d", loss="E", steps=2000, every=500, seed=0), tmp_path / "run")
    assert res["modes_covered"] >= 6, res
    hist = [json.loads(s) for s in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # the likelihood-ratio monitor on fakes comes down towards 1 as q approaches p
    assert hist[-1]["r_fake"] < hist[0]["r_fake"] and 0.5 < hist[-1]["r_fake"] < 2
    assert (tmp_path / "run" / "curves.png").is_file() and len(list((tmp_path / "run" / "samples").glob("*.png"))) == 4


def test_resume_equals_one_run(tmp_path):
    cfg = GanConfig(data="toy2d", loss="C", steps=60, every=20, seed=5)
    _, g_full = train_gan(cfg, tmp_path / "full", return_generator=True)
    cfg_half = GanConfig(data="toy2d", loss="C", steps=40, every=20, seed=5)
    train_gan(cfg_half, tmp_path / "half")
    _, g_res = train_gan(cfg, tmp_path / "half", resume=True, return_generator=True)
    for p, q in zip(g_full.parameters(), g_res.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)
    assert load_checkpoint(tmp_path / "half" / "last.pt")["epoch"] == 3
    with pytest.raises(UsageError, match="trained with loss"):
        train_gan(GanConfig(data="toy2d", loss="A", steps=60, every=20), tmp_path / "half", resume=True)


def test_time_budget_stops_after_the_epoch_that_passes_it_and_evaluates_each_epoch(tmp_path):
    seen = []
    cfg = GanConfig(data="toy2d", loss="E", steps=10**6, every=15, max_seconds=1e-3, seed=1)
    res = train_gan(cfg, tmp_path / "b", evaluate=lambda g, step: seen.append(step) or {"probe": float(step)})
    assert res["steps"] == 15 and seen == [15] and 0 < res["train_seconds"] <= res["seconds"]
    hist = [json.loads(s) for s in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [h["probe"] for h in hist] == [15.0]
    # resuming with a larger budget goes on where it stopped (the earlier epoch's time counts)
    big = GanConfig(data="toy2d", loss="E", steps=45, every=15, max_seconds=1e6, seed=1)
    assert train_gan(big, tmp_path / "b", resume=True)["steps"] == 45
    with pytest.raises(UsageError, match="max_seconds"):
        GanConfig(max_seconds=0).resolved()


def test_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    # exponential GAN with a huge learning rate: e^t overflows
    cfg = GanConfig(data="toy2d", loss="C", steps=400, every=5, lr_d=50.0, lr_g=50.0)
    with pytest.raises(TrainingDiverged, match="last good checkpoint|no checkpoint"):
        train_gan(cfg, tmp_path / "bad")
    ck = tmp_path / "bad" / "last.pt"
    if ck.exists():
        state = load_checkpoint(ck)["state"]["G"]
        assert all(torch.isfinite(v).all() for v in state.values())


def test_image_step_and_generator_round_trip(tmp_path):
    res = train_gan(GanConfig(data="fashion-mnist", model="mlp", loss="wgan-gp", steps=4, every=2), tmp_path / "f")
    assert np.isfinite(res["d_loss"]) and res["gp"] >= 0
    G, cfg = load_generator(tmp_path / "f" / "last.pt")
    assert cfg.loss == "wgan-gp" and cfg.n_critic == 5 and cfg.batch == 100
    x = generate(G, 7, seed=2)
    assert x.shape == (7, 1, 28, 28) and torch.equal(x, generate(G, 7, seed=2))
    res = train_gan(GanConfig(data="mnist", model="dcgan", loss="F", steps=2, every=1, batch=16), tmp_path / "m")
    assert np.isfinite(res["g_loss"]) and "r_real" in res


def test_cli_train_toy_json(tmp_path):
    code, out, err = run_cli("gan", "train", "--data", "toy2d", "--loss", "hinge", "--steps", "30", "--every", "10",
                             "--out", str(tmp_path / "h"), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["loss"] == "hinge" and res["steps"] == 30 and "modes_covered" in res and "r_real" not in res
    code, out, err = run_cli("gan", "train", "--loss", "hinge", "--steps", "40", "--every", "10",
                             "--out", str(tmp_path / "h"), "--resume", "--json")
    assert code == 0 and json.loads(out)["steps"] == 40


def test_cli_train_minutes_and_only_rank_0_reports(tmp_path, monkeypatch):
    code, out, err = run_cli("gan", "train", "--loss", "D", "--steps", "100000", "--every", "10", "--minutes",
                             "1e-5", "--out", str(tmp_path / "m"), "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 10  # stopped after the first chunk past the budget
    monkeypatch.setenv("RANK", "1")  # as a second torchrun worker (WORLD_SIZE unset: trains alone here)
    code, out, err = run_cli("gan", "train", "--loss", "D", "--steps", "10", "--every", "10", "--json")
    assert code == 0 and out.strip() == ""


@pytest.mark.parametrize("args, match", [
    (["--loss", "nope"], "unknown loss"),
    (["--data", "cifar"], "unknown data"),
    (["--model", "dcgan"], "images"),
    (["--steps", "0"], "at least 1"),
    (["--resume"], "needs --out"),
])
def test_cli_bad_input_exits_2(args, match):
    code, out, err = run_cli("gan", "train", *args, "--json")
    assert code == 2 and match in err and out == ""


def test_cli_losses_and_derive():
    code, out, _ = run_cli("gan", "losses", "--json")
    rows = json.loads(out)["losses"]
    assert [r["name"] for r in rows] == ["A", "B", "C", "D", "E", "F", "wgan-gp", "hinge"]
    assert rows[4]["d"] == "(r + 1)*log(r + 1)" and rows[2]["psi"] == "1 - exp(-t)"
    code, out, _ = run_cli("gan", "derive", "--omega", "log(r)/2", "--rho", "exp(-t)", "--json")
    assert code == 0 and json.loads(out)["phi"] == "-exp(t)" and json.loads(out)["omega_inv"] == "exp(2*t)"
    code, out, err = run_cli("gan", "derive", "--omega", "-log(r)", "--rho", "exp(-t)")
    assert code == 2 and "not strictly increasing" in err
    code, out, err = run_cli("gan", "derive", "--omega", "log(r", "--rho", "1")
    assert code == 2 and "cannot read" in err


def test_cli_fid_needs_an_image_checkpoint(tmp_path):
    code, _, err = run_cli("gan", "fid", str(tmp_path / "none.pt"))
    assert code == 2 and "no checkpoint" in err
    train_gan(GanConfig(data="toy2d", steps=2, every=1), tmp_path / "t")
    code, _, err = run_cli("gan", "fid", str(tmp_path / "t" / "last.pt"))
    assert code == 2 and "for images" in err


def _ddp_worker(rank, port, out):
    import os

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    cfg = GanConfig(data="toy2d", loss="wgan-gp", steps=6, every=3, device="cpu", batch=32)
    res, G = train_gan(cfg, out, return_generator=True)
    torch.save({"g": [p.detach() for p in G.parameters()], "d_loss": res["d_loss"]}, f"{out}.{rank}")


def test_two_process_ddp_gan_keeps_replicas_in_step(tmp_path):
    """Under torchrun-like settings (gloo), the critic with its gradient penalty and the generator stay in step."""
    spawn_two(_ddp_worker, str(tmp_path / "run"))
    a, b = (torch.load(tmp_path / f"run.{r}") for r in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a["g"], b["g"], strict=True))
    assert a["d_loss"] == b["d_loss"]  # metrics reduced over ranks
    assert (tmp_path / "run" / "last.pt").is_file()


def test_cli_fid_with_an_nn_style_feature_extractor(tmp_path, monkeypatch):
    """`kexue gan fid` end to end, with a stand-in for kexue.nn.feature_extractor (same signature)."""
    import sys
    import types

    calls = []

    def feature_extractor(dataset="fashion-mnist", device=None):
        calls.append(dataset)
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5, 2, 2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                                   torch.nn.Flatten())

    monkeypatch.setitem(sys.modules, "kexue.nn", types.SimpleNamespace(feature_extractor=feature_extractor))
    train_gan(GanConfig(data="fashion-mnist", model="mlp", loss="E", steps=2, every=2, n_critic=1), tmp_path / "r")
    code, out, err = run_cli("gan", "fid", str(tmp_path / "r" / "last.pt"), "--n", "300", "--floor", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert calls == ["fashion-mnist"] and res["n"] == 300
    assert 0 <= res["floor"] < res["fid"]  # an untrained generator is far from the data; real vs real is close
