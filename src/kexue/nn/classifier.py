"""A small, fast CNN for (Fashion-)MNIST, trained with the shared loop, and its feature extractor.

Built for CPU speed: the whole data set lives in memory as one ``uint8`` tensor, a batch is an
index into it (no DataLoader, no workers), tensors are ``channels_last`` (oneDNN's fast path),
every conv is followed by BatchNorm, and the learning rate follows one cycle (warm-up, then
cosine down to almost zero), so a handful of epochs is enough. Fashion-MNIST gets random
horizontal flips and a random shift of up to ``shift`` pixels (a garment mirrored or moved is the
same garment); MNIST gets only the shift (a mirrored 2 is not a 2).

Training goes through :class:`kexue.train.Trainer` (atomic ``last.pt`` every epoch, exact
``resume``, ``metrics.jsonl``, DDP under ``torchrun``).

>>> m = SmallCNN()
>>> m(torch.zeros(2, 1, 28, 28)).shape, m.features(torch.zeros(2, 1, 28, 28)).shape
(torch.Size([2, 10]), torch.Size([2, 128]))
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError, KexueError, UsageError

DATASETS = ("fashion-mnist", "mnist")
# mean and standard deviation of the training pixels (in [0, 1])
NORMALISATION = {"fashion-mnist": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}
CLASSES = {
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "mnist": [str(i) for i in range(10)],
}


class TrainingDiverged(KexueError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint, so ``evaluate`` can rebuild the model)."""

    dataset: str = "fashion-mnist"
    epochs: int = 12
    batch_size: int = 128
    lr: float = 0.1             # peak learning rate of the one-cycle schedule (SGD, Nesterov momentum 0.9)
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    widths: tuple[int, ...] = (32, 64, 128)
    feature_dim: int = 128
    dropout: float = 0.1
    flip: bool | None = None    # None: flips for Fashion-MNIST only
    shift: int = 2              # random translation, in pixels (0: none)
    train_subset: int | None = None  # use only the first N training images (tests, quick runs)
    bf16: bool = False          # bfloat16 autocast for the forward pass (fast on CPUs with AVX-512 BF16 / AMX)
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise UsageError(f"--data must be one of {', '.join(DATASETS)}, not {self.dataset!r}")
        if self.epochs < 1:
            raise UsageError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 2:
            raise UsageError(f"--batch-size must be at least 2, got {self.batch_size}")
        if not self.lr > 0:
            raise UsageError(f"--lr must be positive, got {self.lr}")
        self.widths = tuple(int(w) for w in self.widths)
        if self.flip is None:
            self.flip = self.dataset == "fashion-mnist"

    def to_dict(self) -> dict:
        return asdict(self) | {"widths": list(self.widths)}

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# ----------------------------------------------------------------------------- model
class SmallCNN(nn.Module):
    """Conv3x3-BN-ReLU-MaxPool blocks, then a dense feature layer (the FID features) and the classifier.

    The default ``widths=(32, 64, 128)`` has about 240k parameters and runs at several thousand
    images per second (training) on two CPU cores.

    >>> sum(p.numel() for p in SmallCNN().parameters()) < 300_000
    True
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), feature_dim: int = 128, n_classes: int = 10,
                 dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = []
        c, size = 1, 28
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c, size = w, size // 2
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * size * size, feature_dim, bias=False),
                                  nn.BatchNorm1d(feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(feature_dim, n_classes)
        self.feature_dim = feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (after BN and ReLU): ``(N, feature_dim)``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.body(x)))


def build_model(cfg: TrainConfig) -> SmallCNN:
    """The model a config describes (on CPU, ``channels_last``)."""
    return SmallCNN(cfg.widths, cfg.feature_dim, 10, cfg.dropout).to(memory_format=torch.channels_last)


# ----------------------------------------------------------------------------- data
@dataclass
class Split:
    """One split of a data set held in memory: ``images`` (N, 1, 28, 28) uint8, ``labels`` (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


@functools.lru_cache(maxsize=4)
def _read_split(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from .. import data as kdata

    return kdata.load_mnist(dataset, split)


def load_split(dataset: str, split: str, subset: int | None = None) -> Split:
    """Read a split through :mod:`kexue.data` into tensors (a missing or corrupt file is a user error)."""
    if dataset not in DATASETS:
        raise UsageError(f"--data must be one of {', '.join(DATASETS)}, not {dataset!r}")
    x, y = _read_split(dataset, split)
    if subset is not None:
        x, y = x[:subset], y[:subset]
    images = torch.from_numpy(np.array(x, dtype=np.uint8)).unsqueeze(1)
    return Split(images, torch.from_numpy(y.astype(np.int64)))


def to_input(images_u8: torch.Tensor, dataset: str) -> torch.Tensor:
    """uint8 images ``(N, 1, 28, 28)`` -> normalised float32, ``channels_last``."""
    mean, std = NORMALISATION[dataset]
    x = images_u8.float().mul_(1.0 / (255.0 * std)).sub_(mean / std)
    return x.contiguous(memory_format=torch.channels_last)


def augment(x: torch.Tensor, gen: torch.Generator, flip: bool, shift: int) -> torch.Tensor:
    """Random horizontal flips (half of the images) and random shifts of up to ``shift`` pixels.

    Works on uint8 images ``(N, 1, 28, 28)``; uncovered pixels are 0. Deterministic given ``gen``.

    >>> x = torch.zeros(1, 1, 28, 28, dtype=torch.uint8); x[0, 0, 10, 10] = 255
    >>> y = augment(x, torch.Generator().manual_seed(0), flip=False, shift=2)
    >>> int(y.sum()) == 255 and bool((y[0, 0, 8:13, 8:13] == 255).any())
    True
    """
    n = x.shape[0]
    if flip:
        mask = torch.rand(n, generator=gen) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    if shift > 0:
        pad = F.pad(x, (shift, shift, shift, shift))
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        # gather the 28x28 window of each image at its offset: build index grids once per batch
        rows = (dy[:, None] + torch.arange(28)[None, :])            # (n, 28)
        cols = (dx[:, None] + torch.arange(28)[None, :])            # (n, 28)
        pad = pad[:, 0]                                             # (n, H+2s, W+2s)
        idx_r = rows[:, :, None].expand(n, 28, pad.shape[2])
        pad = torch.gather(pad, 1, idx_r)                           # (n, 28, W+2s)
        idx_c = cols[:, None, :].expand(n, 28, 28)
        x = torch.gather(pad, 2, idx_c).unsqueeze(1)
    return x


# ----------------------------------------------------------------------------- training
def one_cycle(step: int, total: int, warmup: float = 0.15) -> float:
    """Learning-rate factor at ``step`` of ``total``: linear warm-up, then cosine to zero.

    >>> one_cycle(0, 100) < 0.1, one_cycle(15, 100), one_cycle(100, 100) < 1e-3
    (True, 1.0, True)
    """
    w = max(1, int(warmup * total))
    if step < w:
        return 0.04 + 0.96 * step / w
    p = min(1.0, (step - w) / max(1, total - w))
    return max(1e-4, 0.5 * (1 + math.cos(math.pi * p)))


@dataclass
class TrainResult:
    """What :func:`train` returns: the model (unwrapped, eval mode), accuracy, timings, history."""

    model: SmallCNN
    config: TrainConfig
    test_accuracy: float
    epochs: int
    train_seconds: float
    images_per_second: float
    cpu_seconds: float          # process CPU time of the training loops (all threads; this rank)
    history: list[dict]
    confusion: np.ndarray
    checkpoint: Path | None = None


@torch.no_grad()
def predict(model: nn.Module, images_u8: torch.Tensor, dataset: str, batch_size: int = 1000) -> torch.Tensor:
    """Predicted labels of uint8 images ``(N, 1, 28, 28)`` (eval mode; the caller's mode is restored)."""
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(images_u8), batch_size):
        out.append(model(to_input(images_u8[i:i + batch_size], dataset)).argmax(1))
    model.train(was)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)


