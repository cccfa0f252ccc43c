"""The runs behind ``kexue vae train``: data, model, objective, the shared Trainer, evaluation.

:func:`train` trains a text VAE (``data="ptb"`` or a text file) or an image VAE
(``data="mnist"``/``"fashion-mnist"``) and returns a summary dict with the evaluation-set
metrics (``nll``, ``kl``, ``mi``, ``au``, ``ppl``...), the KL floor of the head and the
per-epoch history. With ``out_dir`` it writes ``last.pt`` after each epoch (atomically, by
:class:`kexue.train.Trainer`), ``metrics.jsonl`` and ``summary.json``; ``resume=True`` continues
a killed run exactly where its last checkpoint left it.

Text runs hold out every 10th training sentence as a dev set (``dev=0.1``) and use it like the
paper's validation set, with one rule for every head and objective: the SGD learning rate is halved
after an epoch whose dev -ELBO does not beat the best so far (``lr_decay=0.5``), and the epoch with
the best dev -ELBO is the one evaluated (``select="dev"``; ``last.pt`` holds the last epoch).

>>> cfg = TrainConfig(data="ptb", head="bn", gamma=0.6, epochs=1, emb=16, hidden=16,
...                   max_train=64, max_eval=64, iw_samples=5, nll_limit=8)
>>> summary = train(cfg, quiet=True)              # doctest: +SKIP
>>> summary["au"], summary["kl"] >= 0.9 * summary["kl_bound"]   # doctest: +SKIP
(32, True)
"""

from __future__ import annotations

import math
import time
from copy import deepcopy
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from ..errors import InputError, KexueError, UsageError
from ..utils import atomic_write_json
from . import heads as H
from .objectives import check_objective, kl_term, kl_weight

IMAGE_DATA = ("mnist", "fashion-mnist")


