"""The shared training loop: learning, exact resume, atomic checkpoints, two-process DDP."""

import json

import pytest
import torch

from kexue.errors import InputError
from kexue.train import DistInfo, Trainer, load_checkpoint, shard_indices
from tests.conftest import spawn_two


def _setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 2, generator=g)
    y = (x[:, :1] * x[:, 1:]).sin()

    def step(batch):
        opt.zero_grad()
        loss = ((model(batch[0]) - batch[1]) ** 2).mean()
        loss.backward()
        opt.step()
        return {"loss": loss}

    def batches(epoch):
        perm = torch.randperm(256)  # uses the global RNG: resume must restore it
        for i in range(0, 256, 32):
            yield x[perm[i:i + 32]], y[perm[i:i + 32]]

    return model, opt, step, batches


def test_resume_gives_the_same_model_as_one_run(tmp_path):
    model, opt, step, batches = _setup()
    full = Trainer(tmp_path / "a", seed=3, quiet=True).fit(step, batches, epochs=4, state={"m": model, "o": opt})
    ref = [p.detach().clone() for p in model.parameters()]
    assert full[-1]["loss"] < full[0]["loss"]

    model, opt, step, batches = _setup()
    Trainer(tmp_path / "b", seed=3, quiet=True).fit(step, batches, epochs=2, state={"m": model, "o": opt})
    model, opt, step, batches = _setup(seed=99)  # a fresh process would start from other weights
    hist = Trainer(tmp_path / "b", seed=3, quiet=True).fit(step, batches, epochs=4, state={"m": model, "o": opt},
                                                           resume=True)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    for p, q in zip(model.parameters(), ref, strict=True):
        assert torch.allclose(p, q, atol=1e-6)
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["epoch"] for s in lines] == [1, 2, 3, 4]


def test_damaged_checkpoint_is_a_user_error(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "last.pt")
    model, opt, step, batches = _setup()
    with pytest.raises(InputError):
        Trainer(tmp_path, quiet=True).fit(step, batches, epochs=1, state={"m": model}, resume=True)


def test_shards_partition_the_data():
    parts = [shard_indices(10, DistInfo(r, 3), seed=0, epoch=2) for r in range(3)]
    flat = sorted(int(i) for p in parts for i in p)
    assert all(len(p) == 3 for p in parts) and len(set(flat)) == 9


def _ddp_worker(rank, port, path):
    import os

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    from kexue.train import dist_teardown, wrap_ddp

    t = Trainer(None, seed=0, quiet=True, device="cpu")
    torch.manual_seed(0)
    model = wrap_ddp(torch.nn.Linear(3, 1), t.info, t.device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(5))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])

    def step(idx):
        opt.zero_grad()
        loss = ((model(x[idx]) - y[idx]) ** 2).mean()
        loss.backward()
        opt.step()
        return {"loss": loss}

    def batches(epoch):
        own = torch.as_tensor(shard_indices(64, t.info, 0, epoch))
        return [own[i:i + 8] for i in range(0, len(own), 8)]

    hist = t.fit(step, batches, epochs=3, state={"m": model})
    torch.save({"w": model.module.weight.detach(), "loss": hist[-1]["loss"]}, f"{path}.{rank}")
    dist_teardown(t.info)


def test_two_process_ddp_keeps_replicas_in_step(tmp_path):
    spawn_two(_ddp_worker, str(tmp_path / "w"))
    a, b = (torch.load(tmp_path / f"w.{r}") for r in range(2))
    assert torch.equal(a["w"], b["w"])  # gradients were averaged: identical replicas
    assert a["loss"] == b["loss"] and a["loss"] < 1.0  # metrics are reduced over ranks