def confusion_matrix(pred: torch.Tensor, labels: torch.Tensor, n: int = 10) -> np.ndarray:
    """``C[i, j]`` = number of images of class ``i`` predicted as ``j``.

    >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    return torch.bincount(labels * n + pred, minlength=n * n).reshape(n, n).numpy()


def train(cfg: TrainConfig, out_dir: str | Path | None = None, *, resume: bool = False, device: str = "auto",
          quiet: bool | None = None, test_every_epoch: bool = True) -> TrainResult:
    """Train :class:`SmallCNN` on ``cfg.dataset`` with the shared :class:`~kexue.train.Trainer`.

    Under ``torchrun`` each rank trains on its shard with batch ``batch_size / world_size``
    (same global batch, same number of steps as one process) and DDP averages the gradients.
    ``out_dir`` receives ``last.pt`` after each epoch and ``metrics.jsonl``; ``resume=True``
    continues a killed run exactly. A NaN loss raises :class:`TrainingDiverged` before the
    epoch's checkpoint is written, so the last good one stays.

    >>> r = train(TrainConfig(epochs=1, train_subset=2000), quiet=True)  # doctest: +SKIP
    >>> r.test_accuracy > 0.6  # doctest: +SKIP
    True
    """
    from ..train import Trainer, shard_indices, unwrap, wrap_ddp

    trainer = Trainer(out_dir, seed=cfg.seed, device=device, quiet=quiet, desc=f"{cfg.dataset}")
    info, dev = trainer.info, trainer.device
    if resume and trainer.checkpoint_path is not None and trainer.checkpoint_path.is_file():
        from ..train import load_checkpoint

        old = TrainConfig.from_dict(load_checkpoint(trainer.checkpoint_path)["extra"]["config"])
        if (old.dataset, old.widths, old.feature_dim) != (cfg.dataset, cfg.widths, cfg.feature_dim):
            raise InputError(f"{trainer.checkpoint_path} is a {old.dataset} run with widths {old.widths}; "
                             f"use another --out, or the same settings")
    tr = load_split(cfg.dataset, "train", cfg.train_subset)
    te = load_split(cfg.dataset, "test")
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(dev)
    ddp_model = wrap_ddp(model, info, dev)
    per_rank = max(1, cfg.batch_size // info.world_size)
    n_local = len(tr) // info.world_size
    steps_per_epoch = max(1, n_local // per_rank)   # drop the last partial batch (BN wants full ones)
    total_steps = steps_per_epoch * cfg.epochs
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: one_cycle(s, total_steps))
    images_u8 = tr.images.to(dev)   # the whole training set as one uint8 tensor (47 MB)
    labels = tr.labels.to(dev)

    cpu = {"start": 0.0, "epoch": 0.0}

    def batches(epoch: int):
        cpu["start"] = time.process_time()
        yield from _batches(epoch)
        cpu["epoch"] = time.process_time() - cpu["start"]

    def _batches(epoch: int):
        own = torch.as_tensor(shard_indices(len(tr), info, cfg.seed, epoch))
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch * 101 + info.rank)
        for i in range(steps_per_epoch):
            idx = own[i * per_rank:(i + 1) * per_rank].to(dev)
            x = images_u8[idx]
            if cfg.flip or cfg.shift:
                x = augment(x.cpu(), gen, bool(cfg.flip), cfg.shift).to(dev)
            yield to_input(x, cfg.dataset), labels[idx]

    def step(batch):
        x, y = batch
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            out = ddp_model(x)
        loss = F.cross_entropy(out.float(), y, label_smoothing=cfg.label_smoothing)
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"the loss became {float(loss.detach())} at step {trainer.step_count + 1}; "
                                   f"training stopped, the last good checkpoint (if any) is kept: lower --lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss, "acc": (out.argmax(1) == y).float().mean()}

    def sync_buffers() -> None:
        # BatchNorm running statistics are updated locally on each rank; use rank 0's everywhere
        # (they are the ones rank 0 saves), so every rank evaluates and returns the same network.
        if info.distributed:
            for buf in model.buffers():
                torch.distributed.broadcast(buf, 0)

    def evaluate_test() -> tuple[float, np.ndarray]:
        sync_buffers()
        idx = torch.as_tensor(shard_indices(len(te), info, 0, 0, shuffle=False)) if info.distributed \
            else torch.arange(len(te))
        pred = predict(model, te.images[idx].to(dev), cfg.dataset)
        cm = torch.as_tensor(confusion_matrix(pred.cpu(), te.labels[idx]))
        if info.distributed:
            cm = cm.to(dev if dev.type == "cuda" else "cpu")
            torch.distributed.all_reduce(cm)
            cm = cm.cpu()
        cm = cm.numpy()
        return float(np.trace(cm) / cm.sum()), cm

    def on_epoch_end(epoch: int, record: dict) -> dict:
        out = {"lr": opt.param_groups[0]["lr"], "images_per_second": steps_per_epoch * cfg.batch_size /
               max(record["seconds"], 1e-9), "cpu_seconds": cpu["epoch"]}
        if test_every_epoch or epoch == cfg.epochs - 1:
            out["test_accuracy"] = evaluate_test()[0]
        return out

    state = {"model": model, "opt": opt, "sched": sched}
    history = trainer.fit(step, batches, epochs=cfg.epochs, state=state, resume=resume,
                          on_epoch_end=on_epoch_end, steps_per_epoch=steps_per_epoch,
                          extra=lambda: {"config": cfg.to_dict()})
    model = unwrap(model)
    acc, cm = evaluate_test()
    model.eval()
    train_seconds = float(sum(h["seconds"] for h in history))
    images = sum(h["steps"] for h in history) * cfg.batch_size
    cpu_seconds = float(sum(h.get("cpu_seconds", 0.0) for h in history))
    return TrainResult(model, cfg, acc, len(history), train_seconds, images / max(train_seconds, 1e-9), cpu_seconds,
                       history, cm, trainer.checkpoint_path)


def load_trained(path: str | Path, device: str | torch.device = "cpu") -> tuple[SmallCNN, TrainConfig, dict]:
    """Rebuild the model of a checkpoint written by :func:`train`: (model in eval mode, config, checkpoint)."""
    from ..train import load_checkpoint

    ck = load_checkpoint(path, device)
    try:
        cfg = TrainConfig.from_dict(ck["extra"]["config"])
        model = build_model(cfg)
        model.load_state_dict(ck["state"]["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise InputError(f"{path} is not a checkpoint of `kexue nn train` ({type(e).__name__}: {e})") from None
    return model.to(device).eval(), cfg, ck


def evaluate(path: str | Path, dataset: str | None = None) -> dict:
    """Test accuracy and confusion matrix of a checkpoint on its data set's test split (or ``dataset``)."""
    model, cfg, ck = load_trained(path)
    dataset = dataset or cfg.dataset
    te = load_split(dataset, "test")
    start = time.perf_counter()
    pred = predict(model, te.images, dataset)
    seconds = time.perf_counter() - start
    cm = confusion_matrix(pred, te.labels)
    return {"dataset": dataset, "test_accuracy": float(np.trace(cm) / cm.sum()), "epochs": ck["epoch"],
            "images": len(te), "seconds": seconds, "images_per_second": len(te) / max(seconds, 1e-9),
            "confusion": cm.tolist(), "classes": CLASSES[dataset]}