class TrainingDiverged(KexueError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainConfig:
    """Everything that defines a run (saved in its checkpoint; ``--resume`` checks it)."""

    data: str = "ptb"
    head: str = "bn"
    gamma: float = 0.6
    tau: float = 0.5
    var_floor: float = H.DEFAULT_VAR_FLOOR  # bn-scaler: sigma^2 >= var_floor * gamma_sigma^2 (0: the literal blog)
    objective: str = "elbo"
    epochs: int = 10
    batch_size: int = 0  # 0: 32 for text, 128 for images
    batching: str = "random"  # text: random sentences per batch, or "length" buckets (faster, biases BN)
    optimizer: str = "auto"  # auto: sgd (lr 1, as the paper) for text, adam (lr 1e-3) for images
    lr: float = 0.0  # 0: the optimizer's default
    emb: int = 256
    hidden: int = 256
    latent: int = 32
    dropout: float = 0.3
    word_dropout: float = 0.0
    min_count: int = 1
    free_bits: float = 0.25
    warmup: float = 0.5
    cycles: int = 4
    grad_clip: float = 5.0
    weight_decay: float = 0.0
    lr_decay: float = 0.5  # with a dev set: multiply the learning rate by this after an epoch without dev improvement
    dev: float = 0.1  # text: hold out this fraction of the training sentences (every k-th) as a dev set
    bn_stats: str = "train"  # text: BN population statistics from the "train" or the held-out "dev" sentences
    select: str = "dev"  # "last" epoch, or "dev": the epoch with the best dev -ELBO (the last one when dev = 0)
    iw_samples: int = 100
    nll_limit: int = 400
    eval_data: str | None = None
    max_train: int = 0
    max_eval: int = 0
    seed: int = 0

    @property
    def kind(self) -> str:
        """``image`` for MNIST / Fashion-MNIST, ``text`` otherwise."""
        return "image" if self.data in IMAGE_DATA else "text"

    def validate(self) -> TrainConfig:
        """Check every field; a :class:`UsageError` names the first bad one."""
        if self.head not in H.HEADS:
            raise UsageError(f"unknown head {self.head!r}; choose one of {', '.join(H.HEADS)}")
        if self.head == "bn":
            H.check_gamma(self.gamma)
        if self.head == "bn-scaler":
            H.check_tau(self.tau)
            H.check_var_floor(self.var_floor)
        check_objective(self.objective)
        H.check_latent(self.latent)
        for name in ("epochs", "emb", "hidden"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_size < 0 or self.iw_samples < 1 or self.nll_limit < 0:
            raise UsageError("--batch-size, --iw-samples and --nll-limit must be positive")
        if not (self.lr >= 0 and math.isfinite(self.lr)):
            raise UsageError(f"--lr must be positive, got {self.lr}")
        if self.batching not in ("random", "length"):
            raise UsageError(f"--batching must be random or length, not {self.batching!r}")
        if self.optimizer not in ("auto", "sgd", "adam"):
            raise UsageError(f"--optimizer must be auto, sgd or adam, not {self.optimizer!r}")
        if not 0 <= self.dropout < 1 or not 0 <= self.word_dropout < 1:
            raise UsageError("--dropout and --word-dropout must lie in [0, 1)")
        if not 0 <= self.dev < 0.5 or self.weight_decay < 0 or not 0 < self.lr_decay <= 1:
            raise UsageError("--dev must lie in [0, 0.5), --weight-decay be >= 0 and --lr-decay lie in (0, 1]")
        if self.bn_stats not in ("train", "dev"):
            raise UsageError(f"--bn-stats must be train or dev, not {self.bn_stats!r}")
        if self.select not in ("last", "dev"):
            raise UsageError(f"--select must be last or dev, not {self.select!r}")
        if self.free_bits < 0 or self.cycles < 1 or not 0 < self.warmup <= 1:
            raise UsageError("--free-bits must be >= 0, --cycles >= 1, --warmup in (0, 1]")
        return self

    @property
    def bound(self) -> float:
        """The head's guaranteed KL floor in nats (0 for the plain head)."""
        if self.head == "bn":
            return H.kl_bound(self.latent, gamma=self.gamma)
        if self.head == "bn-scaler":
            return H.kl_bound(self.latent, tau=self.tau)
        return 0.0


_SAME_RUN = ("data", "head", "gamma", "tau", "var_floor", "objective", "emb", "hidden", "latent", "min_count",
             "dropout", "word_dropout", "free_bits", "warmup", "cycles", "max_train", "batch_size", "batching",
             "optimizer", "lr", "weight_decay", "lr_decay", "dev", "select", "bn_stats", "seed")


# ----------------------------------------------------------------------------- data
def text_data(cfg: TrainConfig) -> tuple[list[list[str]], list[list[str]], str]:
    """(training sentences, evaluation sentences, a description of the split)."""
    from .text import read_sentences

    if cfg.data == "ptb":
        from .. import data as kdata

        have_train = "ptb.train.txt" in kdata.locate("ptb").present
        train = kdata.ptb_sentences("train" if have_train else "valid")
        evals = kdata.ptb_sentences("test")
        split = "PTB train -> test" if have_train else "PTB valid -> test (ptb.train.txt absent)"
    else:
        train = read_sentences(cfg.data)
        if cfg.eval_data:
            evals = read_sentences(cfg.eval_data)
            split = f"{cfg.data} -> {cfg.eval_data}"
        else:
            if len(train) < 10:
                raise InputError(f"{cfg.data} has {len(train)} sentences; give at least 10 or an --eval-data file")
            cut = len(train) - max(1, len(train) // 10)
            train, evals = train[:cut], train[cut:]
            split = f"{cfg.data}: first 90% -> last 10%"
    if cfg.max_train:
        train = train[:cfg.max_train]
    if cfg.max_eval:
        evals = evals[:cfg.max_eval]
    return train, evals, split


def dev_split(items: list, fraction: float) -> tuple[list, list]:
    """(training part, dev part): every k-th item (k = round(1 / ``fraction``)) goes to dev.

    The same split for every method and seed, spread evenly over the file.

    >>> dev_split(list(range(10)), 0.2)
    ([0, 1, 2, 3, 5, 6, 7, 8], [4, 9])
    """
    if fraction <= 0:
        return list(items), []
    k = max(2, round(1 / fraction))
    return [x for i, x in enumerate(items) if i % k != k - 1], [x for i, x in enumerate(items) if i % k == k - 1]


def image_data(cfg: TrainConfig):
    """(training images, test images) as 0/1 float tensors of shape (N, 784)."""
    from .. import data as kdata
    from .image import binarise

    xtr, _ = kdata.load_mnist(cfg.data, "train")
    xte, _ = kdata.load_mnist(cfg.data, "test")
    xtr, xte = binarise(xtr), binarise(xte)
    if cfg.max_train:
        xtr = xtr[:cfg.max_train]
    if cfg.max_eval:
        xte = xte[:cfg.max_eval]
    return xtr, xte


# ----------------------------------------------------------------------------- training
def _check_resume(trainer, cfg: TrainConfig) -> dict:
    """The ``extra`` of an existing checkpoint, after checking it belongs to the same kind of run."""
    from ..train import load_checkpoint

    path = trainer.checkpoint_path
    if path is None or not path.is_file():
        return {}
    extra = load_checkpoint(path).get("extra", {})
    old = extra.get("config", {})
    diff = [k for k in _SAME_RUN if k in old and old[k] != getattr(cfg, k)]
    if diff:
        shown = ", ".join(f"{k}: {old[k]!r} there vs {getattr(cfg, k)!r} now" for k in diff[:4])
        raise UsageError(f"{path} is from a different run ({shown}); use another --out or the same options")
    return extra


def train(cfg: TrainConfig, out_dir: str | Path | None = None, *, resume: bool = False, quiet: bool | None = None,
          device: str = "auto", final_eval: bool = True) -> dict:
    """Train the VAE that ``cfg`` describes and return its summary (see the module docstring)."""
    cfg.validate()
    if resume and out_dir is None:
        raise UsageError("--resume needs --out DIR (the folder of the run to continue)")
    from ..train import Trainer, unwrap, wrap_ddp

    start = time.perf_counter()
    trainer = Trainer(out_dir, seed=cfg.seed, device=device, quiet=quiet, desc=f"vae {cfg.head}")
    extra = _check_resume(trainer, cfg) if resume else {}
    info, dev = trainer.info, trainer.device
    bsz = cfg.batch_size or (128 if cfg.kind == "image" else 32)

    if cfg.kind == "text":
        from .text import TextVAE, Vocab, epoch_batches, length_batches, make_batch

        train_s, eval_s, split = text_data(cfg)
        train_s, dev_s = dev_split(train_s, cfg.dev)
        if dev_s:
            split += f" ({len(dev_s)} training sentences held out as dev)"
        vocab = Vocab(extra["vocab"]) if extra.get("vocab") else Vocab.build(train_s, min_count=cfg.min_count)
        train_ids = [vocab.encode(s) for s in train_s]
        eval_ids = [vocab.encode(s) for s in eval_s]
        dev_ids = [vocab.encode(s) for s in dev_s]
        model = TextVAE(len(vocab), emb=cfg.emb, hidden=cfg.hidden, latent=cfg.latent, head=cfg.head,
                        gamma=cfg.gamma, tau=cfg.tau, var_floor=cfg.var_floor, dropout=cfg.dropout,
                        word_dropout=cfg.word_dropout).to(dev)
        bucket = cfg.batching == "length"
        n_batches = len(epoch_batches(train_ids, bsz, cfg.seed, 0, info.rank, info.world_size, bucket))

        def batches(epoch):
            for group in epoch_batches(train_ids, bsz, cfg.seed, epoch, info.rank, info.world_size, bucket):
                yield make_batch([train_ids[i] for i in group]).to(dev)
        n_eval = len(eval_ids)
        extra_payload = {"vocab": vocab.words}
    else:
        from ..train import shard_indices
        from .image import ImageVAE

        xtr, xte = image_data(cfg)
        split = f"{cfg.data} train ({len(xtr)}) -> test ({len(xte)})"
        model = ImageVAE(hidden=cfg.hidden, latent=cfg.latent, head=cfg.head, gamma=cfg.gamma, tau=cfg.tau,
                         var_floor=cfg.var_floor).to(dev)
        n_batches = math.ceil(len(xtr) // info.world_size / bsz)

        def batches(epoch):
            idx = torch.from_numpy(shard_indices(len(xtr), info, cfg.seed, epoch))
            for i in range(0, len(idx), bsz):
                yield xtr[idx[i:i + bsz]].to(dev)
        n_eval = len(xte)
        extra_payload = {}

    net = wrap_ddp(model, info, dev)
    opt_name = cfg.optimizer if cfg.optimizer != "auto" else ("sgd" if cfg.kind == "text" else "adam")
    params = [p for p in model.parameters() if p.requires_grad]
    if opt_name == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr or 1.0, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=cfg.lr or 1e-3, weight_decay=cfg.weight_decay)
    total_steps = n_batches * cfg.epochs
    floor = {"min": math.inf}

    def step(batch):
        beta = kl_weight(cfg.objective, trainer.step_count, total_steps, warmup=cfg.warmup, cycles=cfg.cycles)
        rec, post = net(batch)
        kl_dims = post.kl_per_dim()
        loss = rec.mean() + kl_term(kl_dims, cfg.objective, beta, cfg.free_bits)
        if not torch.isfinite(loss):
            last = (f"the last good checkpoint (epoch {trainer.epoch}) is kept in {out_dir}"
                    if out_dir is not None and trainer.epoch > 0 else "no checkpoint was written")
            raise TrainingDiverged(f"the loss became {float(loss)} at epoch {trainer.epoch + 1}, step "
                                   f"{trainer.step_count + 1}; {last}; try a smaller --lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        kl = kl_dims.sum(-1).mean().detach()
        floor["min"] = min(floor["min"], float(kl))
        return {"loss": loss.detach(), "rec": rec.mean().detach(), "kl": kl, "beta": beta}

    def encoder_stats():
        from .metrics import active_units, mutual_information

        m = unwrap(net)
        if cfg.kind == "text":
            from .text import encode_all

            post = encode_all(m, eval_ids, device=dev)
        else:
            from .heads import Posterior

            was = m.training
            m.eval()
            with torch.no_grad():
                ps = [m.encode(xte[i:i + 1000].to(dev)) for i in range(0, len(xte), 1000)]
            m.train(was)
            post = Posterior(torch.cat([p.mu.cpu() for p in ps]), torch.cat([p.logvar.cpu() for p in ps]))
        return {"eval_kl": float(post.kl().mean()), "eval_au": active_units(post.mu)[0],
                "eval_mi": mutual_information(post.mu, post.logvar, seed=cfg.seed)}

    def calibrate():
        m = unwrap(net)
        if cfg.head != "plain":
            H.recalibrate_bn(m, m.encode, (b for e in (0,) for b in batches_eval_pass()))

    def batches_eval_pass():
        if cfg.kind == "text":
            ids = dev_ids if cfg.bn_stats == "dev" and dev_ids else train_ids
            for group in length_batches(ids, 256):
                yield make_batch([ids[i] for i in group]).to(dev)
        else:
            for i in range(0, len(xtr), 1000):
                yield xtr[i:i + 1000].to(dev)

    best = dict(extra.get("best") or {})

    def dev_score():
        from .text import evaluate as text_eval

        ev = text_eval(unwrap(net), dev_ids, seed=cfg.seed, device=dev, with_nll=False)
        return {"dev_elbo": ev["elbo"], "dev_kl": ev["kl"], "dev_rec": ev["rec"]}

    def on_epoch_end(epoch, record):
        calibrate()
        out = {"train_kl_min": floor["min"], "head_bound": float(unwrap(net).head.kl_bound())}
        floor["min"] = math.inf
        if cfg.kind == "text" and dev_ids:
            out.update(dev_score())  # the same dev split, score and rule for every head and objective
            if out["dev_elbo"] < best.get("score", math.inf):
                best.update(epoch=epoch + 1, score=out["dev_elbo"])
                if cfg.select == "dev":
                    best["state"] = deepcopy(unwrap(net).state_dict())
            elif cfg.lr_decay < 1:
                for g in opt.param_groups:
                    g["lr"] *= cfg.lr_decay
            out["lr"] = opt.param_groups[0]["lr"]
        if info.is_main:
            out.update(encoder_stats())
        return out

    history = trainer.fit(step, batches, epochs=cfg.epochs, state={"model": net, "opt": opt}, resume=resume,
                          on_epoch_end=on_epoch_end, steps_per_epoch=n_batches,
                          extra=lambda: {"config": asdict(cfg), **extra_payload, "best": best})
    if best.get("state") is not None:  # --select dev: back to the epoch with the best dev -ELBO
        unwrap(net).load_state_dict(best["state"])
    summary = {"data": cfg.data, "model": cfg.kind, "split": split, "head": cfg.head,
               "gamma": cfg.gamma if cfg.head == "bn" else None, "tau": cfg.tau if cfg.head == "bn-scaler" else None,
               "var_floor": cfg.var_floor if cfg.head == "bn-scaler" else None,
               "objective": cfg.objective, "epochs": trainer.epoch, "latent": cfg.latent,
               "kl_bound": cfg.bound, "train_sentences" if cfg.kind == "text" else "train_images":
               len(train_ids) if cfg.kind == "text" else len(xtr), "eval_size": n_eval}
    if info.is_main and final_eval:
        m = unwrap(net)
        if cfg.kind == "text":
            from .text import evaluate as text_eval

            ev = text_eval(m, eval_ids, iw_samples=cfg.iw_samples, nll_sentences=cfg.nll_limit or None,
                           seed=cfg.seed, device=dev)
        else:
            from .image import evaluate as image_eval

            ev = image_eval(m, xte, iw_samples=cfg.iw_samples, nll_limit=cfg.nll_limit or None, seed=cfg.seed)
        summary.update(ev)
    if cfg.select == "dev":
        summary["selected_epoch"] = best.get("epoch")
    summary["train_kl_min"] = min((h.get("train_kl_min", math.inf) for h in history), default=None)
    summary["au_min_during_training"] = min((h.get("eval_au", 0) for h in history), default=None)
    summary["history"] = history
    summary["config"] = asdict(cfg)
    summary["seconds"] = time.perf_counter() - start
    if out_dir is not None and info.is_main:
        summary["out"] = str(out_dir)
        atomic_write_json(Path(out_dir) / "summary.json", summary)
    summary["_model"] = unwrap(net)
    summary["_vocab"] = extra_payload.get("vocab")
    summary["_rank"] = info.rank
    if info.distributed:
        from ..train import dist_teardown

        dist_teardown(info)
    return summary


def public(summary: dict) -> dict:
    """The summary without its in-memory objects (for JSON)."""
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def load_run(out_dir: str | Path, device: str = "cpu"):
    """(model in eval mode, vocabulary or None, config) of a finished or interrupted run in ``out_dir``."""
    from ..train import load_checkpoint

    ck = load_checkpoint(Path(out_dir) / "last.pt", device)
    extra = ck.get("extra", {})
    if "config" not in extra:
        raise InputError(f"{out_dir}/last.pt was not written by `kexue vae train`")
    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in extra["config"].items() if k in known})
    if cfg.kind == "text":
        from .text import TextVAE, Vocab

        vocab = Vocab(extra["vocab"])
        model = TextVAE(len(vocab), emb=cfg.emb, hidden=cfg.hidden, latent=cfg.latent, head=cfg.head, gamma=cfg.gamma,
                        tau=cfg.tau, var_floor=cfg.var_floor, dropout=cfg.dropout, word_dropout=cfg.word_dropout)
    else:
        from .image import ImageVAE

        vocab = None
        model = ImageVAE(hidden=cfg.hidden, latent=cfg.latent, head=cfg.head, gamma=cfg.gamma, tau=cfg.tau,
                         var_floor=cfg.var_floor)
    model.load_state_dict(ck["state"]["model"])
    return model.eval(), vocab, cfg
