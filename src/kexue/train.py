"""One small training loop for ``nn``, ``gan`` and ``vae``: device, seeds, DDP, checkpoints, progress, log.

A topic writes its own ``step(batch) -> {"loss": tensor, ...}`` (forward, backward, optimiser
step) and a function giving the batches of an epoch; :class:`Trainer` does the rest:

* picks the device (CUDA, then CPU) and, under ``torchrun``, joins the process group
  (nccl on GPU, gloo on CPU) and tells each rank which part of the data is its own;
* seeds everything from one ``seed``;
* shows a progress bar with running means of the step metrics (quiet off a terminal);
* averages the metrics over the epoch (and over ranks), calls ``on_epoch_end`` for
  evaluation, appends a line to ``metrics.jsonl``;
* writes ``last.pt`` atomically after every epoch (models, optimisers, RNG states, history), so
  ``resume=True`` continues where a killed run stopped.

>>> import torch
>>> model = torch.nn.Linear(1, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> x = torch.linspace(-1, 1, 64)[:, None]; y = 3 * x
>>> def step(batch):
...     opt.zero_grad(); loss = ((model(batch[0]) - batch[1]) ** 2).mean(); loss.backward(); opt.step()
...     return {"loss": loss}
>>> t = Trainer(seed=0, quiet=True)
>>> hist = t.fit(step, lambda epoch: [(x, y)] * 20, epochs=3, state={"model": model, "opt": opt})
>>> hist[-1]["loss"] < hist[0]["loss"]
True
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import InputError
from .utils import ProgressBar, atomic_path, seed_everything


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a (possibly one-process) job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def dist_setup(device: str = "auto") -> tuple[DistInfo, torch.device]:
    """Join the ``torchrun`` process group if there is one, and choose the device.

    ``device`` is ``auto`` (CUDA if available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and info.distributed:
        device = f"cuda:{info.local_rank}"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError("--device cuda asked for, but this machine has no usable GPU")
        torch.cuda.set_device(dev)
    if info.distributed and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return info, dev


def dist_teardown(info: DistInfo) -> None:
    """Leave the process group cleanly (all ranks meet first, so none exits under another's feet)."""
    if info.distributed and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def shard_indices(n: int, info: DistInfo, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """Indices of ``n`` samples that belong to this rank in ``epoch`` (same permutation on every rank).

    Every rank gets the same number of indices (the last few samples are dropped when ``n`` is
    not a multiple of the world size), so collective operations stay in step.
    """
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    per_rank = n // info.world_size
    return order[info.rank * per_rank:(info.rank + 1) * per_rank]


def wrap_ddp(model: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """Wrap ``model`` in DistributedDataParallel when running under ``torchrun``; else return it."""
    if not info.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return model.module if hasattr(model, "module") else model


def save_checkpoint(path: str | Path, payload: dict) -> Path:
    """``torch.save`` ``payload`` atomically: a killed run leaves the previous file intact."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint`; a damaged file is an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=device, weights_only=False)
    except Exception as e:  # torch raises several types for a damaged file
        raise InputError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e})") from None


def _rng_state() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    if s.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


class Trainer:
    """Runs ``step`` over the batches of each epoch, with checkpoints, progress and a metrics log.

    ``out_dir=None`` keeps everything in memory (tests, quick demos).
    """

    def __init__(self, out_dir: str | Path | None = None, *, seed: int = 0, device: str = "auto",
                 quiet: bool | None = None, desc: str = "training"):
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.seed, self.quiet, self.desc = seed, quiet, desc
        self.info, self.device = dist_setup(device)
        seed_everything(seed + self.info.rank)
        self.history: list[dict[str, float]] = []
        self.epoch = 0
        self.step_count = 0

    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / "last.pt" if self.out_dir else None

    def state_payload(self, state: dict[str, Any], extra: dict | None = None) -> dict:
        """Everything needed to resume: each object's ``state_dict``, counters, history, RNG."""
        return {"state": {k: unwrap(v).state_dict() for k, v in state.items()}, "epoch": self.epoch,
                "step": self.step_count, "history": self.history, "rng": _rng_state(), "extra": extra or {},
                "seed": self.seed}

    def resume(self, state: dict[str, Any]) -> dict:
        """Load ``last.pt`` into ``state``'s objects; return its ``extra`` dict ({} if nothing to resume)."""
        path = self.checkpoint_path
        if path is None or not path.is_file():
            return {}
        ck = load_checkpoint(path, self.device)
        missing = set(state) - set(ck["state"])
        if missing:
            raise InputError(f"{path} does not hold {', '.join(sorted(missing))}: it is from another kind of run")
        for k, v in state.items():
            unwrap(v).load_state_dict(ck["state"][k])
        self.epoch, self.step_count, self.history = ck["epoch"], ck["step"], ck["history"]
        _set_rng_state(ck["rng"])
        return ck.get("extra", {})

    def _reduce(self, sums: dict[str, torch.Tensor], count: int) -> dict[str, float]:
        if not sums:
            return {}
        keys = sorted(sums)
        vec = torch.stack([sums[k].detach().float().cpu() for k in keys] + [torch.tensor(float(count))])
        if self.info.distributed:
            backend_dev = self.device if self.device.type == "cuda" else torch.device("cpu")
            vec = vec.to(backend_dev)
            torch.distributed.all_reduce(vec)
            vec = vec.cpu()
        return {k: float(vec[i] / vec[-1]) for i, k in enumerate(keys)}

    def fit(self, step: Callable[[Any], dict[str, Any]], batches: Callable[[int], Iterable], *,
            epochs: int, state: dict[str, Any], resume: bool = False,
            on_epoch_end: Callable[[int, dict[str, float]], dict[str, float] | None] | None = None,
            steps_per_epoch: int | None = None, extra: Callable[[], dict] | None = None,
            log_every: int = 25) -> list[dict[str, float]]:
        """Train for ``epochs`` epochs (counting those already done when resuming); return the history.

        ``batches(epoch)`` yields the batches of one epoch (this rank's share); ``step(batch)``
        returns a dict of scalar metrics (tensors or floats; averaged over the epoch);
        ``on_epoch_end(epoch, metrics)`` may return more metrics (evaluation) for the log;
        ``extra()`` adds anything else to the checkpoint.
        """
        if resume:
            self.resume(state)
        log_path = self.out_dir / "metrics.jsonl" if self.out_dir else None
        while self.epoch < epochs:
            epoch = self.epoch
            start = time.perf_counter()
            sums: dict[str, torch.Tensor] = {}
            count = 0
            with ProgressBar(steps_per_epoch, f"{self.desc} {epoch + 1}/{epochs}",
                             quiet=self.quiet if self.info.is_main else True) as bar:
                for batch in batches(epoch):
                    metrics = step(batch)
                    for k, v in metrics.items():
                        v = v.detach() if torch.is_tensor(v) else torch.tensor(float(v))
                        sums[k] = sums[k] + v if k in sums else v.clone()
                    count += 1
                    self.step_count += 1
                    if count % log_every == 0:
                        bar.update(log_every, **{k: float(s) / count for k, s in sums.items()})
                bar.update(count % log_every)
            record = {"epoch": epoch + 1, "steps": count, "seconds": time.perf_counter() - start,
                      **self._reduce(sums, count)}
            self.epoch += 1
            if on_epoch_end is not None:
                record.update(on_epoch_end(epoch, record) or {})
            self.history.append(record)
            if self.info.is_main and self.out_dir is not None:
                save_checkpoint(self.checkpoint_path, self.state_payload(state, extra() if extra else None))
                with open(log_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
        return self.history
