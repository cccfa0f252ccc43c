"""The CNN classifier: augmentation, learning on real data, exact resume, NaN handling, DDP, FID features."""

import numpy as np
import pytest
import torch

from kexue import data as kdata
from kexue.errors import InputError
from kexue.nn import classifier as C
from tests.conftest import spawn_two

needs_fashion = pytest.mark.skipif(kdata.locate("fashion-mnist").status == "missing", reason="needs fashion-mnist")


def test_augment_flips_and_shifts_deterministically():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    x[:, :, :3] = 0
    x[:, :, -3:] = 0
    x[:, :, :, :3] = 0
    x[:, :, :, -3:] = 0
    f = C.augment(x, g, flip=True, shift=0)
    same = (f == x).flatten(1).all(1)
    mirrored = (f == x.flip(3)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 10 < int(mirrored.sum()) < 54
    s = C.augment(x, torch.Generator().manual_seed(1), flip=False, shift=2)
    assert torch.equal(s.long().sum((1, 2, 3)), x.long().sum((1, 2, 3)))  # content only moves (margin 3 > 2)
    assert not torch.equal(s, x)
    s2 = C.augment(x, torch.Generator().manual_seed(1), flip=False, shift=2)
    assert torch.equal(s, s2)


def test_one_cycle_schedule_shape():
    f = [C.one_cycle(s, 200) for s in range(201)]
    peak = int(np.argmax(f))
    assert f[peak] == 1.0 and all(a <= b for a, b in zip(f[:peak], f[1:peak + 1], strict=True))
    assert all(a >= b for a, b in zip(f[peak:], f[peak + 1:], strict=False)) and f[-1] < 1e-3


def test_config_validation():
    from kexue.errors import UsageError

    with pytest.raises(UsageError):
        C.TrainConfig(dataset="cifar10")
    with pytest.raises(UsageError):
        C.TrainConfig(epochs=0)
    assert C.TrainConfig("mnist").flip is False and C.TrainConfig().flip is True


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = C.TrainConfig(epochs=2, train_subset=6000, seed=1)
    return C.train(cfg, out, quiet=True), out


@needs_fashion
def test_small_run_learns_and_checkpoint_evaluates(small_run):
    r, out = small_run
    assert r.test_accuracy > 0.78  # 6000 images, 2 epochs
    assert r.confusion.sum() == 10000 and r.confusion.shape == (10, 10)
    assert [h["epoch"] for h in r.history] == [1, 2] and r.history[-1]["loss"] < r.history[0]["loss"]
    ev = C.evaluate(out / "last.pt")
    assert ev["test_accuracy"] == pytest.approx(r.test_accuracy, abs=1e-12)
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2


@needs_fashion
def test_resume_after_a_kill_mid_epoch_is_exact(small_run, tmp_path, monkeypatch):
    from kexue.train import load_checkpoint

    r, _ = small_run
    cfg = C.TrainConfig(epochs=2, train_subset=6000, seed=1)
    steps = 6000 // 128
    calls = {"n": 0}
    real = C.F.cross_entropy

    def killed(*a, **k):  # the process dies a few steps into the second epoch
        calls["n"] += 1
        if calls["n"] == steps + 5:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(C.F, "cross_entropy", killed)
    with pytest.raises(KeyboardInterrupt):
        C.train(cfg, tmp_path, quiet=True)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    r2 = C.train(cfg, tmp_path, resume=True, quiet=True)
    a, b = r.model.state_dict(), r2.model.state_dict()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k
    assert r2.test_accuracy == pytest.approx(r.test_accuracy, abs=2e-4)
    assert [h["epoch"] for h in r2.history] == [1, 2]


@needs_fashion
def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = C.TrainConfig(epochs=3, train_subset=1024, seed=0)
    steps = 1024 // 128
    calls = {"n": 0}
    real = C.F.cross_entropy

    def poisoned(*a, **k):
        calls["n"] += 1
        loss = real(*a, **k)
        return loss * float("nan") if calls["n"] > steps + 2 else loss

    monkeypatch.setattr(C.F, "cross_entropy", poisoned)
    with pytest.raises(C.TrainingDiverged, match="last good checkpoint"):
        C.train(cfg, tmp_path, quiet=True)
    from kexue.train import load_checkpoint

    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1


def test_unreadable_checkpoint_is_a_user_error(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"\x00garbage")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        C.evaluate(tmp_path / "last.pt")
    torch.save({"state": {}, "extra": {}}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a checkpoint of `kexue nn train`"):
        C.load_trained(tmp_path / "other.pt")


TINY = {"epochs": 1, "train_subset": 1024}


@needs_fashion
def test_feature_extractor_trains_once_then_loads(isolated_cache, monkeypatch):
    torch.manual_seed(5)
    fx = C.feature_extractor("fashion-mnist", recipe=TINY)
    after = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(3))  # the caller's RNG is left alone
    path = C.feature_cache_path("fashion-mnist", TINY)
    assert path.is_file() and path.parent == isolated_cache / "nn"
    x = torch.rand(7, 1, 28, 28)
    f1 = fx(x)
    assert f1.shape == (7, fx.num_features) and not f1.requires_grad and not fx.training
    fx.train()
    assert not fx.training and torch.equal(fx(x), f1)
    # real images of different classes give different features; the same image the same one
    te, _ = kdata.load_mnist("fashion-mnist", "test")
    imgs = torch.from_numpy(te[:20].astype(np.float32) / 255).unsqueeze(1)
    feats = fx(imgs)
    assert torch.allclose(feats[:10], fx(imgs[:10]), atol=1e-5) and feats.std(0).mean() > 0

    def no_training(*a, **k):
        raise AssertionError("should load from the cache")

    monkeypatch.setattr(C, "train", no_training)
    fx2 = C.feature_extractor("fashion-mnist", recipe=TINY)
    assert torch.equal(fx2(x), f1)
    monkeypatch.undo()
    path.unlink()  # retraining from the fixed seed gives the same network
    fx3 = C.feature_extractor("fashion-mnist", recipe=TINY)
    assert torch.allclose(fx3(x), f1, atol=1e-5)
    with pytest.raises(ValueError):
        fx(torch.rand(2, 3, 28, 28))


def test_feature_extractor_export():
    import kexue.nn

    assert "feature_extractor" in kexue.nn.__all__ and callable(kexue.nn.feature_extractor)


def _ddp_worker(rank, port, path):
    import os

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from kexue.train import DistInfo, dist_teardown

    r = C.train(C.TrainConfig(epochs=1, train_subset=1024, seed=0), None, device="cpu", quiet=True)
    torch.save({"state": r.model.state_dict(), "acc": r.test_accuracy, "loss": r.history[-1]["loss"],
                "steps": r.history[-1]["steps"]}, f"{path}.{rank}")
    dist_teardown(DistInfo(rank, 2, rank))


@needs_fashion
def test_two_process_ddp_training(tmp_path):
    spawn_two(_ddp_worker, str(tmp_path / "w"))
    a, b = (torch.load(tmp_path / f"w.{r}") for r in range(2))
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k  # gradients averaged, buffers broadcast
    assert a["acc"] == b["acc"] and a["loss"] == b["loss"] and a["steps"] == 1024 // 128
    assert a["acc"] > 0.3  # 8 steps of learning on 1024 images


def test_feature_module_works_with_torchmetrics_fid():
    fid_mod = pytest.importorskip("torchmetrics.image.fid")
    torch.manual_seed(0)
    fx = C.FeatureExtractor(C.build_model(C.TrainConfig()), "fashion-mnist")  # untrained weights suffice here
    fid = fid_mod.FrechetInceptionDistance(feature=fx, normalize=True)
    real = torch.rand(300, 1, 28, 28) ** 2
    fid.update(real, real=True)
    fid.update(real, real=False)
    same = float(fid.compute())
    fid.reset()
    fid.update(real, real=True)
    fid.update(torch.rand(300, 1, 28, 28), real=False)
    assert abs(same) < 1e-2 < float(fid.compute())