def plot_confusion(cm: np.ndarray, dataset: str, path: str | Path, title: str = "") -> Path:
    """Save the confusion matrix as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..utils import atomic_path

    names = CLASSES[dataset]
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / cm.sum()
    ax.set_title(title or f"{dataset}: test accuracy {acc:.2%}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return Path(path)


# ----------------------------------------------------------------------------- features for FID
# The recipe of the cached feature network: a fixed seed and a short schedule (about two minutes
# on two CPU cores), still above 92% on Fashion-MNIST.
FEATURE_RECIPE = {"epochs": 6, "seed": 20150606}


class FeatureExtractor(nn.Module):
    """Images in [0, 1], shape ``(N, 1, 28, 28)`` -> the classifier's penultimate layer ``(N, F)``.

    Normalisation is inside, the network is frozen and in eval mode; ``num_features`` tells
    torchmetrics' FID its dimension.
    """

    def __init__(self, model: SmallCNN, dataset: str):
        super().__init__()
        self.net = model
        self.dataset = dataset
        mean, std = NORMALISATION[dataset]
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))
        self.num_features = model.feature_dim
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FeatureExtractor:
        """Stays in eval mode (BatchNorm must use its running statistics for features to be comparable)."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"expected images of shape (N, 1, 28, 28), got {tuple(x.shape)}")
        x = ((x.float() - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        return self.net.features(x)


@contextlib.contextmanager
def _single_process():
    """Train as one process even inside a ``torchrun`` job (every rank gets the same network)."""
    keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _rng_preserved():
    """Leave the caller's random generators as they were (training reseeds them)."""
    import random

    state = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    try:
        yield
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_rng_state(state[2])


def _recipe_config(dataset: str, recipe: dict | None) -> TrainConfig:
    return TrainConfig(dataset=dataset, **(FEATURE_RECIPE | (recipe or {})))


def feature_cache_path(dataset: str = "fashion-mnist", recipe: dict | None = None) -> Path:
    """Where :func:`feature_extractor` caches its weights (depends on the data set and the recipe)."""
    from ..data import cache_dir

    cfg = _recipe_config(dataset, recipe).to_dict()
    tag = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir() / "nn" / f"features-{dataset}-{tag}.pt"


def feature_extractor(dataset: str = "fashion-mnist", device: str | torch.device | None = None, *,
                      recipe: dict | None = None, quiet: bool | None = True) -> FeatureExtractor:
    """The trained classifier's penultimate layer as a frozen module, for FID without downloads.

    Takes float images ``(N, 1, 28, 28)`` in [0, 1]; returns ``(N, 128)`` features. The first call
    trains the classifier from a fixed seed (about two minutes on two CPU cores) and caches its
    weights in ``kexue.data.cache_dir()/nn`` (written atomically); later calls load them.
    ``recipe`` overrides :data:`FEATURE_RECIPE` (e.g. ``{"epochs": 1, "train_subset": 2000}`` in
    tests); each recipe has its own cache file.

    >>> f = feature_extractor("fashion-mnist")  # doctest: +SKIP
    >>> f(torch.rand(5, 1, 28, 28)).shape  # doctest: +SKIP
    torch.Size([5, 128])
    """
    from ..train import load_checkpoint, save_checkpoint

    if dataset not in DATASETS:
        raise UsageError(f"feature_extractor knows {', '.join(DATASETS)}, not {dataset!r}")
    cfg = _recipe_config(dataset, recipe)
    path = feature_cache_path(dataset, recipe)
    state = None
    if path.is_file():
        try:
            state = load_checkpoint(path)
            model = build_model(cfg)
            model.load_state_dict(state["model"])
        except (InputError, KeyError, RuntimeError):
            state = None  # a damaged cache is rebuilt
    if state is None:
        with _single_process(), _rng_preserved():
            result = train(cfg, None, device="cpu", quiet=quiet, test_every_epoch=False)
        model = result.model
        save_checkpoint(path, {"model": model.state_dict(), "config": cfg.to_dict(),
                               "test_accuracy": result.test_accuracy})
    fx = FeatureExtractor(model.float(), dataset)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    return fx.to(dev)
